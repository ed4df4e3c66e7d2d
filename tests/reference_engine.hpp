// A scalar reference implementation of the simulation model (docs/model.md),
// written from the documented equations and independent of the vectorized
// step kernel: one path at a time, one step at a time, plain loops over
// regions r, SKUs k and classes c.
//
// It shares with the engine only what the model defines as shared: the model
// objects built from the scenario's slots (growth, noise, shocks, outages,
// prices, FX, failures, policy), each called for a chunk of ONE path with the
// engine's stream_index conventions, and the counter-based random streams.
// Since every random number is a pure function of (seed, path, step, stream,
// index, draw), its values must equal capsim::run's draw for draw.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "capsim/models/builtin.hpp"
#include "capsim/results.hpp"
#include "capsim/scenario.hpp"

namespace capsim::reference {

struct ReferenceResult {
  Layout layout;                       // make_layout(spec): the column layout
  std::vector<Eigen::ArrayXXd> steps;  // steps[t]: (paths x layout.series_columns)
  Eigen::ArrayXXd key_figures;         // (paths x layout.key_figure_columns)
};

// Runs paths 0 .. paths-1 of `spec` with `seed`, each on its own, in the
// column layout of make_layout(spec). Throws std::invalid_argument for a
// scenario outside what the reference covers (an explicit order dated before
// the start).
ReferenceResult reference_run(const ScenarioSpec& spec, const models::ModelRegistries& registries,
                              std::int64_t paths, std::uint64_t seed);

}  // namespace capsim::reference
