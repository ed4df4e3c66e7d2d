// State of one chunk of paths and the vectorized step (SPEC 3.1).
//
// Every array has one row per path of the chunk; columns are variables:
// r * K + k for (region, SKU) arrays, c * R + r for (class, region) arrays.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "capsim/rng.hpp"
#include "engine_plan.hpp"

namespace capsim::detail {

// Per-path running totals that become the key figures.
enum Acc : int {
  acc_capex,
  acc_opex,
  acc_energy_cost,
  acc_served,
  acc_inference_ok_steps,
  acc_busy,
  acc_capacity,
  acc_peak_over_cap,
  acc_energy,
  acc_carbon,
  acc_gpus_bought,
  acc_revenue,
  acc_penalty,
  acc_npv,
  acc_reviews_limited,  // followed by one column per models::PolicyLimit
  acc_fixed_count =
      acc_reviews_limited + models::kPolicyLimits,  // followed by C columns each of demand,
                                                    // unserved, requests, lost requests
};

struct ChunkState {
  std::int64_t path0 = 0;
  Eigen::Index n = 0;

  Eigen::ArrayXXd installed, failed, on_order;  // n x RK GPUs
  Eigen::ArrayXXd order_arrival;                // n x O: step each explicit order goes live
  Eigen::ArrayXXd slot_count;                   // n x (S * RK): policy orders in transit
  Eigen::ArrayXXi slot_arrival;                 // n x (S * RK): their arrival steps (-1: none)
  std::vector<int> slot_review;                 // per slot: index of its review in plan.reviews
  std::vector<int> slot_first, slot_last;       // per slot: earliest and latest arrival step
  Eigen::ArrayXXd backlog;                      // training backlog by age, see backlog_offset
  std::vector<Eigen::Index> backlog_offset;     // per class: first column (R * slots columns)
  std::vector<Eigen::ArrayXXd> growth, noise, shocks, outages, price;  // model states
  Eigen::ArrayXXd fx;
  Eigen::ArrayXXd need;  // n x R capacity need observed since the last review
  int steps_since_review = 0;
  int reviews = 0;
  int quarter = -1;
  Eigen::ArrayXXd quarter_orders;  // n x K policy GPUs ordered this quarter
  Eigen::ArrayXd spend_cum;        // USD
  Eigen::ArrayXd committed;        // capex of undelivered orders booked at delivery
  Eigen::ArrayXXd acc;             // n x (acc_fixed_count + 4C)
};

// Working arrays of one step, nothing carried from step to step: one set per
// thread (sized for a chunk of n paths) instead of one per chunk.
struct StepScratch {
  Eigen::Index n = -1;
  Eigen::ArrayXXd demand, left, served, spilled, unserved;  // n x CR
  Eigen::ArrayXXd powered, stranded, capex_r;               // n x RK, n x RK, n x R
  Eigen::ArrayXXd cap, remaining, outage, cap_class;        // n x R, n x R, n x R, n x CR
  Eigen::ArrayXXd order, limited;         // n x RK, n x kPolicyLimits * R: the review's decisions
  Eigen::ArrayXXd gpu_commit, gpu_steps;  // n x RK: see commit_at_review
  Eigen::ArrayXd committed;
  Eigen::ArrayXd tmp, tmp2, value, trend, shock, usdjpy;
  Eigen::ArrayXd spillable, limit, base, before;  // allocation scratch

  Eigen::ArrayXXd requests;  // n x CR, requests per step: 0 unless request-level
};

// Sizes the state for paths [path0, path0 + n) and draws what is drawn once
// per path (growth rates, delays of explicit orders, initial noise).
void init_chunk(const Plan& plan, const Rng& rng, std::int64_t path0, Eigen::Index n,
                ChunkState& s);

// Advances the chunk by step t and writes the step's values to `out`
// (n x layout.series_columns). `scratch` is (re)sized for the chunk when its
// number of paths differs; give each thread its own.
void step_chunk(const Plan& plan, const Rng& rng, int t, ChunkState& s, StepScratch& scratch,
                Eigen::Ref<Eigen::ArrayXXd> out);

// Writes the per-path key figures (n x layout.key_figure_columns).
void finish_chunk(const Plan& plan, const ChunkState& s, Eigen::Ref<Eigen::ArrayXXd> out);

}  // namespace capsim::detail
