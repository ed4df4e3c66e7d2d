// Demand shocks: a level multiplier raised by Poisson jumps (see docs/models.md).
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "../common/constant.hpp"
#include "../common/params.hpp"
#include "../common/random.hpp"
#include "../common/registration.hpp"

namespace capsim::models {
namespace {

// Each step: the excess over 1 decays, L <- 1 + (L - 1) exp(-h / (730
// decay_months)) (no decay when decay_months == 0); then with probability
// 1 - exp(-rate_per_year h / 8760) a jump L <- min(L (1 + J), kMaxDemandMultiplier),
// J ~ Exponential with mean mean_jump. value = L.
// One uniform u per step (paired uniforms, common/random.hpp): a jump iff
// u <= p_jump; given a jump, u / p_jump is uniform on (0, 1] and independent
// of the event, so J = -mean_jump log(u / p_jump).
// State: column 0 = L, column 1 = the spare uniform.
class Poisson final : public DemandShocks {
 public:
  struct Params {
    double rate_per_year = 0.0;
    double mean_jump = 0.2;     // relative
    double decay_months = 0.0;  // 0 = permanent
  };
  explicit Poisson(Params params) : p_(params) {}

  int state_size() const override { return 2; }
  void init(const ChunkContext&, Eigen::Ref<Eigen::ArrayXXd> state) const override {
    state.col(0).setOnes();
  }
  void step(const ChunkContext& ctx, int t, Eigen::Ref<Eigen::ArrayXXd> state,
            Eigen::Ref<Eigen::ArrayXd> value) const override {
    if (ctx.deterministic) {
      value.setOnes();
      return;
    }
    const double h = ctx.step_hours;
    if (p_.decay_months > 0.0) {
      const double keep = std::exp(-h / (730.0 * p_.decay_months));
      state.col(0) = 1.0 + (state.col(0) - 1.0) * keep;
    }
    const double p_jump = -std::expm1(-p_.rate_per_year * h / 8760.0);
    if (p_jump > 0.0) {
      paired_draw<Draw::uniform>(ctx, Stream::demand_shock, t, 0, value, state.col(1));
      // Jumps are rare: take the logarithm only where one occurs.
      auto level = state.col(0);
      for (Eigen::Index i = 0; i < level.size(); ++i)
        if (value[i] <= p_jump)
          level[i] = std::min(level[i] * (1.0 - p_.mean_jump * std::log(value[i] / p_jump)),
                              kMaxDemandMultiplier);
    }
    value = state.col(0);
  }

 private:
  Params p_;
};

std::vector<ParamInfo> poisson_params() {
  return {
      number_param("rate_per_year", "1/year", "mean number of shocks per year", true, 0.0, 0.0,
                   365.0),
      number_param("mean_jump", "relative", "mean relative rise of the level per shock", false, 0.2,
                   0.0, 10.0),
      number_param("decay_months", "months", "e-folding time of a shock's excess (0 = permanent)",
                   false, 0.0, 0.0, 1200.0)};
}

}  // namespace

void add_shock_models(Registry<DemandShocks>& registry) {
  registry.add({"none", "no shocks: multiplier 1", {}, [](const ModelConfig&) {
                  return std::make_unique<ConstantProcess<DemandShocks>>(1.0);
                }});
  registry.add({"poisson", "Poisson jumps that raise the level by an exponential factor",
                poisson_params(), [](const ModelConfig& in) {
                  const ModelConfig c = with_defaults(in, poisson_params(), "shocks");
                  return std::make_unique<Poisson>(Poisson::Params{
                      c.number("rate_per_year"), c.number("mean_jump"), c.number("decay_months")});
                }});
}

}  // namespace capsim::models
