// Procurement policies (see docs/models.md).
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "../common/params.hpp"
#include "../common/power.hpp"
#include "../common/registration.hpp"
#include "capsim/error.hpp"

namespace capsim::models {
namespace {

// Counts are rounded with this slack so that rounding noise in a quotient
// that is a whole number (3 - 1e-15) neither buys nor drops a GPU.
constexpr double kCountSlack = 1e-9;

class None final : public ProcurementPolicy {
 public:
  bool is_review(int, double) const override { return false; }
  void review(const ChunkContext&, const PolicyView&,
              Eigen::Ref<Eigen::ArrayXXd> order) const override {
    order.setZero();
  }
};

// Every review_days: per path and region r (in order), order the first SKU
// of `skus` that is available today, enough to close
//   gap = need_r (1 + g)^((lead_days + review_days) / 365) / target_utilization
//         - sum_k (installed + on_order)[r,k] perf_k
// limited by the power headroom when the order would arrive, the SKU's
// remaining quarterly allocation and the remaining budget.
class Headroom final : public ProcurementPolicy {
 public:
  struct Params {
    double review_days = 30.0;
    double target_utilization = 0.8;
    double planner_growth_per_year = 0.3;
    std::vector<std::string> skus;  // preference order
    SourceMark mark;
  };
  explicit Headroom(Params params) : p_(std::move(params)) {}

  bool is_review(int t, double step_hours) const override {
    const double period_hours = 24.0 * p_.review_days;
    return std::floor((t + 1) * step_hours / period_hours) >
           std::floor(t * step_hours / period_hours);
  }

  void review(const ChunkContext&, const PolicyView& view,
              Eigen::Ref<Eigen::ArrayXXd> order) const override {
    order.setZero();
    const ScenarioSpec& spec = *view.spec;
    const int k_pref = preferred_sku(spec, view.today);
    if (k_pref < 0) return;
    const SkuSpec& sku = spec.skus[static_cast<std::size_t>(k_pref)];
    if (!(sku.perf_h100e > 0.0)) return;

    const auto R = static_cast<Eigen::Index>(spec.regions.size());
    const auto K = static_cast<Eigen::Index>(spec.skus.size());
    const Eigen::Index paths = order.rows();
    const double inf = std::numeric_limits<double>::infinity();

    const double horizon_years = (sku.lead_time_days + p_.review_days) / 365.0;
    const double need_factor =
        std::pow(1.0 + p_.planner_growth_per_year, horizon_years) / p_.target_utilization;
    const Date arrival =
        view.today + std::chrono::days(static_cast<int>(std::ceil(sku.lead_time_days)));

    double quarter_cap = inf;
    const auto& caps = spec.procurement.supply.max_per_quarter;
    if (static_cast<std::size_t>(k_pref) < caps.size())
      quarter_cap = caps[static_cast<std::size_t>(k_pref)];

    // What earlier regions of this review took, per path.
    Eigen::ArrayXd ordered = Eigen::ArrayXd::Zero(paths);
    Eigen::ArrayXd committed_usd = Eigen::ArrayXd::Zero(paths);
    Eigen::ArrayXd have(paths), used_kw(paths), count(paths);

    for (Eigen::Index r = 0; r < R; ++r) {
      have.setZero();
      used_kw.setZero();
      for (Eigen::Index k = 0; k < K; ++k) {
        const SkuSpec& s = spec.skus[static_cast<std::size_t>(k)];
        const auto fleet = view.installed.col(r * K + k) + view.on_order.col(r * K + k);
        have += fleet * s.perf_h100e;
        used_kw += fleet * s.power_kw;
      }
      const auto gap = view.observed_need_h100e.col(r) * need_factor - have;
      count = (gap > 0.0).select((gap / sku.perf_h100e - kCountSlack).ceil(), 0.0);

      const double cap_mw = power_cap_mw(spec.regions[static_cast<std::size_t>(r)], arrival);
      if (std::isfinite(cap_mw) && sku.power_kw > 0.0)
        count = count.min(((cap_mw * 1000.0 - used_kw) / sku.power_kw + kCountSlack).floor());
      if (std::isfinite(quarter_cap))
        count = count.min(
            (quarter_cap - view.quarter_orders.col(k_pref) - ordered + kCountSlack).floor());
      if (sku.capex_usd > 0.0)
        count = count.min(
            ((view.budget_left_usd - committed_usd) / sku.capex_usd + kCountSlack).floor());
      count = count.max(0.0);

      order.col(r * K + k_pref) = count;
      ordered += count;
      committed_usd += count * sku.capex_usd;
    }
  }

 private:
  // Index of the first SKU of the preference list that may be ordered on
  // `today`, or -1.
  int preferred_sku(const ScenarioSpec& spec, Date today) const {
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
      if (spec.skus[static_cast<std::size_t>(found)].available_from <= today) return found;
    }
    return -1;
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
      names_param("skus", "sku names", "SKUs in order of preference")};
}

}  // namespace

void add_policy_models(Registry<ProcurementPolicy>& registry) {
  registry.add({"none", "no policy orders (explicit orders only)", {}, [](const ModelConfig&) {
                  return std::make_unique<None>();
                }});
  registry.add({"headroom",
                "periodic reviews that order the preferred SKU to close the forecast gap",
                headroom_params(), [](const ModelConfig& in) {
                  const ModelConfig c = with_defaults(in, headroom_params(), "policy");
                  return std::make_unique<Headroom>(Headroom::Params{
                      c.number("review_days"), c.number("target_utilization"),
                      c.number("planner_growth_per_year"), c.names("skus"), c.mark});
                }});
}

}  // namespace capsim::models
