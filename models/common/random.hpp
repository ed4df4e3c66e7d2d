// Per-step random numbers for path processes, two steps per Philox block
// (internal to capsim::models).
//
// The number for step t is component (t mod 2) of the block at step
// 2 floor(t / 2) of the process's (stream, ctx.stream_index): a pure function
// of (seed, path, step, stream, index) as in capsim/rng.hpp. The even step
// keeps the other component in `spare` (a state column), so each block (for
// normals, each pair from Rng::normal2) serves two steps.
#pragma once

#include <Eigen/Core>
#include <cstdint>

#include "capsim/models/process.hpp"

namespace capsim::models {

enum class Draw { uniform, normal };

// Writes the numbers of step t into `out`. `first_step` is the first step at
// which the process draws; steps must then be drawn in order (every step).
template <Draw kind>
void paired_draw(const ChunkContext& ctx, Stream stream, int t, int first_step,
                 Eigen::Ref<Eigen::ArrayXd> out, Eigen::Ref<Eigen::ArrayXd> spare) {
  const bool odd = (t % 2) == 1;
  if (odd && t - 1 >= first_step) {
    out = spare;
    return;
  }
  const auto block_step = static_cast<std::uint32_t>(t - (odd ? 1 : 0));
  for (Eigen::Index i = 0; i < out.size(); ++i) {
    const Rng::Pair pair =
        kind == Draw::uniform
            ? ctx.rng->uniform2(ctx.path0 + i, block_step, stream, ctx.stream_index)
            : ctx.rng->normal2(ctx.path0 + i, block_step, stream, ctx.stream_index);
    out[i] = odd ? pair.b : pair.a;
    spare[i] = odd ? pair.a : pair.b;
  }
}

}  // namespace capsim::models
