// Property tests of the engine over random small scenarios: the vectorized
// kernel equals the scalar reference (tests/reference_engine.hpp), the model's
// invariants hold on every step and path, and results are bit-identical
// whatever the threads, chunking or number of paths.
#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "capsim/engine.hpp"
#include "capsim/error.hpp"
#include "capsim/io/scenario_loader.hpp"
#include "capsim/models/builtin.hpp"
#include "capsim/results.hpp"
#include "capsim/scenario.hpp"
#include "reference_engine.hpp"

using capsim::ClassSpec;
using capsim::Date;
using capsim::Layout;
using capsim::ModelConfig;
using capsim::ParamValue;
using capsim::RegionSpec;
using capsim::ScenarioSpec;
using capsim::SkuSpec;
using capsim::WorkloadKind;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int kScenarios = 30;
constexpr std::int64_t kPaths = 37;
constexpr Eigen::Index kChunk = 8;  // 37 paths: chunks of 8, 8, 8, 8, 5
constexpr std::uint64_t kGeneratorSeed = 20240917;

// Captures every step's per-path values (of the first `keep` paths; all when
// keep < 0).
class CaptureSink final : public capsim::StepSink {
 public:
  explicit CaptureSink(Eigen::Index keep = -1) : keep_(keep) {}
  void on_step(int t, const Eigen::Ref<const Eigen::ArrayXXd>& values) override {
    if (static_cast<std::size_t>(t) != steps.size())
      throw std::logic_error("on_step called out of step order");
    const Eigen::Index rows = keep_ < 0 ? values.rows() : std::min(keep_, values.rows());
    steps.emplace_back(values.topRows(rows));
  }
  std::vector<Eigen::ArrayXXd> steps;

 private:
  Eigen::Index keep_;
};

struct EngineRun {
  capsim::RunResult result;
  std::vector<Eigen::ArrayXXd> steps;
};

EngineRun run_engine(const ScenarioSpec& spec, const capsim::models::ModelRegistries& registries,
                     std::int64_t paths, int threads, Eigen::Index chunk, Eigen::Index keep = -1) {
  CaptureSink sink(keep);
  capsim::RunOptions options;
  options.paths = paths;
  options.threads = threads;
  options.chunk_paths = chunk;
  options.sink = &sink;
  EngineRun run{capsim::run(spec, registries, options), {}};
  run.steps = std::move(sink.steps);
  return run;
}

// A slot's ModelConfig: `given` values, every other parameter the registry
// lists at its default.
template <class Interface>
ModelConfig slot(const capsim::models::Registry<Interface>& registry, const std::string& model,
                 const std::map<std::string, ParamValue>& given = {}) {
  const auto* entry = registry.find(model);
  if (!entry) throw std::logic_error(registry.kind() + ": no model " + model);
  ModelConfig config;
  config.model = model;
  for (const auto& info : entry->params) {
    const auto it = given.find(info.name);
    if (it != given.end()) {
      if (const double* x = std::get_if<double>(&it->second);
          x && !(*x >= info.min && *x <= info.max))
        throw std::logic_error(model + "." + info.name + " out of range");
      config.params[info.name] = it->second;
    } else if (info.required) {
      throw std::logic_error(model + ": no value for required " + info.name);
    } else if (info.type == capsim::models::ParamType::number) {
      config.params[info.name] = info.default_number;
    } else if (info.type == capsim::models::ParamType::text) {
      config.params[info.name] = info.default_text;
    }
  }
  for (const auto& [key, value] : given)
    if (!config.params.count(key)) throw std::logic_error(model + ": unknown parameter " + key);
  return config;
}

// Random small scenarios, valid as the loader would accept them.
class ScenarioGenerator {
 public:
  ScenarioGenerator(const capsim::models::ModelRegistries& registries, std::uint64_t seed)
      : reg_(registries), gen_(seed) {}

  ScenarioSpec next(int index) {
    ScenarioSpec spec;
    spec.name = "random-" + std::to_string(index);
    make_time(spec);
    const int K = integer(1, 3), R = integer(1, 3), C = integer(1, 4);
    for (int k = 0; k < K; ++k) spec.skus.push_back(make_sku(spec, k));
    for (int r = 0; r < R; ++r) spec.regions.push_back(make_region(spec, r));
    for (auto& region : spec.regions) add_spill(region, R);
    make_finance(spec);
    for (int c = 0; c < C; ++c) spec.classes.push_back(make_class(spec, c, C));
    for (const auto& c : spec.classes)
      if (chance(0.25))
        for (auto& sku : spec.skus)
          if (chance(0.7)) sku.perf_by_class[c.name] = sku.perf_h100e * uniform(0.5, 2.0);
    make_procurement(spec);
    spec.failures = slot(reg_.failures, chance(0.8) ? "binomial" : "none");
    return spec;
  }

 private:
  double uniform(double a, double b) { return std::uniform_real_distribution<double>(a, b)(gen_); }
  int integer(int a, int b) { return std::uniform_int_distribution<int>(a, b)(gen_); }
  bool chance(double p) { return uniform(0.0, 1.0) < p; }
  Date day(int offset) const { return start_ + std::chrono::days(offset); }

  void make_time(ScenarioSpec& spec) {
    start_ = Date(std::chrono::year(2024) / 1 / 1) + std::chrono::days(integer(0, 400));
    spec.time.start = start_;
    const double kind = uniform(0.0, 1.0);
    spec.time.step_hours = kind < 0.7 ? 24.0 : kind < 0.85 ? 1.0 : 168.0;
    spec.time.horizon_months = spec.time.step_hours == 24.0  ? integer(2, 4)
                               : spec.time.step_hours == 1.0 ? 1
                                                             : integer(6, 18);
    const Date end(std::chrono::year_month_day(start_) +
                   std::chrono::months(spec.time.horizon_months));
    horizon_days_ = static_cast<int>((end - start_).count());
    spec.time.deterministic = chance(0.15);
    spec.time.paths = kPaths;
    spec.time.seed = gen_();
  }

  SkuSpec make_sku(const ScenarioSpec&, int k) {
    SkuSpec s;
    s.name = "gpu" + std::to_string(k);
    s.perf_h100e = uniform(0.5, 4.0);
    s.power_kw = uniform(0.6, 2.0);
    s.idle_fraction = uniform(0.1, 0.5);
    s.capex_usd = uniform(2e4, 6e4);
    s.available_from = day(integer(-60, horizon_days_ / 2));
    s.lead_time_days = chance(0.2) ? integer(0, 40) + 0.5 : integer(0, 60);
    s.afr = chance(0.3) ? uniform(0.5, 3.0) : uniform(0.0, 0.3);
    s.repair_days = uniform(0.5, 10.0);
    return s;
  }

  RegionSpec make_region(const ScenarioSpec& spec, int r) {
    RegionSpec g;
    g.name = "region" + std::to_string(r);
    double fleet_mw = 0.0;
    for (const auto& s : spec.skus) {
      g.initial_fleet.push_back(chance(0.2) ? 0.0 : integer(10, 300));
      fleet_mw += g.initial_fleet.back() * s.power_kw / 1000.0;
    }
    // Sometimes too little power for the fleet, so GPUs are stranded.
    const double mw =
        fleet_mw * (chance(0.35) ? uniform(0.4, 1.0) : uniform(1.2, 3.0)) + uniform(0.0, 0.2);
    g.power_mw.push_back({day(-integer(0, 30)), mw});
    if (chance(0.4))
      g.power_mw.push_back({day(integer(1, horizon_days_ - 1)), mw * uniform(0.7, 2.0)});
    g.pue = uniform(1.05, 1.6);
    if (chance(0.5))
      g.price_usd_per_kwh = uniform(0.04, 0.25);
    else
      g.price_jpy_per_kwh = uniform(10.0, 35.0);
    g.price_model =
        chance(0.5)
            ? slot(reg_.price, "log_ou",
                   {{"volatility", uniform(0.0, 0.8)}, {"reversion_per_year", uniform(0.5, 10.0)}})
            : slot(reg_.price, "constant");
    g.carbon_g_per_kwh = uniform(0.0, 600.0);
    g.opex_usd_per_gpu_month = uniform(0.0, 400.0);
    g.opex_usd_per_mw_month = uniform(0.0, 3e4);
    if (chance(0.5)) {
      g.opex_jpy_per_gpu_month = uniform(0.0, 6e4);
      g.opex_jpy_per_mw_month = uniform(0.0, 5e6);
    }
    g.outages = chance(0.5) ? slot(reg_.outages, "poisson",
                                   {{"events_per_year", uniform(1.0, 30.0)},
                                    {"mean_days", uniform(0.2, 4.0)},
                                    {"fraction", uniform(0.1, 1.0)}})
                            : slot(reg_.outages, "none");
    int first_free = 0;
    for (int i = integer(0, 2); i > 0 && first_free < horizon_days_ - 2; --i) {
      capsim::ScheduledOutage o;
      o.start = day(integer(first_free, horizon_days_ - 2));
      o.days = uniform(0.1, 4.0);
      o.fraction = uniform(0.1, 1.0);
      first_free = static_cast<int>((o.start - start_).count() + std::ceil(o.days));
      g.scheduled_outages.push_back(o);
    }
    return g;
  }

  void add_spill(RegionSpec& g, int R) {
    std::vector<int> others;
    for (int r = 0; r < R; ++r)
      if ("region" + std::to_string(r) != g.name && chance(0.6)) others.push_back(r);
    std::shuffle(others.begin(), others.end(), gen_);
    for (int r : others) g.spill_to.push_back({r, uniform(0.1, 1.0)});
  }

  void make_finance(ScenarioSpec& spec) {
    spec.finance.budget_usd = chance(0.3) ? kInf : std::exp(uniform(std::log(1e5), std::log(5e7)));
    spec.finance.capex_timing =
        chance(0.5) ? capsim::CapexTiming::at_order : capsim::CapexTiming::at_delivery;
    spec.finance.usdjpy = uniform(140.0, 160.0);
    spec.finance.fx_model =
        chance(0.5) ? slot(reg_.fx, "gbm",
                           {{"volatility", uniform(0.0, 0.3)}, {"drift", uniform(-0.2, 0.2)}})
                    : slot(reg_.fx, "constant");
    spec.finance.discount_rate = uniform(0.0, 0.12);
  }

  template <std::size_t N>
  std::array<double, N> profile() {
    std::array<double, N> p{};
    double sum = 0.0;
    for (auto& x : p) sum += (x = uniform(0.5, 1.5));
    for (auto& x : p) x *= static_cast<double>(N) / sum;
    return p;
  }

  ClassSpec make_class(const ScenarioSpec& spec, int c, int C) {
    ClassSpec k;
    k.name = "class" + std::to_string(c);
    k.kind = chance(0.6) ? WorkloadKind::inference : WorkloadKind::training;
    double capacity = 0.0;
    for (const auto& g : spec.regions)
      for (std::size_t i = 0; i < spec.skus.size(); ++i)
        capacity += g.initial_fleet[i] * spec.skus[i].perf_h100e;
    k.base_demand_h100e = std::max(capacity, 100.0) * uniform(0.2, 1.3) / C;
    double sum = 0.0;
    for (std::size_t r = 0; r < spec.regions.size(); ++r) {
      k.region_share.push_back(chance(0.15) ? 0.0 : uniform(0.05, 1.0));
      sum += k.region_share.back();
    }
    if (sum == 0.0) k.region_share[0] = sum = 1.0;
    for (auto& s : k.region_share) s /= sum;

    switch (integer(0, 3)) {
      case 0:
        k.growth = slot(reg_.growth, "constant");
        break;
      case 1:
        k.growth = slot(reg_.growth, "exponential",
                        {{"rate", uniform(-0.5, 2.0)}, {"rate_sd", uniform(0.0, 0.5)}});
        break;
      case 2:
        k.growth = slot(reg_.growth, "logistic",
                        {{"cap", uniform(1.2, 5.0)},
                         {"midpoint_months", uniform(0.0, 24.0)},
                         {"rate", uniform(0.5, 6.0)},
                         {"rate_sd", uniform(0.0, 0.5)}});
        break;
      default: {
        // Multipliers below 1 only without per-path uncertainty: 1 + (m - 1) f
        // turns negative for m < 1 and a large enough factor f.
        const double sd = chance(0.5) ? 0.0 : uniform(0.0, 0.5);
        const double low = sd > 0.0 ? 1.0 : 0.5;
        const double m1 = uniform(0.5, 3.0), m2 = m1 + uniform(0.5, 6.0);
        const capsim::ParamTable points = {
            {0.0, 1.0}, {m1, uniform(low, 3.0)}, {m2, uniform(low, 3.0)}};
        k.growth = slot(reg_.growth, "piecewise_linear", {{"points", points}, {"growth_sd", sd}});
      }
    }
    k.noise = chance(0.6) ? slot(reg_.noise, "log_ar1",
                                 {{"sigma", uniform(0.0, 0.5)}, {"phi", uniform(0.3, 0.99)}})
                          : slot(reg_.noise, "none");
    k.shocks = chance(0.4) ? slot(reg_.shocks, "poisson",
                                  {{"rate_per_year", uniform(0.0, 24.0)},
                                   {"mean_jump", uniform(0.0, 0.6)},
                                   {"decay_months", chance(0.3) ? 0.0 : uniform(0.1, 6.0)}})
                           : slot(reg_.shocks, "none");
    k.hourly = profile<24>();
    k.weekly = profile<7>();
    k.residency = chance(0.3) ? 1.0 : uniform(0.0, 1.0);
    if (k.kind == WorkloadKind::inference) {
      k.peak_factor = uniform(1.0, 2.0);
    } else {
      k.max_wait_hours = 24.0 * integer(1, 5) + (chance(0.3) ? uniform(0.0, 12.0) : 0.0);
    }
    k.priority = integer(0, 2);
    k.revenue_usd_per_h100e_gpuh = uniform(0.0, 6.0);
    k.penalty_usd_per_h100e_gpuh = uniform(0.0, 10.0);
    if (k.kind == WorkloadKind::inference && chance(0.4)) make_requests(k);
    return k;
  }

  // Turns an inference class into a request-level one, with a load from a
  // fraction of a server (exact staffing) to the class's H100e (often
  // beyond the switch to square-root staffing).
  void make_requests(ClassSpec& k) {
    capsim::RequestSpec q;
    q.input_tokens = chance(0.2) ? 0.0 : uniform(10.0, 4000.0);
    q.output_tokens = uniform(1.0, 400.0);
    q.input_tokens_per_s_per_h100e = uniform(2000.0, 20000.0);
    q.output_tokens_per_s_per_h100e = uniform(200.0, 3000.0);
    q.peak_factor = chance(0.3) ? 1.0 : uniform(1.0, 2.0);
    const double load = chance(0.4) ? uniform(0.2, 150.0) : k.base_demand_h100e;
    q.rate_per_s = load / (q.service_s() * q.peak_factor);
    if (chance(0.5)) {
      q.max_wait_probability = uniform(0.01, 0.5);
    } else {
      q.max_wait_s = uniform(0.05, 3.0) * q.service_s();
      q.max_wait_probability = uniform(0.001, 0.1);
    }
    q.queue = chance(0.6)
                  ? slot(reg_.queue, "erlang_c")
                  : slot(reg_.queue, "allen_cunneen",
                         {{"arrival_cv", uniform(0.5, 4.0)}, {"service_cv", uniform(0.3, 2.0)}});
    k.requests = q;
    k.base_demand_h100e = 0.0;
    k.peak_factor = 1.0;
  }

  void make_procurement(ScenarioSpec& spec) {
    const int R = static_cast<int>(spec.regions.size());
    const int K = static_cast<int>(spec.skus.size());
    for (int i = integer(0, 4); i > 0; --i) {
      capsim::OrderSpec o;
      o.region = integer(0, R - 1);
      o.sku = integer(0, K - 1);
      const int from = std::max(
          0, static_cast<int>(
                 (spec.skus[static_cast<std::size_t>(o.sku)].available_from - start_).count()));
      o.date = day(integer(from, horizon_days_ - 1));
      o.count = integer(1, 150);
      spec.procurement.orders.push_back(o);
    }
    auto& supply = spec.procurement.supply;
    supply.late_probability = chance(0.3) ? 0.0 : uniform(0.05, 0.6);
    supply.mean_delay_days = uniform(1.0, 30.0);
    supply.max_delay_days = uniform(3.0, 60.0);
    for (int k = 0; k < K; ++k)
      supply.max_per_quarter.push_back(chance(0.5) ? kInf : integer(0, 200));
    if (chance(0.45)) {
      std::vector<std::string> skus;
      for (const auto& s : spec.skus)
        if (chance(0.7)) skus.push_back(s.name);
      if (skus.empty()) skus.push_back(spec.skus.front().name);
      std::shuffle(skus.begin(), skus.end(), gen_);
      spec.procurement.policy =
          slot(reg_.procurement, "headroom",
               {{"review_days", chance(0.5) ? integer(3, 45) : uniform(3.0, 45.0)},
                {"target_utilization", uniform(0.5, 0.95)},
                {"planner_growth_per_year", uniform(0.0, 1.0)},
                {"budget_reserve", chance(0.5) ? 0.0 : uniform(0.0, 0.3)},
                {"order_unit", chance(0.6) ? 1.0 : static_cast<double>(integer(2, 16))},
                {"skus", skus}});
    } else {
      spec.procurement.policy = slot(reg_.procurement, "none");
    }
  }

  const capsim::models::ModelRegistries& reg_;
  std::mt19937_64 gen_;
  Date start_{};
  int horizon_days_ = 0;
};

std::vector<ScenarioSpec> random_scenarios(const capsim::models::ModelRegistries& registries) {
  ScenarioGenerator generator(registries, kGeneratorSeed);
  std::vector<ScenarioSpec> out;
  for (int i = 0; i < kScenarios; ++i) out.push_back(generator.next(i));
  return out;
}

std::string describe(const ScenarioSpec& spec) {
  std::ostringstream out;
  int request_classes = 0;
  for (const auto& c : spec.classes) request_classes += c.requests ? 1 : 0;
  out << spec.name << ": h=" << spec.time.step_hours << " months=" << spec.time.horizon_months
      << " R=" << spec.regions.size() << " K=" << spec.skus.size() << " C=" << spec.classes.size()
      << " request-level=" << request_classes << " policy=" << spec.procurement.policy.model
      << (spec.time.deterministic ? " deterministic" : "");
  return out.str();
}

// "series[i]" for a column of the step values.
std::string series_column(const Layout& layout, Eigen::Index column) {
  for (const auto& s : layout.series)
    if (column >= s.offset && column < s.offset + s.width)
      return s.name + "[" + std::to_string(column - s.offset) + "]";
  return "column " + std::to_string(column);
}

std::string key_figure_column(const Layout& layout, Eigen::Index column) {
  for (const auto& k : layout.key_figures)
    if (column >= k.offset && column < k.offset + k.width)
      return k.name + "[" + std::to_string(column - k.offset) + "]";
  return "column " + std::to_string(column);
}

bool nearly_equal(double a, double b) {
  if (a == b || (std::isnan(a) && std::isnan(b))) return true;
  return std::abs(a - b) <= 1e-9 * std::max(std::abs(a), std::abs(b)) + 1e-9;
}

bool identical(double a, double b) {
  return a == b || (std::isnan(a) && std::isnan(b));
}

// Compares two sets of per-path values; returns the number of differing
// values and describes the first few in `report`.
template <class Equal>
std::int64_t compare(const Layout& layout, const std::vector<Eigen::ArrayXXd>& a,
                     const Eigen::ArrayXXd& a_key, const std::vector<Eigen::ArrayXXd>& b,
                     const Eigen::ArrayXXd& b_key, Equal equal, std::string& report,
                     std::int64_t& compared) {
  std::int64_t bad = 0;
  std::ostringstream out;
  out.precision(17);
  if (a.size() != b.size()) {
    report = "different numbers of steps";
    return 1;
  }
  for (std::size_t t = 0; t < a.size(); ++t) {
    if (a[t].rows() != b[t].rows() || a[t].cols() != b[t].cols()) {
      report = "different shapes at step " + std::to_string(t);
      return 1;
    }
    for (Eigen::Index j = 0; j < a[t].cols(); ++j)
      for (Eigen::Index p = 0; p < a[t].rows(); ++p) {
        ++compared;
        if (equal(a[t](p, j), b[t](p, j))) continue;
        if (bad++ < 8)
          out << "step " << t << " path " << p << " " << series_column(layout, j) << ": "
              << a[t](p, j) << " vs " << b[t](p, j) << "\n";
      }
  }
  if (a_key.rows() != b_key.rows() || a_key.cols() != b_key.cols()) {
    report = "different key figure shapes";
    return bad + 1;
  }
  for (Eigen::Index j = 0; j < a_key.cols(); ++j)
    for (Eigen::Index p = 0; p < a_key.rows(); ++p) {
      ++compared;
      if (equal(a_key(p, j), b_key(p, j))) continue;
      if (bad++ < 16)
        out << "key figure path " << p << " " << key_figure_column(layout, j) << ": " << a_key(p, j)
            << " vs " << b_key(p, j) << "\n";
    }
  report = out.str();
  return bad;
}

// Checks docs/model.md's invariants on every step and path; returns the
// number of violations and describes the first few.
std::int64_t check_invariants(const ScenarioSpec& spec, const Layout& layout,
                              const std::vector<Eigen::ArrayXXd>& steps, std::string& report) {
  const auto R = static_cast<Eigen::Index>(spec.regions.size());
  const auto K = static_cast<Eigen::Index>(spec.skus.size());
  const auto C = static_cast<Eigen::Index>(spec.classes.size());
  auto off = [&](const char* name) { return layout.find_series(name).offset; };
  const Eigen::Index demand = off("demand_h100e_gpuh"), served = off("served_h100e_gpuh"),
                     spilled = off("spilled_h100e_gpuh"), unserved = off("unserved_h100e_gpuh"),
                     backlog = off("backlog_h100e_gpuh"), capacity = off("capacity_h100e_gpuh"),
                     busy = off("busy_h100e_gpuh"), utilization = off("utilization"),
                     outage = off("outage_fraction"), installed = off("gpus_installed"),
                     failed = off("gpus_failed"), stranded = off("gpus_stranded"),
                     on_order = off("gpus_on_order"), spend = off("spend_cum_usd"),
                     requests = off("requests"), lost = off("lost_requests");
  bool per_class_perf = false, spill = false;
  for (const auto& s : spec.skus) per_class_perf = per_class_perf || !s.perf_by_class.empty();
  for (const auto& g : spec.regions) spill = spill || !g.spill_to.empty();
  std::vector<double> cost;  // consumption per unit of served work, without per-class perf
  for (const auto& c : spec.classes)
    cost.push_back(c.kind == WorkloadKind::inference ? c.peak_factor : 1.0);

  std::int64_t bad = 0;
  std::ostringstream out;
  auto fail = [&](std::size_t t, Eigen::Index p, const std::string& what, double x, double y) {
    if (bad++ < 8)
      out << "step " << t << " path " << p << ": " << what << " (" << x << " vs " << y << ")\n";
  };
  const double eps = 1e-9;
  for (std::size_t t = 0; t < steps.size(); ++t) {
    const Eigen::ArrayXXd& v = steps[t];
    for (Eigen::Index p = 0; p < v.rows(); ++p) {
      double total_busy = 0.0, total_use = 0.0;
      std::vector<double> use(static_cast<std::size_t>(R), 0.0);
      for (Eigen::Index c = 0; c < C; ++c)
        for (Eigen::Index r = 0; r < R; ++r) {
          const Eigen::Index i = c * R + r;
          const double d = v(p, demand + i), s = v(p, served + i), u = v(p, unserved + i);
          const double b_end = v(p, backlog + i),
                       b_start = t > 0 ? steps[t - 1](p, backlog + i) : 0;
          const double scale = std::abs(d) + std::abs(s) + std::abs(u) + b_end + b_start;
          if (!(std::abs(s + u + b_end - b_start - d) <= eps * scale + eps))
            fail(
                t, p,
                "served + unserved + backlog change != demand " + series_column(layout, demand + i),
                s + u + b_end - b_start, d);
          for (Eigen::Index col : {demand, served, spilled, unserved, backlog})
            if (!(v(p, col + i) >= -eps))
              fail(t, p, "negative " + series_column(layout, col + i), v(p, col + i), 0);
          if (!(v(p, spilled + i) <= s * (1 + eps) + eps))
            fail(t, p, "spilled > served " + series_column(layout, spilled + i), v(p, spilled + i),
                 s);
          // Lost requests: the unserved share of the demand, of the requests.
          const double q = v(p, requests + i), l = v(p, lost + i);
          const double share = d > 0 ? u / d : 0.0;
          if (!(q >= 0 && std::abs(l - q * share) <= eps * q + eps))
            fail(t, p,
                 "lost requests != requests x unserved / demand " + series_column(layout, lost + i),
                 l, q * share);
          if (!spec.classes[static_cast<std::size_t>(c)].requests && q != 0.0)
            fail(t, p, "requests of a class given in H100e " + series_column(layout, requests + i),
                 q, 0);
          const double x = s * cost[static_cast<std::size_t>(c)];
          total_use += x;
          use[static_cast<std::size_t>(r)] += x;
        }
      for (Eigen::Index r = 0; r < R; ++r) {
        const double cap = v(p, capacity + r), b = v(p, busy + r), u = v(p, utilization + r);
        total_busy += b;
        if (!(cap >= -eps)) fail(t, p, "negative capacity", cap, 0);
        if (!(b >= -eps * cap - eps && b <= cap * (1 + eps) + eps))
          fail(t, p, "busy outside [0, capacity] " + series_column(layout, busy + r), b, cap);
        if (!(u >= -eps && u <= 1 + eps)) fail(t, p, "utilization outside [0, 1]", u, 1);
        const double o = v(p, outage + r);
        if (!(o >= 0 && o <= 1)) fail(t, p, "outage fraction outside [0, 1]", o, 1);
        // Without spill or per-class perf, all work runs at home at cost
        // peak_factor (or 1).
        if (!spill && !per_class_perf) {
          const double w = use[static_cast<std::size_t>(r)];
          if (!(std::abs(w - b) <= eps * std::max(w, b) + eps))
            fail(t, p, "busy != sum of served * cost " + series_column(layout, busy + r), b, w);
          if (!(w <= cap * (1 + eps) + eps)) fail(t, p, "served * cost > capacity", w, cap);
        }
      }
      if (!per_class_perf && !(std::abs(total_use - total_busy) <= eps * total_use + eps))
        fail(t, p, "total busy != total served * cost", total_busy, total_use);
      for (Eigen::Index k = 0; k < K; ++k)
        for (Eigen::Index r = 0; r < R; ++r) {
          const Eigen::Index i = k * R + r;
          const double n = v(p, installed + i), f = v(p, failed + i), s = v(p, stranded + i);
          for (Eigen::Index col : {installed, failed, stranded, on_order})
            if (!(v(p, col + i) >= -eps))
              fail(t, p, "negative " + series_column(layout, col + i), v(p, col + i), 0);
          if (!(f <= n + eps))
            fail(t, p, "failed > installed " + series_column(layout, failed + i), f, n);
          if (!(s <= n - f + eps))
            fail(t, p, "stranded > working " + series_column(layout, stranded + i), s, n - f);
        }
      if (t > 0 && !(v(p, spend) >= steps[t - 1](p, spend)))
        fail(t, p, "spend_cum decreased", v(p, spend), steps[t - 1](p, spend));
    }
  }
  report = out.str();
  return bad;
}

}  // namespace

TEST_CASE("engine::run: vectorized kernel equals the scalar reference", "[engine][property]") {
  const auto registries = capsim::models::builtin_registries();
  std::int64_t compared = 0;
  // Request-level (class, region, step, path) values sized exactly and by
  // square-root staffing: both rules must be exercised.
  std::int64_t exact_sized = 0, square_root_sized = 0;
  for (const ScenarioSpec& spec : random_scenarios(registries)) {
    INFO(describe(spec));
    const EngineRun engine = run_engine(spec, registries, kPaths, 1, kChunk);
    const auto reference =
        capsim::reference::reference_run(spec, registries, kPaths, spec.time.seed);
    std::string report;
    const std::int64_t bad =
        compare(engine.result.layout, engine.steps, engine.result.key_figures, reference.steps,
                reference.key_figures, nearly_equal, report, compared);
    INFO("engine vs reference:\n" << report);
    CHECK(bad == 0);
    const auto R = static_cast<Eigen::Index>(spec.regions.size());
    const Eigen::Index demand = engine.result.layout.find_series("demand_h100e_gpuh").offset;
    for (std::size_t c = 0; c < spec.classes.size(); ++c) {
      if (!spec.classes[c].requests) continue;
      for (const auto& values : engine.steps)
        for (Eigen::Index r = 0; r < R; ++r) {
          const auto servers =
              values.col(demand + static_cast<Eigen::Index>(c) * R + r) / spec.time.step_hours;
          exact_sized +=
              ((servers > 0) && (servers <= capsim::models::Staffing::kExactServers)).count();
          square_root_sized += (servers > capsim::models::Staffing::kExactServers).count();
        }
    }
  }
  CHECK(compared > 0);
  INFO("request-level values sized exactly: " << exact_sized << ", by square-root staffing: "
                                              << square_root_sized);
  CHECK(exact_sized > 1000);
  CHECK(square_root_sized > 1000);
}

TEST_CASE("engine::run: invariants hold on every step and path", "[engine][property]") {
  const auto registries = capsim::models::builtin_registries();
  for (const ScenarioSpec& spec : random_scenarios(registries)) {
    INFO(describe(spec));
    const EngineRun engine = run_engine(spec, registries, kPaths, 1, kChunk);
    std::string report;
    const std::int64_t bad = check_invariants(spec, engine.result.layout, engine.steps, report);
    INFO(report);
    CHECK(bad == 0);
  }
}

TEST_CASE("engine::run: results do not depend on threads, chunking or the number of paths",
          "[engine][property]") {
  const auto registries = capsim::models::builtin_registries();
  const auto scenarios = random_scenarios(registries);
  // Random scenarios of different shapes: daily with and without a policy,
  // weekly (hourly ones are long; path independence does not depend on the
  // step length).
  std::vector<const ScenarioSpec*> picked;
  auto pick = [&](double step_hours, int policy) {
    for (const auto& s : scenarios)
      if (!s.time.deterministic && s.time.step_hours == step_hours &&
          (policy < 0 || (s.procurement.policy.model != "none") == (policy > 0))) {
        picked.push_back(&s);
        return;
      }
  };
  pick(24.0, 1);
  pick(24.0, 0);
  pick(168.0, -1);
  REQUIRE(picked.size() == 3);
  for (const ScenarioSpec* spec : picked) {
    INFO(describe(*spec));
    std::int64_t compared = 0;
    std::string report;
    const EngineRun one = run_engine(*spec, registries, 100, 1, 256);
    const EngineRun two = run_engine(*spec, registries, 100, 2, 7);
    const std::int64_t chunking =
        compare(one.result.layout, one.steps, one.result.key_figures, two.steps,
                two.result.key_figures, identical, report, compared);
    INFO("1 thread, chunks of 256 vs 2 threads, chunks of 7:\n" << report);
    CHECK(chunking == 0);
    const EngineRun more = run_engine(*spec, registries, 400, 1, 64, 100);
    const Eigen::ArrayXXd first_keys = more.result.key_figures.topRows(100);
    const std::int64_t prefix = compare(one.result.layout, one.steps, one.result.key_figures,
                                        more.steps, first_keys, identical, report, compared);
    INFO("100 paths vs the first 100 of 400:\n" << report);
    CHECK(prefix == 0);
  }
}

namespace {

// A policy that hands every review to the real one and keeps what it saw
// and decided, for checks on the review itself. Runs must be single-threaded.
struct ReviewLog {
  struct Entry {
    std::int64_t path0 = 0;
    int t = 0;
    Eigen::ArrayXd budget_left;
    Eigen::ArrayXXd commit, order;
  };
  std::vector<Entry> entries;
};

class LoggingPolicy final : public capsim::models::ProcurementPolicy {
 public:
  LoggingPolicy(std::unique_ptr<capsim::models::ProcurementPolicy> inner, ReviewLog& log)
      : inner_(std::move(inner)), log_(log) {}
  bool is_review(int t, double step_hours) const override {
    return inner_->is_review(t, step_hours);
  }
  void review(const capsim::models::ChunkContext& ctx, const capsim::models::PolicyView& view,
              Eigen::Ref<Eigen::ArrayXXd> order,
              Eigen::Ref<Eigen::ArrayXXd> limited) const override {
    inner_->review(ctx, view, order, limited);
    log_.entries.push_back({ctx.path0, view.t, view.budget_left_usd, view.gpu_commit_usd, order});
  }

 private:
  std::unique_ptr<capsim::models::ProcurementPolicy> inner_;
  ReviewLog& log_;
};

// The built-in registries with "headroom" logging into `log`.
capsim::models::ModelRegistries logging_registries(ReviewLog& log) {
  const auto builtin = capsim::models::builtin_registries();
  capsim::models::ModelRegistries out = builtin;
  out.procurement = capsim::models::Registry<capsim::models::ProcurementPolicy>("policy");
  for (auto entry : builtin.procurement.entries()) {
    if (entry.name == "headroom") {
      const auto make = entry.make;
      entry.make = [make, &log](const ModelConfig& config) {
        return std::make_unique<LoggingPolicy>(make(config), log);
      };
    }
    out.procurement.add(entry);
  }
  return out;
}

// `spec` made power-feasible for its explicit orders: each region's power
// schedule made non-decreasing and large enough for its initial fleet, and
// every explicit order that would exceed it on arrival dropped.
ScenarioSpec power_feasible(ScenarioSpec spec) {
  for (auto& region : spec.regions) {
    double fleet_mw = 0.0;
    for (std::size_t k = 0; k < spec.skus.size(); ++k)
      fleet_mw += region.initial_fleet[k] * spec.skus[k].power_kw / 1000.0;
    double floor_mw = 1.001 * fleet_mw;  // a margin for the per-SKU rounding of step 4
    for (auto& step : region.power_mw) floor_mw = step.mw = std::max(step.mw, floor_mw);
  }
  const auto warnings = capsim::power_warnings(spec);
  std::vector<capsim::OrderSpec> kept;
  for (std::size_t j = 0; j < spec.procurement.orders.size(); ++j) {
    const std::string path = "procurement.orders." + std::to_string(j);
    if (std::none_of(warnings.begin(), warnings.end(),
                     [&](const capsim::Diagnostic& d) { return d.key_path == path; }))
      kept.push_back(spec.procurement.orders[j]);
  }
  spec.procurement.orders = kept;
  return spec;
}

}  // namespace

TEST_CASE("engine::run: with a non-decreasing power schedule no policy GPU is ever stranded",
          "[engine][property][policy]") {
  // Every random scenario with a policy, made power-feasible for its initial
  // fleet and explicit orders (so that GPUs stranded could only be the
  // policy's): no GPU is stranded on any step and path, explicit orders dated
  // after a review included. The power limit must have bound on some reviews.
  const auto registries = capsim::models::builtin_registries();
  int runs = 0;
  double power_limited = 0.0, bought = 0.0;
  for (const ScenarioSpec& random : random_scenarios(registries)) {
    if (random.procurement.policy.model == "none") continue;
    ScenarioSpec spec = power_feasible(random);
    // Unlimited money, so power is what stops the policy.
    spec.finance.budget_usd = kInf;
    REQUIRE(capsim::power_warnings(spec).empty());
    INFO(describe(spec));
    const EngineRun engine = run_engine(spec, registries, kPaths, 1, kChunk);
    const auto& layout = engine.result.layout;
    const auto& stranded = layout.find_series("gpus_stranded");
    double most = 0.0;
    for (const auto& step : engine.steps)
      most = std::max(most, step.middleCols(stranded.offset, stranded.width).maxCoeff());
    CHECK(most == 0.0);
    const auto kf = [&](const char* name) {
      return engine.result.key_figures.col(layout.find_key_figure(name).offset);
    };
    CHECK(kf("peak_power_over_cap_mw").maxCoeff() <= 1e-9);
    power_limited += kf("reviews_limited_by_power").sum();
    bought += kf("gpus_bought").sum();
    ++runs;
  }
  CHECK(runs >= 8);
  CHECK(power_limited > 0.0);
  CHECK(bought > 0.0);
}

TEST_CASE(
    "engine::run: after every review with orders, committed spend is within the budget "
    "less the reserve",
    "[engine][property][policy]") {
  // committed after the review = budget - budget_left + sum of orders x what
  // each GPU commits, and must not exceed budget x (1 - budget_reserve). The
  // engine's commitments equal the scalar reference's, review by review.
  // Each scenario with a policy runs with its own budget (when finite) and
  // with a tight one: 60% of the most it spends on any path without a
  // budget, so that some reviews run up against it.
  const auto builtin = capsim::models::builtin_registries();
  int reviews_with_orders = 0, budget_bound = 0;
  std::vector<ScenarioSpec> cases;
  for (const ScenarioSpec& random : random_scenarios(builtin)) {
    if (random.procurement.policy.model == "none") continue;
    if (std::isfinite(random.finance.budget_usd)) cases.push_back(random);
    ScenarioSpec tight = random;
    tight.finance.budget_usd = kInf;
    const EngineRun unlimited = run_engine(tight, builtin, kPaths, 1, kPaths, 0);
    const auto& total = unlimited.result.layout.find_key_figure("total_spend_usd");
    tight.finance.budget_usd = 0.6 * unlimited.result.key_figures.col(total.offset).maxCoeff();
    if (tight.finance.budget_usd > 0.0) cases.push_back(tight);
  }
  for (const ScenarioSpec& spec : cases) {
    INFO(describe(spec) << " budget " << spec.finance.budget_usd);
    const double limit =
        spec.finance.budget_usd * (1.0 - spec.procurement.policy.number("budget_reserve"));
    ReviewLog engine_log, reference_log;
    const auto engine_registries = logging_registries(engine_log);
    const auto reference_registries = logging_registries(reference_log);
    run_engine(spec, engine_registries, kPaths, 1, kPaths);  // one chunk: one entry per review
    capsim::reference::reference_run(spec, reference_registries, kPaths, spec.time.seed);
    REQUIRE(reference_log.entries.size() == engine_log.entries.size() * kPaths);

    for (std::size_t e = 0; e < engine_log.entries.size(); ++e) {
      const auto& review = engine_log.entries[e];
      for (Eigen::Index p = 0; p < kPaths; ++p) {
        // The reference runs path after path, each review in step order.
        const auto& ref =
            reference_log.entries[static_cast<std::size_t>(p) * engine_log.entries.size() + e];
        REQUIRE(ref.t == review.t);
        CHECK(nearly_equal(ref.budget_left[0], review.budget_left[p]));
        for (Eigen::Index j = 0; j < review.commit.cols(); ++j)
          CHECK(nearly_equal(ref.commit(0, j), review.commit(p, j)));
        const double spent = (review.order.row(p) * review.commit.row(p)).sum();
        if (!(spent > 0.0)) continue;
        ++reviews_with_orders;
        const double committed = spec.finance.budget_usd - review.budget_left[p] + spent;
        CHECK(committed <= limit * (1.0 + 1e-12) + 1e-6);
        if (committed > 0.95 * limit) ++budget_bound;
      }
    }
  }
  CHECK(reviews_with_orders > 50);
  CHECK(budget_bound > 0);  // some reviews ran up against the budget
}

namespace {

// Random scenarios at the edges of what the loader accepts, as YAML through
// capsim::io::load_scenario_text: every number is its key's smallest or
// largest valid value (scenarios/README.md) or one in between, every model
// parameter likewise (the ranges are read from the registries), up to 20
// years of weekly steps. A number printed with 17 digits reads back the same.
class ExtremeScenarioWriter {
 public:
  ExtremeScenarioWriter(const capsim::models::ModelRegistries& registries, std::uint64_t seed)
      : reg_(registries), gen_(seed) {}

  std::string next(int index) {
    std::ostringstream y;
    y.precision(17);
    const int K = integer(1, 3), R = integer(1, 3), C = integer(1, 3);
    skus_ = K;
    const double kind = uniform(0, 1);
    const char* step = kind < 0.5 ? "1w" : kind < 0.9 ? "1d" : "1h";
    const int months = kind < 0.5 ? integer(1, 240) : kind < 0.9 ? integer(1, 36) : 1;
    y << "name: extreme-" << index << "\ntime: {start: 2024-01-01, horizon_months: " << months
      << ", step: " << step << ", seed: " << gen_()
      << ", deterministic: " << (chance(0.2) ? "true" : "false") << "}\n";
    y << "skus:\n";
    for (int k = 0; k < K; ++k)
      y << "  g" << k << ": {perf_h100e: " << pick(0.001, 100) << ", power_kw: " << pick(0.01, 100)
        << ", idle_fraction: " << pick(0, 1) << ", capex_usd: " << pick(0, 1e8)
        << ", lead_time_days: " << pick(0, 3650) << ", afr: " << pick(0, 10)
        << ", repair_days: " << pick(1e-6, 3650) << ", life_years: " << pick(1e-6, 50) << "}\n";
    y << "regions:\n";
    for (int r = 0; r < R; ++r) {
      y << "  r" << r << ":\n    power_mw: [{from: 2024-01-01, mw: " << pick(1e-6, 1e6)
        << "}, {from: 2025-01-01, mw: " << pick(0, 1e6) << "}]\n";
      y << "    pue: " << pick(1, 3) << "\n";
      if (chance(0.5))
        y << "    price_usd_per_kwh: " << pick(0, 1e3) << "\n";
      else
        y << "    price_jpy_per_kwh: " << pick(0, 1e5) << "\n";
      y << "    electricity_price: " << model(reg_.price) << "\n";
      y << "    carbon_g_per_kwh: " << pick(0, 2000) << "\n";
      y << "    opex_usd_per_gpu_month: " << pick(0, 1e6) << "\n";
      y << "    opex_usd_per_mw_month: " << pick(0, 1e9) << "\n";
      y << "    initial_fleet: {";
      for (int k = 0; k < K; ++k) y << (k ? ", " : "") << "g" << k << ": " << whole(0, 1e9);
      y << "}\n    outages: " << model(reg_.outages) << "\n";
      y << "    scheduled_outages: [{start: 2024-01-01, days: " << pick(1e-6, 7300)
        << ", fraction: " << pick(0, 1) << "}]\n";
      if (R > 1) y << "    spill_to: {r" << (r + 1) % R << ": " << pick(1e-6, 1) << "}\n";
    }
    y << "finance: {" << (chance(0.5) ? "budget_usd: " + text(pick(1e-6, 1e15)) + ", " : "")
      << "capex_timing: " << (chance(0.5) ? "at_order" : "at_delivery")
      << ", usdjpy: " << pick(1, 10000) << ", discount_rate: " << pick(-0.5, 1)
      << ", fx: " << model(reg_.fx) << "}\n";
    y << "classes:\n";
    for (int c = 0; c < C; ++c) {
      const bool inference = chance(0.5);
      y << "  c" << c << ":\n    kind: " << (inference ? "inference" : "training")
        << "\n    base_demand_h100e: " << pick(0, 1e9) << "\n    region_share: {r0: 1}\n";
      y << "    growth: " << model(reg_.growth) << "\n    noise: " << model(reg_.noise)
        << "\n    shocks: " << model(reg_.shocks) << "\n";
      if (inference)
        y << "    peak_factor: " << pick(1, 10) << "\n";
      else
        y << "    max_wait_days: " << pick(1e-6, 3650) << "\n";
      y << "    residency: " << pick(0, 1) << "\n    revenue_usd_per_h100e_gpuh: " << pick(0, 1e5)
        << "\n    penalty_usd_per_h100e_gpuh: " << pick(0, 1e5) << "\n";
    }
    y << "procurement:\n  orders:\n";
    for (int i = integer(1, 3); i > 0; --i)
      y << "    - {date: 2024-01-01, region: r" << integer(0, R - 1) << ", sku: g"
        << integer(0, K - 1) << ", count: " << whole(0, 1e9) << "}\n";
    y << "  policy: " << model(reg_.procurement) << "\n";
    y << "  supply: {late_probability: " << pick(0, 1) << ", mean_delay_days: " << pick(0, 3650)
      << ", max_delay_days: " << pick(0, 3650) << ", max_per_quarter: {g0: " << whole(0, 1e9)
      << "}}\n";
    y << "failures: " << model(reg_.failures) << "\n";
    return y.str();
  }

 private:
  double uniform(double a, double b) { return std::uniform_real_distribution<double>(a, b)(gen_); }
  int integer(int a, int b) { return std::uniform_int_distribution<int>(a, b)(gen_); }
  bool chance(double p) { return uniform(0.0, 1.0) < p; }
  static std::string text(double x) {
    std::ostringstream out;
    out.precision(17);
    out << x;
    return out.str();
  }
  // An end of [lo, hi] (each 40%) or a value between, log-uniform where the
  // range spans orders of magnitude.
  double pick(double lo, double hi) {
    const double u = uniform(0.0, 1.0);
    if (u < 0.4) return lo;
    if (u < 0.8) return hi;
    if (lo > 0.0 && hi / lo > 100.0) return std::exp(uniform(std::log(lo), std::log(hi)));
    return uniform(lo, hi);
  }
  double whole(double lo, double hi) { return std::floor(pick(lo, hi)); }

  // A model of the slot with every parameter picked in its range.
  template <class Interface>
  std::string model(const capsim::models::Registry<Interface>& registry) {
    const auto& entries = registry.entries();
    const auto& entry =
        entries[static_cast<std::size_t>(integer(0, static_cast<int>(entries.size()) - 1))];
    std::string out = "{model: " + entry.name;
    for (const auto& p : entry.params) {
      out += ", " + p.name + ": ";
      switch (p.type) {
        case capsim::models::ParamType::number:
          out += text(p.whole ? whole(p.min, p.max) : pick(p.min, p.max));
          break;
        case capsim::models::ParamType::names:  // the policy's SKUs
          out += "[g" + std::to_string(integer(0, std::max(0, skus_ - 1))) + "]";
          break;
        case capsim::models::ParamType::table:  // growth points [month, multiplier]
          out += "[[" + text(pick(1e-6, 240)) + ", " + text(pick(p.min, p.max)) + "]]";
          break;
        case capsim::models::ParamType::text:
          out += p.default_text;
          break;
      }
    }
    return out + "}";
  }

  const capsim::models::ModelRegistries& reg_;
  std::mt19937_64 gen_;
  int skus_ = 1;
};

}  // namespace

TEST_CASE("engine::run: key figures stay finite at the extremes of valid scenarios",
          "[engine][property]") {
  const auto registries = capsim::models::builtin_registries();
  ExtremeScenarioWriter writer(registries, kGeneratorSeed + 18);
  constexpr int kExtremeScenarios = 40;
  int runs = 0;
  for (int i = 0; i < kExtremeScenarios; ++i) {
    const std::string yaml = writer.next(i);
    INFO("scenario:\n" << yaml);
    ScenarioSpec spec;
    try {
      spec = capsim::io::load_scenario_text(yaml, "extreme.yaml", ".", registries);
    } catch (const capsim::InputError& e) {
      FAIL("the generator wrote a scenario the loader refuses:\n" << e.what());
    }
    capsim::RunOptions options;
    options.paths = 6;
    options.threads = 1;
    capsim::RunResult result;
    REQUIRE_NOTHROW(result = capsim::run(spec, registries, options));
    ++runs;
    for (const auto& info : result.layout.key_figures)
      for (Eigen::Index c = 0; c < info.width; ++c) {
        INFO(info.name << "[" << c << "]");
        CHECK(result.key_figures.col(info.offset + c).allFinite());
        CHECK(result.key_figure_stats.col(info.offset + c).allFinite());
      }
    CHECK(std::isfinite(result.prob_over_budget));
  }
  CHECK(runs == kExtremeScenarios);
}
