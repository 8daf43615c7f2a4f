// The control socket: a private directory, an AF_UNIX listener in it, and one client exchange.
#include "harness/sys/net/control_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "lastack/error.hpp"

namespace lastack::sys {

namespace {

std::string error_text(std::string_view what) { return fmt::format("{}: {}", what, std::strerror(errno)); }

// `path` as a sockaddr_un; false when it does not fit sun_path.
bool unix_address(const std::string& path, sockaddr_un& addr) {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return true;
}

}  // namespace

ControlSocket ControlSocket::open() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = fmt::format("{}/lastack-control-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  ControlSocket s;
  if (::mkdtemp(pattern.data()) == nullptr) throw EnvironmentError(error_text("--control: mkdtemp " + pattern));
  s.dir_ = pattern;  // mkdtemp made it 0700: only this user reaches the socket
  s.path_ = s.dir_ + "/control";
  sockaddr_un addr;
  if (!unix_address(s.path_, addr))
    throw EnvironmentError(fmt::format("--control: {} is too long for a socket's path (set TMPDIR shorter)", s.path_));
  s.fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!s.fd_.valid()) throw EnvironmentError(error_text("--control: socket(AF_UNIX)"));
  if (::bind(s.fd_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
    throw EnvironmentError(error_text("--control: bind " + s.path_));
  if (::listen(s.fd_.get(), 16) != 0) throw EnvironmentError(error_text("--control: listen " + s.path_));
  return s;
}

ControlSocket::~ControlSocket() {
  fd_.reset();
  if (!path_.empty()) ::unlink(path_.c_str());
  if (!dir_.empty()) ::rmdir(dir_.c_str());
}

ControlAnswer control_exchange(const std::string& path, std::string_view request, std::chrono::milliseconds timeout) {
  sockaddr_un addr;
  if (!unix_address(path, addr)) return {ControlFailure::no_socket, fmt::format("{}: too long for a socket's path", path)};
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return {ControlFailure::no_socket, error_text("socket(AF_UNIX)")};
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
    return {ControlFailure::no_socket, error_text("connect " + path)};
  const std::string line = std::string(request) + "\n";
  for (std::size_t sent = 0; sent < line.size();) {
    const ssize_t n = ::send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return {ControlFailure::broken, error_text("send to " + path)};
    sent += static_cast<std::size_t>(n);
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string reply;
  char buf[4096];
  while (reply.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd.get(), POLLIN, 0};
    const int ready = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return {ControlFailure::broken, fmt::format("no reply from {} within {} ms", path, timeout.count())};
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return {ControlFailure::broken, fmt::format("{} closed the connection before a reply (the run ended?)", path)};
    reply.append(buf, static_cast<std::size_t>(n));
  }
  reply.resize(reply.find('\n'));
  return {ControlFailure::none, reply};
}

}  // namespace lastack::sys
