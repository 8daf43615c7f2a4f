// Control requests: JSON lines read into typed requests through the policy's own readers.
#include "harness/core/decide/control_request.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "harness/core/policy/policy_faults.hpp"
#include "harness/core/policy/policy_link.hpp"
#include "harness/core/policy/policy_toml.hpp"
#include "lastack/error.hpp"

namespace lastack {

namespace {

using Json = nlohmann::json;

const std::vector<std::string_view> request_names = {"fault add", "fault remove", "link set", "mark", "status"};

std::string one_line(std::string_view text) {
  std::string out(text);
  std::replace_if(out.begin(), out.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return out;
}

// A JSON value as the TOML value a policy file would hold, given to `put` with its own type;
// `where` names it in errors.
template <typename Put>
void put_value(const Json& v, const std::string& where, Put put);

toml::array toml_array(const Json& list, const std::string& where) {
  toml::array a;
  for (const Json& item : list)
    put_value(item, where + "[]", [&a](auto&& x) { a.push_back(std::forward<decltype(x)>(x)); });
  return a;
}

toml::table toml_table(const Json& object, const std::string& where) {
  toml::table t;
  for (const auto& item : object.items()) {
    const std::string& key = item.key();  // a named reference: clang 14 cannot capture a structured binding
    put_value(item.value(), where + "." + key, [&t, &key](auto&& x) { t.insert(key, std::forward<decltype(x)>(x)); });
  }
  return t;
}

template <typename Put>
void put_value(const Json& v, const std::string& where, Put put) {
  if (v.is_string()) return put(v.get<std::string>());
  if (v.is_boolean()) return put(v.get<bool>());
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(policy_toml::i64_max))
    throw InputError(fmt::format("{} is too large", where));
  if (v.is_number_integer()) return put(v.get<std::int64_t>());
  if (v.is_number_float()) return put(v.get<double>());
  if (v.is_object()) return put(toml_table(v, where));
  if (v.is_array()) return put(toml_array(v, where));
  throw InputError(fmt::format("{} is null: give a value or leave the key out", where));
}

// "control:1: what" (the policy readers' location, a line of a table the test never wrote) -> "what".
std::string without_location(const std::string& what) {
  const std::string prefix = "control:";
  if (what.rfind(prefix, 0) != 0) return what;
  const auto colon = what.find(": ", prefix.size());
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

// The request's fields beside "request" must be exactly `allowed`.
void only_fields(const Json& j, const std::string& name, const std::vector<std::string_view>& allowed) {
  for (const auto& [key, value] : j.items()) {
    if (key == "request" || std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    throw InputError(fmt::format("{}: unknown field \"{}\" (expected: request{}{})", name, key,
                                 allowed.empty() ? "" : ", ", policy_toml::joined(allowed)));
  }
}

const Json& required_field(const Json& j, const std::string& name, const char* key, std::string_view example) {
  if (!j.contains(key)) throw InputError(fmt::format("{}: missing \"{}\", e.g. {}", name, key, example));
  return j.at(key);
}

FaultRule read_fault_request(const Json& j, const std::string& name, Millis timeout) {
  only_fields(j, name, {"fault"});
  const Json& fault = required_field(j, name, "fault", R"({"segment": "data", "from": "server", "action": "drop"})");
  if (!fault.is_object()) throw InputError(fmt::format("{}: \"fault\" must be an object of [[fault]] keys", name));
  const std::string file = "control";
  const policy_toml::Problems problems(file);
  try {
    FaultRule rule = policy_toml::read_fault(toml_table(fault, "fault"), problems, timeout);
    rule.line = 0;  // from the test, not a policy file
    if (rule.window) rule.window->line = 0;
    return rule;
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", name, without_location(e.what())));
  }
}

Link read_link_request(const Json& j, const std::string& name) {
  only_fields(j, name, {"link"});
  const Json& link = required_field(j, name, "link", R"({"latency": "50ms"})");
  if (!link.is_object()) throw InputError(fmt::format("{}: \"link\" must be an object of [link] keys", name));
  const std::string file = "control";
  const policy_toml::Problems problems(file);
  try {
    toml::table root;
    root.insert("link", toml_table(link, "link"));
    const policy_toml::TableReader reader(root, "", {"link"}, problems);
    Link out = *policy_toml::read_link(reader);
    out.line = 0;
    return out;
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", name, without_location(e.what())));
  }
}

std::size_t read_id(const Json& j, const std::string& name) {
  only_fields(j, name, {"id"});
  const Json& id = required_field(j, name, "id", R"({"request": "fault remove", "id": 2})");
  if (!id.is_number_integer() || id.get<std::int64_t>() < 1)
    throw InputError(fmt::format("{}: \"id\" must be a fault's number (1 or more), as fault add answered", name));
  return id.get<std::size_t>();
}

std::string read_mark(const Json& j, const std::string& name) {
  only_fields(j, name, {"text"});
  const Json& text = required_field(j, name, "text", R"({"request": "mark", "text": "second request"})");
  if (!text.is_string() || text.get<std::string>().empty())
    throw InputError(fmt::format("{}: \"text\" must be a non-empty string", name));
  return one_line(text.get<std::string>());
}

}  // namespace

ControlRequest parse_control_request(std::string_view line, Millis timeout) {
  if (line.size() > control_line_limit)
    throw InputError(fmt::format("a request of {} bytes: the most is {}", line.size(), control_line_limit));
  Json j;
  try {
    j = Json::parse(line);
  } catch (const Json::exception& e) {
    throw InputError(fmt::format("not JSON: {}", one_line(e.what())));
  }
  if (!j.is_object()) throw InputError("a request is a JSON object, e.g. {\"request\": \"status\"}");
  if (!j.contains("request") || !j.at("request").is_string())
    throw InputError(fmt::format("no \"request\" (one of: {})", policy_toml::joined(request_names)));
  const std::string name = j.at("request").get<std::string>();
  ControlRequest r;
  r.name = name;
  r.given = j;
  if (name == "fault add") r.what = FaultAddRequest{read_fault_request(j, name, timeout)};
  else if (name == "fault remove") r.what = FaultRemoveRequest{read_id(j, name)};
  else if (name == "link set") r.what = LinkSetRequest{read_link_request(j, name)};
  else if (name == "mark") r.what = MarkRequest{read_mark(j, name)};
  else if (name == "status") {
    only_fields(j, name, {});
    r.what = StatusRequest{};
  } else
    throw InputError(fmt::format("unknown request \"{}\" (one of: {})", one_line(name), policy_toml::joined(request_names)));
  return r;
}

namespace {

// "3" -> 3, "0.1" -> 0.1, "true" -> true, anything else its text: what a policy would write.
Json word_value(const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  if (digits && text.size() < 19) return std::stoll(text);
  const bool number = !text.empty() && text.find_first_not_of("0123456789.") == std::string::npos &&
                      std::count(text.begin(), text.end(), '.') == 1 && text != ".";
  if (number) return std::stod(text);
  return text;
}

// KEY=VALUE words into an object; a dotted key (`until.segment=fin`) into a table.
Json key_values(const std::vector<std::string>& words, std::size_t first, const std::string& name) {
  Json out = Json::object();
  for (std::size_t i = first; i < words.size(); ++i) {
    const std::string& w = words[i];
    const auto eq = w.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError(fmt::format("ctl {}: \"{}\" is not KEY=VALUE (e.g. segment=data)", name, w));
    Json* at = &out;
    std::string key = w.substr(0, eq);
    for (auto dot = key.find('.'); dot != std::string::npos; dot = key.find('.')) {
      const std::string table = key.substr(0, dot);
      if (table.empty() || (at->contains(table) && !(*at)[table].is_object()))
        throw InputError(fmt::format("ctl {}: \"{}\": \"{}\" is not a table", name, w, table));
      at = &(*at)[table];
      key = key.substr(dot + 1);
    }
    if (key.empty() || at->contains(key)) throw InputError(fmt::format("ctl {}: \"{}\": key given twice or empty", name, w));
    (*at)[key] = word_value(w.substr(eq + 1));
  }
  return out;
}

}  // namespace

std::string control_request_from_words(const std::vector<std::string>& words) {
  const auto is = [&words](std::string_view a, std::string_view b = {}) {
    return !words.empty() && words[0] == a && (b.empty() || (words.size() > 1 && words[1] == b));
  };
  Json j;
  if (is("fault", "add")) {
    if (words.size() < 3) throw InputError("ctl fault add: give the fault as KEY=VALUE, e.g. segment=data from=server action=drop");
    j = {{"request", "fault add"}, {"fault", key_values(words, 2, "fault add")}};
  } else if (is("fault", "remove")) {
    const bool number = words.size() == 3 && !words[2].empty() && words[2].size() < 10 &&
                        words[2].find_first_not_of("0123456789") == std::string::npos;
    if (!number) throw InputError("ctl fault remove: give one fault number, as fault add printed it (e.g. fault remove 2)");
    j = {{"request", "fault remove"}, {"id", std::stoll(words[2])}};
  } else if (is("link", "set")) {
    j = {{"request", "link set"}, {"link", key_values(words, 2, "link set")}};
  } else if (is("mark")) {
    std::string text;
    for (std::size_t i = 1; i < words.size(); ++i) text += (i > 1 ? " " : "") + words[i];
    if (text.empty()) throw InputError("ctl mark: give the text to mark, e.g. mark \"second request\"");
    j = {{"request", "mark"}, {"text", text}};
  } else if (is("status") && words.size() == 1) {
    j = {{"request", "status"}};
  } else {
    throw InputError(fmt::format("ctl: \"{}\" is not a request (fault add KEY=VALUE..., fault remove ID, link set "
                                 "KEY=VALUE..., mark TEXT, status)",
                                 words.empty() ? std::string() : words[0]));
  }
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string control_reply(bool ok, std::string_view message, const nlohmann::json& fields) {
  Json j = fields.is_object() ? fields : Json::object();
  j["ok"] = ok;
  j["message"] = one_line(message);
  return j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace lastack
