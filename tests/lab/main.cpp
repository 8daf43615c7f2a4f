// Catch2 v2 main for the lab tier: enter lab privileges (root, or a user namespace) while the
// process is still single-threaded, then run the tests.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include "lastack/error.hpp"
#include "lastack/privilege.hpp"

int main(int argc, char* argv[]) {
  try {
    lastack::sys::enter_lab_privileges();
  } catch (const lastack::Error& e) {
    std::fprintf(stderr, "lab tests: %s\n", e.what());
    return static_cast<int>(e.code());
  }
  return Catch::Session().run(argc, argv);
}
