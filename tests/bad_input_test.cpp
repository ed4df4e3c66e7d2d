// The bad-input corpus (tests/bad/, see its README.md) and hostile documents
// generated here: every case must end with exit code 2 and its message,
// without a crash or a hang and without leaving an output file.
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "run_process.hpp"

namespace fs = std::filesystem;
using capsim::test::entries_of;
using capsim::test::Process;
using capsim::test::ScratchDir;

namespace {

// A guard against hangs only, not a speed test: the slowest case (a hundred
// thousand unknown keys) takes about a second of CPU time on a busy 2-core
// machine and a few seconds under the sanitizers; anything near a minute
// is a hang. How fast documents are refused is measured in bench/.
constexpr double kWallSecondsLimit = 60.0;

struct BadCase {
  std::string name;
  fs::path scenario;
  std::string expect;  // a fragment of the message
};

// "# expect: FRAGMENT" on the first line of the case's scenario.
std::string expected_fragment(const fs::path& scenario) {
  std::ifstream in(scenario, std::ios::binary);
  std::string line;
  std::getline(in, line);
  const std::string prefix = "# expect: ";
  return line.rfind(prefix, 0) == 0 ? line.substr(prefix.size()) : std::string();
}

std::vector<BadCase> corpus() {
  const fs::path dir = fs::path(CAPSIM_SOURCE_DIR) / "tests" / "bad";
  std::vector<BadCase> cases;
  for (const auto& e : fs::directory_iterator(dir)) {
    const fs::path p = e.path();
    if (e.is_directory())
      cases.push_back({p.filename().string(), p / "main.yaml", expected_fragment(p / "main.yaml")});
    else if (p.extension() == ".yaml")
      cases.push_back({p.filename().string(), p, expected_fragment(p)});
  }
  std::sort(cases.begin(), cases.end(),
            [](const BadCase& a, const BadCase& b) { return a.name < b.name; });
  return cases;
}

// Runs `capsim run CASE -o DIR/out.h5` with a fresh DIR and checks the
// contract; returns the CPU time (reported, not checked).
double check_rejected(const BadCase& c) {
  INFO("case " << c.name << " (" << c.scenario.string() << ")");
  REQUIRE_FALSE(c.expect.empty());
  const ScratchDir output("bad_out");
  const ScratchDir logs("bad_log");
  Process process({"run", c.scenario.string(), "-o", (output / "out.h5").string(), "--quiet"},
                  logs.path());
  const auto r = process.wait(std::chrono::seconds(120));
  INFO("stderr: " << r.err.substr(0, 2000));
  CHECK(r.exited);
  CHECK(r.signal == 0);
  CHECK(r.code == 2);
  CHECK(r.err.find(c.expect) != std::string::npos);
  CHECK(entries_of(output.path()).empty());
  CHECK(r.seconds < kWallSecondsLimit);
  return r.cpu_seconds;
}

}  // namespace

TEST_CASE("bad input: the tests/bad corpus", "[bad]") {
  const auto cases = corpus();
  CHECK(cases.size() >= 40);
  double slowest = 0;
  std::string slowest_name;
  for (const auto& c : cases) {
    const double seconds = check_rejected(c);
    if (seconds > slowest) {
      slowest = seconds;
      slowest_name = c.name;
    }
  }
  WARN(cases.size() << " cases; slowest " << slowest_name << " in " << slowest << " s of CPU time");
}

TEST_CASE("bad input: hostile documents generated at test time", "[bad]") {
  const ScratchDir dir("bad_gen");
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name, std::ios::binary) << text;
    return dir / name;
  };

  SECTION("an empty file") {
    check_rejected({"empty", write("empty.yaml", ""), "empty document"});
  }
  SECTION("a 100 MB file is refused by its size, before it is read") {
    const fs::path big = dir / "big.yaml";
    {
      std::ofstream out(big, std::ios::binary);
      out << "name: big\ndescription: \"";
      const std::string block(std::size_t{1} << 20, 'a');
      for (int i = 0; i < 100; ++i) out << block;
      out << "\"\n";
    }
    check_rejected({"100 MB", big, "file too large (got 104857"});
  }
  SECTION("nesting ten thousand levels deep, in block and in flow style") {
    std::string block;
    for (int level = 0; level < 10000; ++level) block += "- ";
    block += "x\n";
    check_rejected({"deep block", write("deep-block.yaml", block), "nested deeper than 64 levels"});
    const std::string flow = "name: " + std::string(100000, '[') + std::string(100000, ']') + "\n";
    check_rejected({"deep flow", write("deep-flow.yaml", flow), "nested deeper than 64 levels"});
  }
  SECTION("a directory given as the scenario") {
    check_rejected({"directory", dir.path(), "is a directory (expected a YAML file)"});
  }
  SECTION("a FIFO with no writer, and a device: refused, not waited on") {
    const fs::path fifo = dir / "fifo.yaml";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    check_rejected({"fifo", fifo, "cannot read scenario: not a regular file"});
    check_rejected({"device", "/dev/zero", "cannot read scenario: not a regular file"});
  }
  SECTION("a missing file") {
    check_rejected({"missing", dir / "no-such.yaml", "cannot read scenario: no such file"});
  }
  SECTION("thousands of regions") {
    std::string text = "time: {start: 2024-01-01}\nskus: {g: {power_kw: 1, capex_usd: 1}}\n";
    text += "classes: {c: {kind: inference, base_demand_h100e: 1}}\nregions:\n";
    for (int r = 0; r < 5000; ++r)
      text += "  r" + std::to_string(r) + ": {power_mw: 1, price_usd_per_kwh: 0.1}\n";
    check_rejected({"regions", write("regions.yaml", text),
                    "regions: too many regions (got 5000, expected at most 1000)"});
  }
  SECTION("a hundred thousand unknown keys: the first hundred and a count") {
    std::string text;
    for (int k = 0; k < 100000; ++k) text += "key" + std::to_string(k) + ": 1\n";
    const fs::path file = write("keys.yaml", text);
    check_rejected({"keys", file, "more errors not shown"});
  }
}
