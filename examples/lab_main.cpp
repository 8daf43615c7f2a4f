// The main() a test suite that runs labs needs, shared by the examples here and lastack's own lab
// tier: enter lab privileges (root, or a user namespace) while the process is still
// single-threaded, then run the tests. It is also where Catch2's implementation is compiled
// (CATCH_CONFIG_RUNNER), once for all of those programs: in a suite of your own, keep this file
// as it is and write your TEST_CASEs in other files.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include "lastack/error.hpp"
#include "lastack/privilege.hpp"

int main(int argc, char* argv[]) {
  try {
    lastack::sys::enter_lab_privileges();
  } catch (const lastack::Error& e) {
    const std::string program = argc > 0 ? argv[0] : "tests";
    std::fprintf(stderr, "%s: %s\n", program.substr(program.rfind('/') + 1).c_str(), e.what());
    return static_cast<int>(e.code());
  }
  return Catch::Session().run(argc, argv);
}
