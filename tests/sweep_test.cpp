// Sweeps: --vary parsing, grid/lhs/random points, common random numbers,
// and the scale-out features of the executable (shards and merge, MPI,
// resume after SIGKILL, SIGINT), compared dataset by dataset.
#include <hdf5.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "capsim/engine.hpp"
#include "capsim/error.hpp"
#include "capsim/io/scenario_loader.hpp"
#include "capsim/io/sweep_output.hpp"
#include "capsim/study/sweep.hpp"
#include "hdf5_datasets.hpp"
#include "run_process.hpp"

namespace fs = std::filesystem;
using capsim::sweep::Axis;
using capsim::sweep::Definition;
using capsim::test::Process;
using capsim::test::ProcessResult;
using capsim::test::read_datasets;
using capsim::test::require_identical;
using capsim::test::ScratchDir;
using capsim::test::source;

namespace {

const capsim::models::ModelRegistries& registries() {
  static const auto r = capsim::models::builtin_registries();
  return r;
}

ProcessResult run_capsim(const std::vector<std::string>& args, double timeout_s = 300) {
  const ScratchDir logs("sweep_log");
  Process process(args, logs.path());
  return process.wait(std::chrono::duration<double>(timeout_s));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::string line;
  for (const char c : text) {
    if (c == '\n') {
      lines.push_back(line);
      line.clear();
    } else {
      line += c;
    }
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A sweep of the two-region test scenario: 4 x 3 grid points of 6 months.
std::vector<std::string> grid_sweep(const std::string& out, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"sweep",   source("tests/scenarios/two-regions.yaml"),
                                   "--paths", "150",
                                   "--set",   "time.horizon_months=6",
                                   "--vary",  "classes.chat.growth.rate=0.2,0.5,0.8,1.1",
                                   "--vary",  "procurement.orders.0.count=linspace:0:1000:3",
                                   "--quiet", "-o",
                                   out};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// A sensitivity sweep of the two-region test scenario (3 months): the first
// order's count dominates total spend (each H100 costs US$50,000 of capex),
// the yen moves it a little (electricity is priced in yen), and the chat
// class's revenue per GPU-hour does not enter it at all.
std::vector<std::string> sensitivity_sweep(const std::string& method, const std::string& out,
                                           const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"sweep",    source("tests/scenarios/two-regions.yaml"),
                                   "--method", method,
                                   "--paths",  "40",
                                   "--vary",   "procurement.orders.0.count=0:2000",
                                   "--vary",   "classes.chat.revenue_usd_per_h100e_gpuh=1.0:3.0",
                                   "--vary",   "finance.usdjpy=140:160",
                                   "--quiet",  "-o",
                                   out};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

constexpr std::size_t kCount = 0, kRevenue = 1, kYen = 2;  // input order

// Measure `name` of target `target` for input `input`.
double measure(const capsim::sensitivity::Result& r, const std::string& name,
               const std::string& target, std::size_t input) {
  const auto* m = r.find(name);
  REQUIRE(m != nullptr);
  const auto t = std::find(r.targets.begin(), r.targets.end(), target) - r.targets.begin();
  REQUIRE(t < static_cast<std::ptrdiff_t>(r.targets.size()));
  return m->values(t, static_cast<Eigen::Index>(input));
}

int rank_of(const capsim::sensitivity::Result& r, const std::string& target, std::size_t input) {
  const auto t = std::find(r.targets.begin(), r.targets.end(), target) - r.targets.begin();
  REQUIRE(t < static_cast<std::ptrdiff_t>(r.targets.size()));
  return r.rank(t, static_cast<Eigen::Index>(input));
}

// Each sweep of `scenario` with 10 paths and the extra arguments exits 2
// with the message, and prints nothing on stdout.
void check_refused(const std::string& scenario,
                   const std::vector<std::pair<std::vector<std::string>, std::string>>& cases) {
  for (const auto& [extra, message] : cases) {
    std::vector<std::string> args = {"sweep", scenario, "--paths", "10"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = run_capsim(args);
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK(has(r.err, message));
    CHECK(r.out.empty());
  }
}

}  // namespace

TEST_CASE("sweep: --vary key.path=SPEC is parsed into values", "[sweep]") {
  SECTION("a list, with commas inside brackets kept") {
    const Axis a = capsim::sweep::parse_axis("classes.chat.growth={model: exponential, rate: 1},x");
    CHECK(a.kind == Axis::Kind::list);
    CHECK(a.key == "classes.chat.growth");
    CHECK(a.values == std::vector<std::string>{"{model: exponential, rate: 1}", "x"});
  }
  SECTION("linspace gives evenly spaced numbers and ends exactly at hi") {
    const Axis a = capsim::sweep::parse_axis("k=linspace:0.5:1.5:5");
    CHECK(a.kind == Axis::Kind::linspace);
    CHECK(a.values == std::vector<std::string>{"0.5", "0.75", "1", "1.25", "1.5"});
    CHECK(capsim::sweep::parse_axis("k=linspace:0.1:0.3:3").values.back() == "0.3");
    CHECK(capsim::sweep::parse_axis("k=linspace:7:7:1").values == std::vector<std::string>{"7"});
  }
  SECTION("a range, of whole numbers when both ends are") {
    const Axis r = capsim::sweep::parse_axis("k=0.5:2");
    CHECK(r.kind == Axis::Kind::range);
    CHECK(r.lo == 0.5);
    CHECK(r.hi == 2.0);
    CHECK_FALSE(r.integer);
    CHECK(capsim::sweep::parse_axis("k=10:100").integer);
  }
  SECTION("bad arguments name the argument") {
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"k", "expected key.path=SPEC"},
        {"=1,2", "expected key.path=SPEC"},
        {"k=", "empty SPEC"},
        {"k=linspace:1:2", "bad linspace"},
        {"k=linspace:a:2:3", "bad linspace"},
        {"k=linspace:1:2:0", "empty linspace"},
        {"k=linspace:1:1:4", "empty range"},
        {"k=3:1", "empty range"},
        {"k=2:2", "empty range"},
        {"k=1,,2", "empty value at position 2"},
    };
    for (const auto& [argument, message] : bad) {
      INFO(argument);
      try {
        capsim::sweep::parse_axis(argument);
        FAIL("accepted");
      } catch (const capsim::InputError& e) {
        CHECK(has(e.what(), "--vary '" + argument + "'"));
        CHECK(has(e.what(), message));
      }
    }
  }
}

TEST_CASE("sweep: grid, Latin hypercube and random points", "[sweep]") {
  Definition d;
  d.seed = 7;
  SECTION("a grid is the product of the lists, the last axis fastest") {
    d.axes = {capsim::sweep::parse_axis("a=1,2"), capsim::sweep::parse_axis("b=x,y,z")};
    const auto points = capsim::sweep::make_points(d);
    REQUIRE(points.size() == 6);
    CHECK(points[0] == std::vector<std::string>{"1", "x"});
    CHECK(points[2] == std::vector<std::string>{"1", "z"});
    CHECK(points[3] == std::vector<std::string>{"2", "x"});
    CHECK(points[5] == std::vector<std::string>{"2", "z"});
  }
  SECTION("lhs puts exactly one point in every stratum of every axis") {
    const int n = 64;
    d.method = "lhs";
    d.samples = n;
    d.axes = {capsim::sweep::parse_axis("a=0:64.0"), capsim::sweep::parse_axis("b=1:64"),
              capsim::sweep::parse_axis("c=p,q,r,s")};
    const auto points = capsim::sweep::make_points(d);
    REQUIRE(points.size() == static_cast<std::size_t>(n));
    std::set<long> strata_a, whole_b;
    std::map<std::string, int> picks_c;
    for (const auto& p : points) {
      const double x = std::stod(p[0]);
      CHECK(x > 0.0);
      CHECK(x <= 64.0);
      strata_a.insert(static_cast<long>(std::ceil(x)) - 1);  // stratum s is (s, s+1]
      CHECK(p[1].find('.') == std::string::npos);            // whole numbers
      whole_b.insert(std::stol(p[1]));
      ++picks_c[p[2]];
    }
    CHECK(strata_a.size() == static_cast<std::size_t>(n));
    CHECK(whole_b.size() == static_cast<std::size_t>(n));  // 1..64, each once
    CHECK(*whole_b.begin() == 1);
    CHECK(*whole_b.rbegin() == 64);
    for (const auto& [value, count] : picks_c) CHECK(count == n / 4);  // stratified
    // A pure function of the definition; another seed gives other points.
    CHECK(capsim::sweep::make_points(d) == points);
    d.seed = 8;
    CHECK(capsim::sweep::make_points(d) != points);
  }
  SECTION("random points stay in the range") {
    d.method = "random";
    d.samples = 200;
    d.axes = {capsim::sweep::parse_axis("a=-1:1")};
    double lo = 1, hi = -1;
    for (const auto& p : capsim::sweep::make_points(d)) {
      lo = std::min(lo, std::stod(p[0]));
      hi = std::max(hi, std::stod(p[0]));
    }
    CHECK(lo >= -1.0);
    CHECK(hi <= 1.0);
    CHECK(hi - lo > 1.8);  // 200 uniform draws cover most of [-1, 1]
  }
  SECTION("combinations that cannot work are refused") {
    d.axes = {capsim::sweep::parse_axis("a=0:1")};
    CHECK_THROWS_WITH(d.check(), Catch::Contains("needs --method lhs, random"));
    d.method = "lhs";
    CHECK_THROWS_WITH(d.check(), Catch::Contains("needs --samples"));
    d.samples = 10;
    d.axes.push_back(capsim::sweep::parse_axis("a=1,2"));
    CHECK_THROWS_WITH(d.check(), Catch::Contains("already varied"));
    d.axes.pop_back();
    d.method = "grid";
    d.axes = {capsim::sweep::parse_axis("a=1,2")};
    CHECK_THROWS_WITH(d.check(), Catch::Contains("--samples applies to"));
    CHECK_NOTHROW(capsim::sweep::parse_shard("3/3"));
    CHECK_THROWS_WITH(capsim::sweep::parse_shard("4/3"), Catch::Contains("--shard"));
    CHECK_THROWS_WITH(capsim::sweep::parse_shard("0/3"), Catch::Contains("--shard"));
  }
}

TEST_CASE("sweep: each point equals a run with the same --set (common random numbers)", "[sweep]") {
  const std::string scenario = source("tests/scenarios/two-regions.yaml");
  Definition d;
  d.axes = {capsim::sweep::parse_axis("classes.chat.growth.rate=0.2,1.4"),
            capsim::sweep::parse_axis("finance.budget_usd=1.5e8,3e8")};
  d.paths = 300;
  d.seed = 11;
  const auto base = capsim::io::load_scenario(scenario, registries());
  auto table = capsim::sweep::make_table(base, scenario, d, capsim::sweep::make_points(d));
  capsim::sweep::SingleProcess comm;
  capsim::sweep::ExecuteOptions options;
  options.threads = 2;
  const std::vector<std::int64_t> todo = {0, 1, 2, 3};
  const auto computed = capsim::sweep::execute(
      table, todo,
      [&](std::int64_t p) {
        return capsim::io::load_scenario(
            scenario, registries(),
            capsim::sweep::point_overrides(d, table.values[static_cast<std::size_t>(p)]));
      },
      registries(), comm, options);
  CHECK(computed == 4);
  CHECK(table.points_done() == 4);
  for (std::int64_t p = 0; p < 4; ++p) {
    INFO("point " << p);
    const auto spec = capsim::io::load_scenario(
        scenario, registries(),
        capsim::sweep::point_overrides(d, table.values[static_cast<std::size_t>(p)]));
    capsim::RunOptions run_options;
    run_options.paths = 300;
    run_options.seed = 11;
    run_options.has_seed = true;
    const auto run = capsim::run(spec, registries(), run_options);
    for (Eigen::Index j = 0; j < 4; ++j)
      CHECK((table.stats.row(p).segment(j * table.columns, table.columns) ==
             run.key_figure_stats.row(j))
                .all());
    CHECK(table.prob_over_budget[p] == run.prob_over_budget);
  }
  // Points 0 and 1 share the growth rate and differ in budget: with common
  // random numbers their demand is identical, path for path, so its mean and
  // quantiles are equal; points 0 and 2 differ in growth, and so in demand.
  for (const auto& info : table.key_figures) {
    if (info.name != "demand_h100e_gpuh") continue;
    for (Eigen::Index j = 0; j < 4; ++j) {
      const Eigen::Index c = j * table.columns + info.offset;  // class chat
      CHECK(table.stats(0, c) == table.stats(1, c));
      CHECK(table.stats(0, c) < table.stats(2, c));
    }
  }
}

TEST_CASE("sweep: shards 1/3, 2/3 and 3/3 merged equal the whole sweep", "[sweep][cli]") {
  const ScratchDir dir("sweep_shards");
  const std::string whole = (dir / "whole.h5").string();
  auto r = run_capsim(grid_sweep(whole, {"--csv", (dir / "whole.csv").string()}));
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(has(r.err, "common random numbers"));
  CHECK(lines_of(r.out).size() == 2 + 12);  // header, rule, one line per point
  std::vector<std::string> merge = {"merge"};
  for (int i = 1; i <= 3; ++i) {
    const std::string part = (dir / ("part" + std::to_string(i) + ".h5")).string();
    r = run_capsim(grid_sweep(part, {"--shard", std::to_string(i) + "/3"}));
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(lines_of(r.out).size() == 2 + 4);
    merge.push_back(part);
  }
  {
    // Two shards do not make the whole sweep.
    r = run_capsim({"merge", merge[1], merge[2], "-o", (dir / "two.h5").string()});
    CHECK(r.code == 2);
    CHECK(has(r.err, "4 of 12 points are in none of the parts"));
  }
  const std::string merged = (dir / "merged.h5").string();
  merge.insert(merge.end(), {"-o", merged, "--csv", (dir / "merged.csv").string()});
  r = run_capsim(merge);
  INFO(r.err);
  REQUIRE(r.code == 0);
  require_identical(whole, merged);
  CHECK(capsim::test::read_text(dir / "whole.csv") == capsim::test::read_text(dir / "merged.csv"));

  // A part of another sweep (other paths) is refused.
  const std::string other = (dir / "other.h5").string();
  auto args = grid_sweep(other, {"--shard", "1/3"});
  args[3] = "120";
  REQUIRE(run_capsim(args).code == 0);
  r = run_capsim({"merge", merge[1], other, merge[3], "-o", (dir / "bad.h5").string()});
  CHECK(r.code == 2);
  CHECK(has(r.err, "different sweep"));
  CHECK_FALSE(fs::exists(dir / "bad.h5"));
  // So is a file that is not a sweep.
  r = run_capsim({"merge", source("tests/scenarios/two-regions.yaml"), "-o", "x.h5"});
  CHECK(r.code == 2);
  CHECK(has(r.err, "not an HDF5 file"));
}

TEST_CASE("sweep: mpirun -np 2 gives the datasets of the single-process sweep",
          "[sweep][cli][mpi]") {
  const auto version = run_capsim({"--version"});
  if (!has(version.out, "(with MPI)") || std::system("command -v mpirun >/dev/null 2>&1") != 0) {
    WARN("capsim was built without MPI or mpirun is missing; the MPI test is skipped");
    return;
  }
  // Open MPI's own allocations are not ours to check for leaks: for the
  // processes this test starts, not for later tests.
  struct LeakChecksOff {
    std::string old;
    bool had = false;
    LeakChecksOff() {
      if (const char* v = std::getenv("ASAN_OPTIONS")) {
        old = v;
        had = true;
      }
      ::setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
    }
    ~LeakChecksOff() {
      if (had)
        ::setenv("ASAN_OPTIONS", old.c_str(), 1);
      else
        ::unsetenv("ASAN_OPTIONS");
    }
  } leak_checks_off;
  const ScratchDir dir("sweep_mpi");
  const ScratchDir logs("sweep_mpi_log");
  const auto mpirun = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--allow-run-as-root", "--oversubscribe", "-np", "2", CAPSIM_EXE});
    const std::string mpirun_path = "/usr/bin/mpirun";
    Process process(args, logs.path(), mpirun_path);
    return process.wait(std::chrono::seconds(300));
  };
  SECTION("points spread across the ranks") {
    const std::string single = (dir / "single.h5").string(), mpi = (dir / "mpi.h5").string();
    REQUIRE(run_capsim(grid_sweep(single, {})).code == 0);
    const auto r = mpirun(grid_sweep(mpi, {}));
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    CHECK(has(r.err, "2 MPI processes"));
    CHECK(lines_of(r.out).size() == 2 + 12);  // only rank 0 prints
    require_identical(single, mpi);
  }
  SECTION("a sobol sweep's indices") {
    const std::string single = (dir / "sobol1.h5").string(), mpi = (dir / "sobol2.h5").string();
    const auto one = run_capsim(sensitivity_sweep("sobol", single, {"--samples", "16"}));
    REQUIRE(one.code == 0);
    const auto r = mpirun(sensitivity_sweep("sobol", mpi, {"--samples", "16"}));
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    require_identical(single, mpi);
    CHECK(r.out == one.out);  // only rank 0 prints the ranked table
  }
  SECTION("one point's paths split across the ranks") {
    const std::string single = (dir / "single1.h5").string(), mpi = (dir / "mpi1.h5").string();
    const std::vector<std::string> args = {"sweep",   source("tests/scenarios/two-regions.yaml"),
                                           "--paths", "700",
                                           "--vary",  "classes.chat.growth.rate=0.9",
                                           "--quiet", "-o"};
    auto a = args;
    a.push_back(single);
    REQUIRE(run_capsim(a).code == 0);
    a.back() = mpi;
    const auto r = mpirun(a);
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    require_identical(single, mpi);
  }
}

TEST_CASE("sweep: killed with SIGKILL and resumed, a sweep equals an uninterrupted one",
          "[sweep][cli][interrupt]") {
  const ScratchDir dir("sweep_kill");
  const ScratchDir logs("sweep_kill_log");
  const std::string whole = (dir / "whole.h5").string(), resumed = (dir / "resumed.h5").string();
  const auto sweep = [&](const std::string& out, std::vector<std::string> extra) {
    std::vector<std::string> args = {"sweep",
                                     source("tests/scenarios/two-regions.yaml"),
                                     "--paths",
                                     "600",
                                     "--threads",
                                     "1",
                                     "--set",
                                     "time.horizon_months=6",
                                     "--method",
                                     "lhs",
                                     "--samples",
                                     "30",
                                     "--vary",
                                     "classes.chat.growth.rate=0.1:1.5",
                                     "--vary",
                                     "finance.budget_usd=1e8:3e8",
                                     "--checkpoint-seconds",
                                     "0",
                                     "--quiet",
                                     "-o",
                                     out};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  // 600 paths a point: each point takes long enough (tens of ms) that the
  // poll below sees the third checkpoint well before the 30th, also on a
  // loaded machine.
  REQUIRE(run_capsim(sweep(whole, {})).code == 0);

  std::int64_t done_at_kill = 0;
  {
    Process process(sweep(resumed, {}), logs.path());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (!fs::exists(resumed)) continue;
      done_at_kill = capsim::io::read_sweep_file(resumed).points_done();
      if (done_at_kill >= 3) break;
    }
    process.send(SIGKILL);
    const auto r = process.wait(std::chrono::seconds(30));
    CHECK(r.signal == SIGKILL);
  }
  // What the kill left is a complete, readable checkpoint.
  const auto left = capsim::io::read_sweep_file(resumed);
  INFO("points done when killed: " << left.points_done());
  REQUIRE(left.points_done() >= 3);
  REQUIRE(left.points_done() < 30);
  auto r = run_capsim(sweep(resumed, {"--resume"}));
  INFO(r.err);
  REQUIRE(r.code == 0);
  // Finished points are not computed again.
  CHECK(has(r.err, std::to_string(left.points_done()) + " points already done"));
  CHECK(has(r.err, "computed " + std::to_string(30 - left.points_done()) + " points"));
  require_identical(whole, resumed);

  // --resume of a file that holds another sweep is refused.
  auto other = sweep(resumed, {"--resume"});
  other[3] = "100";
  r = run_capsim(other);
  CHECK(r.code == 2);
  CHECK(has(r.err, "holds a different sweep"));
}

TEST_CASE("sweep: SIGINT exits 130 and leaves a readable file to resume",
          "[sweep][cli][interrupt]") {
  const ScratchDir dir("sweep_int");
  const ScratchDir logs("sweep_int_log");
  const std::string out = (dir / "out.h5").string();
  std::vector<std::string> args = {"sweep",   source("tests/scenarios/two-regions.yaml"),
                                   "--paths", "200",
                                   "--set",   "time.horizon_months=6",
                                   "--vary",  "classes.chat.growth.rate=linspace:0.1:1.5:40",
                                   "--quiet", "-o",
                                   out};
  Process process(args, logs.path());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(out) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  process.send(SIGINT);
  const auto r = process.wait(std::chrono::seconds(60));
  INFO(r.err);
  CHECK(r.exited);
  CHECK(r.code == 130);
  CHECK(has(r.err, "points saved in " + out));
  CHECK(has(r.err, "--resume"));
  const auto table = capsim::io::read_sweep_file(out);
  CHECK(table.points() == 40);
  CHECK(table.points_done() < 40);
  // The base scenario's provenance is kept in the file.
  CHECK(table.overrides == std::vector<std::string>{"time.horizon_months=6"});
  CHECK(table.extends.empty());
  for (const auto& e : capsim::test::entries_of(dir.path())) CHECK(e == "out.h5");  // no temp
}

TEST_CASE("sweep: invalid --vary gives a message naming the argument and exit 2",
          "[sweep][cli][bad]") {
  const std::string scenario = source("tests/scenarios/two-regions.yaml");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--vary", "demand.x=1,2"}, "--vary 'demand.x=1,2' (value 1): demand: unknown key 'demand'"},
      {{"--vary", "classes.chat.growth.rat=1,2"}, "did you mean 'rate'"},
      {{"--vary", "classes.chat.growth.rate=linspace:1:2"}, "--vary 'classes.chat.growth.rate="},
      {{"--vary", "classes.chat.growth.rate=5:1", "--method", "lhs", "--samples", "4"},
       "empty range"},
      {{"--vary", "time.paths=0,10"}, "--vary 'time.paths=0,10' (value 0): time.paths"},
      {{"--vary", "classes.chat.growth.rate=0.1:1"}, "needs --method lhs, random"},
      {{"--vary", "classes.chat.noise.model=none,log_ar1"},
       "(with --vary "
       "'classes.chat.noise.model=none,log_ar1', value none)"},
      {{}, "nothing to vary"},
  };
  check_refused(scenario, cases);
  // A point too large for this machine's memory is refused before any work.
  const auto r = run_capsim(
      {"sweep", scenario, "--paths", "50000000000", "--vary", "classes.chat.growth.rate=1,2"});
  CHECK(r.code == 2);
  CHECK(has(r.err, "paths per point would need about"));
}

TEST_CASE("sweep: model choices and numbers inside lists can be varied", "[sweep][cli]") {
  const ScratchDir dir("sweep_models");
  const auto r = run_capsim(
      {"sweep", source("tests/scenarios/two-regions.yaml"), "--paths", "40", "--vary",
       "classes.chat.noise={model: none},{model: log_ar1, sigma: 0.3}", "--vary",
       "procurement.orders.1.count=0,300", "--csv", (dir / "m.csv").string(), "--quiet"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto csv = lines_of(capsim::test::read_text(dir / "m.csv"));
  REQUIRE(csv.size() == 5);
  // Quoted, since the model's map holds commas.
  CHECK(csv[1].rfind("0,{model: none},0,", 0) == 0);
  CHECK(csv[4].rfind("3,\"{model: log_ar1, sigma: 0.3}\",300,", 0) == 0);
}

TEST_CASE(
    "sweep --method sobol, morris, tornado: the dominant input ranks first, one that does "
    "not enter the target gets indices that include 0",
    "[sweep][cli][sensitivity]") {
  const ScratchDir dir("sweep_sensitivity");
  const std::string spend = "total_spend_usd";
  SECTION("sobol") {
    const std::string out = (dir / "sobol.h5").string(), csv = (dir / "sobol.csv").string();
    const auto r =
        run_capsim(sensitivity_sweep("sobol", out, {"--samples", "16", "--sensitivity-csv", csv}));
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(has(r.err, "80 points (sobol)"));  // 16 (3 + 2)
    const auto table = capsim::io::read_sweep_file(out);
    REQUIRE(table.sensitivity);
    const auto& s = *table.sensitivity;
    CHECK(s.method == "sobol");
    CHECK(s.target == spend);
    CHECK(s.inputs == table.axis_keys);
    CHECK(rank_of(s, spend, kCount) == 1);
    for (const char* index : {"first_order", "total"}) {
      INFO(index);
      CHECK(measure(s, std::string(index) + "_lo", spend, kRevenue) <= 0.0);
      CHECK(measure(s, std::string(index) + "_hi", spend, kRevenue) >= 0.0);
      CHECK(measure(s, std::string(index) + "_lo", spend, kCount) > 0.3);
    }
    // Revenue does enter the revenue: there it ranks before the yen.
    CHECK(rank_of(s, "revenue_usd", kRevenue) < rank_of(s, "revenue_usd", kYen));
    // The ranked table on stdout, the most influential first.
    const auto lines = lines_of(r.out);
    REQUIRE(lines.size() >= 7);
    CHECK(has(lines[0], "which of 3 inputs move total_spend_usd (mean across paths, M USD)"));
    CHECK(has(lines[3], "first order S1"));
    CHECK(has(lines[5], "1  procurement.orders.0.count"));
    // The CSV: one row per target and input.
    const auto rows = lines_of(capsim::test::read_text(csv));
    REQUIRE(rows.size() == 1 + 3 * s.targets.size());
    CHECK(rows[0] ==
          "target,unit,input,rank,first_order,first_order_lo,first_order_hi,total,total_lo,"
          "total_hi,variance");
    CHECK(rows[1].rfind("total_spend_usd,USD,procurement.orders.0.count,1,", 0) == 0);

    // The file holds what the estimators compute from its own points.
    auto again = table;
    const auto target = capsim::io::parse_sensitivity_target(again, spend);
    capsim::sweep::analyse(again, capsim::io::sensitivity_targets(again, target), spend);
    REQUIRE(again.sensitivity->measures.size() == s.measures.size());
    for (std::size_t m = 0; m < s.measures.size(); ++m) {
      INFO(s.measures[m].name);
      CHECK(again.sensitivity->measures[m].name == s.measures[m].name);
      CHECK((again.sensitivity->measures[m].values == s.measures[m].values ||
             (again.sensitivity->measures[m].values.isNaN() && s.measures[m].values.isNaN()))
                .all());
    }
    CHECK((again.sensitivity->rank == s.rank).all());
  }
  SECTION("morris") {
    const std::string out = (dir / "morris.h5").string();
    const auto r = run_capsim(sensitivity_sweep("morris", out, {"--samples", "6"}));
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(has(r.err, "24 points (morris)"));  // 6 (3 + 1)
    const auto s = *capsim::io::read_sweep_file(out).sensitivity;
    CHECK(rank_of(s, spend, kCount) == 1);
    // With common random numbers an input that does not enter the target
    // leaves it unchanged, path for path: every effect is 0.
    CHECK(measure(s, "mu_star_lo", spend, kRevenue) == 0.0);
    CHECK(measure(s, "mu_star_hi", spend, kRevenue) == 0.0);
    CHECK(measure(s, "mu_star_lo", spend, kCount) > 0.0);
    // More H100 bought: more spent (mu > 0), in proportion (mu = mu*).
    CHECK(measure(s, "mu", spend, kCount) == Approx(measure(s, "mu_star", spend, kCount)));
  }
  SECTION("tornado, with a quantile as the target") {
    const std::string out = (dir / "tornado.h5").string();
    const std::string p95 = "total_spend_usd:p95";
    const auto r = run_capsim(sensitivity_sweep("tornado", out, {"--target", p95}));
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(has(r.err, "7 points (tornado)"));
    // The base point is the scenario's own values (500 H100, US$2.0, 152).
    CHECK(has(r.err,
              "procurement.orders.0.count=500, "
              "classes.chat.revenue_usd_per_h100e_gpuh=2.0, finance.usdjpy=152"));
    CHECK(has(r.out, "which of 3 inputs move total_spend_usd:p95 (p95 across paths, M USD)"));
    const auto table = capsim::io::read_sweep_file(out);
    const auto& s = *table.sensitivity;
    CHECK(s.targets.back() == p95);
    CHECK(s.target == p95);
    for (const std::string& target : {spend, p95}) {
      INFO(target);
      CHECK(rank_of(s, target, kCount) == 1);
      CHECK(measure(s, "swing", target, kRevenue) == 0.0);
      CHECK(measure(s, "swing", target, kCount) > 0.0);
    }
    // The swing is the difference of the two points' results: point 2
    // (count at 2000) minus point 1 (count at 0), as the sweep table has them.
    const auto column = capsim::io::parse_sensitivity_target(table, p95);
    const auto stat = [&](std::int64_t point) {
      return table.stats(point, column.stat * table.columns + column.column);
    };
    CHECK(measure(s, "swing", p95, kCount) == stat(2) - stat(1));
    CHECK(measure(s, "at_low", p95, kCount) == stat(1));
    CHECK(table.values[1][kCount] == "0");
    CHECK(table.values[2][kCount] == "2000");
  }
}

TEST_CASE(
    "sweep --method sobol: the same indices for any number of threads, for shards merged, "
    "and after --resume",
    "[sweep][cli][sensitivity]") {
  const ScratchDir dir("sweep_sensitivity_same");
  const std::string one = (dir / "one.h5").string(), two = (dir / "two.h5").string();
  const std::vector<std::string> sobol = {"--samples", "16"};
  auto args = sensitivity_sweep("sobol", one, sobol);
  args.insert(args.end(), {"--threads", "1"});
  REQUIRE(run_capsim(args).code == 0);
  args = sensitivity_sweep("sobol", two, sobol);
  args.insert(args.end(), {"--threads", "2"});
  const auto whole = run_capsim(args);
  REQUIRE(whole.code == 0);
  require_identical(one, two);
  REQUIRE(capsim::io::read_sweep_file(one).sensitivity);

  std::vector<std::string> merge = {"merge"};
  for (int i = 1; i <= 2; ++i) {
    const std::string part = (dir / ("part" + std::to_string(i) + ".h5")).string();
    args = sensitivity_sweep("sobol", part, sobol);
    args.insert(args.end(), {"--shard", std::to_string(i) + "/2"});
    const auto r = run_capsim(args);
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(has(r.err, "the indices need every point: run capsim merge"));
    CHECK_FALSE(capsim::io::read_sweep_file(part).sensitivity);
    merge.push_back(part);
  }
  const std::string merged = (dir / "merged.h5").string();
  merge.insert(merge.end(), {"-o", merged});
  const auto r = run_capsim(merge);
  INFO(r.err);
  REQUIRE(r.code == 0);
  require_identical(one, merged);
  CHECK(r.out == whole.out);  // the same ranked table

  // Resuming a finished sweep computes nothing and gives the same file.
  args = sensitivity_sweep("sobol", two, sobol);
  args.push_back("--resume");
  const auto resumed = run_capsim(args);
  REQUIRE(resumed.code == 0);
  CHECK(has(resumed.err, "computed 0 points"));
  require_identical(one, two);
}

TEST_CASE("sweep: bad input to the sensitivity methods names the option, exit 2",
          "[sweep][cli][sensitivity][bad]") {
  const std::string scenario = source("tests/scenarios/two-regions.yaml");
  const std::string count = "procurement.orders.0.count=0:2000";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--method", "morris", "--samples", "4", "--vary", "procurement.orders.0.count=0,1000"},
       "--vary 'procurement.orders.0.count=0,1000': --method morris needs a range lo:hi for "
       "every key (got a list)"},
      {{"--method", "sobol", "--samples", "16", "--vary", count, "--vary",
        "finance.usdjpy=linspace:140:160:3"},
       "--method sobol needs a range lo:hi for every key (got a linspace)"},
      {{"--method", "tornado", "--vary", "finance.usdjpy=140,160"},
       "--method tornado needs a range"},
      {{"--method", "sobol", "--samples", "4", "--vary", count},
       "--method sobol needs --samples N >= 16 (base rows N"},
      {{"--method", "sobol", "--vary", count}, "--method sobol needs --samples N >= 16"},
      {{"--method", "morris", "--samples", "1", "--vary", count},
       "--method morris needs --samples N >= 2 (trajectories r"},
      {{"--method", "tornado", "--samples", "5", "--vary", count}, "--samples applies to"},
      {{"--method", "morris", "--samples", "4", "--levels", "3", "--vary", count},
       "--levels 3: expected an even number"},
      {{"--method", "tornado", "--vary", count, "--target", "total_spend"},
       "--target 'total_spend': unknown key figure 'total_spend' (expected one of: "
       "total_spend_usd,"},
      {{"--method", "tornado", "--vary", count, "--target", "total_spend_usd:p99"},
       "--target 'total_spend_usd:p99': unknown key figure"},
      {{"--vary", "finance.usdjpy=140,160", "--target", "total_spend_usd"},
       "--target applies to --method tornado, morris and sobol"},
      {{"--method", "sobolev", "--vary", count},
       "--method: unknown method 'sobolev' (expected one of: grid, lhs, random, tornado, morris, "
       "sobol)"},
  };
  check_refused(scenario, cases);
}
