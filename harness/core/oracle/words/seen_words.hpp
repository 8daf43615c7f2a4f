#pragma once
// What a check saw, in words (finding_words.hpp puts them together with the rest).
#include <string>

#include "lastack/finding.hpp"

namespace lastack {

/// What `f` saw, in words, before why it could not look is added; `outcome` picks some words
/// ("0 queue drops" when it passed).
std::string seen_words(const Finding& f, Outcome outcome);

/// The segments a subject selects: "second-fin from server on connection 2", "fin with data from
/// client", a closer "from first-closer (server)" once the trace resolved it.
std::string selector_words(const CheckSubject& s);

/// The side or closer a subject names: "server", "first-closer (client)", "first-closer".
std::string subject_side_text(const CheckSubject& s, const char* none = "either side");

}  // namespace lastack
