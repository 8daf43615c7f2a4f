#pragma once
// Text made safe inside XML/HTML elements and double-quoted attributes.
#include <string>
#include <string_view>

namespace lastack {

/// `text` with & < > " ' escaped and characters XML 1.0 forbids (control bytes) dropped.
std::string xml_escape(std::string_view text);

}  // namespace lastack
