#include "harness/sys/observe/bpf_observer.hpp"

#include <algorithm>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "lastack/error.hpp"
#include "kernel_events.h"
#include "kernel_events.skel.h"

namespace lastack::sys {

namespace {

// libbpf reports why a load failed through its print callback: keep the last warning so the
// error names the kernel's reason in one line.
thread_local std::string last_libbpf_warning;

int keep_warning(enum libbpf_print_level level, const char* format, va_list args) {
  if (level != LIBBPF_WARN) return 0;
  char line[512];
  std::vsnprintf(line, sizeof line, format, args);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (!text.empty()) last_libbpf_warning = text;
  return 0;
}

// One line: what failed, the kernel's errno, and libbpf's own reason when it gave one.
[[noreturn]] void refuse(const char* step, int err) {
  std::string line = std::string("BPF kernel observer: ") + step + ": " + std::strerror(err < 0 ? -err : err);
  if (!last_libbpf_warning.empty()) line += " (libbpf: " + last_libbpf_warning + ")";
  throw EnvironmentError(line);
}

std::uint32_t side_value(Side s) { return s == Side::client ? 1 : 2; }

KernelRecord to_record(const lastack_kernel_event& e) {
  KernelRecord r;
  switch (e.kind) {
    case LASTACK_EV_RETRANSMIT: r.kind = KernelRecord::Kind::retransmit; break;
    case LASTACK_EV_SYNACK: r.kind = KernelRecord::Kind::synack; break;
    case LASTACK_EV_RESET_SENT: r.kind = KernelRecord::Kind::reset_sent; break;
    case LASTACK_EV_RESET_RECEIVED: r.kind = KernelRecord::Kind::reset_received; break;
    default: r.kind = KernelRecord::Kind::state; break;
  }
  r.monotonic = std::chrono::nanoseconds(e.ktime_ns);
  r.cookie = e.cookie;
  r.side = e.side == side_value(Side::server) ? Side::server : Side::client;
  r.local_port = e.local_port;
  r.remote_port = e.remote_port;
  r.state = static_cast<TcpState>(e.old_state);
  r.new_state = static_cast<TcpState>(e.new_state);
  r.seq = e.seq;
  r.rcv_nxt = e.rcv_nxt;
  r.end_seq = e.end_seq;
  r.segments = e.kind == LASTACK_EV_RETRANSMIT ? std::max<std::uint16_t>(e.segs, 1) : 1;
  r.pending = e.pending;
  r.backoff = e.backoff;
  r.rto = std::chrono::microseconds(e.rto_us);
  r.timer_late = e.timer_late;
  r.full_socket = e.full_socket != 0;
  r.copy = e.copy;
  r.error = e.err;
  r.peer_fin = (e.facts & LASTACK_FACT_PEER_FIN) != 0;
  r.orphan = (e.facts & LASTACK_FACT_ORPHAN) != 0;
  r.reason = e.reason;
  if (e.kind == LASTACK_EV_RESET_SENT && e.old_state == static_cast<std::uint8_t>(TcpState::TIME_WAIT))
    r.timewait_substate = static_cast<TcpState>(e.new_state);
  return r;
}

}  // namespace

namespace {

// A loaded and attached program set. Loading costs about 100 ms (libbpf parses the kernel's
// 5 MB BTF for the CO-RE relocations) and attaching or detaching a raw tracepoint a few ms
// (the kernel patches its text), so a process keeps what it loaded: a run takes a set from the
// pool, fills the namespace map, and gives it back emptied. With an empty map the programs
// record nothing; the set is only held by file descriptors and dies with the process.
struct Loaded {
  kernel_events* skeleton = nullptr;
  ring_buffer* ring = nullptr;
  pid_t owner = 0;  // a forked child must not share its parent's map and ring
  const std::function<void(const KernelRecord&)>* sink = nullptr;  // set during consume()

  ~Loaded() {
    if (ring) ring_buffer__free(ring);
    if (skeleton) kernel_events__destroy(skeleton);  // detaches, closes every fd
  }

  static int on_record(void* ctx, void* data, size_t size) {
    auto* self = static_cast<Loaded*>(ctx);
    if (size < sizeof(lastack_kernel_event) || !self->sink) return 0;
    lastack_kernel_event e;
    std::memcpy(&e, data, sizeof e);
    (*self->sink)(to_record(e));
    return 0;
  }
};

std::uint64_t recursion_misses(const bpf_program* prog) {
  bpf_prog_info info{};
  std::uint32_t length = sizeof info;
  if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &length) != 0)
    throw HarnessError(std::string("BPF program info: ") + std::strerror(errno));
  return info.recursion_misses;
}

ProgramMisses misses_of(const kernel_events* skeleton) {
  const auto& p = skeleton->progs;
  return {recursion_misses(p.on_state), recursion_misses(p.on_state_twin),
          recursion_misses(p.on_retransmit) + recursion_misses(p.on_synack) + recursion_misses(p.on_send_reset) +
              recursion_misses(p.on_receive_reset)};
}

std::unique_ptr<Loaded> load_and_attach() {
  libbpf_set_print(keep_warning);
  last_libbpf_warning.clear();
  auto loaded = std::make_unique<Loaded>();
  loaded->owner = ::getpid();
  loaded->skeleton = kernel_events__open();
  if (!loaded->skeleton) refuse("open", errno);
  if (int err = kernel_events__load(loaded->skeleton)) refuse("load", err);
  // Attached with an empty namespace map: nothing is recorded until a run fills it.
  if (int err = kernel_events__attach(loaded->skeleton)) refuse("attach the raw tracepoints", err);
  loaded->ring = ring_buffer__new(bpf_map__fd(loaded->skeleton->maps.events), &Loaded::on_record, loaded.get(), nullptr);
  if (!loaded->ring) refuse("open the ring buffer", errno);
  return loaded;
}

std::mutex pool_mutex;
std::vector<std::unique_ptr<Loaded>> pool;  // idle sets of this process, namespace maps empty

/// An idle set of this process, or a new one.
std::unique_ptr<Loaded> take_loaded() {
  {
    std::lock_guard<std::mutex> lock(pool_mutex);
    // Inherited over fork(): the parent's; closing our copies of its fds leaves it untouched.
    std::erase_if(pool, [](const std::unique_ptr<Loaded>& l) { return l->owner != ::getpid(); });
    if (!pool.empty()) {
      auto loaded = std::move(pool.back());
      pool.pop_back();
      return loaded;
    }
  }
  return load_and_attach();
}

void discard_waiting(Loaded& loaded) {
  loaded.sink = nullptr;  // on_record drops what it reads
  ring_buffer__consume(loaded.ring);
}

}  // namespace

struct BpfObserver::Impl {
  std::unique_ptr<Loaded> loaded;
  std::vector<std::uint32_t> inodes;  // the run's entries in the namespace map
  ProgramMisses misses_before;        // the programs' counts when the run took the set

  ~Impl() {
    if (!loaded) return;
    // Back to the pool only when emptied: the map forgets the run's namespaces, the ring its
    // records. A set that cannot be emptied is destroyed instead.
    bool emptied = loaded->owner == ::getpid();
    for (std::uint32_t inode : inodes)
      if (emptied && bpf_map__delete_elem(loaded->skeleton->maps.namespaces, &inode, sizeof inode, 0) != 0)
        emptied = false;
    if (!emptied) return;
    discard_waiting(*loaded);
    std::lock_guard<std::mutex> lock(pool_mutex);
    pool.push_back(std::move(loaded));
  }
};

std::uint32_t namespace_inode(const NetNamespace& ns) {
  struct stat st {};
  if (::fstat(ns.fd(), &st) != 0) throw_errno("fstat network namespace");
  return static_cast<std::uint32_t>(st.st_ino);
}

BpfObserver BpfObserver::open(const NetNamespace& client, const NetNamespace& server) {
  auto impl = std::make_unique<Impl>();
  impl->loaded = take_loaded();
  kernel_events* skeleton = impl->loaded->skeleton;
  // What an earlier run left is not this run's: the ring emptied, the lost counter zeroed,
  // the programs' recursion misses counted from now.
  discard_waiting(*impl->loaded);
  const std::uint32_t zero = 0;
  const std::uint64_t none = 0;
  if (bpf_map__update_elem(skeleton->maps.lost, &zero, sizeof zero, &none, sizeof none, BPF_ANY) != 0)
    refuse("reset the lost-event counter", errno);
  if (bpf_map__update_elem(skeleton->maps.written, &zero, sizeof zero, &none, sizeof none, BPF_ANY) != 0)
    refuse("reset the written-event counter", errno);
  impl->misses_before = misses_of(skeleton);
  for (const auto& [ns, side] : {std::pair{&client, Side::client}, std::pair{&server, Side::server}}) {
    const std::uint32_t inode = namespace_inode(*ns);
    // One namespace for both (`lastack wrap`): its records say "client" until the run's merge
    // gives each socket its side from its connection's SYN (core/loopback_sides).
    if (std::find(impl->inodes.begin(), impl->inodes.end(), inode) != impl->inodes.end()) continue;
    const std::uint32_t value = side_value(side);
    if (bpf_map__update_elem(skeleton->maps.namespaces, &inode, sizeof inode, &value, sizeof value, BPF_ANY) != 0)
      refuse("fill the namespace map", errno);
    impl->inodes.push_back(inode);
  }
  return BpfObserver(std::move(impl));
}

BpfObserver::BpfObserver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BpfObserver::BpfObserver(BpfObserver&&) noexcept = default;
BpfObserver& BpfObserver::operator=(BpfObserver&&) noexcept = default;
BpfObserver::~BpfObserver() = default;

int BpfObserver::ready_fd() const { return ring_buffer__epoll_fd(impl_->loaded->ring); }

std::size_t BpfObserver::consume(const std::function<void(const KernelRecord&)>& sink) {
  impl_->loaded->sink = &sink;
  const int n = ring_buffer__consume(impl_->loaded->ring);
  impl_->loaded->sink = nullptr;
  if (n < 0) throw HarnessError(std::string("BPF ring buffer: ") + std::strerror(-n));
  return static_cast<std::size_t>(n);
}

namespace {

// A one-slot array map's counter; `what` names it in the error.
std::uint64_t read_counter(const bpf_map* map, const char* what) {
  const std::uint32_t zero = 0;
  std::uint64_t n = 0;
  if (bpf_map__lookup_elem(map, &zero, sizeof zero, &n, sizeof n, 0) != 0)
    throw HarnessError(std::string("BPF ") + what + " counter: " + std::strerror(errno));
  return n;
}

}  // namespace

std::uint64_t BpfObserver::lost() const { return read_counter(impl_->loaded->skeleton->maps.lost, "lost-event"); }

std::uint64_t BpfObserver::written() const {
  return read_counter(impl_->loaded->skeleton->maps.written, "written-event");
}

ProgramMisses BpfObserver::misses() const {
  const ProgramMisses now = misses_of(impl_->loaded->skeleton), before = impl_->misses_before;
  return {now.state - before.state, now.state_twin - before.state_twin, now.other - before.other};
}

unsigned long BpfObserver::hz() const { return impl_->loaded->skeleton->kconfig->CONFIG_HZ; }

}  // namespace lastack::sys
