#pragma once
// Network namespaces held only by file descriptors: no name in /run/netns, nothing left
// behind when the process dies, however it dies.
#include "harness/sys/proc/fd.hpp"

namespace lastack::sys {

/// A new, empty network namespace (only `lo`, down), alive while this object is.
class NetNamespace {
 public:
  /// Create one: unshare(CLONE_NEWNET) on this thread, keep an fd, switch the thread back.
  /// Throws EnvironmentError without CAP_SYS_ADMIN (see privilege.hpp).
  static NetNamespace create();
  /// The namespace this thread is in now (kept open).
  static NetNamespace current();

  /// A second handle on the same namespace (a dup of the descriptor): `lastack wrap`'s lab is
  /// one namespace in the client's, the wire's and the server's place.
  NetNamespace share() const;

  /// The nsfs descriptor, for setns() and IFLA_NET_NS_FD.
  int fd() const { return fd_.get(); }

 private:
  explicit NetNamespace(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

/// While alive, this thread is in `ns`; the destructor returns it to where it was.
/// Sockets keep the namespace they were created in, so create them inside a scope.
class NetnsScope {
 public:
  explicit NetnsScope(const NetNamespace& ns);
  ~NetnsScope();
  NetnsScope(const NetnsScope&) = delete;
  NetnsScope& operator=(const NetnsScope&) = delete;

 private:
  UniqueFd previous_;
};

/// Run `fn` with this thread in `ns`, and return its result.
template <typename F>
auto in_netns(const NetNamespace& ns, F&& fn) {
  NetnsScope scope(ns);
  return fn();
}

}  // namespace lastack::sys
