#include "harness/sys/observe/packet_capture.hpp"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <utility>

#include "lastack/error.hpp"
#include "harness/sys/observe/background_close.hpp"

namespace lastack::sys {

namespace {

// 128 blocks of 64 KiB, ~300 header-only frames each. The kernel retires a block when it is full
// or kRetireTimeoutMs after its first frame, and stops (drops, counted) when the next is still the
// reader's: many small blocks let a reader starved by a loaded machine fall 0.5 s behind.
constexpr std::size_t kBlockSize = 1 << 16;
constexpr std::size_t kBlockCount = 128;
constexpr std::size_t kFrameSize = 2048;  // only sizes tp_frame_nr in V3: frames are variable
// A block is handed over when full or this long after its first frame: the reader's latency.
constexpr unsigned kRetireTimeoutMs = 4;
constexpr std::uint16_t kEtherIpv4 = 0x0800, kEtherIpv6 = 0x86dd;
constexpr std::uint8_t kProtocolTcp = 6;

/// Classic BPF: TCP over IPv4 or IPv6 (no extension headers) kept, cut right after its TCP
/// header (IP header + TCP data offset, at most `snap`); all else rejected (return 0). Copying
/// headers only keeps the ring small in the cache, which the wire's own path shares. A SOCK_DGRAM
/// packet socket runs it from the network header; the ancillary load gives skb->protocol in host
/// order. A header cut short makes the load fail, and the kernel reject the frame.
std::array<sock_filter, 21> tcp_header_filter(std::uint32_t snap) {
  return {{
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_PROTOCOL)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kEtherIpv4, 0, 8),
      // IPv4: X = header length; A = X + TCP data offset * 4.
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kProtocolTcp, 0, 16),
      BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
      BPF_STMT(BPF_LD | BPF_B | BPF_IND, 12),
      BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 2),
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x3c),
      BPF_STMT(BPF_ALU | BPF_ADD | BPF_X, 0),
      BPF_JUMP(BPF_JMP | BPF_JA, 7, 0, 0),
      // IPv6: A = 40 + TCP data offset * 4.
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kEtherIpv6, 0, 9),
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 6),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kProtocolTcp, 0, 7),
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 40 + 12),
      BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 2),
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x3c),
      BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 40),
      // Both: at most `snap`.
      BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, snap, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, snap),
      BPF_STMT(BPF_RET | BPF_A, 0),
      BPF_STMT(BPF_RET | BPF_K, 0),
  }};
}

void set_option(int fd, int level, int name, const void* value, socklen_t len, const char* what) {
  if (::setsockopt(fd, level, name, value, len) != 0) throw_errno(what);
}

}  // namespace

PacketCapture PacketCapture::open_in(const NetNamespace& ns, std::uint32_t snap) {
  NetnsScope in_ns(ns);
  // Protocol 0: nothing is delivered until bind() below, after the filter and ring are in place.
  UniqueFd fd(::socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    if (errno == EPERM || errno == EACCES)
      throw EnvironmentError("cannot open a packet socket (CAP_NET_RAW needed) to capture the wire");
    throw_errno("socket(AF_PACKET)");
  }
  auto code = tcp_header_filter(snap);
  sock_fprog program{static_cast<unsigned short>(code.size()), code.data()};
  set_option(fd.get(), SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program, "setsockopt(SO_ATTACH_FILTER)");
  int version = TPACKET_V3;
  set_option(fd.get(), SOL_PACKET, PACKET_VERSION, &version, sizeof version, "setsockopt(PACKET_VERSION)");
  tpacket_req3 req{};
  req.tp_block_size = kBlockSize;
  req.tp_block_nr = kBlockCount;
  req.tp_frame_size = kFrameSize;
  req.tp_frame_nr = static_cast<unsigned>(kBlockSize * kBlockCount / kFrameSize);
  req.tp_retire_blk_tov = kRetireTimeoutMs;
  set_option(fd.get(), SOL_PACKET, PACKET_RX_RING, &req, sizeof req, "setsockopt(PACKET_RX_RING)");
  void* ring = ::mmap(nullptr, kBlockSize * kBlockCount, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, fd.get(), 0);
  if (ring == MAP_FAILED) ring = ::mmap(nullptr, kBlockSize * kBlockCount, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (ring == MAP_FAILED) throw_errno("mmap(packet ring)");
  PacketCapture capture(std::move(fd), static_cast<std::uint8_t*>(ring), kBlockSize, kBlockCount);
  sockaddr_ll at{};
  at.sll_family = AF_PACKET;
  at.sll_protocol = htons(ETH_P_ALL);
  at.sll_ifindex = 0;  // every interface of the namespace
  if (::bind(capture.fd(), reinterpret_cast<sockaddr*>(&at), sizeof at) != 0) throw_errno("bind(AF_PACKET)");
  return capture;
}

PacketCapture::PacketCapture(UniqueFd socket, std::uint8_t* ring, std::size_t block_size, std::size_t block_count)
    : socket_(std::move(socket)), ring_(ring), block_size_(block_size), block_count_(block_count) {}

PacketCapture::PacketCapture(PacketCapture&& other) noexcept
    : socket_(std::move(other.socket_)),
      ring_(std::exchange(other.ring_, nullptr)),
      block_size_(other.block_size_),
      block_count_(other.block_count_),
      next_block_(other.next_block_),
      drops_(other.drops_) {}

PacketCapture& PacketCapture::operator=(PacketCapture&& other) noexcept {
  if (this == &other) return *this;
  unmap();
  socket_ = std::move(other.socket_);
  ring_ = std::exchange(other.ring_, nullptr);
  block_size_ = other.block_size_;
  block_count_ = other.block_count_;
  next_block_ = other.next_block_;
  drops_ = other.drops_;
  return *this;
}

PacketCapture::~PacketCapture() {
  unmap();
  close_in_background(std::move(socket_));  // its close waits out two RCU grace periods
}

void PacketCapture::unmap() {
  if (ring_ != nullptr) ::munmap(ring_, block_size_ * block_count_);
  ring_ = nullptr;
}

std::size_t PacketCapture::read(FrameLog& out) {
  std::size_t frames = 0;
  for (;;) {
    auto* desc = reinterpret_cast<tpacket_block_desc*>(block(next_block_));
    std::atomic_ref<std::uint32_t> status(desc->hdr.bh1.block_status);
    if ((status.load(std::memory_order_acquire) & TP_STATUS_USER) == 0) return frames;
    const auto* frame = block(next_block_) + desc->hdr.bh1.offset_to_first_pkt;
    for (std::uint32_t i = 0; i < desc->hdr.bh1.num_pkts; ++i) {
      const auto* hdr = reinterpret_cast<const tpacket3_hdr*>(frame);
      const auto* ll = reinterpret_cast<const sockaddr_ll*>(frame + TPACKET_ALIGN(sizeof(tpacket3_hdr)));
      // SOCK_DGRAM: the frame starts at the network header (tp_net == tp_mac).
      out.append({std::chrono::seconds(hdr->tp_sec) + std::chrono::nanoseconds(hdr->tp_nsec), ll->sll_ifindex,
                  ll->sll_pkttype == PACKET_OUTGOING,
                  std::span<const std::uint8_t>(frame + hdr->tp_net, hdr->tp_snaplen), hdr->tp_len});
      ++frames;
      frame += hdr->tp_next_offset;
    }
    status.store(TP_STATUS_KERNEL, std::memory_order_release);
    next_block_ = (next_block_ + 1) % block_count_;
  }
}

void PacketCapture::drain(FrameLog& out, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    read(out);
    // The block the kernel fills counts its frames as they land; empty means nothing is left.
    auto* desc = reinterpret_cast<tpacket_block_desc*>(block(next_block_));
    if (std::atomic_ref<std::uint32_t>(desc->hdr.bh1.num_pkts).load(std::memory_order_acquire) == 0) return;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw HarnessError("packet capture: the kernel did not hand over its last block");
    pollfd p{socket_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) throw_errno("poll(AF_PACKET)");
  }
}

std::uint64_t PacketCapture::drops() {
  tpacket_stats_v3 stats{};
  socklen_t len = sizeof stats;
  if (::getsockopt(socket_.get(), SOL_PACKET, PACKET_STATISTICS, &stats, &len) != 0)
    throw_errno("getsockopt(PACKET_STATISTICS)");
  drops_ += stats.tp_drops;
  return drops_;
}

int PacketCapture::interface_index(const NetNamespace& ns, const std::string& name) {
  NetnsScope in_ns(ns);
  const unsigned index = ::if_nametoindex(name.c_str());
  if (index == 0) throw_errno(("if_nametoindex(" + name + ")").c_str());
  return static_cast<int>(index);
}

}  // namespace lastack::sys
