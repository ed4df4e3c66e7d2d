#include "reference_engine.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "capsim/rng.hpp"

namespace capsim::reference {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kHoursPerYear = 8760.0;
constexpr double kHoursPerMonth = 730.0;
// Policy orders draw their delivery delay with this offset added to the
// column r * K + k, apart from the explicit orders' indices.
constexpr std::uint32_t kPolicyDelayIndex = 1u << 19;
// An inference step counts as fully served when unserved <= this share of demand.
constexpr double kServiceTolerance = 1e-9;

using models::ChunkContext;

int days_from(Date from, Date to) {
  return static_cast<int>((to - from).count());
}

int quarter_of(Date d) {
  const std::chrono::year_month_day ymd(d);
  return static_cast<int>(ymd.year()) * 4 +
         static_cast<int>(static_cast<unsigned>(ymd.month()) - 1) / 3;
}

// Cap in force on `date`: the last entry starting on or before it; the first
// entry also covers earlier dates. No entry: no cap.
double cap_in_force(const RegionSpec& region, Date date) {
  if (region.power_mw.empty()) return kInf;
  double mw = region.power_mw.front().mw;
  for (const auto& s : region.power_mw)
    if (s.from <= date) mw = s.mw;
  return mw;
}

// Share of the capacity of step [hour, hour + h) that scheduled outages take:
// each outage removes its fraction for the part of the step it covers, so
// outages at different times of one step add up; where several overlap, the
// largest fraction applies.
double scheduled_loss(Date start, const RegionSpec& region, double hour, double h) {
  std::vector<double> cuts = {hour, hour + h};
  for (const auto& o : region.scheduled_outages) {
    const double from = 24.0 * days_from(start, o.start);
    for (double x : {from, from + 24.0 * o.days})
      if (x > hour && x < hour + h) cuts.push_back(x);
  }
  std::sort(cuts.begin(), cuts.end());
  double lost_hours = 0.0;
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
    const double mid = 0.5 * (cuts[i] + cuts[i + 1]);
    double fraction = 0.0;
    for (const auto& o : region.scheduled_outages) {
      const double from = 24.0 * days_from(start, o.start);
      if (mid >= from && mid < from + 24.0 * o.days) fraction = std::max(fraction, o.fraction);
    }
    lost_hours += fraction * (cuts[i + 1] - cuts[i]);
  }
  return lost_hours / h;
}

// A path process (growth, noise, ...) with its one-row state.
template <class Model>
struct Process {
  const Model* model = nullptr;
  ChunkContext ctx;
  Eigen::ArrayXXd state;

  void init(const Rng& rng, std::int64_t path, double h, bool deterministic,
            std::uint32_t stream_index) {
    ctx.rng = &rng;
    ctx.path0 = path;
    ctx.paths = 1;
    ctx.step_hours = h;
    ctx.deterministic = deterministic;
    ctx.stream_index = stream_index;
    state.setZero(1, model->state_size());
    model->init(ctx, state);
  }
  double step(int t) {
    Eigen::ArrayXd value(1);
    model->step(ctx, t, state, value);
    return value[0];
  }
};

// The servers (H100e) that the load A of a request-level class needs, from
// the rule's definition (docs/models.md, "Queueing"): exact staffing, by
// walking the Erlang B recurrence, while the exact count is at most
// Staffing::kExactServers; above, square-root staffing with the spare
// servers interpolated between the nodes 2^e (1 + k/32) and the offset gamma
// that meets the exact count at the switch. Each beta is found by bisection.
class RequestSizing {
 public:
  RequestSizing(const models::QueueModel& model, double max_wait, double max_probability)
      : model_(&model), t_(max_wait), eps_(max_probability) {
    const double cs = models::Staffing::kExactServers;
    double lo = 0.0, hi = cs;  // meets(cs, lo), not meets(cs, hi)
    for (int i = 0; i < 200; ++i) {
      const double mid = 0.5 * (lo + hi);
      if (!(mid > lo && mid < hi)) break;
      (meets(cs, mid) ? lo : hi) = mid;
    }
    switch_load_ = lo;
    gamma_ = cs - switch_load_ - spare(switch_load_);
  }

  double servers(double A) const {
    if (!(A > 0.0)) return 0.0;
    if (A <= switch_load_) {
      double b = 1.0;
      for (double c = 1.0;; c += 1.0) {
        b = A * b / (c + A * b);
        if (c > A && model_->wait_tail(c * b / (c - A * (1.0 - b)), c - A, t_) <= eps_) return c;
      }
    }
    return std::max(models::Staffing::kExactServers + 1.0, std::ceil(A + spare(A) + gamma_));
  }

 private:
  // P(W > t) <= eps with c servers at load A.
  bool meets(double c, double A) const {
    if (!(c > A)) return false;
    double b = 1.0;
    for (double k = 1.0; k <= c; k += 1.0) b = A * b / (k + A * b);
    return model_->wait_tail(c * b / (c - A * (1.0 - b)), c - A, t_) <= eps_;
  }
  // The smallest beta whose Halfin-Whitt tail at load A meets the level.
  double beta(double A) const {
    const auto it = beta_.find(A);
    if (it != beta_.end()) return it->second;
    double lo = 0.0, hi = models::Staffing::kMaxBeta;
    for (int i = 0; i < 200; ++i) {
      const double mid = 0.5 * (lo + hi);
      if (!(mid > lo && mid < hi)) break;
      const double tail =
          model_->wait_tail(models::halfin_whitt_wait_probability(mid), mid * std::sqrt(A), t_);
      (tail > eps_ ? lo : hi) = mid;
    }
    return beta_[A] = hi;
  }
  double spare(double A) const {
    if (!(t_ > 0.0)) return beta(switch_load_) * std::sqrt(A);
    const double last = std::exp2(models::Staffing::kLastExponent);
    if (A >= last) return beta(last) * std::sqrt(A);
    int e = 0;
    const double m = 2.0 * std::frexp(A, &e) - 1.0;  // A = 2^(e-1) (1 + m), m in [0, 1)
    const double scale = std::ldexp(1.0, e - 1);
    const double cells = std::exp2(models::Staffing::kMantissaBits);
    const double k = std::floor(m * cells), fraction = m * cells - k;
    const double lo = scale * (1.0 + k / cells), hi = scale * (1.0 + (k + 1.0) / cells);
    const double s_lo = beta(lo) * std::sqrt(lo), s_hi = beta(hi) * std::sqrt(hi);
    return s_lo + fraction * (s_hi - s_lo);
  }

  const models::QueueModel* model_;
  double t_, eps_;
  double switch_load_ = 0.0, gamma_ = 0.0;
  mutable std::map<double, double> beta_;
};

// Offsets of the series and key figures in the layout.
struct Columns {
  Eigen::Index demand, served, spilled, unserved, backlog, capacity, busy, utilization, outage,
      installed, failed, stranded, on_order, power, power_cap, energy, energy_cost, opex, capex,
      revenue, penalty, carbon, spend_cum, budget_left, usd_jpy, price, limited, region_demand,
      region_served, region_unserved, region_backlog, requests, lost_requests;
  Eigen::Index k_total_spend, k_capex, k_opex, k_energy_cost, k_overrun, k_over_budget, k_demand,
      k_unserved_fraction, k_service_level, k_mean_utilization, k_peak_over_cap, k_cost_per_served,
      k_energy, k_carbon, k_gpus_bought, k_revenue, k_penalty, k_npv, k_region_unserved_fraction,
      k_region_spend, k_lost_requests, k_lost_request_fraction;
  Eigen::Index k_limited;  // the kPolicyLimits reviews_limited_by_* key figures

  explicit Columns(const Layout& l) {
    auto s = [&](const char* name) { return l.find_series(name).offset; };
    auto k = [&](const char* name) { return l.find_key_figure(name).offset; };
    demand = s("demand_h100e_gpuh");
    served = s("served_h100e_gpuh");
    spilled = s("spilled_h100e_gpuh");
    unserved = s("unserved_h100e_gpuh");
    backlog = s("backlog_h100e_gpuh");
    capacity = s("capacity_h100e_gpuh");
    busy = s("busy_h100e_gpuh");
    utilization = s("utilization");
    outage = s("outage_fraction");
    installed = s("gpus_installed");
    failed = s("gpus_failed");
    stranded = s("gpus_stranded");
    on_order = s("gpus_on_order");
    power = s("power_mw");
    power_cap = s("power_cap_mw");
    energy = s("energy_mwh");
    energy_cost = s("energy_cost_usd");
    opex = s("opex_usd");
    capex = s("capex_usd");
    revenue = s("revenue_usd");
    penalty = s("penalty_usd");
    carbon = s("carbon_t");
    spend_cum = s("spend_cum_usd");
    budget_left = s("budget_left_usd");
    usd_jpy = s("usd_jpy");
    price = s("electricity_price_usd_per_kwh");
    limited = s("reviews_limited_by_budget");
    if (s("reviews_limited_by_power") != limited + l.dim_size(Dim::region) ||
        s("reviews_limited_by_supply") != limited + 2 * l.dim_size(Dim::region))
      throw std::logic_error("reference: the reviews_limited_by_* series are not consecutive");
    region_demand = s("region_demand_h100e_gpuh");
    region_served = s("region_served_h100e_gpuh");
    region_unserved = s("region_unserved_h100e_gpuh");
    region_backlog = s("region_backlog_h100e_gpuh");
    requests = s("requests");
    lost_requests = s("lost_requests");
    k_total_spend = k("total_spend_usd");
    k_capex = k("capex_usd");
    k_opex = k("opex_usd");
    k_energy_cost = k("energy_cost_usd");
    k_overrun = k("budget_overrun_usd");
    k_over_budget = k("over_budget");
    k_demand = k("demand_h100e_gpuh");
    k_unserved_fraction = k("unserved_fraction");
    k_service_level = k("inference_service_level");
    k_mean_utilization = k("mean_utilization");
    k_peak_over_cap = k("peak_power_over_cap_mw");
    k_cost_per_served = k("cost_per_served_h100e_gpuh_usd");
    k_energy = k("energy_mwh");
    k_carbon = k("carbon_t");
    k_gpus_bought = k("gpus_bought");
    k_revenue = k("revenue_usd");
    k_penalty = k("penalty_usd");
    k_npv = k("npv_usd");
    k_limited = k("reviews_limited_by_budget");
    if (k("reviews_limited_by_power") != k_limited + 1 ||
        k("reviews_limited_by_supply") != k_limited + 2)
      throw std::logic_error("reference: the reviews_limited_by_* key figures are not consecutive");
    k_region_unserved_fraction = k("region_unserved_fraction");
    k_region_spend = k("region_spend_usd");
    k_lost_requests = k("lost_requests");
    k_lost_request_fraction = k("lost_request_fraction");
  }
};

// Path-independent inputs, computed from the scenario as docs/model.md states them.
struct Setup {
  const ScenarioSpec& spec;
  int R = 0, K = 0, C = 0, T = 0;
  double h = 24.0;
  std::vector<Date> date;                   // [t]
  std::vector<std::vector<double>> cap_mw;  // [t][r]
  std::vector<std::vector<double>> sched;   // [t][r] scheduled loss
  std::vector<std::vector<double>> season;  // [t][c]
  std::vector<int> sku_order;               // by H100e per kW, best first
  std::vector<int> class_order;             // by priority, stable
  std::vector<std::vector<double>> perf;    // [c][k] H100e per GPU for class c
  std::vector<bool> own_perf;               // [c] class has perf_by_class values
  std::vector<int> wait_steps;              // [c] W_c (training)
  std::vector<double> order_hours;          // [j] hours from start to the order date
  std::vector<int> order_step;              // [j] step the order is placed in

  std::vector<std::unique_ptr<models::DemandGrowth>> growth;
  std::vector<std::unique_ptr<models::DemandNoise>> noise;
  std::vector<std::unique_ptr<models::DemandShocks>> shocks;
  std::vector<std::unique_ptr<models::OutageModel>> outages;
  std::vector<std::unique_ptr<models::PriceModel>> price;
  std::unique_ptr<models::FxModel> fx;
  std::unique_ptr<models::FailureModel> failures;
  std::unique_ptr<models::ProcurementPolicy> policy;
  std::vector<std::unique_ptr<models::QueueModel>> queue;  // [c], request-level classes
  std::vector<std::unique_ptr<RequestSizing>> sizing;      // [c], request-level classes

  Setup(const ScenarioSpec& s, const models::ModelRegistries& reg) : spec(s) {
    R = static_cast<int>(spec.regions.size());
    K = static_cast<int>(spec.skus.size());
    C = static_cast<int>(spec.classes.size());
    h = spec.time.step_hours;
    const Date end(std::chrono::year_month_day(spec.time.start) +
                   std::chrono::months(spec.time.horizon_months));
    T = static_cast<int>(std::lround(24.0 * days_from(spec.time.start, end) / h));

    for (int t = 0; t < T; ++t) {
      const double hour = t * h;
      const Date d = spec.time.start + std::chrono::days(static_cast<int>(std::floor(hour / 24.0)));
      date.push_back(d);
      std::vector<double> caps, losses;
      for (const auto& region : spec.regions) {
        caps.push_back(cap_in_force(region, d));
        losses.push_back(scheduled_loss(spec.time.start, region, hour, h));
      }
      cap_mw.push_back(caps);
      sched.push_back(losses);
      std::vector<double> sea;
      const int hour_of_day = static_cast<int>(std::fmod(hour, 24.0));
      const int day_of_week = static_cast<int>(std::chrono::weekday(d).iso_encoding()) - 1;
      for (const auto& c : spec.classes) {
        double m = 1.0;
        if (h < 24.0) m *= c.hourly[static_cast<std::size_t>(hour_of_day)];
        if (h < 168.0) m *= c.weekly[static_cast<std::size_t>(day_of_week)];
        sea.push_back(m);
      }
      season.push_back(sea);
    }

    for (int k = 0; k < K; ++k) sku_order.push_back(k);
    std::stable_sort(sku_order.begin(), sku_order.end(), [&](int a, int b) {
      const auto& sa = spec.skus[static_cast<std::size_t>(a)];
      const auto& sb = spec.skus[static_cast<std::size_t>(b)];
      return sa.perf_h100e / sa.power_kw > sb.perf_h100e / sb.power_kw;
    });
    for (int c = 0; c < C; ++c) class_order.push_back(c);
    std::stable_sort(class_order.begin(), class_order.end(), [&](int a, int b) {
      return spec.classes[static_cast<std::size_t>(a)].priority <
             spec.classes[static_cast<std::size_t>(b)].priority;
    });

    for (const auto& c : spec.classes) {
      std::vector<double> p;
      bool own = false;
      for (const auto& sku : spec.skus) {
        const auto it = sku.perf_by_class.find(c.name);
        own = own || it != sku.perf_by_class.end();
        p.push_back(it != sku.perf_by_class.end() ? it->second : sku.perf_h100e);
      }
      perf.push_back(p);
      own_perf.push_back(own);
      wait_steps.push_back(c.kind == WorkloadKind::training
                               ? static_cast<int>(std::floor(c.max_wait_hours / h))
                               : 0);
    }

    for (const auto& o : spec.procurement.orders) {
      const double hours = 24.0 * days_from(spec.time.start, o.date);
      if (hours < 0.0)
        throw std::invalid_argument("reference_run: an explicit order is dated before the start");
      order_hours.push_back(hours);
      order_step.push_back(static_cast<int>(std::floor(hours / h)));
    }

    for (const auto& c : spec.classes) {
      growth.push_back(reg.growth.make(c.growth));
      noise.push_back(reg.noise.make(c.noise));
      shocks.push_back(reg.shocks.make(c.shocks));
    }
    for (const auto& r : spec.regions) {
      outages.push_back(reg.outages.make(r.outages));
      price.push_back(reg.price.make(r.price_model));
    }
    fx = reg.fx.make(spec.finance.fx_model);
    failures = reg.failures.make(spec.failures);
    policy = reg.procurement.make(spec.procurement.policy);
    for (const auto& c : spec.classes) {
      queue.push_back(c.requests ? reg.queue.make(c.requests->queue) : nullptr);
      sizing.push_back(c.requests
                           ? std::make_unique<RequestSizing>(
                                 *queue.back(), c.requests->max_wait_s / c.requests->service_s(),
                                 c.requests->max_wait_probability)
                           : nullptr);
    }
  }
};

struct Pending {
  int r = 0, k = 0;
  double count = 0.0;
  int arrival = 0;  // step it goes live
  int on_time = 0;  // step it would go live without a delay
};

// First step starting at or after `hours` since the start.
int first_step_from(double hours, double h) {
  return static_cast<int>(std::ceil(hours / h - 1e-9));
}

// Delay in hours of an order, drawn from the (a, b) pair of its Philox block.
double delay_hours(const ScenarioSpec& spec, const Rng& rng, std::int64_t path, std::uint32_t step,
                   std::uint32_t index) {
  const SupplySpec& s = spec.procurement.supply;
  if (spec.time.deterministic || !(s.late_probability > 0.0)) return 0.0;
  const Rng::Pair u = rng.uniform2(path, step, Stream::delivery_delay, index);
  if (!(u.a <= s.late_probability)) return 0.0;
  return 24.0 * std::min(-s.mean_delay_days * std::log(u.b), s.max_delay_days);
}

void run_path(const Setup& su, const Columns& col, const Rng& rng, std::int64_t path,
              ReferenceResult& out) {
  const ScenarioSpec& spec = su.spec;
  const int R = su.R, K = su.K, C = su.C, T = su.T;
  const double h = su.h;
  const bool det = spec.time.deterministic;
  const bool at_order = spec.finance.capex_timing == CapexTiming::at_order;
  auto uz = [](int i) { return static_cast<std::size_t>(i); };
  auto sku = [&](int k) -> const SkuSpec& { return spec.skus[uz(k)]; };
  auto cls = [&](int c) -> const ClassSpec& { return spec.classes[uz(c)]; };

  // Model states.
  std::vector<Process<models::DemandGrowth>> growth(uz(C));
  std::vector<Process<models::DemandNoise>> noise(uz(C * R));
  std::vector<Process<models::DemandShocks>> shocks(uz(C));
  std::vector<Process<models::OutageModel>> outages(uz(R));
  std::vector<Process<models::PriceModel>> price(uz(R));
  Process<models::FxModel> fx;
  for (int c = 0; c < C; ++c) {
    growth[uz(c)].model = su.growth[uz(c)].get();
    growth[uz(c)].init(rng, path, h, det, static_cast<std::uint32_t>(c));
    shocks[uz(c)].model = su.shocks[uz(c)].get();
    shocks[uz(c)].init(rng, path, h, det, static_cast<std::uint32_t>(c));
    for (int r = 0; r < R; ++r) {
      auto& n = noise[uz(c * R + r)];
      n.model = su.noise[uz(c)].get();
      n.init(rng, path, h, det, static_cast<std::uint32_t>(c * R + r));
    }
  }
  for (int r = 0; r < R; ++r) {
    outages[uz(r)].model = su.outages[uz(r)].get();
    outages[uz(r)].init(rng, path, h, det, static_cast<std::uint32_t>(r));
    price[uz(r)].model = su.price[uz(r)].get();
    price[uz(r)].init(rng, path, h, det, static_cast<std::uint32_t>(r));
  }
  fx.model = su.fx.get();
  fx.init(rng, path, h, det, 0);

  // Fleet state, [r][k].
  std::vector<std::vector<double>> N(uz(R), std::vector<double>(uz(K), 0.0));
  std::vector<std::vector<double>> F = N;
  for (int r = 0; r < R; ++r)
    for (int k = 0; k < K; ++k) {
      const auto& fleet = spec.regions[uz(r)].initial_fleet;
      N[uz(r)][uz(k)] = uz(k) < fleet.size() ? fleet[uz(k)] : 0.0;
    }
  std::vector<Pending> pending;
  // Training backlog B[c][r][a], a = 0..W_c.
  std::vector<std::vector<std::vector<double>>> B(uz(C));
  for (int c = 0; c < C; ++c)
    if (cls(c).kind == WorkloadKind::training)
      B[uz(c)].assign(uz(R), std::vector<double>(uz(su.wait_steps[uz(c)] + 1), 0.0));
  double S = 0.0;
  const double budget = spec.finance.budget_usd;

  // Policy bookkeeping.
  std::vector<double> need_sum(uz(R), 0.0);
  int steps_since_review = 0;
  int current_quarter = std::numeric_limits<int>::min();
  std::vector<double> quarter_orders(uz(K), 0.0);

  // Key-figure sums.
  double sum_capex = 0, sum_opex = 0, sum_energy_cost = 0, sum_energy = 0, sum_carbon = 0;
  double sum_revenue = 0, sum_penalty = 0, sum_busy = 0, sum_cap = 0, sum_served = 0, npv = 0;
  double bought = 0, peak_over = 0;
  std::vector<double> reviews_limited(models::kPolicyLimits, 0.0);  // by PolicyLimit
  int service_ok_steps = 0;
  std::vector<double> class_demand(uz(C), 0.0), class_unserved(uz(C), 0.0);
  std::vector<double> region_demand(uz(R), 0.0), region_unserved(uz(R), 0.0),
      region_spend(uz(R), 0.0);
  std::vector<double> class_requests(uz(C), 0.0), class_lost(uz(C), 0.0);

  const auto row_of = static_cast<Eigen::Index>(path);
  for (int t = 0; t < T; ++t) {
    auto row = out.steps[uz(t)].row(row_of);
    std::vector<double> capex(uz(R), 0.0);

    // 1. Deliveries: explicit orders placed this step, then arrivals.
    for (std::size_t j = 0; j < spec.procurement.orders.size(); ++j) {
      if (su.order_step[j] != t) continue;
      const OrderSpec& o = spec.procurement.orders[j];
      const double delay =
          delay_hours(spec, rng, path, kOncePerPath, static_cast<std::uint32_t>(j));
      const double live = su.order_hours[j] + 24.0 * sku(o.sku).lead_time_days;
      pending.push_back({o.region, o.sku, o.count, static_cast<int>(std::ceil((live + delay) / h)),
                         first_step_from(live, h)});
      bought += o.count;
      if (at_order) capex[uz(o.region)] += o.count * sku(o.sku).capex_usd;
    }
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->arrival == t) {
        N[uz(it->r)][uz(it->k)] += it->count;
        if (!at_order) capex[uz(it->r)] += it->count * sku(it->k).capex_usd;
        it = pending.erase(it);
      } else {
        ++it;
      }
    }

    // 2. Failures and repairs, from the state at the start of the step.
    for (int r = 0; r < R; ++r)
      for (int k = 0; k < K; ++k) {
        ChunkContext ctx{&rng, path, 1, h, det, static_cast<std::uint32_t>(r * K + k)};
        const double p_fail = 1.0 - std::exp(-sku(k).afr * h / kHoursPerYear);
        const double p_repair = 1.0 - std::exp(-h / (24.0 * sku(k).repair_days));
        Eigen::ArrayXd n(1), fail(1), repair(1);
        n[0] = N[uz(r)][uz(k)] - F[uz(r)][uz(k)];
        su.failures->sample(ctx, t, Stream::failure, n, p_fail, fail);
        n[0] = F[uz(r)][uz(k)];
        su.failures->sample(ctx, t, Stream::repair, n, p_repair, repair);
        F[uz(r)][uz(k)] += fail[0] - repair[0];
      }

    // 3. Outages.
    std::vector<double> o(uz(R));
    for (int r = 0; r < R; ++r) o[uz(r)] = std::max(outages[uz(r)].step(t), su.sched[uz(t)][uz(r)]);

    // 4. Power limit.
    std::vector<std::vector<double>> powered(uz(R), std::vector<double>(uz(K), 0.0));
    for (int r = 0; r < R; ++r) {
      const double cap = su.cap_mw[uz(t)][uz(r)];
      double kw_left = cap * 1000.0;
      double wanted_mw = 0.0;
      for (int k : su.sku_order) {
        const double working = N[uz(r)][uz(k)] - F[uz(r)][uz(k)];
        const double fit = kw_left / sku(k).power_kw;
        const double p = std::min(working, det ? fit : std::floor(fit));
        powered[uz(r)][uz(k)] = p;
        kw_left -= p * sku(k).power_kw;
      }
      for (int k = 0; k < K; ++k)
        wanted_mw += (N[uz(r)][uz(k)] - F[uz(r)][uz(k)]) * sku(k).power_kw / 1000.0;
      peak_over = std::max(peak_over, wanted_mw - cap);
    }

    // 5. Capacity, and the per-class cost ratio Cap / Cap_c.
    std::vector<double> cap(uz(R), 0.0), remaining(uz(R));
    std::vector<std::vector<double>> cost(uz(C), std::vector<double>(uz(R), 1.0));
    for (int r = 0; r < R; ++r) {
      for (int k = 0; k < K; ++k)
        cap[uz(r)] += powered[uz(r)][uz(k)] * sku(k).perf_h100e * h * (1.0 - o[uz(r)]);
      remaining[uz(r)] = cap[uz(r)];
      for (int c = 0; c < C; ++c) {
        double c_cost = cls(c).kind == WorkloadKind::inference ? cls(c).peak_factor : 1.0;
        if (su.own_perf[uz(c)]) {
          double cap_c = 0.0;
          for (int k = 0; k < K; ++k)
            cap_c += powered[uz(r)][uz(k)] * su.perf[uz(c)][uz(k)] * h * (1.0 - o[uz(r)]);
          c_cost *= cap_c > 0.0 ? cap[uz(r)] / cap_c : kInf;
        }
        cost[uz(c)][uz(r)] = c_cost;
      }
    }
    // Work of class c that region r can still take.
    auto room = [&](int c, int r) {
      return remaining[uz(r)] > 0.0 ? remaining[uz(r)] / cost[uz(c)][uz(r)] : 0.0;
    };
    auto consume = [&](int c, int r, double x) {
      if (x > 0.0) remaining[uz(r)] -= x * cost[uz(c)][uz(r)];
    };

    // 6. Demand. A request-level class: the rate gives the requests, and the
    // load (rate x peak factor x service time) the servers, for the step.
    std::vector<std::vector<double>> D(uz(C), std::vector<double>(uz(R)));
    std::vector<std::vector<double>> requests(uz(C), std::vector<double>(uz(R), 0.0));
    for (int c = 0; c < C; ++c) {
      const double g = growth[uz(c)].step(t);
      const double s = shocks[uz(c)].step(t);
      const auto& q = cls(c).requests;
      for (int r = 0; r < R; ++r) {
        const double nz = noise[uz(c * R + r)].step(t);
        if (q) {
          const double rate =
              q->rate_per_s * cls(c).region_share[uz(r)] * g * su.season[uz(t)][uz(c)] * nz * s;
          requests[uz(c)][uz(r)] = rate * 3600.0 * h;
          D[uz(c)][uz(r)] = su.sizing[uz(c)]->servers(rate * q->peak_factor * q->service_s()) * h;
        } else {
          D[uz(c)][uz(r)] = cls(c).base_demand_h100e * cls(c).region_share[uz(r)] * g *
                            su.season[uz(t)][uz(c)] * nz * s * h;
        }
      }
    }

    // 7. Allocation.
    std::vector<std::vector<double>> served(uz(C), std::vector<double>(uz(R), 0.0));
    auto spilled = served, unserved = served, left = served, backlog_start = served,
         q_start = served;
    for (int c = 0; c < C; ++c)
      if (cls(c).kind == WorkloadKind::training)
        for (int r = 0; r < R; ++r) {
          double q = 0.0;
          for (double b : B[uz(c)][uz(r)]) q += b;
          backlog_start[uz(c)][uz(r)] = q;
        }
    // 7.1 Inference, local.
    for (int c : su.class_order) {
      if (cls(c).kind != WorkloadKind::inference) continue;
      for (int r = 0; r < R; ++r) {
        const double x = std::min(D[uz(c)][uz(r)], room(c, r));
        consume(c, r, x);
        served[uz(c)][uz(r)] = x;
        left[uz(c)][uz(r)] = D[uz(c)][uz(r)] - x;
      }
    }
    // 7.2 Inference, spill; what is still left is lost.
    for (int c : su.class_order) {
      if (cls(c).kind != WorkloadKind::inference) continue;
      for (int r = 0; r < R; ++r) {
        const double d = D[uz(c)][uz(r)];
        double spillable = std::min(left[uz(c)][uz(r)], (1.0 - cls(c).residency) * d);
        for (const SpillTarget& target : spec.regions[uz(r)].spill_to) {
          if (!(spillable > 0.0)) break;
          const double x = std::min({spillable, target.max_fraction * d, room(c, target.region)});
          if (!(x > 0.0)) continue;
          consume(c, target.region, x);
          spillable -= x;
          left[uz(c)][uz(r)] -= x;
          served[uz(c)][uz(r)] += x;
          spilled[uz(c)][uz(r)] += x;
        }
        unserved[uz(c)][uz(r)] = left[uz(c)][uz(r)];
      }
    }
    // Takes x from the backlog of (c, r), oldest first.
    auto take = [&](int c, int r, double x) {
      auto& b = B[uz(c)][uz(r)];
      for (std::size_t a = b.size(); a-- > 0 && x > 0.0;) {
        const double y = std::min(b[a], x);
        b[a] -= y;
        x -= y;
      }
    };
    auto waiting = [&](int c, int r) {
      double q = 0.0;
      for (double b : B[uz(c)][uz(r)]) q += b;
      return q;
    };
    // 7.3 Training, local.
    for (int c : su.class_order) {
      if (cls(c).kind != WorkloadKind::training) continue;
      for (int r = 0; r < R; ++r) {
        B[uz(c)][uz(r)][0] += D[uz(c)][uz(r)];
        const double q = waiting(c, r);
        q_start[uz(c)][uz(r)] = q;
        const double x = std::min(q, room(c, r));
        consume(c, r, x);
        take(c, r, x);
        served[uz(c)][uz(r)] = x;
        left[uz(c)][uz(r)] = q - x;
      }
    }
    // 7.4 Training, spill.
    for (int c : su.class_order) {
      if (cls(c).kind != WorkloadKind::training) continue;
      for (int r = 0; r < R; ++r) {
        const double q0 = q_start[uz(c)][uz(r)];
        double spillable = std::min(left[uz(c)][uz(r)], (1.0 - cls(c).residency) * q0);
        for (const SpillTarget& target : spec.regions[uz(r)].spill_to) {
          if (!(spillable > 0.0)) break;
          const double x = std::min({spillable, target.max_fraction * q0, room(c, target.region)});
          if (!(x > 0.0)) continue;
          consume(c, target.region, x);
          take(c, r, x);
          spillable -= x;
          left[uz(c)][uz(r)] -= x;
          served[uz(c)][uz(r)] += x;
          spilled[uz(c)][uz(r)] += x;
        }
      }
    }
    // 7.5 Abandon work of age W_c; the rest ages by one step.
    for (int c = 0; c < C; ++c) {
      if (cls(c).kind != WorkloadKind::training) continue;
      for (int r = 0; r < R; ++r) {
        auto& b = B[uz(c)][uz(r)];
        unserved[uz(c)][uz(r)] = b.back();
        for (std::size_t a = b.size() - 1; a > 0; --a) b[a] = b[a - 1];
        b[0] = 0.0;
      }
    }

    // 8-10. Power, energy, money, carbon.
    const double usdjpy = spec.finance.usdjpy * fx.step(t);
    std::vector<double> busy(uz(R)), u(uz(R)), power(uz(R)), energy(uz(R)), price_kwh(uz(R)),
        energy_cost(uz(R)), opex(uz(R)), revenue(uz(R), 0.0), penalty(uz(R), 0.0), carbon(uz(R));
    for (int r = 0; r < R; ++r) {
      const RegionSpec& region = spec.regions[uz(r)];
      busy[uz(r)] = cap[uz(r)] - remaining[uz(r)];
      u[uz(r)] = cap[uz(r)] > 0.0 ? busy[uz(r)] / cap[uz(r)] : 0.0;
      double kw = 0.0;
      for (int k = 0; k < K; ++k)
        kw += powered[uz(r)][uz(k)] * sku(k).power_kw *
              (sku(k).idle_fraction + (1.0 - sku(k).idle_fraction) * u[uz(r)]);
      power[uz(r)] = kw * (1.0 - o[uz(r)]) * region.pue / 1000.0;
      energy[uz(r)] = power[uz(r)] * h;
      const double factor = price[uz(r)].step(t);
      price_kwh[uz(r)] = region.price_usd_per_kwh > 0.0
                             ? region.price_usd_per_kwh * factor
                             : region.price_jpy_per_kwh * factor / usdjpy;
      energy_cost[uz(r)] = energy[uz(r)] * 1000.0 * price_kwh[uz(r)];
      double fleet = 0.0;
      for (int k = 0; k < K; ++k) fleet += N[uz(r)][uz(k)];
      const double per_gpu_month =
          region.opex_usd_per_gpu_month + region.opex_jpy_per_gpu_month / usdjpy;
      const double per_mw_month =
          region.opex_usd_per_mw_month + region.opex_jpy_per_mw_month / usdjpy;
      opex[uz(r)] = energy_cost[uz(r)] + fleet * per_gpu_month * h / kHoursPerMonth +
                    su.cap_mw[uz(t)][uz(r)] * per_mw_month * h / kHoursPerMonth;
      for (int c = 0; c < C; ++c) {
        revenue[uz(r)] += served[uz(c)][uz(r)] * cls(c).revenue_usd_per_h100e_gpuh;
        penalty[uz(r)] += unserved[uz(c)][uz(r)] * cls(c).penalty_usd_per_h100e_gpuh;
      }
      carbon[uz(r)] = energy[uz(r)] * region.carbon_g_per_kwh / 1000.0;
    }
    for (int r = 0; r < R; ++r) S += capex[uz(r)] + opex[uz(r)];

    // 11. Procurement review at the end of the step.
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c)
        need_sum[uz(r)] +=
            D[uz(c)][uz(r)] * (cls(c).kind == WorkloadKind::inference ? cls(c).peak_factor : 1.0);
    ++steps_since_review;
    if (su.policy->is_review(t, h)) {
      const int q = quarter_of(su.date[uz(t)]);
      if (q != current_quarter) {
        current_quarter = q;
        std::fill(quarter_orders.begin(), quarter_orders.end(), 0.0);
      }
      Eigen::ArrayXXd need(1, R), installed(1, R * K), on_order = Eigen::ArrayXXd::Zero(1, R * K),
                                                       quarter(1, K),
                                                       order = Eigen::ArrayXXd::Zero(1, R * K);
      for (const auto& p : pending) on_order(0, p.r * K + p.k) += p.count;
      for (int r = 0; r < R; ++r) {
        need(0, r) = need_sum[uz(r)] / (steps_since_review * h);
        for (int k = 0; k < K; ++k) installed(0, r * K + k) = N[uz(r)][uz(k)];
      }
      for (int k = 0; k < K; ++k) quarter(0, k) = quarter_orders[uz(k)];

      // Everything committed (docs/model.md, step 11): what was spent, the
      // capex of orders not yet paid and of explicit orders still to come,
      // and the opex until the horizon at this step's prices and rate, each
      // GPU at full load from its on-time arrival.
      std::vector<int> arrival(uz(K));  // of an order placed now
      for (int k = 0; k < K; ++k)
        arrival[uz(k)] = first_step_from((t + 1) * h + 24.0 * sku(k).lead_time_days, h);
      auto steps_after = [&](int live_from) {  // steps of (t, T) from live_from on
        return static_cast<double>(std::max(0, T - std::max(live_from, t + 1)));
      };
      std::vector<std::vector<double>> gpu_steps(uz(R), std::vector<double>(uz(K), 0.0));
      double committed = S;
      for (int r = 0; r < R; ++r)
        for (int k = 0; k < K; ++k) gpu_steps[uz(r)][uz(k)] = N[uz(r)][uz(k)] * steps_after(t + 1);
      for (const auto& p : pending) {
        gpu_steps[uz(p.r)][uz(p.k)] += p.count * steps_after(p.on_time);
        if (!at_order) committed += p.count * sku(p.k).capex_usd;
      }
      for (std::size_t j = 0; j < spec.procurement.orders.size(); ++j) {
        if (su.order_step[j] <= t) continue;
        const OrderSpec& explicit_order = spec.procurement.orders[j];
        committed += explicit_order.count * sku(explicit_order.sku).capex_usd;
        gpu_steps[uz(explicit_order.region)][uz(explicit_order.sku)] +=
            explicit_order.count *
            steps_after(first_step_from(
                su.order_hours[j] + 24.0 * sku(explicit_order.sku).lead_time_days, h));
      }
      Eigen::ArrayXXd gpu_commit(1, R * K);
      for (int r = 0; r < R; ++r) {
        const RegionSpec& region = spec.regions[uz(r)];
        for (int s2 = t + 1; s2 < T; ++s2)
          committed += su.cap_mw[uz(s2)][uz(r)] * h / kHoursPerMonth *
                       (region.opex_usd_per_mw_month + region.opex_jpy_per_mw_month / usdjpy);
        for (int k = 0; k < K; ++k) {
          const double per_step =
              (region.opex_usd_per_gpu_month + region.opex_jpy_per_gpu_month / usdjpy) * h /
                  kHoursPerMonth +
              sku(k).power_kw * region.pue * h * price_kwh[uz(r)];
          committed += per_step * gpu_steps[uz(r)][uz(k)];
          gpu_commit(0, r * K + k) = sku(k).capex_usd + per_step * steps_after(arrival[uz(k)]);
        }
      }
      Eigen::ArrayXd budget_left(1);
      budget_left[0] = budget - committed;

      // Power left from an order's arrival to the horizon: the cap of each
      // step less the explicit orders placed after today and due by then.
      std::vector<double> power_room(uz(R * K), kInf);
      for (int r = 0; r < R; ++r)
        for (int k = 0; k < K; ++k)
          for (int s2 = arrival[uz(k)]; s2 < T; ++s2) {
            double free_kw = 1000.0 * su.cap_mw[uz(s2)][uz(r)];
            for (std::size_t j = 0; j < spec.procurement.orders.size(); ++j) {
              const OrderSpec& explicit_order = spec.procurement.orders[j];
              const int due = first_step_from(
                  su.order_hours[j] + 24.0 * sku(explicit_order.sku).lead_time_days, h);
              if (explicit_order.region == r && su.order_step[j] > t && due <= s2)
                free_kw -= explicit_order.count * sku(explicit_order.sku).power_kw;
            }
            power_room[uz(r * K + k)] = std::min(power_room[uz(r * K + k)], free_kw);
          }

      const models::PolicyView view{&spec,      t,          su.date[uz(t)], T,
                                    need,       installed,  on_order,       budget_left,
                                    gpu_commit, power_room, arrival,        quarter};
      const ChunkContext ctx{&rng, path, 1, h, det, 0};
      Eigen::ArrayXXd limited = Eigen::ArrayXXd::Zero(1, models::kPolicyLimits * R);
      su.policy->review(ctx, view, order, limited);
      for (int l = 0; l < models::kPolicyLimits; ++l)
        for (int r = 0; r < R; ++r) {
          row[col.limited + l * R + r] = limited(0, l * R + r);
          reviews_limited[uz(l)] += limited(0, l * R + r);
        }
      for (int r = 0; r < R; ++r)
        for (int k = 0; k < K; ++k) {
          const double n = order(0, r * K + k);
          if (!(n > 0.0)) continue;
          const double delay =
              delay_hours(spec, rng, path, static_cast<std::uint32_t>(t),
                          kPolicyDelayIndex + static_cast<std::uint32_t>(r * K + k));
          const double live = (t + 1) * h + 24.0 * sku(k).lead_time_days;
          pending.push_back(
              {r, k, n, static_cast<int>(std::ceil((live + delay) / h)), arrival[uz(k)]});
          bought += n;
          quarter_orders[uz(k)] += n;
          if (at_order) {
            capex[uz(r)] += n * sku(k).capex_usd;
            S += n * sku(k).capex_usd;
          }
        }
      std::fill(need_sum.begin(), need_sum.end(), 0.0);
      steps_since_review = 0;
    }

    // Outputs of the step.
    std::vector<std::vector<double>> on_order(uz(R), std::vector<double>(uz(K), 0.0));
    for (const auto& p : pending) on_order[uz(p.r)][uz(p.k)] += p.count;
    bool service_ok = true;
    for (int c = 0; c < C; ++c)
      for (int r = 0; r < R; ++r) {
        const Eigen::Index i = c * R + r;
        double backlog = 0.0;
        if (cls(c).kind == WorkloadKind::training)
          for (double b : B[uz(c)][uz(r)]) backlog += b;
        row[col.demand + i] = D[uz(c)][uz(r)];
        row[col.served + i] = served[uz(c)][uz(r)];
        row[col.spilled + i] = spilled[uz(c)][uz(r)];
        row[col.unserved + i] = unserved[uz(c)][uz(r)];
        row[col.backlog + i] = backlog;
        // Region totals: every class of the region, in class order.
        row[col.region_demand + r] += D[uz(c)][uz(r)];
        row[col.region_served + r] += served[uz(c)][uz(r)];
        row[col.region_unserved + r] += unserved[uz(c)][uz(r)];
        row[col.region_backlog + r] += backlog;
        const double lost = D[uz(c)][uz(r)] > 0.0
                                ? requests[uz(c)][uz(r)] * unserved[uz(c)][uz(r)] / D[uz(c)][uz(r)]
                                : 0.0;
        row[col.requests + i] = requests[uz(c)][uz(r)];
        row[col.lost_requests + i] = lost;
        class_requests[uz(c)] += requests[uz(c)][uz(r)];
        class_lost[uz(c)] += lost;
        class_demand[uz(c)] += D[uz(c)][uz(r)];
        class_unserved[uz(c)] += unserved[uz(c)][uz(r)];
        sum_served += served[uz(c)][uz(r)];
        if (cls(c).kind == WorkloadKind::inference &&
            !(unserved[uz(c)][uz(r)] <= kServiceTolerance * D[uz(c)][uz(r)]))
          service_ok = false;
      }
    if (service_ok) ++service_ok_steps;
    for (int k = 0; k < K; ++k)
      for (int r = 0; r < R; ++r) {
        const Eigen::Index i = k * R + r;
        const double working = N[uz(r)][uz(k)] - F[uz(r)][uz(k)];
        row[col.installed + i] = N[uz(r)][uz(k)];
        row[col.failed + i] = F[uz(r)][uz(k)];
        row[col.stranded + i] = working - powered[uz(r)][uz(k)];
        row[col.on_order + i] = on_order[uz(r)][uz(k)];
      }
    double step_cash = 0.0;
    for (int r = 0; r < R; ++r) {
      row[col.capacity + r] = cap[uz(r)];
      row[col.busy + r] = busy[uz(r)];
      row[col.utilization + r] = u[uz(r)];
      row[col.outage + r] = o[uz(r)];
      row[col.power + r] = power[uz(r)];
      row[col.power_cap + r] = su.cap_mw[uz(t)][uz(r)];
      row[col.energy + r] = energy[uz(r)];
      row[col.energy_cost + r] = energy_cost[uz(r)];
      row[col.opex + r] = opex[uz(r)];
      row[col.capex + r] = capex[uz(r)];
      row[col.revenue + r] = revenue[uz(r)];
      row[col.penalty + r] = penalty[uz(r)];
      row[col.carbon + r] = carbon[uz(r)];
      row[col.price + r] = price_kwh[uz(r)];
      sum_capex += capex[uz(r)];
      region_demand[uz(r)] += row[col.region_demand + r];
      region_unserved[uz(r)] += row[col.region_unserved + r];
      region_spend[uz(r)] += capex[uz(r)] + opex[uz(r)];
      sum_opex += opex[uz(r)];
      sum_energy_cost += energy_cost[uz(r)];
      sum_energy += energy[uz(r)];
      sum_carbon += carbon[uz(r)];
      sum_revenue += revenue[uz(r)];
      sum_penalty += penalty[uz(r)];
      sum_busy += busy[uz(r)];
      sum_cap += cap[uz(r)];
      step_cash += revenue[uz(r)] - capex[uz(r)] - opex[uz(r)];
    }
    row[col.spend_cum] = S;
    row[col.budget_left] = budget - S;
    row[col.usd_jpy] = usdjpy;
    npv += step_cash * std::pow(1.0 + spec.finance.discount_rate, -t * h / kHoursPerYear);
  }

  auto kf = out.key_figures.row(row_of);
  kf[col.k_total_spend] = S;
  kf[col.k_capex] = sum_capex;
  kf[col.k_opex] = sum_opex;
  kf[col.k_energy_cost] = sum_energy_cost;
  kf[col.k_overrun] = std::max(0.0, S - budget);
  kf[col.k_over_budget] = S - budget > 0.0 ? 1.0 : 0.0;
  for (int c = 0; c < C; ++c) {
    kf[col.k_demand + c] = class_demand[uz(c)];
    kf[col.k_unserved_fraction + c] =
        class_demand[uz(c)] > 0.0 ? class_unserved[uz(c)] / class_demand[uz(c)] : 0.0;
    kf[col.k_lost_requests + c] = class_lost[uz(c)];
    kf[col.k_lost_request_fraction + c] =
        class_requests[uz(c)] > 0.0 ? class_lost[uz(c)] / class_requests[uz(c)] : 0.0;
  }
  kf[col.k_service_level] = T > 0 ? static_cast<double>(service_ok_steps) / T : 1.0;
  kf[col.k_mean_utilization] = sum_cap > 0.0 ? sum_busy / sum_cap : 0.0;
  kf[col.k_peak_over_cap] = peak_over;
  kf[col.k_cost_per_served] = S / std::max(sum_served, 1.0);
  kf[col.k_energy] = sum_energy;
  kf[col.k_carbon] = sum_carbon;
  kf[col.k_gpus_bought] = bought;
  kf[col.k_revenue] = sum_revenue;
  kf[col.k_penalty] = sum_penalty;
  kf[col.k_npv] = npv;
  for (int l = 0; l < models::kPolicyLimits; ++l) kf[col.k_limited + l] = reviews_limited[uz(l)];
  for (int r = 0; r < R; ++r) {
    kf[col.k_region_unserved_fraction + r] =
        region_demand[uz(r)] > 0.0 ? region_unserved[uz(r)] / region_demand[uz(r)] : 0.0;
    kf[col.k_region_spend + r] = region_spend[uz(r)];
  }
}

}  // namespace

ReferenceResult reference_run(const ScenarioSpec& spec, const models::ModelRegistries& registries,
                              std::int64_t paths, std::uint64_t seed) {
  const Setup setup(spec, registries);
  ReferenceResult out;
  out.layout = make_layout(spec);
  if (out.layout.steps != setup.T)
    throw std::logic_error("reference_run: the layout has " + std::to_string(out.layout.steps) +
                           " steps, the model " + std::to_string(setup.T));
  const Columns columns(out.layout);
  const auto rows = static_cast<Eigen::Index>(paths);
  out.steps.assign(static_cast<std::size_t>(setup.T),
                   Eigen::ArrayXXd::Zero(rows, out.layout.series_columns));
  out.key_figures = Eigen::ArrayXXd::Zero(rows, out.layout.key_figure_columns);
  const Rng rng(seed);
  for (std::int64_t p = 0; p < paths; ++p) run_path(setup, columns, rng, p, out);
  return out;
}

}  // namespace capsim::reference
