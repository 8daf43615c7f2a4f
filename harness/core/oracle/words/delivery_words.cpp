// bytes-delivered in words: "client wrote 1000 bytes, server read 1000; server wrote 0, client
// read 0; every byte read matched its pattern".
#include "harness/core/oracle/words/delivery_words.hpp"

#include <vector>

#include <fmt/format.h>

#include "harness/core/oracle/invariant_support.hpp"

namespace lastack {

namespace {

// "server recv 1000: bytes 0..512 of the stream are not what the client wrote (they are ...)"
std::string corrupted_text(const CorruptedRead& c) {
  std::string text = fmt::format("{} {}: bytes {}..{} of the stream are not what the {} wrote", side_name(c.reader),
                                 c.step, c.range.begin, c.range.end, side_name(peer_of(c.reader)));
  if (const auto& o = c.origin)
    text += c.connection ? fmt::format(" (they are the {}'s bytes {}.. of connection {})", side_name(o->side), o->offset,
                                       c.connection->value)
                         : fmt::format(" (they are the {}'s bytes {}.. of the connection from client port {})",
                                       side_name(o->side), o->offset, o->stream);
  return text;
}

}  // namespace

std::string delivery_saw(const DeliverySeen& s) {
  if (!s.corrupted.empty()) {
    std::vector<std::string> corrupted;
    for (const CorruptedRead& c : s.corrupted) corrupted.push_back(corrupted_text(c));
    return detail::join_some(corrupted);
  }
  if (!s.transfers) return "no agent send or recv steps in the trace";
  const std::string counts = fmt::format("client wrote {} bytes, server read {}; server wrote {}, client read {}",
                                         s.wrote.client, s.read.server, s.wrote.server, s.read.client);
  if (s.reset) return "an RST was on the wire (" + counts + ")";
  if (!s.errors.empty()) {
    std::vector<std::string> errors;
    for (const StepFailed& e : s.errors) errors.push_back(fmt::format("{} {}: {}", side_name(e.side), e.step, e.outcome));
    return detail::join_some(errors) + " (" + counts + ")";
  }
  if (s.wrote.client != s.read.server || s.wrote.server != s.read.client) return counts;
  if (s.unverified) return counts + "; the content of some reads was not verified";
  return counts + (s.stale_expected ? "; every byte read matched its pattern, but for the old connection's "
                                      "bytes the policy expects (its app check judges them)"
                                    : "; every byte read matched its pattern");
}

}  // namespace lastack
