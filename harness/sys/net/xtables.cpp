// The filter table as one blob for IPT_SO_SET_REPLACE / IP6T_SO_SET_REPLACE: the entries
// iptables-legacy-restore would build for compile_queue_rules' script (linux/netfilter_ipv4/
// ip_tables.h: an entry is the IP part, its matches, then its target; each chain ends with its
// policy, the table with an ERROR entry).
#include "harness/sys/net/xtables.hpp"

// The libc headers first: the kernel's then skip their own copies of in_addr and IPPROTO_*.
#include <netinet/in.h>
#include <sys/socket.h>

#include <linux/netfilter.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <linux/netfilter/xt_length.h>
#include <linux/netfilter/xt_mark.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "lastack/error.hpp"

namespace lastack::sys {

namespace {

// TCP header flag bits, as xt_tcp's flg_mask and flg_cmp take them.
constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04;
constexpr int kAcceptVerdict = -NF_ACCEPT - 1;  // a standard target's verdict is -verdict - 1

struct Ipv4 {
  using Entry = ipt_entry;
  using Replace = ipt_replace;
  using Info = ipt_getinfo;
  static constexpr int family = AF_INET, level = IPPROTO_IP;
  static constexpr int get_info = IPT_SO_GET_INFO, set_replace = IPT_SO_SET_REPLACE;
  static void tcp_only(Entry& e) { e.ip.proto = IPPROTO_TCP; }
};

struct Ipv6 {
  using Entry = ip6t_entry;
  using Replace = ip6t_replace;
  using Info = ip6t_getinfo;
  static constexpr int family = AF_INET6, level = IPPROTO_IPV6;
  static constexpr int get_info = IP6T_SO_GET_INFO, set_replace = IP6T_SO_SET_REPLACE;
  static void tcp_only(Entry& e) {
    e.ipv6.proto = IPPROTO_TCP;
    e.ipv6.flags |= IP6T_F_PROTO;  // without it ip6tables ignores the protocol
  }
};

/// `--sport p` (source) or `--dport p`; no port: either, any.
struct PortMatch {
  std::optional<std::uint16_t> port;
  bool source = false;
};

/// Appends entries to a table blob, with the offsets the replace header needs.
template <typename F>
class TableBuilder {
 public:
  /// Offset of the next entry.
  unsigned offset() const { return static_cast<unsigned>(blob_.size()); }
  unsigned entries() const { return entries_; }
  const std::vector<std::uint8_t>& blob() const { return blob_; }

  /// `-p tcp [--sport p | --dport p] [! --tcp-flags SYN,FIN,RST NONE] [-m length --length a:b]
  /// -j NFQUEUE --queue-num n`.
  void queue_rule(const QueueRule& rule, std::uint16_t queue_num, const PortMatch& port = {}) {
    std::vector<std::uint8_t> matches;
    if (rule.syn_fin_rst || port.port) {  // `-p tcp` alone needs no tcp match: the protocol is in the entry
      xt_tcp tcp{};
      tcp.spts[1] = tcp.dpts[1] = 0xffff;
      if (port.port) {
        auto& range = port.source ? tcp.spts : tcp.dpts;
        range[0] = range[1] = *port.port;
      }
      if (rule.syn_fin_rst) {
        tcp.flg_mask = kSyn | kFin | kRst;
        tcp.flg_cmp = 0;
        tcp.invflags = XT_TCP_INV_FLAGS;
      }
      append_part(matches, "tcp", &tcp, sizeof tcp);
    }
    if (rule.length) {
      xt_length_info length{};
      length.min = rule.length->first;
      length.max = rule.length->second;
      append_part(matches, "length", &length, sizeof length);
    }
    // Revision 3, as iptables writes it: one queue, no flags (no bypass: fail closed).
    xt_NFQ_info_v3 nfq{};
    nfq.queuenum = queue_num;
    nfq.queues_total = 1;
    std::vector<std::uint8_t> target;
    append_part(target, "NFQUEUE", &nfq, sizeof nfq, 3);
    typename F::Entry e{};
    F::tcp_only(e);
    add_entry(e, matches, target);
  }

  /// `-m mark --mark m -j ACCEPT` (revision 1, as iptables writes it).
  void accept_marked(std::uint32_t mark) {
    xt_mark_mtinfo1 info{};
    info.mark = mark;
    info.mask = 0xffffffff;
    std::vector<std::uint8_t> matches, target;
    append_part(matches, "mark", &info, sizeof info, 1);
    const int verdict = kAcceptVerdict;
    append_part(target, XT_STANDARD_TARGET, &verdict, sizeof verdict);
    add_entry(typename F::Entry{}, matches, target);
  }

  /// An unconditional ACCEPT: a built-in chain's policy.
  void accept_policy() {
    std::vector<std::uint8_t> target;
    const int verdict = kAcceptVerdict;
    append_part(target, XT_STANDARD_TARGET, &verdict, sizeof verdict);
    add_entry(typename F::Entry{}, {}, target);
  }

  /// The ERROR entry that ends every table.
  void error_end() {
    char name[XT_FUNCTION_MAXNAMELEN] = "ERROR";
    std::vector<std::uint8_t> target;
    append_part(target, XT_ERROR_TARGET, name, sizeof name);
    add_entry(typename F::Entry{}, {}, target);
  }

 private:
  // A match or target: its header (size, name, revision) then its data, aligned.
  static void append_part(std::vector<std::uint8_t>& out, const char* name, const void* data, std::size_t size,
                          std::uint8_t revision = 0) {
    static_assert(sizeof(xt_entry_match) == sizeof(xt_entry_target));
    const std::size_t total = XT_ALIGN(sizeof(xt_entry_match) + size);
    const std::size_t at = out.size();
    out.resize(at + total, 0);
    xt_entry_match header{};
    header.u.user.match_size = static_cast<std::uint16_t>(total);
    std::strncpy(header.u.user.name, name, sizeof header.u.user.name - 1);
    header.u.user.revision = revision;
    std::memcpy(out.data() + at, &header, sizeof header);
    std::memcpy(out.data() + at + sizeof header, data, size);
  }

  void add_entry(typename F::Entry e, const std::vector<std::uint8_t>& matches, const std::vector<std::uint8_t>& target) {
    e.target_offset = static_cast<std::uint16_t>(sizeof e + matches.size());
    e.next_offset = static_cast<std::uint16_t>(e.target_offset + target.size());
    const auto* head = reinterpret_cast<const std::uint8_t*>(&e);
    blob_.insert(blob_.end(), head, head + sizeof e);
    blob_.insert(blob_.end(), matches.begin(), matches.end());
    blob_.insert(blob_.end(), target.begin(), target.end());
    ++entries_;
  }

  std::vector<std::uint8_t> blob_;
  unsigned entries_ = 0;
};

[[noreturn]] void refuse(const char* step, int err) {
  std::string line = std::string("loading the queue rules: ") + step + ": " + std::strerror(err);
  if (err == ENOENT || err == EINVAL) line += " (a match or target this kernel lacks: tcp, length, mark, NFQUEUE)";
  throw EnvironmentError(line);
}

template <typename F>
void replace_filter_table(const NetNamespace& ns, const QueueRules& rules) {
  UniqueFd fd(in_netns(ns, [] { return ::socket(F::family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW); }));
  if (!fd.valid()) refuse("socket(SOCK_RAW)", errno);
  // The table is made in this namespace on first use; replacing it takes its old entry count.
  typename F::Info info{};
  std::strncpy(info.name, "filter", sizeof info.name - 1);
  socklen_t info_len = sizeof info;
  if (::getsockopt(fd.get(), F::level, F::get_info, &info, &info_len) != 0) refuse("get the filter table", errno);

  TableBuilder<F> table;
  unsigned hook_entry[NF_INET_NUMHOOKS] = {}, underflow[NF_INET_NUMHOOKS] = {};
  // The chain the rules go in (INPUT under `lastack wrap`, else FORWARD), in the script's order.
  const auto queue_rules = [&] {
    if (rules.pass_mark) table.accept_marked(*rules.pass_mark);
    for (const QueueRule& rule : rules.forward) {
      if (rules.ports.empty()) table.queue_rule(rule, rules.queue_num);
      for (const std::uint16_t port : rules.ports) {
        table.queue_rule(rule, rules.queue_num, {port, true});
        table.queue_rule(rule, rules.queue_num, {port, false});
      }
    }
  };
  hook_entry[NF_INET_LOCAL_IN] = table.offset();
  if (rules.hook == QueueHook::input) queue_rules();
  underflow[NF_INET_LOCAL_IN] = table.offset();
  table.accept_policy();
  hook_entry[NF_INET_FORWARD] = table.offset();
  if (rules.hook == QueueHook::forward) queue_rules();
  underflow[NF_INET_FORWARD] = table.offset();
  table.accept_policy();
  hook_entry[NF_INET_LOCAL_OUT] = underflow[NF_INET_LOCAL_OUT] = table.offset();
  table.accept_policy();
  table.error_end();

  std::vector<std::uint8_t> request(sizeof(typename F::Replace) + table.blob().size());
  typename F::Replace head{};
  std::strncpy(head.name, "filter", sizeof head.name - 1);
  head.valid_hooks = info.valid_hooks;
  head.num_entries = table.entries();
  head.size = static_cast<unsigned>(table.blob().size());
  std::memcpy(head.hook_entry, hook_entry, sizeof hook_entry);
  std::memcpy(head.underflow, underflow, sizeof underflow);
  std::vector<xt_counters> old_counters(info.num_entries);
  head.num_counters = info.num_entries;
  head.counters = old_counters.data();
  std::memcpy(request.data(), &head, sizeof head);
  std::memcpy(request.data() + sizeof head, table.blob().data(), table.blob().size());
  if (::setsockopt(fd.get(), F::level, F::set_replace, request.data(), static_cast<socklen_t>(request.size())) != 0)
    refuse("replace the filter table", errno);
}

}  // namespace

void load_queue_rules(const NetNamespace& ns, const QueueRules& rules) {
  if (rules.ipv6)
    replace_filter_table<Ipv6>(ns, rules);
  else
    replace_filter_table<Ipv4>(ns, rules);
}

}  // namespace lastack::sys
