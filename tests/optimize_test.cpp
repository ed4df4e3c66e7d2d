#include <catch2/catch.hpp>

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
