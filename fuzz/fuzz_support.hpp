#pragma once
// What every fuzz target shares: the parser's documented error is a normal answer; anything
// else thrown is a finding, reported with its type and message before libFuzzer sees the abort.
// Crashes, sanitizer reports and leaks are findings on their own (-fsanitize=fuzzer,address,undefined).
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>
#include <typeinfo>

namespace lastack::fuzz {

/// No exception is documented: expect_only<Nothing> makes every exception a finding.
struct Nothing {};

/// Run `body`; return normally when it returns or throws `Documented`, abort on any other exception.
template <typename Documented, typename Body>
void expect_only(Body&& body) {
  try {
    body();
  } catch (const Documented&) {
    // The parser rejected the input the way it says it does.
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz finding: undocumented exception %s: %s\n", typeid(e).name(), e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "fuzz finding: undocumented non-std exception\n");
    std::abort();
  }
}

/// Abort with `what` when `ok` is false: a property the parser promises did not hold.
inline void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz finding: %s\n", what);
  std::abort();
}

/// The fuzzer's bytes as text.
inline std::string_view as_text(const unsigned char* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace lastack::fuzz
