#pragma once
// The small exception hierarchy: every error lastack reports maps to one exit code.
#include <stdexcept>
#include <string>

namespace lastack {

/// Process exit codes, as documented in `lastack --help`.
enum class ExitCode : int {
  ok = 0,            // every expectation held
  check_failed = 1,  // an expectation or built-in invariant failed
  bad_input = 2,     // malformed policy, unknown name, bad argument
  environment = 3,   // missing privilege, missing tool, kernel feature absent
  harness = 4,       // the lab itself misbehaved (queue overflow, agent crash): the run proves nothing
  inconclusive = 5,  // no expectation failed, but one could not be checked (e.g. states sampled)
};

/// Base of every error lastack raises on purpose.
class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& what) : std::runtime_error(what), code_(code) {}
  ExitCode code() const noexcept { return code_; }

 private:
  ExitCode code_;
};

/// Bytes that are not a well-formed IPv4/IPv6 TCP segment.
class ParseError : public Error {
 public:
  explicit ParseError(const std::string& what) : Error(ExitCode::harness, what) {}
};

/// A policy (or command-line input) that is wrong; what() is "file:line: what is wrong".
class InputError : public Error {
 public:
  explicit InputError(const std::string& what) : Error(ExitCode::bad_input, what) {}
};

/// The machine cannot run a lab: no privilege, no iptables, no kernel feature.
class EnvironmentError : public Error {
 public:
  explicit EnvironmentError(const std::string& what) : Error(ExitCode::environment, what) {}
};

/// The lab failed while running (a syscall that should not fail, a queue overflow).
class HarnessError : public Error {
 public:
  explicit HarnessError(const std::string& what) : Error(ExitCode::harness, what) {}
};

}  // namespace lastack
