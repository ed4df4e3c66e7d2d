#include "engine_plan.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace capsim::detail {

namespace {

constexpr double kHoursPerMonth = 730.0;

// Share of the capacity of the step [from, from + h) (hours since start) lost
// to scheduled outages: the time integral, over the step, of the largest
// fraction in force, divided by h. Outages at different times in one step
// add up; where they overlap the larger one counts.
double scheduled_loss(const RegionSpec& region, Date start, double from, double h) {
  std::vector<double> cuts = {from, from + h};
  for (const auto& o : region.scheduled_outages) {
    const double begin = 24.0 * static_cast<double>((o.start - start).count());
    for (double x : {begin, begin + 24.0 * o.days})
      if (x > from && x < from + h) cuts.push_back(x);
  }
  std::sort(cuts.begin(), cuts.end());
  double lost = 0.0;
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    const double mid = 0.5 * (cuts[i] + cuts[i + 1]);
    double fraction = 0.0;
    for (const auto& o : region.scheduled_outages) {
      const double begin = 24.0 * static_cast<double>((o.start - start).count());
      if (mid >= begin && mid < begin + 24.0 * o.days) fraction = std::max(fraction, o.fraction);
    }
    lost += fraction * (cuts[i + 1] - cuts[i]);
  }
  return lost / h;
}

// The reviews of `plan` (its policy, step dates, caps and explicit orders
// already set), with what each leaves for the policy.
void plan_reviews(Plan& plan) {
  const ScenarioSpec& spec = *plan.spec;
  const int R = plan.R, K = plan.K, T = plan.T;
  const double h = plan.h;
  const auto& orders = spec.procurement.orders;
  plan.review_at.assign(static_cast<size_t>(T), -1);
  std::vector<double> free_kw(static_cast<size_t>(T));  // per step: cap less explicit orders due
  for (int t = 0; t < T; ++t) {
    if (!plan.models.policy->is_review(t, h)) continue;
    plan.review_at[static_cast<size_t>(t)] = static_cast<int>(plan.reviews.size());
    ReviewPlan rv;
    rv.step = t;
    for (int k = 0; k < K; ++k)
      rv.arrival.push_back(arrival_step(
          (t + 1) * h, 24.0 * spec.skus[static_cast<size_t>(k)].lead_time_days, 0.0, h));
    rv.power_room_kw.assign(static_cast<size_t>(R * K), 0.0);
    rv.explicit_gpu_steps.assign(static_cast<size_t>(R * K), 0.0);
    rv.cap_mw_months.assign(static_cast<size_t>(R), 0.0);
    for (size_t j = 0; j < orders.size(); ++j) {
      if (plan.order_step[j] <= t) continue;  // already placed: on order or installed
      const auto& o = orders[j];
      const auto& sku = spec.skus[static_cast<size_t>(o.sku)];
      rv.explicit_capex_usd += o.count * sku.capex_usd;
      rv.explicit_gpu_steps[static_cast<size_t>(o.region * K + o.sku)] +=
          o.count * std::max(0, T - plan.order_arrival[j]);
    }
    for (int r = 0; r < R; ++r) {
      for (int s = t + 1; s < T; ++s)
        rv.cap_mw_months[static_cast<size_t>(r)] +=
            plan.cap_mw[static_cast<size_t>(s * R + r)] * h / kHoursPerMonth;
      for (int s = 0; s < T; ++s)
        free_kw[static_cast<size_t>(s)] = 1000.0 * plan.cap_mw[static_cast<size_t>(s * R + r)];
      for (size_t j = 0; j < orders.size(); ++j) {
        const auto& o = orders[j];
        if (o.region != r || plan.order_step[j] <= t) continue;
        const double kw = o.count * spec.skus[static_cast<size_t>(o.sku)].power_kw;
        for (int s = std::max(plan.order_arrival[j], 0); s < T; ++s)
          free_kw[static_cast<size_t>(s)] -= kw;
      }
      // The least free power from each step to the horizon.
      for (int s = T - 2; s >= 0; --s)
        free_kw[static_cast<size_t>(s)] =
            std::min(free_kw[static_cast<size_t>(s)], free_kw[static_cast<size_t>(s) + 1]);
      for (int k = 0; k < K; ++k) {
        const int a = rv.arrival[static_cast<size_t>(k)];
        rv.power_room_kw[static_cast<size_t>(r * K + k)] =
            a < T ? free_kw[static_cast<size_t>(a)] : std::numeric_limits<double>::infinity();
      }
    }
    plan.reviews.push_back(std::move(rv));
  }
}

}  // namespace

double order_hours(const ScenarioSpec& spec, const OrderSpec& order) {
  return 24.0 * static_cast<double>((order.date - spec.time.start).count());
}

double power_cap_at(const RegionSpec& region, Date date) {
  double mw = region.power_mw.empty() ? 0.0 : region.power_mw.front().mw;
  for (const auto& s : region.power_mw)
    if (s.from <= date) mw = s.mw;
  return mw;
}

Plan make_plan(const ScenarioSpec& spec, const models::ModelRegistries& registries) {
  Plan plan;
  plan.spec = &spec;
  plan.layout = make_layout(spec);
  const auto col = [&](const char* name) { return plan.layout.find_series(name).offset; };
  plan.cols = {col("demand_h100e_gpuh"),
               col("served_h100e_gpuh"),
               col("spilled_h100e_gpuh"),
               col("unserved_h100e_gpuh"),
               col("backlog_h100e_gpuh"),
               col("capacity_h100e_gpuh"),
               col("busy_h100e_gpuh"),
               col("utilization"),
               col("outage_fraction"),
               col("gpus_installed"),
               col("gpus_failed"),
               col("gpus_stranded"),
               col("gpus_on_order"),
               col("power_mw"),
               col("power_cap_mw"),
               col("energy_mwh"),
               col("energy_cost_usd"),
               col("opex_usd"),
               col("capex_usd"),
               col("revenue_usd"),
               col("penalty_usd"),
               col("carbon_t"),
               col("spend_cum_usd"),
               col("budget_left_usd"),
               col("usd_jpy"),
               col("electricity_price_usd_per_kwh"),
               col("requests"),
               col("lost_requests"),
               col("reviews_limited_by_budget")};
  // The kernel writes the limit flags as one block, column l * R + r.
  const auto regions = static_cast<Eigen::Index>(spec.regions.size());
  if (col("reviews_limited_by_power") != plan.cols.limited + models::limit_power * regions ||
      col("reviews_limited_by_supply") != plan.cols.limited + models::limit_supply * regions)
    throw std::logic_error("layout: the reviews_limited_by_* series are not in PolicyLimit order");
  plan.R = static_cast<int>(spec.regions.size());
  plan.K = static_cast<int>(spec.skus.size());
  plan.C = static_cast<int>(spec.classes.size());
  plan.T = plan.layout.steps;
  plan.h = spec.time.step_hours;
  const int R = plan.R, K = plan.K, C = plan.C, T = plan.T;
  const double h = plan.h;

  plan.step_date.resize(static_cast<size_t>(T));
  plan.quarter.resize(static_cast<size_t>(T));
  plan.cap_mw.assign(static_cast<size_t>(T * R), 0.0);
  plan.scheduled_outage.assign(static_cast<size_t>(T * R), 0.0);
  plan.season.assign(static_cast<size_t>(T * C), 1.0);
  for (int t = 0; t < T; ++t) {
    const double hours = t * h;
    const auto days = static_cast<int>(std::floor(hours / 24.0));
    const Date date = spec.time.start + std::chrono::days(days);
    plan.step_date[static_cast<size_t>(t)] = date;
    const std::chrono::year_month_day ymd(date);
    plan.quarter[static_cast<size_t>(t)] =
        static_cast<int>(ymd.year()) * 4 + (static_cast<int>(unsigned(ymd.month())) - 1) / 3;
    for (int r = 0; r < R; ++r) {
      const auto& region = spec.regions[static_cast<size_t>(r)];
      plan.cap_mw[static_cast<size_t>(t * R + r)] = power_cap_at(region, date);
      plan.scheduled_outage[static_cast<size_t>(t * R + r)] =
          scheduled_loss(region, spec.time.start, hours, h);
    }
    const int hour = static_cast<int>(std::fmod(hours, 24.0));
    const int weekday = static_cast<int>(std::chrono::weekday(date).iso_encoding()) - 1;
    for (int c = 0; c < C; ++c) {
      const auto& cls = spec.classes[static_cast<size_t>(c)];
      double s = 1.0;
      if (h < 24.0) s *= cls.hourly[static_cast<size_t>(hour)];
      if (h < 168.0) s *= cls.weekly[static_cast<size_t>(weekday)];
      plan.season[static_cast<size_t>(t * C + c)] = s;
    }
  }

  for (const auto& o : spec.procurement.orders) {
    const double hours = order_hours(spec, o);
    plan.order_step.push_back(static_cast<int>(std::floor(hours / h + 1e-9)));
    plan.order_hours.push_back(hours);
    plan.order_arrival.push_back(
        arrival_step(hours, 24.0 * spec.skus[static_cast<size_t>(o.sku)].lead_time_days, 0.0, h));
  }

  plan.sku_power_order.resize(static_cast<size_t>(K));
  std::iota(plan.sku_power_order.begin(), plan.sku_power_order.end(), 0);
  std::stable_sort(plan.sku_power_order.begin(), plan.sku_power_order.end(), [&](int a, int b) {
    const auto& sa = spec.skus[static_cast<size_t>(a)];
    const auto& sb = spec.skus[static_cast<size_t>(b)];
    return sa.perf_h100e / sa.power_kw > sb.perf_h100e / sb.power_kw;
  });

  plan.class_order.resize(static_cast<size_t>(C));
  std::iota(plan.class_order.begin(), plan.class_order.end(), 0);
  std::stable_sort(plan.class_order.begin(), plan.class_order.end(), [&](int a, int b) {
    return spec.classes[static_cast<size_t>(a)].priority <
           spec.classes[static_cast<size_t>(b)].priority;
  });

  plan.perf_class.resize(static_cast<size_t>(C * K));
  for (int c = 0; c < C; ++c) {
    for (int k = 0; k < K; ++k) {
      const auto& sku = spec.skus[static_cast<size_t>(k)];
      const auto it = sku.perf_by_class.find(spec.classes[static_cast<size_t>(c)].name);
      const double perf = it == sku.perf_by_class.end() ? sku.perf_h100e : it->second;
      plan.perf_class[static_cast<size_t>(c * K + k)] = perf;
      if (perf != sku.perf_h100e) plan.per_class_perf = true;
    }
  }

  plan.backlog_slots.resize(static_cast<size_t>(C));
  for (int c = 0; c < C; ++c) {
    const auto& cls = spec.classes[static_cast<size_t>(c)];
    plan.backlog_slots[static_cast<size_t>(c)] =
        cls.kind == WorkloadKind::training
            ? static_cast<int>(std::floor(cls.max_wait_hours / h + 1e-9)) + 1
            : 0;
  }

  auto& m = plan.models;
  for (const auto& cls : spec.classes) {
    m.growth.push_back(registries.growth.make(cls.growth));
    m.noise.push_back(registries.noise.make(cls.noise));
    m.shocks.push_back(registries.shocks.make(cls.shocks));
  }
  for (const auto& region : spec.regions) {
    m.outages.push_back(registries.outages.make(region.outages));
    m.price.push_back(registries.price.make(region.price_model));
  }
  m.fx = registries.fx.make(spec.finance.fx_model);
  m.failures = registries.failures.make(spec.failures);
  m.policy = registries.procurement.make(spec.procurement.policy);
  plan.staffing.resize(static_cast<size_t>(C));
  plan.load_per_rate.assign(static_cast<size_t>(C), 0.0);
  for (int c = 0; c < C; ++c) {
    const auto& requests = spec.classes[static_cast<size_t>(c)].requests;
    m.queue.push_back(requests ? registries.queue.make(requests->queue) : nullptr);
    if (!requests) continue;
    const double service_s = requests->service_s();
    plan.staffing[static_cast<size_t>(c)].emplace(
        *m.queue.back(),
        models::ServiceLevel{requests->max_wait_s / service_s, requests->max_wait_probability});
    plan.load_per_rate[static_cast<size_t>(c)] = requests->peak_factor * service_s;
  }

  // Policy orders live in a ring of slots, one per review still in transit;
  // its size is the most reviews any window of (longest lead + longest delay)
  // can hold, plus one.
  double max_lead_hours = 0;
  for (const auto& sku : spec.skus)
    max_lead_hours = std::max(max_lead_hours, 24.0 * sku.lead_time_days);
  const double max_delay_hours = spec.procurement.supply.late_probability > 0
                                     ? 24.0 * spec.procurement.supply.max_delay_days
                                     : 0.0;
  // In steps, capped at the run's length (the scenario bounds delays, but a
  // window that does not fit an int would index out of the run).
  const double window_steps = std::ceil((max_lead_hours + max_delay_hours) / h) + 2.0;
  const int window =
      window_steps < static_cast<double>(T) + 1.0 ? static_cast<int>(window_steps) : T + 1;
  std::vector<int> reviews(static_cast<size_t>(T) + 1, 0);
  for (int t = 0; t < T; ++t)
    reviews[static_cast<size_t>(t) + 1] =
        reviews[static_cast<size_t>(t)] + (m.policy->is_review(t, h) ? 1 : 0);
  int most = 0;
  for (int t = 0; t < T; ++t) {
    const int end = std::min(T, t + window);
    most = std::max(most, reviews[static_cast<size_t>(end)] - reviews[static_cast<size_t>(t)]);
  }
  plan.policy_slots = most > 0 ? most + 1 : 0;
  plan_reviews(plan);
  return plan;
}

}  // namespace capsim::detail
