// Demand models of a workload class: D[c,r] = base * growth * season * noise
// * shock * h (SPEC 3.1 step 6). Seasonality is plain data in ClassSpec.
#pragma once

#include "capsim/models/process.hpp"
#include "capsim/models/registry.hpp"

namespace capsim::models {

// Largest value of a growth or shock multiplier: the models saturate there.
// A valid scenario may compound far beyond any real demand (exponential
// growth of rate 10 + 5 sd per year over 20 years is e^1000; 365 shocks a
// year that each multiply the level by 11 overflow in months), and demand,
// money and every key figure must stay finite numbers. 1e30 times the base
// demand is 21 orders of magnitude above the largest real growth, so no
// plausible scenario reaches it.
inline constexpr double kMaxDemandMultiplier = 1e30;

// Trend multiplier relative to the base demand: value(t=0) == 1 for every
// path. Uses Stream::growth_rate (drawn once per path, step kOncePerPath) for
// per-path growth-rate uncertainty. Time of step t is t * step_hours / 8760
// years (start of step). Values lie in [0, kMaxDemandMultiplier].
class DemandGrowth : public PathProcess {};

// Multiplicative noise with mean 1 (e.g. log-AR(1): x_t = phi x_{t-1} +
// sigma sqrt(1-phi^2) eps, value exp(x_t - sigma^2/2)). Stream::demand_noise.
class DemandNoise : public PathProcess {};

// Level multiplier from Poisson jumps (>= 1 after a jump, at most
// kMaxDemandMultiplier). Stream::demand_shock.
class DemandShocks : public PathProcess {};

}  // namespace capsim::models
