// Failure and repair counts (see docs/models.md for the approximation error).
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "../common/registration.hpp"

namespace capsim::models {
namespace {

// Below this mean (of the smaller side, n min(p, 1-p)) counts are exact.
constexpr double kExactMeanLimit = 25.0;

class None final : public FailureModel {
 public:
  void sample(const ChunkContext&, int, Stream, Eigen::Ref<const Eigen::ArrayXd>, double,
              Eigen::Ref<Eigen::ArrayXd> out, std::uint32_t) const override {
    out.setZero();
  }
};

// Binomial(n, q) by inversion of one uniform u: the smallest k with
// F(k) >= u, the pmf built by P(0) = (1-q)^n, P(k+1) = P(k) (n-k)/(k+1) q/(1-q).
// Expected work is about n q + 1 terms, so it is used for n q < 25 only.
// p0 = (1-q)^n and odds = q / (1-q) come from the caller.
double binomial_inversion(double n, double q, double p0, double odds, double u) {
  double pk = p0;
  double cdf = pk;
  double k = 0.0;
  // The second guard ends the walk should rounding leave the summed pmf
  // just below u: once the tail has underflowed, no later k can be reached.
  while (u > cdf && k < n && (pk > 0.0 || k < n * q)) {
    pk *= (n - k) / (k + 1.0) * odds;
    k += 1.0;
    cdf += pk;
  }
  return k;
}

// out ~ Binomial(n, p). Works on the smaller of p and 1 - p (a count of the
// other outcome is n minus it). Exact (inversion) when n min(p, 1-p) < 25;
// otherwise round(n q + sqrt(n q (1-q)) z) clamped to [0, n], a normal
// approximation with continuity correction. One Philox block per path:
// counter (path, t, stream << 20 | stream_index, draw).
class Binomial final : public FailureModel {
 public:
  void sample(const ChunkContext& ctx, int t, Stream stream, Eigen::Ref<const Eigen::ArrayXd> n,
              double p, Eigen::Ref<Eigen::ArrayXd> out, std::uint32_t draw) const override {
    if (ctx.deterministic) {
      out = n * p;
      return;
    }
    if (!(p > 0.0)) {
      out.setZero();
      return;
    }
    if (p >= 1.0) {
      out = n;
      return;
    }
    const bool flip = p > 0.5;
    const double q = flip ? 1.0 - p : p;
    const auto step = static_cast<std::uint32_t>(t);
    const double log_p0_per_gpu = std::log1p(-q);
    const double odds = q / (1.0 - q);
    // Neighbouring paths often hold the same n: reuse (1-q)^n.
    double cached_n = -1.0;
    double p0 = 0.0;
    for (Eigen::Index i = 0; i < n.size(); ++i) {
      const double ni = n[i];
      if (!(ni > 0.0)) {
        out[i] = 0.0;
        continue;
      }
      const double mean = ni * q;
      double k;
      if (mean < kExactMeanLimit) {
        const double u = ctx.rng->uniform2(ctx.path0 + i, step, stream, ctx.stream_index, draw).a;
        if (ni != cached_n) {
          cached_n = ni;
          p0 = std::exp(ni * log_p0_per_gpu);
        }
        k = binomial_inversion(ni, q, p0, odds, u);
      } else {
        const double z = ctx.rng->normal2(ctx.path0 + i, step, stream, ctx.stream_index, draw).a;
        k = std::clamp(std::round(mean + std::sqrt(mean * (1.0 - q)) * z), 0.0, ni);
      }
      out[i] = flip ? ni - k : k;
    }
  }
};

}  // namespace

void add_failure_models(Registry<FailureModel>& registry) {
  registry.add(
      {"none", "GPUs never fail (and the failed pool stays empty)", {}, [](const ModelConfig&) {
         return std::make_unique<None>();
       }});
  registry.add({"binomial",
                "binomial counts per path: exact for n p < 25, normal approximation above",
                {},
                [](const ModelConfig&) { return std::make_unique<Binomial>(); }});
}

}  // namespace capsim::models
