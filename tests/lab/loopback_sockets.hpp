#pragma once
// Lab-test helper: one namespace with `lo` up, and plain TCP sockets over 127.0.0.1 / ::1
// inside it, for tests of the sys wrappers that need real traffic but no topology.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "lastack/segment.hpp"
#include "harness/sys/proc/fd.hpp"
#include "harness/sys/net/netns.hpp"
#include "harness/sys/net/rtnetlink.hpp"

namespace lastack::test {

/// A new namespace with `lo` up (127.0.0.1 and ::1).
inline sys::NetNamespace loopback_namespace() {
  auto ns = sys::NetNamespace::create();
  sys::Rtnetlink::open_in(ns).set_up("lo");
  return ns;
}

/// 127.0.0.1 or ::1.
inline IpAddress loopback_address(IpFamily family) {
  IpAddress a;
  a.family = family;
  if (family == IpFamily::v4) {
    a.bytes[0] = 127;
    a.bytes[3] = 1;
  } else {
    a.bytes[15] = 1;
  }
  return a;
}

/// The loopback socket address of `family` with `port`, and its length.
inline socklen_t loopback_sockaddr(IpFamily family, std::uint16_t port, sockaddr_storage& out) {
  out = {};
  if (family == IpFamily::v4) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sizeof(sockaddr_in);
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
  v6->sin6_family = AF_INET6;
  v6->sin6_port = htons(port);
  v6->sin6_addr = in6addr_loopback;
  return sizeof(sockaddr_in6);
}

/// The local port a socket is bound to.
inline std::uint16_t local_port(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);  // same offset in sockaddr_in6
}

/// True when `fd` became ready for `events` within `timeout`.
inline bool wait_for(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
}

/// A TCP socket of `family` made in `ns`, non-blocking, so a broken test fails instead of hanging.
inline sys::UniqueFd tcp_socket(const sys::NetNamespace& ns, IpFamily family) {
  sys::UniqueFd fd(sys::in_netns(ns, [&] {
    return ::socket(family == IpFamily::v4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  }));
  REQUIRE(fd.valid());
  return fd;
}

/// A listener on loopback, on a port the kernel picks.
inline sys::UniqueFd tcp_listener(const sys::NetNamespace& ns, IpFamily family) {
  sys::UniqueFd fd = tcp_socket(ns, family);
  sockaddr_storage addr;
  const socklen_t len = loopback_sockaddr(family, 0, addr);
  REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) == 0);
  REQUIRE(::listen(fd.get(), 8) == 0);
  return fd;
}

/// A client whose connect to loopback:`port` has started (the SYN is on its way).
inline sys::UniqueFd tcp_connect_start(const sys::NetNamespace& ns, IpFamily family, std::uint16_t port) {
  sys::UniqueFd fd = tcp_socket(ns, family);
  sockaddr_storage addr;
  const socklen_t len = loopback_sockaddr(family, port, addr);
  const int rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), len);
  REQUIRE((rc == 0 || errno == EINPROGRESS));
  return fd;
}

/// The next connection on `listener`, waiting up to `timeout`; invalid when none came.
inline sys::UniqueFd tcp_accept(int listener, std::chrono::milliseconds timeout) {
  if (!wait_for(listener, POLLIN, timeout)) return sys::UniqueFd();
  return sys::UniqueFd(::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
}

/// Read exactly `n` bytes from non-blocking `fd` within `timeout`; false when they did not come.
inline bool read_exactly(int fd, std::size_t n, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (n > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !wait_for(fd, POLLIN, left)) return false;
    const ssize_t got = ::read(fd, buf, std::min(n, sizeof buf));
    if (got <= 0) return false;
    n -= static_cast<std::size_t>(got);
  }
  return true;
}

}  // namespace lastack::test
