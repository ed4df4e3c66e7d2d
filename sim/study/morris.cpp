// --method morris: elementary effects on r trajectories over a p-level grid
// (Morris 1991), summarized by mu* (Campolongo et al. 2007) and sigma; a
// cheap screening of many inputs.
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "capsim/error.hpp"
#include "design.hpp"

namespace capsim::sensitivity {

Eigen::ArrayXXd morris_points(Eigen::Index inputs, std::int64_t trajectories, int levels,
                              std::uint64_t seed) {
  const Eigen::Index k = inputs;
  if (k < 1 || trajectories < 1 || levels < 2 || levels % 2 != 0)
    throw std::invalid_argument("morris_points: needs inputs >= 1, trajectories >= 1, even levels");
  using sweep::detail::kMorrisDirection;
  using sweep::detail::kMorrisOrder;
  using sweep::detail::kMorrisStart;
  const sweep::detail::PointRng rng(seed);
  const double step = 1.0 / (levels - 1);
  const double delta = levels / (2.0 * (levels - 1));
  Eigen::ArrayXXd points(trajectories * (k + 1), k);
  std::vector<Eigen::Index> order(static_cast<std::size_t>(k));
  for (std::int64_t t = 0; t < trajectories; ++t) {
    // x* on the levels {0, ..., 1 - Delta}, so that x* + Delta <= 1; input i
    // goes from x* to x* + Delta (up) or back (down).
    Eigen::ArrayXd low(k);
    std::vector<bool> up(static_cast<std::size_t>(k));
    for (Eigen::Index i = 0; i < k; ++i) {
      const auto a = static_cast<std::size_t>(i);
      low[i] = static_cast<double>(rng.below(levels / 2, a, t, kMorrisStart)) * step;
      up[a] = rng.uniform(a, t, kMorrisDirection) < 0.5;
    }
    std::iota(order.begin(), order.end(), Eigen::Index{0});
    for (Eigen::Index q = k - 1; q > 0; --q)
      std::swap(order[static_cast<std::size_t>(q)],
                order[static_cast<std::size_t>(
                    rng.below(q + 1, static_cast<std::size_t>(q), t, kMorrisOrder))]);
    const Eigen::Index row = t * (k + 1);
    for (Eigen::Index i = 0; i < k; ++i)
      points(row, i) = up[static_cast<std::size_t>(i)] ? low[i] : low[i] + delta;
    for (Eigen::Index s = 1; s <= k; ++s) {
      points.row(row + s) = points.row(row + s - 1);
      const Eigen::Index i = order[static_cast<std::size_t>(s - 1)];
      points(row + s, i) = up[static_cast<std::size_t>(i)] ? low[i] + delta : low[i];
    }
  }
  return points;
}

MorrisEffects morris_effects(const Eigen::Ref<const Eigen::ArrayXXd>& x,
                             const Eigen::Ref<const Eigen::ArrayXXd>& y,
                             const Bootstrap& bootstrap) {
  const Eigen::Index k = x.cols();
  if (k < 1 || x.rows() == 0 || x.rows() % (k + 1) != 0 || y.rows() != x.rows())
    throw std::invalid_argument(
        "morris_effects: needs r (inputs + 1) rows of points and as many of outputs");
  const Eigen::Index r = x.rows() / (k + 1), T = y.cols();
  // The step of each trajectory that moves input i, and by how much.
  Eigen::ArrayXXi moved_at(r, k);
  Eigen::ArrayXXd moved_by(r, k);
  for (Eigen::Index t = 0; t < r; ++t) {
    moved_at.row(t).setConstant(-1);
    for (Eigen::Index s = 1; s <= k; ++s) {
      const Eigen::Index row = t * (k + 1) + s;
      Eigen::Index changed = -1, count = 0;
      for (Eigen::Index i = 0; i < k; ++i)
        if (x(row, i) != x(row - 1, i)) {
          changed = i;
          ++count;
        }
      if (count != 1 || moved_at(t, changed) >= 0)
        throw std::invalid_argument("morris_effects: step " + std::to_string(s) +
                                    " of trajectory " + std::to_string(t) +
                                    " does not move exactly one input not moved before");
      moved_at(t, changed) = static_cast<int>(row);
      moved_by(t, changed) = x(row, changed) - x(row - 1, changed);
    }
  }
  MorrisEffects out;
  for (Eigen::ArrayXXd* m : {&out.mu, &out.mu_star, &out.mu_star_lo, &out.mu_star_hi, &out.sigma})
    m->resize(T, k);
  const sweep::detail::PointRng rng(bootstrap.seed);
  Eigen::ArrayXXd effects(r, k);
  std::vector<double> resampled;
  for (Eigen::Index target = 0; target < T; ++target) {
    for (Eigen::Index t = 0; t < r; ++t)
      for (Eigen::Index i = 0; i < k; ++i) {
        const Eigen::Index row = moved_at(t, i);
        effects(t, i) = (y(row, target) - y(row - 1, target)) / moved_by(t, i);
      }
    out.mu.row(target) = effects.colwise().mean();
    out.mu_star.row(target) = effects.abs().colwise().mean();
    for (Eigen::Index i = 0; i < k; ++i) {
      out.sigma(target, i) = r > 1 ? std::sqrt((effects.col(i) - out.mu(target, i)).square().sum() /
                                               static_cast<double>(r - 1))
                                   : std::nan("");
      resampled.clear();
      for (std::int64_t b = 0; b < bootstrap.resamples; ++b) {
        double sum = 0;
        for (Eigen::Index t = 0; t < r; ++t)
          sum += std::abs(
              effects(rng.below(r, static_cast<std::size_t>(b), t, sweep::detail::kBootstrap), i));
        resampled.push_back(sum / static_cast<double>(r));
      }
      const auto [lo, hi] = sweep::detail::percentile_interval(resampled, bootstrap.confidence);
      const bool defined = std::isfinite(out.mu_star(target, i));
      out.mu_star_lo(target, i) = defined ? lo : std::nan("");
      out.mu_star_hi(target, i) = defined ? hi : std::nan("");
    }
  }
  return out;
}

}  // namespace capsim::sensitivity

namespace capsim::sweep::detail {

namespace {

constexpr int kMaxLevels = 1000;

int levels_of(const Definition& definition) {
  return definition.levels > 0 ? definition.levels : kDefaultMorrisLevels;
}

class Morris final : public Design {
 public:
  const char* name() const override { return "morris"; }
  const char* description() const override {
    return "Morris elementary effects (mu*, sigma) on r trajectories of k + 1 points, r = "
           "--samples";
  }
  const char* samples_are() const override {
    return "trajectories r: the sweep runs r (k + 1) points for k keys; sigma needs two";
  }
  std::int64_t min_samples() const override { return 2; }
  bool needs_ranges() const override { return true; }
  bool analyses() const override { return true; }

  void check(const Definition& definition) const override {
    const int p = levels_of(definition);
    if (p < 2 || p > kMaxLevels || p % 2 != 0)
      throw InputError("--levels " + std::to_string(p) + ": expected an even number from 2 to " +
                       std::to_string(kMaxLevels) + " (levels of the Morris grid, default " +
                       std::to_string(kDefaultMorrisLevels) + ")");
    for (const Axis& axis : definition.axes)
      if (axis.integer && axis.hi - axis.lo < p - 1)
        fail_axis(axis.argument, "--method morris with --levels " + std::to_string(p) +
                                     " needs at least " + std::to_string(p) +
                                     " whole numbers in the range");
  }

  long double count(const Definition& definition) const override {
    return static_cast<long double>(definition.samples) *
           static_cast<long double>(definition.axes.size() + 1);
  }

  Points points(const Definition& definition) const override {
    const auto& axes = definition.axes;
    const Eigen::ArrayXXd u =
        sensitivity::morris_points(static_cast<Eigen::Index>(axes.size()), definition.samples,
                                   levels_of(definition), definition.seed);
    Points points(static_cast<std::size_t>(u.rows()), std::vector<std::string>(axes.size()));
    for (Eigen::Index m = 0; m < u.rows(); ++m)
      for (std::size_t a = 0; a < axes.size(); ++a)
        points[static_cast<std::size_t>(m)][a] =
            level_value(axes[a], u(m, static_cast<Eigen::Index>(a)));
    return points;
  }

  sensitivity::Result analyse(const Definition& definition, const Points& points,
                              const Eigen::ArrayXXd& y) const override {
    // The positions the points ran at, after rounding to whole numbers or
    // readable digits, so an effect is divided by the step actually taken.
    const auto& axes = definition.axes;
    Eigen::ArrayXXd x(static_cast<Eigen::Index>(points.size()),
                      static_cast<Eigen::Index>(axes.size()));
    for (std::size_t m = 0; m < points.size(); ++m)
      for (std::size_t a = 0; a < axes.size(); ++a)
        x(static_cast<Eigen::Index>(m), static_cast<Eigen::Index>(a)) =
            position(axes[a], points[m][a]);
    const sensitivity::MorrisEffects e =
        sensitivity::morris_effects(x, y, bootstrap_of(definition));
    using M = sensitivity::Measure;
    sensitivity::Result r;
    r.method = name();
    r.description = "Morris elementary effects on " + std::to_string(definition.samples) +
                    " trajectories over a " + std::to_string(levels_of(definition)) +
                    "-level grid, per whole range of the input; 95% percentile intervals of "
                    "1000 bootstrap resamples of the trajectories";
    r.ranked_by = "mu_star";
    add_with_interval(r, "mu_star", "mu*", "mu*",
                      "mean absolute elementary effect (Campolongo et al. 2007)", M::Unit::target,
                      e.mu_star, e.mu_star_lo, e.mu_star_hi);
    r.measures.push_back(M{"mu", "mu",
                           "mean elementary effect (its sign: the direction of the effect)",
                           M::Over::target_input, M::Unit::target, e.mu});
    r.measures.push_back(
        M{"sigma", "sigma",
          "standard deviation of the elementary effects (nonlinearity and interactions)",
          M::Over::target_input, M::Unit::target, e.sigma});
    return r;
  }
};

}  // namespace

std::unique_ptr<Design> make_morris() {
  return std::make_unique<Morris>();
}

}  // namespace capsim::sweep::detail
