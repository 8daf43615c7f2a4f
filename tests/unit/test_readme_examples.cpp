// README's code examples are copies of compiled, tested ones: each quoted region of an example
// file must appear in README.md verbatim, so neither can change without the other.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace {

const std::filesystem::path source_dir = std::filesystem::path(LASTACK_FIXTURES).parent_path().parent_path();

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  INFO(path);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The lines strictly between the marker lines "// README: NAME begins" and "... ends".
std::string quoted_region(const std::string& text, const std::string& name) {
  const std::string begin = "// README: " + name + " begins\n", end = "// README: " + name + " ends\n";
  const auto from = text.find(begin);
  const auto to = text.find(end);
  REQUIRE(from != std::string::npos);
  REQUIRE(to != std::string::npos);
  REQUIRE(from + begin.size() <= to);
  return text.substr(from + begin.size(), to - from - begin.size());
}

}  // namespace

TEST_CASE("README quotes examples/in_process.cpp verbatim, inside a cpp block") {
  const std::string region = quoted_region(read_file(source_dir / "examples/in_process.cpp"), "in-process example");
  const std::string readme = read_file(source_dir / "README.md");
  CHECK(region.find("lastack::InProcess") != std::string::npos);
  INFO("README.md must hold, in a ```cpp block, exactly:\n" << region);
  CHECK(readme.find("```cpp\n" + region + "```\n") != std::string::npos);
}
