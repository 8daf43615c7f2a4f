#pragma once
// A finding in words: the one place a check's name, what it expected and what it saw are
// worded (the verdict table, JSON, JUnit and HTML print these words). The checks build findings
// only (lastack/finding.hpp).
#include <cstddef>
#include <string>

#include "lastack/finding.hpp"
#include "lastack/oracle.hpp"

namespace lastack {

/// Fill r's name, expected and saw from r.finding and r.outcome (again after either changes).
void render_words(CheckResult& r);

/// A check's result: `finding`, judged `outcome`, from [[expect]] line `line` (0: a built-in),
/// its words rendered.
CheckResult judged(Finding finding, Outcome outcome, std::size_t line = 0);

/// The check's name: "retransmitted second-fin from server", "syn-fin-consume-seq".
std::string check_name(const Finding& f);

/// What the check expected, in words.
std::string expected_words(const Finding& f);

}  // namespace lastack
