#include <boost/program_options.hpp>
#include <iostream>
#include <optional>

#include "capsim/engine.hpp"
#include "capsim/error.hpp"
#include "capsim/io/output.hpp"
#include "capsim/io/scenario_loader.hpp"
#include "commands.hpp"
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

}  // namespace

int run_command(const Args& args, const std::atomic<bool>& cancel) {
  po::options_description opts(kRunUsage);
  std::string output, csv, json;
  std::vector<std::string> overrides;
  std::int64_t paths = 0;
  std::uint64_t seed = 0;
  int threads = 0;
  long chunk = 256;
  opts.add_options()("help,h", "show this help")("output,o", po::value(&output),
                                                 "write series and key figures to this HDF5 file")(
      "paths,n", po::value(&paths), "number of random paths (default: time.paths)")(
      "seed,s", po::value(&seed), "random seed (default: time.seed)")(
      "threads,t", po::value(&threads), "worker threads (default: all cores)")(
      "set", po::value(&overrides)->composing(),
      "override a scenario key: --set key.path=value (repeatable)")(
      "save-paths", "also store every path's full series in the HDF5 file")(
      "csv", po::value(&csv), "write the key figures as CSV")("json", po::value(&json),
                                                              "write the key figures as JSON")(
      "chunk", po::value(&chunk), "paths per vectorized chunk (tuning; results do not change)")(
      "quiet,q", "no progress bar");
  po::options_description hidden;
  std::string scenario;
  hidden.add_options()("scenario", po::value(&scenario));
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description positional;
  positional.add("scenario", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
  if (vm.count("help")) {
    std::cout << opts << '\n';
    return 0;
  }
  po::notify(vm);
  if (scenario.empty()) throw InputError("run: missing SCENARIO (see capsim run --help)");
  if (vm.count("paths") && paths < 1)
    throw InputError("run: --paths must be at least 1 (got " + std::to_string(paths) + ")");
  if (vm.count("threads") && threads < 1)
    throw InputError("run: --threads must be at least 1 (got " + std::to_string(threads) + ")");
  if (chunk < 1) throw InputError("run: --chunk must be at least 1");
  if (vm.count("save-paths") && output.empty())
    throw InputError("run: --save-paths needs an output file (-o OUT.h5)");

  const auto registries = models::builtin_registries();
  const ScenarioSpec spec = io::load_scenario(scenario, registries, overrides);

  RunOptions options;
  options.paths = paths;
  options.seed = seed;
  options.has_seed = vm.count("seed") > 0;
  options.threads = threads;
  options.chunk_paths = chunk;
  options.cancel = &cancel;
  const std::int64_t run_paths = paths > 0 ? paths : spec.time.paths;

  // Open the output first so that an unwritable path fails before the work.
  std::optional<io::Hdf5Output> h5;
  if (!output.empty()) h5.emplace(output, make_layout(spec), run_paths, vm.count("save-paths") > 0);
  if (h5) options.sink = h5->sink();

  ProgressBar bar("capsim run", vm.count("quiet") == 0);
  options.progress = [&](int done, int total) { bar.update(done, total); };
  const RunResult result = run(spec, registries, options);

  if (h5) h5->commit(spec, result);
  if (!csv.empty()) io::write_key_figures_csv(csv, result);
  if (!json.empty()) io::write_key_figures_json(json, spec, result);
  io::print_key_figures(std::cout, spec, result);
  return 0;
}

}  // namespace capsim::cli
