#include <algorithm>
#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>
#include <optional>
#include <set>
#include <thread>

#include "capsim/engine.hpp"
#include "capsim/error.hpp"
#include "capsim/io/scenario_loader.hpp"
#include "capsim/io/sweep_output.hpp"
#include "capsim/study/sweep.hpp"
#include "commands.hpp"
#include "memory.hpp"
#include "mpi_session.hpp"
#include "output_files.hpp"
#include "parse.hpp"
#include "progress.hpp"

namespace po = boost::program_options;

namespace capsim::cli {

namespace {

constexpr const char* kSweepUsage =
    R"(Usage: capsim sweep SCENARIO --vary key.path=SPEC... [OPTIONS]

Runs SCENARIO at many points, each a set of values of the varied keys, and
reports every key figure's mean, p05, p50 and p95 per point. Every point runs
the same paths with the same seed (common random numbers), so differences
between points are caused by the varied values.

SPEC is a list a,b,c (numbers, model names, YAML values), linspace:lo:hi:n
(n evenly spaced numbers) or a range lo:hi (for every method but grid; whole
numbers when lo and hi are). Any scenario key can be varied, also numbers in
lists (procurement.orders.0.count) and model choices, given whole with their
parameters: --vary 'classes.inference.noise={model: none},{model: log_ar1, sigma: 0.1}'.

Sensitivity analysis: --method tornado, morris or sobol (ranges only) also
compute which varied keys move each key figure (the mean across paths, and
the --target) and print them ranked for the --target: tornado swings each key
from its low to its high end around the base point (the scenario's own value,
or the range's midpoint when that is not in the range); morris gives the
elementary effects mu* and sigma of --samples r trajectories (screening);
sobol gives first-order and total Sobol indices of --samples N base rows with
95% bootstrap intervals. The indices are in the -o file's sensitivity group
and --sensitivity-csv.

Examples:
  capsim sweep scenarios/msft-japan-2024.yaml --paths 1000 \
    --vary classes.inference.growth.rate=0.5,0.9,1.3 \
    --vary procurement.orders.0.count=linspace:4000:12000:3 -o grid.h5 --csv grid.csv
  capsim sweep scenarios/msft-japan-2024.yaml --method lhs --samples 20 --paths 200 \
    --vary classes.inference.growth.rate=0.3:1.5 --vary finance.budget_usd=2.5e9:3.5e9 \
    -o lhs.h5 --sort over_budget:desc
  capsim sweep scenarios/msft-japan-2024.yaml --method sobol --samples 32 --paths 100 \
    --vary classes.inference.growth.rate=0.5:1.3 --vary finance.usdjpy=130:180 \
    --vary skus.h200.lead_time_days=90:240 \
    --target total_spend_usd -o sobol.h5 --sensitivity-csv sobol.csv
  mpirun -np 8 capsim sweep ...          (points and paths across MPI ranks)
  capsim sweep ... --shard 2/8 -o part2.h5; capsim merge part*.h5 -o all.h5

A sweep with -o writes its file after every point (or batch of points run at
once; less often when writing it would take more than about 5% of the time,
or with --checkpoint-seconds) and when interrupted; the same command with
--resume continues it without recomputing the points already in the file.

Options)";

// "1 point", "12 points".
std::string count_of(std::int64_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

// Whether `path` names an existing file.
bool exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

// Loads the scenario of one point; an error in a varied value names the
// --vary argument (and the value, when it is not the argument's own SPEC).
ScenarioSpec load_point(const std::string& scenario, const models::ModelRegistries& registries,
                        const std::vector<std::string>& sets, const sweep::Definition& definition,
                        const std::vector<std::string>& values) {
  std::vector<std::string> overrides = sets;
  const auto varied = sweep::point_overrides(definition, values);
  overrides.insert(overrides.end(), varied.begin(), varied.end());
  try {
    return io::load_scenario(scenario, registries, overrides);
  } catch (const InputError& e) {
    std::vector<Diagnostic> diagnostics = e.diagnostics();
    for (Diagnostic& d : diagnostics) {
      const int line = d.mark.line - static_cast<int>(sets.size()) - 1;
      if (d.mark.file != "--set" || line < 0 || line >= static_cast<int>(definition.axes.size()))
        continue;
      const sweep::Axis& axis = definition.axes[static_cast<std::size_t>(line)];
      const std::string& value = values[static_cast<std::size_t>(line)];
      d.mark = SourceMark{
          "--vary '" + axis.argument + "'" + (value == axis.spec ? "" : " (value " + value + ")"),
          0, 0};
      const std::string prefix = "in --set '" + axis.key + "=" + value + "': ";
      if (d.message.rfind(prefix, 0) == 0) d.message = d.message.substr(prefix.size());
    }
    if (diagnostics.empty()) throw;
    throw InputError(std::move(diagnostics));
  }
}

// Checks every value of every axis on its own on top of the base scenario
// (at most kCheckedValues per axis, always including a range's ends), so a
// bad --vary fails before any work. Combinations are checked when their
// point runs.
void check_axes(const std::string& scenario, const models::ModelRegistries& registries,
                const std::vector<std::string>& sets, const sweep::Definition& definition,
                const std::vector<std::vector<std::string>>& points) {
  constexpr std::size_t kCheckedValues = 1000;
  for (std::size_t a = 0; a < definition.axes.size(); ++a) {
    const sweep::Axis& axis = definition.axes[a];
    std::set<std::string> values;
    if (axis.kind == sweep::Axis::Kind::range) {
      const double ends[] = {axis.lo, axis.hi};
      for (double x : ends)
        values.insert(axis.integer ? std::to_string(static_cast<std::int64_t>(x))
                                   : sweep::number_text(x));
    } else {
      values.insert(axis.values.begin(), axis.values.end());
    }
    for (const auto& point : points) {
      if (values.size() >= kCheckedValues) break;
      values.insert(point[a]);
    }
    sweep::Definition one;
    one.axes = {axis};
    for (const std::string& v : values) {
      try {
        (void)load_point(scenario, registries, sets, one, {v});
      } catch (const InputError& e) {
        // An error found in the file (e.g. a parameter the new model does not
        // take) is still caused by the varied value: say which.
        std::vector<Diagnostic> diagnostics = e.diagnostics();
        for (Diagnostic& d : diagnostics)
          if (d.mark.file.rfind("--vary", 0) != 0)
            d.message += " (with --vary '" + axis.argument + "'" +
                         (v == axis.spec ? "" : ", value " + v) + ")";
        if (diagnostics.empty()) throw;
        throw InputError(std::move(diagnostics));
      }
    }
  }
}

}  // namespace

int sweep_command(const Args& args, const std::atomic<bool>& cancel) {
  po::options_description opts(kSweepUsage);
  std::vector<std::string> varies, sets;
  std::string method_text = "grid", output, csv, shard_text, sort_text;
  std::string target_text = "total_spend_usd", sensitivity_csv;
  std::int64_t samples = 0, paths = 0;
  std::string seed_text;
  int threads = 0, levels = 0;
  std::string method_help = "how points are chosen (default grid):";
  for (const auto& [name, description] : sweep::methods())
    method_help += "\n  " + name + ": " + description;
  double checkpoint_seconds = 0.0;
  opts.add_options()("help,h", "show this help")(
      "vary", po::value(&varies)->composing(),
      "a key to vary and its values: --vary key.path=SPEC (repeatable)")(
      "method", po::value(&method_text), method_help.c_str())(
      "samples", po::value(&samples),
      "lhs, random: the number of points; morris: trajectories; sobol: base rows")(
      "levels", po::value(&levels), "morris: levels of its grid (even, default 4)")(
      "target", po::value(&target_text),
      "tornado, morris, sobol: the key figure to rank the keys for on stdout, e.g. "
      "total_spend_usd (the default; its mean across paths), total_spend_usd:p95 or over_budget")(
      "sensitivity-csv", po::value(&sensitivity_csv),
      "tornado, morris, sobol: write the indices of every key figure to this CSV file")(
      "output,o", po::value(&output), "write the sweep (and its checkpoints) to this HDF5 file")(
      "csv", po::value(&csv), "write one row per point to this CSV file")(
      "paths,n", po::value(&paths), "random paths per point (default: time.paths)")(
      "seed,s", po::value(&seed_text), "random seed of every point (default: time.seed)")(
      "set", po::value(&sets)->composing(),
      "override a key of every point: --set key.path=value (repeatable)")(
      "resume", "continue the sweep in the -o file, skipping the points it holds")(
      "shard", po::value(&shard_text), "run only part I of N of the points: --shard I/N")(
      "sort", po::value(&sort_text),
      "order the summary by a key figure's mean: NAME or NAME:desc (e.g. total_spend_usd)")(
      "threads,t", po::value(&threads),
      "worker threads per process (default: all cores; at most 4 per core)")(
      "checkpoint-seconds", po::value(&checkpoint_seconds),
      "write the -o file at most this often (default 0: after every point)")("quiet,q",
                                                                             "no progress bar");
  std::string scenario;
  const auto parsed = parse_args(args, opts, "scenario", &scenario, 1);
  if (!parsed) return 0;
  const auto& vm = *parsed;

  MpiSession mpi;
  sweep::Communicator& comm = mpi.comm();
  const bool root = comm.rank() == 0;
  try {
    if (scenario.empty()) throw InputError("sweep: missing SCENARIO (see capsim sweep --help)");
    if (vm.count("paths") && paths < 1)
      throw InputError("sweep: --paths must be at least 1 (got " + std::to_string(paths) + ")");
    if (vm.count("threads")) check_threads("sweep", threads);
    const std::uint64_t seed = vm.count("seed") ? parse_seed(seed_text, "sweep") : 0;
    if (!(checkpoint_seconds >= 0.0))
      throw InputError("sweep: --checkpoint-seconds must be 0 or more");
    if (vm.count("resume") && output.empty())
      throw InputError("sweep: --resume needs the sweep's output file (-o OUT.h5)");
    if (vm.count("shard") && output.empty() && csv.empty())
      throw InputError("sweep: --shard needs an output file (-o PART.h5) to merge later");

    sweep::Definition definition;
    for (const auto& v : varies) definition.axes.push_back(sweep::parse_axis(v));
    definition.method = sweep::parse_method(method_text);
    definition.samples = samples;
    definition.levels = levels;
    if (vm.count("levels") && levels < 2)
      throw InputError("sweep: --levels must be at least 2 (got " + std::to_string(levels) + ")");
    const bool analyses = sweep::analyses(definition.method);
    for (const char* option : {"target", "sensitivity-csv"})
      if (vm.count(option) && !analyses)
        throw InputError(std::string("--") + option +
                         " applies to --method tornado, morris and sobol");
    if (vm.count("samples") && samples < 1)
      throw InputError("sweep: --samples must be at least 1 (got " + std::to_string(samples) + ")");
    const sweep::Shard shard = vm.count("shard") ? sweep::parse_shard(shard_text) : sweep::Shard{};

    const auto registries = models::builtin_registries();
    const ScenarioSpec base = io::load_scenario(scenario, registries, sets);
    // -o may name an existing sweep file (--resume reads it, then rewrites it).
    check_outputs(
        "sweep", scenario_inputs(base.input_files),
        given_outputs(
            vm, {{"output", "-o"}, {"csv", "--csv"}, {"sensitivity-csv", "--sensitivity-csv"}}));
    definition.paths = paths > 0 ? paths : base.time.paths;
    // Refuse a point too large for this machine before any work (several
    // small points may run at once, but then each is well below this).
    if (const std::uint64_t need = estimate_run_bytes(base, registries, definition.paths),
        have = physical_memory_bytes();
        have > 0 && need > have)
      throw InputError("sweep: " + std::to_string(definition.paths) +
                       " paths per point would need about " + format_bytes(need) +
                       " of memory (this machine has " + format_bytes(have) +
                       "); use fewer --paths");
    definition.seed = vm.count("seed") ? seed : base.time.seed;
    if (definition.method == "tornado")
      for (const sweep::Axis& axis : definition.axes)
        definition.base.push_back(io::scenario_value(base, axis.key).value_or(""));
    std::vector<std::vector<std::string>> points = sweep::make_points(definition);
    check_axes(scenario, registries, sets, definition, points);

    sweep::Table table = sweep::make_table(base, scenario, definition, points);
    if (vm.count("shard")) table.shard = shard.text();
    const std::optional<sweep::Target> target =
        analyses ? std::optional(io::parse_sensitivity_target(table, target_text)) : std::nullopt;
    if (target) table.target = target->name;
    const std::optional<io::SweepSort> sort =
        sort_text.empty() ? std::nullopt
                          : std::optional<io::SweepSort>(io::parse_sweep_sort(table, sort_text));

    // Rank 0 reads what a previous run left and tells the others which
    // points remain: [status, done flags...].
    std::vector<std::uint8_t> message;
    std::exception_ptr resume_error;
    std::int64_t resumed = 0;
    if (root) {
      try {
        if (vm.count("resume") && exists(output)) {
          const sweep::Table previous = io::read_sweep_file(output);
          if (previous.sweep_id != table.sweep_id)
            throw InputError(
                "--resume: " + output +
                " holds a different sweep (other scenario, --vary, --method, --samples, "
                "--paths, --seed or --set); remove it or choose another -o");
          table.stats = previous.stats;
          table.prob_over_budget = previous.prob_over_budget;
          table.done = previous.done;
          resumed = table.points_done();
        }
        message.push_back(0);
        message.insert(message.end(), table.done.begin(), table.done.end());
      } catch (const InputError&) {
        resume_error = std::current_exception();
        message = {2};
      } catch (...) {
        resume_error = std::current_exception();
        message = {1};
      }
    }
    comm.broadcast(message);
    if (resume_error) std::rethrow_exception(resume_error);
    if (message.at(0) == 2) throw InputError("(rank 0 reported the error)");
    if (message.at(0) != 0) throw RuntimeError("(rank 0 reported the error)");
    std::copy(message.begin() + 1, message.end(), table.done.begin());

    std::vector<std::int64_t> todo;
    for (std::int64_t i = shard.first(table.points()); i < shard.last(table.points()); ++i)
      if (!table.done[static_cast<std::size_t>(i)]) todo.push_back(i);

    if (root) {
      std::cerr << "capsim sweep: " << count_of(table.points(), "point") << " (" << table.method
                << "), " << count_of(definition.paths, "path") << " each, seed " << definition.seed;
      if (vm.count("shard"))
        std::cerr << "; shard " << shard.text()
                  << (shard.first(table.points()) == shard.last(table.points())
                          ? std::string(" holds no points")
                          : " holds points " + std::to_string(shard.first(table.points())) +
                                " to " + std::to_string(shard.last(table.points()) - 1));
      if (comm.size() > 1) std::cerr << "; " << comm.size() << " MPI processes";
      std::cerr << "\ncommon random numbers: every point runs the same " << definition.paths
                << " paths with seed " << definition.seed
                << ", so differences between points are caused by the varied values\n";
      if (definition.method == "tornado") {
        std::cerr << "tornado base point (the scenario's value where it is in the range, else "
                     "the midpoint):";
        for (std::size_t a = 0; a < definition.axes.size(); ++a)
          std::cerr << (a ? ", " : " ") << definition.axes[a].key << "=" << points[0][a];
        std::cerr << '\n';
      }
      if (resumed > 0)
        std::cerr << "resuming " << output << ": " << count_of(resumed, "point")
                  << " already done, " << todo.size() << " to compute\n";
      if (!output.empty()) io::write_sweep_file(output, table);
    }

    sweep::ExecuteOptions options;
    const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    options.threads = threads > 0 ? threads : std::max(1, cores / mpi.local_ranks());
    options.cancel = &cancel;
    options.checkpoint_seconds = checkpoint_seconds;
    if (!output.empty())
      options.checkpoint = [&](const sweep::Table& t) { io::write_sweep_file(output, t); };
    ProgressBar bar("capsim sweep", root && vm.count("quiet") == 0);
    options.progress = [&](std::int64_t done, std::int64_t total) { bar.update(done, total); };
    std::int64_t computed = 0;
    try {
      computed = sweep::execute(
          table, todo,
          [&](std::int64_t point) {
            return load_point(scenario, registries, sets, definition,
                              table.values[static_cast<std::size_t>(point)]);
          },
          registries, comm, options);
      bar.finish();
    } catch (const Interrupted&) {
      bar.finish();
      if (root) {
        if (output.empty())
          std::cerr << "capsim: interrupted; no output written\n";
        else
          std::cerr << "capsim: interrupted; " << table.points_done() << " of " << table.points()
                    << " points saved in " << output
                    << "; run the same command with --resume to continue\n";
      }
      return 130;
    }
    if (!root) return 0;

    const bool complete = table.points_done() == table.points();
    if (target && complete)
      sweep::analyse(table, io::sensitivity_targets(table, *target), target->name);
    if (!output.empty()) io::write_sweep_file(output, table);
    if (!csv.empty()) io::write_sweep_csv(csv, table);
    if (table.sensitivity) {
      if (!sensitivity_csv.empty()) io::write_sensitivity_csv(sensitivity_csv, table);
      io::print_sensitivity(std::cout, table);
    } else {
      io::print_sweep_summary(std::cout, table, sort ? &*sort : nullptr);
      if (target)
        std::cerr << "the indices need every point: run capsim merge on the parts of all "
                  << shard.count << " shards\n";
    }
    std::cerr << "computed " << count_of(computed, "point");
    if (resumed > 0) std::cerr << " (" << resumed << " taken from " << output << ")";
    std::cerr << '\n';
    return 0;
  } catch (const InputError&) {
    // Every process sees the same input; only rank 0 reports it.
    if (!root) return 2;
    throw;
  }
}

}  // namespace capsim::cli
