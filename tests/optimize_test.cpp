#include <catch2/catch.hpp>
#include <cmath>

#include "capsim/engine.hpp"
#include "capsim/error.hpp"
#include "capsim/io/scenario_loader.hpp"
#include "capsim/study/optimize.hpp"
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
