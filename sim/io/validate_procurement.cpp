// Scenario section 6: procurement (explicit orders, policy, supply).
#include "validator.hpp"

namespace capsim::io::detail {

void Validator::read_procurement(const TreeNode* node, const TreePos& fallback,
                                 ProcurementSpec& out) {
  MapReader m(*this, node, "procurement", fallback);
  if (const TreeNode* n = m.get("orders")) {
    const std::string path = m.path("orders");
    if (!n->is_sequence()) {
      error(n->pos, path,
            "wrong type (got " + describe(*n) + ", expected a list of {date, region, sku, count})");
    } else {
      for (std::size_t i = 0; i < n->items.size(); ++i) {
        const TreeNode& item = n->items[i];
        MapReader o(*this, &item, join_path(path, std::to_string(i)), item.pos);
        OrderSpec order;
        order.mark = sources_.mark(item.pos);
        const bool date_ok = o.date("date", order.date, true);
        if (date_ok && has_start_ && !in_horizon(order.date)) {
          error(item.find("date")->pos, o.path("date"),
                "outside the horizon (got " + format_date(order.date) + ", expected " +
                    horizon_text() + ")");
        }
        if (const TreeNode* r = o.get("region")) {
          if (const auto index = reference(*r, o.path("region"), regions_, "region"))
            order.region = *index;
        } else {
          o.missing("region", "a region name");
        }
        if (const TreeNode* k = o.get("sku")) {
          if (const auto index = reference(*k, o.path("sku"), skus_, "SKU")) order.sku = *index;
        } else {
          o.missing("sku", "a SKU name");
        }
        o.whole("count", order.count, Range::closed(0, kMaxGpus), true);
        o.finish();
        if (date_ok && order.sku >= 0) {
          const Date available = sku_available_[static_cast<std::size_t>(order.sku)];
          if (order.date < available) {
            error(item.find("date")->pos, o.path("date"),
                  "before SKU '" + skus_[static_cast<std::size_t>(order.sku)] +
                      "' is available (got " + format_date(order.date) +
                      ", expected a date on or after " + format_date(available) + ")");
          }
        }
        out.orders.push_back(order);
      }
    }
  }
  out.policy = slot(m, "policy", registries_.procurement, "none");

  MapReader s(*this, m.get("supply"), m.path("supply"), m.pos());
  SupplySpec& supply = out.supply;
  s.number("late_probability", supply.late_probability, Range::closed(0, 1));
  // Ten years, like a SKU's lead time: far beyond any real delivery delay.
  s.number("mean_delay_days", supply.mean_delay_days, Range::closed(0, 3650));
  s.number("max_delay_days", supply.max_delay_days, Range::closed(0, 3650));
  supply.max_per_quarter.assign(skus_.size(), kInf);
  name_map(s.get("max_per_quarter"), s.path("max_per_quarter"), skus_, "SKU",
           Range::closed(0, kMaxGpus), false, [&](int k, const TreeEntry&, double v) {
             supply.max_per_quarter[static_cast<std::size_t>(k)] = v;
           });
  s.finish();
  m.finish();
}

}  // namespace capsim::io::detail
