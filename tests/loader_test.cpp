// Tests of the YAML scenario loader: valid scenarios fill every field of the
// ScenarioSpec; extend and --set merge as documented; every kind of bad input
// is reported with its FILE:LINE:COL and key path, all at once.
//
// The model registries here are stand-ins with the built-in models' names and
// parameters (factories return nothing), so these tests exercise only the
// loader.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "capsim/io/scenario_loader.hpp"

namespace {

namespace fs = std::filesystem;
namespace models = capsim::models;
using capsim::Diagnostic;
using capsim::InputError;
using capsim::ScenarioSpec;
using capsim::io::load_scenario;
using capsim::io::load_scenario_text;
using models::ParamInfo;
using models::ParamType;

constexpr double kInf = std::numeric_limits<double>::infinity();

const std::string kScenarios = std::string(CAPSIM_SOURCE_DIR) + "/tests/scenarios/";

ParamInfo number(std::string name, bool required, double default_value, double min, double max) {
  ParamInfo p;
  p.name = std::move(name);
  p.type = ParamType::number;
  p.required = required;
  p.default_number = default_value;
  p.min = min;
  p.max = max;
  return p;
}

ParamInfo whole(std::string name, double default_value, double min, double max) {
  ParamInfo p = number(std::move(name), false, default_value, min, max);
  p.whole = true;
  return p;
}

ParamInfo names(std::string name, std::string unit) {
  ParamInfo p;
  p.name = std::move(name);
  p.type = ParamType::names;
  p.unit = std::move(unit);
  p.required = true;
  return p;
}

ParamInfo table(std::string name, double min, double max) {
  ParamInfo p;
  p.name = std::move(name);
  p.type = ParamType::table;
  p.required = true;
  p.min = min;
  p.max = max;
  return p;
}

template <class Interface>
void add(models::Registry<Interface>& registry, std::string name, std::vector<ParamInfo> params) {
  registry.add({std::move(name), "test stand-in", std::move(params), nullptr});
}

models::ModelRegistries fake_registries() {
  models::ModelRegistries r;
  add(r.growth, "constant", {});
  add(r.growth, "exponential",
      {number("rate", false, 0, -1, 10), number("rate_sd", false, 0, 0, 5)});
  add(r.growth, "logistic",
      {number("cap", true, 0, 1, 1000), number("midpoint_months", true, 0, 0, 600),
       number("rate", true, 0, 0.01, 50), number("rate_sd", false, 0, 0, 5)});
  add(r.growth, "piecewise_linear",
      {table("points", 0, 1000), number("growth_sd", false, 0, 0, 5)});
  add(r.noise, "none", {});
  add(r.noise, "log_ar1", {number("sigma", true, 0, 0, 3), number("phi", false, 0.9, 0, 0.9999)});
  add(r.shocks, "none", {});
  add(r.shocks, "poisson",
      {number("rate_per_year", true, 0, 0, 365), number("mean_jump", false, 0.2, 0, 10),
       number("decay_months", false, 0, 0, 600)});
  add(r.outages, "none", {});
  add(r.outages, "poisson",
      {number("events_per_year", true, 0, 0, 365), number("mean_days", true, 0, 1e-6, 3650),
       number("fraction", false, 1, 0, 1)});
  add(r.fx, "constant", {});
  add(r.fx, "gbm", {number("volatility", true, 0, 0, 5), number("drift", false, 0, -1, 1)});
  add(r.price, "constant", {});
  add(r.price, "log_ou",
      {number("volatility", true, 0, 0, 5), number("reversion_per_year", false, 1, 0, 365)});
  add(r.failures, "none", {});
  add(r.failures, "binomial", {});
  add(r.procurement, "none", {});
  add(r.procurement, "headroom",
      {number("review_days", false, 30, 1, 365), number("target_utilization", false, 0.8, 0.01, 1),
       number("planner_growth_per_year", false, 0, -1, 10),
       number("budget_reserve", false, 0, 0, 1), whole("order_unit", 1, 1, 1e6),
       names("skus", "sku names")});
  return r;
}

const models::ModelRegistries& registries() {
  static const models::ModelRegistries r = fake_registries();
  return r;
}

// A small valid scenario; tests add or break one thing at a time.
// Its last lines are the class "chat", so a test may append keys of it.
const std::string kMinimal = R"(time: {start: 2024-01-01, horizon_months: 12}
skus:
  h100: {power_kw: 1.275, capex_usd: 50000}
regions:
  tokyo: {power_mw: 10, price_jpy_per_kwh: 25}
classes:
  chat:
    kind: inference
    base_demand_h100e: 100
)";

// Two regions, so classes need a region_share.
const std::string kTwoRegions = R"(time: {start: 2024-01-01, horizon_months: 12}
skus:
  h100: {power_kw: 1.275, capex_usd: 50000}
regions:
  tokyo: {power_mw: 10, price_jpy_per_kwh: 25}
  osaka: {power_mw: 5, price_jpy_per_kwh: 20}
classes:
  chat:
    kind: inference
    base_demand_h100e: 100
)";

ScenarioSpec load_text(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return load_scenario_text(text, "test.yaml", ".", registries(), overrides);
}

// The diagnostics of a text that must fail to load.
std::vector<Diagnostic> errors_of(const std::string& text,
                                  const std::vector<std::string>& overrides = {}) {
  try {
    load_text(text, overrides);
  } catch (const InputError& e) {
    return e.diagnostics();
  }
  FAIL("expected an InputError for:\n" << text);
  return {};
}

std::vector<Diagnostic> file_errors(const std::string& path,
                                    const std::vector<std::string>& overrides = {}) {
  try {
    load_scenario(path, registries(), overrides);
  } catch (const InputError& e) {
    return e.diagnostics();
  }
  FAIL("expected an InputError for " << path);
  return {};
}

std::string all_text(const std::vector<Diagnostic>& diagnostics) {
  std::string text;
  for (const auto& d : diagnostics) text += d.format() + "\n";
  return text;
}

// The one diagnostic with this key path (fails when there is not exactly one).
Diagnostic error_at(const std::vector<Diagnostic>& diagnostics, const std::string& key_path) {
  const auto n = std::count_if(diagnostics.begin(), diagnostics.end(),
                               [&](const Diagnostic& d) { return d.key_path == key_path; });
  INFO(all_text(diagnostics));
  REQUIRE(n == 1);
  return *std::find_if(diagnostics.begin(), diagnostics.end(),
                       [&](const Diagnostic& d) { return d.key_path == key_path; });
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

capsim::Date date(int y, unsigned m, unsigned d) {
  return capsim::Date(std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d});
}

// A scratch directory for files written by a test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::random_device seed;
    path_ = fs::temp_directory_path() / ("capsim-loader-test-" + std::to_string(seed()));
    fs::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    const fs::path file = path_ / name;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
    return file.string();
  }
  std::string path(const std::string& name = "") const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

}  // namespace

TEST_CASE("io::load_scenario: constant.yaml fills every field", "[io][loader]") {
  const ScenarioSpec s = load_scenario(kScenarios + "constant.yaml", registries());

  SECTION("header and time") {
    CHECK(s.name == "constant");
    CHECK(contains(s.description, "hand-checkable"));
    CHECK(s.source_file == kScenarios + "constant.yaml");
    CHECK(s.time.start == date(2024, 1, 1));
    CHECK(s.time.horizon_months == 1);
    CHECK(s.time.step_hours == 24.0);
    CHECK(s.time.paths == 1);
    CHECK(s.time.seed == 1);
    CHECK(s.time.deterministic);
  }
  SECTION("SKU, with defaults for the keys not written") {
    REQUIRE(s.skus.size() == 1);
    const auto& g = s.skus[0];
    CHECK(g.name == "g");
    CHECK(g.perf_h100e == 1.0);
    CHECK(g.perf_by_class.empty());
    CHECK(g.power_kw == 1.0);
    CHECK(g.idle_fraction == 0.5);
    CHECK(g.capex_usd == 10000);
    CHECK(g.available_from == date(2024, 1, 1));  // default: time.start
    CHECK(g.lead_time_days == 90);
    CHECK(g.afr == 0);
    CHECK(g.repair_days == 3);
    CHECK(g.life_years == 5);
  }
  SECTION("region") {
    REQUIRE(s.regions.size() == 1);
    const auto& r = s.regions[0];
    CHECK(r.name == "r1");
    REQUIRE(r.power_mw.size() == 1);
    CHECK(r.power_mw[0].from == date(2024, 1, 1));
    CHECK(r.power_mw[0].mw == 1.0);
    CHECK(r.pue == 1.5);
    CHECK(r.price_usd_per_kwh == 0.10);
    CHECK(r.price_jpy_per_kwh == 0.0);
    CHECK(r.price_model.model == "constant");
    CHECK(r.carbon_g_per_kwh == 500);
    CHECK(r.opex_usd_per_gpu_month == 100);
    CHECK(r.opex_usd_per_mw_month == 1000);
    CHECK(r.opex_jpy_per_gpu_month == 0);  // default
    CHECK(r.opex_jpy_per_mw_month == 0);
    CHECK(r.initial_fleet == std::vector<double>{500});
    CHECK(r.outages.model == "none");
    CHECK(r.scheduled_outages.empty());
    CHECK(r.spill_to.empty());
  }
  SECTION("finance defaults") {
    CHECK(s.finance.budget_usd == kInf);
    CHECK(s.finance.capex_timing == capsim::CapexTiming::at_delivery);
    CHECK(s.finance.usdjpy == 152);
    CHECK(s.finance.fx_model.model == "constant");
    CHECK(s.finance.discount_rate == 0.08);
  }
  SECTION("class") {
    REQUIRE(s.classes.size() == 1);
    const auto& c = s.classes[0];
    CHECK(c.name == "inf");
    CHECK(c.kind == capsim::WorkloadKind::inference);
    CHECK(c.base_demand_h100e == 300);
    CHECK(c.region_share == std::vector<double>{1.0});  // the only region
    CHECK(c.growth.model == "constant");
    CHECK(c.noise.model == "none");
    CHECK(c.shocks.model == "none");
    CHECK(std::all_of(c.hourly.begin(), c.hourly.end(), [](double x) { return x == 1.0; }));
    CHECK(std::all_of(c.weekly.begin(), c.weekly.end(), [](double x) { return x == 1.0; }));
    CHECK(c.peak_factor == 1.0);
    CHECK(c.residency == 1.0);
    CHECK(c.max_wait_hours == 0.0);
    CHECK(c.priority == 0);
    CHECK(c.revenue_usd_per_h100e_gpuh == 0);
    CHECK(c.penalty_usd_per_h100e_gpuh == 0);
  }
  SECTION("procurement and failures") {
    CHECK(s.procurement.orders.empty());
    CHECK(s.procurement.policy.model == "none");
    CHECK(s.procurement.supply.late_probability == 0);
    CHECK(s.procurement.supply.mean_delay_days == 0);
    CHECK(s.procurement.supply.max_delay_days == 365);
    CHECK(s.procurement.supply.max_per_quarter == std::vector<double>{kInf});
    CHECK(s.failures.model == "none");
  }
  SECTION("marks point at the slot in the file") {
    CHECK(s.failures.mark.file == kScenarios + "constant.yaml");
    CHECK(s.failures.mark.line > 1);
    CHECK(s.failures.mark.column == 11);
  }
}

TEST_CASE("io::load_scenario: two-regions.yaml fills slots and cross-references", "[io][loader]") {
  const ScenarioSpec s = load_scenario(kScenarios + "two-regions.yaml", registries());
  REQUIRE(s.skus.size() == 2);
  REQUIRE(s.regions.size() == 2);
  REQUIRE(s.classes.size() == 2);

  SECTION("SKUs") {
    CHECK(s.skus[1].name == "h200");
    CHECK(s.skus[1].perf_by_class.at("chat") == 1.4);
    CHECK(s.skus[1].perf_by_class.at("train") == 1.1);
    CHECK(s.skus[1].available_from == date(2024, 5, 1));
    CHECK(s.skus[0].available_from == date(2023, 1, 1));
  }
  SECTION("regions: power schedule, spill targets, slots") {
    const auto& tokyo = s.regions[0];
    REQUIRE(tokyo.power_mw.size() == 2);
    CHECK(tokyo.power_mw[1].from == date(2024, 6, 1));
    CHECK(tokyo.power_mw[1].mw == 12);
    CHECK(tokyo.price_jpy_per_kwh == 25);
    CHECK(tokyo.price_model.model == "log_ou");
    CHECK(tokyo.price_model.number("volatility") == 0.2);
    CHECK(tokyo.price_model.number("reversion_per_year") == 2);
    CHECK(tokyo.outages.model == "poisson");
    CHECK(tokyo.outages.number("fraction") == 0.5);
    REQUIRE(tokyo.scheduled_outages.size() == 1);
    CHECK(tokyo.scheduled_outages[0].start == date(2024, 5, 15));
    CHECK(tokyo.scheduled_outages[0].days == 3);
    CHECK(tokyo.scheduled_outages[0].fraction == 0.2);
    REQUIRE(tokyo.spill_to.size() == 1);
    CHECK(tokyo.spill_to[0].region == 1);
    CHECK(tokyo.spill_to[0].max_fraction == 0.5);
    CHECK(tokyo.initial_fleet == std::vector<double>{3000, 0});
    CHECK(s.regions[1].spill_to[0].region == 0);
  }
  SECTION("finance") {
    CHECK(s.finance.budget_usd == 2.0e8);
    CHECK(s.finance.fx_model.model == "gbm");
    CHECK(s.finance.fx_model.number("volatility") == 0.1);
  }
  SECTION("classes: slots with defaults filled in") {
    const auto& chat = s.classes[0];
    CHECK(chat.region_share == std::vector<double>{0.6, 0.4});
    CHECK(chat.growth.model == "exponential");
    CHECK(chat.growth.number("rate") == 0.8);
    CHECK(chat.noise.number("phi") == 0.9);
    CHECK(chat.shocks.number("decay_months") == 6);
    CHECK(chat.peak_factor == 1.3);
    CHECK(chat.max_wait_hours == 0);
    const auto& train = s.classes[1];
    CHECK(train.kind == capsim::WorkloadKind::training);
    CHECK(train.max_wait_hours == 7 * 24);
    CHECK(train.growth.model == "logistic");
    CHECK(train.growth.number("rate_sd") == 0.1);
    CHECK(train.shocks.model == "none");
    CHECK(train.priority == 1);
  }
  SECTION("procurement") {
    REQUIRE(s.procurement.orders.size() == 2);
    CHECK(s.procurement.orders[1].date == date(2024, 5, 1));
    CHECK(s.procurement.orders[1].region == 1);
    CHECK(s.procurement.orders[1].sku == 1);
    CHECK(s.procurement.orders[1].count == 300);
    CHECK(s.procurement.policy.model == "headroom");
    CHECK(s.procurement.policy.names("skus") == std::vector<std::string>{"h200", "h100"});
    CHECK(s.procurement.policy.number("review_days") == 30);
    CHECK(s.procurement.supply.late_probability == 0.2);
    CHECK(s.procurement.supply.max_per_quarter == std::vector<double>{kInf, 1000});
    CHECK(s.failures.model == "binomial");
  }
  SECTION("resolved_yaml loads back to the same scenario") {
    const ScenarioSpec again =
        load_scenario_text(s.resolved_yaml, "resolved.yaml", ".", registries());
    CHECK(again.name == s.name);
    CHECK(again.time.seed == 42);
    CHECK(again.classes[0].growth.params == s.classes[0].growth.params);
    CHECK(again.regions[0].power_mw[1].mw == 12);
    CHECK(again.procurement.policy.names("skus") == s.procurement.policy.names("skus"));
    CHECK(again.resolved_yaml == s.resolved_yaml);
  }
}

TEST_CASE("io::load_scenario: extend merges maps and replaces scalars and lists", "[io][loader]") {
  SECTION("base-and-extend pair") {
    const ScenarioSpec s = load_scenario(kScenarios + "base-and-extend/what-if.yaml", registries());
    CHECK(s.name == "what-if-fast-growth");
    CHECK(s.time.horizon_months == 6);                    // from the base
    CHECK(s.classes[0].growth.number("rate") == 1.0);     // overridden
    CHECK(s.classes[0].growth.number("rate_sd") == 0.1);  // kept: maps merge
    CHECK(s.classes[0].peak_factor == 1.2);
    REQUIRE(s.procurement.orders.size() == 1);  // lists replace
    CHECK(s.procurement.orders[0].count == 2000);
    CHECK(!contains(s.resolved_yaml, "extend"));
    CHECK(contains(s.resolved_yaml, "what-if-fast-growth"));
    // Provenance: the file, what it extends, no overrides.
    CHECK(s.source_file == kScenarios + "base-and-extend/what-if.yaml");
    CHECK(s.extends == std::vector<std::string>{kScenarios + "base-and-extend/base.yaml"});
    CHECK(s.overrides.empty());
  }
  TempDir dir;
  SECTION("a list of files merges in order, then the file itself") {
    dir.write("catalog/gpus.yaml", "skus:\n  h100: {power_kw: 1.0, capex_usd: 1}\n");
    dir.write("catalog/more.yaml",
              "skus:\n  h100: {capex_usd: 2}\n  b200: {power_kw: 1.5, capex_usd: 40000}\n");
    const std::string path =
        dir.write("x.yaml", "extend: [catalog/gpus.yaml, catalog/more.yaml]\n" +
                                kMinimal.substr(kMinimal.find("regions:")) +
                                "time: {start: 2024-01-01}\nskus:\n  h100: {capex_usd: 3}\n");
    const ScenarioSpec s = load_scenario(path, registries());
    // Every file read, in reading order, named relative to the scenario's.
    CHECK(s.extends ==
          std::vector<std::string>{dir.path("catalog/gpus.yaml"), dir.path("catalog/more.yaml")});
    REQUIRE(s.skus.size() == 2);
    CHECK(s.skus[0].name == "h100");
    CHECK(s.skus[0].power_kw == 1.0);
    CHECK(s.skus[0].capex_usd == 3);
    CHECK(s.skus[1].name == "b200");
    CHECK(s.name == "x");  // default: the file stem
  }
  SECTION("a slot naming another model replaces the base slot whole") {
    dir.write("base.yaml",
              kMinimal + "    growth: {model: exponential, rate: 0.5, rate_sd: 0.1}\n");
    const ScenarioSpec s = load_scenario(
        dir.write("x.yaml",
                  "extend: base.yaml\nclasses:\n  chat:\n    growth: {model: logistic, cap: 3, "
                  "midpoint_months: 12, rate: 1}\n"),
        registries());
    CHECK(s.classes[0].growth.model == "logistic");
    CHECK(s.classes[0].growth.number("rate_sd") == 0);
  }
  SECTION("null removes a key from the base") {
    dir.write("base.yaml", kMinimal + "finance: {budget_usd: 1e9}\n");
    const ScenarioSpec s = load_scenario(
        dir.write("x.yaml", "extend: base.yaml\nfinance: {budget_usd: ~}\n"), registries());
    CHECK(s.finance.budget_usd == kInf);
  }
  SECTION("errors point into the file where the value was written") {
    dir.write("base.yaml", kMinimal + "    peak_factor: 20\n");
    const std::string path = dir.write("x.yaml", "extend: base.yaml\nname: x\nbogus: 1\n");
    const auto errors = file_errors(path);
    const auto peak = error_at(errors, "classes.chat.peak_factor");
    CHECK(peak.mark.file == dir.path("base.yaml"));
    CHECK(peak.mark.line == 10);
    CHECK(peak.mark.column == 18);
    const auto bogus = error_at(errors, "bogus");
    CHECK(bogus.mark.file == path);
    CHECK(bogus.mark.line == 3);
    CHECK(bogus.mark.column == 1);
  }
  SECTION("a cycle is named") {
    dir.write("a.yaml", "extend: b.yaml\n");
    dir.write("b.yaml", "name: b\nextend: [c.yaml]\n");
    dir.write("c.yaml", "extend: a.yaml\n");
    const auto errors = file_errors(dir.path("a.yaml"));
    const auto e = error_at(errors, "extend");
    CHECK(contains(e.message, "extend cycle: "));
    CHECK(contains(e.message, "a.yaml -> "));
    CHECK(contains(e.message, "b.yaml -> "));
    CHECK(contains(e.message, "c.yaml -> "));
    CHECK(e.mark.file == dir.path("c.yaml"));
    CHECK(e.mark.line == 1);
    CHECK(e.mark.column == 9);
  }
  SECTION("a file extending itself") {
    const auto e = error_at(file_errors(dir.write("self.yaml", "extend: ./self.yaml\n")), "extend");
    CHECK(contains(e.message, "extend cycle"));
  }
  SECTION("a missing target names the file and the extending file:line") {
    const std::string path = dir.write("x.yaml", "name: x\nextend:\n  - catalog/nope.yaml\n");
    const auto errors = file_errors(path);
    const auto e = error_at(errors, "extend");
    CHECK(e.mark.file == path);
    CHECK(e.mark.line == 3);
    CHECK(e.mark.column == 5);
    CHECK(contains(e.message, "catalog/nope.yaml"));
    CHECK(contains(e.message, "no such file"));
    CHECK(contains(e.format(), path + ":3:5: extend: "));
  }
  SECTION("extend of a directory, or of a non-path") {
    fs::create_directories(dir.path("sub"));
    const auto errors = file_errors(dir.write("x.yaml", "extend: [sub, {a: 1}]\n"));
    CHECK(contains(error_at(errors, "extend").message, "is a directory"));
    CHECK(contains(error_at(errors, "extend.1").message, "expected a file path"));
  }
  SECTION("load_scenario_text resolves extend relative to base_dir") {
    dir.write("base.yaml", kMinimal);
    const ScenarioSpec s =
        load_scenario_text("extend: base.yaml\nname: t\n", "t.yaml", dir.path(), registries());
    CHECK(s.name == "t");
    CHECK(s.skus.size() == 1);
  }
}

TEST_CASE("io::load_scenario: --set overrides", "[io][loader]") {
  const std::string two = kScenarios + "two-regions.yaml";
  SECTION("a scalar, applied after extend") {
    const ScenarioSpec s = load_scenario(kScenarios + "base-and-extend/what-if.yaml", registries(),
                                         {"time.paths=7", "classes.chat.growth.rate=2"});
    CHECK(s.time.paths == 7);
    CHECK(s.classes[0].growth.number("rate") == 2);
    CHECK(contains(s.resolved_yaml, "paths: 7"));
    CHECK(s.overrides == std::vector<std::string>{"time.paths=7", "classes.chat.growth.rate=2"});
  }
  SECTION("a list index") {
    const ScenarioSpec s = load_scenario(two, registries(), {"procurement.orders.0.count=5000"});
    CHECK(s.procurement.orders[0].count == 5000);
    CHECK(s.procurement.orders[1].count == 300);
  }
  SECTION("a map value replaces the whole map") {
    const ScenarioSpec s = load_scenario(
        two, registries(),
        {"classes.chat.growth={model: logistic, cap: 3, midpoint_months: 12, rate: 1}"});
    CHECK(s.classes[0].growth.model == "logistic");
    CHECK(s.classes[0].growth.number("cap") == 3);
    CHECK(s.classes[0].growth.number("rate_sd") == 0);  // not the base's 0.2
  }
  SECTION("a missing key is created, a list item appended, a null removes") {
    const ScenarioSpec s = load_scenario(
        two, registries(),
        {"regions.osaka.scheduled_outages.0={start: 2024-05-01, days: 2, fraction: 1}",
         "finance.budget_usd=~", "classes.chat.noise=none"});
    REQUIRE(s.regions[1].scheduled_outages.size() == 1);
    CHECK(s.regions[1].scheduled_outages[0].days == 2);
    CHECK(s.finance.budget_usd == kInf);
    CHECK(s.classes[0].noise.model == "none");
  }
  SECTION("later overrides win") {
    const ScenarioSpec s = load_text(kMinimal, {"time.seed=5", "time.seed=18446744073709551615"});
    CHECK(s.time.seed == 18446744073709551615ULL);
  }
  SECTION("errors point at --set:INDEX:1") {
    const auto errors = errors_of(
        kMinimal, {"time.paths=10", "time.pathz=10", "classes.chat.base_demand_h100e=-1"});
    const auto unknown = error_at(errors, "time.pathz");
    CHECK(unknown.mark.file == "--set");
    CHECK(unknown.mark.line == 2);
    CHECK(unknown.mark.column == 1);
    CHECK(contains(unknown.message, "did you mean 'paths'?"));
    const auto negative = error_at(errors, "classes.chat.base_demand_h100e");
    CHECK(negative.format() ==
          "--set:3:1: classes.chat.base_demand_h100e: out of range (got -1, "
          "expected a number in [0, 1000000000])");
  }
  SECTION("bad syntax names the argument") {
    const auto errors = errors_of(kMinimal, {"time.paths", "=5", "a..b=1"});
    REQUIRE(errors.size() == 3);
    CHECK(contains(errors[0].message, "'time.paths'"));
    CHECK(contains(errors[0].message, "expected key.path=value"));
    CHECK(errors[0].mark.line == 1);
    CHECK(errors[1].mark.line == 2);
    CHECK(contains(errors[2].message, "'a..b=1'"));
  }
  SECTION("bad paths and values") {
    const auto errors =
        errors_of(kMinimal, {"time.start.x=1", "time.paths=[1", "extend=other.yaml"});
    REQUIRE(errors.size() == 3);
    CHECK(errors[0].key_path == "time.start.x");
    CHECK(contains(errors[0].message, "cannot set a key inside 2024-01-01"));
    CHECK(contains(errors[1].message, "YAML syntax error"));
    CHECK(errors[1].mark.line == 2);
    CHECK(contains(errors[2].message, "extend cannot be set"));
  }
  SECTION("an index into an existing list must be in range") {
    const auto errors = errors_of(kMinimal + "procurement:\n  orders: []\n",
                                  {"procurement.orders.2.count=1", "procurement.orders.x=1"});
    CHECK(contains(error_at(errors, "procurement.orders.2.count").message,
                   "list index out of range (got 2"));
    CHECK(contains(error_at(errors, "procurement.orders.x").message, "not a list index"));
  }
}

TEST_CASE("io::load_scenario: each error names FILE:LINE:COL and key path", "[io][loader]") {
  const std::string text =
      "time:\n"                                                                  // 1
      "  start: 2024-01-01\n"                                                    // 2
      "  horizon_months: 12\n"                                                   // 3
      "  step: monthly\n"                                                        // 4
      "  paths: 0\n"                                                             // 5
      "skus:\n"                                                                  // 6
      "  h100:\n"                                                                // 7
      "    power_kw: fast\n"                                                     // 8
      "    capex_usd: -5\n"                                                      // 9
      "    afr: .nan\n"                                                          // 10
      "    life_years: 1e400\n"                                                  // 11
      "regions:\n"                                                               // 12
      "  tokyo:\n"                                                               // 13
      "    power_mw: 10\n"                                                       // 14
      "    price_jpy_per_kwh: 25\n"                                              // 15
      "    spill_to: {tokyo: 0.5}\n"                                             // 16
      "    initial_fleet: {h10: 5}\n"                                            // 17
      "classes:\n"                                                               // 18
      "  chat:\n"                                                                // 19
      "    kind: inference\n"                                                    // 20
      "    base_demand_h100e: 100\n"                                             // 21
      "    grwoth: {model: exponential}\n"                                       // 22
      "    noise: {model: log_ar2}\n"                                            // 23
      "    shocks: {model: poisson, rate_per_year: 1, jmup: 2}\n"                // 24
      "    hourly: [1, 1]\n"                                                     // 25
      "  train:\n"                                                               // 26
      "    kind: training\n"                                                     // 27
      "    base_demand_h100e: 10\n"                                              // 28
      "    peak_factor: 1.5\n"                                                   // 29
      "procurement:\n"                                                           // 30
      "  orders: [{date: 2025-01-01, region: osaka, sku: h100, count: 1.5}]\n";  // 31
  const auto errors = errors_of(text);
  INFO(all_text(errors));

  const auto check = [&](const std::string& key_path, int line, int column,
                         const std::string& message_part) {
    const auto e = error_at(errors, key_path);
    CHECK(e.mark.file == "test.yaml");
    CHECK(e.mark.line == line);
    CHECK(e.mark.column == column);
    CHECK(contains(e.message, message_part));
  };
  check("time.step", 4, 9, "unknown value (got monthly, expected one of: 1h, 1d, 1w)");
  check("time.paths", 5, 10, "out of range (got 0, expected a whole number in [1, 100000000])");
  check("skus.h100.power_kw", 8, 15, "not a number (got fast, expected a number in [0.01, 100])");
  check("skus.h100.capex_usd", 9, 16, "out of range (got -5, expected a number in [0, 100000000])");
  check("skus.h100.afr", 10, 10, "not a finite number (got .nan");
  check("skus.h100.life_years", 11, 17, "not a finite number (got 1e400");
  check("regions.tokyo.spill_to.tokyo", 16, 16, "cannot spill to itself");
  check("regions.tokyo.initial_fleet.h10", 17, 21, "unknown SKU 'h10' (did you mean 'h100'?)");
  check("classes.chat.grwoth", 22, 5, "unknown key 'grwoth' (did you mean 'growth'?)");
  check("classes.chat.noise.model", 23, 20,
        "unknown model \"log_ar2\" (did you mean 'log_ar1'? expected one of: none, log_ar1)");
  check("classes.chat.shocks.jmup", 24, 48,
        "unknown parameter 'jmup' of model \"poisson\" (expected one of: rate_per_year, "
        "mean_jump, decay_months)");
  check("classes.chat.hourly", 25, 13, "wrong length (got 2 numbers, expected a list of 24");
  check("classes.train.peak_factor", 29, 18, "only for inference classes");
  check("procurement.orders.0.date", 31, 19,
        "outside the horizon (got 2025-01-01, expected a date in [2024-01-01, 2025-01-01))");
  check("procurement.orders.0.region", 31, 39, "unknown region 'osaka' (expected one of: tokyo)");
  check("procurement.orders.0.count", 31, 64, "not a whole number (got 1.5");
  CHECK(errors.size() == 16);
}

TEST_CASE("io::load_scenario: more checks of values and cross-references", "[io][loader]") {
  SECTION("missing required keys and sections") {
    const auto errors = errors_of("name: x\nregions:\n  tokyo: {pue: 1.2}\n");
    CHECK(contains(error_at(errors, "time.start").message, "missing required key"));
    CHECK(contains(error_at(errors, "skus").message, "missing required key"));
    CHECK(contains(error_at(errors, "classes").message, "missing required key"));
    CHECK(contains(error_at(errors, "regions.tokyo.power_mw").message, "missing required key"));
    const auto price = error_at(errors, "regions.tokyo.price_usd_per_kwh");
    CHECK(contains(price.message, "exactly one of price_jpy_per_kwh and price_usd_per_kwh"));
    CHECK(price.mark.line == 3);
    CHECK(price.mark.column == 10);
  }
  SECTION("both prices") {
    const auto errors = errors_of(kMinimal, {"regions.tokyo.price_usd_per_kwh=0.1"});
    CHECK(contains(error_at(errors, "regions.tokyo.price_usd_per_kwh").message,
                   "two electricity prices"));
  }
  SECTION("region shares") {
    const std::string fixed = kTwoRegions + "    region_share: {tokyo: 0.5, osaka: 0.4}\n";
    CHECK(contains(error_at(errors_of(fixed), "classes.chat.region_share").message,
                   "shares do not sum to 1 (got 0.9, expected 1 within 1e-6)"));
    const ScenarioSpec s =
        load_text(fixed, {"classes.chat.region_share={tokyo: 0.25, osaka: 0.75}"});
    CHECK(s.classes[0].region_share == std::vector<double>{0.25, 0.75});
    CHECK(contains(
        error_at(errors_of(fixed, {"classes.chat.region_share=~"}), "classes.chat.region_share")
            .message,
        "missing required key"));
  }
  SECTION("power schedule") {
    const ScenarioSpec s = load_text(
        kMinimal,
        {"regions.tokyo.power_mw=[{from: 2024-03-01, mw: 5}, {from: 2024-06-01, mw: 0}]"});
    REQUIRE(s.regions[0].power_mw.size() == 2);
    CHECK(s.regions[0].power_mw[0].from == date(2024, 1, 1));  // first step applies from start
    CHECK(s.regions[0].power_mw[1].mw == 0);
    const auto errors =
        errors_of(kMinimal, {"regions.tokyo.power_mw=[{mw: 0}, {from: 2024-06-01, mw: 0}]",
                             "skus.h100.available_from=2024-02-30"});
    CHECK(contains(error_at(errors, "regions.tokyo.power_mw").message, "no power"));
    CHECK(contains(error_at(errors, "skus.h100.available_from").message, "not a calendar date"));
    const auto unsorted = errors_of(
        kMinimal,
        {"regions.tokyo.power_mw=[{from: 2024-06-01, mw: 5}, {from: 2024-03-01, mw: 6}]"});
    CHECK(contains(error_at(unsorted, "regions.tokyo.power_mw.1.from").message,
                   "dates not increasing"));
  }
  SECTION("seasonality profiles") {
    std::string hourly = "[";
    for (int h = 0; h < 24; ++h) hourly += (h ? ", " : "") + std::string(h < 12 ? "0.5" : "1.5");
    const ScenarioSpec s = load_text(kMinimal, {"classes.chat.hourly=" + hourly + "]"});
    CHECK(s.classes[0].hourly[0] == 0.5);
    CHECK(s.classes[0].hourly[23] == 1.5);
    const auto errors = errors_of(
        kMinimal, {"classes.chat.weekly=[1, 1, 1, 1, 1, 1, 2]", "classes.chat.hourly=fast"});
    CHECK(contains(error_at(errors, "classes.chat.weekly").message, "mean is not 1"));
    CHECK(contains(error_at(errors, "classes.chat.hourly").message, "wrong type"));
  }
  SECTION("training-only and inference-only keys") {
    const auto errors = errors_of(kMinimal, {"classes.chat.max_wait_days=3"});
    CHECK(contains(error_at(errors, "classes.chat.max_wait_days").message,
                   "only for training classes"));
    const ScenarioSpec s =
        load_text(kMinimal, {"classes.chat.kind=training", "classes.chat.max_wait_days=2.5"});
    CHECK(s.classes[0].max_wait_hours == 60);
  }
  SECTION("orders: SKU availability, unknown names") {
    const auto errors = errors_of(
        kMinimal, {"skus.h100.available_from=2024-06-01",
                   "procurement.orders=[{date: 2024-03-01, region: tokyo, sku: h100, count: 1}, "
                   "{date: 2024-03-01, region: tokio, sku: b200, count: 1}]"});
    CHECK(contains(error_at(errors, "procurement.orders.0.date").message,
                   "before SKU 'h100' is available (got 2024-03-01, expected a date on or after "
                   "2024-06-01)"));
    CHECK(
        contains(error_at(errors, "procurement.orders.1.region").message, "did you mean 'tokyo'"));
    CHECK(contains(error_at(errors, "procurement.orders.1.sku").message, "unknown SKU 'b200'"));
  }
  SECTION("scheduled outages inside the horizon") {
    const auto errors = errors_of(
        kMinimal, {"regions.tokyo.scheduled_outages=[{start: 2023-12-31, days: 0, fraction: 2}]"});
    CHECK(contains(error_at(errors, "regions.tokyo.scheduled_outages.0.start").message,
                   "outside the horizon"));
    CHECK(contains(error_at(errors, "regions.tokyo.scheduled_outages.0.days").message,
                   "expected a number in (0, 7300]"));
    CHECK(contains(error_at(errors, "regions.tokyo.scheduled_outages.0.fraction").message,
                   "expected a number in [0, 1]"));
  }
  SECTION("names of SKUs, regions and classes") {
    const auto bad =
        errors_of(kMinimal + "  \"my class\": {kind: training, base_demand_h100e: 1}\n");
    CHECK(contains(error_at(bad, "classes.my class").message, "invalid name"));
  }
  SECTION("wrong types of sections") {
    const auto errors = errors_of(kMinimal + "finance: 5\nfailures: [binomial]\n");
    CHECK(contains(error_at(errors, "finance").message, "wrong type (got 5, expected a map)"));
    CHECK(contains(error_at(errors, "failures").message, "wrong type (got a list"));
  }
  SECTION("did you mean: typos, case and a missing unit suffix") {
    const auto errors = errors_of(kMinimal +
                                  "    Residency: 1\n    penalty_usd_per_h100e_gpuhh: 1\n"
                                  "    revenue: 1\n    zzz: 1\n");
    CHECK(
        contains(error_at(errors, "classes.chat.Residency").message, "did you mean 'residency'?"));
    CHECK(contains(error_at(errors, "classes.chat.penalty_usd_per_h100e_gpuhh").message,
                   "did you mean 'penalty_usd_per_h100e_gpuh'?"));
    CHECK(contains(error_at(errors, "classes.chat.revenue").message,
                   "did you mean 'revenue_usd_per_h100e_gpuh'?"));
    CHECK(contains(error_at(errors, "classes.chat.zzz").message,
                   "unknown key 'zzz' (expected one of: kind, base_demand_h100e, region_share,"));
  }
  SECTION("quoted numbers are text, not numbers") {
    const auto errors = errors_of(kMinimal, {"time.paths='100'"});
    CHECK(contains(error_at(errors, "time.paths").message, "wrong type (got \"100\""));
  }
  SECTION("booleans, seeds, capex timing") {
    const ScenarioSpec s =
        load_text(kMinimal, {"time.deterministic=yes", "finance.capex_timing=at_order"});
    CHECK(s.time.deterministic);
    CHECK(s.finance.capex_timing == capsim::CapexTiming::at_order);
    const auto errors = errors_of(
        kMinimal, {"time.deterministic=maybe", "time.seed=-1", "finance.capex_timing=at_ordr"});
    CHECK(contains(error_at(errors, "time.deterministic").message, "expected true or false"));
    CHECK(contains(error_at(errors, "time.seed").message, "expected a whole number in [0, "));
    CHECK(contains(error_at(errors, "finance.capex_timing").message, "did you mean 'at_order'?"));
  }
}

TEST_CASE("io::load_scenario: model slots are checked against the registry", "[io][loader]") {
  SECTION("defaults are filled in and the mark is set") {
    const ScenarioSpec s = load_text(kMinimal, {"classes.chat.noise={model: log_ar1, sigma: 0.1}"});
    CHECK(s.classes[0].noise.number("phi") == 0.9);
    CHECK(s.classes[0].noise.mark.file == "--set");
    CHECK(s.classes[0].noise.mark.line == 1);
  }
  SECTION("a model name alone selects the model") {
    const ScenarioSpec s = load_text(kMinimal, {"classes.chat.growth=exponential"});
    CHECK(s.classes[0].growth.model == "exponential");
    CHECK(s.classes[0].growth.number("rate") == 0);
  }
  SECTION("missing model key, missing parameter, out-of-range parameter") {
    const auto errors =
        errors_of(kMinimal, {"classes.chat.growth={rate: 1}", "classes.chat.noise={model: log_ar1}",
                             "finance.fx={model: gbm, volatility: 9}"});
    CHECK(contains(error_at(errors, "classes.chat.growth.model").message,
                   "missing required key (expected one of: constant, exponential, logistic, "
                   "piecewise_linear)"));
    CHECK(
        contains(error_at(errors, "classes.chat.noise.sigma").message,
                 "missing required parameter of model \"log_ar1\" (expected a number in [0, 3])"));
    CHECK(contains(error_at(errors, "finance.fx.volatility").message,
                   "out of range (got 9, expected a number in [0, 5])"));
  }
  SECTION("a model without parameters") {
    const auto errors = errors_of(kMinimal, {"failures={model: binomial, p: 1}"});
    CHECK(contains(error_at(errors, "failures.p").message, "this model has no parameters"));
  }
  SECTION("names parameters must name SKUs") {
    const ScenarioSpec s =
        load_text(kMinimal, {"procurement.policy={model: headroom, skus: [h100]}"});
    CHECK(s.procurement.policy.names("skus") == std::vector<std::string>{"h100"});
    CHECK(s.procurement.policy.number("target_utilization") == 0.8);
    const auto errors =
        errors_of(kMinimal, {"procurement.policy={model: headroom, skus: [h100, h200, h100]}"});
    CHECK(contains(error_at(errors, "procurement.policy.skus.1").message,
                   "unknown SKU 'h200' (did you mean 'h100'?)"));
    CHECK(contains(error_at(errors, "procurement.policy.skus.2").message, "duplicate name"));
    CHECK(contains(
        error_at(errors_of(kMinimal, {"procurement.policy=headroom"}), "procurement.policy.skus")
            .message,
        "missing required parameter"));
  }
  SECTION("whole-number parameters: order_unit") {
    const ScenarioSpec s =
        load_text(kMinimal, {"procurement.policy={model: headroom, skus: [h100], order_unit: 8, "
                             "budget_reserve: 0.05}"});
    CHECK(s.procurement.policy.number("order_unit") == 8);
    CHECK(s.procurement.policy.number("budget_reserve") == 0.05);
    CHECK(load_text(kMinimal, {"procurement.policy={model: headroom, skus: [h100]}"})
              .procurement.policy.number("order_unit") == 1);  // default
    const auto errors = errors_of(
        kMinimal, {"procurement.policy={model: headroom, skus: [h100], order_unit: 8.5}"});
    CHECK(contains(error_at(errors, "procurement.policy.order_unit").message,
                   "not a whole number (got 8.5, expected a whole number in [1, 1000000])"));
    CHECK(contains(error_at(errors_of(kMinimal, {"procurement.policy={model: headroom, skus: "
                                                 "[h100], budget_reserve: 1.5}"}),
                            "procurement.policy.budget_reserve")
                       .message,
                   "[0, 1]"));
  }
  SECTION("table parameters: rows of [x, y], x increasing, y in range") {
    const ScenarioSpec s = load_text(
        kMinimal, {"classes.chat.growth={model: piecewise_linear, points: [[0, 1], [12, 2.5]]}"});
    CHECK(s.classes[0].growth.table("points") == capsim::ParamTable{{0, 1}, {12, 2.5}});
    const auto errors = errors_of(
        kMinimal,
        {"classes.chat.growth={model: piecewise_linear, points: [[0, 1], [12, -2], [6, 1], [1]]}"});
    CHECK(contains(error_at(errors, "classes.chat.growth.points.1.1").message,
                   "out of range (got -2, expected a number in [0, 1000])"));
    CHECK(contains(error_at(errors, "classes.chat.growth.points.2.0").message,
                   "x not increasing (got 6, expected a value > 12)"));
    CHECK(contains(error_at(errors, "classes.chat.growth.points.3").message,
                   "wrong shape (got a list of 1 values, expected a row [x, y])"));
  }
}

TEST_CASE("io::load_scenario: all errors are reported at once", "[io][loader]") {
  const std::string text =
      "time: {start: 2024-13-01, horizon_months: 0, paths: -1}\n"
      "skus: {h100: {power_kw: 0, capex_usd: 1, afr: 11}}\n"
      "regions: {tokyo: {power_mw: -1, price_usd_per_kwh: 0.1, pue: 0.5}}\n"
      "classes: {chat: {kind: infrence, base_demand_h100e: 1}}\n"
      "extra: 1\n";
  try {
    load_text(text);
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    const auto& d = e.diagnostics();
    CHECK(d.size() == 9);
    // Sorted top to bottom, and what() holds one formatted line per problem.
    for (std::size_t i = 1; i < d.size(); ++i)
      CHECK(std::make_pair(d[i - 1].mark.line, d[i - 1].mark.column) <=
            std::make_pair(d[i].mark.line, d[i].mark.column));
    const std::string what = e.what();
    CHECK(std::count(what.begin(), what.end(), '\n') == 8);
    CHECK(contains(what, "test.yaml:1:15: time.start: not a calendar date (got 2024-13-01"));
    CHECK(contains(what,
                   "test.yaml:4:24: classes.chat.kind: unknown value (got infrence, did "
                   "you mean 'inference'? expected one of: inference, training)"));
    CHECK(contains(what, "test.yaml:5:1: extra: unknown key 'extra' (expected one of: "));
  }
}

TEST_CASE("io::load_scenario: bad files and documents", "[io][loader]") {
  TempDir dir;
  SECTION("missing file") {
    const auto errors = file_errors(dir.path("nope.yaml"));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].format() == dir.path("nope.yaml") + ": cannot read scenario: no such file");
  }
  SECTION("a directory") {
    const auto errors = file_errors(dir.path());
    REQUIRE(errors.size() == 1);
    CHECK(contains(errors[0].message, "is a directory"));
  }
  SECTION("empty file, comments only, lone null") {
    for (const std::string text : {"", "\n\n", "# nothing here\n", "---\n", "~\n"}) {
      const auto errors = file_errors(dir.write("empty.yaml", text));
      REQUIRE(errors.size() == 1);
      CHECK(contains(errors[0].message, "empty document"));
      CHECK(errors[0].mark.file == dir.path("empty.yaml"));
    }
  }
  SECTION("not a map") {
    CHECK(contains(errors_of("- a\n- b\n")[0].message, "wrong type (got a list, expected a map"));
    CHECK(contains(errors_of("just text\n")[0].message, "wrong type (got just text"));
  }
  SECTION("YAML syntax errors carry the parser's mark") {
    const auto errors = errors_of("time:\n  start: [2024-01-01\nskus: {}\n");
    REQUIRE(errors.size() == 1);
    CHECK(contains(errors[0].message, "YAML syntax error"));
    CHECK(errors[0].mark.line >= 2);
    const auto tab = errors_of("time:\n\tstart: 2024-01-01\n");
    REQUIRE(tab.size() == 1);
    CHECK(tab[0].mark.line == 2);
  }
  SECTION("duplicate keys and non-text keys") {
    const auto errors = errors_of(kMinimal + "time: {start: 2024-02-01}\n[a]: 1\n");
    REQUIRE(errors.size() == 2);
    CHECK(errors[0].message == "duplicate key 'time' (first written at line 1)");
    CHECK(errors[0].mark.line == 10);
    CHECK(contains(errors[1].message, "a key must be plain text"));
  }
  SECTION("more than one document") {
    CHECK(
        contains(errors_of(kMinimal + "---\nname: b\n")[0].message, "more than one YAML document"));
  }
  SECTION("binary garbage") {
    std::string garbage = "time:\n  start: ";
    for (int i = 0; i < 256; ++i) garbage += static_cast<char>(i);
    const auto errors = errors_of(garbage);
    REQUIRE(errors.size() == 1);
    CHECK(contains(errors[0].message, "binary data"));
    CHECK(errors[0].mark.line == 2);
    CHECK(errors[0].mark.column == 10);
    std::mt19937 rng(7);
    for (int round = 0; round < 50; ++round) {
      std::string noise(512, ' ');
      for (auto& c : noise) c = static_cast<char>(1 + rng() % 255);
      CHECK_THROWS_AS(load_text(noise), InputError);
    }
  }
  SECTION("documents over 2 MiB") {
    const std::string big =
        "name: x\ndescription: \"" + std::string(std::size_t{3} << 20, 'a') + "\"\n";
    const auto errors = errors_of(big);
    REQUIRE(errors.size() == 1);
    CHECK(contains(errors[0].message, "document too large"));
    const auto file = file_errors(dir.write("big.yaml", big));
    REQUIRE(file.size() == 1);
    CHECK(contains(file[0].message, "file too large"));
  }
}

TEST_CASE("io::load_scenario: resource limits", "[io][loader]") {
  SECTION("alias bomb") {
    std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
    for (char c = 'b'; c <= 'j'; ++c) {
      const char prev = static_cast<char>(c - 1);
      bomb += std::string(1, c) + ": &" + c + " [";
      for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", " : "") + "*" + prev;
      bomb += "]\n";
    }
    const auto errors = errors_of(bomb);
    REQUIRE(errors.size() == 1);
    CHECK(contains(errors[0].message, "alias bomb"));
  }
  SECTION("aliases within the limit are expanded") {
    const ScenarioSpec s = load_text(
        "time: {start: 2024-01-01}\n"
        "skus:\n  a: &gpu {power_kw: 1.0, capex_usd: 5}\n  b: *gpu\n"
        "regions: {r: {power_mw: 1, price_usd_per_kwh: 0.1}}\n"
        "classes: {c: {kind: inference, base_demand_h100e: 1}}\n");
    REQUIRE(s.skus.size() == 2);
    CHECK(s.skus[1].capex_usd == 5);
  }
  SECTION("recursive alias") {
    CHECK(!errors_of("a: &a [1, *a]\n").empty());
  }
  SECTION("deep flow nesting") {
    const std::string deep = "name: " + std::string(100000, '[') + std::string(100000, ']') + "\n";
    const auto errors = errors_of(deep);
    REQUIRE(errors.size() == 1);
    CHECK(contains(errors[0].message, "nested deeper than 64 levels"));
    CHECK(errors[0].mark.line == 1);
  }
  SECTION("deep block nesting") {
    std::string deep;
    for (int level = 0; level < 100; ++level)
      deep +=
          std::string(static_cast<std::size_t>(level), ' ') + "k" + std::to_string(level) + ":\n";
    deep += std::string(100, ' ') + "v\n";
    CHECK(contains(errors_of(deep)[0].message, "nested deeper than 64 levels"));
    std::string dashes;
    for (int level = 0; level < 5000; ++level) dashes += "- ";
    dashes += "x\n";
    CHECK(contains(errors_of(dashes)[0].message, "nested deeper than 64 levels"));
  }
  SECTION("non-finite numbers") {
    for (const std::string value :
         {".nan", ".NaN", ".inf", "-.inf", "+.Inf", "1e400", "-1e400", "nan", "inf"}) {
      const auto errors = errors_of(kMinimal, {"skus.h100.capex_usd=" + value});
      CHECK(contains(error_at(errors, "skus.h100.capex_usd").message, "not a finite number"));
    }
  }
}
