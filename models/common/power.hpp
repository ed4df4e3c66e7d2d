// Region power schedule lookup (internal to capsim::models).
#pragma once

#include "capsim/scenario.hpp"

namespace capsim::models {

// IT power cap (MW) of `region` in force on `date`: the last PowerStep whose
// `from` is on or before `date`; the first step also covers any earlier
// date. An empty schedule means no cap (+infinity).
double power_cap_mw(const RegionSpec& region, Date date);

}  // namespace capsim::models
