#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "capsim/engine.hpp"
#include "capsim/error.hpp"
#include "capsim/io/scenario_loader.hpp"
#include "capsim/study/optimize.hpp"
#include "hdf5_datasets.hpp"
#include "run_process.hpp"

using namespace capsim;

namespace {

struct Fixture {
  models::ModelRegistries registries = models::builtin_registries();
  std::string scenario = test::source("tests/scenarios/constant.yaml");
  std::vector<std::string> sets = {"classes.inf.peak_factor=1.5"};

  optimize::Evaluator evaluator(const optimize::Problem& problem, int threads) {
    return [this, &problem, threads](const std::vector<std::string>& values) {
      std::vector<std::string> overrides = sets;
      for (std::size_t i = 0; i < values.size(); ++i)
        overrides.push_back(problem.variables[i].key + "=" + values[i]);
      const ScenarioSpec spec = io::load_scenario(scenario, registries, overrides);
      RunOptions options;
      options.paths = problem.paths;
      options.seed = problem.seed;
      options.has_seed = true;
      options.threads = threads;
      options.series_stats = false;
      return run(spec, registries, options).key_figures;
    };
  }
};

}  // namespace

TEST_CASE("optimize: the fewest GPUs that serve the peak, found exactly", "[optimize]") {
  Fixture f;
  const Layout layout = make_layout(io::load_scenario(f.scenario, f.registries, f.sets));
  optimize::Problem problem;
  problem.variables = {optimize::parse_variable("regions.r1.initial_fleet.g=100:900:int")};
  problem.objective = optimize::parse_objective("min:total_spend_usd", layout);
  problem.constraints = {optimize::parse_constraint("unserved_fraction[inf]<=0", layout)};
  problem.paths = 1;
  problem.seed = 1;
  problem.screen = 8;
  problem.max_evals = 80;
  // Demand 300 H100e at peak factor 1.5 on GPUs of 1 H100e: 300 x 1.5 / 1 = 450.
  const auto result = optimize::solve(problem, f.evaluator(problem, 1), {});
  REQUIRE(result.feasible());
  CHECK(result.evaluations[static_cast<std::size_t>(result.best)].values[0] == "450");
}

TEST_CASE("optimize: bad input names the option", "[optimize]") {
  Fixture f;
  const Layout layout = make_layout(io::load_scenario(f.scenario, f.registries, f.sets));
  CHECK_THROWS_AS(optimize::parse_variable("regions.r1.initial_fleet.g=9:3"), InputError);
  CHECK_THROWS_WITH(optimize::parse_measure("total_spend", layout, "--objective"),
                    Catch::Contains("did you mean 'total_spend_usd'"));
  CHECK_THROWS_WITH(
      optimize::check_constraints({optimize::parse_constraint("over_budget<=1.5", layout)}),
      Catch::Contains("outside"));
  CHECK_THROWS_WITH(
      optimize::check_constraints({optimize::parse_constraint("mean_utilization<=0.1", layout),
                                   optimize::parse_constraint("mean_utilization>=0.2", layout)}),
      Catch::Contains("contradict"));
}

TEST_CASE("optimize: newsvendor capacity within the sampling error of the 95th percentile",
          "[optimize]") {
  Fixture f;
  f.sets = {"classes.inf.peak_factor=1.5", "time.deterministic=false",
            "classes.inf.noise={model: log_ar1, sigma: 0.2, phi: 0}"};
  const Layout layout = make_layout(io::load_scenario(f.scenario, f.registries, f.sets));
  optimize::Problem problem;
  problem.variables = {optimize::parse_variable("regions.r1.initial_fleet.g=300:900:int")};
  problem.objective = optimize::parse_objective("min:total_spend_usd", layout);
  problem.constraints = {optimize::parse_constraint("inference_service_level>=0.95", layout)};
  problem.paths = 200;
  problem.seed = 7;
  problem.screen = 8;
  problem.max_evals = 80;
  // phi 0: the daily multipliers M = exp(x - s^2/2), x ~ N(0, s^2), s = 0.2, are independent,
  // so the mean service level is P(N >= 450 M) and the optimum is 450 q95(M) =
  // 450 exp(1.644854 x 0.2 - 0.02) = 612.9 GPUs. From n = 200 paths x 31 days = 6200 draws the
  // empirical 95th percentile has a relative sd of sqrt(0.95 x 0.05 / n) s / phi(1.6449) =
  // 0.00537, i.e. 3.3 GPUs: 4 sd and the rounding to whole GPUs give 14.
  const double optimum = 450.0 * std::exp(1.6448536 * 0.2 - 0.02);
  const auto one = optimize::solve(problem, f.evaluator(problem, 1), {});
  REQUIRE(one.feasible());
  const double found = std::stod(one.evaluations[static_cast<std::size_t>(one.best)].values[0]);
  CHECK(std::abs(found - optimum) <= 14.0);

  SECTION("same seed, same result with 2 threads") {
    const auto two = optimize::solve(problem, f.evaluator(problem, 2), {});
    REQUIRE(two.evaluations.size() == one.evaluations.size());
    CHECK(two.best == one.best);
    for (std::size_t i = 0; i < one.evaluations.size(); ++i) {
      CHECK(two.evaluations[i].values == one.evaluations[i].values);
      CHECK(two.evaluations[i].objective == one.evaluations[i].objective);
    }
  }
}

TEST_CASE("optimize: an infeasible problem reports the least-violating plan", "[optimize]") {
  Fixture f;
  const Layout layout = make_layout(io::load_scenario(f.scenario, f.registries, f.sets));
  optimize::Problem problem;
  problem.variables = {optimize::parse_variable("regions.r1.initial_fleet.g=100:400:int")};
  problem.objective = optimize::parse_objective("min:total_spend_usd", layout);
  problem.constraints = {optimize::parse_constraint("unserved_fraction[inf]<=0", layout)};
  problem.paths = 1;
  problem.seed = 1;
  problem.screen = 6;
  problem.max_evals = 60;
  // 450 GPUs are needed; with at most 400, 400 serves 400 / 450 of the demand and misses by
  // the least: unserved fraction 1 - 400 / 450 = 1/9.
  const auto result = optimize::solve(problem, f.evaluator(problem, 1), {});
  REQUIRE_FALSE(result.feasible());
  const auto& best = result.evaluations[static_cast<std::size_t>(result.best)];
  CHECK(best.values[0] == "400");
  CHECK(best.constraints[0] == Approx(1.0 / 9.0));
}

// ---------------------------------------------------------------------------
// capsim optimize, the command.

namespace {

using capsim::test::Process;
using capsim::test::ProcessResult;
using capsim::test::read_datasets;
using capsim::test::require_identical;
using capsim::test::ScratchDir;
using capsim::test::source;

ProcessResult run_capsim(const std::vector<std::string>& args,
                         const std::string& program = CAPSIM_EXE) {
  const ScratchDir logs("optimize_log");
  Process process(args, logs.path(), program);
  return process.wait(std::chrono::seconds(300));
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The deterministic problem of the first test case, as a command: the fewest
// GPUs that serve 300 H100e at peak factor 1.5, 450.
std::vector<std::string> fewest_gpus(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"optimize",      source("tests/scenarios/constant.yaml"),
                                   "--set",         "classes.inf.peak_factor=1.5",
                                   "--var",         "regions.r1.initial_fleet.g=100:900:int",
                                   "--constraint",  "unserved_fraction[inf]<=0",
                                   "--paths",       "1",
                                   "--check-paths", "3",
                                   "--quiet"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// A problem whose evaluations take long enough to interrupt: two regions,
// random demand, a few hundred paths.
std::vector<std::string> two_regions(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"optimize",      source("tests/scenarios/two-regions.yaml"),
                                   "--var",         "procurement.orders.0.count=0:400:int",
                                   "--var",         "classes.chat.peak_factor=1:1.5",
                                   "--objective",   "min:total_spend_usd",
                                   "--constraint",  "over_budget<=0.2",
                                   "--paths",       "300",
                                   "--max-evals",   "24",
                                   "--check-paths", "300",
                                   "--quiet"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace

TEST_CASE("optimize command: the plan, its file and a PLAN.yaml that capsim run takes",
          "[optimize][cli]") {
  const ScratchDir dir("optimize_cli");
  const std::string out = (dir / "opt.h5").string(), plan = (dir / "plan.yaml").string();
  const auto r = run_capsim(fewest_gpus({"-o", out, "--plan-out", plan}));
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  // The table: the input plan (500 GPUs) against the optimized one (450).
  CHECK(has(r.out, "regions.r1.initial_fleet.g"));
  CHECK(has(r.out, "500"));
  CHECK(has(r.out, "450"));
  CHECK(has(r.out, "meets every constraint"));

  const auto data = read_datasets(out);
  const auto& values = data.texts.at("evaluations/values");
  const auto& feasible = data.numbers.at("evaluations/feasible");
  REQUIRE(values.size() == feasible.size());
  REQUIRE(values.size() >= 2);
  CHECK(values[0] == "500");  // the input plan first
  // Every plan of at least 450 GPUs is feasible, every plan of fewer is not.
  for (std::size_t i = 0; i < values.size(); ++i)
    CHECK((feasible[i] == 1.0) == (std::stoi(values[i]) >= 450));
  // The out-of-sample margin of unserved <= 0 is 0 exactly (nothing unserved).
  CHECK(data.numbers.at("plan/margin").at(0) == 0.0);

  // The plan scenario extends the input, keeps the --set and runs.
  const auto registries = models::builtin_registries();
  const ScenarioSpec spec = io::load_scenario(plan, registries, {});
  CHECK(io::scenario_value(spec, "regions.r1.initial_fleet.g") == "450");
  CHECK(io::scenario_value(spec, "classes.inf.peak_factor") == "1.5");
  const auto run = run_capsim({"run", plan, "--quiet"});
  INFO(run.err);
  CHECK(run.code == 0);
}

TEST_CASE("optimize command: an infeasible problem exits 3 with the least-violating plan",
          "[optimize][cli]") {
  const ScratchDir dir("optimize_infeasible");
  const std::string plan = (dir / "plan.yaml").string();
  auto args = fewest_gpus({"--plan-out", plan});
  args[5] = "regions.r1.initial_fleet.g=100:400:int";
  const auto r = run_capsim(args);
  INFO(r.out << r.err);
  CHECK(r.code == 3);
  CHECK(has(r.err, "least-violating"));
  CHECK(has(r.err, "unserved_fraction[inf]<=0 misses"));
  const auto registries = models::builtin_registries();
  CHECK(io::scenario_value(io::load_scenario(plan, registries, {}), "regions.r1.initial_fleet.g") ==
        "400");
}

TEST_CASE("optimize command: bad input names the option and exits 2", "[optimize][cli][bad]") {
  const auto refused = [](std::vector<std::string> extra, const std::string& message) {
    const auto r = run_capsim(fewest_gpus(extra));
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK(has(r.err, message));
  };
  refused({"--var", "regions.r1.initial_flet.g=1:2:int"}, "--var 'regions.r1.initial_flet.g");
  // A bound the scenario refuses: a peak factor below 1 is invalid.
  refused({"--var", "classes.inf.peak_factor=0.5:2"}, "--var 'classes.inf.peak_factor=0.5:2'");
  refused({"--var", "classes.inf.peak_factor=2:1"}, "empty bounds");
  refused({"--objective", "min:total_spend"}, "did you mean 'total_spend_usd'");
  refused({"--constraint", "over_budget<=0.1", "--constraint", "over_budget>=0.2"}, "contradict");
  auto no_paths = fewest_gpus({});
  no_paths[9] = "0";  // --paths 0
  const auto zero = run_capsim(no_paths);
  CHECK(zero.code == 2);
  CHECK(has(zero.err, "--paths must be at least 1"));
  const auto none = run_capsim({"optimize", source("tests/scenarios/constant.yaml")});
  CHECK(none.code == 2);
  CHECK(has(none.err, "--var"));
}

TEST_CASE("optimize command: the same file for 1 and 2 threads", "[optimize][cli]") {
  const ScratchDir dir("optimize_threads");
  const std::string one = (dir / "one.h5").string(), two = (dir / "two.h5").string();
  REQUIRE(run_capsim(two_regions({"--threads", "1", "-o", one})).code == 0);
  REQUIRE(run_capsim(two_regions({"--threads", "2", "-o", two})).code == 0);
  require_identical(one, two);
}

TEST_CASE("optimize command: SIGINT exits 130 and --resume ends where an uninterrupted run does",
          "[optimize][cli][interrupt]") {
  const ScratchDir dir("optimize_resume");
  const ScratchDir logs("optimize_resume_log");
  const std::string whole = (dir / "whole.h5").string(), resumed = (dir / "resumed.h5").string();
  REQUIRE(run_capsim(two_regions({"--threads", "1", "-o", whole})).code == 0);
  std::size_t done_at_interrupt = 0;
  {
    Process process(two_regions({"--threads", "1", "-o", resumed}), logs.path());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (!std::filesystem::exists(resumed)) continue;
      done_at_interrupt = read_datasets(resumed).numbers.at("evaluations/objective").size();
      if (done_at_interrupt >= 3) break;
    }
    process.send(SIGINT);
    const auto r = process.wait(std::chrono::seconds(60));
    INFO(r.err);
    CHECK(r.code == 130);
    CHECK(has(r.err, "--resume"));
  }
  const std::size_t saved = read_datasets(resumed).numbers.at("evaluations/objective").size();
  INFO("evaluations saved when interrupted: " << saved);
  REQUIRE(saved >= 3);
  REQUIRE(saved < 24);
  const auto r = run_capsim(two_regions({"--threads", "1", "-o", resumed, "--resume"}));
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(has(r.err, std::to_string(saved) + " evaluations taken from"));
  require_identical(whole, resumed);
}

TEST_CASE("optimize command: mpirun -np 2 gives the file of one process", "[optimize][cli][mpi]") {
  const auto version = run_capsim({"--version"});
  if (!has(version.out, "(with MPI)") || std::system("command -v mpirun >/dev/null 2>&1") != 0) {
    WARN("capsim was built without MPI or mpirun is missing; the MPI test is skipped");
    return;
  }
  // Open MPI's own allocations are not ours to check for leaks.
  ::setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
  const ScratchDir dir("optimize_mpi");
  const std::string single = (dir / "single.h5").string(), mpi = (dir / "mpi.h5").string();
  REQUIRE(run_capsim(two_regions({"-o", single})).code == 0);
  auto args = two_regions({"-o", mpi});
  args.insert(args.begin(), {"--allow-run-as-root", "--oversubscribe", "-np", "2", CAPSIM_EXE});
  const auto r = run_capsim(args, "/usr/bin/mpirun");
  ::unsetenv("ASAN_OPTIONS");
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(has(r.err, "2 MPI processes"));
  require_identical(single, mpi);
}
