/* The record the BPF program (kernel_events.bpf.c) writes into its ring buffer and the
 * observer (harness/sys/observe/bpf_observer.cpp) reads: plain C, shared by both sides. */
#ifndef LASTACK_KERNEL_EVENTS_H
#define LASTACK_KERNEL_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* What happened. */
enum lastack_kernel_event_kind {
  LASTACK_EV_STATE = 1,          /* sock:inet_sock_set_state */
  LASTACK_EV_RETRANSMIT = 2,     /* tcp:tcp_retransmit_skb */
  LASTACK_EV_SYNACK = 3,         /* tcp:tcp_retransmit_synack */
  LASTACK_EV_RESET_SENT = 4,     /* tcp:tcp_send_reset */
  LASTACK_EV_RESET_RECEIVED = 5, /* tcp:tcp_receive_reset */
};

/* Facts a state change reads from the socket (LASTACK_EV_STATE's `facts`). */
enum lastack_socket_facts {
  LASTACK_FACT_PEER_FIN = 1, /* SOCK_DONE: the peer's FIN was accepted (tcp_fin ran) */
  LASTACK_FACT_ORPHAN = 2,   /* SOCK_DEAD: the application closed it */
};

/* One event. Ports in host order; states in the kernel's numbering (tcp_states.h). */
struct lastack_kernel_event {
  __u64 ktime_ns;     /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
  __u64 cookie;       /* the socket's cookie (bpf_get_socket_cookie: what sock_diag reports as
                         idiag_cookie, and what a timewait socket inherits); 0: no socket */
  __u32 side;         /* the value userspace stored for the socket's namespace inode */
  __u32 seq;          /* retransmissions: first sequence number (the SYN-ACK's ISN); state
                         changes: snd_una (the ISN until the SYN is acknowledged) */
  __u32 rto_us;       /* retransmissions: icsk_rto in microseconds */
  __s32 timer_late;   /* retransmissions: jiffies now minus the retransmission timer's expiry
                         (>= 0 when its timer sent it: how late the kernel ran it) */
  __s32 err;          /* state changes: sk_err (why the kernel closed it: ETIMEDOUT, ECONNRESET);
                         retransmissions: the transmit's result (0: it left) */
  __u16 local_port;
  __u16 remote_port;
  __u16 reason;       /* resets sent: enum sk_rst_reason */
  __u8 kind;          /* enum lastack_kernel_event_kind */
  __u8 old_state;     /* state changes: from; otherwise the socket's state */
  __u8 new_state;     /* state changes: to; resets sent by a timewait socket: its substate */
  __u8 pending;       /* retransmissions: icsk_pending at that moment (ICSK_TIME_*) */
  __u8 backoff;       /* retransmissions: icsk_backoff */
  __u8 full_socket;   /* resets: 1 when a full socket sent or received it */
  __u8 copy;          /* state changes: which of the two identical programs wrote it (0, 1) */
  __u8 facts;         /* state changes: enum lastack_socket_facts bits */
  __u32 rcv_nxt;      /* state changes: rcv_nxt (the peer's ISN + 1 once its SYN arrived) */
  __u32 end_seq;      /* retransmissions: TCP_SKB_CB(skb)->end_seq, the end of what was resent */
  __u16 segs;         /* retransmissions: tcp_skb_pcount(skb), the segments that one skb resent
                         (TCP builds GSO skbs of several MSS; Tcp.RetransSegs counts each) */
  __u16 pad;
};

#endif
