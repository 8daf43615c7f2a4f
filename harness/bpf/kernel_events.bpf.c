// SPDX-License-Identifier: GPL-2.0
/* lastack's kernel observer: every TCP state change, retransmission and reset of the sockets in
 * the run's own namespaces, read from BTF-typed tracepoints (tp_btf: no tracefs needed, and
 * bpf_get_socket_cookie names each socket as sock_diag does) into a ring buffer.
 * Compiled with CO-RE against the running kernel's BTF (vmlinux.h generated at build time). */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "kernel_events.h"

char LICENSE[] SEC("license") = "GPL";

/* icsk_rto and a request's timeout are in jiffies; libbpf reads HZ from the kernel's config. */
extern unsigned long CONFIG_HZ __kconfig;

#define IPPROTO_TCP_ 6
/* include/net/inet_connection_sock.h */
#define ICSK_TIME_LOSS_PROBE_ 5

/* Namespace inode number -> side: filled by userspace with the run's client and server. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u32);
} namespaces SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 20);
} events SEC(".maps");

/* Events the ring buffer had no room for: the trace would be missing them, so userspace
 * reports any as a harness error. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} lost SEC(".maps");

/* Records written, of any kind: userspace compares what it read with it, so a record lost on the
 * way (not to a full ring: that is `lost`) is a harness error too. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} written SEC(".maps");

/* The side of a namespace the run owns, or 0 when the socket is not the run's. */
static __always_inline __u32 *side_of_net(struct net *net) {
  __u32 inum = BPF_CORE_READ(net, ns.inum);
  return bpf_map_lookup_elem(&namespaces, &inum);
}

static __always_inline __u32 *side_of(const struct sock_common *skc) {
  return side_of_net(BPF_CORE_READ(skc, skc_net.net));
}

static __always_inline struct lastack_kernel_event *reserve(__u32 side, __u8 kind) {
  struct lastack_kernel_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    __u32 zero = 0;
    __u64 *n = bpf_map_lookup_elem(&lost, &zero);
    if (n) __sync_fetch_and_add(n, 1);
    return 0;
  }
  __u32 zero = 0;
  __u64 *n = bpf_map_lookup_elem(&written, &zero);
  if (n) __sync_fetch_and_add(n, 1);
  __builtin_memset(e, 0, sizeof(*e));
  e->ktime_ns = bpf_ktime_get_ns();
  e->side = side;
  e->kind = kind;
  return e;
}

static __always_inline void ports_of(struct lastack_kernel_event *e, const struct sock_common *skc) {
  e->local_port = BPF_CORE_READ(skc, skc_num);
  e->remote_port = bpf_ntohs(BPF_CORE_READ(skc, skc_dport));
}

static __always_inline __u32 jiffies_to_us(__u32 j) {
  return (__u32)((__u64)j * 1000000 / CONFIG_HZ);
}

/* The kernel skips a raw tracepoint program that is already running on this CPU: a state
 * change in softirq context that interrupts on_state (for any socket on the machine) would be
 * lost. Two identical programs see every change; the nested one is missed by one of them only,
 * and userspace keeps one event of each pair (kernel_observer.cpp). */
static __always_inline int record_state(struct sock *sk, int oldstate, int newstate, __u8 copy) {
  if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP_) return 0;
  __u32 *side = side_of(&sk->__sk_common);
  if (!side) return 0;
  struct lastack_kernel_event *e = reserve(*side, LASTACK_EV_STATE);
  if (!e) return 0;
  ports_of(e, &sk->__sk_common);
  e->cookie = bpf_get_socket_cookie(sk);
  e->old_state = oldstate;
  e->new_state = newstate;
  e->copy = copy;
  /* Why a closing socket closed, in the kernel's own fields: tcp_write_err, tcp_reset and
   * tcp_abort set sk_err before tcp_done; tcp_fin sets SOCK_DONE when it accepts the peer's FIN;
   * tcp_time_wait (the hand-over to a timewait socket) sets neither. */
  e->err = BPF_CORE_READ(sk, sk_err);
  /* The socket's own sequence numbers name the connection on the wire it belongs to (its ISN and
   * the peer's), whatever the clocks say. */
  const struct tcp_sock *tp = (const void *)sk;
  e->seq = BPF_CORE_READ(tp, snd_una);
  e->rcv_nxt = BPF_CORE_READ(tp, rcv_nxt);
  unsigned long flags = BPF_CORE_READ(sk, __sk_common.skc_flags);
  if (flags & (1UL << bpf_core_enum_value(enum sock_flags, SOCK_DONE))) e->facts |= LASTACK_FACT_PEER_FIN;
  if (flags & (1UL << bpf_core_enum_value(enum sock_flags, SOCK_DEAD))) e->facts |= LASTACK_FACT_ORPHAN;
  bpf_ringbuf_submit(e, 0);
  return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_state, struct sock *sk, int oldstate, int newstate) {
  if (!sk) return 0;
  return record_state(sk, oldstate, newstate, 0);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_state_twin, struct sock *sk, int oldstate, int newstate) {
  if (!sk) return 0;
  return record_state(sk, oldstate, newstate, 1);
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(on_retransmit, struct sock *sk, const struct sk_buff *skb, int err) {
  if (!sk || !skb) return 0;
  __u32 *side = side_of(&sk->__sk_common);
  if (!side) return 0;
  struct lastack_kernel_event *e = reserve(*side, LASTACK_EV_RETRANSMIT);
  if (!e) return 0;
  const struct inet_connection_sock *icsk = (const void *)sk;
  ports_of(e, &sk->__sk_common);
  e->cookie = bpf_get_socket_cookie(sk);
  e->old_state = BPF_CORE_READ(sk, __sk_common.skc_state);
  e->err = err;
  /* TCP_SKB_CB(skb)->seq: struct tcp_skb_cb starts at skb->cb, then end_seq, then (a union
   * for outgoing skbs) tcp_gso_segs: how many segments this one skb resends. */
  bpf_core_read(&e->seq, sizeof(e->seq), &skb->cb);
  bpf_core_read(&e->end_seq, sizeof(e->end_seq), (const char *)&skb->cb + 4);
  bpf_core_read(&e->segs, sizeof(e->segs), (const char *)&skb->cb + 8);
  /* Who is retransmitting: tcp_write_timer_handler clears icsk_pending before
   * tcp_retransmit_timer (RTO) but not before tcp_send_loss_probe (TLP). */
  e->pending = BPF_CORE_READ(icsk, icsk_pending);
  e->rto_us = jiffies_to_us(BPF_CORE_READ(icsk, icsk_rto));
  e->backoff = BPF_CORE_READ(icsk, icsk_backoff);
  /* The timer that fired keeps its expiry until it is re-armed after this retransmission. */
  e->timer_late = (__s32)(bpf_jiffies64() - BPF_CORE_READ(icsk, icsk_retransmit_timer.expires));
  bpf_ringbuf_submit(e, 0);
  return 0;
}

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(on_synack, const struct sock *sk, struct request_sock *req) {
  if (!req) return 0;
  __u32 *side = side_of(&req->__req_common);
  if (!side) return 0;
  struct lastack_kernel_event *e = reserve(*side, LASTACK_EV_SYNACK);
  if (!e) return 0;
  ports_of(e, &req->__req_common);
  e->cookie = bpf_get_socket_cookie(&req->__req_common);
  e->old_state = BPF_CORE_READ(req, __req_common.skc_state);
  e->seq = BPF_CORE_READ((const struct tcp_request_sock *)req, snt_isn);
  e->rto_us = jiffies_to_us(BPF_CORE_READ(req, timeout));
  e->backoff = BPF_CORE_READ_BITFIELD_PROBED(req, num_timeout);
  /* From the request's timer, its expiry is in the past; from a duplicate SYN, in the future. */
  e->timer_late = (__s32)(bpf_jiffies64() - BPF_CORE_READ(req, rsk_timer.expires));
  bpf_ringbuf_submit(e, 0);
  return 0;
}

/* A reset sent with no socket (a reply to a stray segment) or an active reset without a
 * segment (sk set, skb NULL): the namespace and ports come from whichever is there. */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(on_send_reset, struct sock *sk, const struct sk_buff *skb, int reason) {
  __u32 *side = 0;
  if (sk)
    side = side_of(&sk->__sk_common);
  else if (skb)
    side = side_of_net(BPF_CORE_READ(skb, dev, nd_net.net));
  if (!side) return 0;
  struct lastack_kernel_event *e = reserve(*side, LASTACK_EV_RESET_SENT);
  if (!e) return 0;
  e->reason = reason;
  if (sk) {
    ports_of(e, &sk->__sk_common);
    e->cookie = bpf_get_socket_cookie(sk);
    __u8 state = BPF_CORE_READ(sk, __sk_common.skc_state);
    e->old_state = state;
    /* Timewait and request sockets share sock_common but are not full sockets. */
    e->full_socket = state != 6 /* TIME_WAIT */ && state != 12 /* NEW_SYN_RECV */;
    if (state == 6) e->new_state = BPF_CORE_READ((const struct inet_timewait_sock *)sk, tw_substate);
  } else {
    struct tcphdr th;
    unsigned char *head = BPF_CORE_READ(skb, head);
    __u16 off = BPF_CORE_READ(skb, transport_header);
    if (bpf_probe_read_kernel(&th, sizeof(th), head + off) == 0) {
      e->local_port = bpf_ntohs(th.dest);  /* the stray segment was sent to us */
      e->remote_port = bpf_ntohs(th.source);
    }
    e->old_state = 7; /* CLOSE: no socket */
  }
  bpf_ringbuf_submit(e, 0);
  return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(on_receive_reset, struct sock *sk) {
  if (!sk) return 0;
  __u32 *side = side_of(&sk->__sk_common);
  if (!side) return 0;
  struct lastack_kernel_event *e = reserve(*side, LASTACK_EV_RESET_RECEIVED);
  if (!e) return 0;
  ports_of(e, &sk->__sk_common);
  e->cookie = bpf_get_socket_cookie(sk);
  e->old_state = BPF_CORE_READ(sk, __sk_common.skc_state);
  e->full_socket = 1;
  bpf_ringbuf_submit(e, 0);
  return 0;
}
