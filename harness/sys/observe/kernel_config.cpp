#include "harness/sys/observe/kernel_config.hpp"

#include <sys/utsname.h>
#include <zlib.h>

#include <string>
#include <string_view>

namespace lastack::sys {

namespace {

constexpr std::string_view kHzLine = "CONFIG_HZ=";

// CONFIG_HZ from one config file, plain or gzip (gzread reads both).
std::optional<unsigned> hz_in(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) return std::nullopt;
  std::optional<unsigned> hz;
  char line[256];
  while (!hz && gzgets(file, line, sizeof line)) {
    const std::string_view text(line);
    if (text.substr(0, kHzLine.size()) != kHzLine) continue;
    try {
      hz = static_cast<unsigned>(std::stoul(std::string(text.substr(kHzLine.size()))));
    } catch (const std::exception&) {
      hz = std::nullopt;
    }
  }
  gzclose(file);
  return hz && *hz > 0 ? hz : std::nullopt;
}

}  // namespace

std::optional<unsigned> kernel_hz() {
  if (auto hz = hz_in("/proc/config.gz")) return hz;
  utsname name{};
  if (::uname(&name) != 0) return std::nullopt;
  return hz_in(std::string("/boot/config-") + name.release);
}

}  // namespace lastack::sys
