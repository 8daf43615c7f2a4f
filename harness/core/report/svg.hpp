#pragma once
// Small builders for SVG and HTML text: escaping and the few elements the HTML report draws.
#include <string>
#include <string_view>

namespace lastack::svg {

/// `text` safe inside an HTML/SVG element or a double-quoted attribute: xml_escape.
std::string escape(std::string_view text);

/// A coordinate with one decimal: "12.5".
std::string num(double v);

/// `<line>` from (x1,y1) to (x2,y2); `attrs` is raw attribute text (class, marker, ...).
std::string line(double x1, double y1, double x2, double y2, std::string_view attrs);

/// `<text>` at (x,y) with `text` escaped; `attrs` raw (class, text-anchor, ...).
std::string text(double x, double y, std::string_view text, std::string_view attrs = "");

/// `<rect>` with `attrs` raw.
std::string rect(double x, double y, double w, double h, std::string_view attrs);

/// `<title>` (the browser's hover text) with `text` escaped.
std::string title(std::string_view text);

}  // namespace lastack::svg
