#include "harness/core/report/svg.hpp"

#include <fmt/format.h>

#include "harness/core/base/xml_text.hpp"

namespace lastack::svg {

std::string escape(std::string_view text) { return xml_escape(text); }

std::string num(double v) { return fmt::format("{:.1f}", v); }

std::string line(double x1, double y1, double x2, double y2, std::string_view attrs) {
  return fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" {}/>", num(x1), num(y1), num(x2), num(y2),
                     attrs);
}

std::string text(double x, double y, std::string_view content, std::string_view attrs) {
  return fmt::format("<text x=\"{}\" y=\"{}\" {}>{}</text>", num(x), num(y), attrs, escape(content));
}

std::string rect(double x, double y, double w, double h, std::string_view attrs) {
  return fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" {}/>", num(x), num(y), num(w), num(h),
                     attrs);
}

std::string title(std::string_view content) { return "<title>" + escape(content) + "</title>"; }

}  // namespace lastack::svg
