#include "step_kernel.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace capsim::detail {

using Eigen::ArrayXd;
using Eigen::ArrayXXd;
using Eigen::Index;

namespace {

constexpr double kHoursPerYear = 8760.0;
constexpr double kHoursPerMonth = kHoursPerYear / 12.0;
// Stream index of policy-order delays, above those of explicit orders.
constexpr std::uint32_t kPolicyDelayIndex = 1u << 19;

models::ChunkContext context(const Plan& plan, const Rng& rng, const ChunkState& s,
                             std::uint32_t index) {
  return {&rng, s.path0, s.n, plan.h, plan.spec->time.deterministic, index};
}

// Delay in hours of an order going late (0 when it is on time).
double sample_delay_hours(const SupplySpec& supply, bool deterministic, Rng::Pair u) {
  if (deterministic || supply.late_probability <= 0 || u.a > supply.late_probability) return 0.0;
  const double days = std::min(-supply.mean_delay_days * std::log(u.b), supply.max_delay_days);
  return 24.0 * days;
}

// Serves up to `budget` of work from `work` (an amount per path) and returns
// what was served; `budget` is reduced by what it used, at `cost` per unit.
void serve(Eigen::Ref<ArrayXd> work, Eigen::Ref<ArrayXd> budget, const ArrayXd& cost,
           Eigen::Ref<ArrayXd> served) {
  served = work.min(budget / cost).max(0.0);
  budget = (budget - served * cost).max(0.0);
  work -= served;
}

// out = the sum of the W1 columns of a ring (column j at base + j n), newest
// (column `newest`) first, going back in age: for each path the same adds in
// the same order as adding one column after another to zero, but in one
// pass over blocks of paths instead of W1 passes over `out`.
void sum_ring(const double* base, Index n, int W1, int newest, double* out) {
  constexpr Index kBlock = 8;
  Index i0 = 0;
  for (; i0 + kBlock <= n; i0 += kBlock) {
    std::array<double, kBlock> acc{};
    for (int a = 0, slot = newest; a < W1; ++a, slot = slot == 0 ? W1 - 1 : slot - 1) {
      const double* col = base + static_cast<Index>(slot) * n + i0;
      for (Index j = 0; j < kBlock; ++j) acc[static_cast<size_t>(j)] += col[j];
    }
    std::copy(acc.begin(), acc.end(), out + i0);
  }
  for (; i0 < n; ++i0) {
    double acc = 0.0;
    for (int a = 0, slot = newest; a < W1; ++a, slot = slot == 0 ? W1 - 1 : slot - 1)
      acc += base[static_cast<Index>(slot) * n + i0];
    out[i0] = acc;
  }
}

void size_scratch(const Plan& plan, Index n, StepScratch& w) {
  const Index R = plan.R, RK = plan.R * plan.K, CR = plan.C * plan.R;
  w.n = n;
  for (ArrayXXd* a :
       {&w.demand, &w.left, &w.served, &w.spilled, &w.unserved, &w.cap_class, &w.requests})
    a->setZero(n, CR);
  for (ArrayXXd* a : {&w.powered, &w.stranded, &w.order, &w.gpu_commit, &w.gpu_steps})
    a->setZero(n, RK);
  w.limited.setZero(n, models::kPolicyLimits * R);
  w.committed.setZero(n);
  for (ArrayXXd* a : {&w.cap, &w.remaining, &w.outage, &w.capex_r}) a->setZero(n, R);
  for (ArrayXd* a : {&w.tmp, &w.tmp2, &w.value, &w.trend, &w.shock, &w.usdjpy, &w.spillable,
                     &w.limit, &w.base, &w.before})
    a->setZero(n);
}

// What is committed at the review of step t (docs/model.md, step 11), after
// this step's opex and capex: w.committed (USD per path) = spend so far +
// capex of undelivered orders not yet paid + capex of the explicit orders
// still to come + projected opex to the horizon of the installed and
// on-order fleet, of the explicit orders still to come and of the power
// caps; w.gpu_commit (n x RK) = capex plus projected opex of one more GPU
// ordered now. Projected opex runs at this step's electricity price and
// USD/JPY, with every GPU at full load from its on-time arrival.
void commit_at_review(const Plan& plan, const ChunkState& s, int t, const ReviewPlan& rv,
                      const Eigen::Ref<const ArrayXXd>& price_usd, StepScratch& w) {
  const ScenarioSpec& spec = *plan.spec;
  const int R = plan.R, K = plan.K, T = plan.T;
  const double h = plan.h;
  const auto steps_from = [&](int arrival) {  // steps after t a GPU arriving then is installed
    return static_cast<double>(std::max(0, T - std::max(arrival, t + 1)));
  };
  // GPU-steps to the horizon of the fleet, per (r, k).
  for (int rk = 0; rk < R * K; ++rk)
    w.gpu_steps.col(rk) =
        s.installed.col(rk) * steps_from(t + 1) + rv.explicit_gpu_steps[static_cast<size_t>(rk)];
  for (int slot = 0; slot < plan.policy_slots; ++slot) {
    const int review = s.slot_review[static_cast<size_t>(slot)];
    if (review < 0) continue;
    const auto& arrival = plan.reviews[static_cast<size_t>(review)].arrival;
    for (int rk = 0; rk < R * K; ++rk)
      if (const double steps = steps_from(arrival[static_cast<size_t>(rk % K)]); steps > 0)
        w.gpu_steps.col(rk) += s.slot_count.col(slot * R * K + rk) * steps;
  }
  const auto& orders = spec.procurement.orders;
  for (size_t j = 0; j < orders.size(); ++j) {
    const double steps = steps_from(plan.order_arrival[j]);
    if (plan.order_step[j] > t || steps == 0) continue;
    w.gpu_steps.col(orders[j].region * K + orders[j].sku) +=
        (s.order_arrival.col(static_cast<Index>(j)) > t).cast<double>() * orders[j].count * steps;
  }

  w.committed = s.spend_cum + w.capex_r.rowwise().sum() + s.committed + rv.explicit_capex_usd;
  for (int r = 0; r < R; ++r) {
    const auto& reg = spec.regions[static_cast<size_t>(r)];
    w.committed += rv.cap_mw_months[static_cast<size_t>(r)] *
                   (reg.opex_usd_per_mw_month + reg.opex_jpy_per_mw_month / w.usdjpy);
    // USD per GPU-step: fixed opex, and energy at full load.
    w.tmp =
        (reg.opex_usd_per_gpu_month + reg.opex_jpy_per_gpu_month / w.usdjpy) * h / kHoursPerMonth;
    for (int k = 0; k < K; ++k) {
      const auto& g = spec.skus[static_cast<size_t>(k)];
      const int rk = r * K + k;
      w.tmp2 = w.tmp + g.power_kw * reg.pue * h * price_usd.col(r);
      w.committed += w.tmp2 * w.gpu_steps.col(rk);
      w.gpu_commit.col(rk) = g.capex_usd + w.tmp2 * steps_from(rv.arrival[static_cast<size_t>(k)]);
    }
  }
}

}  // namespace

void init_chunk(const Plan& plan, const Rng& rng, std::int64_t path0, Index n, ChunkState& s) {
  const ScenarioSpec& spec = *plan.spec;
  const int R = plan.R, K = plan.K, C = plan.C;
  const Index RK = R * K, CR = C * R;
  s.path0 = path0;
  s.n = n;

  s.installed.resize(n, RK);
  for (int r = 0; r < R; ++r)
    for (int k = 0; k < K; ++k)
      s.installed.col(r * K + k).setConstant(
          spec.regions[static_cast<size_t>(r)].initial_fleet[static_cast<size_t>(k)]);
  s.failed.setZero(n, RK);
  s.on_order.setZero(n, RK);

  const auto& orders = spec.procurement.orders;
  s.order_arrival.resize(n, static_cast<Index>(orders.size()));
  for (size_t j = 0; j < orders.size(); ++j) {
    const auto& o = orders[j];
    const double placed = plan.order_hours[j];  // goes live lead time after its date
    const double lead = 24.0 * spec.skus[static_cast<size_t>(o.sku)].lead_time_days;
    for (Index i = 0; i < n; ++i) {
      const auto u = rng.uniform2(path0 + i, kOncePerPath, Stream::delivery_delay,
                                  static_cast<std::uint32_t>(j));
      const double delay = sample_delay_hours(spec.procurement.supply, spec.time.deterministic, u);
      s.order_arrival(i, static_cast<Index>(j)) = arrival_step(placed, lead, delay, plan.h);
    }
  }
  s.slot_count.setZero(n, plan.policy_slots * RK);
  s.slot_arrival.setConstant(n, plan.policy_slots * RK, -1);
  s.slot_review.assign(static_cast<size_t>(plan.policy_slots), -1);
  s.slot_first.assign(static_cast<size_t>(plan.policy_slots * RK), -1);
  s.slot_last.assign(static_cast<size_t>(plan.policy_slots * RK), -1);

  s.backlog_offset.assign(static_cast<size_t>(C), 0);
  Index backlog_cols = 0;
  for (int c = 0; c < C; ++c) {
    s.backlog_offset[static_cast<size_t>(c)] = backlog_cols;
    backlog_cols += R * plan.backlog_slots[static_cast<size_t>(c)];
  }
  s.backlog.setZero(n, backlog_cols);

  const auto& m = plan.models;
  auto init_process = [&](const models::PathProcess& p, std::uint32_t index, ArrayXXd& state) {
    state.setZero(n, p.state_size());
    p.init(context(plan, rng, s, index), state);
  };
  s.growth.resize(static_cast<size_t>(C));
  s.shocks.resize(static_cast<size_t>(C));
  s.noise.resize(static_cast<size_t>(CR));
  for (int c = 0; c < C; ++c) {
    init_process(*m.growth[static_cast<size_t>(c)], static_cast<std::uint32_t>(c),
                 s.growth[static_cast<size_t>(c)]);
    init_process(*m.shocks[static_cast<size_t>(c)], static_cast<std::uint32_t>(c),
                 s.shocks[static_cast<size_t>(c)]);
    for (int r = 0; r < R; ++r)
      init_process(*m.noise[static_cast<size_t>(c)], static_cast<std::uint32_t>(c * R + r),
                   s.noise[static_cast<size_t>(c * R + r)]);
  }
  s.outages.resize(static_cast<size_t>(R));
  s.price.resize(static_cast<size_t>(R));
  for (int r = 0; r < R; ++r) {
    init_process(*m.outages[static_cast<size_t>(r)], static_cast<std::uint32_t>(r),
                 s.outages[static_cast<size_t>(r)]);
    init_process(*m.price[static_cast<size_t>(r)], static_cast<std::uint32_t>(r),
                 s.price[static_cast<size_t>(r)]);
  }
  init_process(*m.fx, 0, s.fx);

  s.need.setZero(n, R);
  s.steps_since_review = 0;
  s.reviews = 0;
  s.quarter = -1;
  s.quarter_orders.setZero(n, K);
  s.spend_cum.setZero(n);
  s.committed.setZero(n);
  s.acc.setZero(n, acc_fixed_count + 4 * C);
}

void step_chunk(const Plan& plan, const Rng& rng, int t, ChunkState& s, StepScratch& w,
                Eigen::Ref<ArrayXXd> out) {
  const ScenarioSpec& spec = *plan.spec;
  const int R = plan.R, K = plan.K, C = plan.C;
  if (w.n != s.n) size_scratch(plan, s.n, w);
  const double h = plan.h;
  const bool det = spec.time.deterministic;
  const bool at_order = spec.finance.capex_timing == CapexTiming::at_order;
  const SeriesColumns& col = plan.cols;
  const auto& m = plan.models;
  const auto sku = [&](int k) -> const SkuSpec& { return spec.skus[static_cast<size_t>(k)]; };
  const auto cls = [&](int c) -> const ClassSpec& { return spec.classes[static_cast<size_t>(c)]; };
  const auto region = [&](int r) -> const RegionSpec& {
    return spec.regions[static_cast<size_t>(r)];
  };
  const auto rtz = [](int t_, int r, int R_) { return static_cast<size_t>(t_ * R_ + r); };

  w.capex_r.setZero();
  if (plan.quarter[static_cast<size_t>(t)] != s.quarter) {
    s.quarter = plan.quarter[static_cast<size_t>(t)];
    s.quarter_orders.setZero();
  }

  // 1. Deliveries (explicit orders join the pipeline in the step of their date).
  const auto& orders = spec.procurement.orders;
  for (size_t j = 0; j < orders.size(); ++j) {
    const auto& o = orders[j];
    const Index rk = o.region * K + o.sku;
    const double capex = o.count * sku(o.sku).capex_usd;
    if (plan.order_step[j] == t) {
      s.on_order.col(rk) += o.count;
      s.acc.col(acc_gpus_bought) += o.count;
      if (at_order)
        w.capex_r.col(o.region) += capex;
      else
        s.committed += capex;
    }
    const auto due = (s.order_arrival.col(static_cast<Index>(j)) == t).cast<double>();
    if (due.any()) {
      s.installed.col(rk) += due * o.count;
      s.on_order.col(rk) -= due * o.count;
      if (!at_order) {
        w.capex_r.col(o.region) += due * capex;
        s.committed -= due * capex;
      }
    }
  }
  for (Index slot = 0; slot < plan.policy_slots * R * K; ++slot) {
    // Most slots have nothing arriving in this step on any path of the chunk.
    if (t < s.slot_first[static_cast<size_t>(slot)] || t > s.slot_last[static_cast<size_t>(slot)])
      continue;
    const Index rk = slot % (R * K);
    const auto due = (s.slot_arrival.col(slot) == t).cast<double>();
    if (!due.any()) continue;
    w.tmp = due * s.slot_count.col(slot);
    s.installed.col(rk) += w.tmp;
    s.on_order.col(rk) -= w.tmp;
    s.slot_count.col(slot) -= w.tmp;
    if (!at_order) {
      const int r = static_cast<int>(rk / K), k = static_cast<int>(rk % K);
      w.tmp *= sku(k).capex_usd;
      w.capex_r.col(r) += w.tmp;
      s.committed -= w.tmp;
    }
  }

  // 2. Failures and repairs, both from the state at the start of the step.
  for (int r = 0; r < R; ++r) {
    for (int k = 0; k < K; ++k) {
      const Index rk = r * K + k;
      const auto ctx = context(plan, rng, s, static_cast<std::uint32_t>(rk));
      const double p_fail = 1.0 - std::exp(-sku(k).afr * h / kHoursPerYear);
      const double p_repair = 1.0 - std::exp(-h / (24.0 * sku(k).repair_days));
      w.tmp2 = s.installed.col(rk) - s.failed.col(rk);
      m.failures->sample(ctx, t, Stream::failure, w.tmp2, p_fail, w.tmp);
      m.failures->sample(ctx, t, Stream::repair, s.failed.col(rk), p_repair, w.value);
      s.failed.col(rk) += w.tmp - w.value;
    }
  }

  // 3. Outages: the larger of the random and the scheduled loss.
  for (int r = 0; r < R; ++r) {
    m.outages[static_cast<size_t>(r)]->step(context(plan, rng, s, static_cast<std::uint32_t>(r)), t,
                                            s.outages[static_cast<size_t>(r)], w.value);
    w.outage.col(r) = w.value.max(plan.scheduled_outage[rtz(t, r, R)]);
  }

  // 4-5. Power limit (the most H100e per kW is powered first) and capacity.
  for (int r = 0; r < R; ++r) {
    const double cap_mw = plan.cap_mw[rtz(t, r, R)];
    w.tmp.setConstant(cap_mw * 1000.0);  // kW still available
    w.tmp2.setZero();                    // kW wanted by all working GPUs
    w.cap.col(r).setZero();
    for (int k : plan.sku_power_order) {
      const Index rk = r * K + k;
      const double kw = sku(k).power_kw;
      auto working = s.installed.col(rk) - s.failed.col(rk);
      if (det)
        w.powered.col(rk) = working.min(w.tmp / kw);
      else
        w.powered.col(rk) = working.min((w.tmp / kw + 1e-9).floor());
      w.stranded.col(rk) = working - w.powered.col(rk);
      w.tmp = (w.tmp - w.powered.col(rk) * kw).max(0.0);
      w.tmp2 += working * kw;
      w.cap.col(r) += w.powered.col(rk) * sku(k).perf_h100e;
    }
    w.cap.col(r) *= h * (1.0 - w.outage.col(r));
    s.acc.col(acc_peak_over_cap) = s.acc.col(acc_peak_over_cap).max(w.tmp2 / 1000.0 - cap_mw);
    if (plan.per_class_perf) {
      for (int c = 0; c < C; ++c) {
        w.cap_class.col(c * R + r).setZero();
        for (int k = 0; k < K; ++k)
          w.cap_class.col(c * R + r) +=
              w.powered.col(r * K + k) * plan.perf_class[static_cast<size_t>(c * K + k)];
        w.cap_class.col(c * R + r) *= h * (1.0 - w.outage.col(r));
      }
    }
  }

  // 6. Demand. A request-level class (SPEC 3.3) draws its request rate the
  // same way; its demand is the H100e that the rate times its peak factor
  // needs to meet its service level, for the whole step.
  for (int c = 0; c < C; ++c) {
    const auto& cl = cls(c);
    const auto& staffing = plan.staffing[static_cast<size_t>(c)];
    m.growth[static_cast<size_t>(c)]->step(context(plan, rng, s, static_cast<std::uint32_t>(c)), t,
                                           s.growth[static_cast<size_t>(c)], w.trend);
    m.shocks[static_cast<size_t>(c)]->step(context(plan, rng, s, static_cast<std::uint32_t>(c)), t,
                                           s.shocks[static_cast<size_t>(c)], w.shock);
    const double scale =
        staffing ? cl.requests->rate_per_s * plan.season[static_cast<size_t>(t * C + c)]
                 : cl.base_demand_h100e * plan.season[static_cast<size_t>(t * C + c)] * h;
    for (int r = 0; r < R; ++r) {
      const auto index = static_cast<std::uint32_t>(c * R + r);
      m.noise[static_cast<size_t>(c)]->step(context(plan, rng, s, index), t, s.noise[index],
                                            w.value);
      w.demand.col(c * R + r) =
          scale * cl.region_share[static_cast<size_t>(r)] * w.trend * w.value * w.shock;
      if (staffing) {  // demand holds the rate in requests per second
        w.requests.col(c * R + r) = w.demand.col(c * R + r) * (3600.0 * h);
        w.tmp = w.demand.col(c * R + r) * plan.load_per_rate[static_cast<size_t>(c)];
        staffing->servers(w.tmp, w.demand.col(c * R + r));
        w.demand.col(c * R + r) *= h;
      }
    }
  }

  // 7. Allocation. Work of class c on region r uses capacity at `cost` per
  // H100e-GPU-hour: the peak factor, and for per-class perf the ratio of the
  // region's nominal to class-specific capacity.
  w.remaining = w.cap;
  w.left = w.demand;
  w.served.setZero();
  w.spilled.setZero();
  w.unserved.setZero();
  auto cost_of = [&](int c, int r, ArrayXd& cost) {
    const double pf = cls(c).kind == WorkloadKind::inference ? cls(c).peak_factor : 1.0;
    if (plan.per_class_perf)
      cost =
          pf *
          (w.cap_class.col(c * R + r) > 0).select(w.cap.col(r) / w.cap_class.col(c * R + r), 1.0);
    else
      cost.setConstant(pf);
  };
  ArrayXd& cost = w.trend;  // trend is no longer needed this step
  ArrayXd& got = w.shock;
  // Work still waiting in the home region: inference's left demand, or the
  // training backlog (all ages) plus new demand.
  // Serves the spillable part of `waiting` (work of class c from region r) in
  // the regions r spills to; writes what moved to `moved`.
  auto spill = [&](int c, int r, Eigen::Ref<ArrayXd> waiting, const ArrayXd& base,
                   Eigen::Ref<ArrayXd> moved) {
    const auto& cl = cls(c);
    moved.setZero();
    if (region(r).spill_to.empty() || cl.residency >= 1.0) return;
    w.spillable = waiting.min((1.0 - cl.residency) * base);
    for (const auto& target : region(r).spill_to) {
      cost_of(c, target.region, cost);
      w.limit = w.spillable.min(target.max_fraction * base);
      serve(w.limit, w.remaining.col(target.region), cost, got);
      w.spillable -= got;
      moved += got;
    }
    waiting -= moved;
  };

  for (int c : plan.class_order) {  // inference, local
    if (cls(c).kind != WorkloadKind::inference) continue;
    for (int r = 0; r < R; ++r) {
      cost_of(c, r, cost);
      serve(w.left.col(c * R + r), w.remaining.col(r), cost, got);
    }
  }
  for (int c : plan.class_order) {  // inference, spill
    if (cls(c).kind != WorkloadKind::inference) continue;
    for (int r = 0; r < R; ++r) {
      w.base = w.demand.col(c * R + r);
      spill(c, r, w.left.col(c * R + r), w.base, w.spilled.col(c * R + r));
      w.served.col(c * R + r) = w.demand.col(c * R + r) - w.left.col(c * R + r);
      w.unserved.col(c * R + r) = w.left.col(c * R + r);
    }
  }
  // Training: FIFO over age buckets. Bucket of age a for (c, r) sits at
  // column offset + r * W1 + (t - a) mod W1, W1 = max_wait steps + 1. All
  // classes are served locally first, then spill, as for inference.
  auto bucket = [&](int c, int r, int age) {
    const int W1 = plan.backlog_slots[static_cast<size_t>(c)];
    return s.backlog_offset[static_cast<size_t>(c)] + r * W1 + ((t - age) % W1 + W1) % W1;
  };
  // Marks what left the home region's waiting work as served, oldest first.
  auto take_oldest = [&](int c, int r) {
    ArrayXd& taken = w.tmp;  // set by the caller: work that left the waiting pool
    w.served.col(c * R + r) += taken;
    for (int a = plan.backlog_slots[static_cast<size_t>(c)] - 1; a >= 0 && (taken > 0).any(); --a) {
      auto b = s.backlog.col(bucket(c, r, a));
      w.tmp2 = taken.min(b);
      b -= w.tmp2;
      taken -= w.tmp2;
    }
  };
  for (int c : plan.class_order) {  // training, local
    if (cls(c).kind != WorkloadKind::training) continue;
    const int W1 = plan.backlog_slots[static_cast<size_t>(c)];
    for (int r = 0; r < R; ++r) {
      const Index cr = c * R + r;
      s.backlog.col(bucket(c, r, 0)) = w.demand.col(cr);  // emptied when it was the oldest
      sum_ring(s.backlog.col(bucket(c, r, 0) - ((t % W1 + W1) % W1)).data(), s.n, W1,
               (t % W1 + W1) % W1, w.left.col(cr).data());
      w.spilled.col(cr) = w.left.col(cr);  // all work waiting: the base of the spill limits
      w.before = w.left.col(cr);
      cost_of(c, r, cost);
      serve(w.left.col(cr), w.remaining.col(r), cost, got);
      w.tmp = w.before - w.left.col(cr);
      take_oldest(c, r);
    }
  }
  for (int c : plan.class_order) {  // training, spill; then abandon the oldest
    if (cls(c).kind != WorkloadKind::training) continue;
    const int W1 = plan.backlog_slots[static_cast<size_t>(c)];
    for (int r = 0; r < R; ++r) {
      const Index cr = c * R + r;
      w.base = w.spilled.col(cr);  // all work that was waiting
      w.before = w.left.col(cr);
      spill(c, r, w.left.col(cr), w.base, w.spilled.col(cr));
      w.tmp = w.before - w.left.col(cr);
      take_oldest(c, r);
      auto oldest = s.backlog.col(bucket(c, r, W1 - 1));
      w.unserved.col(cr) = oldest;  // waited max_wait: abandoned
      w.left.col(cr) -= oldest;
      oldest.setZero();
    }
  }
  ArrayXXd& busy = w.remaining;  // from here on: capacity used
  busy = w.cap - w.remaining;

  // 8. Power and energy; 9. money; 10. carbon.
  m.fx->step(context(plan, rng, s, 0), t, s.fx, w.usdjpy);
  w.usdjpy *= spec.finance.usdjpy;
  for (int r = 0; r < R; ++r) {
    const auto& reg = region(r);
    m.price[static_cast<size_t>(r)]->step(context(plan, rng, s, static_cast<std::uint32_t>(r)), t,
                                          s.price[static_cast<size_t>(r)], w.value);
    const ArrayXd price_usd = reg.price_usd_per_kwh > 0
                                  ? ArrayXd(w.value * reg.price_usd_per_kwh)
                                  : ArrayXd(w.value * reg.price_jpy_per_kwh / w.usdjpy);
    const ArrayXd u = (w.cap.col(r) > 0).select(busy.col(r) / w.cap.col(r), 0.0);
    ArrayXd power_kw = ArrayXd::Zero(s.n);
    ArrayXd fleet = ArrayXd::Zero(s.n);
    for (int k = 0; k < K; ++k) {
      const auto& g = sku(k);
      power_kw +=
          w.powered.col(r * K + k) * g.power_kw * (g.idle_fraction + (1 - g.idle_fraction) * u);
      fleet += s.installed.col(r * K + k);
    }
    const ArrayXd power_mw = power_kw * (1.0 - w.outage.col(r)) * reg.pue / 1000.0;
    const ArrayXd energy_mwh = power_mw * h;
    const ArrayXd energy_cost = energy_mwh * 1000.0 * price_usd;
    const double cap_mw = plan.cap_mw[rtz(t, r, R)];
    const ArrayXd opex =
        energy_cost +
        fleet * (reg.opex_usd_per_gpu_month + reg.opex_jpy_per_gpu_month / w.usdjpy) * h /
            kHoursPerMonth +
        cap_mw * (reg.opex_usd_per_mw_month + reg.opex_jpy_per_mw_month / w.usdjpy) * h /
            kHoursPerMonth;
    ArrayXd revenue = ArrayXd::Zero(s.n), penalty = ArrayXd::Zero(s.n);
    for (int c = 0; c < C; ++c) {
      revenue += w.served.col(c * R + r) * cls(c).revenue_usd_per_h100e_gpuh;
      penalty += w.unserved.col(c * R + r) * cls(c).penalty_usd_per_h100e_gpuh;
    }
    const ArrayXd carbon = energy_mwh * reg.carbon_g_per_kwh / 1000.0;

    out.col(col.capacity + r) = w.cap.col(r);
    out.col(col.busy + r) = busy.col(r);
    out.col(col.utilization + r) = u;
    out.col(col.outage + r) = w.outage.col(r);
    out.col(col.power + r) = power_mw;
    out.col(col.power_cap + r).setConstant(cap_mw);
    out.col(col.energy + r) = energy_mwh;
    out.col(col.energy_cost + r) = energy_cost;
    out.col(col.opex + r) = opex;
    out.col(col.revenue + r) = revenue;
    out.col(col.penalty + r) = penalty;
    out.col(col.carbon + r) = carbon;
    out.col(col.price + r) = price_usd;

    s.acc.col(acc_opex) += opex;
    s.acc.col(acc_energy_cost) += energy_cost;
    s.acc.col(acc_busy) += busy.col(r);
    s.acc.col(acc_capacity) += w.cap.col(r);
    s.acc.col(acc_energy) += energy_mwh;
    s.acc.col(acc_carbon) += carbon;
    s.acc.col(acc_revenue) += revenue;
    s.acc.col(acc_penalty) += penalty;
    s.spend_cum += opex;
  }

  // 11. Procurement review at the end of the step.
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c)
      s.need.col(r) += w.demand.col(c * R + r) *
                       (cls(c).kind == WorkloadKind::inference ? cls(c).peak_factor : 1.0);
  ++s.steps_since_review;
  auto limited = out.middleCols(col.limited, models::kPolicyLimits * R);
  limited.setZero();
  if (const int review = plan.review_at[static_cast<size_t>(t)]; review >= 0) {
    const ReviewPlan& rv = plan.reviews[static_cast<size_t>(review)];
    const ArrayXXd observed = s.need / (s.steps_since_review * h);
    commit_at_review(plan, s, t, rv, out.middleCols(col.price, R), w);
    const ArrayXd budget_left = spec.finance.budget_usd - w.committed;
    const models::PolicyView view{&spec,
                                  t,
                                  plan.step_date[static_cast<size_t>(t)],
                                  plan.T,
                                  observed,
                                  s.installed,
                                  s.on_order,
                                  budget_left,
                                  w.gpu_commit,
                                  rv.power_room_kw,
                                  rv.arrival,
                                  s.quarter_orders};
    m.policy->review(context(plan, rng, s, 0), view, w.order, w.limited);
    limited = w.limited;
    for (int l = 0; l < models::kPolicyLimits; ++l)
      s.acc.col(static_cast<int>(acc_reviews_limited) + l) +=
          w.limited.middleCols(l * R, R).rowwise().sum();
    const int ring = s.reviews % std::max(1, plan.policy_slots);
    s.slot_review[static_cast<size_t>(ring)] = review;
    const Index slot0 = ring * R * K;
    const double placed = (t + 1) * h;
    for (int r = 0; r < R; ++r) {
      for (int k = 0; k < K; ++k) {
        const Index rk = r * K + k;
        if (!(w.order.col(rk) > 0).any()) continue;
        const double lead = 24.0 * sku(k).lead_time_days;
        for (Index i = 0; i < s.n; ++i) {
          const auto u =
              rng.uniform2(s.path0 + i, static_cast<std::uint32_t>(t), Stream::delivery_delay,
                           kPolicyDelayIndex + static_cast<std::uint32_t>(rk));
          const double delay = sample_delay_hours(spec.procurement.supply, det, u);
          s.slot_arrival(i, slot0 + rk) = arrival_step(placed, lead, delay, h);
        }
        s.slot_first[static_cast<size_t>(slot0 + rk)] = s.slot_arrival.col(slot0 + rk).minCoeff();
        s.slot_last[static_cast<size_t>(slot0 + rk)] = s.slot_arrival.col(slot0 + rk).maxCoeff();
        s.slot_count.col(slot0 + rk) = w.order.col(rk);
        s.on_order.col(rk) += w.order.col(rk);
        s.quarter_orders.col(k) += w.order.col(rk);
        s.acc.col(acc_gpus_bought) += w.order.col(rk);
        const ArrayXd capex = w.order.col(rk) * sku(k).capex_usd;
        if (at_order)
          w.capex_r.col(r) += capex;
        else
          s.committed += capex;
      }
    }
    ++s.reviews;
    s.need.setZero();
    s.steps_since_review = 0;
  }

  // Capex (deliveries and orders of this step) and cumulative money.
  const ArrayXd capex_total = w.capex_r.rowwise().sum();
  s.spend_cum += capex_total;
  s.acc.col(acc_capex) += capex_total;
  ArrayXd step_opex = ArrayXd::Zero(s.n), step_revenue = ArrayXd::Zero(s.n);
  for (int r = 0; r < R; ++r) {
    out.col(col.capex + r) = w.capex_r.col(r);
    step_opex += out.col(col.opex + r);
    step_revenue += out.col(col.revenue + r);
  }
  const double years = t * h / kHoursPerYear;
  const double discount = std::pow(1.0 + spec.finance.discount_rate, -years);
  s.acc.col(acc_npv) += (step_revenue - step_opex - capex_total) * discount;
  out.col(col.spend_cum) = s.spend_cum;
  out.col(col.budget_left) = spec.finance.budget_usd - s.spend_cum;
  out.col(col.usd_jpy) = w.usdjpy;

  // Per-class outputs and key-figure totals.
  ArrayXd inference_unserved = ArrayXd::Zero(s.n), inference_demand = ArrayXd::Zero(s.n);
  for (int c = 0; c < C; ++c) {
    for (int r = 0; r < R; ++r) {
      const Index cr = c * R + r;
      out.col(col.demand + cr) = w.demand.col(cr);
      out.col(col.served + cr) = w.served.col(cr);
      out.col(col.spilled + cr) = w.spilled.col(cr);
      out.col(col.unserved + cr) = w.unserved.col(cr);
      out.col(col.backlog + cr) =
          cls(c).kind == WorkloadKind::training ? ArrayXd(w.left.col(cr)) : ArrayXd::Zero(s.n);
      s.acc.col(acc_fixed_count + c) += w.demand.col(cr);
      s.acc.col(acc_fixed_count + C + c) += w.unserved.col(cr);
      if (plan.staffing[static_cast<size_t>(c)]) {
        // Lost: the unserved share of the servers' hours, times the requests.
        w.tmp = (w.demand.col(cr) > 0)
                    .select(w.requests.col(cr) * w.unserved.col(cr) / w.demand.col(cr), 0.0);
        out.col(col.requests + cr) = w.requests.col(cr);
        out.col(col.lost_requests + cr) = w.tmp;
        s.acc.col(acc_fixed_count + 2 * C + c) += w.requests.col(cr);
        s.acc.col(acc_fixed_count + 3 * C + c) += w.tmp;
      } else {
        out.col(col.requests + cr).setZero();
        out.col(col.lost_requests + cr).setZero();
      }
      s.acc.col(acc_served) += w.served.col(cr);
      if (cls(c).kind == WorkloadKind::inference) {
        inference_unserved += w.unserved.col(cr);
        inference_demand += w.demand.col(cr);
      }
    }
  }
  s.acc.col(acc_inference_ok_steps) +=
      (inference_unserved <= 1e-9 * inference_demand + 1e-12).cast<double>();
  // State is (r, k); (sku, region) series are laid out k * R + r.
  for (int r = 0; r < R; ++r) {
    for (int k = 0; k < K; ++k) {
      const Index rk = r * K + k, kr = k * R + r;
      out.col(col.installed + kr) = s.installed.col(rk);
      out.col(col.failed + kr) = s.failed.col(rk);
      out.col(col.stranded + kr) = w.stranded.col(rk);
      out.col(col.on_order + kr) = s.on_order.col(rk);
    }
  }
}

void finish_chunk(const Plan& plan, const ChunkState& s, Eigen::Ref<ArrayXXd> out) {
  const Layout& l = plan.layout;
  const int C = plan.C;
  const double budget = plan.spec->finance.budget_usd;
  auto kf = [&](const char* name) { return out.col(l.find_key_figure(name).offset); };
  const ArrayXd spend = s.acc.col(acc_capex) + s.acc.col(acc_opex);
  kf("total_spend_usd") = spend;
  kf("capex_usd") = s.acc.col(acc_capex);
  kf("opex_usd") = s.acc.col(acc_opex);
  kf("energy_cost_usd") = s.acc.col(acc_energy_cost);
  kf("budget_overrun_usd") = (spend - budget).max(0.0);
  kf("over_budget") = (spend > budget).cast<double>();
  const Index demand0 = l.find_key_figure("demand_h100e_gpuh").offset;
  const Index unserved0 = l.find_key_figure("unserved_fraction").offset;
  const Index lost0 = l.find_key_figure("lost_requests").offset;
  const Index lost_fraction0 = l.find_key_figure("lost_request_fraction").offset;
  for (int c = 0; c < C; ++c) {
    const auto d = s.acc.col(acc_fixed_count + c);
    const auto u = s.acc.col(acc_fixed_count + C + c);
    out.col(demand0 + c) = d;
    out.col(unserved0 + c) = (d > 0).select(u / d, 0.0);
    const auto requests = s.acc.col(acc_fixed_count + 2 * C + c);
    const auto lost = s.acc.col(acc_fixed_count + 3 * C + c);
    out.col(lost0 + c) = lost;
    out.col(lost_fraction0 + c) = (requests > 0).select(lost / requests, 0.0);
  }
  kf("inference_service_level") = s.acc.col(acc_inference_ok_steps) / plan.T;
  kf("mean_utilization") =
      (s.acc.col(acc_capacity) > 0).select(s.acc.col(acc_busy) / s.acc.col(acc_capacity), 0.0);
  kf("peak_power_over_cap_mw") = s.acc.col(acc_peak_over_cap);
  // At least one served hour counted: finite when nothing is served (the
  // whole spend, the worst value of any path that spent as much).
  kf("cost_per_served_h100e_gpuh_usd") = spend / s.acc.col(acc_served).max(1.0);
  kf("energy_mwh") = s.acc.col(acc_energy);
  kf("carbon_t") = s.acc.col(acc_carbon);
  kf("gpus_bought") = s.acc.col(acc_gpus_bought);
  kf("revenue_usd") = s.acc.col(acc_revenue);
  kf("penalty_usd") = s.acc.col(acc_penalty);
  kf("npv_usd") = s.acc.col(acc_npv);
  const char* const limited[models::kPolicyLimits] = {
      "reviews_limited_by_budget", "reviews_limited_by_power", "reviews_limited_by_supply"};
  for (int i = 0; i < models::kPolicyLimits; ++i)
    kf(limited[i]) = s.acc.col(static_cast<int>(acc_reviews_limited) + i);
}

}  // namespace capsim::detail
