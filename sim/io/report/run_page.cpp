// The page of a run file: headline figures, fan charts over time per region,
// the distribution of total spend, provenance (docs/report.md).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>

#include "assets.hpp"
#include "capsim/results.hpp"
#include "page.hpp"

namespace capsim::io::report {

namespace {

using detail::Handle;
using detail::Reader;

// Steps drawn per series at most; longer runs (hourly) show every n-th step.
constexpr int kMaxChartSteps = 1500;

// The series the charts draw and the dimensions each must have.
struct Charted {
  const char* name;
  const char* dims;  // the group's `dims` attribute
};
constexpr Charted kCharted[] = {
    {"region_demand_h100e_gpuh", "step,region"},
    {"capacity_h100e_gpuh", "step,region"},
    {"unserved_h100e_gpuh", "step,workload,region"},
    {"utilization", "step,region"},
    {"gpus_installed", "step,sku,region"},
    {"gpus_failed", "step,sku,region"},
    {"gpus_stranded", "step,sku,region"},
    {"gpus_on_order", "step,sku,region"},
    {"power_mw", "step,region"},
    {"power_cap_mw", "step,region"},
    {"spend_cum_usd", "step"},
    {"usd_jpy", "step"},
};

struct Labels {
  std::vector<std::string> regions, skus, classes, step_start;
  const std::vector<std::string>& of(const std::string& dim) const {
    return dim == "region" ? regions : dim == "sku" ? skus : classes;
  }
};

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t from = 0;
  while (from <= text.size() && !text.empty()) {
    const std::size_t comma = std::min(text.find(',', from), text.size());
    parts.push_back(text.substr(from, comma - from));
    from = comma + 1;
  }
  return parts;
}

std::string shape_text(const std::vector<hsize_t>& dims) {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i)
    s += (i ? ", " : "") + std::to_string(static_cast<unsigned long long>(dims[i]));
  return s + "]";
}

// Milliseconds since 1970-01-01T00:00Z of "YYYY-MM-DDTHH:MM".
double step_start_ms(const Reader& file, const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d%c", &y, &mo, &d, &h, &mi, &tail) != 5)
    file.fail("labels/step_start holds '" + text + "' (expected YYYY-MM-DDTHH:MM)");
  const std::chrono::year_month_day day{std::chrono::year(y), std::chrono::month(mo),
                                        std::chrono::day(d)};
  if (!day.ok()) file.fail("labels/step_start holds the invalid date '" + text + "'");
  const auto minutes = std::chrono::sys_days(day).time_since_epoch() + std::chrono::hours(h) +
                       std::chrono::minutes(mi);
  return 60000.0 *
         static_cast<double>(std::chrono::duration_cast<std::chrono::minutes>(minutes).count());
}

// /series/<name>: checks its dims and shape, writes its statistics at the
// shown steps, one array per cell (row-major over its dimensions).
void write_series(const Reader& file, hid_t series, const Charted& charted, const Labels& labels,
                  const std::vector<int>& shown, Json& json) {
  const Handle group = file.group(series, charted.name);
  const std::string dims = file.attr_string(group.get(), "dims");
  if (dims != charted.dims)
    file.fail(std::string("series/") + charted.name + " has dims '" + dims + "' (expected '" +
              charted.dims + "')");
  std::vector<hsize_t> shape = {labels.step_start.size()};
  const std::vector<std::string> names = split(dims);
  for (std::size_t i = 1; i < names.size(); ++i) shape.push_back(labels.of(names[i]).size());
  std::size_t width = 1;
  for (std::size_t i = 1; i < shape.size(); ++i) width *= static_cast<std::size_t>(shape[i]);

  json.key(charted.name).begin_object();
  json.key("unit").string(file.attr_string(group.get(), "unit"));
  json.key("description").string(file.attr_string(group.get(), "description"));
  json.key("dims").strings({names.begin() + 1, names.end()});
  json.key("stats").begin_object();
  for (const char* stat : kStatNames) {
    const auto got = file.dims(group.get(), stat);
    if (got != shape)
      file.fail(std::string("series/") + charted.name + "/" + stat + " has shape " +
                shape_text(got) + " (expected " + shape_text(shape) + ")");
    const std::vector<double> values = file.doubles(group.get(), stat);
    json.key(stat).begin_array();
    for (std::size_t cell = 0; cell < width; ++cell) {
      json.begin_array();
      for (int t : shown)
        json.number(values[static_cast<std::size_t>(t) * width + cell], kChartDigits);
      json.end_array();
    }
    json.end_array();
  }
  json.end_object().end_object();
}

// Key-figure names in the catalog's order (those this build does not know
// last, by name), so the table reads like `capsim run`'s.
std::vector<std::string> catalog_order(std::vector<std::string> names) {
  ScenarioSpec shape;
  shape.regions.resize(1);
  shape.skus.resize(1);
  shape.classes.resize(1);
  std::map<std::string, std::size_t> rank;
  for (const auto& k : make_layout(shape).key_figures) rank.emplace(k.name, rank.size());
  const auto rank_of = [&](const std::string& n) {
    const auto it = rank.find(n);
    return it == rank.end() ? rank.size() : it->second;
  };
  std::stable_sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    return rank_of(a) < rank_of(b);
  });
  return names;
}

void write_key_figures(const Reader& file, const Labels& labels, Json& json) {
  const Handle figures = file.group(file.root(), "key_figures");
  json.key("prob_over_budget").number(file.attr_double(figures.get(), "prob_over_budget"));
  json.key("key_figures").begin_array();
  for (const std::string& name : catalog_order(file.members(figures.get()))) {
    const Handle group = file.group(figures.get(), name);
    const std::string dims = file.attr_string(group.get(), "dims");
    if (dims != "" && dims != "workload" && dims != "region")
      file.fail("key_figures/" + name + " has unknown dims '" + dims + "'");
    // A figure without dims is a scalar.
    const std::vector<hsize_t> shape =
        dims.empty() ? std::vector<hsize_t>{} : std::vector<hsize_t>{labels.of(dims).size()};
    json.begin_object();
    json.key("name").string(name);
    json.key("unit").string(file.attr_string(group.get(), "unit"));
    json.key("description").string(file.attr_string(group.get(), "description"));
    json.key("dims").string(dims);
    for (const char* stat : kStatNames) {
      const auto got = file.dims(group.get(), stat);
      if (got != shape)
        file.fail("key_figures/" + name + "/" + stat + " has shape " + shape_text(got) +
                  " (expected " + shape_text(shape) + ")");
      json.key(stat).begin_array();
      for (double x : file.doubles(group.get(), stat)) json.number(x);
      json.end_array();
    }
    json.end_object();
  }
  json.end_array();
}

// The distribution of every path's total spend: equal bins from the least
// to the largest value; bin i holds edges[i] <= x < edges[i+1], the last
// bin also its upper edge. Values that are not finite are counted apart.
void write_spend_histogram(const Reader& file, std::int64_t paths, Json& json) {
  const Handle per_path = file.group(file.root(), "paths");
  const Handle figures = file.group(per_path.get(), "key_figures");
  const auto got = file.dims(figures.get(), "total_spend_usd");
  if (got != std::vector<hsize_t>{static_cast<hsize_t>(paths)})
    file.fail("paths/key_figures/total_spend_usd has shape " + shape_text(got) + " (expected [" +
              std::to_string(paths) + "])");
  std::vector<double> x = file.doubles(figures.get(), "total_spend_usd");
  const auto finite_end =
      std::partition(x.begin(), x.end(), [](double v) { return std::isfinite(v); });
  const auto not_finite = static_cast<long long>(x.end() - finite_end);
  x.erase(finite_end, x.end());
  std::sort(x.begin(), x.end());
  json.key("spend_histogram").begin_object();
  json.key("not_finite").integer(not_finite);
  if (x.empty()) {
    json.key("edges").begin_array().end_array().key("counts").begin_array().end_array();
    json.end_object();
    return;
  }
  double lo = x.front(), hi = x.back();
  // Rice's rule, 10 to 60 bins; identical paths: one bin around the value.
  auto n = static_cast<int>(
      std::clamp(std::ceil(2.0 * std::cbrt(static_cast<double>(x.size()))), 10.0, 60.0));
  if (hi == lo) {
    const double half = std::max(std::abs(lo) * 1e-6, 1.0);
    lo -= half;
    hi += half;
    n = 1;
  }
  std::vector<double> edges(static_cast<std::size_t>(n) + 1);
  for (int i = 0; i <= n; ++i) edges[static_cast<std::size_t>(i)] = lo + (hi - lo) * i / n;
  edges.back() = hi;
  std::vector<long long> counts(static_cast<std::size_t>(n), 0);
  for (double v : x) {
    const auto bin = std::upper_bound(edges.begin(), edges.end(), v) - edges.begin() - 1;
    ++counts[static_cast<std::size_t>(std::clamp<std::ptrdiff_t>(bin, 0, n - 1))];
  }
  json.key("edges").begin_array();
  for (double e : edges) json.number(e);
  json.end_array().key("counts").begin_array();
  for (long long c : counts) json.integer(c);
  json.end_array().end_object();
}

}  // namespace

void build_run_page(const std::string& path, const Reader& file, const ReportOptions& options,
                    Page& page) {
  if (!options.metric.empty())
    file.fail("--metric chooses the key figure of a sweep page; this is a run file");
  const hid_t root = file.root();
  Labels labels;
  {
    const Handle group = file.group(root, "labels");
    labels.regions = file.strings(group.get(), "region");
    labels.skus = file.strings(group.get(), "sku");
    labels.classes = file.strings(group.get(), "workload");
    labels.step_start = file.strings(group.get(), "step_start");
  }
  const std::int64_t steps = file.attr_int64(root, "steps");
  if (steps < 1 || static_cast<std::size_t>(steps) != labels.step_start.size())
    file.fail("labels/step_start has " + std::to_string(labels.step_start.size()) +
              " steps, the file " + std::to_string(steps));
  const std::int64_t paths = file.attr_int64(root, "paths");
  if (paths < 1) file.fail("paths is " + std::to_string(paths));
  const int stride = static_cast<int>((steps + kMaxChartSteps - 1) / kMaxChartSteps);
  std::vector<int> shown;
  for (int t = 0; t < steps; t += stride) shown.push_back(t);

  begin_page("run", "capsim report: " + file.attr_string(root, "scenario_name"), assets::run_js,
             file, path, page);
  Json& json = page.data;
  json.key("steps").integer(steps);
  json.key("step_hours").number(file.attr_double(root, "step_hours"));
  json.key("start_date").string(file.attr_string(root, "start_date"));
  json.end_object();
  const double budget = file.attr_double(root, "budget_usd");
  json.key("budget_usd").number(budget);  // null without a budget (infinite)
  json.key("labels").begin_object();
  json.key("regions").strings(labels.regions);
  json.key("skus").strings(labels.skus);
  json.key("classes").strings(labels.classes);
  json.end_object();
  json.key("time").begin_object();
  json.key("stride").integer(stride);
  json.key("steps").begin_array();
  for (int t : shown) json.integer(t);
  json.end_array().key("ms").begin_array();
  for (int t : shown)
    json.number(step_start_ms(file, labels.step_start[static_cast<std::size_t>(t)]));
  json.end_array().end_object();
  {
    const Handle series = file.group(root, "series");
    json.key("series").begin_object();
    for (const Charted& c : kCharted) write_series(file, series.get(), c, labels, shown, json);
    json.end_object();
  }
  write_key_figures(file, labels, json);
  write_spend_histogram(file, paths, json);
  json.end_object();
}

}  // namespace capsim::io::report
