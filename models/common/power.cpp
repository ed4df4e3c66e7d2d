#include "power.hpp"

#include <limits>

namespace capsim::models {

double power_cap_mw(const RegionSpec& region, Date date) {
  if (region.power_mw.empty()) return std::numeric_limits<double>::infinity();
  double mw = region.power_mw.front().mw;
  for (const auto& step : region.power_mw) {
    if (step.from > date) break;
    mw = step.mw;
  }
  return mw;
}

}  // namespace capsim::models
