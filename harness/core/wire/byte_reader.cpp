#include "harness/core/wire/byte_reader.hpp"

#include <fmt/format.h>

#include "lastack/error.hpp"

namespace lastack {

void ByteReader::overrun(std::size_t wanted) const {
  throw ParseError(fmt::format("{} truncated: need {} byte{} at offset {}, only {} left", what_, wanted,
                               wanted == 1 ? "" : "s", offset_, remaining()));
}

}  // namespace lastack
