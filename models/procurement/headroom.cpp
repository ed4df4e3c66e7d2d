// Procurement policies (see docs/models.md).
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "../common/params.hpp"
#include "../common/registration.hpp"
#include "capsim/error.hpp"

namespace capsim::models {
namespace {

using Eigen::ArrayXd;
using Eigen::ArrayXXd;
using Eigen::Index;

// Counts are rounded with this slack so that rounding noise in a quotient
// that is a whole number (3 - 1e-15) neither buys nor drops a GPU.
constexpr double kCountSlack = 1e-9;
constexpr double kInf = std::numeric_limits<double>::infinity();

class None final : public ProcurementPolicy {
 public:
  bool is_review(int, double) const override { return false; }
  void review(const ChunkContext&, const PolicyView&, Eigen::Ref<ArrayXXd> order,
              Eigen::Ref<ArrayXXd> limited) const override {
    order.setZero();
    limited.setZero();
  }
};

// Every review_days, per path and region r (in order): for each SKU of `skus`
// that may be ordered today and arrives within the horizon, in order of
// preference, order enough to close
//   gap_k = need_r (1 + g)^((lead_k + review_days) / 365) / target_utilization
//           - sum_k' (installed + on_order)[r,k'] perf_k' - H100e ordered so far
// in whole order units, limited by the power room at and after its arrival,
// its remaining quarterly allocation and the budget left after everything
// committed; move on to the next SKU only where the quarterly allocation was
// what stopped this one. docs/models.md states the rules as equations.
class Headroom final : public ProcurementPolicy {
 public:
  struct Params {
    double review_days = 30.0;
    double target_utilization = 0.8;
    double planner_growth_per_year = 0.3;
    double budget_reserve = 0.0;
    double order_unit = 1.0;
    std::vector<std::string> skus;  // preference order
    SourceMark mark;
  };
  explicit Headroom(Params params) : p_(std::move(params)) {}

  bool is_review(int t, double step_hours) const override {
    const double period_hours = 24.0 * p_.review_days;
    return std::floor((t + 1) * step_hours / period_hours) >
           std::floor(t * step_hours / period_hours);
  }

  void review(const ChunkContext&, const PolicyView& view, Eigen::Ref<ArrayXXd> order,
              Eigen::Ref<ArrayXXd> limited) const override {
    order.setZero();
    limited.setZero();
    const ScenarioSpec& spec = *view.spec;
    const auto R = static_cast<Index>(spec.regions.size());
    const auto K = static_cast<Index>(spec.skus.size());
    const Index paths = order.rows();
    const std::vector<int> listed = sku_indices(spec);

    // The SKUs this review may order, in preference order: available today,
    // with some perf, arriving within the horizon. With none available the
    // whole gap is short of supply; SKUs that would only arrive after the
    // horizon have no gap the run could see.
    std::vector<int> candidates;
    bool any_available = false;
    for (int k : listed) {
      const SkuSpec& s = spec.skus[static_cast<std::size_t>(k)];
      if (s.available_from > view.today || !(s.perf_h100e > 0.0)) continue;
      any_available = true;
      if (view.arrival_step[static_cast<std::size_t>(k)] < view.steps) candidates.push_back(k);
    }
    if (!any_available) {
      if (listed.empty()) return;
      // Nothing can be ordered yet: short of supply wherever there is a gap.
      for (Index r = 0; r < R; ++r)
        limited.col(limit_supply * R + r) =
            (gap(spec, view, r, listed.front(), ArrayXd::Zero(paths)) > 0.0).cast<double>();
      return;
    }
    if (candidates.empty()) return;

    const double budget = spec.finance.budget_usd;
    const double reserve_usd = std::isfinite(budget) ? p_.budget_reserve * budget : 0.0;
    const double u = p_.order_unit;
    // Whole order units: the wanted count rounds up, every limit down.
    const auto units_up = [&](const ArrayXd& gpus) -> ArrayXd {
      return (gpus / u - kCountSlack).ceil() * u;
    };
    const auto units_down = [&](const ArrayXd& gpus) -> ArrayXd {
      return (gpus / u + kCountSlack).floor() * u;
    };

    ArrayXd spent = ArrayXd::Zero(paths);  // committed by earlier orders of this review
    ArrayXXd quarter = view.quarter_orders;
    ArrayXd ordered(paths), used_kw(paths), active(paths), wanted(paths), power(paths),
        supply(paths), money(paths), limit(paths), count(paths), short_of(paths);
    for (Index r = 0; r < R; ++r) {
      used_kw.setZero();
      for (Index k = 0; k < K; ++k)
        used_kw += (view.installed.col(r * K + k) + view.on_order.col(r * K + k)) *
                   spec.skus[static_cast<std::size_t>(k)].power_kw;
      ordered.setZero();      // H100e ordered for r in this review
      active.setConstant(1);  // 1 while the region still looks for a SKU
      for (int k : candidates) {
        const SkuSpec& s = spec.skus[static_cast<std::size_t>(k)];
        const Index rk = r * K + k;
        wanted = units_up((gap(spec, view, r, k, ordered) / s.perf_h100e).max(0.0));
        const double room = view.power_room_kw[static_cast<std::size_t>(rk)];
        power = std::isfinite(room) && s.power_kw > 0.0 ? units_down((room - used_kw) / s.power_kw)
                                                        : ArrayXd::Constant(paths, kInf);
        const double cap =
            k < static_cast<int>(spec.procurement.supply.max_per_quarter.size())
                ? spec.procurement.supply.max_per_quarter[static_cast<std::size_t>(k)]
                : kInf;
        supply =
            std::isfinite(cap) ? units_down(cap - quarter.col(k)) : ArrayXd::Constant(paths, kInf);
        const auto commit = view.gpu_commit_usd.col(rk);
        // +inf without a budget (budget_left_usd is then +inf).
        money =
            (commit > 0.0)
                .select(units_down((view.budget_left_usd - reserve_usd - spent) / commit), kInf);
        limit = power.min(supply).min(money);
        count = active * wanted.min(limit).max(0.0);
        short_of = active * ((wanted > 0.0) && (limit < wanted)).cast<double>();
        // Power or budget stop the region; supply alone sends it to the next SKU.
        const ArrayXd by_power = short_of * (power <= limit).cast<double>();
        const ArrayXd by_money = short_of * (money <= limit).cast<double>();
        const ArrayXd by_supply = short_of * (supply <= limit).cast<double>();
        limited.col(limit_power * R + r) = limited.col(limit_power * R + r).max(by_power);
        limited.col(limit_budget * R + r) = limited.col(limit_budget * R + r).max(by_money);
        active = by_supply * (1.0 - by_power) * (1.0 - by_money);

        order.col(rk) = count;
        ordered += count * s.perf_h100e;
        used_kw += count * s.power_kw;
        spent += count * commit;
        quarter.col(k) += count;
      }
      // Still looking after the last SKU: every allocation was used up.
      limited.col(limit_supply * R + r) = active;
    }
  }

 private:
  // H100e the region still needs by the arrival of an order of SKU k: the
  // planner's requirement over lead time plus review period, less the
  // installed and on-order fleet and `ordered` (H100e ordered in this review).
  ArrayXd gap(const ScenarioSpec& spec, const PolicyView& view, Index r, int k,
              const ArrayXd& ordered) const {
    const auto K = static_cast<Index>(spec.skus.size());
    const SkuSpec& sku = spec.skus[static_cast<std::size_t>(k)];
    const double years = (sku.lead_time_days + p_.review_days) / 365.0;
    const double factor = std::pow(1.0 + p_.planner_growth_per_year, years) / p_.target_utilization;
    ArrayXd have = ordered;
    for (Index j = 0; j < K; ++j)
      have += (view.installed.col(r * K + j) + view.on_order.col(r * K + j)) *
              spec.skus[static_cast<std::size_t>(j)].perf_h100e;
    return view.observed_need_h100e.col(r) * factor - have;
  }

  // The SKUs of the preference list as catalog indices.
  std::vector<int> sku_indices(const ScenarioSpec& spec) const {
    std::vector<int> out;
    for (const auto& name : p_.skus) {
      int found = -1;
      for (std::size_t k = 0; k < spec.skus.size(); ++k)
        if (spec.skus[k].name == name) found = static_cast<int>(k);
      if (found < 0) {
        std::string valid;
        for (const auto& s : spec.skus) valid += (valid.empty() ? "" : ", ") + s.name;
        throw InputError(
            {Diagnostic{p_.mark, "procurement.policy.skus",
                        "unknown SKU \"" + name + "\" (expected one of: " + valid + ")"}});
      }
      out.push_back(found);
    }
    return out;
  }

  Params p_;
};

std::vector<ParamInfo> headroom_params() {
  return {
      number_param("review_days", "days", "time between reviews", false, 30.0, 1.0, 365.0),
      number_param("target_utilization", "", "planned busy fraction of capacity", false, 0.8, 0.01,
                   1.0),
      number_param("planner_growth_per_year", "1/year",
                   "demand growth the planner assumes when extrapolating", false, 0.3, -1.0, 10.0),
      number_param("budget_reserve", "fraction of the budget",
                   "share of the budget held back for price and exchange-rate risk", false, 0.0,
                   0.0, 1.0),
      whole_param("order_unit", "GPUs", "orders are whole multiples of this (e.g. 8 a server)", 1.0,
                  1.0, 1e6),
      names_param("skus", "sku names", "SKUs in order of preference")};
}

}  // namespace

void add_policy_models(Registry<ProcurementPolicy>& registry) {
  registry.add({"none", "no policy orders (explicit orders only)", {}, [](const ModelConfig&) {
                  return std::make_unique<None>();
                }});
  registry.add(
      {"headroom",
       "periodic reviews that order the preferred SKUs to close the forecast gap within budget, "
       "power and supply",
       headroom_params(), [](const ModelConfig& in) {
         const ModelConfig c = with_defaults(in, headroom_params(), "policy");
         return std::make_unique<Headroom>(
             Headroom::Params{c.number("review_days"), c.number("target_utilization"),
                              c.number("planner_growth_per_year"), c.number("budget_reserve"),
                              c.number("order_unit"), c.names("skus"), c.mark});
       }});
}

}  // namespace capsim::models
