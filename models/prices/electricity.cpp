// Electricity price factor on a region's base price (see docs/models.md).
#include <cmath>
#include <memory>
#include <vector>

#include "../common/constant.hpp"
#include "../common/math.hpp"
#include "../common/params.hpp"
#include "../common/random.hpp"
#include "../common/registration.hpp"

namespace capsim::models {
namespace {

// Ornstein-Uhlenbeck log price, sampled exactly: x_0 = 0,
// x_t = x_{t-1} e^{-k dt} + volatility sqrt((1 - e^{-2 k dt}) / (2 k)) eps_t,
// value = exp(x_t - var_t / 2), var_t = volatility^2 (1 - e^{-2 k t dt}) / (2 k),
// so E[value] = 1 at every step. k = reversion_per_year, dt = h / 8760 years.
// eps_t: paired normals (common/random.hpp).
// State: column 0 = x, column 1 = the spare normal.
class LogOu final : public PriceModel {
 public:
  struct Params {
    double volatility = 0.0;  // annual, of the log price
    double reversion_per_year = 2.0;
  };
  explicit LogOu(Params params) : p_(params) {}

  int state_size() const override { return 2; }
  void init(const ChunkContext&, Eigen::Ref<Eigen::ArrayXXd> state) const override {
    state.col(0).setZero();
  }
  void step(const ChunkContext& ctx, int t, Eigen::Ref<Eigen::ArrayXXd> state,
            Eigen::Ref<Eigen::ArrayXd> value) const override {
    if (ctx.deterministic || t == 0) {
      value.setOnes();
      return;
    }
    const double dt = ctx.step_hours / 8760.0;
    const double k = p_.reversion_per_year;
    const double v = p_.volatility;
    const double keep = std::exp(-k * dt);
    // -expm1(-2 k dt) keeps its precision for small k dt (hourly steps).
    const double s = v * std::sqrt(-std::expm1(-2.0 * k * dt) / (2.0 * k));
    const double var_t = v * v * -std::expm1(-2.0 * k * t * dt) / (2.0 * k);
    paired_draw<Draw::normal>(ctx, Stream::electricity_price, t, 1, value, state.col(1));
    state.col(0) = keep * state.col(0) + s * value;
    value = exp_each(state.col(0) - 0.5 * var_t);
  }

 private:
  Params p_;
};

std::vector<ParamInfo> log_ou_params() {
  return {
      number_param("volatility", "1/sqrt(year)", "annual volatility of the log price", true, 0.0,
                   0.0, 5.0),
      number_param("reversion_per_year", "1/year",
                   "mean-reversion speed of the log price to its base", false, 2.0, 1e-6, 100.0)};
}

}  // namespace

void add_price_models(Registry<PriceModel>& registry) {
  registry.add({"constant", "the base price throughout", {}, [](const ModelConfig&) {
                  return std::make_unique<ConstantProcess<PriceModel>>(1.0);
                }});
  registry.add({"log_ou", "mean-reverting (Ornstein-Uhlenbeck) log price with mean factor 1",
                log_ou_params(), [](const ModelConfig& in) {
                  const ModelConfig c = with_defaults(in, log_ou_params(), "electricity_price");
                  return std::make_unique<LogOu>(
                      LogOu::Params{c.number("volatility"), c.number("reversion_per_year")});
                }});
}

}  // namespace capsim::models
