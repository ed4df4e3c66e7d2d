// Scenario section 2: the names of SKUs, regions and classes, and the GPU catalog.
#include "validator.hpp"

namespace capsim::io::detail {

std::vector<std::string> Validator::collect_names(const TreeNode* node, const std::string& path,
                                                  const TreePos& fallback,
                                                  const std::string& what) {
  const std::string expected = "a map of " + what + " name -> " + what + " (at least one)";
  std::vector<std::string> names;
  if (!node) {
    error(fallback, path, "missing required key (expected " + expected + ")");
    return names;
  }
  if (!node->is_map()) {
    error(node->pos, path, "wrong type (got " + describe(*node) + ", expected " + expected + ")");
    return names;
  }
  if (node->entries.empty())
    error(node->pos, path, "no " + what + " (got {}, expected " + expected + ")");
  for (const auto& e : node->entries) {
    // Names become key paths for --set and labels in outputs, so no dots or spaces.
    if (!valid_name(e.key))
      error(e.key_pos, join_path(path, e.key),
            "invalid name (got " + quoted_name(e.key) + ", expected letters, digits, '_' or '-')");
    names.push_back(e.key);
  }
  return names;
}

SkuSpec Validator::read_sku(const TreeEntry& entry) {
  SkuSpec s;
  s.name = entry.key;
  MapReader m(*this, &entry.value, join_path("skus", entry.key), entry.key_pos);
  // At least a thousandth of an H100 and 10 W: the policy divides by both.
  m.number("perf_h100e", s.perf_h100e, Range::closed(0.001, 100));
  name_map(m.get("perf_by_class"), m.path("perf_by_class"), classes_, "class",
           Range::closed(0.001, 100), false,
           [&](int, const TreeEntry& e, double v) { s.perf_by_class[e.key] = v; });
  m.number("power_kw", s.power_kw, Range::closed(0.01, 100), true);
  m.number("idle_fraction", s.idle_fraction, Range::closed(0, 1));
  m.number("capex_usd", s.capex_usd, Range::closed(0, 1e8), true);
  s.available_from = start_;
  m.date("available_from", s.available_from);
  m.number("lead_time_days", s.lead_time_days, Range::closed(0, 3650));
  m.number("afr", s.afr, Range::closed(0, 10));
  m.number("repair_days", s.repair_days, Range::left_open(0, 3650));
  m.number("life_years", s.life_years, Range::left_open(0, 50));
  m.finish();
  return s;
}

}  // namespace capsim::io::detail
