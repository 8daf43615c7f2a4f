#include "harness/sys/net/sysctl.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lastack/error.hpp"

namespace lastack::sys {

namespace {

/// "net.ipv4.tcp_fin_timeout" -> "/proc/sys/net/ipv4/tcp_fin_timeout"; a key must not escape.
std::string sysctl_path(const std::string& key) {
  if (key.empty() || key.find('/') != std::string::npos || key.find("..") != std::string::npos ||
      key.front() == '.' || key.back() == '.')
    throw InputError("'" + key + "' is not a sysctl name (dotted, like net.ipv4.tcp_fin_timeout)");
  std::string path = "/proc/sys/" + key;
  for (std::size_t i = 10; i < path.size(); ++i)
    if (path[i] == '.') path[i] = '/';
  return path;
}

/// Why `key` could not be opened (errno `open_errno`), thrown.
[[noreturn]] void refuse_open(const std::string& key, int flags, int open_errno) {
  if (open_errno == ENOENT) throw EnvironmentError("sysctl " + key + " does not exist on this kernel");
  if (open_errno == EACCES || open_errno == EPERM)
    throw EnvironmentError("cannot " + std::string(flags == O_RDONLY ? "read" : "write") + " sysctl " + key +
                           ": " + std::strerror(open_errno) + " (not per-namespace, or needs real root)");
  errno = open_errno;
  throw_errno(("open sysctl " + key).c_str());
}

/// Open the sysctl file while the thread is in `ns`, which is when its namespace is chosen.
UniqueFd open_sysctl(const NetNamespace& ns, const std::string& key, int flags) {
  const std::string path = sysctl_path(key);
  int open_errno = 0;
  UniqueFd fd(in_netns(ns, [&] {
    const int opened = ::open(path.c_str(), flags | O_CLOEXEC);
    open_errno = errno;  // leaving the scope makes another syscall
    return opened;
  }));
  if (fd.valid()) return fd;
  refuse_open(key, flags, open_errno);
}

}  // namespace

// The value written through / read from an open sysctl file, errors mapped as write_sysctl says.
static std::string read_value(const UniqueFd& fd, const std::string& key);

static void write_value(const UniqueFd& fd, const std::string& key, const std::string& value) {
  const ssize_t written = ::write(fd.get(), value.data(), value.size());
  if (written == static_cast<ssize_t>(value.size())) return;
  if (written >= 0) throw HarnessError("sysctl " + key + ": short write");
  if (errno == EINVAL || errno == ERANGE)
    throw InputError("sysctl " + key + " refused the value '" + value + "': " + std::strerror(errno));
  if (errno == EACCES || errno == EPERM)
    throw EnvironmentError("cannot write sysctl " + key + ": " + std::strerror(errno));
  throw_errno(("write sysctl " + key).c_str());
}

void write_sysctl(const NetNamespace& ns, const std::string& key, const std::string& value) {
  write_value(open_sysctl(ns, key, O_WRONLY), key, value);
}

std::string read_sysctl(const NetNamespace& ns, const std::string& key) {
  return read_value(open_sysctl(ns, key, O_RDONLY), key);
}

namespace {
/// Open `key` in the namespace this thread is in; an invalid fd when this kernel lacks it.
UniqueFd open_here(const std::string& key, int flags) {
  UniqueFd fd(::open(sysctl_path(key).c_str(), flags | O_CLOEXEC));
  if (!fd.valid() && errno != ENOENT) refuse_open(key, flags, errno);
  return fd;
}
}  // namespace

std::vector<std::optional<std::string>> read_sysctls(const NetNamespace& ns, const std::vector<std::string>& keys) {
  NetnsScope in_ns(ns);
  std::vector<std::optional<std::string>> values;
  for (const std::string& key : keys) {
    const UniqueFd fd = open_here(key, O_RDONLY);
    values.push_back(fd.valid() ? std::optional(read_value(fd, key)) : std::nullopt);
  }
  return values;
}

std::vector<std::string> write_existing_sysctls(const NetNamespace& ns,
                                                const std::vector<std::pair<std::string, std::string>>& values) {
  NetnsScope in_ns(ns);
  std::vector<std::string> absent;
  for (const auto& [key, value] : values) {
    const UniqueFd fd = open_here(key, O_WRONLY);
    if (fd.valid())
      write_value(fd, key, value);
    else
      absent.push_back(key);
  }
  return absent;
}

bool sysctl_exists(const NetNamespace& ns, const std::string& key) {
  const std::string path = sysctl_path(key);
  int access_errno = 0;
  const int found = in_netns(ns, [&] {
    const int rc = ::access(path.c_str(), F_OK);
    access_errno = errno;
    return rc;
  });
  if (found == 0) return true;
  if (access_errno == ENOENT) return false;
  errno = access_errno;
  throw_errno(("look up sysctl " + key).c_str());
}

static std::string read_value(const UniqueFd& fd, const std::string& key) {
  std::string value;
  char chunk[256];
  for (;;) {
    const ssize_t got = ::read(fd.get(), chunk, sizeof chunk);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw_errno(("read sysctl " + key).c_str());
    }
    if (got == 0) break;
    value.append(chunk, static_cast<std::size_t>(got));
  }
  if (!value.empty() && value.back() == '\n') value.pop_back();
  return value;
}

}  // namespace lastack::sys
