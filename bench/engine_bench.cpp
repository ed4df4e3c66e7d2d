// The engine: the step kernel alone, a whole run of the baseline (with and
// without the HDF5 file) and of the request-level baseline, a sweep of 20
// points, and the scaling series in paths, steps, regions, SKUs, classes and
// threads.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <Eigen/Core>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.hpp"
#include "capsim/engine.hpp"
#include "capsim/io/output.hpp"
#include "capsim/study/sweep.hpp"
#include "kernel.hpp"
#include "reference_engine.hpp"

namespace capsim::bench {

namespace {

std::string temp_h5(const std::string& tag) {
  return (std::filesystem::temp_directory_path() /
          ("capsim-bench-" + tag + "-" + std::to_string(::getpid()) + ".h5"))
      .string();
}

// The first `check_paths` paths of the engine (run with `paths` paths on
// `threads` threads) equal the scalar reference, step by step when `steps`
// is given, and in their key figures.
std::string check_against_reference(const ScenarioSpec& spec, std::int64_t check_paths,
                                    const std::vector<Eigen::ArrayXXd>* steps,
                                    const Eigen::ArrayXXd& key_figures) {
  const auto ref = reference::reference_run(spec, registries(), check_paths, spec.time.seed);
  if (steps) {
    if (steps->size() != ref.steps.size()) return "different numbers of steps";
    for (std::size_t t = 0; t < ref.steps.size(); ++t) {
      const std::string e = compare_arrays((*steps)[t].topRows(check_paths), ref.steps[t],
                                           spec.name + " step " + std::to_string(t));
      if (!e.empty()) return e;
    }
  }
  return compare_arrays(key_figures.topRows(check_paths), ref.key_figures,
                        spec.name + " key figures");
}

// The hand-computed golden scenario (tests/scenarios/constant.yaml): 500
// GPUs x 1 H100e x 24 h = 12000 capacity, 300 x 24 = 7200 demand, all served.
std::string check_golden_constant(int threads) {
  const ScenarioSpec spec =
      io::load_scenario(source_dir() + "/tests/scenarios/constant.yaml", registries());
  RunOptions options;
  options.paths = 3;
  options.threads = threads;
  const RunResult r = run(spec, registries(), options);
  auto mean_at = [&](const std::string& name, int t) {
    const auto& s = r.layout.find_series(name);
    return r.series_stats[static_cast<std::size_t>(&s - r.layout.series.data())](t, 0);
  };
  for (int t = 0; t < r.layout.steps; ++t) {
    if (!nearly_equal(mean_at("capacity_h100e_gpuh", t), 12000.0) ||
        !nearly_equal(mean_at("demand_h100e_gpuh", t), 7200.0) ||
        !nearly_equal(mean_at("served_h100e_gpuh", t), 7200.0) ||
        !nearly_equal(mean_at("utilization", t), 0.6))
      return "golden constant scenario: wrong capacity, demand, served or utilization at step " +
             std::to_string(t);
  }
  const double u = r.key_figure_stats(0, r.layout.find_key_figure("mean_utilization").offset);
  if (!nearly_equal(u, 0.6)) return "golden constant scenario: mean_utilization != 0.6";
  return "";
}

// The hand-computed request-level golden scenario (tests/scenarios/requests.yaml):
// 2 requests/s of 1 s each need 4 H100e for P(wait) <= 0.2, 96 H100e-GPU-hours
// a day; with 3 GPUs 72 are served and 24 / 96 of the 172,800 requests lost.
std::string check_golden_requests() {
  const std::string file = source_dir() + "/tests/scenarios/requests.yaml";
  for (const double gpus : {5.0, 3.0}) {
    const ScenarioSpec spec = io::load_scenario(
        file, registries(), {"regions.r1.initial_fleet.g=" + std::to_string(gpus)});
    RunOptions options;
    options.paths = 3;
    const RunResult r = run(spec, registries(), options);
    auto mean_at = [&](const std::string& name, int t) {
      const auto& s = r.layout.find_series(name);
      return r.series_stats[static_cast<std::size_t>(&s - r.layout.series.data())](t, 0);
    };
    for (int t = 0; t < r.layout.steps; ++t)
      if (!nearly_equal(mean_at("demand_h100e_gpuh", t), 96.0) ||
          !nearly_equal(mean_at("served_h100e_gpuh", t), std::min(96.0, 24.0 * gpus)) ||
          !nearly_equal(mean_at("lost_requests", t), gpus < 4 ? 43200.0 : 0.0))
        return "golden requests scenario: wrong demand, served or lost requests at step " +
               std::to_string(t) + " with " + std::to_string(gpus) + " GPUs";
  }
  return "";
}

// Checks capsim::run on `spec`: the golden scenario's known values, and the
// first 3 of 16 paths equal to the scalar reference.
std::string check_run(const ScenarioSpec& spec, int threads) {
  std::string e = check_golden_constant(threads);
  if (!e.empty()) return e;
  RunOptions options;
  options.paths = 16;
  options.threads = threads;
  options.chunk_paths = 5;  // several chunks, a ragged last one
  const RunResult r = run(spec, registries(), options);
  return check_against_reference(spec, 3, nullptr, r.key_figures);
}

// ---------------------------------------------------------------------------

// The request-level baseline: the baseline with its inference class given as
// requests, sized by queueing each step (scenarios/what-ifs/requests-from-trace.yaml).
ScenarioSpec load_requests(const std::vector<std::string>& overrides) {
  return io::load_scenario(source_dir() + "/scenarios/what-ifs/requests-from-trace.yaml",
                           registries(), overrides);
}

// The step kernel alone on the baseline (or the request-level baseline).
// Args: paths, threads.
void bm_kernel(benchmark::State& state, Config config, bool requests) {
  const std::int64_t paths = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  const ScenarioSpec spec = requests ? load_requests(baseline_overrides(config))
                                     : load_baseline(baseline_overrides(config));
  const detail::Plan plan = detail::make_plan(spec, registries());
  const bool ok = checked(state, spec.name + "/kernel/" + std::to_string(threads), [&] {
    // 4 paths in chunks of 3: every step's values and the key figures.
    KernelRun k;
    std::vector<Eigen::ArrayXXd> steps;
    run_kernel(plan, spec.time.seed, 4, threads, 3, true, k,
               [&](int, const Eigen::ArrayXXd& v) { steps.push_back(v); });
    return check_against_reference(spec, 4, &steps, k.key_figures);
  });
  if (!ok) return;
  time_kernel(state, spec, paths, threads, kChunk);
}

// capsim::run (kernel and per-step statistics) of `spec`.
void time_run(benchmark::State& state, const ScenarioSpec& spec, std::int64_t paths, int threads) {
  RunOptions options;
  options.paths = paths;
  options.threads = threads;
  const RssProbe rss;
  int steps = 0;
  for (auto _ : state) {
    const RunResult r = run(spec, registries(), options);
    benchmark::DoNotOptimize(r.key_figures.data());
    steps = r.layout.steps;
  }
  set_counters(state, shape_of(spec, steps, paths, threads), rss);
}

// A whole run of the baseline without output. Args: paths, threads.
void bm_run_baseline(benchmark::State& state, Config config) {
  const std::int64_t paths = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  const ScenarioSpec spec = load_baseline(baseline_overrides(config));
  if (!checked(state, "run/" + std::to_string(threads), [&] { return check_run(spec, threads); }))
    return;
  time_run(state, spec, paths, threads);
}

// The same for the request-level baseline; also checks the hand-computed
// request-level golden scenario first. Args: paths, threads.
void bm_run_requests(benchmark::State& state, Config config) {
  const std::int64_t paths = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  const ScenarioSpec spec = load_requests(baseline_overrides(config));
  if (!checked(state, "run-requests/" + std::to_string(threads), [&] {
        const std::string e = check_golden_requests();
        return e.empty() ? check_run(spec, threads) : e;
      }))
    return;
  time_run(state, spec, paths, threads);
}

// End to end, as `capsim run baseline --paths N -o file.h5`: loading the
// scenario, the run with its statistics, and the HDF5 file. Args: paths,
// threads.
void bm_end_to_end(benchmark::State& state, Config config) {
  const std::int64_t paths = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  const std::vector<std::string> overrides = baseline_overrides(config);
  if (!checked(state, "run/" + std::to_string(threads),
               [&] { return check_run(load_baseline(overrides), threads); }))
    return;
  const std::string file = temp_h5("e2e");
  RunOptions options;
  options.paths = paths;
  options.threads = threads;
  const RssProbe rss;
  int steps = 0;
  ScenarioSpec shape;
  for (auto _ : state) {
    const ScenarioSpec spec = load_baseline(overrides);
    io::Hdf5Output out(file, make_layout(spec), paths, false);
    const RunResult r = run(spec, registries(), options);
    out.commit(spec, r);
    steps = r.layout.steps;
    shape = spec;
  }
  std::remove(file.c_str());
  set_counters(state, shape_of(shape, steps, paths, threads), rss);
}

// A sweep of 20 points as `capsim sweep` runs it (sweep::make_points and
// sweep::execute, without the file): the baseline with
// classes.inference.growth.rate=linspace:0.5:1.5:20. Checked: with common
// random numbers, mean inference demand over the horizon rises strictly with
// the growth rate, and point 0 equals capsim::run with its --set value, bit
// for bit. Arg: paths per point.
void bm_sweep20(benchmark::State& state, Config config) {
  const std::int64_t paths = state.range(0);
  const int threads = config.tiny ? 1 : static_cast<int>(std::thread::hardware_concurrency());
  const std::vector<std::string> sets = baseline_overrides(config);
  sweep::Definition definition;
  definition.axes = {sweep::parse_axis("classes.inference.growth.rate=linspace:0.5:1.5:20")};
  definition.seed = 1;
  const auto run_sweep = [&](std::int64_t n) {
    definition.paths = n;
    sweep::Table table = sweep::make_table(load_baseline(sets), baseline_file(), definition,
                                           sweep::make_points(definition));
    std::vector<std::int64_t> todo(20);
    for (std::int64_t i = 0; i < 20; ++i) todo[static_cast<std::size_t>(i)] = i;
    sweep::SingleProcess comm;
    sweep::ExecuteOptions options;
    options.threads = threads;
    const auto load = [&](std::int64_t point) {
      std::vector<std::string> overrides = sets;
      for (const auto& o :
           sweep::point_overrides(definition, table.values[static_cast<std::size_t>(point)]))
        overrides.push_back(o);
      return load_baseline(overrides);
    };
    sweep::execute(table, todo, load, registries(), comm, options);
    return table;
  };
  const bool ok = checked(state, "sweep20", [&] {
    const sweep::Table table = run_sweep(8);
    const Layout layout = make_layout(load_baseline(sets));
    const Eigen::Index demand = layout.find_key_figure("demand_h100e_gpuh").offset;  // inference
    for (Eigen::Index i = 1; i < 20; ++i)
      if (!(table.stats(i, demand) > table.stats(i - 1, demand)))
        return "inference demand does not rise with the growth rate at point " + std::to_string(i);
    std::vector<std::string> overrides = sets;
    overrides.push_back("classes.inference.growth.rate=0.5");
    RunOptions options;
    options.paths = 8;
    options.seed = 1;
    options.has_seed = true;
    const RunResult r = run(load_baseline(overrides), registries(), options);
    for (Eigen::Index j = 0; j < 4; ++j)
      if (!(table.stats.row(0).segment(j * table.columns, table.columns) ==
            r.key_figure_stats.row(j))
               .all())
        return std::string("point 0 differs from capsim::run with its --set value");
    return std::string();
  });
  if (!ok) return;
  const RssProbe rss;
  for (auto _ : state) run_sweep(paths);
  // One iteration steps 20 runs; count them as 20x the steps of one.
  const ScenarioSpec spec = load_baseline(sets);
  set_counters(state, shape_of(spec, 20 * make_layout(spec).steps, paths, threads), rss);
}

// Scaling in steps: a generated scenario shaped like the baseline (2
// regions, 2 SKUs, 5 classes), daily or hourly over a horizon. Args: step
// hours (24 or 1), horizon months, paths.
void bm_scale_steps(benchmark::State& state) {
  const int hours = static_cast<int>(state.range(0));
  const ScenarioSpec spec =
      generated_scenario(2, 2, 5, hours == 1 ? "1h" : "1d", static_cast<int>(state.range(1)));
  if (!checked(state,
               spec.name + "/" + std::to_string(hours) + "/" + std::to_string(state.range(1)),
               [&] { return check_run(spec, 1); }))
    return;
  time_run(state, spec, state.range(2), 1);
}

// Scaling in shape: a generated scenario. Args: regions, SKUs, classes,
// paths, threads.
void bm_scale_shape(benchmark::State& state, Config config) {
  const ScenarioSpec spec =
      generated_scenario(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)),
                         static_cast<int>(state.range(2)), "1d", config.tiny ? 1 : 12);
  const int threads = static_cast<int>(state.range(4));
  if (!checked(state, spec.name, [&] { return check_run(spec, threads); })) return;
  time_run(state, spec, state.range(3), threads);
}

}  // namespace

void register_engine_benchmarks(const Config& config) {
  using benchmark::RegisterBenchmark;
  auto common = [&](benchmark::internal::Benchmark* b) {
    b->Unit(benchmark::kMillisecond)->UseRealTime();
    if (config.tiny) b->Iterations(1);
    return b;
  };
  const std::int64_t tiny_paths = 16;

  auto* kernel = common(RegisterBenchmark("kernel/baseline", bm_kernel, config, false));
  kernel->ArgNames({"paths", "threads"});
  auto* run = common(RegisterBenchmark("run/baseline", bm_run_baseline, config));
  run->ArgNames({"paths", "threads"});
  auto* kernel_requests = common(RegisterBenchmark("kernel/requests", bm_kernel, config, true));
  kernel_requests->ArgNames({"paths", "threads"});
  auto* run_requests = common(RegisterBenchmark("run/requests", bm_run_requests, config));
  run_requests->ArgNames({"paths", "threads"});
  auto* e2e = common(RegisterBenchmark("end_to_end/baseline", bm_end_to_end, config));
  e2e->ArgNames({"paths", "threads"});
  auto* sweep = common(RegisterBenchmark("sweep20/baseline", bm_sweep20, config));
  sweep->ArgNames({"paths"});
  auto* steps = common(RegisterBenchmark("scale/steps", bm_scale_steps));
  steps->ArgNames({"step_hours", "months", "paths"});
  auto* regions = common(RegisterBenchmark("scale/regions", bm_scale_shape, config));
  auto* skus = common(RegisterBenchmark("scale/skus", bm_scale_shape, config));
  auto* classes = common(RegisterBenchmark("scale/classes", bm_scale_shape, config));
  for (auto* b : {regions, skus, classes})
    b->ArgNames({"regions", "skus", "classes", "paths", "threads"});

  if (config.tiny) {
    for (auto* b : {kernel, e2e, kernel_requests, run_requests}) b->Args({tiny_paths, 1});
    run->Args({tiny_paths, 2});  // the parallel path, once
    sweep->Arg(4);
    steps->Args({1, 1, 4});
    regions->Args({3, 1, 2, tiny_paths, 1});
    skus->Args({1, 2, 1, tiny_paths, 1});
    classes->Args({1, 1, 3, tiny_paths, 1});
    return;
  }
  // Paths series, up to --max-paths.
  for (const std::int64_t paths : {100, 1000, 10000, 100000, 1000000})
    for (const std::int64_t threads : {1, 2}) {
      if (paths > config.max_paths) continue;
      kernel->Args({paths, threads});
      run->Args({paths, threads});
      kernel_requests->Args({paths, threads});
      run_requests->Args({paths, threads});
    }
  for (const std::int64_t threads : {1, 2}) e2e->Args({10000, threads});
  sweep->Arg(1000);
  for (const std::int64_t months : {3, 6, 12, 24}) steps->Args({24, months, 1000});
  for (const std::int64_t months : {1, 2, 3}) steps->Args({1, months, 1000});
  for (const std::int64_t r : {2, 4, 8, 16}) regions->Args({r, 2, 4, 1000, 1});
  for (const std::int64_t k : {1, 2, 4, 8}) skus->Args({2, k, 4, 1000, 1});
  for (const std::int64_t c : {1, 2, 4, 8}) classes->Args({2, 2, c, 1000, 1});
}

}  // namespace capsim::bench
