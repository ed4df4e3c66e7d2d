// The typed scenario: what a YAML scenario becomes after loading and validation.
//
// Contract: a ScenarioSpec returned by the loader is complete and valid (every
// range and cross-reference checked); the engine trusts it and never sees YAML.
// Indices: r region, k SKU (GPU model), c workload class, in the order the
// scenario lists them.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace capsim {

using Date = std::chrono::sys_days;

// Where a value came from in a YAML file (1-based line and column; 0 = unknown).
struct SourceMark {
  std::string file;
  int line = 0;
  int column = 0;
};

// A table of (x, y) rows, e.g. piecewise-linear points (month, multiplier).
using ParamTable = std::vector<std::array<double, 2>>;
using ParamValue = std::variant<double, std::string, std::vector<std::string>, ParamTable>;

// A pluggable slot: `model:` names the implementation; the other keys are its
// parameters, already checked against the registry's ParamInfo list (defaults
// filled in, ranges checked).
struct ModelConfig {
  std::string model;
  std::map<std::string, ParamValue> params;
  SourceMark mark;

  double number(const std::string& key) const { return std::get<double>(params.at(key)); }
  const std::string& text(const std::string& key) const {
    return std::get<std::string>(params.at(key));
  }
  const std::vector<std::string>& names(const std::string& key) const {
    return std::get<std::vector<std::string>>(params.at(key));
  }
  const ParamTable& table(const std::string& key) const {
    return std::get<ParamTable>(params.at(key));
  }
};

// 1. Time and sampling.
struct TimeSpec {
  Date start{};
  int horizon_months = 24;
  double step_hours = 24.0;  // 1, 24 or 168
  std::int64_t paths = 1000;
  std::uint64_t seed = 1;
  // Expected-value plan: every Gaussian draw is 0, random events never
  // happen, binomial counts take their mean (fractional) value.
  bool deterministic = false;
};

// 2. GPU catalog entry.
struct SkuSpec {
  std::string name;
  double perf_h100e = 1.0;                      // H100e per GPU (default for every class)
  std::map<std::string, double> perf_by_class;  // class name -> H100e per GPU
  double power_kw = 1.275;                      // full load, incl. server and network share
  double idle_fraction = 0.3;                   // idle power / full-load power
  double capex_usd = 50000.0;                   // all-in per GPU
  Date available_from{};                        // first order date
  double lead_time_days = 90.0;                 // order -> live
  double afr = 0.1;                             // annual failure rate, failures per GPU-year
  double repair_days = 3.0;                     // mean repair time
  double life_years = 5.0;                      // depreciation life
};

// 3. Region.
struct PowerStep {
  Date from{};
  double mw = 0.0;  // IT power available for GPUs from `from` on
};

struct SpillTarget {
  int region = -1;          // index into ScenarioSpec::regions
  double max_fraction = 0;  // of a class's demand in the source region
};

struct ScheduledOutage {
  Date start{};
  double days = 0;
  double fraction = 0;  // of capacity lost while it lasts
};

struct RegionSpec {
  std::string name;
  std::vector<PowerStep> power_mw;  // sorted by date; the first applies from start
  double pue = 1.4;
  // Electricity: base price in one currency; exactly one of the two is > 0
  // unless the price is zero.
  double price_jpy_per_kwh = 0.0;
  double price_usd_per_kwh = 0.0;
  ModelConfig price_model;  // multiplicative factor on the base price (prices registry)
  double carbon_g_per_kwh = 0.0;
  // Fixed opex per installed GPU and per MW of the power cap in force, in
  // dollars and in yen (yen converted at the path's USD/JPY of each step);
  // both parts are paid.
  double opex_usd_per_gpu_month = 0.0;
  double opex_usd_per_mw_month = 0.0;
  double opex_jpy_per_gpu_month = 0.0;
  double opex_jpy_per_mw_month = 0.0;
  std::vector<double> initial_fleet;  // per SKU k
  ModelConfig outages;                // outages registry
  std::vector<ScheduledOutage> scheduled_outages;
  std::vector<SpillTarget> spill_to;
};

// 4. Finance.
enum class CapexTiming { at_order, at_delivery };

struct FinanceSpec {
  double budget_usd = std::numeric_limits<double>::infinity();
  CapexTiming capex_timing = CapexTiming::at_delivery;
  double usdjpy = 152.0;        // JPY per USD at start
  ModelConfig fx_model;         // fx registry: path of the USD/JPY rate
  double discount_rate = 0.08;  // annual, for NPV
};

// 5. Workload classes.
enum class WorkloadKind { inference, training };

// An inference class given as requests (SPEC 3.3). Each step its request rate
// (rate_per_s with the class's growth, seasonality, noise and shocks) times
// peak_factor is offered to a pool of servers, one H100e each, as the load
// A = rate x peak_factor x service_s() (H100e busy on average); the class's
// demand is the servers that load needs to meet the service level
// P(wait > max_wait_s) <= max_wait_probability under the queue model
// (models::Staffing), for the whole step.
struct RequestSpec {
  double rate_per_s = 0.0;                     // requests per second at start, all regions
  double input_tokens = 0.0;                   // mean per request
  double output_tokens = 0.0;                  // mean per request
  double input_tokens_per_s_per_h100e = 1.0;   // prefill throughput of one H100e
  double output_tokens_per_s_per_h100e = 1.0;  // decode throughput of one H100e
  double peak_factor = 1.0;                    // intra-step peak-to-mean of the rate, >= 1
  double max_wait_s = 0.0;                     // 0: the probability of waiting at all
  double max_wait_probability = 0.2;           // in (0, 1)
  ModelConfig queue;                           // queue registry (erlang_c, allen_cunneen)

  // Mean service time of a request on one H100e, in seconds.
  double service_s() const {
    return input_tokens / input_tokens_per_s_per_h100e +
           output_tokens / output_tokens_per_s_per_h100e;
  }
};

struct ClassSpec {
  std::string name;
  WorkloadKind kind = WorkloadKind::inference;
  double base_demand_h100e = 0.0;    // H100e GPUs busy on average at start
  std::vector<double> region_share;  // per region r, sums to 1
  ModelConfig growth;                // demand_growth registry
  ModelConfig noise;                 // demand_noise registry
  ModelConfig shocks;                // demand_shocks registry
  std::array<double, 24> hourly{};   // mean 1; applied when step < 24 h
  std::array<double, 7> weekly{};    // Monday first, mean 1; applied when step < 168 h
  double peak_factor = 1.0;          // inference: capacity per unit of mean load, >= 1
  double residency = 1.0;            // fraction that must stay in its home region
  double max_wait_hours = 0.0;       // training: backlog older than this is abandoned
  int priority = 0;                  // lower number is served first
  double revenue_usd_per_h100e_gpuh = 0.0;
  double penalty_usd_per_h100e_gpuh = 0.0;

  // Inference given as requests. Then base_demand_h100e is 0 and peak_factor
  // 1: the servers the requests need are the capacity the class takes, and
  // the scenario's peak_factor is requests->peak_factor, applied to the rate.
  std::optional<RequestSpec> requests;
};

// 6. Procurement.
struct OrderSpec {
  Date date{};
  int region = -1;
  int sku = -1;
  double count = 0;
  SourceMark mark;  // where the order is written (for warnings)
};

struct SupplySpec {
  double late_probability = 0.0;        // chance an order arrives late
  double mean_delay_days = 0.0;         // exponential delay when late
  double max_delay_days = 365.0;        // delays are truncated here
  std::vector<double> max_per_quarter;  // per SKU k; policy orders only; inf = no cap
};

struct ProcurementSpec {
  std::vector<OrderSpec> orders;
  ModelConfig policy;  // procurement registry ("none" or "headroom")
  SupplySpec supply;
};

struct ScenarioSpec {
  std::string name;
  std::string description;
  std::string source_file;
  // The scenario and every file it extends, as they were opened.
  std::vector<std::string> input_files;
  std::string resolved_yaml;  // fully resolved scenario (after extend and --set)
  // Provenance: the files read through `extend` (directly or through another
  // base file, in reading order, named as the messages name them) and the
  // `--set key.path=value` overrides, in order.
  std::vector<std::string> extends;
  std::vector<std::string> overrides;
  TimeSpec time;
  std::vector<SkuSpec> skus;
  std::vector<RegionSpec> regions;
  FinanceSpec finance;
  std::vector<ClassSpec> classes;
  ProcurementSpec procurement;
  ModelConfig failures;  // failures registry ("binomial" or "none")
};

}  // namespace capsim
