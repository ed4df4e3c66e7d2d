// Key figures as a readable table, CSV and JSON.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "capsim/error.hpp"
#include "capsim/io/output.hpp"
#include "text_util.hpp"

namespace capsim::io {

namespace {

using detail::csv_field;
using detail::Display;
using detail::display_for;
using detail::full_precision;
using detail::json_number;
using detail::json_string;
using detail::readable;
using detail::shown;
using detail::TextOutput;

// One row of output: a key figure, or one class (region) of a per-class
// (per-region) key figure.
struct Row {
  std::string name;  // e.g. "unserved_fraction[inference]"
  const KeyFigureInfo* info = nullptr;
  std::array<double, 4> stats{};
};

std::vector<Row> rows_of(const RunResult& result) {
  const Layout& layout = result.layout;
  const std::vector<std::string> names = key_figure_column_names(layout);
  std::vector<Row> rows;
  for (const KeyFigureInfo& info : layout.key_figures) {
    for (Eigen::Index i = 0; i < info.width; ++i) {
      Row row;
      row.info = &info;
      row.name = names[static_cast<std::size_t>(info.offset + i)];
      for (Eigen::Index j = 0; j < 4; ++j)
        row.stats[static_cast<std::size_t>(j)] = result.key_figure_stats(j, info.offset + i);
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

// `--set ARG`, quoted for a POSIX shell when ARG holds anything else than
// letters, digits and _.=:,+-/ (so that the line can be pasted back).
std::string set_argument(const std::string& arg) {
  const bool plain = !arg.empty() && std::all_of(arg.begin(), arg.end(), [](unsigned char c) {
    return std::isalnum(c) ||
           std::string_view("_.=:,+-/").find(static_cast<char>(c)) != std::string_view::npos;
  });
  if (plain) return "--set " + arg;
  std::string quoted = "'";
  for (char c : arg) {
    if (c == '\'')
      quoted += "'\\''";
    else
      quoted += c;
  }
  quoted += '\'';
  return "--set " + quoted;
}

}  // namespace

std::string provenance_text(const ScenarioSpec& spec) {
  // File names and overrides may hold any bytes; the terminal gets UTF-8.
  std::string text = "  from " + detail::printable_utf8(spec.source_file);
  for (std::size_t i = 0; i < spec.extends.size(); ++i) {
    text += i == 0 ? ", extending " : ", ";
    text += detail::printable_utf8(spec.extends[i]);
  }
  text += "\n  overrides:";
  if (spec.overrides.empty()) text += " none (the scenario as written)";
  for (const auto& o : spec.overrides) {
    text += ' ';
    text += detail::printable_utf8(set_argument(o));
  }
  text += "\n  capsim " CAPSIM_VERSION "\n";
  return text;
}

std::vector<std::string> key_figure_column_names(const Layout& layout) {
  std::vector<std::string> names(static_cast<std::size_t>(layout.key_figure_columns));
  for (const KeyFigureInfo& info : layout.key_figures)
    for (Eigen::Index i = 0; i < info.width; ++i)
      names[static_cast<std::size_t>(info.offset + i)] =
          info.dims.empty()
              ? info.name
              : info.name + "[" +
                    layout.dim_labels(info.dims.front()).at(static_cast<std::size_t>(i)) + "]";
  return names;
}

void print_key_figures(std::ostream& out, const ScenarioSpec& spec, const RunResult& result) {
  const Layout& layout = result.layout;
  out << "scenario " << spec.name << ": " << result.paths << " paths, seed " << result.seed << ", "
      << layout.steps << " steps of " << readable(layout.step_hours) << " h";
  if (result.wall_seconds > 0.0) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.2f", result.wall_seconds);
    out << ", run time " << seconds << " s";
  }
  out << "\n" << provenance_text(spec) << "\n";

  struct Line {
    std::string name, unit;
    std::array<std::string, 4> values;
  };
  std::vector<Line> lines;
  lines.push_back({"key figure", "unit", {"mean", "p05", "p50", "p95"}});
  for (const Row& row : rows_of(result)) {
    const Display d = display_for(row.info->unit);
    Line line{row.name, d.unit, {}};
    for (std::size_t j = 0; j < 4; ++j) line.values[j] = shown(row.stats[j], d);
    lines.push_back(std::move(line));
  }

  std::size_t name_width = 0, unit_width = 0, value_width = 0;
  for (const Line& line : lines) {
    name_width = std::max(name_width, line.name.size());
    unit_width = std::max(unit_width, line.unit.size());
    for (const auto& v : line.values) value_width = std::max(value_width, v.size());
  }
  auto pad_right = [](const std::string& s, std::size_t w) {
    return s + std::string(w - s.size(), ' ');
  };
  auto pad_left = [](const std::string& s, std::size_t w) {
    return std::string(w - s.size(), ' ') + s;
  };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const Line& line = lines[i];
    out << pad_right(line.name, name_width) << "  " << pad_right(line.unit, unit_width);
    for (const auto& v : line.values) out << "  " << pad_left(v, value_width);
    out << '\n';
    if (i == 0) {
      out << std::string(name_width + 2 + unit_width + 4 * (value_width + 2), '-') << '\n';
    }
  }
  out << "\nprobability of exceeding the budget: " << shown(result.prob_over_budget, {"%", 100, 2})
      << " %\n";
}

void write_key_figures_csv(const std::string& path, const RunResult& result) {
  TextOutput file(path);
  std::ofstream& out = file.out;
  out << "key_figure,unit,mean,p05,p50,p95\n";
  for (const Row& row : rows_of(result)) {
    out << csv_field(row.name) << ',' << csv_field(row.info->unit);
    for (double v : row.stats) out << ',' << full_precision(v);
    out << '\n';
  }
  // A single probability across paths: it has no quantiles.
  out << "prob_over_budget,probability," << full_precision(result.prob_over_budget) << ",,,\n";
  file.commit();
}

void write_key_figures_json(const std::string& path, const ScenarioSpec& spec,
                            const RunResult& result) {
  const Layout& layout = result.layout;
  TextOutput file(path);
  std::ofstream& out = file.out;
  out << "{\n";
  out << "  \"format_version\": " << kFormatVersion << ",\n";
  out << "  \"scenario\": " << json_string(spec.name) << ",\n";
  out << "  \"paths\": " << result.paths << ",\n";
  out << "  \"seed\": " << result.seed << ",\n";
  out << "  \"steps\": " << layout.steps << ",\n";
  out << "  \"step_hours\": " << json_number(layout.step_hours) << ",\n";
  out << "  \"prob_over_budget\": " << json_number(result.prob_over_budget) << ",\n";
  out << "  \"key_figures\": {";
  auto stats = [&](Eigen::Index column) {
    std::string text;
    for (std::size_t j = 0; j < kStatNames.size(); ++j) {
      text += std::string(j == 0 ? "" : ", ") + "\"" + kStatNames[j] +
              "\": " + json_number(result.key_figure_stats(static_cast<Eigen::Index>(j), column));
    }
    return text;
  };
  for (std::size_t k = 0; k < layout.key_figures.size(); ++k) {
    const KeyFigureInfo& info = layout.key_figures[k];
    out << (k == 0 ? "\n" : ",\n") << "    " << json_string(info.name)
        << ": {\"unit\": " << json_string(info.unit)
        << ", \"description\": " << json_string(info.description);
    if (info.dims.empty()) {
      out << ", " << stats(info.offset) << "}";
      continue;
    }
    const Dim dim = info.dims.front();
    out << ",\n      " << (dim == Dim::region ? "\"by_region\"" : "\"by_class\"") << ": {";
    for (Eigen::Index i = 0; i < info.width; ++i) {
      out << (i == 0 ? "\n" : ",\n") << "        "
          << json_string(layout.dim_labels(dim).at(static_cast<std::size_t>(i))) << ": {"
          << stats(info.offset + i) << "}";
    }
    out << "\n      }}";
  }
  out << "\n  }\n}\n";
  file.commit();
}

}  // namespace capsim::io
