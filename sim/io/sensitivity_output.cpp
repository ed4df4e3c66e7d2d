// The indices of a sensitivity sweep: the sweep file's `sensitivity` group,
// its CSV and its ranked table on stdout. Method-agnostic: every method's
// result is a list of named measures (capsim/study/sensitivity.hpp).
#include <hdf5.h>

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <sstream>

#include "capsim/error.hpp"
#include "capsim/io/sweep_output.hpp"
#include "sensitivity_hdf5.hpp"
#include "text_util.hpp"

namespace capsim::io {

namespace {

using sensitivity::Measure;
using sensitivity::Result;

constexpr const char* kUnits[] = {"", "target", "target^2", "input"};
constexpr const char* kDims[] = {"target,input", "target", "input"};

const char* unit_text(Measure::Unit unit) {
  return kUnits[static_cast<int>(unit)];
}
const char* over_text(Measure::Over over) {
  return kDims[static_cast<int>(over)];
}

// The value of measure m for target t and input i (whichever apply).
double value_of(const Measure& m, Eigen::Index t, Eigen::Index i) {
  switch (m.over) {
    case Measure::Over::target_input:
      return m.values(t, i);
    case Measure::Over::target:
      return m.values(t, 0);
    case Measure::Over::input:
      return m.values(i, 0);
  }
  return 0.0;
}

// Inputs of target t, most influential first.
std::vector<Eigen::Index> by_rank(const Result& r, Eigen::Index t) {
  std::vector<Eigen::Index> order(r.inputs.size());
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  std::sort(order.begin(), order.end(),
            [&](Eigen::Index a, Eigen::Index b) { return r.rank(t, a) < r.rank(t, b); });
  return order;
}

const Result& result_of(const sweep::Table& table) {
  if (!table.sensitivity) throw std::logic_error("the sweep has no sensitivity indices");
  return *table.sensitivity;
}

}  // namespace

namespace detail {

void write_sensitivity(const Writer& writer, hid_t root, const Result& r) {
  const Handle group = writer.group(root, "sensitivity");
  const hid_t g = group.get();
  const int version = kSensitivityFormatVersion;
  writer.attr_scalar(g, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT, &version);
  writer.attr_string(g, "method", r.method);
  writer.attr_string(g, "description", r.description);
  writer.attr_string(g, "ranked_by", r.ranked_by);
  writer.attr_string(g, "target", r.target);
  writer.attr_double(g, "confidence", r.confidence);
  writer.attr_int64(g, "resamples", r.resamples);
  std::string order;
  for (const Measure& m : r.measures) order += (order.empty() ? "" : ",") + m.name;
  writer.attr_string(g, "measures", order);
  const auto T = static_cast<hsize_t>(r.targets.size()), k = static_cast<hsize_t>(r.inputs.size());
  // `input` and `target` are the coordinates (dimension scales) of the
  // datasets; `inputs` and `targets` hold the same names under their
  // version-1 names.
  Coordinates coordinates(writer, g);
  coordinates.strings("input", r.inputs);
  coordinates.strings("target", r.targets);
  coordinates.attach(writer.strings(g, "inputs", r.inputs).get(), "input");
  coordinates.attach(writer.strings(g, "targets", r.targets).get(), "target");
  coordinates.attach(writer.strings(g, "target_units", r.target_units).get(), "target");
  {
    std::vector<std::int64_t> rank;
    for (Eigen::Index t = 0; t < r.rank.rows(); ++t)
      for (Eigen::Index i = 0; i < r.rank.cols(); ++i) rank.push_back(r.rank(t, i));
    const Handle set = writer.int64s(g, "rank", rank, {T, k});
    writer.attr_string(set.get(), "dims", "target,input");
    coordinates.attach(set.get(), "target,input");
    writer.attr_string(set.get(), "description",
                       "1 for the input that moves the target most (by |" + r.ranked_by + "|)");
  }
  for (const Measure& m : r.measures) {
    std::vector<double> data;  // row-major
    for (Eigen::Index row = 0; row < m.values.rows(); ++row)
      for (Eigen::Index col = 0; col < m.values.cols(); ++col) data.push_back(m.values(row, col));
    const std::vector<hsize_t> dims = m.over == Measure::Over::target_input ? std::vector{T, k}
                                      : m.over == Measure::Over::target     ? std::vector{T}
                                                                            : std::vector{k};
    const Handle set = writer.doubles(g, m.name, dims, data.data());
    writer.attr_string(set.get(), "dims", over_text(m.over));
    coordinates.attach(set.get(), over_text(m.over));
    writer.attr_string(set.get(), "unit", unit_text(m.unit));
    writer.attr_string(set.get(), "label", m.label);
    writer.attr_string(set.get(), "description", m.description);
  }
}

std::optional<Result> read_sensitivity(const Reader& reader, hid_t root) {
  if (!reader.has_link(root, "sensitivity")) return std::nullopt;
  const Handle group = reader.group(root, "sensitivity");
  const hid_t g = group.get();
  if (const auto version = reader.attr_int64(g, "format_version");
      version != kSensitivityFormatVersion)
    reader.fail("sensitivity group format " + std::to_string(version) +
                " (this capsim reads format " + std::to_string(kSensitivityFormatVersion) + ")");
  Result r;
  r.method = reader.attr_string(g, "method");
  r.description = reader.attr_string(g, "description");
  r.ranked_by = reader.attr_string(g, "ranked_by");
  r.target = reader.attr_string(g, "target");
  r.confidence = reader.attr_double(g, "confidence");
  r.resamples = reader.attr_int64(g, "resamples");
  r.inputs = reader.strings(g, "inputs");
  r.targets = reader.strings(g, "targets");
  r.target_units = reader.strings(g, "target_units");
  const auto T = static_cast<Eigen::Index>(r.targets.size());
  const auto k = static_cast<Eigen::Index>(r.inputs.size());
  if (r.target_units.size() != r.targets.size()) reader.fail("sensitivity: target_units size");
  const auto rank = reader.int64s(g, "rank");
  if (rank.size() != static_cast<std::size_t>(T * k)) reader.fail("sensitivity: rank size");
  r.rank.resize(T, k);
  for (Eigen::Index t = 0; t < T; ++t)
    for (Eigen::Index i = 0; i < k; ++i)
      r.rank(t, i) = static_cast<int>(rank[static_cast<std::size_t>(t * k + i)]);
  std::istringstream names(reader.attr_string(g, "measures"));
  for (std::string name; std::getline(names, name, ',');) {
    Measure m;
    m.name = name;
    const Handle set(H5Dopen2(g, name.c_str(), H5P_DEFAULT), H5Dclose);
    if (!set) reader.fail("sensitivity: missing measure " + name);
    const std::string dims = reader.attr_string(set.get(), "dims");
    const std::string unit = reader.attr_string(set.get(), "unit");
    const auto over = std::find(std::begin(kDims), std::end(kDims), dims) - std::begin(kDims);
    const auto in = std::find(std::begin(kUnits), std::end(kUnits), unit) - std::begin(kUnits);
    if (over == std::ssize(kDims) || in == std::ssize(kUnits))
      reader.fail("sensitivity: measure " + name + " has unknown dims or unit");
    m.over = static_cast<Measure::Over>(over);
    m.unit = static_cast<Measure::Unit>(in);
    m.label = reader.attr_string(set.get(), "label");
    m.description = reader.attr_string(set.get(), "description");
    const Eigen::Index rows = m.over == Measure::Over::input ? k : T;
    const Eigen::Index cols = m.over == Measure::Over::target_input ? k : 1;
    const auto data = reader.doubles(g, name);
    if (data.size() != static_cast<std::size_t>(rows * cols))
      reader.fail("sensitivity: measure " + name + " has a bad size");
    m.values.resize(rows, cols);
    for (Eigen::Index row = 0; row < rows; ++row)
      for (Eigen::Index col = 0; col < cols; ++col)
        m.values(row, col) = data[static_cast<std::size_t>(row * cols + col)];
    r.measures.push_back(std::move(m));
  }
  if (r.find(r.ranked_by) == nullptr) reader.fail("sensitivity: no measure " + r.ranked_by);
  return r;
}

}  // namespace detail

void write_sensitivity_csv(const std::string& path, const sweep::Table& table) {
  const Result& r = result_of(table);
  detail::TextOutput file(path);
  std::ofstream& out = file.out;
  out << "target,unit,input,rank";
  for (const Measure& m : r.measures) out << ',' << detail::csv_field(m.name);
  out << '\n';
  for (Eigen::Index t = 0; t < static_cast<Eigen::Index>(r.targets.size()); ++t)
    for (const Eigen::Index i : by_rank(r, t)) {
      out << detail::csv_field(r.targets[static_cast<std::size_t>(t)]) << ','
          << detail::csv_field(r.target_units[static_cast<std::size_t>(t)]) << ','
          << detail::csv_field(r.inputs[static_cast<std::size_t>(i)]) << ',' << r.rank(t, i);
      for (const Measure& m : r.measures) out << ',' << detail::full_precision(value_of(m, t, i));
      out << '\n';
    }
  file.commit();
}

void print_sensitivity(std::ostream& out, const sweep::Table& table) {
  const Result& r = result_of(table);
  const auto it = std::find(r.targets.begin(), r.targets.end(), r.target);
  if (it == r.targets.end()) throw std::logic_error("sensitivity: no target " + r.target);
  const Eigen::Index t = it - r.targets.begin();
  const detail::Display d = detail::display_for(r.target_units[static_cast<std::size_t>(t)]);
  std::string statistic = "mean across paths";
  for (const char* q : {"p05", "p50", "p95"})
    if (r.target.size() > 4 && r.target.compare(r.target.size() - 4, 4, std::string(":") + q) == 0)
      statistic = std::string(q) + " across paths";
  out << r.method << ": which of " << r.inputs.size() << " inputs move " << r.target << " ("
      << statistic << ", " << d.unit << ")\n"
      << r.description << '\n';
  const auto text = [&](const Measure& m, double x) {
    if (m.unit == Measure::Unit::target) return detail::shown(x, d);
    if (m.unit == Measure::Unit::input) return sweep::number_text(x);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", x);
    return std::string(buf);
  };
  for (const Measure& m : r.measures)
    if (m.over == Measure::Over::target && m.unit == Measure::Unit::target)
      out << m.description << ": " << text(m, m.values(t, 0)) << ' ' << d.unit << '\n';
  out << '\n';

  std::vector<std::vector<std::string>> lines;
  std::vector<std::string> header = {"rank", "input"};
  std::vector<const Measure*> shown;
  for (const Measure& m : r.measures) {
    if (m.label.empty() || m.over == Measure::Over::target) continue;
    shown.push_back(&m);
    header.push_back(m.label + (m.unit == Measure::Unit::target ? " (" + d.unit + ")" : ""));
  }
  lines.push_back(header);
  for (const Eigen::Index i : by_rank(r, t)) {
    std::vector<std::string> line = {std::to_string(r.rank(t, i)),
                                     r.inputs[static_cast<std::size_t>(i)]};
    for (const Measure* m : shown) {
      std::string cell = text(*m, value_of(*m, t, i));
      const Measure* lo = r.find(m->name + "_lo");
      const Measure* hi = r.find(m->name + "_hi");
      if (lo && hi)
        cell += " [" + text(*lo, value_of(*lo, t, i)) + ", " + text(*hi, value_of(*hi, t, i)) + "]";
      line.push_back(std::move(cell));
    }
    lines.push_back(std::move(line));
  }
  detail::print_table(out, lines, 1, 2);
  if (r.confidence > 0)
    out << "\n[lo, hi]: " << static_cast<int>(r.confidence * 100 + 0.5) << "% interval from "
        << r.resamples << " bootstrap resamples\n";
}

}  // namespace capsim::io
