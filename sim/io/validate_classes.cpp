// Scenario section 5: workload classes.
#include "validator.hpp"

namespace capsim::io::detail {

template <std::size_t N>
void Validator::read_profile(MapReader& m, const std::string& key, std::array<double, N>& out) {
  const TreeNode* n = m.get(key);
  if (!n) return;
  const std::string path = m.path(key);
  const std::string expected =
      "a list of " + std::to_string(N) + " numbers >= 0 with mean 1 (within 1e-6)";
  if (!n->is_sequence()) {
    error(n->pos, path, "wrong type (got " + describe(*n) + ", expected " + expected + ")");
    return;
  }
  if (n->items.size() != N) {
    error(n->pos, path,
          "wrong length (got " + std::to_string(n->items.size()) + " numbers, expected " +
              expected + ")");
    return;
  }
  std::array<double, N> values{};
  bool all_valid = true;
  for (std::size_t i = 0; i < N; ++i) {
    const auto x = number(n->items[i], join_path(path, std::to_string(i)), Range::at_least(0));
    if (x)
      values[i] = *x;
    else
      all_valid = false;
  }
  if (!all_valid) return;
  double sum = 0;
  for (double x : values) sum += x;
  const double mean = sum / static_cast<double>(N);
  if (std::fabs(mean - 1.0) > kShareTolerance) {
    error(n->pos, path,
          "mean is not 1 (got mean " + format_number(mean) + ", expected " + expected + ")");
    return;
  }
  out = values;
}

ClassSpec Validator::read_class(const TreeEntry& entry) {
  ClassSpec c;
  c.name = entry.key;
  MapReader m(*this, &entry.value, join_path("classes", entry.key), entry.key_pos);
  std::optional<WorkloadKind> kind;
  if (const TreeNode* n = m.get("kind")) {
    if (const auto i = choice(*n, m.path("kind"), {"inference", "training"}))
      kind = *i == 0 ? WorkloadKind::inference : WorkloadKind::training;
  } else {
    m.missing("kind", "one of: inference, training");
  }
  if (kind) c.kind = *kind;
  m.number("base_demand_h100e", c.base_demand_h100e, Range::closed(0, kMaxDemandH100e), true);

  c.region_share.assign(regions_.size(), 0.0);
  if (const TreeNode* n = m.get("region_share")) {
    const bool all_valid =
        name_map(n, m.path("region_share"), regions_, "region", Range::closed(0, 1), false,
                 [&](int r, const TreeEntry&, double v) {
                   c.region_share[static_cast<std::size_t>(r)] = v;
                 });
    double sum = 0;
    for (double s : c.region_share) sum += s;
    if (all_valid && n->is_map() && std::fabs(sum - 1.0) > kShareTolerance)
      error(n->pos, m.path("region_share"),
            "shares do not sum to 1 (got " + format_number(sum) + ", expected 1 within 1e-6)");
  } else if (regions_.size() == 1) {
    c.region_share[0] = 1.0;
  } else if (regions_.size() > 1) {
    m.missing("region_share", "a map of region -> share in [0, 1] summing to 1");
  }

  c.growth = slot(m, "growth", registries_.growth, "constant");
  c.noise = slot(m, "noise", registries_.noise, "none");
  c.shocks = slot(m, "shocks", registries_.shocks, "none");
  c.hourly.fill(1.0);
  c.weekly.fill(1.0);
  read_profile(m, "hourly", c.hourly);
  read_profile(m, "weekly", c.weekly);

  if (const TreeNode* n = m.get("peak_factor")) {
    if (const auto x = number(*n, m.path("peak_factor"), Range::closed(1, 10))) c.peak_factor = *x;
    if (kind == WorkloadKind::training)
      error(n->pos, m.path("peak_factor"),
            "only for inference classes (got peak_factor on a training class, expected no "
            "peak_factor)");
  }
  m.number("residency", c.residency, Range::closed(0, 1));
  double wait_days = 7.0;
  if (const TreeNode* n = m.get("max_wait_days")) {
    if (const auto x = number(*n, m.path("max_wait_days"), Range::left_open(0, 3650)))
      wait_days = *x;
    if (kind == WorkloadKind::inference)
      error(n->pos, m.path("max_wait_days"),
            "only for training classes (got max_wait_days on an inference class, expected no "
            "max_wait_days)");
  }
  if (c.kind == WorkloadKind::training) c.max_wait_hours = 24.0 * wait_days;
  double priority = 0;
  if (m.whole("priority", priority, Range::closed(-1e6, 1e6)))
    c.priority = static_cast<int>(priority);
  m.number("revenue_usd_per_h100e_gpuh", c.revenue_usd_per_h100e_gpuh,
           Range::closed(0, kMaxUsdPerGpuh));
  m.number("penalty_usd_per_h100e_gpuh", c.penalty_usd_per_h100e_gpuh,
           Range::closed(0, kMaxUsdPerGpuh));
  m.finish();
  return c;
}

}  // namespace capsim::io::detail
