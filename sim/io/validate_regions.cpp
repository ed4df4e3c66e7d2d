// Scenario section 3: regions (power schedule, prices, opex, fleet, outages, spill).
#include "validator.hpp"

namespace capsim::io::detail {

void Validator::read_power(MapReader& m, RegionSpec& region) {
  const std::string path = m.path("power_mw");
  const TreeNode* n = m.get("power_mw");
  if (!n) {
    m.missing("power_mw", "a number >= 0 (MW), or a list of {from: date, mw: number >= 0}");
    return;
  }
  if (n->is_scalar()) {
    const auto mw = number(*n, path, Range::closed(0, kMaxPowerMw));
    if (!mw) return;
    region.power_mw.push_back(PowerStep{start_, *mw});
    if (*mw <= 0) error(n->pos, path, "no power (got 0, expected a number > 0)");
    return;
  }
  if (!n->is_sequence() || n->items.empty()) {
    error(n->pos, path,
          "wrong type (got " + describe(*n) +
              ", expected a number >= 0, or a non-empty list of {from: date, mw: number >= 0})");
    return;
  }
  bool all_valid = true;
  bool any_power = false;
  std::optional<Date> previous;  // as written, so a first date after start is still checked
  for (std::size_t i = 0; i < n->items.size(); ++i) {
    const TreeNode& item = n->items[i];
    MapReader s(*this, &item, join_path(path, std::to_string(i)), item.pos);
    PowerStep step;
    step.from = start_;
    const bool has_from = s.date("from", step.from, i > 0);
    if (!s.number("mw", step.mw, Range::closed(0, kMaxPowerMw), true)) all_valid = false;
    if (step.mw > 0) any_power = true;
    s.finish();
    if (!has_from && i > 0) all_valid = false;
    if (has_from) {
      if (previous && step.from <= *previous) {
        error(item.find("from")->pos, s.path("from"),
              "dates not increasing (got " + format_date(step.from) + ", expected a date after " +
                  format_date(*previous) + ")");
      }
      previous = step.from;
    }
    if (i == 0 && step.from > start_) step.from = start_;
    region.power_mw.push_back(step);
  }
  if (all_valid && !any_power)
    error(n->pos, path, "no power (got 0 MW in every step, expected some mw > 0)");
}

RegionSpec Validator::read_region(const TreeEntry& entry, int index) {
  RegionSpec r;
  r.name = entry.key;
  MapReader m(*this, &entry.value, join_path("regions", entry.key), entry.key_pos);
  read_power(m, r);
  m.number("pue", r.pue, Range::closed(1, 3));
  m.number("price_jpy_per_kwh", r.price_jpy_per_kwh, Range::closed(0, 1e5));
  m.number("price_usd_per_kwh", r.price_usd_per_kwh, Range::closed(0, 1e3));
  const std::string price_expected =
      "exactly one of price_jpy_per_kwh and price_usd_per_kwh, a number >= 0";
  if (m.has("price_jpy_per_kwh") && m.has("price_usd_per_kwh")) {
    error(m.get("price_usd_per_kwh")->pos, m.path("price_usd_per_kwh"),
          "two electricity prices (got price_jpy_per_kwh and price_usd_per_kwh, expected " +
              price_expected + ")");
  } else if (!m.has("price_jpy_per_kwh") && !m.has("price_usd_per_kwh")) {
    m.missing("price_usd_per_kwh", price_expected);
  }
  r.price_model = slot(m, "electricity_price", registries_.price, "constant");
  m.number("carbon_g_per_kwh", r.carbon_g_per_kwh, Range::closed(0, 2000));
  m.number("opex_usd_per_gpu_month", r.opex_usd_per_gpu_month, Range::closed(0, 1e6));
  m.number("opex_usd_per_mw_month", r.opex_usd_per_mw_month, Range::closed(0, 1e9));
  m.number("opex_jpy_per_gpu_month", r.opex_jpy_per_gpu_month, Range::closed(0, 1e9));
  m.number("opex_jpy_per_mw_month", r.opex_jpy_per_mw_month, Range::closed(0, 1e12));
  r.initial_fleet.assign(skus_.size(), 0.0);
  name_map(m.get("initial_fleet"), m.path("initial_fleet"), skus_, "SKU",
           Range::closed(0, kMaxGpus), true, [&](int k, const TreeEntry&, double v) {
             r.initial_fleet[static_cast<std::size_t>(k)] = v;
           });
  r.outages = slot(m, "outages", registries_.outages, "none");

  if (const TreeNode* n = m.get("scheduled_outages")) {
    const std::string path = m.path("scheduled_outages");
    if (!n->is_sequence()) {
      error(n->pos, path,
            "wrong type (got " + describe(*n) + ", expected a list of {start, days, fraction})");
    } else {
      for (std::size_t i = 0; i < n->items.size(); ++i) {
        const TreeNode& item = n->items[i];
        MapReader o(*this, &item, join_path(path, std::to_string(i)), item.pos);
        ScheduledOutage outage;
        if (o.date("start", outage.start, true) && has_start_ && !in_horizon(outage.start)) {
          error(item.find("start")->pos, o.path("start"),
                "outside the horizon (got " + format_date(outage.start) + ", expected " +
                    horizon_text() + ")");
        }
        o.number("days", outage.days, Range::left_open(0, 7300), true);
        o.number("fraction", outage.fraction, Range::closed(0, 1), true);
        o.finish();
        r.scheduled_outages.push_back(outage);
      }
    }
  }

  name_map(
      m.get("spill_to"), m.path("spill_to"), regions_, "region", Range::left_open(0, 1), false,
      [&](int j, const TreeEntry& e, double v) {
        if (j == index)
          error(e.key_pos, m.path("spill_to") + "." + e.key,
                "a region cannot spill to itself (got '" + e.key + "', expected another region)");
        else
          r.spill_to.push_back(SpillTarget{j, v});
      });
  m.finish();
  return r;
}

}  // namespace capsim::io::detail
