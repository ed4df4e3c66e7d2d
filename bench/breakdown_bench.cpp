// Where a path-step's time goes, measured by difference (the engine has no
// timers of its own), and the ceiling it is compared against.
//
//   breakdown/kernel/random         the bare kernel on the baseline, 1 thread
//   breakdown/kernel/deterministic  the same with time.deterministic: true (no
//                                   draws, no random events): the difference
//                                   is random numbers and random models
//   breakdown/classes/C             a generated deterministic scenario of 2
//                                   regions, 2 SKUs and C classes: the slope
//                                   in C is demand and allocation per class;
//                                   the intercept is fleet, power and money
//   stats/column_stats, output/hdf5 statistics and output, measured alone
//   ceiling/fma                     a loop of multiply-adds over an array of
//                                   (paths x the baseline's series columns),
//                                   4 per value per step: the arithmetic
//                                   ceiling for a kernel that must write that
//                                   many values per path-step
//   rng/normal2                     the random-number ceiling
//
// bench/run-series.sh turns these into the breakdown table of the README.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "kernel.hpp"

namespace capsim::bench {

namespace {

// Checks that a deterministic run has no spread across paths (every path is
// the expected-value plan), which is what makes the difference "random
// numbers and random models".
std::string check_deterministic(const ScenarioSpec& spec) {
  const detail::Plan plan = detail::make_plan(spec, registries());
  KernelRun k;
  std::string error;
  run_kernel(plan, spec.time.seed, 5, 1, 2, false, k, [&](int t, const Eigen::ArrayXXd& v) {
    if (!error.empty()) return;
    for (Eigen::Index i = 1; i < v.rows(); ++i)
      if (!(v.row(i) == v.row(0)).all())
        error = "deterministic paths differ at step " + std::to_string(t);
  });
  return error;
}

// Args: paths, deterministic (0/1).
void bm_breakdown_kernel(benchmark::State& state, Config config) {
  std::vector<std::string> overrides = baseline_overrides(config);
  const bool deterministic = state.range(1) != 0;
  if (deterministic) overrides.push_back("time.deterministic=true");
  const ScenarioSpec spec = load_baseline(overrides);
  if (deterministic &&
      !checked(state, "breakdown/deterministic", [&] { return check_deterministic(spec); }))
    return;
  time_kernel(state, spec, state.range(0), 1, kChunk);
}

// Args: classes, paths.
void bm_breakdown_classes(benchmark::State& state, Config config) {
  const ScenarioSpec spec = generated_scenario(2, 2, static_cast<int>(state.range(0)), "1d",
                                               config.tiny ? 1 : 12, {"time.deterministic=true"});
  if (!checked(state, spec.name + "/deterministic", [&] { return check_deterministic(spec); }))
    return;
  time_kernel(state, spec, state.range(1), 1, kChunk);
}

// A step of the ceiling loop: 4 multiply-adds per value. With a = 0.5 and
// b = 1, x = 2 is a fixed point, so the values are known after any number of
// steps.
void fma_step(Eigen::Ref<Eigen::ArrayXXd> x) {
  constexpr double a = 0.5, b = 1.0;
  x = (((x * a + b) * a + b) * a + b) * a + b;
}

// Args: paths, threads. Chunks of 256 paths x the baseline's series columns,
// as the engine's chunks.
void bm_ceiling_fma(benchmark::State& state, Config config) {
  const std::int64_t paths = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  const ScenarioSpec spec = load_baseline(baseline_overrides(config));
  const Layout layout = make_layout(spec);
  const Eigen::Index chunks = (paths + kChunk - 1) / kChunk;
  std::vector<Eigen::ArrayXXd> state_arrays(static_cast<std::size_t>(chunks));
  for (auto& a : state_arrays) a = Eigen::ArrayXXd::Constant(kChunk, layout.series_columns, 2.0);
  auto steps = [&](int count) {
    for_each_phase(
        threads, count,
        [&](int worker, int) {
          for (Eigen::Index c = worker; c < chunks; c += threads)
            fma_step(state_arrays[static_cast<std::size_t>(c)]);
        },
        [](int) {});
  };
  const bool ok = checked(state, "ceiling/fma", [&] {
    steps(3);
    for (const auto& a : state_arrays)
      if (!(a == 2.0).all()) return std::string("the fixed point x = 2 moved");
    return std::string();
  });
  if (!ok) return;
  const RssProbe rss;
  for (auto _ : state) {
    steps(layout.steps);
    benchmark::DoNotOptimize(state_arrays.front().data());
  }
  set_counters(state, shape_of(spec, layout.steps, chunks * kChunk, threads), rss);
  state.counters["flops_per_s"] =
      benchmark::Counter(8.0 * static_cast<double>(chunks * kChunk * layout.series_columns) *
                             layout.steps * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

}  // namespace

void register_breakdown_benchmarks(const Config& config) {
  using benchmark::RegisterBenchmark;
  auto common = [&](benchmark::internal::Benchmark* b) {
    b->Unit(benchmark::kMillisecond)->UseRealTime();
    if (config.tiny) b->Iterations(1);
    return b;
  };
  const std::int64_t paths = config.tiny ? 16 : 10000;
  const std::int64_t class_paths = config.tiny ? 16 : 2000;
  auto* kernel = common(RegisterBenchmark("breakdown/kernel", bm_breakdown_kernel, config));
  kernel->ArgNames({"paths", "deterministic"})->Args({paths, 0})->Args({paths, 1});
  auto* classes = common(RegisterBenchmark("breakdown/classes", bm_breakdown_classes, config));
  classes->ArgNames({"classes", "paths"});
  auto* fma = common(RegisterBenchmark("ceiling/fma", bm_ceiling_fma, config));
  fma->ArgNames({"paths", "threads"});
  if (config.tiny) {
    classes->Args({2, class_paths});
    fma->Args({paths, 1});
    return;
  }
  for (const std::int64_t c : {1, 2, 4, 8}) classes->Args({c, class_paths});
  for (const std::int64_t threads : {1, 2}) fma->Args({paths, threads});
}

}  // namespace capsim::bench
