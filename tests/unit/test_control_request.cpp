// The control protocol (`--control`, `lastack ctl`): requests read through the policy's own
// readers, malformed ones refused in one line, `ctl` words into requests, the faults control
// adds switched on and off in the decision engine, and control events through the JSON trace.
#include <catch2/catch.hpp>

#include <sstream>

#include "classified.hpp"
#include "harness/core/decide/control_book.hpp"
#include "harness/core/decide/control_request.hpp"
#include "harness/core/decide/decision.hpp"
#include "harness/core/record/trace_reader.hpp"
#include "lastack/error.hpp"
#include "lastack/trace_jsonl.hpp"

using namespace lastack;
using lastack::test::seg;
using namespace std::chrono_literals;

namespace {

const Millis kTimeout{15000};

ControlRequest parse(const std::string& line) { return parse_control_request(line, kTimeout); }

// The one-line error a malformed request gets.
std::string refusal(const std::string& line) {
  try {
    parse(line);
  } catch (const InputError& e) {
    const std::string what = e.what();
    CHECK(what.find('\n') == std::string::npos);
    return what;
  }
  FAIL("accepted: " << line);
  return {};
}

std::string words_refusal(const std::vector<std::string>& words) {
  try {
    control_request_from_words(words);
  } catch (const InputError& e) {
    return e.what();
  }
  FAIL("accepted");
  return {};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

Instant at(Millis ms) { return Instant(ms); }

}  // namespace

TEST_CASE("control: fault add reads a [[fault]] table with the policy's reader", "[control]") {
  const ControlRequest r = parse(
      R"({"request": "fault add", "fault": {"segment": "data", "from": "server", "action": "drop", "probability": 0.5,
          "window": {"for": "3s"}}})");
  CHECK(r.name == "fault add");
  const auto& add = std::get<FaultAddRequest>(r.what);
  CHECK(add.rule.action == ActionKind::drop);
  CHECK(add.rule.match.segment == Role::data);
  CHECK(add.rule.match.from == SideRef(Side::server));
  CHECK(add.rule.probability == 0.5);
  REQUIRE(add.rule.window);
  CHECK(add.rule.window->length == Millis(3000));
  CHECK(add.rule.line == 0);
}

TEST_CASE("control: the other requests", "[control]") {
  CHECK(std::get<FaultRemoveRequest>(parse(R"({"request": "fault remove", "id": 3})").what).id == 3);
  const auto link = std::get<LinkSetRequest>(
      parse(R"({"request": "link set", "link": {"latency": "50ms", "server-to-client": {"loss": 0.1}}})").what);
  CHECK(link.link.from[Side::client].latency == Millis(50));
  CHECK(link.link.from[Side::server].latency == Millis(50));
  CHECK(link.link.from[Side::server].loss == 0.1);
  CHECK(link.link.from[Side::client].loss == 0);
  CHECK_FALSE(std::get<LinkSetRequest>(parse(R"({"request": "link set", "link": {}})").what).link.active());
  CHECK(std::get<MarkRequest>(parse("{\"request\": \"mark\", \"text\": \"two\\nlines\"}").what).text == "two lines");
  CHECK(std::holds_alternative<StatusRequest>(parse(R"({"request": "status"})").what));
}

TEST_CASE("control: a malformed request is refused in one line that says what is wrong", "[control]") {
  CHECK(contains(refusal("fault add"), "not JSON"));
  CHECK(contains(refusal("[1, 2]"), "a request is a JSON object"));
  CHECK(contains(refusal(R"({"fault": {}})"), "no \"request\" (one of: fault add, fault remove, link set, mark, status)"));
  CHECK(contains(refusal(R"({"request": "fault drop"})"), "unknown request \"fault drop\""));
  CHECK(contains(refusal(R"({"request": "status", "verbose": true})"), "status: unknown field \"verbose\""));
  CHECK(contains(refusal(R"({"request": "fault add"})"), "fault add: missing \"fault\""));
  CHECK(contains(refusal(R"({"request": "fault add", "fault": "drop"})"), "must be an object of [[fault]] keys"));
  // The policy's own words, without a file and line the test never wrote.
  CHECK(refusal(R"({"request": "fault add", "fault": {"segment": "data", "fni": 1, "action": "drop"}})")
            .rfind("fault add: unknown key \"fni\" in [[fault]] (expected one of: segment,", 0) == 0);
  CHECK(refusal(R"({"request": "fault add", "fault": {"segment": "data"}})") ==
        "fault add: missing required key \"action\" in [[fault]] (one of: drop, delay, hold, duplicate, reset)");
  CHECK(contains(refusal(R"({"request": "fault add", "fault": {"segment": "dta", "action": "drop"}})"),
                 "fault add: unknown segment \"dta\""));
  CHECK(contains(refusal(R"({"request": "fault add", "fault": {"action": "drop", "probability": 2}})"),
                 "must be more than 0 and at most 1"));
  CHECK(contains(refusal(R"({"request": "fault add", "fault": {"action": "drop", "nth": null}})"), "fault.nth is null"));
  CHECK(contains(refusal(R"({"request": "fault remove", "id": "2"})"), "fault remove: \"id\" must be a fault's number"));
  CHECK(contains(refusal(R"({"request": "fault remove", "id": 0})"), "fault remove: \"id\" must be a fault's number"));
  CHECK(contains(refusal(R"({"request": "link set", "link": {"rate": "fast"}})"), "link set: rate: \"fast\""));
  CHECK(contains(refusal(R"({"request": "link set", "link": {"latency": 50}})"), "link set: latency = 50 has no unit"));
  CHECK(contains(refusal(R"({"request": "mark", "text": ""})"), "mark: \"text\" must be a non-empty string"));
  CHECK(contains(refusal(std::string(control_line_limit + 1, ' ')), "a request of"));
}

TEST_CASE("control: ctl's words become one request line", "[control]") {
  const auto j = nlohmann::json::parse(control_request_from_words(
      {"fault", "add", "segment=data", "from=server", "action=hold", "until.segment=fin", "deadline=2s", "nth=3",
       "probability=0.5"}));
  CHECK(j["request"] == "fault add");
  CHECK(j["fault"]["until"]["segment"] == "fin");
  CHECK(j["fault"]["nth"] == 3);
  CHECK(j["fault"]["probability"] == 0.5);
  // ... which the run reads back as the policy would.
  const auto request = parse(j.dump());  // kept: the rule is read from inside it
  const auto& rule = std::get<FaultAddRequest>(request.what).rule;
  CHECK(rule.nth == 3);
  CHECK(rule.until->segment == Role::fin);
  CHECK(nlohmann::json::parse(control_request_from_words({"fault", "remove", "4"}))["id"] == 4);
  CHECK(nlohmann::json::parse(control_request_from_words({"link", "set", "server-to-client.loss=0.1", "reorder=false"}))
            ["link"]["server-to-client"]["loss"] == 0.1);
  CHECK(nlohmann::json::parse(control_request_from_words({"mark", "retry", "starts"}))["text"] == "retry starts");
  CHECK(nlohmann::json::parse(control_request_from_words({"status"}))["request"] == "status");
  CHECK(contains(words_refusal({"fault", "add"}), "ctl fault add: give the fault as KEY=VALUE"));
  CHECK(contains(words_refusal({"fault", "add", "segment"}), "\"segment\" is not KEY=VALUE"));
  CHECK(contains(words_refusal({"fault", "add", "a=1", "a=2"}), "given twice"));
  CHECK(contains(words_refusal({"fault", "remove", "two"}), "give one fault number"));
  CHECK(contains(words_refusal({"mark"}), "give the text to mark"));
  CHECK(contains(words_refusal({"status", "now"}), "\"status\" is not a request"));
  CHECK(contains(words_refusal({}), "is not a request"));
}

TEST_CASE("control: replies are one line with ok and a message", "[control]") {
  const std::string reply = control_reply(true, "fault 2 added:\ndrop", {{"id", 2}});
  CHECK(reply.back() == '\n');
  CHECK(reply.find('\n') == reply.size() - 1);
  const auto j = nlohmann::json::parse(reply);
  CHECK(j["ok"] == true);
  CHECK(j["message"] == "fault 2 added: drop");
  CHECK(j["id"] == 2);
  CHECK(nlohmann::json::parse(control_reply(false, "no"))["ok"] == false);
}

TEST_CASE("control: only a fault control added, and still on, can be removed", "[control]") {
  ControlBook book(2);  // the policy has faults 1 and 2
  book.added(2, at(1s));
  CHECK(book.removable(3) == 2);
  CHECK(contains(words_refusal({}), "not a request"));
  const auto refused = [&book](std::size_t id) {
    try {
      book.removable(id);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(refused(1) == "fault remove: fault 1 is the policy's own; only a fault added by control can be removed");
  CHECK(refused(4) == "fault remove: there is no fault 4 (the run has 3)");
  CHECK(book.active() == 1);
  book.removed(2, at(2s));
  CHECK(book.active() == 0);
  CHECK(refused(3) == "fault remove: fault 3 was removed already, at 2.000 s");
}

TEST_CASE("control: a fault added acts from its add until its remove, and counts from then", "[control]") {
  FaultRule first;  // the policy's: the 1st syn
  first.match.segment = Role::syn;
  first.count = 1;
  DecisionEngine engine({first});
  FaultRule drop;
  drop.match.segment = Role::data;
  drop.match.from = Side::server;
  drop.nth = 2;
  CHECK_FALSE(engine.decide(1, seg(Role::data, Side::server), at(100ms)).fault);  // before the add: not counted
  const std::size_t index = engine.add_fault(drop, at(1s));
  CHECK(index == 1);
  CHECK(engine.rules().size() == 2);
  CHECK_FALSE(engine.decide(2, seg(Role::data, Side::server), at(1s)).fault);       // match 1
  CHECK(engine.decide(3, seg(Role::data, Side::server), at(1100ms)).fault == index);  // match 2 and on
  CHECK_FALSE(engine.decide(4, seg(Role::data, Side::client), at(1200ms)).fault);
  engine.remove_fault(index, at(2s));
  CHECK(engine.decide(5, seg(Role::data, Side::server), at(1999ms)).fault == index);
  CHECK_FALSE(engine.decide(6, seg(Role::data, Side::server), at(2s)).fault);  // from the remove on: off
  CHECK(engine.decide(7, seg(Role::syn, Side::client), at(3s)).fault == std::size_t{0});  // the policy's still on
}

TEST_CASE("control events survive the JSON trace with their fault and request", "[control][trace-reader]") {
  Trace trace;
  trace.policy = "controlled";
  LabEvent added;
  added.at = at(1500ms);
  added.kind = LabEventKind::fault_added;
  added.what = "control: fault 1 added: drop every data from server";
  added.fault = 0;
  added.request = nlohmann::json::parse(R"({"request": "fault add", "fault": {"segment": "data", "action": "drop"}})").dump();
  LabEvent mark;
  mark.at = at(2s);
  mark.kind = LabEventKind::mark;
  mark.what = "control: mark: retry";
  mark.request = R"({"request":"mark","text":"retry"})";
  trace.events = {added, mark};
  std::stringstream out;
  write_jsonl(trace, {}, out);
  CHECK(contains(out.str(), R"("kind":"fault-added")"));
  CHECK(contains(out.str(), R"("request":{"fault":{"action":"drop","segment":"data"},"request":"fault add"})"));
  const Trace back = read_trace_jsonl(out, "t.jsonl");
  REQUIRE(back.events.size() == 2);
  const auto& a = std::get<LabEvent>(back.events[0]);
  CHECK(a.kind == LabEventKind::fault_added);
  CHECK(a.fault == std::size_t{0});
  CHECK(a.request == added.request);
  CHECK(a.at == at(1500ms));
  CHECK(std::get<LabEvent>(back.events[1]).kind == LabEventKind::mark);
  // Written again, byte for byte.
  std::stringstream again;
  write_jsonl(back, {}, again);
  CHECK(again.str() == out.str());
}
