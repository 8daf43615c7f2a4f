#pragma once
// Lab-test helper: a `--json` trace file as its lines, each parsed (the header first).
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lastack::test {

/// Every line of the JSON Lines trace `file`, parsed, in order.
inline std::vector<nlohmann::json> trace_lines(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

}  // namespace lastack::test
