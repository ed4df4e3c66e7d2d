// The time loop: steps every path of a scenario through time (SPEC 3.1).
#pragma once

#include <Eigen/Core>
#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "capsim/error.hpp"
#include "capsim/models/builtin.hpp"
#include "capsim/results.hpp"
#include "capsim/scenario.hpp"

namespace capsim {

// Receives each step's per-path values (e.g. to save full paths). Called
// from one thread, in step order.
class StepSink {
 public:
  virtual ~StepSink() = default;
  virtual void on_step(int t, const Eigen::Ref<const Eigen::ArrayXXd>& values) = 0;
};

struct RunOptions {
  std::int64_t paths = 0;  // 0: take spec.time.paths
  // Global index of the first path: the run covers paths [first_path,
  // first_path + paths). Path p is the same whatever run it is part of, so
  // runs of disjoint ranges can be split across processes and joined.
  std::int64_t first_path = 0;
  std::uint64_t seed = 0;  // used when has_seed
  bool has_seed = false;
  int threads = 0;                 // 0: all cores
  Eigen::Index chunk_paths = 256;  // paths per vectorized chunk (does not change results)
  // false: skip the per-step statistics across paths (series_stats stays
  // empty); for callers that only need the key figures, like sweeps.
  bool series_stats = true;
  StepSink* sink = nullptr;
  std::function<void(int done_steps, int total_steps)> progress;
  const std::atomic<bool>* cancel = nullptr;  // checked every step; throws Interrupted
};

// Runs the scenario. Pure function of (spec, paths, seed): bit-identical for
// any threads and chunk_paths.
RunResult run(const ScenarioSpec& spec, const models::ModelRegistries& registries,
              const RunOptions& options);

// What a valid scenario may get wrong without being invalid: every explicit
// order whose GPUs, with the region's initial fleet and every explicit order
// live (on time) in the order's arrival step, need more full-load IT power
// than the region's cap in force then (docs/model.md, step 4). One warning
// per such order, at its place in the scenario (key path
// procurement.orders.N), saying how many MW it is over. Orders that arrive
// after the horizon are not checked.
std::vector<Diagnostic> power_warnings(const ScenarioSpec& spec);

}  // namespace capsim

namespace capsim {

// An estimate, in bytes, of the memory a run of `paths` paths needs at its
// peak without --save-paths, from the run's plan: per path, one step's
// values (series columns) and the per-path key figures, the fleet, order,
// backlog and model state, in doubles; plus the per-step statistics of the
// whole run; times 1.25 for the allocator and the libraries. Saturates at
// UINT64_MAX instead of overflowing.
std::uint64_t estimate_run_bytes(const ScenarioSpec& spec,
                                 const models::ModelRegistries& registries, std::int64_t paths);

}  // namespace capsim
