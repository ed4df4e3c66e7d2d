#include "capsim/engine.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <limits>
#include <sstream>
#include <string>
#include <thread>

#include "capsim/error.hpp"
#include "engine_plan.hpp"
#include "region_totals.hpp"
#include "statistics.hpp"
#include "step_kernel.hpp"
#include "thread_pool.hpp"

namespace capsim {

namespace {

// The scenario's bounds (scenarios/README.md) and the models' saturation keep
// every key figure of an accepted scenario a finite number; should one still
// not be, the run fails naming the first such figure instead of writing it.
void check_finite(const RunResult& result) {
  const Layout& layout = result.layout;
  for (const KeyFigureInfo& info : layout.key_figures) {
    for (Eigen::Index i = 0; i < info.width; ++i) {
      const auto column = result.key_figures.col(info.offset + i);
      if (column.allFinite()) continue;
      Eigen::Index path = 0;
      while (std::isfinite(column[path])) ++path;
      const std::string name =
          info.dims.empty() ? info.name
                            : info.name + "[" + layout.classes[static_cast<std::size_t>(i)] + "]";
      std::ostringstream value;
      value << column[path];
      throw RuntimeError("key figure " + name + " is not a finite number (got " + value.str() +
                         " on path " + std::to_string(path) +
                         "); the scenario's magnitudes are beyond what the run can represent, "
                         "nothing was written");
    }
  }
}

}  // namespace

RunResult run(const ScenarioSpec& spec, const models::ModelRegistries& registries,
              const RunOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  const detail::Plan plan = detail::make_plan(spec, registries);
  const std::int64_t paths = options.paths > 0 ? options.paths : spec.time.paths;
  const std::uint64_t seed = options.has_seed ? options.seed : spec.time.seed;
  if (paths <= 0) throw InputError("the number of paths must be at least 1");
  if (options.first_path < 0) throw InputError("the first path must be at least 0");
  const int threads = options.threads > 0
                          ? options.threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  detail::ThreadPool pool(threads);
  const Eigen::Index chunk = std::max<Eigen::Index>(1, options.chunk_paths);
  const Eigen::Index chunks = (paths + chunk - 1) / chunk;
  const Rng rng(seed);
  const Layout& layout = plan.layout;

  RunResult result;
  result.layout = layout;
  result.paths = paths;
  result.seed = seed;
  std::vector<detail::SeriesStats> trackers;
  std::vector<detail::StatsScratch> stats_scratch(static_cast<size_t>(pool.threads()));
  if (options.series_stats)
    for (const auto& s : layout.series) {
      result.series_stats.emplace_back(plan.T, 4 * s.width);
      trackers.emplace_back(s.width);
    }

  std::vector<detail::ChunkState> state(static_cast<size_t>(chunks));
  auto rows = [&](Eigen::Index c) {
    const Eigen::Index first = c * chunk;
    return std::pair{first, std::min<Eigen::Index>(chunk, paths - first)};
  };
  pool.parallel_for(chunks, [&](Eigen::Index c, int) {
    const auto [first, n] = rows(c);
    detail::init_chunk(plan, rng, options.first_path + first, n, state[static_cast<size_t>(c)]);
  });

  // Per thread: one scratch for full chunks, one for the last, shorter one
  // (so that no thread resizes its scratch every step).
  std::vector<detail::StepScratch> scratch(2 * static_cast<size_t>(pool.threads()));
  Eigen::ArrayXXd values(paths, layout.series_columns);
  const detail::RegionTotalColumns region_cols = detail::region_total_columns(layout);
  Eigen::ArrayXXd region_acc =
      Eigen::ArrayXXd::Zero(paths, detail::region_accumulator_columns(region_cols));
  const auto series_count = static_cast<Eigen::Index>(layout.series.size());
  for (int t = 0; t < plan.T; ++t) {
    if (options.cancel && options.cancel->load()) throw Interrupted();
    pool.parallel_for(chunks, [&](Eigen::Index c, int thread) {
      const auto [first, n] = rows(c);
      auto& w = scratch[2 * static_cast<size_t>(thread) + (n == chunk ? 0 : 1)];
      detail::step_chunk(plan, rng, t, state[static_cast<size_t>(c)], w,
                         values.middleRows(first, n));
      detail::add_region_totals(region_cols, values.middleRows(first, n),
                                region_acc.middleRows(first, n));
    });
    if (options.sink) options.sink->on_step(t, values);
    if (options.series_stats)
      pool.parallel_for(series_count, [&](Eigen::Index i, int thread) {
        const auto& s = layout.series[static_cast<size_t>(i)];
        trackers[static_cast<size_t>(i)].update(values.middleCols(s.offset, s.width),
                                                stats_scratch[static_cast<size_t>(thread)],
                                                result.series_stats[static_cast<size_t>(i)], t);
      });
    if (options.progress) options.progress(t + 1, plan.T);
  }
  values.resize(0, 0);

  result.key_figures.resize(paths, layout.key_figure_columns);
  pool.parallel_for(chunks, [&](Eigen::Index c, int) {
    const auto [first, n] = rows(c);
    detail::finish_chunk(plan, state[static_cast<size_t>(c)],
                         result.key_figures.middleRows(first, n));
    detail::finish_region_totals(region_cols, region_acc.middleRows(first, n),
                                 result.key_figures.middleRows(first, n));
  });
  check_finite(result);
  result.key_figure_stats = column_stats(result.key_figures);
  result.prob_over_budget =
      result.key_figures.col(layout.find_key_figure("over_budget").offset).mean();
  result.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return result;
}

}  // namespace capsim

namespace capsim {

std::uint64_t estimate_run_bytes(const ScenarioSpec& spec,
                                 const models::ModelRegistries& registries, std::int64_t paths) {
  const detail::Plan plan = detail::make_plan(spec, registries);
  const Layout& layout = plan.layout;
  const auto P = static_cast<long double>(std::max<std::int64_t>(paths, 0));
  const auto R = static_cast<long double>(layout.regions.size());
  const auto K = static_cast<long double>(layout.skus.size());
  const auto C = static_cast<long double>(layout.classes.size());
  const auto S = static_cast<long double>(layout.series_columns);
  const auto F = static_cast<long double>(layout.key_figure_columns);

  long double model_state = 0;
  const auto& m = plan.models;
  for (std::size_t c = 0; c < m.growth.size(); ++c)
    model_state +=
        m.growth[c]->state_size() + m.shocks[c]->state_size() + R * m.noise[c]->state_size();
  for (std::size_t r = 0; r < m.outages.size(); ++r)
    model_state += m.outages[r]->state_size() + m.price[r]->state_size();
  model_state += m.fx->state_size();
  long double backlog = 0;
  for (int slots : plan.backlog_slots) backlog += R * slots;

  const long double per_path =
      S + F                                                         // step values, key figures
      + 3 * R * K                                                   // installed, failed, on order
      + static_cast<long double>(plan.order_step.size())            // explicit orders
      + 1.5L * static_cast<long double>(plan.policy_slots) * R * K  // policy orders (+ int step)
      + backlog + model_state                                       // training backlog, models
      + R + K + 2 +
      (static_cast<long double>(detail::acc_fixed_count) + 2 * C)  // review, quarter, money, totals
      + 3 * R;                                                     // region totals
  const long double doubles =
      P * per_path + static_cast<long double>(plan.T) * 4 * S;  // + series statistics
  const long double bytes = 1.25L * 8.0L * doubles;
  constexpr auto kMax = static_cast<long double>(std::numeric_limits<std::uint64_t>::max());
  return bytes >= kMax ? std::numeric_limits<std::uint64_t>::max()
                       : static_cast<std::uint64_t>(bytes);
}

}  // namespace capsim
