// Ranking, stored results, and the step that turns a complete sweep of a
// sensitivity method into its indices.
#include "capsim/study/sensitivity.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "capsim/error.hpp"
#include "design.hpp"

namespace capsim::sensitivity {

Eigen::ArrayXXi rank_inputs(const Eigen::Ref<const Eigen::ArrayXXd>& importance) {
  const Eigen::Index T = importance.rows(), k = importance.cols();
  Eigen::ArrayXXi rank(T, k);
  std::vector<Eigen::Index> order(static_cast<std::size_t>(k));
  for (Eigen::Index t = 0; t < T; ++t) {
    std::iota(order.begin(), order.end(), Eigen::Index{0});
    std::stable_sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) {
      const double x = std::abs(importance(t, a)), y = std::abs(importance(t, b));
      if (std::isnan(x) || std::isnan(y)) return !std::isnan(x) && std::isnan(y);
      return x > y;
    });
    for (Eigen::Index r = 0; r < k; ++r) rank(t, order[static_cast<std::size_t>(r)]) = r + 1;
  }
  return rank;
}

const Measure* Result::find(const std::string& name) const {
  for (const Measure& m : measures)
    if (m.name == name) return &m;
  return nullptr;
}

}  // namespace capsim::sensitivity

namespace capsim::sweep {

void analyse(Table& table, const std::vector<Target>& targets, const std::string& shown) {
  const auto design = detail::find_design(table.method);
  if (!design->analyses())
    throw InputError("--method " + table.method + " computes no sensitivity indices");
  if (table.points_done() != table.points())
    throw InputError("sensitivity indices need every point of the sweep (" +
                     std::to_string(table.points_done()) + " of " + std::to_string(table.points()) +
                     " are done)");
  const Eigen::Index M = table.points(), T = static_cast<Eigen::Index>(targets.size());
  Eigen::ArrayXXd y(M, T);
  for (Eigen::Index t = 0; t < T; ++t) {
    const Target& target = targets[static_cast<std::size_t>(t)];
    y.col(t) = table.stats.col(target.stat * table.columns + target.column);
  }
  sensitivity::Result result = design->analyse(definition_of(table), table.values, y);
  result.inputs = table.axis_keys;
  for (const Target& target : targets) {
    result.targets.push_back(target.name);
    result.target_units.push_back(target.unit);
  }
  result.target = shown;
  const sensitivity::Measure* by = result.find(result.ranked_by);
  result.rank = sensitivity::rank_inputs(by->values);
  table.sensitivity = std::move(result);
}

}  // namespace capsim::sweep
