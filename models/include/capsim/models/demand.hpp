// Demand models of a workload class: D[c,r] = base * growth * season * noise
// * shock * h (SPEC 3.1 step 6). Seasonality is plain data in ClassSpec.
#pragma once

#include "capsim/models/process.hpp"
#include "capsim/models/registry.hpp"

namespace capsim::models {

// Trend multiplier relative to the base demand: value(t=0) == 1 for every
// path. Uses Stream::growth_rate (drawn once per path, step kOncePerPath) for
// per-path growth-rate uncertainty. Time of step t is t * step_hours / 8760
// years (start of step).
class DemandGrowth : public PathProcess {};

// Multiplicative noise with mean 1 (e.g. log-AR(1): x_t = phi x_{t-1} +
// sigma sqrt(1-phi^2) eps, value exp(x_t - sigma^2/2)). Stream::demand_noise.
class DemandNoise : public PathProcess {};

// Level multiplier from Poisson jumps (>= 1 after a jump). Stream::demand_shock.
class DemandShocks : public PathProcess {};

}  // namespace capsim::models
