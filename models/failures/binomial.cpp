// Failure and repair counts (see docs/models.md for the approximation error).
#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <vector>

#include "../common/registration.hpp"

namespace capsim::models {
namespace {

// Below this mean (of the smaller side, n min(p, 1-p)) counts are exact.
constexpr double kExactMeanLimit = 25.0;
// (1-q)^n is tabulated in blocks of kBlock values of n, up to kMaxBlocks blocks.
constexpr std::size_t kBlock = 64;
constexpr std::size_t kMaxBlocks = std::size_t{1} << 16;

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
// approximation with continuity correction. The uniforms come four paths to
// a Philox block (Rng::FourPaths), the rare normal from the path's own block
// (path, t, stream << 20 | stream_index, draw).
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
    // p0 = (1-q)^n for whole n from two tables of powers, (1-q)^(kBlock a)
    // (1-q)^b with n = kBlock a + b, both built by repeated multiplication
    // from the power 0 (relative error below 1e-13 up to n = 2^16 kBlock):
    // no exp() per path, and a pure function of (n, q), so results do not
    // depend on chunking. exp() serves larger or fractional n.
    std::array<double, kBlock> low;
    low[0] = 1.0;
    for (std::size_t j = 1; j < kBlock; ++j) low[j] = low[j - 1] * (1.0 - q);
    const double block_power = low[kBlock - 1] * (1.0 - q);
    const double n_max = n.size() > 0 ? n.maxCoeff() : 0.0;
    const auto blocks = n_max >= 0.0 && n_max < static_cast<double>(kMaxBlocks * kBlock)
                            ? static_cast<std::size_t>(n_max) / kBlock + 1
                            : std::size_t{0};
    thread_local std::vector<double> high;  // reused by the thread's later calls
    Rng::FourPaths uniforms(*ctx.rng, step, stream, ctx.stream_index, draw);
    high.resize(std::max<std::size_t>(blocks, 1));
    high[0] = 1.0;
    for (std::size_t a = 1; a < blocks; ++a) high[a] = high[a - 1] * block_power;
    for (Eigen::Index i = 0; i < n.size(); ++i) {
      const double ni = n[i];
      if (!(ni > 0.0)) {
        out[i] = 0.0;
        continue;
      }
      const double mean = ni * q;
      double k;
      if (mean < kExactMeanLimit) {
        const double u = uniforms.uniform(ctx.path0 + i);
        double p0;
        const auto whole = static_cast<std::size_t>(ni);
        if (static_cast<double>(whole) == ni && whole / kBlock < blocks) {
          p0 = high[whole / kBlock] * low[whole % kBlock];
        } else {
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
