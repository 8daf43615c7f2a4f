#include "harness/sys/net/lab_sockets.hpp"

#include <dirent.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>
#include <memory>

namespace lastack::sys {

namespace {

bool same_file(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

// True when `fd` is a TCP socket whose network namespace is the one `ns_file` describes.
bool tcp_socket_in(int fd, const struct stat& ns_file) {
  struct stat file {};
  if (::fstat(fd, &file) != 0 || !S_ISSOCK(file.st_mode)) return false;
  int protocol = 0;
  socklen_t len = sizeof protocol;
  if (::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) != 0 || protocol != IPPROTO_TCP) return false;
  const UniqueFd socket_ns(::ioctl(fd, SIOCGSKNS));
  struct stat ns {};
  return socket_ns.valid() && ::fstat(socket_ns.get(), &ns) == 0 && same_file(ns, ns_file);
}

}  // namespace

std::size_t shutdown_tcp_sockets_in(const NetNamespace& ns) {
  struct stat ns_file {};
  if (::fstat(ns.fd(), &ns_file) != 0) throw_errno("fstat a lab namespace");
  const std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir("/proc/self/fd"), ::closedir);
  if (!dir) throw_errno("open /proc/self/fd");
  std::size_t count = 0;
  while (const dirent* entry = ::readdir(dir.get())) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == ::dirfd(dir.get())) continue;
    if (tcp_socket_in(static_cast<int>(fd), ns_file) && ::shutdown(static_cast<int>(fd), SHUT_RDWR) == 0) ++count;
  }
  return count;
}

}  // namespace lastack::sys
