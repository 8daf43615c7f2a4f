// What both benchmarks' main() does around their own work: parse the options, enter the lab's
// privileges while single-threaded, and turn an error into one line and lastack's exit code.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "lastack/error.hpp"
#include "lastack/privilege.hpp"

namespace lastack {

/// Parses argv into `app`, then runs `bench()` in the lab's privileges; returns its exit code,
/// or 2 (bad input) on bad options and the error's exit code, after one line on stderr, on an error.
template <typename Bench>
int bench_main(const char* name, CLI::App& app, int argc, char** argv, Bench bench) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : static_cast<int>(ExitCode::bad_input);
  }
  try {
    // Before any thread exists: unshare(CLONE_NEWUSER) refuses multi-threaded callers.
    sys::enter_lab_privileges();
    return bench();
  } catch (const Error& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: internal error: %s\n", name, e.what());
    return static_cast<int>(ExitCode::harness);
  }
}

}  // namespace lastack
