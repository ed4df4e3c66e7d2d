// Erlang B and C, Halfin-Whitt, and the staffing rule of request-level
// classes (see docs/models.md for the switch point and its measured error).
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <utility>

#include "capsim/models/queueing.hpp"

namespace capsim::models {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kShift = 52 - Staffing::kMantissaBits;  // node index = bits >> kShift
constexpr std::uint64_t kFraction = (std::uint64_t{1} << kShift) - 1;

// The root of an increasing function, bracketed by f(a) <= 0 < f(b): the
// Illinois variant of regula falsi (bisection while an end is infinite),
// until b - a <= tolerance. Returns the final bracket.
template <class F>
std::pair<double, double> bracket_root(F&& f, double a, double b, double tolerance) {
  double fa = f(a), fb = f(b);
  int kept = 0;  // which end the last step kept: -1 a, +1 b
  for (int i = 0; i < 200 && b - a > tolerance; ++i) {
    double x = 0.5 * (a + b);
    if (std::isfinite(fa) && std::isfinite(fb) && fb != fa) {
      const double secant = a - fa * (b - a) / (fb - fa);
      if (secant > a && secant < b) x = secant;
    }
    if (!(x > a && x < b)) break;  // the bracket is two neighbouring doubles
    const double fx = f(x);
    if (fx <= 0.0) {
      a = x;
      fa = fx;
      if (kept == -1) fb *= 0.5;
      kept = -1;
    } else {
      b = x;
      fb = fx;
      if (kept == 1) fa *= 0.5;
      kept = 1;
    }
  }
  return {a, b};
}

}  // namespace
double erlang_b(double c, double A) {
  double b = 1.0;
  const auto n = static_cast<std::int64_t>(c);
  for (std::int64_t k = 1; k <= n; ++k) b = A * b / (static_cast<double>(k) + A * b);
  return b;
}

double erlang_c(double c, double A) {
  if (!(c > A)) return 1.0;
  const double b = erlang_b(c, A);
  return c * b / (c - A * (1.0 - b));
}

double halfin_whitt_wait_probability(double beta) {
  if (!(beta > 0.0)) return 1.0;
  // phi / (phi + beta Phi) rather than 1 / (1 + beta Phi / phi): phi
  // underflows to 0 for large beta, which then gives 0, not a NaN.
  const double Phi = 0.5 * std::erfc(-beta / std::numbers::sqrt2);
  const double phi = std::exp(-0.5 * beta * beta) / std::sqrt(2.0 * std::numbers::pi);
  return phi / (phi + beta * Phi);
}

double wait_tail(const QueueModel& model, double c, double A, double t) {
  if (!(c > A)) return 1.0;
  return model.wait_tail(erlang_c(c, A), c - A, t);
}

Staffing::Staffing(const QueueModel& model, ServiceLevel level, int exact_servers)
    : model_(&model), level_(level), exact_servers_(std::max(1, exact_servers)) {
  limit_.assign(1, 0.0);
  for (int c = 1; c <= exact_servers_; ++c) limit_.push_back(find_limit(c, limit_.back()));
  const double switch_load = limit_.back();
  first_.resize(static_cast<std::size_t>(std::floor(switch_load)) + 1);
  int c = 0;
  for (std::size_t j = 0; j < first_.size(); ++j) {
    while (limit_[static_cast<std::size_t>(c)] < static_cast<double>(j)) ++c;
    first_[j] = c;
  }
  if (level_.max_wait > 0.0) {
    // beta falls as the load grows, so each node's beta brackets the next.
    node0_ = std::bit_cast<std::uint64_t>(switch_load) >> kShift;
    const std::uint64_t last = std::bit_cast<std::uint64_t>(std::exp2(kLastExponent)) >> kShift;
    double beta = kMaxBeta;
    for (std::uint64_t j = node0_; j <= last; ++j) {
      const double A = std::bit_cast<double>(j << kShift);
      beta = solve_beta(A, 0.0, beta);
      spare_.push_back(beta * std::sqrt(A));
    }
  } else {
    // With max_wait = 0 the level bounds wait_tail(pw, spare, 0) = pw alone,
    // so beta does not depend on the load.
    beta0_ = solve_beta(switch_load);
  }
  gamma_ = exact_servers_ - switch_load - spare(switch_load);
}

bool Staffing::meets(double c, double A) const {
  return wait_tail(*model_, c, A, level_.max_wait) <= level_.max_probability;
}

double Staffing::exact_servers(double A) const {
  if (std::isnan(A)) return A;
  if (!(A > 0.0)) return 0.0;
  double b = 1.0;
  for (std::int64_t k = 1;; ++k) {
    const auto c = static_cast<double>(k);
    b = A * b / (c + A * b);
    if (c > A && model_->wait_tail(c * b / (c - A * (1.0 - b)), c - A, level_.max_wait) <=
                     level_.max_probability)
      return c;
  }
}

// The largest load c servers carry within the level, in [lo, c): where
// log P(W > max_wait) - log max_probability, which rises with the load,
// crosses 0.
double Staffing::find_limit(int c, double lo) const {
  const double servers = c;
  const double log_target = std::log(level_.max_probability);
  const auto f = [&](double A) {
    return std::log(wait_tail(*model_, servers, A, level_.max_wait)) - log_target;
  };
  return bracket_root(f, lo, servers, 1e-14 * servers).first;
}

double Staffing::solve_beta(double A, double lo, double hi) const {
  const double root = std::sqrt(A), log_target = std::log(level_.max_probability);
  // Rises with beta: the tail falls.
  const auto f = [&](double beta) {
    return log_target - std::log(model_->wait_tail(halfin_whitt_wait_probability(beta), beta * root,
                                                   level_.max_wait));
  };
  if (!(f(hi) > 0.0)) hi = kMaxBeta;
  return bracket_root(f, lo, hi, 1e-15).second;
}

double Staffing::spare(double A) const {
  if (spare_.empty()) return beta0_ * std::sqrt(A);
  const auto bits = std::bit_cast<std::uint64_t>(A);
  const std::uint64_t top = bits >> kShift;
  if (top < node0_) return spare_.front();
  const std::uint64_t j = top - node0_;
  if (j + 1 >= spare_.size()) return spare_.back() * std::sqrt(A / std::exp2(kLastExponent));
  const double fraction = static_cast<double>(bits & kFraction) * std::exp2(-kShift);
  return spare_[j] + fraction * (spare_[j + 1] - spare_[j]);
}

double Staffing::servers(double A) const {
  if (std::isnan(A)) return kNaN;
  if (!(A > 0.0)) return 0.0;
  if (A <= limit_.back()) {
    int c = first_[static_cast<std::size_t>(A)];
    while (A > limit_[static_cast<std::size_t>(c)]) ++c;
    return c;
  }
  // Beyond the switch at least one more server than the exact rule's last.
  return std::max(exact_servers_ + 1.0, std::ceil(A + spare(A) + gamma_));
}

void Staffing::servers(Eigen::Ref<const Eigen::ArrayXd> load,
                       Eigen::Ref<Eigen::ArrayXd> out) const {
  for (Eigen::Index i = 0; i < load.size(); ++i) out[i] = servers(load[i]);
}

}  // namespace capsim::models
