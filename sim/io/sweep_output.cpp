// The sweep file (HDF5), its CSV and the summary on stdout.
#include "capsim/io/sweep_output.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <numeric>
#include <sstream>

#include "capsim/error.hpp"
#include "capsim/io/output.hpp"
#include "hdf5_file.hpp"
#include "sensitivity_hdf5.hpp"
#include "text_util.hpp"

namespace capsim::io {

namespace {

using detail::Coordinates;
using detail::Handle;
using detail::Reader;
using detail::Writer;

constexpr const char* kFormat = "capsim sweep";
constexpr const char* kCommonRandomNumbers =
    "every point ran the same paths with the same seed, so it saw the same random futures "
    "(common random numbers): differences between points are caused by the varied values";

// Row-major (points x width) copy of stat `j` of a key figure.
std::vector<double> stat_block(const sweep::Table& table, const KeyFigureInfo& info,
                               Eigen::Index j) {
  const Eigen::Index M = table.points();
  std::vector<double> out(static_cast<std::size_t>(M * info.width));
  for (Eigen::Index i = 0; i < M; ++i)
    for (Eigen::Index c = 0; c < info.width; ++c)
      out[static_cast<std::size_t>(i * info.width + c)] =
          table.stats(i, j * table.columns + info.offset + c);
  return out;
}

// The number in a varied value, NaN when it is not one (a model name).
double numeric_value(const std::string& text) {
  double x = 0;
  return sweep::parse_number(text, x) ? x : std::nan("");
}

}  // namespace

std::vector<std::string> key_figure_names(const sweep::Table& table) {
  Layout layout;
  layout.regions = table.regions;
  layout.classes = table.classes;
  layout.key_figures = table.key_figures;
  layout.key_figure_columns = table.columns;
  return key_figure_column_names(layout);
}

void write_sweep_file(const std::string& path, const sweep::Table& table) {
  const Writer writer(path);
  const std::string temp = detail::temporary_name(path);
  detail::TempFileGuard guard;
  Handle file = detail::create_file(temp, path, writer);
  guard.arm(temp);
  const hid_t root = file.get();
  const auto M = static_cast<hsize_t>(table.points());
  const auto A = static_cast<hsize_t>(table.axis_keys.size());

  writer.attr_string(root, "format", kFormat);
  const int version = kSweepFormatVersion;
  writer.attr_scalar(root, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT, &version);
  writer.attr_string(root, "capsim_version", CAPSIM_VERSION);
  writer.attr_string(root, "created", detail::utc_now_iso8601());
  writer.attr_string(root, "sweep_id", table.sweep_id);
  writer.attr_string(root, "scenario_name", table.scenario_name);
  writer.attr_string(root, "scenario_file", detail::printable_utf8(table.scenario_file));
  writer.attr_strings(root, "extends", detail::printable_utf8(table.extends));
  writer.attr_strings(root, "overrides", detail::printable_utf8(table.overrides));
  writer.attr_string(root, "scenario_yaml", table.base_yaml);
  writer.attr_string(root, "sweep_definition", table.definition_text);
  writer.attr_string(root, "method", table.method);
  writer.attr_int64(root, "samples", table.samples);
  writer.attr_uint64(root, "seed", table.seed);
  writer.attr_int64(root, "paths", table.paths);
  writer.attr_int64(root, "points", table.points());
  writer.attr_int64(root, "points_done", table.points_done());
  writer.attr_string(root, "shard", table.shard);
  writer.attr_string(root, "common_random_numbers", kCommonRandomNumbers);
  writer.attr_int64(root, "levels", table.levels);
  writer.attr_string(root, "sensitivity_target", table.target);

  std::vector<std::int64_t> index(M);
  std::iota(index.begin(), index.end(), std::int64_t{0});
  // The coordinates of a group: the points, the varied keys, the labels.
  const auto add_coordinates = [&](Coordinates& coordinates, const std::string& dims) {
    for (const auto& [name, add] :
         std::initializer_list<std::pair<const char*, std::function<void()>>>{
             {"point", [&] { coordinates.int64s("point", index); }},
             {"key", [&] { coordinates.strings("key", table.axis_keys); }},
             {"region", [&] { coordinates.strings("region", table.regions); }},
             {"sku", [&] { coordinates.strings("sku", table.skus); }},
             {"workload", [&] { coordinates.strings("workload", table.classes); }}})
      if (("," + dims + ",").find(std::string(",") + name + ",") != std::string::npos &&
          !coordinates.has(name))
        add();
  };
  {
    const Handle labels = writer.group(root, "labels");
    Coordinates coordinates(writer, labels.get());
    add_coordinates(coordinates, "region,sku,workload");
  }
  {
    const Handle axes = writer.group(root, "axes");
    Coordinates coordinates(writer, axes.get());
    add_coordinates(coordinates, "key");
    const Handle specs = writer.strings(axes.get(), "specs", table.axis_specs);
    coordinates.attach(specs.get(), "key");
  }
  {
    const Handle points = writer.group(root, "points");
    Coordinates coordinates(writer, points.get());
    add_coordinates(coordinates, "point,key");
    const Handle done = writer.uint8s(points.get(), "done", table.done);
    coordinates.attach(done.get(), "point");
    std::vector<std::string> values;
    std::vector<double> numeric;
    for (const auto& point : table.values)
      for (const auto& v : point) {
        values.push_back(v);
        numeric.push_back(numeric_value(v));
      }
    const Handle text = writer.strings(points.get(), "values", values, {M, A});
    coordinates.attach(text.get(), "point,key");
    const Handle numbers = writer.doubles(points.get(), "numeric", {M, A}, numeric.data());
    coordinates.attach(numbers.get(), "point,key");
  }
  {
    const Handle figures = writer.group(root, "key_figures");
    std::string order;
    for (const auto& info : table.key_figures) order += (order.empty() ? "" : ",") + info.name;
    writer.attr_string(figures.get(), "order", order);
    Coordinates figure_coordinates(writer, figures.get());
    add_coordinates(figure_coordinates, "point");
    const Handle prob =
        writer.doubles(figures.get(), "prob_over_budget", {M}, table.prob_over_budget.data());
    figure_coordinates.attach(prob.get(), "point");
    writer.attr_string(prob.get(), "unit", "probability");
    writer.attr_string(prob.get(), "description",
                       "share of paths whose total spend exceeds the budget");
    for (const KeyFigureInfo& info : table.key_figures) {
      const Handle group = writer.group(figures.get(), info.name);
      writer.attr_string(group.get(), "unit", info.unit);
      writer.attr_string(group.get(), "description", info.description);
      const std::string dims_of = detail::dims_text("point", info.dims);
      writer.attr_string(group.get(), "dims", dims_of);
      Coordinates coordinates(writer, group.get());
      add_coordinates(coordinates, dims_of);
      std::vector<hsize_t> dims = {M};
      if (!info.dims.empty()) dims.push_back(static_cast<hsize_t>(info.width));
      for (std::size_t j = 0; j < kStatNames.size(); ++j) {
        const auto block = stat_block(table, info, static_cast<Eigen::Index>(j));
        const Handle set = writer.doubles(group.get(), kStatNames[j], dims, block.data());
        coordinates.attach(set.get(), dims_of);
      }
    }
  }
  if (table.sensitivity) detail::write_sensitivity(writer, root, *table.sensitivity);
  writer.check_status(H5Fflush(root, H5F_SCOPE_GLOBAL), "flush");
  writer.check_status(file.reset(), "close");
  detail::publish(temp, path);
  guard.release();
}

sweep::Table read_sweep_file(const std::string& path) {
  const Reader reader(path);
  const hid_t root = reader.root();
  if (!reader.has_attr(root, "format") || reader.attr_string(root, "format") != kFormat)
    reader.fail("not a capsim sweep file (no format = \"capsim sweep\" attribute)");
  if (const auto version = reader.attr_int64(root, "format_version");
      version != kSweepFormatVersion)
    reader.fail("sweep file format " + std::to_string(version) + " (this capsim reads format " +
                std::to_string(kSweepFormatVersion) + ")");

  sweep::Table table;
  table.sweep_id = reader.attr_string(root, "sweep_id");
  table.scenario_name = reader.attr_string(root, "scenario_name");
  table.scenario_file = reader.attr_string(root, "scenario_file");
  table.extends = reader.attr_strings(root, "extends");
  table.overrides = reader.attr_strings(root, "overrides");
  table.base_yaml = reader.attr_string(root, "scenario_yaml");
  table.definition_text = reader.attr_string(root, "sweep_definition");
  table.method = reader.attr_string(root, "method");
  table.samples = reader.attr_int64(root, "samples");
  table.seed = reader.attr_uint64(root, "seed");
  table.paths = reader.attr_int64(root, "paths");
  table.shard = reader.attr_string(root, "shard");
  // Added with the sensitivity methods; older files have neither.
  if (reader.has_attr(root, "levels")) table.levels = reader.attr_int64(root, "levels");
  if (reader.has_attr(root, "sensitivity_target"))
    table.target = reader.attr_string(root, "sensitivity_target");
  const std::int64_t M = reader.attr_int64(root, "points");
  if (M < 0 || M > sweep::kMaxPoints) reader.fail("bad number of points");

  {
    const Handle labels = reader.group(root, "labels");
    table.regions = reader.strings(labels.get(), "region");
    table.skus = reader.strings(labels.get(), "sku");
    table.classes = reader.strings(labels.get(), "workload");
  }
  {
    const Handle axes = reader.group(root, "axes");
    table.axis_keys = reader.strings(axes.get(), "key");
    table.axis_specs = reader.strings(axes.get(), "specs");
    if (table.axis_specs.size() != table.axis_keys.size()) reader.fail("axes do not match");
  }
  const std::size_t A = table.axis_keys.size();
  {
    const Handle points = reader.group(root, "points");
    table.done = reader.uint8s(points.get(), "done");
    const auto values = reader.strings(points.get(), "values");
    if (table.done.size() != static_cast<std::size_t>(M) ||
        values.size() != static_cast<std::size_t>(M) * A)
      reader.fail("the points datasets do not match the number of points");
    for (std::int64_t i = 0; i < M; ++i)
      table.values.emplace_back(values.begin() + static_cast<std::ptrdiff_t>(i * A),
                                values.begin() + static_cast<std::ptrdiff_t>((i + 1) * A));
  }
  {
    const Handle figures = reader.group(root, "key_figures");
    std::vector<std::string> order;
    {
      std::istringstream in(reader.attr_string(figures.get(), "order"));
      std::string name;
      while (std::getline(in, name, ',')) order.push_back(name);
    }
    const auto prob = reader.doubles(figures.get(), "prob_over_budget");
    if (prob.size() != static_cast<std::size_t>(M)) reader.fail("prob_over_budget has a bad size");
    table.prob_over_budget = Eigen::Map<const Eigen::ArrayXd>(prob.data(), M);
    Eigen::Index offset = 0;
    std::vector<std::vector<std::vector<double>>> blocks;
    for (const std::string& name : order) {
      const Handle group = reader.group(figures.get(), name);
      KeyFigureInfo info;
      info.name = name;
      info.unit = reader.attr_string(group.get(), "unit");
      info.description = reader.attr_string(group.get(), "description");
      const std::string dims = reader.attr_string(group.get(), "dims");
      if (dims == "point,workload") {
        info.dims = {Dim::klass};
        info.width = static_cast<Eigen::Index>(table.classes.size());
      } else if (dims == "point,region") {
        info.dims = {Dim::region};
        info.width = static_cast<Eigen::Index>(table.regions.size());
      } else if (dims != "point") {
        reader.fail("key figure " + name + " has unknown dimensions " + dims);
      }
      info.offset = offset;
      offset += info.width;
      std::vector<std::vector<double>> stats;
      for (const char* stat : kStatNames) {
        stats.push_back(reader.doubles(group.get(), stat));
        if (stats.back().size() != static_cast<std::size_t>(M * info.width))
          reader.fail("key figure " + name + "/" + stat + " has a bad size");
      }
      blocks.push_back(std::move(stats));
      table.key_figures.push_back(std::move(info));
    }
    table.columns = offset;
    table.stats.resize(M, 4 * offset);
    for (std::size_t k = 0; k < table.key_figures.size(); ++k) {
      const KeyFigureInfo& info = table.key_figures[k];
      for (Eigen::Index j = 0; j < 4; ++j)
        for (Eigen::Index i = 0; i < M; ++i)
          for (Eigen::Index c = 0; c < info.width; ++c)
            table.stats(i, j * offset + info.offset + c) =
                blocks[k][static_cast<std::size_t>(j)]
                      [static_cast<std::size_t>(i * info.width + c)];
    }
  }
  table.sensitivity = detail::read_sensitivity(reader, root);
  return table;
}

void write_sweep_csv(const std::string& path, const sweep::Table& table) {
  detail::TextOutput file(path);
  std::ofstream& out = file.out;
  const auto names = key_figure_names(table);
  out << "point";
  for (const auto& key : table.axis_keys) out << ',' << detail::csv_field(key);
  out << ",prob_over_budget";
  for (const auto& name : names)
    for (const char* stat : kStatNames) out << ',' << detail::csv_field(name + "_" + stat);
  out << '\n';
  for (std::int64_t i = 0; i < table.points(); ++i) {
    if (!table.done[static_cast<std::size_t>(i)]) continue;
    out << i;
    for (const auto& v : table.values[static_cast<std::size_t>(i)])
      out << ',' << detail::csv_field(v);
    out << ',' << detail::full_precision(table.prob_over_budget[i]);
    for (Eigen::Index c = 0; c < table.columns; ++c)
      for (Eigen::Index j = 0; j < 4; ++j)
        out << ',' << detail::full_precision(table.stats(i, j * table.columns + c));
    out << '\n';
  }
  file.commit();
}

SweepSort parse_sweep_sort(const sweep::Table& table, const std::string& text) {
  SweepSort sort;
  sort.name = text;
  if (const auto colon = text.rfind(':'); colon != std::string::npos) {
    const std::string order = text.substr(colon + 1);
    if (order != "desc" && order != "asc")
      throw InputError("--sort '" + text + "': expected NAME, NAME:asc or NAME:desc");
    sort.descending = order == "desc";
    sort.name = text.substr(0, colon);
  }
  if (sort.name == "prob_over_budget") return sort;
  const auto names = key_figure_names(table);
  const auto it = std::find(names.begin(), names.end(), sort.name);
  if (it == names.end()) {
    std::string list = "prob_over_budget";
    for (const auto& n : names) list += ", " + n;
    throw InputError("--sort '" + text + "': unknown key figure '" + sort.name +
                     "' (expected one of: " + list + ")");
  }
  sort.column = it - names.begin();
  return sort;
}

sweep::Target parse_sensitivity_target(const sweep::Table& table, const std::string& text) {
  std::string name = text;
  int stat = 0;
  if (const auto colon = text.rfind(':'); colon != std::string::npos)
    for (std::size_t j = 0; j < kStatNames.size(); ++j)
      if (text.substr(colon + 1) == kStatNames[j]) {
        stat = static_cast<int>(j);
        name = text.substr(0, colon);
      }
  // The mean of the 0/1 indicator is the probability.
  if (name == "prob_over_budget") name = "over_budget";
  const auto names = key_figure_names(table);
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    throw InputError("--target '" + text + "': unknown key figure '" + name +
                     "' (expected one of: " + list +
                     "; the mean across paths, or a quantile with :p05, :p50 or :p95)");
  }
  sweep::Target target;
  target.column = it - names.begin();
  target.stat = stat;
  target.name = stat == 0 ? name : name + ":" + kStatNames[static_cast<std::size_t>(stat)];
  for (const KeyFigureInfo& info : table.key_figures)
    if (target.column >= info.offset && target.column < info.offset + info.width)
      target.unit = info.unit;
  return target;
}

std::vector<sweep::Target> sensitivity_targets(const sweep::Table& table,
                                               const sweep::Target& shown) {
  std::vector<sweep::Target> targets;
  const auto names = key_figure_names(table);
  for (const std::string& name : names) targets.push_back(parse_sensitivity_target(table, name));
  if (shown.stat != 0) targets.push_back(shown);
  return targets;
}

void print_sweep_summary(std::ostream& out, const sweep::Table& table, const SweepSort* sort) {
  const auto names = key_figure_names(table);
  struct Column {
    std::string header;
    Eigen::Index column;  // -1: prob_over_budget
    detail::Display display;
  };
  std::vector<Column> columns;
  const auto add = [&](Eigen::Index column) {
    for (const auto& c : columns)
      if (c.column == column) return;
    if (column < 0) {
      columns.push_back({"P(over budget) %", -1, {"%", 100.0, 1}});
      return;
    }
    const KeyFigureInfo* info = nullptr;
    for (const auto& k : table.key_figures)
      if (column >= k.offset && column < k.offset + k.width) info = &k;
    const detail::Display d = detail::display_for(info->unit);
    columns.push_back({names[static_cast<std::size_t>(column)] + " (" + d.unit + ")", column, d});
  };
  for (const char* wanted : {"total_spend_usd", "inference_service_level", "npv_usd"}) {
    const auto it = std::find(names.begin(), names.end(), wanted);
    if (it != names.end()) add(it - names.begin());
  }
  add(-1);
  if (sort) add(sort->column);

  const auto value = [&](std::int64_t i, Eigen::Index column) {
    return column < 0 ? table.prob_over_budget[i] : table.stats(i, column);  // mean
  };
  std::vector<std::int64_t> rows;
  for (std::int64_t i = 0; i < table.points(); ++i)
    if (table.done[static_cast<std::size_t>(i)]) rows.push_back(i);
  if (sort) {
    std::stable_sort(rows.begin(), rows.end(), [&](std::int64_t a, std::int64_t b) {
      const double x = value(a, sort->column), y = value(b, sort->column);
      if (std::isnan(x) || std::isnan(y)) return !std::isnan(x) && std::isnan(y);
      return sort->descending ? x > y : x < y;
    });
  }

  std::vector<std::vector<std::string>> lines;
  std::vector<std::string> header = {"point"};
  for (const auto& key : table.axis_keys) header.push_back(key);
  for (const auto& c : columns) header.push_back(c.header);
  lines.push_back(header);
  for (const std::int64_t i : rows) {
    std::vector<std::string> line = {std::to_string(i)};
    for (const auto& v : table.values[static_cast<std::size_t>(i)]) line.push_back(v);
    for (const auto& c : columns) line.push_back(detail::shown(value(i, c.column), c.display));
    lines.push_back(std::move(line));
  }
  // Varied values read left to right; numbers align on the right.
  detail::print_table(out, lines, 1, 1 + table.axis_keys.size());
}

}  // namespace capsim::io
