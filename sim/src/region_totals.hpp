// Region totals (SPEC 4): per path, each region's demand, served, unserved
// and backlog summed over classes, and the per-region key figures. Computed
// from a step's per-path values right after the kernel wrote them, so the
// statistics across paths of these series are quantiles of the sums, which
// the per-class statistics cannot give.
#pragma once

#include <Eigen/Core>

#include "capsim/results.hpp"

namespace capsim::detail {

// Columns read and written, looked up once per run.
struct RegionTotalColumns {
  Eigen::Index R = 0, C = 0;
  // First column of the (class, region) inputs, c * R + r.
  Eigen::Index demand = 0, served = 0, unserved = 0, backlog = 0, capex = 0, opex = 0;
  // First column of the (region) outputs.
  Eigen::Index region_demand = 0, region_served = 0, region_unserved = 0, region_backlog = 0;
  // First key-figure column of the per-region key figures.
  Eigen::Index kf_unserved_fraction = 0, kf_spend = 0;
};
RegionTotalColumns region_total_columns(const Layout& layout);

// Per-path running sums over the steps: R columns of demand, R of unserved
// and R of spend (capex + opex), in H100e-GPU-hours and USD.
inline Eigen::Index region_accumulator_columns(const RegionTotalColumns& cols) {
  return 3 * cols.R;
}

// For the rows of one step's values (paths x layout.series_columns):
// region_X[r] = sum over classes c (in class order) of X[c, r] for X in
// demand, served, unserved, backlog; and adds the step's demand, unserved
// and capex + opex of each region to `acc` (same rows x 3R).
void add_region_totals(const RegionTotalColumns& cols, Eigen::Ref<Eigen::ArrayXXd> values,
                       Eigen::Ref<Eigen::ArrayXXd> acc);

// Writes the per-region key figures from the accumulated sums:
// region_unserved_fraction[r] = unserved / demand (0 without demand) and
// region_spend_usd[r] = capex + opex over the horizon.
void finish_region_totals(const RegionTotalColumns& cols,
                          const Eigen::Ref<const Eigen::ArrayXXd>& acc,
                          Eigen::Ref<Eigen::ArrayXXd> key_figures);

}  // namespace capsim::detail
