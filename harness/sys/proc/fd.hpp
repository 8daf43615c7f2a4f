#pragma once
// A file descriptor owned by exactly one object, closed when that object dies.
#include <unistd.h>

#include <utility>

namespace lastack::sys {

/// Owns one file descriptor; move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  /// The descriptor, or -1.
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  /// Give up ownership without closing.
  int release() { return std::exchange(fd_, -1); }
  /// Close the current descriptor (if any) and own `fd`.
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

/// Throw HarnessError("what: strerror(errno)") — for syscalls that should not fail.
[[noreturn]] void throw_errno(const char* what);

}  // namespace lastack::sys
