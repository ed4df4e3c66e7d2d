// Scenario section 4: finance.
#include "validator.hpp"

namespace capsim::io::detail {

void Validator::read_finance(const TreeNode* node, const TreePos& fallback, FinanceSpec& f) {
  MapReader m(*this, node, "finance", fallback);
  m.number("budget_usd", f.budget_usd, Range::left_open(0, 1e15));
  if (const TreeNode* n = m.get("capex_timing")) {
    if (const auto i = choice(*n, m.path("capex_timing"), {"at_order", "at_delivery"}))
      f.capex_timing = *i == 0 ? CapexTiming::at_order : CapexTiming::at_delivery;
  }
  m.number("usdjpy", f.usdjpy, Range::closed(1, 10000));
  f.fx_model = slot(m, "fx", registries_.fx, "constant");
  m.number("discount_rate", f.discount_rate, Range::closed(-0.5, 1));
  m.finish();
}

}  // namespace capsim::io::detail
