// Procurement policies (SPEC 2.6 and 3.1 step 11).
#pragma once

#include <Eigen/Core>

#include "capsim/models/process.hpp"
#include "capsim/models/registry.hpp"
#include "capsim/scenario.hpp"

namespace capsim::models {

// What a policy sees at a review step, for one chunk of paths. Columns of the
// (paths x R*K) arrays are r * K + k.
struct PolicyView {
  const ScenarioSpec* spec = nullptr;
  int t = 0;                  // current step (the review happens at its end)
  Date today{};               // date of step t
  // Observed mean capacity need per hour since the previous review, per
  // region (paths x R), in H100e: inference mean demand * peak_factor plus
  // training demand, by home region.
  Eigen::Ref<const Eigen::ArrayXXd> observed_need_h100e;
  Eigen::Ref<const Eigen::ArrayXXd> installed;  // GPUs N[r,k] (paths x R*K)
  Eigen::Ref<const Eigen::ArrayXXd> on_order;   // GPUs ordered, not yet delivered
  Eigen::Ref<const Eigen::ArrayXd> budget_left_usd;  // budget - spend - capex committed
  Eigen::Ref<const Eigen::ArrayXXd> quarter_orders;  // policy GPUs ordered this quarter (paths x K)
};

// Contract: is_review(t) says whether step t ends with a review. review()
// writes non-negative whole GPU counts to order (paths x R*K): GPUs of SKU k
// for region r ordered today, arriving after the SKU's lead time. Orders
// respect available_from, the per-quarter cap (spec.procurement.supply),
// budget_left_usd (capex at catalog price) and the power cap in force when
// they would arrive.
class ProcurementPolicy {
 public:
  virtual ~ProcurementPolicy() = default;
  virtual bool is_review(int t, double step_hours) const = 0;
  virtual void review(const ChunkContext& ctx, const PolicyView& view,
                      Eigen::Ref<Eigen::ArrayXXd> order) const = 0;
};

}  // namespace capsim::models
