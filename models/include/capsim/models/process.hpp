// A per-path stochastic process advanced one step at a time, vectorized over
// a chunk of paths. Demand growth, noise and shocks, outages, FX and
// electricity prices all have this shape.
//
// Contract:
// - `state` has one row per path of the chunk and state_size() columns; the
//   model owns its meaning. init() is called once before step 0.
// - step(t) advances the state to step t and writes the process value for
//   step t (one per path) into `value`.
// - All randomness comes from ctx.rng with ctx.stream_index, keyed by path
//   and step, so results do not depend on chunking or threads.
// - With ctx.deterministic the value is the process mean at step t (noise
//   1, shocks 1, outages 0, an FX or price factor its expectation) and the
//   generator is not used.
#pragma once

#include <Eigen/Core>
#include <cstdint>

#include "capsim/rng.hpp"

namespace capsim::models {

struct ChunkContext {
  const Rng* rng = nullptr;
  std::int64_t path0 = 0;  // global index of the chunk's first path
  Eigen::Index paths = 0;  // rows in the chunk
  double step_hours = 24.0;
  bool deterministic = false;
  std::uint32_t stream_index = 0;  // instance of this process (e.g. c * R + r)
};

class PathProcess {
 public:
  virtual ~PathProcess() = default;
  virtual int state_size() const = 0;
  virtual void init(const ChunkContext& ctx, Eigen::Ref<Eigen::ArrayXXd> state) const = 0;
  virtual void step(const ChunkContext& ctx, int t, Eigen::Ref<Eigen::ArrayXXd> state,
                    Eigen::Ref<Eigen::ArrayXd> value) const = 0;
};

}  // namespace capsim::models
