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

RequestSpec Validator::read_requests(const TreeNode& node, const std::string& path) {
  RequestSpec q;
  MapReader m(*this, &node, path, node.pos);
  m.number("rate_per_s", q.rate_per_s, Range::closed(0, 1e9), true);
  const bool input = m.number("input_tokens", q.input_tokens, Range::closed(0, 1e7), true);
  const bool output = m.number("output_tokens", q.output_tokens, Range::closed(0, 1e7), true);
  if (input && output && !(q.input_tokens + q.output_tokens > 0))
    error(node.pos, path,
          "a request without tokens takes no time (got input_tokens 0 and output_tokens 0, "
          "expected at least one > 0)");
  m.number("input_tokens_per_s_per_h100e", q.input_tokens_per_s_per_h100e, Range::left_open(0, 1e9),
           true);
  m.number("output_tokens_per_s_per_h100e", q.output_tokens_per_s_per_h100e,
           Range::left_open(0, 1e9), true);

  // The service level: P(wait > max_wait_s) <= max_wait_probability, or the
  // wait_percentile of the wait at most max_wait_s.
  const Range open_unit{0, 1, true, true};
  const bool has_wait = m.has("max_wait_s");
  m.number("max_wait_s", q.max_wait_s, Range::closed(0, 86400));
  const TreeNode* probability = m.get("max_wait_probability");
  const TreeNode* percentile = m.get("wait_percentile");
  if (probability && percentile) {
    error(percentile->pos, m.path("wait_percentile"),
          "the service level is given twice (got max_wait_probability and wait_percentile, "
          "expected one of them)");
  } else if (probability) {
    if (const auto x = number(*probability, m.path("max_wait_probability"), open_unit))
      q.max_wait_probability = *x;
  } else if (percentile) {
    if (const auto x = number(*percentile, m.path("wait_percentile"), open_unit))
      q.max_wait_probability = 1.0 - *x;
    if (!has_wait) m.missing("max_wait_s", "seconds in [0, 86400]: the percentile's wait");
  } else {
    m.missing("max_wait_probability",
              "a probability in (0, 1), or wait_percentile in (0, 1) with max_wait_s");
  }
  q.queue = slot(m, "queue", registries_.queue, "erlang_c");
  m.finish();
  return q;
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
  const bool by_requests = m.has("requests");  // read last, below
  if (!by_requests) {
    m.number("base_demand_h100e", c.base_demand_h100e, Range::closed(0, kMaxDemandH100e), true);
  } else if (const TreeNode* b = m.get("base_demand_h100e")) {
    error(b->pos, m.path("base_demand_h100e"),
          "a class is given in H100e or in requests, not both (got base_demand_h100e and "
          "requests, expected one of them)");
  }

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
  if (const TreeNode* n = m.get("requests")) {
    c.requests = read_requests(*n, m.path("requests"));
    if (kind == WorkloadKind::training)
      error(n->pos, m.path("requests"),
            "only for inference classes (got requests on a training class, expected "
            "base_demand_h100e)");
    // Its peak factor scales the rate its servers are sized for; the
    // servers are then the capacity it takes.
    c.requests->peak_factor = c.peak_factor;
    c.peak_factor = 1.0;
  }
  m.finish();
  return c;
}

}  // namespace capsim::io::detail
