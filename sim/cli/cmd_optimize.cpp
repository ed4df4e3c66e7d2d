#include <algorithm>
#include <boost/program_options.hpp>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>

#include "capsim/engine.hpp"
#include "capsim/error.hpp"
#include "capsim/io/optimize_output.hpp"
#include "capsim/io/scenario_loader.hpp"
#include "capsim/study/optimize.hpp"
#include "commands.hpp"
#include "memory.hpp"
#include "mpi_session.hpp"
#include "output_files.hpp"
#include "parse.hpp"
#include "progress.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace capsim::cli {

namespace {

constexpr int kInfeasible = 3;

constexpr const char* kOptimizeUsage =
    R"(Usage: capsim optimize SCENARIO --var KEY=RANGE... [--objective ...] [--constraint ...]
                       [-o OUT.h5] [--plan-out PLAN.yaml] [OPTIONS]

Finds the plan (values of the --var keys) that minimizes or maximizes the
--objective subject to every --constraint, then checks it on independent
paths. Every candidate runs the same --paths paths with the same --seed
(common random numbers), so candidates differ only by their decisions.
Method (docs/optimize.md): a Latin-hypercube screen of --screen points, then
COBYLA (NLopt) from the best, then a pattern search on whole-number and
choice variables; at most --max-evals distinct plans are run.

--var KEY=lo:hi        a number in [lo, hi] (any --set key path)
--var KEY=lo:hi:int    a whole number in [lo, hi]
--var KEY=a,b,c        one of the listed YAML values
A MEASURE is a key figure (capsim list metrics) with :mean (the default) or
:pNN, a percentile (npv_usd:p50, inference_service_level:p05); the mean of a
0/1 figure is a probability (over_budget). --objective min:MEASURE or
max:MEASURE; --constraint MEASURE<=X or MEASURE>=X (repeatable).

Prints the input plan against the optimized one and each constraint's margin
on the independent paths with its 95% interval, and warns when a plan that
meets the constraints on the search's paths misses one on the new paths.

Exit codes: 0 a plan that meets every constraint was found; 3 none was found
(the least-violating plan is reported and written, with how much each
constraint misses); 2 invalid input; 130 interrupted (the evaluations done
are in -o; the same command with --resume goes on).

Example:
  capsim optimize scenarios/msft-japan-2024.yaml --paths 100 --max-evals 30 \
    --var procurement.orders.2.count=2000:8000:int \
    --var procurement.orders.3.count=1000:6000:int \
    --var procurement.policy.target_utilization=0.7:0.95 \
    --var procurement.policy.planner_growth_per_year=0.3:1.0 \
    --objective min:total_spend_usd --constraint 'inference_service_level:p05>=0.95' \
    --constraint 'over_budget<=0.10' -o opt.h5 --plan-out plan.yaml
  capsim run plan.yaml

Options)";

// The values of `values` as text, with "; " between them.
std::string joined(const std::vector<std::string>& keys, const std::vector<std::string>& values) {
  std::string text;
  for (std::size_t i = 0; i < keys.size(); ++i) text += (i ? ", " : "") + keys[i] + "=" + values[i];
  return text;
}

// Loads the scenario with `sets` and then `values` at the variables' keys;
// an error in a value names its --var argument.
ScenarioSpec load_plan(const std::string& scenario, const models::ModelRegistries& registries,
                       const std::vector<std::string>& sets,
                       const std::vector<optimize::Variable>& variables,
                       const std::vector<std::string>& values) {
  std::vector<std::string> overrides = sets;
  for (std::size_t i = 0; i < variables.size(); ++i)
    overrides.push_back(variables[i].key + "=" + values[i]);
  try {
    return io::load_scenario(scenario, registries, overrides);
  } catch (const InputError& e) {
    std::vector<Diagnostic> diagnostics = e.diagnostics();
    for (Diagnostic& d : diagnostics) {
      const int i = d.mark.line - static_cast<int>(sets.size()) - 1;
      if (d.mark.file != "--set" || i < 0 || i >= static_cast<int>(variables.size())) continue;
      const optimize::Variable& v = variables[static_cast<std::size_t>(i)];
      const std::string& value = values[static_cast<std::size_t>(i)];
      d.mark = SourceMark{"--var '" + v.argument + "' (value " + value + ")", 0, 0};
      const std::string prefix = "in --set '" + v.key + "=" + value + "': ";
      if (d.message.rfind(prefix, 0) == 0) d.message = d.message.substr(prefix.size());
    }
    if (diagnostics.empty()) throw;
    throw InputError(std::move(diagnostics));
  }
}

// Each variable on its own at the ends of its range (every value of a
// choice): a key the scenario does not have or a bound it refuses fails
// here, before any work.
void check_variables(const std::string& scenario, const models::ModelRegistries& registries,
                     const std::vector<std::string>& sets,
                     const std::vector<optimize::Variable>& variables) {
  for (const optimize::Variable& v : variables) {
    std::vector<std::string> values = v.choices;
    if (!v.choice) values = {v.value_at(0.0), v.value_at(1.0)};
    for (const std::string& value : values)
      (void)load_plan(scenario, registries, sets, {v}, {value});
  }
}

// Per-path key figures of one plan, its paths split across the MPI ranks
// (each runs its share on its threads) and gathered on every rank; the same
// numbers for any number of ranks and threads.
class PlanRunner {
 public:
  PlanRunner(sweep::Communicator& comm, int threads, const std::atomic<bool>& cancel)
      : comm_(comm), threads_(threads), cancel_(cancel) {}

  Eigen::ArrayXXd operator()(const ScenarioSpec& spec, const models::ModelRegistries& registries,
                             std::int64_t paths, std::uint64_t seed) {
    // Every rank stops at the same plan, so none waits for another forever.
    if (comm_.max(cancel_.load() ? 1 : 0) != 0) throw Interrupted();
    const std::int64_t ranks = comm_.size(), rank = comm_.rank();
    const std::int64_t first = paths * rank / ranks, last = paths * (rank + 1) / ranks;
    Eigen::ArrayXXd mine;
    if (last > first) {
      RunOptions options;
      options.paths = last - first;
      options.first_path = first;
      options.seed = seed;
      options.has_seed = true;
      options.threads = threads_;
      options.series_stats = false;
      // Alone, a Ctrl-C stops the plan being run; across ranks, at the next.
      if (ranks == 1) options.cancel = &cancel_;
      mine = run(spec, registries, options).key_figures;
    }
    if (ranks == 1) return mine;
    const Eigen::Index columns = make_layout(spec).key_figure_columns;
    const std::vector<double> flat(mine.data(), mine.data() + mine.size());
    const std::vector<std::vector<double>> parts = comm_.gather(flat);
    std::vector<std::uint8_t> bytes;
    if (rank == 0) {
      Eigen::ArrayXXd all(paths, columns);
      Eigen::Index row = 0;
      for (const auto& part : parts) {
        const Eigen::Index n =
            static_cast<Eigen::Index>(part.size()) / std::max<Eigen::Index>(1, columns);
        all.middleRows(row, n) = Eigen::Map<const Eigen::ArrayXXd>(part.data(), n, columns);
        row += n;
      }
      bytes.resize(static_cast<std::size_t>(all.size()) * sizeof(double));
      std::memcpy(bytes.data(), all.data(), bytes.size());
    }
    comm_.broadcast(bytes);
    Eigen::ArrayXXd all(paths, columns);
    std::memcpy(all.data(), bytes.data(), static_cast<std::size_t>(all.size()) * sizeof(double));
    return all;
  }

 private:
  sweep::Communicator& comm_;
  int threads_;
  const std::atomic<bool>& cancel_;
};

// The path by which `file` reaches `target` (as `extend` reads it: from the
// file's folder); absolute when the two share nothing below the root.
std::string relative_path(const std::string& target, const std::string& file) {
  const fs::path dir = fs::weakly_canonical(fs::absolute(file)).parent_path();
  const fs::path to = fs::weakly_canonical(fs::absolute(target));
  const auto first = [](const fs::path& p) {
    auto it = p.begin();
    return ++it == p.end() ? fs::path() : *it;
  };
  if (first(dir) != first(to)) return to.generic_string();
  return to.lexically_relative(dir).generic_string();
}

// The best plan so far, for the progress bar.
std::string best_note(const optimize::Problem& problem,
                      const std::vector<optimize::Evaluation>& evaluations, std::int64_t best) {
  if (best < 0) return "";
  const optimize::Evaluation& e = evaluations[static_cast<std::size_t>(best)];
  if (!e.feasible) return "no feasible plan yet";
  char buf[64];
  const bool money = problem.objective.measure.unit == "USD";
  std::snprintf(buf, sizeof buf, money ? "%.1f M USD" : "%.6g",
                money ? e.objective * 1e-6 : e.objective);
  return std::string("best feasible ") + buf;
}

}  // namespace

int optimize_command(const Args& args, const std::atomic<bool>& cancel) {
  po::options_description opts(kOptimizeUsage);
  std::vector<std::string> vars, constraints, sets;
  std::string objective_text = "min:total_spend_usd", output, plan_out, seed_text, check_seed_text;
  std::int64_t paths = 200, screen = -1, max_evals = 60, check_paths = 0;
  int threads = 0;
  opts.add_options()("help,h", "show this help")(
      "var", po::value(&vars)->composing(),
      "a decision variable: KEY=lo:hi, KEY=lo:hi:int or KEY=a,b,c (repeatable)")(
      "objective", po::value(&objective_text),
      "min:MEASURE or max:MEASURE (default min:total_spend_usd)")(
      "constraint", po::value(&constraints)->composing(),
      "MEASURE<=X or MEASURE>=X, e.g. 'over_budget<=0.1' (repeatable)")(
      "output,o", po::value(&output),
      "write every evaluation and the plan to this HDF5 file (also while it runs)")(
      "plan-out", po::value(&plan_out),
      "write the plan as a scenario that extends SCENARIO (runs with capsim run)")(
      "paths,n", po::value(&paths), "paths per evaluation (default 200)")(
      "seed,s", po::value(&seed_text), "seed of every evaluation (default: time.seed)")(
      "screen", po::value(&screen),
      "Latin-hypercube points before the local search (default: 2 per variable plus 4)")(
      "max-evals", po::value(&max_evals), "at most this many distinct plans are run (default 60)")(
      "check-paths", po::value(&check_paths),
      "paths of the out-of-sample check of the plan (default: 5 x --paths, at least 1000)")(
      "check-seed", po::value(&check_seed_text),
      "seed of the out-of-sample check (default: the search's seed + 1)")(
      "set", po::value(&sets)->composing(),
      "override a key of every plan: --set key.path=value (repeatable)")(
      "resume", "take the evaluations in the -o file instead of running them again")(
      "threads,t", po::value(&threads),
      "worker threads per process (default: all cores; at most 4 per core)")("quiet,q",
                                                                             "no progress bar");
  std::string scenario;
  const auto parsed = parse_args(args, opts, "scenario", &scenario, 1);
  if (!parsed) return 0;
  const auto& vm = *parsed;

  MpiSession mpi;
  sweep::Communicator& comm = mpi.comm();
  const bool root = comm.rank() == 0;
  try {
    if (scenario.empty())
      throw InputError("optimize: missing SCENARIO (see capsim optimize --help)");
    if (vars.empty())
      throw InputError("optimize: no decision variable; give at least one --var KEY=lo:hi");
    if (vm.count("threads")) check_threads("optimize", threads);
    if (vm.count("check-paths") && check_paths < 1)
      throw InputError("optimize: --check-paths must be at least 1");
    if (vm.count("resume") && output.empty())
      throw InputError("optimize: --resume needs the file of the interrupted run (-o OUT.h5)");

    const auto registries = models::builtin_registries();
    const ScenarioSpec base = io::load_scenario(scenario, registries, sets);
    const Layout layout = make_layout(base);
    check_outputs("optimize", scenario_inputs(base.input_files),
                  given_outputs(vm, {{"output", "-o"}, {"plan-out", "--plan-out"}}));

    optimize::Problem problem;
    for (const std::string& v : vars) problem.variables.push_back(optimize::parse_variable(v));
    problem.objective = optimize::parse_objective(objective_text, layout);
    for (const std::string& c : constraints)
      problem.constraints.push_back(optimize::parse_constraint(c, layout));
    optimize::check_constraints(problem.constraints);
    problem.seed = vm.count("seed") ? parse_seed(seed_text, "optimize") : base.time.seed;
    problem.paths = paths;
    problem.max_evals = max_evals;
    problem.screen =
        screen >= 0 ? screen
                    : std::min<std::int64_t>(
                          max_evals, 2 * static_cast<std::int64_t>(problem.variables.size()) + 4);
    problem.check();
    const std::uint64_t check_seed =
        vm.count("check-seed") ? parse_seed(check_seed_text, "optimize") : problem.seed + 1;
    if (check_paths == 0) check_paths = std::max<std::int64_t>(1000, 5 * paths);
    if (check_seed == problem.seed)
      throw InputError("optimize: --check-seed must differ from the search's seed " +
                       std::to_string(problem.seed) + ", or the check is not independent");
    if (const std::uint64_t need =
            estimate_run_bytes(base, registries, std::max(paths, check_paths) / comm.size() + 1),
        have = physical_memory_bytes();
        have > 0 && need > have)
      throw InputError("optimize: " + std::to_string(std::max(paths, check_paths)) +
                       " paths would need about " + format_bytes(need) +
                       " of memory (this machine has " + format_bytes(have) +
                       "); use fewer --paths or --check-paths");
    check_variables(scenario, registries, sets, problem.variables);

    // The input plan: the scenario's own values at the keys.
    std::vector<std::string> keys, input_values;
    bool input_in_range = true;
    for (const optimize::Variable& v : problem.variables) {
      keys.push_back(v.key);
      input_values.push_back(io::scenario_value(base, v.key).value_or(""));
      input_in_range = input_in_range && v.position(input_values.back()).has_value();
    }

    const std::string problem_text = io::problem_text(problem, sets);
    optimize::Options options;
    if (input_in_range) options.start = input_values;
    if (vm.count("resume") && fs::exists(output))
      options.known = io::read_optimize_evaluations(output, problem_text);
    const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    PlanRunner runner(comm, threads > 0 ? threads : std::max(1, cores / mpi.local_ranks()), cancel);
    const optimize::Evaluator evaluator = [&](const std::vector<std::string>& values) {
      return runner(load_plan(scenario, registries, sets, problem.variables, values), registries,
                    problem.paths, problem.seed);
    };
    if (comm.size() == 1) options.cancel = &cancel;

    io::OptimizeRecord record;
    record.scenario_file = scenario;
    record.scenario_name = base.name;
    record.overrides = sets;
    record.problem = &problem;
    record.columns = optimize::column_names(layout);
    for (const KeyFigureInfo& k : layout.key_figures)
      for (Eigen::Index j = 0; j < k.width; ++j) record.units.push_back(k.unit);

    if (root) {
      std::cerr << "capsim optimize: " << problem.variables.size() << " variable"
                << (problem.variables.size() == 1 ? "" : "s") << ", "
                << (problem.objective.maximize ? "max " : "min ") << problem.objective.measure.text
                << " subject to " << problem.constraints.size() << " constraint"
                << (problem.constraints.size() == 1 ? "" : "s") << "; at most " << max_evals
                << " plans of " << paths << " paths, seed " << problem.seed << "; screen "
                << problem.screen;
      if (comm.size() > 1) std::cerr << "; " << comm.size() << " MPI processes";
      std::cerr << "\ncommon random numbers: every plan runs the same " << paths
                << " paths, so differences between plans are caused by the decisions\n";
      if (!input_in_range)
        std::cerr << "the input plan (" << joined(keys, input_values)
                  << ") is outside the --var ranges: it is compared, not searched from\n";
      if (!options.known.empty())
        std::cerr << "resuming " << output << ": " << options.known.size()
                  << " evaluations taken from it\n";
    }

    optimize::Result progress_result;
    ProgressBar bar("capsim optimize", root && vm.count("quiet") == 0);
    options.on_evaluation = [&](const std::vector<optimize::Evaluation>& evaluations,
                                std::int64_t best) {
      bar.update(static_cast<long>(evaluations.size()), static_cast<long>(max_evals),
                 best_note(problem, evaluations, best));
      if (!root || output.empty()) return;
      // The file holds every evaluation so far: what --resume takes.
      progress_result.evaluations = evaluations;
      progress_result.best = best;
      record.result = &progress_result;
      record.complete = false;
      io::write_optimize_file(output, record);
    };
    optimize::Result result;
    try {
      result = optimize::solve(problem, evaluator, options);
    } catch (const Interrupted&) {
      bar.finish();
      if (root) {
        if (output.empty())
          std::cerr << "capsim: interrupted; no output written\n";
        else
          std::cerr << "capsim: interrupted; " << progress_result.evaluations.size()
                    << " evaluations saved in " << output
                    << "; run the same command with --resume to go on\n";
      }
      return 130;
    }
    bar.finish();
    const optimize::Evaluation& plan = result.evaluations[static_cast<std::size_t>(result.best)];

    // The input plan on the search's paths, when the search did not run it.
    std::optional<optimize::Evaluation> input;
    if (result.input >= 0) {
      input = result.evaluations[static_cast<std::size_t>(result.input)];
    } else {
      input = optimize::evaluate(problem, input_values,
                                 runner(base, registries, problem.paths, problem.seed));
    }

    // The out-of-sample check on independent paths.
    const ScenarioSpec planned =
        load_plan(scenario, registries, sets, problem.variables, plan.values);
    if (root)
      std::cerr << "checking the plan on " << check_paths << " new paths (seed " << check_seed
                << ")\n";
    record.check = optimize::out_of_sample(
        problem, plan, runner(planned, registries, check_paths, check_seed), check_seed);
    if (!root) return result.feasible() ? 0 : kInfeasible;

    if (!plan_out.empty() || !output.empty()) {
      std::vector<std::string> plan_keys = keys;
      for (const std::string& s : sets) plan_keys.push_back(s.substr(0, s.find('=')));
      const std::string comment =
          "# The plan found by capsim optimize (" + std::string(plan.feasible ? "" : "no ") +
          "feasible plan found): " + joined(keys, plan.values) + "\n# " +
          (problem.objective.maximize ? "max " : "min ") + problem.objective.measure.text +
          "; run with: capsim run " + (plan_out.empty() ? "PLAN.yaml" : plan_out) + "\n";
      record.plan_yaml =
          io::plan_yaml(planned, plan_out.empty() ? scenario : relative_path(scenario, plan_out),
                        plan_keys, comment);
    }
    record.result = &result;
    record.complete = true;
    if (!output.empty()) io::write_optimize_file(output, record);
    if (!plan_out.empty()) {
      io::write_text_file(plan_out, record.plan_yaml);
    }

    io::Comparison comparison;
    comparison.problem = &problem;
    comparison.input_values = input_values;
    comparison.input = input;
    comparison.plan = &plan;
    comparison.check = &*record.check;
    io::print_optimize_summary(std::cout, comparison);
    std::cerr << result.evaluations.size() << " plans evaluated (" << result.stop << ")";
    if (!options.known.empty())
      std::cerr << ", " << options.known.size() << " taken from " << output;
    std::cerr << '\n';
    if (!result.feasible()) {
      std::cerr << "capsim optimize: no plan meets every constraint on the search's paths; the "
                   "least-violating plan is shown (exit code "
                << kInfeasible << ")\n";
      for (std::size_t k = 0; k < problem.constraints.size(); ++k)
        if (const double excess = problem.constraints[k].excess(plan.constraints[k]); excess > 0)
          std::cerr << "  " << problem.constraints[k].argument << " misses: the plan gives "
                    << plan.constraints[k] << '\n';
      return kInfeasible;
    }
    if (!record.check->feasible()) {
      std::cerr << "warning: the plan meets every constraint on the search's " << paths
                << " paths but not on " << check_paths << " new paths:";
      for (std::size_t k = 0; k < problem.constraints.size(); ++k)
        if (!record.check->margins[k].holds())
          std::cerr << " " << problem.constraints[k].argument << " gives "
                    << record.check->margins[k].value.value << ";";
      std::cerr << " try more --paths or a tighter bound\n";
    }
    return 0;
  } catch (const InputError&) {
    if (!root) return 2;
    throw;
  }
}

}  // namespace capsim::cli
