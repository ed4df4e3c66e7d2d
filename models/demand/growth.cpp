// Demand growth: trend multipliers with value(t=0) == 1 (see docs/models.md).
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "../common/constant.hpp"
#include "../common/math.hpp"
#include "../common/params.hpp"
#include "../common/registration.hpp"
#include "capsim/error.hpp"

namespace capsim::models {
namespace {

constexpr double kHoursPerYear = 8760.0;
constexpr double kHoursPerMonth = 730.0;
// Per-path logistic rates are floored here (1/year) so the curve stays defined.
constexpr double kMinLogisticRate = 1e-6;

double years_at(int t, double step_hours) {
  return t * step_hours / kHoursPerYear;
}

// One standard normal per path for the per-path growth uncertainty (0 in
// deterministic runs, where the nominal curve is used).
void draw_growth_normal(const ChunkContext& ctx, Eigen::Ref<Eigen::ArrayXd> z) {
  if (ctx.deterministic) {
    z.setZero();
    return;
  }
  ctx.rng->fill_normal(ctx.path0, kOncePerPath, Stream::growth_rate, ctx.stream_index, 0, z);
}

// value = min(exp(r_p * years), kMaxDemandMultiplier), r_p = rate + rate_sd * z_p.
// State: column 0 = r_p (1/year).
class Exponential final : public DemandGrowth {
 public:
  struct Params {
    double rate = 0.0;     // 1/year
    double rate_sd = 0.0;  // 1/year
  };
  explicit Exponential(Params params) : p_(params) {}

  int state_size() const override { return 1; }
  void init(const ChunkContext& ctx, Eigen::Ref<Eigen::ArrayXXd> state) const override {
    draw_growth_normal(ctx, state.col(0));
    state.col(0) = p_.rate + p_.rate_sd * state.col(0);
  }
  void step(const ChunkContext& ctx, int t, Eigen::Ref<Eigen::ArrayXXd> state,
            Eigen::Ref<Eigen::ArrayXd> value) const override {
    // The exponent is capped first (one past the cap's, so that the cap
    // itself is reached exactly), so the value saturates instead of
    // overflowing to infinity.
    static const double max_exponent = std::log(kMaxDemandMultiplier) + 1.0;
    value = exp_each((state.col(0) * years_at(t, ctx.step_hours)).min(max_exponent))
                .min(kMaxDemandMultiplier);
  }

 private:
  Params p_;
};

// s(t) = 1 / (1 + exp(-r_p (years - midpoint_months / 12)));
// value = 1 + (cap - 1) (s(t) - s(0)) / (1 - s(0)).
// State: column 0 = r_p (1/year), column 1 = s(0) of the path.
class Logistic final : public DemandGrowth {
 public:
  struct Params {
    double cap = 1.0;  // multiple of the base demand
    double midpoint_months = 0.0;
    double rate = 1.0;     // 1/year
    double rate_sd = 0.0;  // 1/year
  };
  explicit Logistic(Params params) : p_(params) {}

  int state_size() const override { return 2; }
  void init(const ChunkContext& ctx, Eigen::Ref<Eigen::ArrayXXd> state) const override {
    draw_growth_normal(ctx, state.col(0));
    state.col(0) = (p_.rate + p_.rate_sd * state.col(0)).max(kMinLogisticRate);
    state.col(1) = 1.0 / (1.0 + exp_each(state.col(0) * (p_.midpoint_months / 12.0)));
  }
  void step(const ChunkContext& ctx, int t, Eigen::Ref<Eigen::ArrayXXd> state,
            Eigen::Ref<Eigen::ArrayXd> value) const override {
    const double x = years_at(t, ctx.step_hours) - p_.midpoint_months / 12.0;
    value = 1.0 / (1.0 + exp_each(-state.col(0) * x));
    value = 1.0 + (p_.cap - 1.0) * (value - state.col(1)) / (1.0 - state.col(1));
  }

 private:
  Params p_;
};

// m(t): linear interpolation of (month, multiplier) points, flat outside;
// value = max(0, 1 + (m(t) - 1) f_p), f_p = exp(growth_sd z_p - growth_sd^2 / 2): a
// decline scaled up on a path cannot take demand below zero.
// State: column 0 = f_p.
class PiecewiseLinear final : public DemandGrowth {
 public:
  struct Params {
    std::vector<double> months;       // increasing, starts at 0
    std::vector<double> multipliers;  // same size, multipliers[0] == 1
    double growth_sd = 0.0;
  };
  explicit PiecewiseLinear(Params params) : p_(std::move(params)) {}

  int state_size() const override { return 1; }
  void init(const ChunkContext& ctx, Eigen::Ref<Eigen::ArrayXXd> state) const override {
    if (ctx.deterministic) {
      state.col(0).setOnes();  // E[f] = 1
      return;
    }
    draw_growth_normal(ctx, state.col(0));
    const double sd = p_.growth_sd;
    state.col(0) = exp_each(sd * state.col(0) - 0.5 * sd * sd);
  }
  void step(const ChunkContext& ctx, int t, Eigen::Ref<Eigen::ArrayXXd> state,
            Eigen::Ref<Eigen::ArrayXd> value) const override {
    const double m = trend(t * ctx.step_hours / kHoursPerMonth);
    value = (1.0 + (m - 1.0) * state.col(0)).max(0.0);
  }

 private:
  double trend(double month) const {
    const auto& x = p_.months;
    const auto& y = p_.multipliers;
    if (month <= x.front()) return y.front();
    if (month >= x.back()) return y.back();
    const auto hi =
        static_cast<std::size_t>(std::upper_bound(x.begin(), x.end(), month) - x.begin());
    const std::size_t lo = hi - 1;
    const double w = (month - x[lo]) / (x[hi] - x[lo]);
    return y[lo] + w * (y[hi] - y[lo]);
  }

  Params p_;
};

std::vector<ParamInfo> exponential_params() {
  return {number_param("rate", "1/year", "mean continuous growth rate", false, 0.0, -1.0, 10.0),
          number_param("rate_sd", "1/year", "standard deviation of the per-path rate", false, 0.0,
                       0.0, 5.0)};
}

std::vector<ParamInfo> logistic_params() {
  return {number_param("cap", "multiple of base", "level reached in the long run", true, 0.0, 1.0,
                       1000.0),
          number_param("midpoint_months", "months", "inflection point from the start", true, 0.0,
                       0.0, 600.0),
          number_param("rate", "1/year", "logistic steepness", true, 0.0, kMinLogisticRate, 50.0),
          number_param("rate_sd", "1/year", "standard deviation of the per-path rate", false, 0.0,
                       0.0, 5.0)};
}

std::vector<ParamInfo> piecewise_params() {
  return {
      table_param("points", "[month, multiplier]",
                  "trend points, months increasing from 0 (multiplier 1 at month 0)", 0.0, 1000.0),
      number_param("growth_sd", "", "log-sd of the per-path scale of the deviation from 1", false,
                   0.0, 0.0, 5.0)};
}

PiecewiseLinear::Params piecewise_from(const ModelConfig& config) {
  PiecewiseLinear::Params p;
  p.growth_sd = config.number("growth_sd");
  const ParamTable& points = config.table("points");
  if (points.empty() || points.front()[0] > 0.0) {
    p.months.push_back(0.0);
    p.multipliers.push_back(1.0);
  }
  std::vector<Diagnostic> errors;
  for (const auto& row : points) {
    if (!p.months.empty() && !(row[0] > p.months.back()))
      errors.push_back(Diagnostic{config.mark, "growth.points",
                                  "months must increase (got " + std::to_string(row[0]) +
                                      " after " + std::to_string(p.months.back()) + ")"});
    p.months.push_back(row[0]);
    p.multipliers.push_back(row[1]);
  }
  if (p.months.front() < 0.0)
    errors.push_back(
        Diagnostic{config.mark, "growth.points",
                   "months must be >= 0 (got " + std::to_string(p.months.front()) + ")"});
  if (p.multipliers.front() != 1.0)
    errors.push_back(Diagnostic{config.mark, "growth.points",
                                "the multiplier at month 0 must be 1, the base demand (got " +
                                    std::to_string(p.multipliers.front()) + ")"});
  if (!errors.empty()) throw InputError(std::move(errors));
  return p;
}

}  // namespace

void add_growth_models(Registry<DemandGrowth>& registry) {
  registry.add(
      {"constant", "no growth: the trend stays at the base demand", {}, [](const ModelConfig&) {
         return std::make_unique<ConstantProcess<DemandGrowth>>(1.0);
       }});
  registry.add({"exponential", "exp(rate * years), rate optionally uncertain per path",
                exponential_params(), [](const ModelConfig& in) {
                  const ModelConfig c = with_defaults(in, exponential_params(), "growth");
                  return std::make_unique<Exponential>(
                      Exponential::Params{c.number("rate"), c.number("rate_sd")});
                }});
  registry.add({"logistic", "S-curve from 1 to cap with its inflection at midpoint_months",
                logistic_params(), [](const ModelConfig& in) {
                  const ModelConfig c = with_defaults(in, logistic_params(), "growth");
                  return std::make_unique<Logistic>(
                      Logistic::Params{c.number("cap"), c.number("midpoint_months"),
                                       c.number("rate"), c.number("rate_sd")});
                }});
  registry.add({"piecewise_linear", "linear interpolation of (month, multiplier) points",
                piecewise_params(), [](const ModelConfig& in) {
                  const ModelConfig c = with_defaults(in, piecewise_params(), "growth");
                  return std::make_unique<PiecewiseLinear>(piecewise_from(c));
                }});
}

}  // namespace capsim::models
