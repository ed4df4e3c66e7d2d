// Scenario section 1: time and sampling.
#include "validator.hpp"

namespace capsim::io::detail {

void Validator::read_time(MapReader& top, TimeSpec& time) {
  MapReader m(*this, top.get("time"), "time", top.pos());
  const bool start_ok = m.date("start", time.start, true);
  double months = time.horizon_months;
  const bool months_ok =
      m.whole("horizon_months", months, Range::closed(1, 240)) || !m.has("horizon_months");
  time.horizon_months = static_cast<int>(months);
  // Same calendar arithmetic as the engine's step count: a day past the end
  // of the target month rolls over into the next one.
  start_ = time.start;
  end_ = Date(std::chrono::year_month_day(start_) + std::chrono::months(time.horizon_months));
  has_start_ = start_ok && months_ok;
  // Dates are written with four-digit years (the step labels, the outputs):
  // the last step must start in 9999 at the latest.
  constexpr Date kEndOfDates{std::chrono::year(10000) / 1 / 1};
  if (has_start_ && end_ > kEndOfDates) {
    error(m.get("start")->pos, m.path("start"),
          "the horizon ends after 9999-12-31 (got start " + format_date(start_) +
              " with horizon_months " + std::to_string(time.horizon_months) +
              ", expected a horizon that ends by 10000-01-01: dates have four-digit years)");
    has_start_ = false;
  }

  if (const TreeNode* n = m.get("step")) {
    constexpr double kHours[] = {1.0, 24.0, 168.0};
    if (const auto i = choice(*n, m.path("step"), {"1h", "1d", "1w"})) time.step_hours = kHours[*i];
  }
  double paths = static_cast<double>(time.paths);
  if (m.whole("paths", paths, Range::closed(1, 1e8))) time.paths = static_cast<std::int64_t>(paths);
  if (const TreeNode* n = m.get("seed"))
    if (const auto seed = unsigned64(*n, m.path("seed"))) time.seed = *seed;
  m.boolean("deterministic", time.deterministic);
  m.finish();
}

}  // namespace capsim::io::detail
