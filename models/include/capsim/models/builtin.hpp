// All model registries, and the built-in models.
#pragma once

#include "capsim/models/demand.hpp"
#include "capsim/models/failures.hpp"
#include "capsim/models/outages.hpp"
#include "capsim/models/prices.hpp"
#include "capsim/models/procurement.hpp"
#include "capsim/models/queueing.hpp"
#include "capsim/models/registry.hpp"

namespace capsim::models {

struct ModelRegistries {
  Registry<DemandGrowth> growth{"growth"};
  Registry<DemandNoise> noise{"noise"};
  Registry<DemandShocks> shocks{"shocks"};
  Registry<OutageModel> outages{"outages"};
  Registry<FxModel> fx{"fx"};
  Registry<PriceModel> price{"electricity_price"};
  Registry<FailureModel> failures{"failures"};
  Registry<ProcurementPolicy> procurement{"policy"};
  Registry<QueueModel> queue{"queue"};
};

// Adds every built-in model to `registries`:
//   growth: constant, exponential, logistic, piecewise_linear
//   noise: none, log_ar1
//   shocks: none, poisson
//   outages: none, poisson
//   fx: constant, gbm
//   electricity_price: constant, log_ou
//   failures: none, binomial
//   policy: none, headroom
//   queue: erlang_c, allen_cunneen
void register_builtin_models(ModelRegistries& registries);

// A registries object with the built-in models.
ModelRegistries builtin_registries();

}  // namespace capsim::models
