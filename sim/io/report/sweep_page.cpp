// The page of a sweep file: the table of points, and for a chosen key
// figure its response to each varied key (docs/report.md).
#include <algorithm>

#include "assets.hpp"
#include "capsim/error.hpp"
#include "capsim/io/sweep_output.hpp"
#include "page.hpp"

namespace capsim::io::report {

void build_sweep_page(const std::string& path, const detail::Reader& file,
                      const ReportOptions& options, Page& page) {
  const sweep::Table table = read_sweep_file(path);
  const std::vector<std::string> names = key_figure_names(table);
  std::string metric = options.metric.empty() ? "total_spend_usd" : options.metric;
  if (metric != "prob_over_budget" &&
      std::find(names.begin(), names.end(), metric) == names.end()) {
    std::string list = "prob_over_budget";
    for (const auto& n : names) list += ", " + n;
    throw InputError("--metric '" + metric + "': " + path + " has no such key figure (it has " +
                     list + ")");
  }
  std::vector<std::int64_t> done;
  for (std::int64_t i = 0; i < table.points(); ++i)
    if (table.done[static_cast<std::size_t>(i)]) done.push_back(i);

  const hid_t root = file.root();
  begin_page("sweep", "capsim report: sweep of " + table.scenario_name, assets::sweep_js, file,
             path, page);
  Json& json = page.data;
  json.key("method").string(table.method);
  json.key("samples").integer(table.samples);
  json.key("points").integer(table.points());
  json.key("points_done").integer(static_cast<long long>(done.size()));
  json.key("shard").string(table.shard);
  json.key("sweep_definition").string(table.definition_text);
  json.key("common_random_numbers").string(file.attr_string(root, "common_random_numbers"));
  json.end_object();
  json.key("metric").string(metric);
  json.key("points").begin_array();
  for (std::int64_t i : done) json.integer(i);
  json.end_array();

  json.key("axes").begin_array();
  for (std::size_t a = 0; a < table.axis_keys.size(); ++a) {
    json.begin_object();
    json.key("key").string(table.axis_keys[a]);
    json.key("spec").string(table.axis_specs[a]);
    json.key("values").begin_array();
    for (std::int64_t i : done) json.string(table.values[static_cast<std::size_t>(i)][a]);
    json.end_array().key("numeric").begin_array();
    for (std::int64_t i : done) {
      double x = 0;
      if (sweep::parse_number(table.values[static_cast<std::size_t>(i)][a], x))
        json.number(x);
      else
        json.null();
    }
    json.end_array().end_object();
  }
  json.end_array();

  // Column 0 is prob_over_budget (a probability: no quantiles), then every
  // key-figure column in catalog order.
  json.key("columns").begin_array();
  json.begin_object()
      .key("name")
      .string("prob_over_budget")
      .key("unit")
      .string("probability")
      .key("description")
      .string("share of paths whose total spend exceeds the budget")
      .end_object();
  for (const KeyFigureInfo& info : table.key_figures)
    for (Eigen::Index c = 0; c < info.width; ++c)
      json.begin_object()
          .key("name")
          .string(names[static_cast<std::size_t>(info.offset + c)])
          .key("unit")
          .string(info.unit)
          .key("description")
          .string(info.description)
          .end_object();
  json.end_array();
  json.key("stats").begin_object();
  for (Eigen::Index j = 0; j < 4; ++j) {
    json.key(kStatNames[static_cast<std::size_t>(j)]).begin_array();
    json.begin_array();
    for (std::int64_t i : done)
      j == 0 ? json.number(table.prob_over_budget[i], kChartDigits) : json.null();
    json.end_array();
    for (Eigen::Index c = 0; c < table.columns; ++c) {
      json.begin_array();
      for (std::int64_t i : done) json.number(table.stats(i, j * table.columns + c), kChartDigits);
      json.end_array();
    }
    json.end_array();
  }
  json.end_object();
  json.end_object();
}

}  // namespace capsim::io::report
