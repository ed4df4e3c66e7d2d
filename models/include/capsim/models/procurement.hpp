// Procurement policies (SPEC 2.6 and 3.1 step 11).
#pragma once

#include <Eigen/Core>
#include <span>

#include "capsim/models/process.hpp"
#include "capsim/models/registry.hpp"
#include "capsim/scenario.hpp"

namespace capsim::models {

// Why a review ordered less than a region's gap: the columns of the `limited`
// array a review writes are l * R + r for limit l and region r.
enum PolicyLimit : int { limit_budget, limit_power, limit_supply };
inline constexpr int kPolicyLimits = 3;

// What a policy sees at a review step, for one chunk of paths. Columns of the
// (paths x R*K) arrays are r * K + k. Everything the engine commits to is
// counted at the step's electricity prices and USD/JPY rate, with GPUs at
// full load, from their on-time arrival to the end of the horizon; see
// docs/model.md, step 11.
struct PolicyView {
  const ScenarioSpec* spec = nullptr;
  int t = 0;      // current step (the review happens at its end)
  Date today{};   // date of step t
  int steps = 0;  // T, steps in the horizon; an order arriving at step T or later is never live
  // Observed mean capacity need per hour since the previous review, per
  // region (paths x R), in H100e: inference mean demand * peak_factor plus
  // training demand, by home region.
  Eigen::Ref<const Eigen::ArrayXXd> observed_need_h100e;
  Eigen::Ref<const Eigen::ArrayXXd> installed;  // GPUs N[r,k], working, failed or stranded
  Eigen::Ref<const Eigen::ArrayXXd> on_order;   // GPUs ordered, not yet delivered
  // USD per path: the budget less everything committed (spend so far, capex
  // of orders not yet paid, capex of explicit orders still to come, and the
  // projected opex until the horizon of the installed and on-order fleet, of
  // explicit orders still to come and of the power caps); +inf without a
  // budget.
  Eigen::Ref<const Eigen::ArrayXd> budget_left_usd;
  // USD (paths x R*K) that one more GPU of SKU k for region r, ordered now,
  // commits: its capex plus its projected opex from its on-time arrival to
  // the horizon.
  Eigen::Ref<const Eigen::ArrayXXd> gpu_commit_usd;
  // kW (R*K, the same for every path): the IT power left for the region's
  // installed and on-order fleet and new orders, from the on-time arrival of
  // an order of SKU k placed now to the horizon: the minimum over those steps
  // of the cap less the full-load power of the explicit orders placed after
  // today and live (on time) by then. +inf when the order would arrive after
  // the horizon.
  std::span<const double> power_room_kw;
  std::span<const int> arrival_step;  // [K] on-time arrival step of an order of SKU k placed now
  Eigen::Ref<const Eigen::ArrayXXd> quarter_orders;  // policy GPUs ordered this quarter (paths x K)
};

// Contract: is_review(t) says whether step t ends with a review. review()
// writes non-negative whole GPU counts to `order` (paths x R*K): GPUs of SKU
// k for region r ordered today, arriving after the SKU's lead time; and 0/1
// flags to `limited` (paths x kPolicyLimits * R): 1 where limit l kept region
// r's order below what the policy wanted. Orders respect available_from, the
// per-quarter cap (spec.procurement.supply), budget_left_usd at
// gpu_commit_usd per GPU, and power_room_kw.
class ProcurementPolicy {
 public:
  virtual ~ProcurementPolicy() = default;
  virtual bool is_review(int t, double step_hours) const = 0;
  virtual void review(const ChunkContext& ctx, const PolicyView& view,
                      Eigen::Ref<Eigen::ArrayXXd> order,
                      Eigen::Ref<Eigen::ArrayXXd> limited) const = 0;
};

}  // namespace capsim::models
