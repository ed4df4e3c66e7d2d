// The sensitivity designs and estimators through their library API, on
// functions whose indices are known: the Ishigami function's analytic Sobol
// indices, and functions whose Morris ranking holds by construction.
#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "capsim/study/sensitivity.hpp"

namespace cs = capsim::sensitivity;

namespace {

constexpr double kPi = 3.14159265358979323846;

// Ishigami and Homma (1990): f = sin x1 + a sin^2 x2 + b x3^4 sin x1 on
// [-pi, pi]^3, with a = 7, b = 0.1.
constexpr double kA = 7.0, kB = 0.1;

double ishigami(double x1, double x2, double x3) {
  return std::sin(x1) + kA * std::sin(x2) * std::sin(x2) + kB * std::pow(x3, 4) * std::sin(x1);
}

// Its variance decomposition (e.g. Sobol' and Levitan 1999; Saltelli et al.
// 2008, "Global Sensitivity Analysis: The Primer", section 2.8):
//   V1  = (1 + b pi^4 / 5)^2 / 2,   V2 = a^2 / 8,   V3 = 0,
//   V13 = b^2 pi^8 (1/18 - 1/50) = 8 b^2 pi^8 / 225 (the only interaction),
//   V   = V1 + V2 + V13 = a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2.
struct IshigamiIndices {
  double S[3], ST[3];
};

IshigamiIndices ishigami_indices() {
  const double pi4 = std::pow(kPi, 4), pi8 = std::pow(kPi, 8);
  const double V1 = 0.5 * std::pow(1.0 + kB * pi4 / 5.0, 2);
  const double V2 = kA * kA / 8.0;
  const double V13 = kB * kB * pi8 * (1.0 / 18.0 - 1.0 / 50.0);
  const double V = V1 + V2 + V13;
  return {{V1 / V, V2 / V, 0.0}, {(V1 + V13) / V, V2 / V, V13 / V}};
}

// The g-function of Sobol' (Saltelli and Sobol' 1995): prod_i (|4 x_i - 2| +
// a_i) / (1 + a_i) on [0, 1]^k; input i matters less the larger a_i.
double g_function(const Eigen::ArrayXd& x, const Eigen::ArrayXd& a) {
  double g = 1.0;
  for (Eigen::Index i = 0; i < x.size(); ++i)
    g *= (std::abs(4.0 * x[i] - 2.0) + a[i]) / (1.0 + a[i]);
  return g;
}

}  // namespace

TEST_CASE("sensitivity: the Ishigami function's analytic indices", "[sensitivity]") {
  const IshigamiIndices exact = ishigami_indices();
  // The published values (a = 7, b = 0.1) to 4 decimals.
  CHECK(exact.S[0] == Approx(0.3139).margin(5e-5));
  CHECK(exact.S[1] == Approx(0.4424).margin(5e-5));
  CHECK(exact.S[2] == 0.0);
  CHECK(exact.ST[2] == Approx(0.2437).margin(5e-5));
}

TEST_CASE("sensitivity::sobol_indices: the Ishigami indices within their bootstrap intervals",
          "[sensitivity]") {
  const Eigen::Index k = 3;
  const std::int64_t N = 2048;
  const Eigen::ArrayXXd u = cs::saltelli_points(k, N, 20240410);
  REQUIRE(u.rows() == N * (k + 2));
  Eigen::ArrayXXd y(u.rows(), 1);
  for (Eigen::Index m = 0; m < u.rows(); ++m) {
    const Eigen::ArrayXd x = -kPi + 2.0 * kPi * u.row(m).transpose();
    y(m, 0) = ishigami(x[0], x[1], x[2]);
  }
  const cs::SobolIndices s = cs::sobol_indices(y, k, cs::Bootstrap{1000, 0.95, 7});
  const IshigamiIndices exact = ishigami_indices();
  for (Eigen::Index i = 0; i < k; ++i) {
    INFO("input " << i + 1 << ": S1 = " << s.first(0, i) << " [" << s.first_lo(0, i) << ", "
                  << s.first_hi(0, i) << "], exact " << exact.S[i] << "; ST = " << s.total(0, i)
                  << " [" << s.total_lo(0, i) << ", " << s.total_hi(0, i) << "], exact "
                  << exact.ST[i]);
    CHECK(s.first_lo(0, i) <= exact.S[i]);
    CHECK(exact.S[i] <= s.first_hi(0, i));
    CHECK(s.total_lo(0, i) <= exact.ST[i]);
    CHECK(exact.ST[i] <= s.total_hi(0, i));
    // The intervals are narrow enough to say something and hold the estimate.
    CHECK(s.first_hi(0, i) - s.first_lo(0, i) < 0.15);
    CHECK(s.total_hi(0, i) - s.total_lo(0, i) < 0.15);
    CHECK(s.first_lo(0, i) <= s.first(0, i));
    CHECK(s.first(0, i) <= s.first_hi(0, i));
    CHECK(s.total_lo(0, i) <= s.total(0, i));
    CHECK(s.total(0, i) <= s.total_hi(0, i));
  }
  // Var f = V, also estimated.
  const double pi4 = std::pow(kPi, 4), pi8 = std::pow(kPi, 8);
  const double V = kA * kA / 8.0 + kB * pi4 / 5.0 + kB * kB * pi8 / 18.0 + 0.5;
  CHECK(s.variance[0] == Approx(V).epsilon(0.05));
  // Ranked by the total index: x1 (0.56), x2 (0.44), x3 (0.24).
  const Eigen::ArrayXXi rank = cs::rank_inputs(s.total);
  CHECK(rank(0, 0) == 1);
  CHECK(rank(0, 1) == 2);
  CHECK(rank(0, 2) == 3);

  SECTION("the same seed gives the same intervals; another seed other ones") {
    const cs::SobolIndices again = cs::sobol_indices(y, k, cs::Bootstrap{1000, 0.95, 7});
    CHECK((again.first_lo == s.first_lo).all());
    CHECK((again.total_hi == s.total_hi).all());
    const cs::SobolIndices other = cs::sobol_indices(y, k, cs::Bootstrap{1000, 0.95, 8});
    CHECK((other.first == s.first).all());  // the estimate does not resample
    CHECK_FALSE((other.first_lo == s.first_lo).all());
  }
  SECTION("adding a constant to f changes no index") {
    const cs::SobolIndices shifted = cs::sobol_indices(y + 1e6, k, cs::Bootstrap{100, 0.95, 7});
    for (Eigen::Index i = 0; i < k; ++i) {
      CHECK(shifted.first(0, i) == Approx(s.first(0, i)).margin(1e-6));
      CHECK(shifted.total(0, i) == Approx(s.total(0, i)).margin(1e-6));
    }
  }
}

TEST_CASE("sensitivity::saltelli_points: A, B and the AB^i rows", "[sensitivity]") {
  const Eigen::Index k = 4;
  const std::int64_t N = 64;
  const Eigen::ArrayXXd u = cs::saltelli_points(k, N, 3);
  REQUIRE(u.rows() == N * (k + 2));
  CHECK((u > 0.0).all());
  CHECK((u < 1.0).all());
  for (std::int64_t j = 0; j < N; ++j) {
    const Eigen::Index row = j * (k + 2);
    for (Eigen::Index s = 1; s <= k; ++s)
      for (Eigen::Index i = 0; i < k; ++i)
        CHECK(u(row + s, i) == (i == s - 1 ? u(row + k + 1, i) : u(row, i)));
  }
  // A quasi-random sequence fills each input's range evenly: each of 8 equal
  // strata of every column of A holds 64 / 8 = 8 points (the first 2^m
  // points of a Sobol sequence are a (t, m, s)-net, and a digital shift
  // keeps that property in one dimension).
  for (Eigen::Index i = 0; i < k; ++i) {
    int count[8] = {};
    for (std::int64_t j = 0; j < N; ++j) ++count[static_cast<int>(u(j * (k + 2), i) * 8)];
    for (int c : count) CHECK(c == 8);
  }
  CHECK((cs::saltelli_points(k, N, 3) == u).all());
  CHECK_FALSE((cs::saltelli_points(k, N, 4) == u).all());
  CHECK_THROWS_AS(cs::saltelli_points(0, N, 3), std::invalid_argument);
  CHECK_THROWS_AS(cs::sobol_indices(Eigen::ArrayXXd::Zero(7, 1), k, {}), std::invalid_argument);
}

TEST_CASE("sensitivity::morris_points: trajectories on the p-level grid", "[sensitivity]") {
  const Eigen::Index k = 5;
  const int p = 6;
  const std::int64_t r = 40;
  const Eigen::ArrayXXd x = cs::morris_points(k, r, p, 11);
  REQUIRE(x.rows() == r * (k + 1));
  const double delta = p / (2.0 * (p - 1));  // 0.6
  std::set<double> seen;
  for (Eigen::Index m = 0; m < x.rows(); ++m)
    for (Eigen::Index i = 0; i < k; ++i) {
      const double level = x(m, i) * (p - 1);
      CHECK(level == Approx(std::round(level)).margin(1e-12));  // on the grid
      CHECK(x(m, i) >= 0.0);
      CHECK(x(m, i) <= 1.0 + 1e-12);
      seen.insert(std::round(level));
    }
  CHECK(seen.size() == static_cast<std::size_t>(p));  // every level is used
  for (std::int64_t t = 0; t < r; ++t) {
    std::set<Eigen::Index> moved;
    for (Eigen::Index s = 1; s <= k; ++s) {
      const Eigen::ArrayXd d = x.row(t * (k + 1) + s) - x.row(t * (k + 1) + s - 1);
      int changed = 0;
      for (Eigen::Index i = 0; i < k; ++i)
        if (d[i] != 0.0) {
          ++changed;
          moved.insert(i);
          CHECK(std::abs(d[i]) == Approx(delta));
        }
      CHECK(changed == 1);
    }
    CHECK(moved.size() == static_cast<std::size_t>(k));  // every input moves once
  }
}

TEST_CASE("sensitivity::morris_effects: rankings known by construction", "[sensitivity]") {
  SECTION("a linear function: every effect is its coefficient, sigma 0") {
    const Eigen::Index k = 5;
    const Eigen::ArrayXd c = (Eigen::ArrayXd(k) << -3.0, 10.0, 0.5, 0.0, 6.0).finished();
    const Eigen::ArrayXXd x = cs::morris_points(k, 12, 4, 5);
    const Eigen::ArrayXXd y = (x.matrix() * c.matrix()).array();
    const cs::MorrisEffects e = cs::morris_effects(x, y, cs::Bootstrap{200, 0.95, 1});
    for (Eigen::Index i = 0; i < k; ++i) {
      INFO("input " << i);
      CHECK(e.mu(0, i) == Approx(c[i]).margin(1e-9));
      CHECK(e.mu_star(0, i) == Approx(std::abs(c[i])).margin(1e-9));
      CHECK(e.sigma(0, i) == Approx(0.0).margin(1e-9));
      CHECK(e.mu_star_lo(0, i) == Approx(std::abs(c[i])).margin(1e-9));
      CHECK(e.mu_star_hi(0, i) == Approx(std::abs(c[i])).margin(1e-9));
    }
    const Eigen::ArrayXXi rank = cs::rank_inputs(e.mu_star);
    const int expected[] = {3, 1, 4, 5, 2};  // |c| = 3, 10, 0.5, 0, 6
    for (Eigen::Index i = 0; i < k; ++i) CHECK(rank(0, i) == expected[i]);
  }
  SECTION("the g-function: importance falls with a_i, and so does mu*") {
    const Eigen::ArrayXd a = (Eigen::ArrayXd(5) << 0.0, 1.0, 4.5, 9.0, 99.0).finished();
    const Eigen::Index k = a.size();
    const Eigen::ArrayXXd x = cs::morris_points(k, 50, 4, 2);
    Eigen::ArrayXXd y(x.rows(), 1);
    for (Eigen::Index m = 0; m < x.rows(); ++m) y(m, 0) = g_function(x.row(m).transpose(), a);
    const cs::MorrisEffects e = cs::morris_effects(x, y, cs::Bootstrap{500, 0.95, 1});
    const Eigen::ArrayXXi rank = cs::rank_inputs(e.mu_star);
    for (Eigen::Index i = 0; i < k; ++i) {
      INFO("input " << i << ": mu* = " << e.mu_star(0, i));
      CHECK(rank(0, i) == i + 1);
      CHECK(e.mu_star_lo(0, i) <= e.mu_star(0, i));
      CHECK(e.mu_star(0, i) <= e.mu_star_hi(0, i));
      // The product makes every effect depend on the other inputs.
      CHECK(e.sigma(0, i) > 0.0);
    }
  }
  SECTION("a step that moves two inputs is refused") {
    Eigen::ArrayXXd x(3, 2);
    x << 0, 0, 1, 1, 1, 0;
    CHECK_THROWS_AS(cs::morris_effects(x, Eigen::ArrayXXd::Zero(3, 1), {}), std::invalid_argument);
  }
}

TEST_CASE("sensitivity::tornado_swings and rank_inputs", "[sensitivity]") {
  // y = 2 x0 - 5 x1 with x0 in [0, 1], x1 in [1, 2], base (0.5, 1.5):
  // rows base, x0 low, x0 high, x1 low, x1 high.
  Eigen::ArrayXXd y(5, 1);
  y << 2 * 0.5 - 5 * 1.5, 2 * 0.0 - 5 * 1.5, 2 * 1.0 - 5 * 1.5, 2 * 0.5 - 5 * 1.0,
      2 * 0.5 - 5 * 2.0;
  const cs::TornadoSwings s = cs::tornado_swings(y, 2);
  CHECK(s.base[0] == -6.5);
  CHECK(s.swing(0, 0) == 2.0);
  CHECK(s.swing(0, 1) == -5.0);
  const Eigen::ArrayXXi rank = cs::rank_inputs(s.swing);
  CHECK(rank(0, 0) == 2);
  CHECK(rank(0, 1) == 1);  // by |swing|
  // Ties keep input order; NaN ranks last.
  Eigen::ArrayXXd m(1, 4);
  m << 1.0, std::nan(""), -1.0, 2.0;
  const Eigen::ArrayXXi r = cs::rank_inputs(m);
  CHECK(r(0, 0) == 2);
  CHECK(r(0, 1) == 4);
  CHECK(r(0, 2) == 3);
  CHECK(r(0, 3) == 1);
  CHECK_THROWS_AS(cs::tornado_swings(y.topRows(4), 2), std::invalid_argument);
}
