#include "capsim/models/builtin.hpp"

#include "common/registration.hpp"

namespace capsim::models {

void register_builtin_models(ModelRegistries& registries) {
  add_growth_models(registries.growth);
  add_noise_models(registries.noise);
  add_shock_models(registries.shocks);
  add_outage_models(registries.outages);
  add_fx_models(registries.fx);
  add_price_models(registries.price);
  add_failure_models(registries.failures);
  add_policy_models(registries.procurement);
  add_queue_models(registries.queue);
}

ModelRegistries builtin_registries() {
  ModelRegistries registries;
  register_builtin_models(registries);
  return registries;
}

}  // namespace capsim::models
