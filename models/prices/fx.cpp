// USD/JPY factor on the start rate (see docs/models.md).
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

// Geometric Brownian motion sampled exactly at step starts: S_0 = 1,
// S_t = S_{t-1} exp((drift - volatility^2 / 2) dt + volatility sqrt(dt) eps_t)
// with dt = h / 8760 years. Deterministic: E[S_t] = exp(drift t dt).
// eps_t: paired normals (common/random.hpp).
// State: column 0 = S, column 1 = the spare normal.
class Gbm final : public FxModel {
 public:
  struct Params {
    double volatility = 0.0;  // annual
    double drift = 0.0;       // annual
  };
  explicit Gbm(Params params) : p_(params) {}

  int state_size() const override { return 2; }
  void init(const ChunkContext&, Eigen::Ref<Eigen::ArrayXXd> state) const override {
    state.col(0).setOnes();
  }
  void step(const ChunkContext& ctx, int t, Eigen::Ref<Eigen::ArrayXXd> state,
            Eigen::Ref<Eigen::ArrayXd> value) const override {
    const double dt = ctx.step_hours / 8760.0;
    if (ctx.deterministic) {
      value.setConstant(std::exp(p_.drift * t * dt));
      return;
    }
    if (t > 0) {
      const double v = p_.volatility;
      paired_draw<Draw::normal>(ctx, Stream::fx, t, 1, value, state.col(1));
      state.col(0) *= exp_each((p_.drift - 0.5 * v * v) * dt + v * std::sqrt(dt) * value);
    }
    value = state.col(0);
  }

 private:
  Params p_;
};

std::vector<ParamInfo> gbm_params() {
  return {
      number_param("volatility", "1/sqrt(year)", "annual volatility of the log rate", true, 0.0,
                   0.0, 2.0),
      number_param("drift", "1/year", "expected annual growth of the rate", false, 0.0, -1.0, 1.0)};
}

}  // namespace

void add_fx_models(Registry<FxModel>& registry) {
  registry.add({"constant", "the start rate throughout", {}, [](const ModelConfig&) {
                  return std::make_unique<ConstantProcess<FxModel>>(1.0);
                }});
  registry.add(
      {"gbm", "geometric Brownian motion with annual drift and volatility", gbm_params(),
       [](const ModelConfig& in) {
         const ModelConfig c = with_defaults(in, gbm_params(), "fx");
         return std::make_unique<Gbm>(Gbm::Params{c.number("volatility"), c.number("drift")});
       }});
}

}  // namespace capsim::models
