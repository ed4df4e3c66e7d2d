// The bare step kernel (detail::init_chunk / step_chunk / finish_chunk)
// driven the way capsim::run drives it, without statistics, sinks or
// progress: what the "core throughput" figure of SPEC 8 times.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <barrier>
#include <cstdint>
#include <thread>
#include <vector>

#include "../sim/src/region_totals.hpp"
#include "../sim/src/step_kernel.hpp"
#include "bench_common.hpp"
#include "capsim/rng.hpp"

namespace capsim::bench {

// Paths per chunk, RunOptions' default.
inline constexpr Eigen::Index kChunk = 256;

// Runs body(worker, phase) for phase = 0 .. phases-1 on `threads` threads
// (worker = 0 .. threads-1, worker 0 is the calling thread); all workers
// finish a phase before any starts the next, and done(phase) runs on one
// thread in between. `done` must not throw.
template <class Body, class Done>
void for_each_phase(int threads, int phases, Body&& body, Done&& done) {
  int phase = 0;
  auto completion = [&]() noexcept { done(phase++); };
  std::barrier sync(threads, completion);
  auto work = [&](int worker) {
    for (int p = 0; p < phases; ++p) {
      body(worker, p);
      sync.arrive_and_wait();
    }
  };
  std::vector<std::jthread> pool;
  for (int w = 1; w < threads; ++w) pool.emplace_back(work, w);
  work(0);
}

struct KernelRun {
  std::vector<detail::ChunkState> chunks;
  std::vector<detail::StepScratch> scratch;  // per thread
  Eigen::ArrayXXd values;                    // paths x series_columns, the last step's values
  Eigen::ArrayXXd key_figures;               // paths x key_figure_columns (when finished)
  Eigen::ArrayXXd region_acc;                // the region totals' running sums
};

// Steps `paths` paths of `plan` through every step in chunks of
// `chunk_paths` on `threads` threads (chunk c on thread c mod threads), with
// the region totals the engine adds after each step of a chunk.
// on_step(t, values) is called after each step (pass a no-op to time the
// kernel alone); it must not throw.
template <class OnStep>
void run_kernel(const detail::Plan& plan, std::uint64_t seed, std::int64_t paths, int threads,
                Eigen::Index chunk_paths, bool finish, KernelRun& run, OnStep&& on_step) {
  const Rng rng(seed);
  const Eigen::Index chunks = (paths + chunk_paths - 1) / chunk_paths;
  run.chunks.resize(static_cast<std::size_t>(chunks));
  run.scratch.resize(static_cast<std::size_t>(threads));
  run.values.resize(paths, plan.layout.series_columns);
  if (finish) run.key_figures.resize(paths, plan.layout.key_figure_columns);
  const detail::RegionTotalColumns region_cols = detail::region_total_columns(plan.layout);
  run.region_acc.setZero(paths, detail::region_accumulator_columns(region_cols));
  auto first = [&](Eigen::Index c) { return c * chunk_paths; };
  auto rows = [&](Eigen::Index c) { return std::min<Eigen::Index>(chunk_paths, paths - first(c)); };
  // Phase 0 initializes, phases 1..T step, phase T+1 finishes.
  for_each_phase(
      threads, plan.T + 2,
      [&](int worker, int phase) {
        for (Eigen::Index c = worker; c < chunks; c += threads) {
          auto& s = run.chunks[static_cast<std::size_t>(c)];
          if (phase == 0)
            detail::init_chunk(plan, rng, first(c), rows(c), s);
          else if (phase <= plan.T) {
            detail::step_chunk(plan, rng, phase - 1, s,
                               run.scratch[static_cast<std::size_t>(worker)],
                               run.values.middleRows(first(c), rows(c)));
            detail::add_region_totals(region_cols, run.values.middleRows(first(c), rows(c)),
                                      run.region_acc.middleRows(first(c), rows(c)));
          } else if (finish) {
            detail::finish_chunk(plan, s, run.key_figures.middleRows(first(c), rows(c)));
            detail::finish_region_totals(region_cols, run.region_acc.middleRows(first(c), rows(c)),
                                         run.key_figures.middleRows(first(c), rows(c)));
          }
        }
      },
      [&](int phase) {
        if (phase >= 1 && phase <= plan.T) on_step(phase - 1, run.values);
      });
}

// Times the bare kernel of `spec` over `paths` paths in chunks of `chunk`
// and sets the shared counters.
inline void time_kernel(benchmark::State& state, const ScenarioSpec& spec, std::int64_t paths,
                        int threads, Eigen::Index chunk) {
  const detail::Plan plan = detail::make_plan(spec, registries());
  const RssProbe rss;
  for (auto _ : state) {
    KernelRun k;
    run_kernel(plan, spec.time.seed, paths, threads, chunk, false, k,
               [](int, const Eigen::ArrayXXd&) {});
    benchmark::DoNotOptimize(k.values.data());
  }
  set_counters(state, shape_of(spec, plan.T, paths, threads), rss);
}

}  // namespace capsim::bench
