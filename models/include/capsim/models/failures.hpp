// How many of n GPUs change state in one step (SPEC 3.1 step 2).
#pragma once

#include <Eigen/Core>
#include <cstdint>

#include "capsim/models/process.hpp"
#include "capsim/models/registry.hpp"

namespace capsim::models {

// Contract: for each path i of the chunk, out[i] is a random count in
// [0, n[i]] with mean n[i] * p (Binomial(n, p), or an approximation whose
// error the model documents). `stream` is Stream::failure or Stream::repair;
// `draw` separates calls for the same (step, stream, ctx.stream_index): it is
// the Philox draw counter of the call's numbers. With ctx.deterministic,
// out = n * p exactly. n holds whole numbers except in deterministic runs.
class FailureModel {
 public:
  virtual ~FailureModel() = default;
  virtual void sample(const ChunkContext& ctx, int t, Stream stream,
                      Eigen::Ref<const Eigen::ArrayXd> n, double p, Eigen::Ref<Eigen::ArrayXd> out,
                      std::uint32_t draw = 0) const = 0;
};

}  // namespace capsim::models
