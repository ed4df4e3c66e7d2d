// Per-step statistics of a run's series across paths (internal).
//
// SeriesStats gives, step after step, exactly what column_stats gives (the
// same mean bits, the same type-7 quantiles), but finds each quantile among
// a few values near it instead of selecting among all paths: a column's
// distribution across paths moves little from one step to the next, so the
// previous step's quantile, shifted by the change of the column's mean,
// brackets the new one. One counting pass finds the ranks below each
// bracket, a second gathers the values inside it, and the order statistics
// are selected among those. When a bracket misses its rank the column falls
// back to a full selection. Brackets only decide how fast the exact result
// is found, never what it is.
#pragma once

#include <Eigen/Core>
#include <array>
#include <vector>

#include "capsim/results.hpp"

namespace capsim::detail {

// Working memory of one thread (reused across columns and steps).
struct StatsScratch {
  std::vector<double> copy;  // fallback: the whole column
  // Values inside each bracket (grown as needed; the pass that gathers them
  // says how many are in use).
  std::array<std::vector<double>, 3> candidates;
};

// What a column's previous step says about its next one.
struct ColumnBracket {
  bool valid = false;              // center and half_width can be used
  double mean = 0.0, min = 0.0;    // of the previous step
  std::array<double, 3> center{};  // the previous step's order statistic at each level's rank
  std::array<double, 3> half_width{};
};

class SeriesStats {
 public:
  explicit SeriesStats(Eigen::Index columns);

  // Writes the statistics of `values` (rows = paths, one column per series
  // column) to row `row` of `dest`, laid out as [mean | p05 | p50 | p95],
  // values.cols() columns each; equal to column_stats(values).
  void update(const Eigen::Ref<const Eigen::ArrayXXd>& values, StatsScratch& scratch,
              Eigen::ArrayXXd& dest, Eigen::Index row);

 private:
  std::vector<ColumnBracket> columns_;
};

}  // namespace capsim::detail
