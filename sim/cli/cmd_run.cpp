#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>

#include "capsim/engine.hpp"
#include "capsim/error.hpp"
#include "capsim/io/output.hpp"
#include "capsim/io/scenario_loader.hpp"
#include "commands.hpp"
#include "memory.hpp"
#include "output_files.hpp"
#include "parse.hpp"
#include "progress.hpp"

namespace po = boost::program_options;

namespace capsim::cli {

namespace {

constexpr const char* kRunUsage = R"(Usage: capsim run SCENARIO [OPTIONS]

Simulates SCENARIO (a YAML file, see scenarios/README.md) for many random
futures and prints the key figures (mean, p05, p50, p95 across paths).

Example:
  capsim run scenarios/msft-japan-2024.yaml --paths 1000 -o out.h5 --csv kf.csv

Options)";

// The HDF5 file holds the series statistics (T x 4 x S doubles) and the
// per-path key figures (P x F); --save-paths adds T x P x S doubles, stored
// compressed. Refuses when even a 4:1 compression of the per-path series
// would not fit in the free space of the output's file system.
void check_disk_space(const std::string& path, const Layout& layout, std::int64_t paths,
                      bool save_paths) {
  bool known = false;
  const std::uint64_t free = free_disk_bytes(path, known);
  if (!known) return;  // the output's own open reports a missing directory
  const auto doubles = [](long double n) {
    return static_cast<std::uint64_t>(std::min(n * 8.0L, 1.8e19L));
  };
  std::uint64_t need = doubles(static_cast<long double>(layout.steps) * 4.0L *
                                   static_cast<long double>(layout.series_columns) +
                               static_cast<long double>(paths) *
                                   static_cast<long double>(layout.key_figure_columns));
  if (save_paths) need += saved_paths_bytes(layout, paths) / 4;
  if (need > free)
    throw RuntimeError("cannot write " + path + ": it would need at least " + format_bytes(need) +
                       " of disk" + (save_paths ? " with --save-paths" : "") + ", and only " +
                       format_bytes(free) + " is free there");
}

}  // namespace

int run_command(const Args& args, const std::atomic<bool>& cancel) {
  po::options_description opts(kRunUsage);
  std::string output, csv, json;
  std::vector<std::string> overrides;
  std::int64_t paths = 0;
  std::string seed_text;
  int threads = 0;
  long chunk = 256;
  opts.add_options()("help,h", "show this help")("output,o", po::value(&output),
                                                 "write series and key figures to this HDF5 file")(
      "paths,n", po::value(&paths), "number of random paths (default: time.paths)")(
      "seed,s", po::value(&seed_text), "random seed (default: time.seed)")(
      "threads,t", po::value(&threads), "worker threads (default: all cores; at most 4 per core)")(
      "set", po::value(&overrides)->composing(),
      "override a scenario key: --set key.path=value (repeatable)")(
      "save-paths", "also store every path's full series in the HDF5 file")(
      "csv", po::value(&csv), "write the key figures as CSV")("json", po::value(&json),
                                                              "write the key figures as JSON")(
      "chunk", po::value(&chunk), "paths per vectorized chunk (tuning; results do not change)")(
      "quiet,q", "no progress bar");
  std::string scenario;
  const auto parsed = parse_args(args, opts, "scenario", &scenario, 1);
  if (!parsed) return 0;
  const auto& vm = *parsed;
  if (scenario.empty()) throw InputError("run: missing SCENARIO (see capsim run --help)");
  // Each of N ranks would run the whole scenario and write the same file.
  if (const char* size = std::getenv("OMPI_COMM_WORLD_SIZE"); size && std::atoi(size) > 1) {
    const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
    if (rank && std::atoi(rank) != 0) return 2;  // rank 0 reports
    throw InputError(
        "run: started by mpirun with " + std::string(size) +
        " processes, each of which would run the whole scenario; `capsim run` uses the cores of "
        "one machine (--threads), and `mpirun capsim sweep` spreads sweeps across machines");
  }
  if (vm.count("paths") && paths < 1)
    throw InputError("run: --paths must be at least 1 (got " + std::to_string(paths) + ")");
  if (vm.count("threads")) check_threads("run", threads);
  if (chunk < 1) throw InputError("run: --chunk must be at least 1");
  const std::uint64_t seed = vm.count("seed") ? parse_seed(seed_text, "run") : 0;
  if (vm.count("save-paths") && output.empty())
    throw InputError("run: --save-paths needs an output file (-o OUT.h5)");

  const auto registries = models::builtin_registries();
  const ScenarioSpec spec = io::load_scenario(scenario, registries, overrides);
  for (const auto& w : power_warnings(spec)) std::cerr << w.format() << '\n';

  RunOptions options;
  options.paths = paths;
  options.seed = seed;
  options.has_seed = vm.count("seed") > 0;
  options.threads = threads;
  options.chunk_paths = chunk;
  options.cancel = &cancel;
  const std::int64_t run_paths = paths > 0 ? paths : spec.time.paths;
  const Layout layout = make_layout(spec);
  const bool save_paths = vm.count("save-paths") > 0;

  // Refuse what cannot fit before any work is done.
  const std::uint64_t need = estimate_run_bytes(spec, registries, run_paths);
  if (const std::uint64_t have = physical_memory_bytes(); have > 0 && need > have)
    throw InputError("run: " + std::to_string(run_paths) + " paths would need about " +
                     format_bytes(need) + " of memory (this machine has " + format_bytes(have) +
                     "); use fewer --paths");
  check_outputs("run", scenario_inputs(spec.input_files),
                given_outputs(vm, {{"output", "-o"}, {"csv", "--csv"}, {"json", "--json"}}));
  if (!output.empty()) check_disk_space(output, layout, run_paths, save_paths);

  // Open the output first so that an unwritable path fails before the work.
  std::optional<io::Hdf5Output> h5;
  if (!output.empty()) h5.emplace(output, layout, run_paths, save_paths);
  if (h5) options.sink = h5->sink();

  ProgressBar bar("capsim run", vm.count("quiet") == 0);
  options.progress = [&](int done, int total) { bar.update(done, total); };
  const RunResult result = run(spec, registries, options);
  bar.finish();
  // A Ctrl-C after the last step still means "stop": no output.
  if (cancel.load()) throw Interrupted();

  if (h5) h5->commit(spec, result);
  if (!csv.empty()) io::write_key_figures_csv(csv, result);
  if (!json.empty()) io::write_key_figures_json(json, spec, result);
  io::print_key_figures(std::cout, spec, result);
  return 0;
}

}  // namespace capsim::cli
