// The step-through page and `lastack lesson` in a real browser (headless Chromium): stepping
// forward and back moves the highlighted segment and the diagram's arrow, nothing errs, nothing
// is fetched; the lesson writes a page per seed claim and asks the interview questions.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "lastack_process.hpp"

using lastack::test::run_lastack;
using lastack::test::run_process;
using lastack::test::TempDir;

namespace {
namespace fs = std::filesystem;

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::size_t count(const std::string& text, const std::string& piece) {
  std::size_t n = 0;
  for (auto at = text.find(piece); at != std::string::npos; at = text.find(piece, at + piece.size())) ++n;
  return n;
}

// Chromium's DOM after loading `url` and running its scripts (its console on stderr).
lastack::test::ProcessOutput dom_of(const std::string& url) {
  return run_process({"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
                      "--dump-dom", url});
}

// The DOM of `page` at `suffix` ("?keys=ArrowRight#step-3"), checked for script errors.
std::string rendered(const fs::path& page, const std::string& suffix = "", bool player = true) {
  const auto browser = dom_of("file://" + page.string() + suffix);
  INFO(page.string() << suffix << "\n" << browser.err);
  REQUIRE(browser.exit_code == 0);
  CHECK(browser.err.find("Uncaught") == std::string::npos);
  CHECK(browser.out.find("data-script-error=\"") == std::string::npos);
  if (player) CHECK(browser.out.find("data-player=\"ready\"") != std::string::npos);
  return browser.out;
}

// The data-seg of every segment the player highlights as the current one.
std::vector<std::string> highlighted(const std::string& dom) {
  static const std::regex now(R"re(<g class="seg [^"]*\bnow\b[^"]*" data-seg="(\d+)")re");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), now); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1]);
  return out;
}

// The attribute `name` of the diagram for `side`.
std::string diagram_attribute(const std::string& dom, const std::string& side, const std::string& name) {
  const std::regex attr("<svg[^>]*class=\"diagram\" data-side=\"" + side + "\"[^>]*" + name + "=\"([^\"]*)\"");
  std::smatch m;
  return std::regex_search(dom, m, attr) ? m[1].str() : "(none)";
}

// The page's step data, as its script reads it.
nlohmann::json play_data(const std::string& page) {
  const std::string open = "<script type=\"application/json\" id=\"play-data\">";
  const auto at = page.find(open);
  REQUIRE(at != std::string::npos);
  const auto begin = at + open.size();
  return nlohmann::json::parse(page.substr(begin, page.find("</script>", begin) - begin));
}

// Nothing a browser would fetch: the only URL is SVG's namespace name.
void check_self_contained(const std::string& page) {
  CHECK(count(page, "http://") == count(page, "xmlns=\"http://www.w3.org/2000/svg\""));
  CHECK(count(page, "https://") == 0);
  CHECK(count(page, "src=") == 0);
  CHECK(count(page, "<link") == 0);
  CHECK(count(page, "@import") == 0);
  CHECK(count(page, "url(") == count(page, "url(#"));
}
}  // namespace

TEST_CASE("step-through: on drop-final-ack's page, → and ← move the highlighted segment and the diagram's arrow",
          "[html][lesson][policy]") {
  const TempDir dir("step-through");
  const fs::path page = dir.path / "dfa.html";
  const auto r = run_lastack({"run", "-q", "drop-final-ack", "--html", page.string()});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  const std::string html = slurp(page);
  check_self_contained(html);
  const nlohmann::json data = play_data(html);
  const auto& steps = data["steps"];
  // The step of the client's FIN: the client goes ESTABLISHED -> FIN_WAIT_1 (it closed), the
  // server ESTABLISHED -> CLOSE_WAIT (the FIN arrived).
  std::size_t k = 0;
  const auto first_fin = [](const nlohmann::json& step) {
    for (const auto& c : step["changes"])
      if (c["side"] == "client" && c["from"] == "ESTABLISHED" && c["to"] == "FIN_WAIT_1") return true;
    return false;
  };
  while (k < steps.size() && !first_fin(steps[k])) ++k;
  INFO(steps.dump());
  REQUIRE(k < steps.size());
  REQUIRE(k > 0);
  REQUIRE(!steps[k]["seg"].is_null());

  // No fragment, no key: the whole run as the page always showed it.
  const std::string whole = rendered(page);
  CHECK(whole.find("data-step=\"all\"") != std::string::npos);
  CHECK(highlighted(whole).empty());

  // A link to step k+1, which is that FIN.
  const std::string at = rendered(page, "#step-" + std::to_string(k + 1));
  CHECK(at.find("data-step=\"" + std::to_string(k + 1) + "\"") != std::string::npos);
  CHECK(highlighted(at) == std::vector<std::string>{std::to_string(steps[k]["seg"].get<int>())});
  CHECK(diagram_attribute(at, "client", "data-edge") == "ESTABLISHED→FIN_WAIT_1");
  CHECK(diagram_attribute(at, "client", "data-now") == "FIN_WAIT_1");
  CHECK(diagram_attribute(at, "server", "data-edge") == "ESTABLISHED→CLOSE_WAIT");
  CHECK(at.find("<g class=\"edge taken\" data-from=\"ESTABLISHED\" data-to=\"FIN_WAIT_1\"") != std::string::npos);

  // One step forward from the one before it (→) lands there too; then ← goes back.
  const std::string forward = rendered(page, "?keys=ArrowRight#step-" + std::to_string(k));
  CHECK(highlighted(forward) == highlighted(at));
  CHECK(diagram_attribute(forward, "client", "data-edge") == "ESTABLISHED→FIN_WAIT_1");
  const std::string back = rendered(page, "?keys=ArrowRight,ArrowLeft#step-" + std::to_string(k));
  CHECK(back.find("data-step=\"" + std::to_string(k) + "\"") != std::string::npos);
  const auto before = highlighted(back);
  CHECK(before.size() <= 1);
  CHECK(before != highlighted(at));
  CHECK(diagram_attribute(back, "client", "data-now") == "ESTABLISHED");
  CHECK(diagram_attribute(back, "client", "data-edge") != "ESTABLISHED→FIN_WAIT_1");
  CHECK(diagram_attribute(back, "server", "data-now") == "ESTABLISHED");
  CHECK(back.find("<g class=\"edge taken\" data-from=\"ESTABLISHED\" data-to=\"FIN_WAIT_1\"") == std::string::npos);
  // Later segments dimmed, earlier ones not.
  CHECK(count(at, "class=\"seg ") == count(at, "<g class=\"seg "));
  CHECK(count(at, " future\" data-seg=") > 0);
}

TEST_CASE("lastack lesson DIR: a page per seed claim and the interview questions as predict-then-see pages",
          "[html][lesson][policy]") {
  const TempDir dir("lesson");
  const fs::path site = dir.path / "site";
  const auto r = run_lastack({"lesson", site.string()});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("[1/") != std::string::npos);  // progress on stderr
  // Every answer is one of its question's choices. The two path questions need issue 20's item 1
  // (the request socket's SYN_RECV band, the orphaned FIN_WAIT_2 band up to TIME_WAIT): without
  // it the server's path starts at SYN_RECV and the client's passes CLOSED between FIN_WAIT_2 and
  // TIME_WAIT, which no choice is (and lastack lesson says so on stderr).
  CHECK(r.err.find("none of the choices") == std::string::npos);

  const std::string index = slurp(site / "index.html");
  check_self_contained(index);
  const std::size_t claims = count(index, "<tr class=\"claim-row\"");
  CHECK(claims >= 12);
  CHECK(count(index, "data-verdict=\"confirmed\"") + count(index, "data-verdict=\"corrected\"") == claims);
  CHECK(rendered(site / "index.html", "", false).find("<tr class=\"claim-row\"") != std::string::npos);
  for (std::size_t i = 1; i <= claims; ++i) {
    const fs::path page = site / ("claim-" + std::to_string(i) + ".html");
    INFO(page);
    REQUIRE(fs::exists(page));
    check_self_contained(slurp(page));
    rendered(page);
  }
  for (const auto& entry : fs::directory_iterator(site / "runs"))
    if (entry.path().extension() == ".html") {
      CHECK(fs::exists(fs::path(entry.path()).replace_extension(".pcapng")));
      CHECK(fs::file_size(fs::path(entry.path()).replace_extension(".pcapng")) > 0);
    }

  // The interview questions: the client after the second wave, and each side's states.
  std::size_t asking = 0;
  bool fin_wait_2 = false, client_path = false;
  for (std::size_t i = 1; fs::exists(site / ("question-" + std::to_string(i) + ".html")); ++i) {
    const fs::path page = site / ("question-" + std::to_string(i) + ".html");
    const std::string html = slurp(page);
    if (count(html, "<section class=\"question\"") == 1) ++asking;
    fin_wait_2 = fin_wait_2 || html.find("data-answer=\"FIN_WAIT_2\" data-correct=\"3\"") != std::string::npos;
    client_path = client_path || html.find("data-answer=\"CLOSED → SYN_SENT → ESTABLISHED → FIN_WAIT_1 → "
                                           "FIN_WAIT_2 → TIME_WAIT\" data-correct=\"1\"") != std::string::npos;
    // Opened at the question: the player pauses there and asks.
    const std::string dom = rendered(page, "#question-1");
    CHECK(dom.find("data-asking=\"1\"") != std::string::npos);
    CHECK(dom.find("<section id=\"ask\" class=\"ask\">") != std::string::npos);  // shown, no longer hidden
  }
  CHECK(asking >= 2);
  CHECK(fin_wait_2);
  CHECK(client_path);
}

TEST_CASE("lastack lesson: a bad lesson file is one line with file:line and exit 2, before any lab", "[lesson]") {
  const TempDir dir("lesson-bad");
  const fs::path file = dir.path / "bad.toml";
  std::ofstream(file) << "title = \"t\"\n[[claim]]\nquote = \"q\"\nverdict = \"maybe\"\npolicies = [\"baseline\"]\n";
  const auto r = run_lastack({"lesson", (dir.path / "site").string(), "--lesson", file.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err == "lastack: " + file.string() + ":4: unknown verdict \"maybe\" (expected one of: confirmed, corrected)\n");
  CHECK(!fs::exists(dir.path / "site"));
  std::ofstream(file) << "title = \"t\"\n[[claim]]\nquote = \"q\"\nverdict = \"confirmed\"\npolicies = [\"no-such\"]\n";
  const auto unknown = run_lastack({"lesson", (dir.path / "site").string(), "--lesson", file.string()});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("no-such") != std::string::npos);
}

TEST_CASE("lastack lesson without root: one line saying so, exit 3, no site", "[lesson][userns]") {
  const TempDir dir("lesson-unprivileged");
  const fs::path site = dir.path / "site";
  auto r = run_process({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", lastack::test::lastack_bin(),
                        "--policy-dir", LASTACK_POLICY_DIR, "lesson", site.string()});
  INFO(r);
  CHECK(r.exit_code == 3);
  CHECK(r.err ==
        "lastack: lesson needs root: each state on its pages is the kernel's tracepoint's word, and without root "
        "they would only be sampled (run it with sudo)\n");
  CHECK(!fs::exists(site));
}
