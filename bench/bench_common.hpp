// Shared pieces of the benchmarks: the counters every engine benchmark
// reports, peak-memory probes, scenario loading and generation, and the
// checks a benchmark runs before it times.
//
// Counters (SPEC 8), one set for every benchmark that steps paths:
//   path_steps_per_s  paths x steps per wall second (benchmark::Counter::kIsRate)
//   time_per_path_step wall seconds per path-step (kIsRate | kInvert; the console
//                     shows e.g. "120ns", CSV files hold seconds)
//   bytes_per_path    (peak resident set during the benchmark - resident set
//                     before it) / paths; meaningful from ~10^5 paths on
//   peak_rss_mb       peak resident set of the process during the benchmark, MiB
//   paths, steps, regions, skus, classes, threads: the shape, so that CSV
//                     rows are self-describing
#pragma once

#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "capsim/engine.hpp"
#include "capsim/io/scenario_loader.hpp"
#include "capsim/models/builtin.hpp"
#include "capsim/scenario.hpp"

namespace capsim::bench {

// Command-line switches of capsim_bench read before Google Benchmark's own.
struct Config {
  bool tiny = false;                // --tiny: one tiny size of every benchmark (the test suite)
  std::int64_t max_paths = 100000;  // --max-paths=N: the paths series stops at N
};

inline const models::ModelRegistries& registries() {
  static const models::ModelRegistries r = models::builtin_registries();
  return r;
}

inline std::string source_dir() {
  return CAPSIM_SOURCE_DIR;
}
inline std::string baseline_file() {
  return source_dir() + "/scenarios/msft-japan-2024.yaml";
}

inline ScenarioSpec load_baseline(const std::vector<std::string>& overrides = {}) {
  return io::load_scenario(baseline_file(), registries(), overrides);
}

// The baseline at the size the configuration asks for: in tiny mode its
// horizon is cut to 2 months, keeping the two explicit orders placed at the
// start (the others would fall outside the horizon).
inline std::vector<std::string> baseline_overrides(const Config& config) {
  if (config.tiny)
    return {"time.horizon_months=2",
            "procurement.orders=[{date: 2024-04-01, region: tokyo, sku: h100, count: 8000}, "
            "{date: 2024-04-01, region: osaka, sku: h100, count: 4000}]"};
  return {};
}

// ---------------------------------------------------------------------------
// Memory.

// Resident-set probes from /proc/self/status (bytes; 0 when unavailable).
class RssProbe {
 public:
  // Resets the peak (VmHWM) to the current resident set when the kernel
  // allows it (writing 5 to /proc/self/clear_refs), then records the current
  // resident set as the baseline.
  RssProbe() {
    std::ofstream clear("/proc/self/clear_refs");
    if (clear) clear << "5";
    before_ = read_status("VmRSS:");
  }
  double before_bytes() const { return before_; }
  static double peak_bytes() { return read_status("VmHWM:"); }
  static double current_bytes() { return read_status("VmRSS:"); }

 private:
  static double read_status(const std::string& key) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(key, 0) != 0) continue;
      std::istringstream fields(line.substr(key.size()));
      double kib = 0;
      fields >> kib;
      return kib * 1024.0;
    }
    return 0.0;
  }
  double before_ = 0;
};

// ---------------------------------------------------------------------------
// Counters.

struct Shape {
  std::int64_t paths = 0;
  int steps = 0;
  int regions = 0;
  int skus = 0;
  int classes = 0;
  int threads = 1;
};

inline Shape shape_of(const ScenarioSpec& spec, int steps, std::int64_t paths, int threads) {
  return {paths,
          steps,
          static_cast<int>(spec.regions.size()),
          static_cast<int>(spec.skus.size()),
          static_cast<int>(spec.classes.size()),
          threads};
}

// Sets the shared counters after the timing loop. Every iteration stepped
// `shape.paths` paths through `shape.steps` steps.
inline void set_counters(benchmark::State& state, const Shape& shape, const RssProbe& rss) {
  using benchmark::Counter;
  const double path_steps =
      static_cast<double>(shape.paths) * shape.steps * static_cast<double>(state.iterations());
  state.counters["path_steps_per_s"] = Counter(path_steps, Counter::kIsRate);
  state.counters["time_per_path_step"] = Counter(path_steps, Counter::kIsRate | Counter::kInvert);
  const double peak = RssProbe::peak_bytes();
  state.counters["peak_rss_mb"] = peak / (1024.0 * 1024.0);
  state.counters["bytes_per_path"] =
      std::max(0.0, peak - rss.before_bytes()) / static_cast<double>(shape.paths);
  state.counters["paths"] = static_cast<double>(shape.paths);
  state.counters["steps"] = shape.steps;
  state.counters["regions"] = shape.regions;
  state.counters["skus"] = shape.skus;
  state.counters["classes"] = shape.classes;
  state.counters["threads"] = shape.threads;
}

// ---------------------------------------------------------------------------
// Scenarios.

// A scenario of R regions, K SKUs and C workload classes shaped like the
// baseline (every source of randomness on, spill between neighbouring
// regions, explicit orders and the headroom policy). Classes alternate
// inference and training; SKUs differ in performance and power so the
// power-cap ordering matters. `step` is "1h", "1d" or "1w".
inline std::string generated_scenario_yaml(int regions, int skus, int classes,
                                           const std::string& step, int horizon_months) {
  std::ostringstream y;
  y.precision(17);
  y << "name: generated-r" << regions << "-k" << skus << "-c" << classes << "\n"
    << "description: generated benchmark scenario\n"
    << "time: {start: 2024-04-01, horizon_months: " << horizon_months << ", step: " << step
    << ", paths: 1000, seed: 7}\n";
  y << "skus:\n";
  for (int k = 0; k < skus; ++k)
    y << "  s" << k << ": {perf_h100e: " << 1.0 + 0.25 * k << ", power_kw: " << 1.2 + 0.1 * k
      << ", idle_fraction: 0.3, capex_usd: " << 50000 + 5000 * k
      << ", available_from: 2023-01-01, lead_time_days: " << 90 + 10 * k
      << ", afr: 0.1, repair_days: 5}\n";
  y << "regions:\n";
  for (int r = 0; r < regions; ++r) {
    y << "  r" << r << ":\n"
      << "    power_mw: [{from: 2024-04-01, mw: 20}, {from: 2025-01-01, mw: 45}]\n"
      << "    pue: 1.4\n    price_jpy_per_kwh: 25\n"
      << "    electricity_price: {model: log_ou, volatility: 0.25, reversion_per_year: 2}\n"
      << "    carbon_g_per_kwh: 500\n    opex_usd_per_gpu_month: 150\n"
      << "    opex_usd_per_mw_month: 60000\n"
      << "    outages: {model: poisson, events_per_year: 0.5, mean_days: 1, fraction: 0.3}\n"
      << "    initial_fleet: {";
    for (int k = 0; k < skus; ++k) y << (k ? ", " : "") << "s" << k << ": " << 4000 / skus;
    y << "}\n";
    if (regions > 1) y << "    spill_to: {r" << (r + 1) % regions << ": 0.5}\n";
  }
  y << "finance: {budget_usd: 2.9e9, usdjpy: 152, fx: {model: gbm, volatility: 0.1}}\n";
  y << "classes:\n";
  for (int c = 0; c < classes; ++c) {
    const bool inference = c % 2 == 0;
    y << "  c" << c << ":\n"
      << "    kind: " << (inference ? "inference" : "training") << "\n"
      << "    base_demand_h100e: " << 6000.0 * regions / classes << "\n"
      << "    region_share: {";
    for (int r = 0; r < regions; ++r) y << (r ? ", " : "") << "r" << r << ": " << 1.0 / regions;
    y << "}\n"
      << "    growth: {model: exponential, rate: 0.8, rate_sd: 0.2}\n"
      << "    noise: {model: log_ar1, sigma: 0.1, phi: 0.9}\n"
      << "    shocks: {model: poisson, rate_per_year: 1, mean_jump: 0.15}\n"
      << "    residency: 0.5\n    priority: " << c << "\n"
      << "    revenue_usd_per_h100e_gpuh: 2.0\n";
    if (inference)
      y << "    peak_factor: 1.3\n    penalty_usd_per_h100e_gpuh: 0.5\n";
    else
      y << "    max_wait_days: 7\n";
  }
  y << "procurement:\n  orders:\n";
  for (int r = 0; r < regions; ++r)
    y << "    - {date: 2024-04-01, region: r" << r << ", sku: s" << skus - 1 << ", count: 1000}\n";
  y << "  policy: {model: headroom, review_days: 30, target_utilization: 0.8, "
       "planner_growth_per_year: 0.6, skus: [s0]}\n"
    << "  supply: {late_probability: 0.2, mean_delay_days: 30, max_delay_days: 120}\n"
    << "failures: {model: binomial}\n";
  return y.str();
}

inline ScenarioSpec generated_scenario(int regions, int skus, int classes, const std::string& step,
                                       int horizon_months,
                                       const std::vector<std::string>& overrides = {}) {
  return io::load_scenario_text(
      generated_scenario_yaml(regions, skus, classes, step, horizon_months), "generated.yaml",
      source_dir(), registries(), overrides);
}

// ---------------------------------------------------------------------------
// Checks.

inline bool nearly_equal(double a, double b) {
  if (a == b || (std::isnan(a) && std::isnan(b))) return true;
  return std::abs(a - b) <= 1e-9 * std::max(std::abs(a), std::abs(b)) + 1e-9;
}

// Compares two (rows x cols) arrays with nearly_equal; returns "" when they
// agree, else a description of the first difference.
inline std::string compare_arrays(const Eigen::Ref<const Eigen::ArrayXXd>& a,
                                  const Eigen::Ref<const Eigen::ArrayXXd>& b,
                                  const std::string& what) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return what + ": shapes differ";
  for (Eigen::Index j = 0; j < a.cols(); ++j)
    for (Eigen::Index i = 0; i < a.rows(); ++i)
      if (!nearly_equal(a(i, j), b(i, j))) {
        std::ostringstream out;
        out.precision(17);
        out << what << ": row " << i << " column " << j << ": " << a(i, j) << " vs " << b(i, j);
        return out.str();
      }
  return "";
}

// Skips the benchmark with `error` unless it is empty. Returns true when the
// check passed. A skipped benchmark makes capsim_bench exit non-zero.
inline bool passed(benchmark::State& state, const std::string& error) {
  if (error.empty()) return true;
  state.SkipWithError(("check failed: " + error).c_str());
  return false;
}

// Runs `check` (returning "" or an error) the first time `key` is seen, and
// remembers a pass: Google Benchmark calls a benchmark function several times
// while it sizes the iteration count, and a check need not be repeated.
template <class Check>
bool checked(benchmark::State& state, const std::string& key, Check&& check) {
  static std::set<std::string> passed_keys;
  if (passed_keys.count(key)) return true;
  std::string error;
  try {
    error = check();
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!passed(state, error)) return false;
  passed_keys.insert(key);
  return true;
}

// Registration entry points, one per source file.
void register_rng_benchmarks(const Config& config);
void register_stats_benchmarks(const Config& config);
void register_engine_benchmarks(const Config& config);
void register_output_benchmarks(const Config& config);
void register_breakdown_benchmarks(const Config& config);
void register_loader_benchmarks(const Config& config);
void register_queueing_benchmarks(const Config& config);

}  // namespace capsim::bench
