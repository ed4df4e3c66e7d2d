// Per-folder registration functions, called by register_builtin_models()
// (internal to capsim::models).
#pragma once

#include "capsim/models/builtin.hpp"

namespace capsim::models {

// demand/growth.cpp: constant, exponential, logistic, piecewise_linear
void add_growth_models(Registry<DemandGrowth>& registry);
// demand/noise.cpp: none, log_ar1
void add_noise_models(Registry<DemandNoise>& registry);
// demand/shocks.cpp: none, poisson
void add_shock_models(Registry<DemandShocks>& registry);
// outages/poisson.cpp: none, poisson
void add_outage_models(Registry<OutageModel>& registry);
// prices/fx.cpp: constant, gbm
void add_fx_models(Registry<FxModel>& registry);
// prices/electricity.cpp: constant, log_ou
void add_price_models(Registry<PriceModel>& registry);
// failures/binomial.cpp: none, binomial
void add_failure_models(Registry<FailureModel>& registry);
// procurement/headroom.cpp: none, headroom
void add_policy_models(Registry<ProcurementPolicy>& registry);
// queueing/queue_models.cpp: erlang_c, allen_cunneen
void add_queue_models(Registry<QueueModel>& registry);

}  // namespace capsim::models
