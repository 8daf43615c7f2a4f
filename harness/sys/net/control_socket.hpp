#pragma once
// The control socket of `lastack exec|wrap --control`: an AF_UNIX stream socket in a directory
// of its own (mode 0700), which dies with the run; and the client's one request over it.
#include <chrono>
#include <string>
#include <string_view>
#include <utility>

#include "harness/sys/proc/fd.hpp"

namespace lastack::sys {

/// A listening AF_UNIX stream socket at DIR/control, DIR a fresh directory (0700) under $TMPDIR
/// (else /tmp). Move-only; the socket file and its directory are removed when it dies.
class ControlSocket {
 public:
  /// Make the directory, bind and listen. Throws EnvironmentError when it cannot.
  static ControlSocket open();
  ControlSocket(ControlSocket&& other) noexcept
      : fd_(std::move(other.fd_)), dir_(std::exchange(other.dir_, {})), path_(std::exchange(other.path_, {})) {}
  ControlSocket& operator=(ControlSocket&&) = delete;
  ~ControlSocket();

  /// The listening descriptor (non-blocking, close-on-exec).
  int fd() const { return fd_.get(); }
  /// The socket's path: what LASTACK_CONTROL holds.
  const std::string& path() const { return path_; }

 private:
  ControlSocket() = default;
  UniqueFd fd_;
  std::string dir_, path_;
};

/// What went wrong talking to a control socket.
enum class ControlFailure { none, no_socket, broken };

/// The reply to one request: its line (without the newline), or why there is none.
struct ControlAnswer {
  ControlFailure failure = ControlFailure::none;
  std::string line;  // the reply, or the failure in words ("connect /tmp/x/control: No such file ...")
};

/// Send `request` (one line, its newline added) to the control socket at `path` and read the
/// one-line reply, waiting at most `timeout`. Never throws for the socket's sake: no_socket when
/// nothing listens at `path`, broken when the connection ends or times out before a whole reply.
ControlAnswer control_exchange(const std::string& path, std::string_view request, std::chrono::milliseconds timeout);

}  // namespace lastack::sys
