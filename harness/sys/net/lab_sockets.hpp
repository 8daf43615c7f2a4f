#pragma once
// The TCP sockets this process holds inside one namespace, whoever opened them: the last resort
// for ending code that blocks on its own sockets and ignores a stop request.
#include <cstddef>

#include "harness/sys/net/netns.hpp"

namespace lastack::sys {

/// shutdown(SHUT_RDWR) every TCP socket of this process that lives in `ns` (found through
/// /proc/self/fd and SIOCGSKNS), which wakes a thread blocked on one of them (accept, recv,
/// send, connect); returns how many it shut down. Sockets in other namespaces are untouched.
std::size_t shutdown_tcp_sockets_in(const NetNamespace& ns);

}  // namespace lastack::sys
