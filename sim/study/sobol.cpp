// --method sobol: first-order and total Sobol indices from Saltelli's
// N (k + 2) points on a quasi-random Sobol sequence, with bootstrap
// intervals.
#include <boost/random/sobol.hpp>
#include <cmath>
#include <stdexcept>

#include "capsim/error.hpp"
#include "design.hpp"

namespace capsim::sensitivity {

namespace {

constexpr Eigen::Index kMaxSobolInputs = boost::random::default_sobol_table::max_dimension / 2;

// The outputs of one target, split by role: a(j), b(j), ab(j, i) for base
// row j and input i.
struct Roles {
  Eigen::ArrayXd a, b;
  Eigen::ArrayXXd ab;
};

Roles roles_of(const Eigen::Ref<const Eigen::ArrayXXd>& y, Eigen::Index target, Eigen::Index k) {
  const Eigen::Index N = y.rows() / (k + 2);
  Roles r{Eigen::ArrayXd(N), Eigen::ArrayXd(N), Eigen::ArrayXXd(N, k)};
  for (Eigen::Index j = 0; j < N; ++j) {
    const Eigen::Index row = j * (k + 2);
    r.a[j] = y(row, target);
    for (Eigen::Index i = 0; i < k; ++i) r.ab(j, i) = y(row + 1 + i, target);
    r.b[j] = y(row + k + 1, target);
  }
  return r;
}

// The estimates from base rows `rows` (with repeats): S and ST of every
// input into first[i], total[i]; returns V. f is centred on its mean over
// the rows' A and B: the indices do not change when a constant is added to
// f, but the variance of the first-order estimator grows with f's mean.
double estimate(const Roles& r, const std::vector<Eigen::Index>& rows, double* first,
                double* total) {
  const auto n = static_cast<double>(rows.size());
  const Eigen::Index k = r.ab.cols();
  double sum = 0;
  for (const Eigen::Index j : rows) sum += r.a[j] + r.b[j];
  const double mean = sum / (2.0 * n);
  double squares = 0;
  for (const Eigen::Index j : rows)
    squares += (r.a[j] - mean) * (r.a[j] - mean) + (r.b[j] - mean) * (r.b[j] - mean);
  const double variance = squares / (2.0 * n);
  for (Eigen::Index i = 0; i < k; ++i) {
    double s = 0, t = 0;
    for (const Eigen::Index j : rows) {
      const double d = r.ab(j, i) - r.a[j];
      s += (r.b[j] - mean) * d;
      t += d * d;
    }
    const bool defined = variance > 0 && std::isfinite(variance);
    first[i] = defined ? s / n / variance : std::nan("");
    total[i] = defined ? t / (2.0 * n) / variance : std::nan("");
  }
  return variance;
}

}  // namespace

Eigen::ArrayXXd saltelli_points(Eigen::Index inputs, std::int64_t base_rows, std::uint64_t seed) {
  const Eigen::Index k = inputs;
  if (k < 1 || k > kMaxSobolInputs || base_rows < 1)
    throw std::invalid_argument("saltelli_points: needs 1 <= inputs <= " +
                                std::to_string(kMaxSobolInputs) + " and base_rows >= 1");
  boost::random::sobol sequence(static_cast<std::size_t>(2 * k));
  const sweep::detail::PointRng rng(seed);
  std::vector<std::uint64_t> shift(static_cast<std::size_t>(2 * k));
  for (std::size_t d = 0; d < shift.size(); ++d)
    shift[d] = rng.bits(d, 0, sweep::detail::kSobolShift);
  const Eigen::Index N = base_rows;
  Eigen::ArrayXXd points(N * (k + 2), k);
  std::vector<double> u(static_cast<std::size_t>(2 * k));
  for (Eigen::Index j = 0; j < N; ++j) {
    // Point 0 of the sequence is all zeros, which Boost's generator skips;
    // shifted it is a point like any other, and with it the first 2^m
    // points stay a (t, m, 2k)-net.
    for (std::size_t d = 0; d < u.size(); ++d)
      // The top 53 bits, centred in their cell: strictly inside (0, 1).
      u[d] = (static_cast<double>(((j == 0 ? 0 : sequence()) ^ shift[d]) >> 11) + 0.5) * 0x1p-53;
    const Eigen::Index row = j * (k + 2);
    for (Eigen::Index i = 0; i < k; ++i) {
      const double a = u[static_cast<std::size_t>(i)], b = u[static_cast<std::size_t>(k + i)];
      points(row, i) = a;
      points(row + k + 1, i) = b;
      for (Eigen::Index s = 1; s <= k; ++s) points(row + s, i) = s - 1 == i ? b : a;
    }
  }
  return points;
}

SobolIndices sobol_indices(const Eigen::Ref<const Eigen::ArrayXXd>& y, Eigen::Index inputs,
                           const Bootstrap& bootstrap) {
  const Eigen::Index k = inputs;
  if (k < 1 || y.rows() % (k + 2) != 0 || y.rows() / (k + 2) < 2)
    throw std::invalid_argument(
        "sobol_indices: needs N (inputs + 2) rows of outputs with N >= 2 base rows");
  const Eigen::Index N = y.rows() / (k + 2), T = y.cols();
  SobolIndices out;
  for (Eigen::ArrayXXd* m :
       {&out.first, &out.first_lo, &out.first_hi, &out.total, &out.total_lo, &out.total_hi})
    m->resize(T, k);
  out.variance.resize(T);
  const sweep::detail::PointRng rng(bootstrap.seed);
  std::vector<Eigen::Index> all(static_cast<std::size_t>(N)), rows(all.size());
  for (Eigen::Index j = 0; j < N; ++j) all[static_cast<std::size_t>(j)] = j;
  std::vector<double> first(static_cast<std::size_t>(k)), total(first.size());
  for (Eigen::Index t = 0; t < T; ++t) {
    const Roles r = roles_of(y, t, k);
    out.variance[t] = estimate(r, all, first.data(), total.data());
    for (Eigen::Index i = 0; i < k; ++i) {
      out.first(t, i) = first[static_cast<std::size_t>(i)];
      out.total(t, i) = total[static_cast<std::size_t>(i)];
    }
    // Resample b draws the same base rows for every target.
    std::vector<std::vector<double>> first_b(first.size()), total_b(first.size());
    for (std::int64_t b = 0; b < bootstrap.resamples; ++b) {
      for (std::size_t j = 0; j < rows.size(); ++j)
        rows[j] = rng.below(N, static_cast<std::size_t>(b), static_cast<std::int64_t>(j),
                            sweep::detail::kBootstrap);
      estimate(r, rows, first.data(), total.data());
      for (std::size_t i = 0; i < first.size(); ++i) {
        first_b[i].push_back(first[i]);
        total_b[i].push_back(total[i]);
      }
    }
    for (Eigen::Index i = 0; i < k; ++i) {
      const auto s = sweep::detail::percentile_interval(first_b[static_cast<std::size_t>(i)],
                                                        bootstrap.confidence);
      const auto st = sweep::detail::percentile_interval(total_b[static_cast<std::size_t>(i)],
                                                         bootstrap.confidence);
      const bool defined = std::isfinite(out.first(t, i));
      out.first_lo(t, i) = defined ? s.first : std::nan("");
      out.first_hi(t, i) = defined ? s.second : std::nan("");
      out.total_lo(t, i) = defined ? st.first : std::nan("");
      out.total_hi(t, i) = defined ? st.second : std::nan("");
    }
  }
  return out;
}

}  // namespace capsim::sensitivity

namespace capsim::sweep::detail {

namespace {

constexpr std::int64_t kMinBaseRows = 16;

class Sobol final : public Design {
 public:
  const char* name() const override { return "sobol"; }
  const char* description() const override {
    return "Sobol indices (first-order and total) from N (k + 2) Saltelli points, N = --samples";
  }
  const char* samples_are() const override {
    return "base rows N: the sweep runs N (k + 2) points for k keys; fewer than 16 give "
           "intervals too wide to rank by";
  }
  std::int64_t min_samples() const override { return kMinBaseRows; }
  bool needs_ranges() const override { return true; }
  bool analyses() const override { return true; }

  void check(const Definition& definition) const override {
    if (static_cast<Eigen::Index>(definition.axes.size()) > sensitivity::kMaxSobolInputs)
      throw InputError("--method sobol: at most " + std::to_string(sensitivity::kMaxSobolInputs) +
                       " --vary keys (got " + std::to_string(definition.axes.size()) + ")");
  }

  long double count(const Definition& definition) const override {
    return static_cast<long double>(definition.samples) *
           static_cast<long double>(definition.axes.size() + 2);
  }

  Points points(const Definition& definition) const override {
    const auto& axes = definition.axes;
    const Eigen::ArrayXXd u = sensitivity::saltelli_points(static_cast<Eigen::Index>(axes.size()),
                                                           definition.samples, definition.seed);
    Points points(static_cast<std::size_t>(u.rows()), std::vector<std::string>(axes.size()));
    for (Eigen::Index m = 0; m < u.rows(); ++m)
      for (std::size_t a = 0; a < axes.size(); ++a)
        points[static_cast<std::size_t>(m)][a] =
            value_at(axes[a], u(m, static_cast<Eigen::Index>(a)), 0);
    return points;
  }

  sensitivity::Result analyse(const Definition& definition, const Points&,
                              const Eigen::ArrayXXd& y) const override {
    const sensitivity::SobolIndices s = sensitivity::sobol_indices(
        y, static_cast<Eigen::Index>(definition.axes.size()), bootstrap_of(definition));
    using M = sensitivity::Measure;
    sensitivity::Result r;
    r.method = name();
    r.description =
        "first-order S1 (Saltelli et al. 2010) and total ST (Jansen 1999) Sobol indices of " +
        std::to_string(definition.samples) +
        " base rows; 95% percentile intervals of 1000 bootstrap resamples of the base rows";
    r.ranked_by = "total";
    add_with_interval(r, "first_order", "first order S1", "the first-order index",
                      "share of the target's variance caused by the input alone", M::Unit::none,
                      s.first, s.first_lo, s.first_hi);
    add_with_interval(
        r, "total", "total ST", "the total index",
        "share of the target's variance caused by the input with all its interactions",
        M::Unit::none, s.total, s.total_lo, s.total_hi);
    r.measures.push_back(M{"variance", "", "variance of the target over the A and B points",
                           M::Over::target, M::Unit::target_squared, s.variance});
    return r;
  }
};

}  // namespace

std::unique_ptr<Design> make_sobol() {
  return std::make_unique<Sobol>();
}

}  // namespace capsim::sweep::detail
