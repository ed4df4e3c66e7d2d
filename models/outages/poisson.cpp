// Regional outages: a two-state Markov chain per path (see docs/models.md).
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

// Per step t, with one uniform u_t (paired uniforms, common/random.hpp): a region not in outage at
// t-1 enters one at t when u_t <= p_start = 1 - exp(-events_per_year h / 8760); a region in outage
// at t-1 leaves it at t when u_t <= p_end = min(1, h / (24 mean_days)), so durations are
// geometric in whole steps with mean mean_days. value = fraction while in
// outage, else 0. State: column 0 = 1 while in outage, else 0; column 1 = the spare uniform.
class Poisson final : public OutageModel {
 public:
  struct Params {
    double events_per_year = 0.0;
    double mean_days = 1.0;
    double fraction = 1.0;  // of the region's capacity lost
  };
  explicit Poisson(Params params) : p_(params) {}

  int state_size() const override { return 2; }
  void init(const ChunkContext&, Eigen::Ref<Eigen::ArrayXXd> state) const override {
    state.col(0).setZero();
  }
  void step(const ChunkContext& ctx, int t, Eigen::Ref<Eigen::ArrayXXd> state,
            Eigen::Ref<Eigen::ArrayXd> value) const override {
    if (ctx.deterministic || p_.events_per_year <= 0.0) {
      value.setZero();
      return;
    }
    const double h = ctx.step_hours;
    const double p_start = -std::expm1(-p_.events_per_year * h / 8760.0);
    const double p_end = std::min(1.0, h / (24.0 * p_.mean_days));
    paired_draw<Draw::uniform>(ctx, Stream::outage, t, 0, value, state.col(1));
    auto in = state.col(0);
    in = (in > 0.5).select((value > p_end).cast<double>(), (value <= p_start).cast<double>());
    value = p_.fraction * in;
  }

 private:
  Params p_;
};

std::vector<ParamInfo> poisson_params() {
  return {number_param("events_per_year", "1/year", "mean number of outages per year", true, 0.0,
                       0.0, 365.0),
          number_param("mean_days", "days", "mean outage duration", true, 0.0, 1e-6, 3650.0),
          number_param("fraction", "", "fraction of the region's capacity lost during an outage",
                       false, 1.0, 0.0, 1.0)};
}

}  // namespace

void add_outage_models(Registry<OutageModel>& registry) {
  registry.add({"none", "no random outages", {}, [](const ModelConfig&) {
                  return std::make_unique<ConstantProcess<OutageModel>>(0.0);
                }});
  registry.add({"poisson", "Poisson starts, exponential durations, a fixed capacity fraction lost",
                poisson_params(), [](const ModelConfig& in) {
                  const ModelConfig c = with_defaults(in, poisson_params(), "outages");
                  return std::make_unique<Poisson>(Poisson::Params{
                      c.number("events_per_year"), c.number("mean_days"), c.number("fraction")});
                }});
}

}  // namespace capsim::models
