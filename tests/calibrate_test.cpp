// Tests of request traces and `capsim calibrate` (sim/io/trace.cpp): the
// calibration of the shipped Azure trace against the same statistics
// computed independently in Python (tests/trace_stats.py, pandas), the class
// it writes read back by the scenario loader, and malformed traces reported
// with their line and column.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "capsim/error.hpp"
#include "capsim/io/scenario_loader.hpp"
#include "capsim/io/trace.hpp"
#include "capsim/models/builtin.hpp"
#include "run_process.hpp"

namespace fs = std::filesystem;
using capsim::test::Process;
using capsim::test::ProcessResult;
using capsim::test::ScratchDir;

namespace {

const std::string kTrace =
    std::string(CAPSIM_SOURCE_DIR) + "/../shared/data/azure-llm-inference-code-2023.csv";

ProcessResult capsim_run(const std::vector<std::string>& args, const ScratchDir& dir,
                         const std::string& program = CAPSIM_EXE) {
  Process p(args, dir.path(), program);
  return p.wait(std::chrono::seconds(300));
}

// `name value` lines of tests/trace_stats.py.
std::map<std::string, double> python_stats(const std::string& trace, double window_s,
                                           double input_tps, double output_tps) {
  const ScratchDir dir("trace_stats");
  const ProcessResult r =
      capsim_run({capsim::test::source("tests/trace_stats.py"), trace, std::to_string(window_s),
                  std::to_string(input_tps), std::to_string(output_tps)},
                 dir, "/usr/bin/python3");
  INFO(r.err);
  REQUIRE(r.exited);
  REQUIRE(r.code == 0);
  std::map<std::string, double> values;
  std::istringstream in(r.out);
  std::string name;
  double value = 0.0;
  while (in >> name >> value) values[name] = value;
  return values;
}

// The written class, loaded as part of a scenario that extends it.
capsim::ClassSpec load_class(const fs::path& class_file) {
  const std::string scenario = "extend: " + class_file.string() + R"(
time: {start: 2024-01-01, horizon_months: 1}
skus: {g: {power_kw: 1, capex_usd: 1}}
regions: {r: {power_mw: 1, price_usd_per_kwh: 0.1}}
)";
  static const auto registries = capsim::models::builtin_registries();
  const auto spec = capsim::io::load_scenario_text(scenario, "wrapper.yaml", "/", registries);
  REQUIRE(spec.classes.size() == 1);
  return spec.classes.front();
}

// Relative agreement to the class file's 10 significant digits.
bool same(double written, double expected) {
  return std::fabs(written - expected) <= 1e-9 * std::fabs(expected);
}

std::vector<capsim::Diagnostic> diagnostics_of(const std::string& csv) {
  try {
    capsim::io::parse_trace(csv, "t.csv");
  } catch (const capsim::InputError& e) {
    return e.diagnostics();
  }
  return {};
}

}  // namespace

TEST_CASE("io::calibrate: the shipped trace, against the same statistics in pandas",
          "[io][calibrate]") {
  REQUIRE(fs::exists(kTrace));
  const std::map<std::string, double> py = python_stats(kTrace, 900.0, 5000.0, 1000.0);
  REQUIRE(py.size() == 11);

  SECTION("the library's statistics") {
    capsim::io::CalibrationOptions options;  // 15 min, 5000 and 1000 tokens/s
    const auto c = capsim::io::calibrate(capsim::io::read_trace(kTrace), options);
    CHECK(c.requests == py.at("requests"));
    const std::map<std::string, double> ours = {
        {"duration_s", c.duration_s},           {"rate_per_s", c.rate_per_s},
        {"input_tokens", c.input_tokens},       {"output_tokens", c.output_tokens},
        {"interarrival_cv", c.interarrival_cv}, {"service_s", c.service_s},
        {"service_cv", c.service_cv},           {"load_h100e", c.load_h100e},
        {"peak_to_mean", c.peak_to_mean},       {"busiest_start_s", c.busiest_start_s}};
    for (const auto& [name, value] : ours) {
      INFO(name << ": capsim " << value << ", pandas " << py.at(name));
      CHECK(std::fabs(value - py.at(name)) <= 1e-12 * std::fabs(py.at(name)));
    }
    CHECK_FALSE(c.poisson);  // CV 13: far from Poisson
  }

  SECTION("every value of the class capsim calibrate writes") {
    const ScratchDir dir("calibrate");
    const fs::path out = dir / "code.yaml";
    const ProcessResult r =
        capsim_run({"calibrate", kTrace, "--window", "15m", "--wait-percentile", "0.99",
                    "--max-wait-s", "1", "--class", "code", "-o", out.string()},
                   dir);
    INFO(r.err);
    REQUIRE(r.code == 0);
    const capsim::ClassSpec k = load_class(out);
    CHECK(k.name == "code");
    CHECK(k.kind == capsim::WorkloadKind::inference);
    REQUIRE(k.requests);
    const auto& q = *k.requests;
    CHECK(same(q.rate_per_s, py.at("rate_per_s")));
    CHECK(same(q.input_tokens, py.at("input_tokens")));
    CHECK(same(q.output_tokens, py.at("output_tokens")));
    CHECK(same(q.peak_factor, py.at("peak_to_mean")));
    CHECK(q.queue.model == "allen_cunneen");
    CHECK(same(q.queue.number("arrival_cv"), py.at("interarrival_cv")));
    CHECK(same(q.queue.number("service_cv"), py.at("service_cv")));
    // The options, as given.
    CHECK(q.input_tokens_per_s_per_h100e == 5000.0);
    CHECK(q.output_tokens_per_s_per_h100e == 1000.0);
    CHECK(q.max_wait_s == 1.0);
    CHECK(q.max_wait_probability == Approx(0.01).epsilon(1e-12));
    CHECK(k.base_demand_h100e == 0.0);
    // The summary's figures, and the note that arrivals are far from Poisson.
    CHECK(r.out.find(": 8819 requests from 2023-11-16 18:17:03.9799600 to 2023-11-16 "
                     "19:14:19.9280160 (3435.95 s)") != std::string::npos);
    CHECK(r.out.find("rate: 2.56669 requests/s") != std::string::npos);
    CHECK(r.out.find("inter-arrival CV: 13.15 (Poisson: 1)") != std::string::npos);
    CHECK(r.out.find("note: arrivals are far from Poisson") != std::string::npos);
    // No machine path in the file: only the trace's name.
    const std::string text = capsim::test::read_text(out);
    CHECK(text.find("# azure-llm-inference-code-2023.csv: 8819 requests") != std::string::npos);
    CHECK(text.find(CAPSIM_SOURCE_DIR) == std::string::npos);
  }
}

TEST_CASE("io::calibrate: Poisson arrivals are recognized and get Erlang C", "[io][calibrate]") {
  // 20,000 exponential gaps of mean 0.5 s: CV 1 within sampling error
  // (about 1 / sqrt(20000) = 0.007).
  std::mt19937_64 gen(7);
  std::exponential_distribution<double> gap(2.0);
  std::ostringstream csv;
  csv << "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  double t = 0.0;
  for (int i = 0; i < 20000; ++i) {
    t += gap(gen);
    const auto whole = static_cast<long>(t);
    char line[96];
    std::snprintf(line, sizeof line, "2024-05-01 %02ld:%02ld:%02ld.%06ld,%d,%d\n", whole / 3600,
                  whole / 60 % 60, whole % 60, static_cast<long>((t - whole) * 1e6), 100 + i % 50,
                  10 + i % 7);
    csv << line;
  }
  const auto trace = capsim::io::parse_trace(csv.str(), "poisson.csv");
  const auto c = capsim::io::calibrate(trace, {});
  CHECK(c.requests == 20000);
  CHECK(c.interarrival_cv == Approx(1.0).margin(0.03));
  CHECK(c.poisson);
  CHECK(c.rate_per_s == Approx(2.0).epsilon(0.03));
  CHECK(c.input_tokens == Approx(124.5));  // 100 + the mean of 0 .. 49
  capsim::io::ClassYamlOptions options;
  const std::string yaml = capsim::io::class_yaml(trace, c, options);
  CHECK(yaml.find("queue: {model: erlang_c}") != std::string::npos);
  CHECK(yaml.find("near Poisson's 1") != std::string::npos);
}

TEST_CASE("io::read_trace: malformed traces name the line and column", "[io][calibrate]") {
  const std::string header = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  const std::string good =
      "2023-11-16 18:17:03.9799600,4808,10\n2023-11-16 18:17:04.03,3180,8\n"
      "2023-11-16 18:17:05,110,27\n";
  SECTION("a valid trace, with CRLF line ends and a byte order mark, out of order") {
    const auto t = capsim::io::parse_trace(
        "\xEF\xBB\xBF" + header +
            "2023-11-16 18:17:05,110,27\r\n2023-11-16 18:17:03.9799600,4808,10\r\n"
            "2023-11-16T18:17:04.03,3180,8\r\n",
        "t.csv");
    REQUIRE(t.arrival_s.size() == 3);
    CHECK(t.arrival_s[0] == 0.0);
    CHECK(t.arrival_s[1] == Approx(0.05004));
    CHECK(t.arrival_s[2] == Approx(1.02004));
    CHECK(t.input_tokens == std::vector<double>{4808, 3180, 110});
    CHECK(t.first_timestamp == "2023-11-16 18:17:03.9799600");
  }
  SECTION("bad values: every one reported, with FILE:LINE:COL and the column") {
    const auto d = diagnostics_of(header + good + "2023-11-16 18:17:06,12x,3\n" +
                                  "2023-13-16 18:17:07,1,3\n" + "2023-11-16 18:17:08,1,-3\n" +
                                  "2023-11-16 18:17:09,1\n" + "2023-11-16 18:17:10,1,2,3\n");
    REQUIRE(d.size() == 5);
    CHECK(d[0].format() ==
          "t.csv:5:21: ContextTokens: not a token count (got \"12x\", expected a whole number in "
          "[0, 1e9])");
    CHECK(d[1].format().rfind("t.csv:6:1: TIMESTAMP: not a timestamp (got \"2023-13-16 18:17:07\"",
                              0) == 0);
    CHECK(d[2].format().rfind("t.csv:7:23: GeneratedTokens: not a token count (got \"-3\"", 0) ==
          0);
    CHECK(d[3].format() ==
          "t.csv:8:22: row: wrong number of fields (got 2, expected 3 as in the header)");
    CHECK(d[4].format().rfind("t.csv:9:25: row: wrong number of fields (got 4", 0) == 0);
  }
  SECTION("a missing column, an empty file, too few requests, no duration") {
    auto d = diagnostics_of("TIMESTAMP,ContextTokens\n2023-11-16 18:17:06,1\n");
    REQUIRE(d.size() == 1);
    CHECK(d[0].format().rfind("t.csv:1:1: header: missing column GeneratedTokens", 0) == 0);
    d = diagnostics_of("");
    REQUIRE(d.size() == 1);
    CHECK(d[0].format().rfind("t.csv:1:1: header: no header", 0) == 0);
    d = diagnostics_of(header + "2023-11-16 18:17:06,1,1\n");
    REQUIRE(d.size() == 1);
    CHECK(d[0].message.find("too few requests (got 1, expected at least 3)") != std::string::npos);
    d = diagnostics_of(header +
                       "2023-11-16 18:17:06,1,1\n2023-11-16 18:17:06,1,1\n"
                       "2023-11-16 18:17:06,2,1\n");
    REQUIRE(d.size() == 1);
    CHECK(d[0].message.find("every request has the same time") != std::string::npos);
  }
  SECTION("no more than 20 problems are listed") {
    std::string csv = header;
    for (int i = 0; i < 50; ++i) csv += "x,1,1\n";
    CHECK(diagnostics_of(csv).size() == 21);  // 20 and "30 more problems not shown"
  }
  SECTION("the window must fit in the trace") {
    const auto t = capsim::io::parse_trace(header + good, "t.csv");
    capsim::io::CalibrationOptions options;
    options.window_s = 5.0;  // the trace lasts 1.02 s
    CHECK_THROWS_AS(capsim::io::calibrate(t, options), capsim::InputError);
  }
}

TEST_CASE("cli: calibrate exits 2 on a malformed trace, a missing file or a bad option",
          "[cli][calibrate]") {
  const ScratchDir dir("calibrate_bad");
  {
    std::ofstream bad(dir / "bad.csv");
    bad << "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03,4808,10\n"
           "2023-11-16 18:17:04,31.5,8\n";
  }
  ProcessResult r = capsim_run({"calibrate", (dir / "bad.csv").string()}, dir);
  CHECK(r.code == 2);
  CHECK(r.err.find("bad.csv:3:21: ContextTokens: not a token count (got \"31.5\"") !=
        std::string::npos);
  r = capsim_run({"calibrate", (dir / "missing.csv").string()}, dir);
  CHECK(r.code == 2);
  CHECK(r.err.find("missing.csv: no such file") != std::string::npos);
  r = capsim_run({"calibrate", kTrace, "--window", "2h"}, dir);
  CHECK(r.code == 2);
  CHECK(r.err.find("--window must be longer than 0 and at most the trace's") != std::string::npos);
  r = capsim_run({"calibrate", kTrace, "--window", "fast"}, dir);
  CHECK(r.code == 2);
  CHECK(r.err.find("--window: expected a duration") != std::string::npos);
  r = capsim_run({"calibrate", kTrace, "--max-wait-probability", "0.1", "--wait-percentile", "0.9"},
                 dir);
  CHECK(r.code == 2);
  r = capsim_run({"calibrate", kTrace, "--class", "a b"}, dir);
  CHECK(r.code == 2);
  r = capsim_run({"calibrate", "--help"}, dir);
  CHECK(r.code == 0);
  CHECK(r.out.find("Usage: capsim calibrate TRACE.csv") != std::string::npos);
}

TEST_CASE("io::calibrate: the shipped class is what capsim calibrate writes from the trace",
          "[io][calibrate]") {
  // The command of scenarios/data/README.md.
  const ScratchDir dir("calibrate_shipped");
  const fs::path out = dir / "class.yaml";
  const ProcessResult r = capsim_run(
      {"calibrate",
       kTrace,
       "--window",
       "15m",
       "--input-tps",
       "5000",
       "--output-tps",
       "1000",
       "--wait-percentile",
       "0.99",
       "--max-wait-s",
       "1",
       "--note",
       "Source: Azure/AzurePublicDataset, data/AzureLLMInferenceTrace_code.csv (Azure LLM "
       "inference trace 2023).",
       "--note",
       "License: Creative Commons Attribution 4.0 International (CC BY 4.0).",
       "--note",
       "Attribution: Pratyush Patel, Esha Choukse, Chaojie Zhang, Aashaka Shah, Inigo Goiri,",
       "--note",
       "Saeed Maleki, Ricardo Bianchini. \"Splitwise: Efficient generative LLM inference using",
       "--note",
       "phase splitting\", ISCA 2024.",
       "-o",
       out.string(),
       "--quiet"},
      dir);
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(capsim::test::read_text(out) == capsim::test::read_text(capsim::test::source(
                                            "scenarios/data/azure-llm-code-2023-class.yaml")));
}
