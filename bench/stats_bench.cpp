// Statistics across paths: column_stats (mean and type-7 quantiles) of a
// (paths x columns) matrix shaped like one step of the baseline, i.e. what
// the engine computes once per step. Checked against a sort-based reference.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "capsim/results.hpp"

namespace capsim::bench {

namespace {

// Mean and quantiles by sorting a copy of each column (type 7).
StatsRow sorted_stats(const Eigen::ArrayXXd& values) {
  StatsRow out(4, values.cols());
  const Eigen::Index n = values.rows();
  std::vector<double> x(static_cast<std::size_t>(n));
  for (Eigen::Index j = 0; j < values.cols(); ++j) {
    for (Eigen::Index i = 0; i < n; ++i) x[static_cast<std::size_t>(i)] = values(i, j);
    std::sort(x.begin(), x.end());
    double sum = 0;
    for (double v : x) sum += v;
    out(0, j) = sum / static_cast<double>(n);
    for (std::size_t q = 0; q < kQuantiles.size(); ++q) {
      const double h = static_cast<double>(n - 1) * kQuantiles[q];
      const auto lo = static_cast<std::size_t>(std::floor(h));
      const std::size_t hi = std::min(lo + 1, x.size() - 1);
      out(static_cast<Eigen::Index>(q) + 1, j) = x[lo] + (h - std::floor(h)) * (x[hi] - x[lo]);
    }
  }
  return out;
}

// Columns of mixed shapes: normal, lognormal, many ties (counts), constant.
Eigen::ArrayXXd sample_matrix(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  Eigen::ArrayXXd m(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j)
    for (Eigen::Index i = 0; i < rows; ++i) {
      const double z = normal(gen);
      switch (j % 4) {
        case 0:
          m(i, j) = 1000.0 + 100.0 * z;
          break;
        case 1:
          m(i, j) = std::exp(z);
          break;
        case 2:
          m(i, j) = std::round(3.0 * z);
          break;
        default:
          m(i, j) = 42.0;
          break;
      }
    }
  return m;
}

// Argument: paths. Columns: the baseline's series columns.
void bm_column_stats(benchmark::State& state) {
  const Eigen::Index paths = state.range(0);
  const Eigen::Index cols = make_layout(load_baseline()).series_columns;
  const bool ok = checked(state, "column_stats", [&] {
    for (Eigen::Index rows : {1, 2, 3, 10, 101, 1000}) {
      const Eigen::ArrayXXd m = sample_matrix(rows, 8, static_cast<unsigned>(rows));
      const std::string e =
          compare_arrays(column_stats(m), sorted_stats(m), "rows " + std::to_string(rows));
      if (!e.empty()) return e;
    }
    return std::string();
  });
  if (!ok) return;
  const Eigen::ArrayXXd values = sample_matrix(paths, cols, 1);
  const RssProbe rss;
  for (auto _ : state) {
    StatsRow s = column_stats(values);
    benchmark::DoNotOptimize(s.data());
  }
  // One call is one step of every path.
  const ScenarioSpec spec = load_baseline();
  set_counters(state, shape_of(spec, 1, paths, 1), rss);
  state.counters["columns"] = static_cast<double>(cols);
}

}  // namespace

void register_stats_benchmarks(const Config& config) {
  auto* b = benchmark::RegisterBenchmark("stats/column_stats", bm_column_stats)
                ->Unit(benchmark::kMicrosecond)
                ->UseRealTime();
  if (config.tiny)
    b->Arg(100)->Iterations(1);
  else
    b->Arg(1000)->Arg(10000)->Arg(100000);
}

}  // namespace capsim::bench
