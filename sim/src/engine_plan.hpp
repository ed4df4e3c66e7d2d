// Precomputed, path-independent inputs of a run: step dates, power caps,
// seasonality, scheduled outages, order steps. Shared read-only by all chunks.
#pragma once

#include <cmath>
#include <memory>
#include <optional>
#include <vector>

#include "capsim/models/builtin.hpp"
#include "capsim/results.hpp"
#include "capsim/scenario.hpp"

namespace capsim::detail {

// Models built from the scenario's slots.
struct Models {
  std::vector<std::unique_ptr<models::DemandGrowth>> growth;  // per class
  std::vector<std::unique_ptr<models::DemandNoise>> noise;    // per class
  std::vector<std::unique_ptr<models::DemandShocks>> shocks;  // per class
  std::vector<std::unique_ptr<models::OutageModel>> outages;  // per region
  std::vector<std::unique_ptr<models::PriceModel>> price;     // per region
  std::unique_ptr<models::FxModel> fx;
  std::unique_ptr<models::FailureModel> failures;
  std::unique_ptr<models::ProcurementPolicy> policy;
  std::vector<std::unique_ptr<models::QueueModel>> queue;  // per class; null unless request-level
};

// First StepValues column of each series the kernel writes.
struct SeriesColumns {
  Eigen::Index demand, served, spilled, unserved, backlog, capacity, busy, utilization, outage,
      installed, failed, stranded, on_order, power, power_cap, energy, energy_cost, opex, capex,
      revenue, penalty, carbon, spend_cum, budget_left, usd_jpy, price, requests, lost_requests,
      limited;  // the kPolicyLimits reviews_limited_by_* series, one after another
};

// A policy review at the end of step `step`: what the power schedule and the
// explicit orders dated after the review leave for the policy. The same for
// every path (explicit orders count at their on-time arrival).
struct ReviewPlan {
  int step = 0;
  std::vector<int> arrival;  // [K] on-time arrival step of an order of SKU k placed at the review
  // [R * K] kW: min over steps s in [arrival[k], T) of cap_mw[r](s) * 1000
  // less the full-load kW of the explicit orders for r placed after `step`
  // and due by s; +inf when arrival[k] >= T.
  std::vector<double> power_room_kw;
  // [R * K] GPU-steps within the horizon of the explicit orders placed after
  // `step`, from their on-time arrival.
  std::vector<double> explicit_gpu_steps;
  double explicit_capex_usd = 0.0;    // capex of the explicit orders placed after `step`
  std::vector<double> cap_mw_months;  // [R] sum over steps after `step` of cap_mw * h / 730
};

struct Plan {
  const ScenarioSpec* spec = nullptr;
  Layout layout;
  SeriesColumns cols{};
  int R = 0, K = 0, C = 0, T = 0;
  double h = 24.0;  // hours per step

  std::vector<Date> step_date;           // [T] date containing the start of step t
  std::vector<double> cap_mw;            // [T * R] power cap in force at step start
  std::vector<double> scheduled_outage;  // [T * R] fraction lost by scheduled outages
  std::vector<double> season;            // [T * C] seasonality multiplier
  std::vector<int> quarter;              // [T] calendar quarter index of step t
  std::vector<int> order_step;           // per explicit order: step it is placed in
  std::vector<double> order_hours;       // per explicit order: hours from start to its date
  std::vector<int> order_arrival;        // per explicit order: on-time arrival step
  std::vector<int> sku_power_order;      // SKUs by H100e per kW, best first
  std::vector<int> class_order;          // classes by priority, stable
  std::vector<double> perf_class;        // [C * K] H100e per GPU of SKU k for class c
  bool per_class_perf = false;
  std::vector<int> backlog_slots;   // per class: W + 1 (training), 0 (inference)
  int policy_slots = 0;             // ring size of policy order slots
  std::vector<ReviewPlan> reviews;  // the policy's reviews, in step order
  std::vector<int> review_at;       // [T] index into reviews of step t's review, or -1
  Models models;
  // Request-level classes (SPEC 3.3), per class: the servers their load needs
  // (empty for classes given in H100e), and the load per request per second,
  // peak_factor x service time (H100e per request/s).
  std::vector<std::optional<models::Staffing>> staffing;
  std::vector<double> load_per_rate;
};

Plan make_plan(const ScenarioSpec& spec, const models::ModelRegistries& registries);

// Step in which an order placed at hour `placed_hours` goes live after
// `lead_hours` and `delay_hours`: the first step starting at or after then.
inline int arrival_step(double placed_hours, double lead_hours, double delay_hours, double h) {
  return static_cast<int>(std::ceil((placed_hours + lead_hours + delay_hours) / h - 1e-9));
}

// Hours from the start to the date of an explicit order.
double order_hours(const ScenarioSpec& spec, const OrderSpec& order);

// IT power cap (MW) of `region` in force on `date`: the last step of its
// schedule from on or before `date`; the first step also covers earlier dates.
double power_cap_at(const RegionSpec& region, Date date);

}  // namespace capsim::detail
