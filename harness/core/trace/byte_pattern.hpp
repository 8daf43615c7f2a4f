#pragma once
// The bytes lastack's agents write: a deterministic pattern of the sending side, the connection
// number and the stream offset, so a reader can verify every byte and tell, for bytes that are
// wrong, which side, connection and offset they were written at.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "lastack/roles.hpp"
#include "lastack/trace.hpp"

namespace lastack {

/// Bytes per pattern block: each starts with an 8-byte tag naming side, connection and block.
inline constexpr std::size_t pattern_block = 32;
/// A connection number is 16 bits: a copy of `connections = N` numbers its connection by the
/// client's port, so the copies' streams differ. The tag's block number wraps every 64 GiB.
inline constexpr std::uint32_t pattern_connections = 1U << 16;

/// The byte the pattern has at stream `offset` of `side`'s writes on stream `connection` (a
/// connection's tag: see PatternOrigin::stream).
std::uint8_t pattern_byte(Side side, std::uint32_t connection, std::uint64_t offset);

/// Fills `out` with the pattern from stream `offset` on.
void fill_pattern(Side side, std::uint32_t connection, std::uint64_t offset, std::span<std::uint8_t> out);

/// Where `bytes` were written, if a whole tag inside them decodes: the origin of bytes[0].
std::optional<PatternOrigin> decode_pattern(std::span<const std::uint8_t> bytes);

/// The trace connection `origin`'s bytes were written on, when its stream tag is one: a run of
/// one copy of the scenario (`copies` <= 1), whose agents number their connections as the wire
/// does. nullopt for copies of `connections = N`, whose tag is the client's port.
std::optional<ConnectionIndex> pattern_connection(const PatternOrigin& origin, std::uint32_t copies);

/// Checks a stream, chunk by chunk, against the pattern its writer (`sender`) sends.
class PatternVerifier {
 public:
  PatternVerifier(Side sender, std::uint32_t connection) : sender_(sender), connection_(connection) {}

  /// Checks the next `bytes` of the stream.
  void feed(std::span<const std::uint8_t> bytes);
  /// The first range of stream offsets that did not match, once one was seen: from the first
  /// wrong byte to the last one before a whole block (pattern_block bytes) matched again, so a
  /// foreign byte that happens to equal the pattern does not cut the range short.
  const std::optional<ByteRange>& corrupted() const { return corrupted_; }
  /// Where the first corrupted bytes claim to come from, when their pattern decodes.
  const std::optional<PatternOrigin>& corrupted_from() const { return from_; }
  /// Stream bytes checked so far.
  std::uint64_t offset() const { return offset_; }

 private:
  Side sender_;
  std::uint32_t connection_;
  std::uint64_t offset_ = 0;
  std::optional<ByteRange> corrupted_;
  std::optional<PatternOrigin> from_;
  bool open_ = false;  // the first corrupted range runs to the end of what was fed so far
  std::size_t matching_run_ = 0;      // bytes matched in a row since the range's last wrong one
  std::vector<std::uint8_t> foreign_; // the range's first bytes, to decode where they came from
  std::vector<std::uint8_t> expected_;  // scratch: the pattern for the chunk being checked
};

}  // namespace lastack
