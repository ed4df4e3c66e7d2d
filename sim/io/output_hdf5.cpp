// The HDF5 writer of a run. The layout it writes is documented in
// docs/output.md; a change to it changes kFormatVersion.
#include <hdf5.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "capsim/error.hpp"
#include "capsim/io/output.hpp"
#include "hdf5_file.hpp"
#include "text_util.hpp"

namespace capsim::io {

namespace {

using detail::Coordinates;
using detail::dims_text;
using detail::Handle;
using detail::TempFileGuard;
using detail::utc_now_iso8601;
using detail::Writer;

// "YYYY-MM-DDTHH:MM" of the start of step t.
std::string format_step_start(Date start, double step_hours, int t) {
  const auto minutes =
      std::chrono::minutes(std::llround(static_cast<double>(t) * step_hours * 60.0));
  const std::chrono::sys_time<std::chrono::minutes> when = start + minutes;
  const auto day = std::chrono::floor<std::chrono::days>(when);
  const std::chrono::hh_mm_ss<std::chrono::minutes> clock(when - day);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%sT%02d:%02d", format_date(day).c_str(),
                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()));
  return buf;
}

// Adds to `coordinates` each dimension of `dims` (e.g. "step,path,workload")
// it does not have yet: steps as CF time, paths numbered from 0, the
// scenario's region, SKU and workload names.
void add_coordinates(Coordinates& coordinates, const Layout& layout, std::int64_t paths,
                     const std::string& dims) {
  std::size_t begin = 0;
  while (begin < dims.size()) {
    const std::size_t end = std::min(dims.find(',', begin), dims.size());
    const std::string name = dims.substr(begin, end - begin);
    begin = end + 1;
    if (coordinates.has(name)) continue;
    if (name == "step") {
      coordinates.steps(name, layout.start, layout.step_hours, layout.steps);
    } else if (name == "path") {
      std::vector<std::int64_t> index(static_cast<std::size_t>(paths));
      for (std::size_t p = 0; p < index.size(); ++p) index[p] = static_cast<std::int64_t>(p);
      coordinates.int64s(name, index);
    } else if (name == detail::dim_name(Dim::region)) {
      coordinates.strings(name, layout.regions);
    } else if (name == detail::dim_name(Dim::sku)) {
      coordinates.strings(name, layout.skus);
    } else if (name == detail::dim_name(Dim::klass)) {
      coordinates.strings(name, layout.classes);
    } else {
      throw std::logic_error("add_coordinates: unknown dimension " + name);
    }
  }
}

std::vector<hsize_t> dim_sizes(const Layout& layout, const std::vector<Dim>& dims) {
  std::vector<hsize_t> sizes;
  for (Dim d : dims) sizes.push_back(static_cast<hsize_t>(layout.dim_size(d)));
  return sizes;
}

// Rows of a per-path chunk: chunks of at most 64 Ki doubles (512 KiB) keep
// deflate effective and fit HDF5's default 1 MiB chunk cache.
hsize_t chunk_rows(std::int64_t paths, Eigen::Index width) {
  const auto target = std::max<Eigen::Index>(1, 65536 / std::max<Eigen::Index>(width, 1));
  return static_cast<hsize_t>(std::max<std::int64_t>(1, std::min<std::int64_t>(paths, target)));
}

// Copies columns [offset, offset + width) of `values` into `out` in row-major
// order (HDF5's), i.e. out[row * width + i] = values(row, offset + i).
void to_row_major(const Eigen::Ref<const Eigen::ArrayXXd>& values, Eigen::Index offset,
                  Eigen::Index width, std::vector<double>& out) {
  const Eigen::Index rows = values.rows();
  out.resize(static_cast<std::size_t>(rows * width));
  Eigen::Map<Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> dest(
      out.data(), rows, width);
  dest = values.middleCols(offset, width);
}

// The long_name prefix of each of kStatNames' statistics.
constexpr std::array<const char*, 4> kStatLongNames = {"mean of ", "5% quantile of ", "median of ",
                                                       "95% quantile of "};

// CF's `units` and `long_name` of a data variable, which xarray shows on
// plot axes.
void write_variable_attributes(const Writer& writer, hid_t dataset, const std::string& unit,
                               const std::string& long_name) {
  writer.attr_string(dataset, "units", unit);
  writer.attr_string(dataset, "long_name", long_name);
}

// Writes /paths/series/<name> ([steps, paths, dims...]) one step at a time.
class PathSink final : public StepSink {
 public:
  PathSink(const Writer& writer, hid_t file, const Layout& layout, std::int64_t paths)
      : writer_(writer), layout_(layout), paths_(paths) {
    const Handle group_paths = writer_.group(file, "paths");
    const Handle group_series = writer_.group(group_paths.get(), "series");
    Coordinates coordinates(writer_, group_series.get());
    for (const auto& s : layout_.series)
      add_coordinates(coordinates, layout_, paths_, dims_text("step,path", s.dims));
    for (const auto& s : layout_.series) {
      Series out;
      std::vector<hsize_t> dims = {static_cast<hsize_t>(layout_.steps),
                                   static_cast<hsize_t>(paths_)};
      for (hsize_t d : dim_sizes(layout_, s.dims)) dims.push_back(d);
      std::vector<hsize_t> chunk = dims;
      chunk[0] = 1;
      chunk[1] = chunk_rows(paths_, s.width);
      const bool can_chunk =
          std::all_of(chunk.begin(), chunk.end(), [](hsize_t c) { return c > 0; });
      const Handle plist = can_chunk ? writer_.compressed_layout(chunk) : Handle();
      out.dataset = writer_.double_dataset(group_series.get(), s.name, dims,
                                           can_chunk ? plist.get() : H5P_DEFAULT);
      writer_.attr_string(out.dataset.get(), "unit", s.unit);
      writer_.attr_string(out.dataset.get(), "description", s.description);
      writer_.attr_string(out.dataset.get(), "dims", dims_text("step,path", s.dims));
      coordinates.attach(out.dataset.get(), dims_text("step,path", s.dims));
      write_variable_attributes(writer_, out.dataset.get(), s.unit, s.description);
      out.file_space =
          Handle(writer_.check(H5Dget_space(out.dataset.get()), "get dataspace"), H5Sclose);
      out.count = dims;
      out.count[0] = 1;
      out.memory_space = writer_.simple_space(out.count);
      series_.push_back(std::move(out));
    }
  }

  void on_step(int t, const Eigen::Ref<const Eigen::ArrayXXd>& values) override {
    if (closed_) throw std::logic_error("Hdf5Output: step sink used after commit");
    if (t < 0 || t >= layout_.steps || values.rows() != paths_ ||
        values.cols() != layout_.series_columns)
      throw std::invalid_argument("Hdf5Output: step values do not match the layout");
    for (std::size_t i = 0; i < series_.size(); ++i) {
      const SeriesInfo& info = layout_.series[i];
      Series& s = series_[i];
      if (s.count[1] == 0 || info.width == 0) continue;
      to_row_major(values, info.offset, info.width, buffer_);
      std::vector<hsize_t> start(s.count.size(), 0);
      start[0] = static_cast<hsize_t>(t);
      writer_.check_status(H5Sselect_hyperslab(s.file_space.get(), H5S_SELECT_SET, start.data(),
                                               nullptr, s.count.data(), nullptr),
                           "select step of " + info.name);
      writer_.check_status(H5Dwrite(s.dataset.get(), H5T_NATIVE_DOUBLE, s.memory_space.get(),
                                    s.file_space.get(), H5P_DEFAULT, buffer_.data()),
                           "write step " + std::to_string(t) + " of paths/series/" + info.name);
    }
  }

  // Closes the datasets; returns false if any close failed.
  bool close() {
    closed_ = true;
    bool ok = true;
    for (auto& s : series_) {
      ok = s.memory_space.reset() >= 0 && ok;
      ok = s.file_space.reset() >= 0 && ok;
      ok = s.dataset.reset() >= 0 && ok;
    }
    return ok;
  }

 private:
  struct Series {
    Handle dataset, file_space, memory_space;
    std::vector<hsize_t> count;  // one step's block: [1, paths, dims...]
  };
  const Writer& writer_;
  const Layout& layout_;
  std::int64_t paths_;
  std::vector<Series> series_;
  std::vector<double> buffer_;  // one series' step, row-major
  bool closed_ = false;
};

}  // namespace

struct Hdf5Output::Impl {
  Impl(const std::string& final_path, const Layout& run_layout, std::int64_t path_count,
       bool save_paths)
      : writer(final_path),
        temp_path(detail::temporary_name(final_path)),
        layout(run_layout),
        paths(path_count) {
    file = detail::create_file(temp_path, final_path, writer);
    guard.arm(temp_path);
    if (save_paths) sink = std::make_unique<PathSink>(writer, file.get(), layout, paths);
  }
  void write_root_attributes(const ScenarioSpec& spec, const RunResult& result) const;
  void write_labels() const;
  void write_series(const RunResult& result) const;
  void write_key_figures(const RunResult& result) const;
  void finish();

  Writer writer;
  std::string temp_path;
  TempFileGuard guard;  // before the handles: destroyed after them
  Layout layout;
  std::int64_t paths;
  Handle file;
  std::unique_ptr<PathSink> sink;
  bool committed = false;
};

void Hdf5Output::Impl::write_root_attributes(const ScenarioSpec& spec,
                                             const RunResult& result) const {
  const hid_t root = file.get();
  writer.attr_string(root, "format", kRunFormat);
  const int format_version = kFormatVersion;
  writer.attr_scalar(root, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT, &format_version);
  writer.attr_string(root, "capsim_version", CAPSIM_VERSION);
  writer.attr_string(root, "scenario_name", spec.name);
  writer.attr_string(root, "scenario_file", detail::printable_utf8(spec.source_file));
  writer.attr_strings(root, "extends", detail::printable_utf8(spec.extends));
  writer.attr_strings(root, "overrides", detail::printable_utf8(spec.overrides));
  writer.attr_string(root, "scenario_yaml", spec.resolved_yaml);
  writer.attr_double(root, "budget_usd", spec.finance.budget_usd);
  const std::uint64_t seed = result.seed;
  writer.attr_scalar(root, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &seed);
  const std::int64_t path_count = result.paths;
  writer.attr_scalar(root, "paths", H5T_STD_I64LE, H5T_NATIVE_INT64, &path_count);
  writer.attr_double(root, "step_hours", layout.step_hours);
  writer.attr_string(root, "start_date", format_date(layout.start));
  const int steps = layout.steps;
  writer.attr_scalar(root, "steps", H5T_STD_I32LE, H5T_NATIVE_INT, &steps);
  writer.attr_string(root, "created", utc_now_iso8601());
}

void Hdf5Output::Impl::write_labels() const {
  const Handle labels = writer.group(file.get(), "labels");
  Coordinates coordinates(writer, labels.get());
  add_coordinates(coordinates, layout, paths, "region,sku,workload,step");
  std::vector<std::string> starts;
  starts.reserve(static_cast<std::size_t>(layout.steps));
  for (int t = 0; t < layout.steps; ++t)
    starts.push_back(format_step_start(layout.start, layout.step_hours, t));
  const Handle step_start = writer.strings(labels.get(), "step_start", starts);
  coordinates.attach(step_start.get(), "step");
}

void Hdf5Output::Impl::write_series(const RunResult& result) const {
  const Handle series = writer.group(file.get(), "series");
  std::vector<double> buffer;
  for (std::size_t s = 0; s < layout.series.size(); ++s) {
    const SeriesInfo& info = layout.series[s];
    const Handle group = writer.group(series.get(), info.name);
    writer.attr_string(group.get(), "unit", info.unit);
    writer.attr_string(group.get(), "description", info.description);
    const std::string dims_of = dims_text("step", info.dims);
    writer.attr_string(group.get(), "dims", dims_of);
    Coordinates coordinates(writer, group.get());
    add_coordinates(coordinates, layout, paths, dims_of);
    std::vector<hsize_t> dims = {static_cast<hsize_t>(layout.steps)};
    for (hsize_t d : dim_sizes(layout, info.dims)) dims.push_back(d);
    for (std::size_t j = 0; j < kStatNames.size(); ++j) {
      to_row_major(result.series_stats[s], static_cast<Eigen::Index>(j) * info.width, info.width,
                   buffer);
      const Handle set = writer.doubles(group.get(), kStatNames[j], dims, buffer.data());
      coordinates.attach(set.get(), dims_of);
      write_variable_attributes(writer, set.get(), info.unit,
                                std::string(kStatLongNames[j]) + info.description);
    }
  }
}

void Hdf5Output::Impl::write_key_figures(const RunResult& result) const {
  const Handle figures = writer.group(file.get(), "key_figures");
  writer.attr_double(figures.get(), "prob_over_budget", result.prob_over_budget);
  std::vector<double> buffer;
  for (const KeyFigureInfo& info : layout.key_figures) {
    const Handle group = writer.group(figures.get(), info.name);
    writer.attr_string(group.get(), "unit", info.unit);
    writer.attr_string(group.get(), "description", info.description);
    const std::string dims_of = dims_text("", info.dims);
    writer.attr_string(group.get(), "dims", dims_of);
    Coordinates coordinates(writer, group.get());
    add_coordinates(coordinates, layout, paths, dims_of);
    const std::vector<hsize_t> dims = dim_sizes(layout, info.dims);  // {}: a scalar
    for (std::size_t j = 0; j < kStatNames.size(); ++j) {
      buffer.resize(static_cast<std::size_t>(info.width));
      for (Eigen::Index i = 0; i < info.width; ++i)
        buffer[static_cast<std::size_t>(i)] =
            result.key_figure_stats(static_cast<Eigen::Index>(j), info.offset + i);
      const Handle set = writer.doubles(group.get(), kStatNames[j], dims, buffer.data());
      coordinates.attach(set.get(), dims_of);
      write_variable_attributes(writer, set.get(), info.unit,
                                std::string(kStatLongNames[j]) + info.description);
    }
  }

  const Handle paths_group =
      sink ? Handle(writer.check(H5Gopen2(file.get(), "paths", H5P_DEFAULT), "open group paths"),
                    H5Gclose)
           : writer.group(file.get(), "paths");
  const Handle per_path = writer.group(paths_group.get(), "key_figures");
  Coordinates coordinates(writer, per_path.get());
  for (const KeyFigureInfo& info : layout.key_figures)
    add_coordinates(coordinates, layout, paths, dims_text("path", info.dims));
  for (const KeyFigureInfo& info : layout.key_figures) {
    std::vector<hsize_t> dims = {static_cast<hsize_t>(paths)};
    for (hsize_t d : dim_sizes(layout, info.dims)) dims.push_back(d);
    to_row_major(result.key_figures, info.offset, info.width, buffer);
    std::vector<hsize_t> chunk = dims;
    chunk[0] = chunk_rows(paths, info.width);
    const bool can_chunk = std::all_of(chunk.begin(), chunk.end(), [](hsize_t c) { return c > 0; });
    const Handle plist = can_chunk ? writer.compressed_layout(chunk) : Handle();
    const Handle set = writer.doubles(per_path.get(), info.name, dims, buffer.data(),
                                      can_chunk ? plist.get() : H5P_DEFAULT);
    writer.attr_string(set.get(), "unit", info.unit);
    writer.attr_string(set.get(), "dims", dims_text("path", info.dims));
    coordinates.attach(set.get(), dims_text("path", info.dims));
    write_variable_attributes(writer, set.get(), info.unit, info.description);
  }
}

void Hdf5Output::Impl::finish() {
  if (sink && !sink->close()) writer.fail("close the per-path series");
  writer.check_status(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), "flush");
  writer.check_status(file.reset(), "close");
  detail::publish(temp_path, writer.path());
  guard.release();
  committed = true;
}

Hdf5Output::Hdf5Output(const std::string& path, const Layout& layout, std::int64_t paths,
                       bool save_paths)
    : impl_(std::make_unique<Impl>(path, layout, paths, save_paths)) {}

Hdf5Output::~Hdf5Output() = default;

StepSink* Hdf5Output::sink() {
  return impl_->sink.get();
}

void Hdf5Output::commit(const ScenarioSpec& spec, const RunResult& result) {
  Impl& impl = *impl_;
  if (impl.committed) throw std::logic_error("Hdf5Output: commit called twice");
  const Layout& layout = impl.layout;
  bool shapes_match = result.paths == impl.paths && result.layout.steps == layout.steps &&
                      result.layout.series_columns == layout.series_columns &&
                      result.layout.key_figure_columns == layout.key_figure_columns &&
                      result.series_stats.size() == layout.series.size() &&
                      result.key_figures.rows() == impl.paths &&
                      result.key_figures.cols() == layout.key_figure_columns &&
                      result.key_figure_stats.cols() == layout.key_figure_columns;
  for (std::size_t s = 0; shapes_match && s < layout.series.size(); ++s)
    shapes_match = result.series_stats[s].rows() == layout.steps &&
                   result.series_stats[s].cols() == 4 * layout.series[s].width;
  if (!shapes_match)
    throw std::invalid_argument("Hdf5Output::commit: result does not match the output's layout");

  impl.write_root_attributes(spec, result);
  impl.write_labels();
  impl.write_series(result);
  impl.write_key_figures(result);
  impl.finish();
}

}  // namespace capsim::io
