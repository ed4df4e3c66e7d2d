// Queue models: the wait of a request given its M/M/c probability of waiting.
#include <cmath>
#include <memory>
#include <vector>

#include "../common/params.hpp"
#include "../common/registration.hpp"

namespace capsim::models {

namespace {

// Given a wait, W is exponential with mean scale / spare service times: scale
// 1 is M/M/c (Poisson arrivals, exponential service); Allen-Cunneen's G/G/c
// approximation scales it by (ca^2 + cs^2) / 2.
class ExponentialWait final : public QueueModel {
 public:
  explicit ExponentialWait(double scale) : scale_(scale) {}
  double wait_tail(double pw, double spare, double t) const override {
    if (!(t > 0.0)) return pw;
    if (!(scale_ > 0.0)) return 0.0;  // deterministic arrivals and service
    return pw * std::exp(-spare * t / scale_);
  }
  double mean_wait(double pw, double spare) const override { return pw * scale_ / spare; }

 private:
  double scale_;
};

std::vector<ParamInfo> allen_cunneen_params() {
  return {number_param("arrival_cv", "", "coefficient of variation of the inter-arrival times",
                       true, 1.0, 0.0, 100.0),
          number_param("service_cv", "", "coefficient of variation of the service times", false,
                       1.0, 0.0, 100.0)};
}

}  // namespace

void add_queue_models(Registry<QueueModel>& registry) {
  registry.add({"erlang_c",
                "M/M/c: Poisson arrivals, exponential service (Erlang C)",
                {},
                [](const ModelConfig&) { return std::make_unique<ExponentialWait>(1.0); }});
  registry.add({"allen_cunneen",
                "G/G/c by Allen-Cunneen: Erlang C's waits scaled by (ca^2 + cs^2) / 2",
                allen_cunneen_params(), [](const ModelConfig& in) {
                  const ModelConfig c = with_defaults(in, allen_cunneen_params(), "queue");
                  const double ca = c.number("arrival_cv"), cs = c.number("service_cv");
                  return std::make_unique<ExponentialWait>(0.5 * (ca * ca + cs * cs));
                }});
}

}  // namespace capsim::models
