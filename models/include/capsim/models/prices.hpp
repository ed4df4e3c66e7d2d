// Money processes: value = multiplicative factor on a start level (the
// USD/JPY start rate, a region's base electricity price). value(t=0) == 1.
#pragma once

#include "capsim/models/process.hpp"
#include "capsim/models/registry.hpp"

namespace capsim::models {

// USD/JPY path (e.g. geometric Brownian motion). Stream::fx.
class FxModel : public PathProcess {};

// Electricity price factor (e.g. mean-reverting log price). Stream::electricity_price.
class PriceModel : public PathProcess {};

}  // namespace capsim::models
