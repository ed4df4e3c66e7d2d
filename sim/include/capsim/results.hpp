// What a run produces: the catalog of per-step series and per-path key
// figures, and their statistics across paths.
//
// Layout of one step's values (StepValues): a (paths x columns) array; each
// series owns `width()` consecutive columns starting at `offset`. Column order
// inside a series is row-major over its dimensions, e.g. for (class, region):
// column = offset + c * R + r.
#pragma once

#include <Eigen/Core>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "capsim/scenario.hpp"

namespace capsim {

enum class Dim { region, sku, klass };

struct SeriesInfo {
  std::string name;         // e.g. "demand_h100e_gpuh"
  std::string unit;         // e.g. "H100e-GPU-hours per step"
  std::string description;  // one line
  std::vector<Dim> dims;    // e.g. {klass, region}; empty = one value per step
  Eigen::Index offset = 0;  // first column in StepValues
  Eigen::Index width = 1;   // product of dimension sizes
};

struct KeyFigureInfo {
  std::string name;  // e.g. "total_spend_usd"
  std::string unit;
  std::string description;
  std::vector<Dim> dims;  // empty, {klass} or {region}
  Eigen::Index offset = 0;
  Eigen::Index width = 1;
};

// Quantile levels reported for every series and key figure.
inline constexpr std::array<double, 3> kQuantiles = {0.05, 0.50, 0.95};
inline constexpr std::array<const char*, 4> kStatNames = {"mean", "p05", "p50", "p95"};

struct Layout {
  std::vector<std::string> regions, skus, classes;
  int steps = 0;
  double step_hours = 24.0;
  Date start{};
  std::vector<SeriesInfo> series;
  std::vector<KeyFigureInfo> key_figures;
  Eigen::Index series_columns = 0;
  Eigen::Index key_figure_columns = 0;

  Eigen::Index dim_size(Dim d) const {
    return d == Dim::region ? static_cast<Eigen::Index>(regions.size())
           : d == Dim::sku  ? static_cast<Eigen::Index>(skus.size())
                            : static_cast<Eigen::Index>(classes.size());
  }
  const std::vector<std::string>& dim_labels(Dim d) const {
    return d == Dim::region ? regions : d == Dim::sku ? skus : classes;
  }
  const SeriesInfo& find_series(const std::string& name) const;
  const KeyFigureInfo& find_key_figure(const std::string& name) const;
};

// Builds the catalog for a scenario (names and dimension sizes).
Layout make_layout(const ScenarioSpec& spec);

// Statistics across paths of a set of columns: rows are stats (mean, p05,
// p50, p95), one column per input column.
using StatsRow = Eigen::Array<double, 4, Eigen::Dynamic>;

// Mean and quantiles (kQuantiles, linear interpolation between order
// statistics, "type 7") of each column of `values` across its rows. The
// result does not depend on the row order.
StatsRow column_stats(const Eigen::Ref<const Eigen::ArrayXXd>& values);

struct RunResult {
  Layout layout;
  std::int64_t paths = 0;
  std::uint64_t seed = 0;
  // series_stats[s] is (steps x 4*width): for step t, stat j, column i the
  // value is series_stats[s](t, j * width + i).
  std::vector<Eigen::ArrayXXd> series_stats;
  Eigen::ArrayXXd key_figures;  // per path (paths x key_figure_columns)
  StatsRow key_figure_stats;    // (4 x key_figure_columns)
  double prob_over_budget = 0.0;
  double wall_seconds = 0.0;
};

}  // namespace capsim
