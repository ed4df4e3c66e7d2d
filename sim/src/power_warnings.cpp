// Explicit orders against the power schedule (capsim::power_warnings).
#include <algorithm>
#include <chrono>
#include <sstream>
#include <string>

#include "capsim/engine.hpp"
#include "engine_plan.hpp"

namespace capsim {

namespace {

std::string megawatts(double mw) {
  std::ostringstream out;
  out.precision(4);
  out << mw << " MW";
  return out.str();
}

}  // namespace

std::vector<Diagnostic> power_warnings(const ScenarioSpec& spec) {
  const auto& orders = spec.procurement.orders;
  const double h = spec.time.step_hours;
  const int T = make_layout(spec).steps;
  std::vector<int> arrival;
  for (const auto& o : orders)
    arrival.push_back(detail::arrival_step(
        detail::order_hours(spec, o),
        24.0 * spec.skus[static_cast<std::size_t>(o.sku)].lead_time_days, 0.0, h));

  std::vector<Diagnostic> warnings;
  for (std::size_t j = 0; j < orders.size(); ++j) {
    const OrderSpec& o = orders[j];
    if (arrival[j] >= T) continue;  // never live within the horizon
    const RegionSpec& region = spec.regions[static_cast<std::size_t>(o.region)];
    double live_kw = 0.0, live_gpus = 0.0;
    for (std::size_t k = 0; k < spec.skus.size(); ++k) {
      live_kw += region.initial_fleet[k] * spec.skus[k].power_kw;
      live_gpus += region.initial_fleet[k];
    }
    for (std::size_t i = 0; i < orders.size(); ++i) {
      if (orders[i].region != o.region || arrival[i] > arrival[j]) continue;
      live_kw += orders[i].count * spec.skus[static_cast<std::size_t>(orders[i].sku)].power_kw;
      live_gpus += orders[i].count;
    }
    const Date day = spec.time.start + std::chrono::days(static_cast<int>(arrival[j] * h / 24.0));
    const double cap_mw = detail::power_cap_at(region, day);
    const double over_mw = live_kw / 1000.0 - cap_mw;
    if (!(live_kw - 1000.0 * cap_mw > 1e-9 * std::max(1.0, 1000.0 * cap_mw))) continue;
    std::ostringstream message;
    message.precision(12);
    message << "warning: " << o.count << " " << spec.skus[static_cast<std::size_t>(o.sku)].name
            << " for " << region.name << ", live on " << format_date(day)
            << " if on time: with the initial fleet and the explicit orders live by then ("
            << live_gpus << " GPUs) " << megawatts(live_kw / 1000.0)
            << " of IT power at full load against a cap of " << megawatts(cap_mw) << ", "
            << megawatts(over_mw) << " over (GPUs beyond the cap are stranded)";
    warnings.push_back(
        Diagnostic{o.mark, "procurement.orders." + std::to_string(j), message.str()});
  }
  return warnings;
}

}  // namespace capsim
