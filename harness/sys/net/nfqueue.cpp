#include "harness/sys/net/nfqueue.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <poll.h>
#include <unistd.h>

#include <libnetfilter_queue/libnetfilter_queue.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "lastack/error.hpp"

namespace lastack::sys {

namespace {

constexpr std::uint32_t kQueueMaxLen = 4096;
constexpr int kReceiveBufferBytes = 8 * 1024 * 1024;
constexpr std::size_t kRxBufferBytes = 256 * 1024;
// The kernel caps the copy range here (NFQNL_MAX_COPY_RANGE), and treats 0 as "all of it".
constexpr std::uint32_t kMaxCopyRange = 0xffff - NLA_HDRLEN;
// Room for the attributes around the payload (packet header, devices, timestamp, hw address...).
constexpr std::size_t kMessageOverhead = 1024;
constexpr int kConfigAckTimeoutMs = 5000;
// Under a flood, return now and then so the caller's verdicts and timers get their turn.
constexpr std::size_t kMaxMessagesPerReceive = 1024;

std::uint16_t nfq_type(std::uint8_t msg) { return static_cast<std::uint16_t>((NFNL_SUBSYS_QUEUE << 8) | msg); }

const sockaddr_nl& kernel_address() {
  static const sockaddr_nl address = [] {
    sockaddr_nl a{};
    a.nl_family = AF_NETLINK;
    return a;
  }();
  return address;
}

void send_to_kernel(int fd, const nlmsghdr* nlh, const char* what) {
  const auto& to = kernel_address();
  if (::sendto(fd, nlh, nlh->nlmsg_len, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0)
    throw_errno(what);
}

UniqueFd open_netlink_socket() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_NETFILTER));
  if (!fd.valid()) throw_errno("socket(NETLINK_NETFILTER)");
  sockaddr_nl self{};
  self.nl_family = AF_NETLINK;  // nl_pid 0: the kernel assigns our port id
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&self), sizeof self) != 0) throw_errno("bind(NETLINK_NETFILTER)");
  int one = 1;
  // Overflow must not make recv() fail: we count the kernel's drops from /proc instead.
  if (::setsockopt(fd.get(), SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one) != 0)
    throw_errno("setsockopt(NETLINK_NO_ENOBUFS)");
  int bytes = kReceiveBufferBytes;
  // FORCE ignores rmem_max but needs CAP_NET_ADMIN over the init namespace; else take what we may.
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0 &&
      ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) != 0)
    throw_errno("setsockopt(SO_RCVBUF)");
  return fd;
}

/// Wait for the acknowledgement of request `seq`; packets queued meanwhile are dropped, as if
/// the queue had had no listener yet.
void await_config_ack(int fd, std::uint32_t seq, std::uint16_t queue_num) {
  std::vector<std::uint8_t> buffer(64 * 1024);
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, kConfigAckTimeoutMs);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) throw_errno("poll(NFQUEUE config)");
    if (ready == 0) throw HarnessError("NFQUEUE: no answer from the kernel to the queue configuration");
    ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR || errno == ENOBUFS)) continue;
    if (n < 0) throw_errno("recv(NFQUEUE config)");
    auto len = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buffer.data()); mnl_nlmsg_ok(nlh, len);
         nlh = mnl_nlmsg_next(nlh, &len)) {
      if (nlh->nlmsg_type == nfq_type(NFQNL_MSG_PACKET)) {
        std::array<nlattr*, NFQA_MAX + 1> attr{};
        if (nfq_nlmsg_parse(nlh, attr.data()) >= 0 && attr[NFQA_PACKET_HDR] != nullptr) {
          auto* hdr = static_cast<const nfqnl_msg_packet_hdr*>(mnl_attr_get_payload(attr[NFQA_PACKET_HDR]));
          std::array<char, MNL_NLMSG_HDRLEN + 64> out{};
          nlmsghdr* verdict = nfq_nlmsg_put(out.data(), NFQNL_MSG_VERDICT, queue_num);
          nfq_nlmsg_verdict_put(verdict, static_cast<int>(ntohl(hdr->packet_id)), NF_DROP);
          send_to_kernel(fd, verdict, "sendto(NFQUEUE verdict)");
        }
        continue;
      }
      if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq != seq) continue;
      auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      if (err->error == 0) return;
      std::string reason = std::strerror(-err->error);
      if (err->error == -EPERM || err->error == -EBUSY)
        reason += " (is another process bound to this queue?)";
      throw HarnessError("NFQUEUE: binding queue " + std::to_string(queue_num) + " failed: " + reason);
    }
  }
}

}  // namespace

NfQueuePort::NfQueuePort(UniqueFd socket, UniqueFd stats_file, std::uint16_t queue_num, std::uint32_t copy_range)
    : socket_(std::move(socket)), stats_file_(std::move(stats_file)), queue_num_(queue_num) {
  slot_size_ = MNL_ALIGN(copy_range + kMessageOverhead);
  std::size_t slots = std::max<std::size_t>(1, kRxBufferBytes / slot_size_);
  rx_buffer_.resize(slots * slot_size_);
  rx_iov_.resize(slots);
  rx_msgs_.resize(slots);
  for (std::size_t i = 0; i < slots; ++i) {
    rx_iov_[i] = iovec{rx_buffer_.data() + i * slot_size_, slot_size_};
    rx_msgs_[i] = mmsghdr{};
    rx_msgs_[i].msg_hdr.msg_iov = &rx_iov_[i];
    rx_msgs_[i].msg_hdr.msg_iovlen = 1;
  }
}

NfQueuePort NfQueuePort::open_in(const NetNamespace& ns, std::uint16_t queue_num, std::uint32_t copy_range) {
  if (copy_range == 0 || copy_range > kMaxCopyRange) copy_range = kMaxCopyRange;
  NetnsScope in_ns(ns);
  UniqueFd socket = open_netlink_socket();

  // Bind, copy mode, length and flags in one request: nothing is queued to us half-configured.
  alignas(nlmsghdr) std::array<char, 512> out{};
  nlmsghdr* nlh = nfq_nlmsg_put(out.data(), NFQNL_MSG_CONFIG, queue_num);
  nlh->nlmsg_flags |= NLM_F_ACK;
  const std::uint32_t seq = 1;
  nlh->nlmsg_seq = seq;
  nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);  // the family is ignored since Linux 3.8
  nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, static_cast<int>(copy_range));
  nfq_nlmsg_cfg_put_qmaxlen(nlh, kQueueMaxLen);
  // FAIL_OPEN stays clear: a full queue drops rather than passes what a fault meant to stop.
  mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_GSO));
  mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
  send_to_kernel(socket.get(), nlh, "sendto(NFQUEUE config)");
  await_config_ack(socket.get(), seq, queue_num);

  // The proc file exists once nfnetlink_queue is loaded, which the bind above guarantees.
  UniqueFd stats(::open("/proc/thread-self/net/netfilter/nfnetlink_queue", O_RDONLY | O_CLOEXEC));
  if (!stats.valid()) throw_errno("open /proc/net/netfilter/nfnetlink_queue");
  return NfQueuePort(std::move(socket), std::move(stats), queue_num, copy_range);
}

std::size_t NfQueuePort::receive(const std::function<void(const QueuedPacket&)>& on_packet) {
  std::size_t delivered = 0;
  std::size_t messages = 0;
  const auto slots = static_cast<unsigned>(rx_msgs_.size());
  while (messages < kMaxMessagesPerReceive) {
    for (auto& m : rx_msgs_) m.msg_hdr.msg_flags = 0;
    int n = ::recvmmsg(socket_.get(), rx_msgs_.data(), slots, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return delivered;
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {
        ++overruns_;
        continue;
      }
      throw_errno("recvmmsg(NFQUEUE)");
    }
    for (int i = 0; i < n; ++i) {
      if (rx_msgs_[i].msg_hdr.msg_flags & MSG_TRUNC)
        throw HarnessError("NFQUEUE: a message did not fit its receive slot of " + std::to_string(slot_size_) +
                           " bytes");
      delivered += dispatch(rx_buffer_.data() + i * slot_size_, rx_msgs_[i].msg_len, on_packet);
    }
    if (static_cast<unsigned>(n) < slots) return delivered;
    messages += static_cast<std::size_t>(n);
  }
  return delivered;
}

std::size_t NfQueuePort::dispatch(const std::uint8_t* data, std::size_t len,
                                  const std::function<void(const QueuedPacket&)>& on_packet) {
  std::size_t delivered = 0;
  auto remaining = static_cast<int>(len);
  std::array<nlattr*, NFQA_MAX + 1> attr;
  for (auto* nlh = reinterpret_cast<const nlmsghdr*>(data); mnl_nlmsg_ok(nlh, remaining);
       nlh = mnl_nlmsg_next(nlh, &remaining)) {
    if (nlh->nlmsg_type == NLMSG_ERROR) {
      // Verdicts are sent without NLM_F_ACK, so only failures come back.
      auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      if (err->error != 0) ++verdict_errors_;
      continue;
    }
    if (nlh->nlmsg_type != nfq_type(NFQNL_MSG_PACKET)) continue;
    attr.fill(nullptr);
    if (nfq_nlmsg_parse(nlh, attr.data()) < 0 || attr[NFQA_PACKET_HDR] == nullptr)
      throw HarnessError("NFQUEUE: malformed packet message from the kernel");
    auto* hdr = static_cast<const nfqnl_msg_packet_hdr*>(mnl_attr_get_payload(attr[NFQA_PACKET_HDR]));
    QueuedPacket packet;
    packet.id = ntohl(hdr->packet_id);
    if (attr[NFQA_PAYLOAD] != nullptr)
      packet.payload = {static_cast<const std::uint8_t*>(mnl_attr_get_payload(attr[NFQA_PAYLOAD])),
                        mnl_attr_get_payload_len(attr[NFQA_PAYLOAD])};
    packet.full_length = attr[NFQA_CAP_LEN] != nullptr ? ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN]))
                                                       : static_cast<std::uint32_t>(packet.payload.size());
    if (attr[NFQA_SKB_INFO] != nullptr)
      packet.checksum_ready = (ntohl(mnl_attr_get_u32(attr[NFQA_SKB_INFO])) & NFQA_SKB_CSUMNOTREADY) == 0;
    on_packet(packet);
    ++delivered;
  }
  return delivered;
}

void NfQueuePort::send_verdict(std::uint16_t msg_type, std::uint32_t id, std::uint32_t verdict) {
  alignas(nlmsghdr) std::array<char, MNL_NLMSG_HDRLEN + 64> out{};
  nlmsghdr* nlh = nfq_nlmsg_put(out.data(), msg_type, queue_num_);
  nfq_nlmsg_verdict_put(nlh, static_cast<int>(id), static_cast<int>(verdict));
  send_to_kernel(socket_.get(), nlh, "sendto(NFQUEUE verdict)");
}

void NfQueuePort::accept(std::uint32_t id) { send_verdict(NFQNL_MSG_VERDICT, id, NF_ACCEPT); }

void NfQueuePort::drop(std::uint32_t id) { send_verdict(NFQNL_MSG_VERDICT, id, NF_DROP); }

void NfQueuePort::accept_up_to(std::uint32_t id) { send_verdict(NFQNL_MSG_VERDICT_BATCH, id, NF_ACCEPT); }

QueueStats NfQueuePort::stats() const {
  // One line per queue in this namespace; a few dozen bytes each.
  std::array<char, 16 * 1024> text{};
  std::size_t used = 0;
  for (;;) {
    ssize_t n = ::pread(stats_file_.get(), text.data() + used, text.size() - 1 - used, static_cast<off_t>(used));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("read /proc/net/netfilter/nfnetlink_queue");
    if (n == 0 || used + static_cast<std::size_t>(n) >= text.size() - 1) break;
    used += static_cast<std::size_t>(n);
  }
  const char* line = text.data();
  while (*line != '\0') {
    unsigned queue = 0, portid = 0, total = 0, mode = 0, range = 0, qdropped = 0, udropped = 0;
    if (std::sscanf(line, "%u %u %u %u %u %u %u", &queue, &portid, &total, &mode, &range, &qdropped, &udropped) == 7 &&
        queue == queue_num_)
      return QueueStats{qdropped, udropped, total};
    const char* next = std::strchr(line, '\n');
    if (next == nullptr) break;
    line = next + 1;
  }
  throw HarnessError("NFQUEUE: queue " + std::to_string(queue_num_) + " is missing from nfnetlink_queue statistics");
}

}  // namespace lastack::sys
