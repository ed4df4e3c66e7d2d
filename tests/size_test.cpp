// `capsim size`: the GPUs a request rate needs, with values worked by hand.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "run_process.hpp"

using capsim::test::Process;
using capsim::test::ProcessResult;
using capsim::test::ScratchDir;

namespace {

ProcessResult size(std::vector<std::string> args) {
  const ScratchDir dir("size");
  args.insert(args.begin(), "size");
  Process p(args, dir.path());
  return p.wait(std::chrono::seconds(120));
}

std::string g(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", x);
  return buffer;
}

// 2 requests/s of 2000 input tokens at 4000/s and 50 output tokens at 100/s:
// 1 s per request, A = 2.
const std::vector<std::string> kTwo = {"--rate",          "2",  "--input-tokens", "2000",
                                       "--output-tokens", "50", "--input-tps",    "4000",
                                       "--output-tps",    "100"};

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

TEST_CASE("cli: size gives the servers, the probability of waiting and the waits", "[cli][size]") {
  SECTION("P(wait) <= 0.2 at A = 2: 4 H100e") {
    // C(3, 2) = 4/9 > 0.2; C(4, 2) = 4/23 = 0.1739 (tests/engine_test.cpp
    // shows the recurrence). Given a wait, W is exponential with rate c - A
    // = 2 per second: mean (4/23) / 2 s; the q-quantile is ln(C / (1 - q)) /
    // 2 when C > 1 - q, else 0.
    const ProcessResult r = size(with(kTwo, {"--max-wait-probability", "0.2"}));
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    const double C = 4.0 / 23.0;
    CHECK(r.out.find("load            2 H100e busy on average") != std::string::npos);
    CHECK(r.out.find("GPUs needed     4 H100e (exact staffing)") != std::string::npos);
    CHECK(r.out.find("utilization     0.5\n") != std::string::npos);
    CHECK(r.out.find("P(wait)         " + g(C) + "\n") != std::string::npos);
    CHECK(r.out.find("mean wait       " + g(C / 2) + " s") != std::string::npos);
    const std::string waits = "0 " + g(std::log(C / 0.1) / 2) + " " + g(std::log(C / 0.05) / 2) +
                              " " + g(std::log(C / 0.01) / 2) + " s";
    CHECK(r.out.find("wait p50 p90 p95 p99  " + waits) != std::string::npos);
  }
  SECTION("--gpus 3 evaluates three") {
    const ProcessResult r = size(with(kTwo, {"--max-wait-probability", "0.2", "--gpus", "3"}));
    REQUIRE(r.code == 0);
    CHECK(r.out.find("P(wait)         " + g(4.0 / 9.0) + "\n") != std::string::npos);
    CHECK(r.out.find("utilization     " + g(2.0 / 3.0)) != std::string::npos);
  }
  SECTION("a percentile: p90 wait <= 2 s takes 3, (4/9) e^-2 = 0.060") {
    const ProcessResult r = size(with(kTwo, {"--wait-percentile", "0.9", "--max-wait-s", "2"}));
    REQUIRE(r.code == 0);
    CHECK(r.out.find("GPUs needed     3 H100e") != std::string::npos);
    CHECK(r.out.find("P(wait > 2 s) " + g(4.0 / 9.0 * std::exp(-2.0))) != std::string::npos);
  }
  SECTION("Allen-Cunneen: waits x (3^2 + 1^2) / 2 = 5 take 4") {
    const ProcessResult r =
        size(with(kTwo, {"--wait-percentile", "0.9", "--max-wait-s", "2", "--arrival-cv", "3"}));
    REQUIRE(r.code == 0);
    CHECK(r.out.find("waits x 5") != std::string::npos);
    CHECK(r.out.find("GPUs needed     4 H100e") != std::string::npos);
  }
  SECTION("SPEC 3.3's large case: C(12421, 12345) = 0.3812") {
    const ProcessResult r =
        size({"--rate", "12345", "--input-tokens", "0", "--output-tokens", "1000", "--output-tps",
              "1000", "--max-wait-probability", "0.5", "--gpus", "12421"});
    REQUIRE(r.code == 0);
    CHECK(r.out.find("P(wait)         0.3812\n") != std::string::npos);
    CHECK(r.out.find("square-root staffing") != std::string::npos);
    CHECK(r.out.find("; exact staffing: ") != std::string::npos);
  }
  SECTION("too few GPUs: unbounded waits") {
    const ProcessResult r = size(with(kTwo, {"--gpus", "2"}));
    REQUIRE(r.code == 0);
    CHECK(r.out.find("waits           unbounded") != std::string::npos);
  }
}

TEST_CASE("cli: size rejects bad options with exit 2", "[cli][size]") {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--input-tokens", "10"},  // no --rate
           with(kTwo, {"--max-wait-probability", "1"}),
           with(kTwo, {"--max-wait-probability", "0.1", "--wait-percentile", "0.9"}),
           {"--rate", "-1", "--output-tokens", "5"},
           {"--rate", "1"},  // no tokens
           with(kTwo, {"--gpus", "2.5"}),
           with(kTwo, {"--peak-factor", "0.5"}),
           with(kTwo, {"stray"}),
       }) {
    const ProcessResult r = size(args);
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK(r.err.find("capsim: error: ") != std::string::npos);
  }
  const ProcessResult r = size({"--rate", "-1", "--output-tokens", "5"});
  CHECK(r.err.find("--rate: expected a number in [0, 1e+09] (got -1)") != std::string::npos);
  CHECK(size({"--help"}).code == 0);
}
