// Demand noise: multiplicative, mean 1 (see docs/models.md).
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

// x_0 ~ N(0, sigma^2) (stationary start), x_t = a x_{t-1} + sigma sqrt(1 - a^2)
// eps_t for t >= 1 with a = phi^(step_hours / 24); value = exp(x_t - sigma^2/2).
// eps_t: paired normals (common/random.hpp).
// State: column 0 = x (log of the multiplier before the mean correction),
// column 1 = the spare normal.
class LogAr1 final : public DemandNoise {
 public:
  struct Params {
    double sigma = 0.0;  // stationary sd of x
    double phi = 0.9;    // autocorrelation per day
  };
  explicit LogAr1(Params params) : p_(params) {}

  int state_size() const override { return 2; }
  void init(const ChunkContext& ctx, Eigen::Ref<Eigen::ArrayXXd> state) const override {
    if (ctx.deterministic) {
      state.col(0).setZero();
      return;
    }
    ctx.rng->fill_normal(ctx.path0, kOncePerPath, Stream::demand_noise, ctx.stream_index, 0,
                         state.col(0));
    state.col(0) *= p_.sigma;
  }
  void step(const ChunkContext& ctx, int t, Eigen::Ref<Eigen::ArrayXXd> state,
            Eigen::Ref<Eigen::ArrayXd> value) const override {
    if (ctx.deterministic) {
      value.setOnes();
      return;
    }
    if (t > 0) {
      const double a = std::pow(p_.phi, ctx.step_hours / 24.0);
      const double s = p_.sigma * std::sqrt(1.0 - a * a);
      paired_draw<Draw::normal>(ctx, Stream::demand_noise, t, 1, value, state.col(1));
      state.col(0) = a * state.col(0) + s * value;
    }
    value = exp_each(state.col(0) - 0.5 * p_.sigma * p_.sigma);
  }

 private:
  Params p_;
};

std::vector<ParamInfo> log_ar1_params() {
  return {number_param("sigma", "", "stationary standard deviation of the log multiplier", true,
                       0.0, 0.0, 3.0),
          number_param("phi", "per day", "autocorrelation of the log multiplier over one day",
                       false, 0.9, 0.0, 0.9999)};
}

}  // namespace

void add_noise_models(Registry<DemandNoise>& registry) {
  registry.add({"none", "no noise: multiplier 1", {}, [](const ModelConfig&) {
                  return std::make_unique<ConstantProcess<DemandNoise>>(1.0);
                }});
  registry.add(
      {"log_ar1", "log-AR(1) multiplier with mean 1 and daily autocorrelation phi",
       log_ar1_params(), [](const ModelConfig& in) {
         const ModelConfig c = with_defaults(in, log_ar1_params(), "noise");
         return std::make_unique<LogAr1>(LogAr1::Params{c.number("sigma"), c.number("phi")});
       }});
}

}  // namespace capsim::models
