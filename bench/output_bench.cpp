// The files capsim writes of a baseline run: the HDF5 file (series
// statistics, per-path key figures, labels and attributes; no --save-paths),
// checked by reading it back; and the report page of that file (`capsim
// report run.h5 -o page.html`), checked to be one complete HTML document with
// its data, Chart.js and the run's region totals.
#include <benchmark/benchmark.h>
#include <hdf5.h>
#include <unistd.h>

#include <Eigen/Core>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "capsim/engine.hpp"
#include "capsim/io/output.hpp"
#include "capsim/io/report.hpp"

namespace capsim::bench {

namespace {

// Reads a double dataset of `count` values; empty on failure.
std::vector<double> read_doubles(hid_t file, const std::string& name, std::size_t count) {
  std::vector<double> out(count);
  const hid_t d = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
  if (d < 0) return {};
  const hid_t space = H5Dget_space(d);
  const auto n = H5Sget_simple_extent_npoints(space);
  const bool ok = n == static_cast<hssize_t>(count) &&
                  H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) >= 0;
  H5Sclose(space);
  H5Dclose(d);
  return ok ? out : std::vector<double>{};
}

// The file holds the current format_version, every path's total spend, and the mean
// capacity series of `r`.
std::string check_file(const std::string& path, const RunResult& r) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) return "cannot open " + path;
  std::string error;
  int version = -1;
  const hid_t a = H5Aopen(file, "format_version", H5P_DEFAULT);
  if (a < 0 || H5Aread(a, H5T_NATIVE_INT, &version) < 0 || version != io::kFormatVersion)
    error = "format_version is not " + std::to_string(io::kFormatVersion);
  if (a >= 0) H5Aclose(a);

  const auto& kf = r.layout.find_key_figure("total_spend_usd");
  const auto spend =
      read_doubles(file, "/paths/key_figures/total_spend_usd", static_cast<std::size_t>(r.paths));
  if (error.empty() && spend.empty()) error = "cannot read /paths/key_figures/total_spend_usd";
  for (std::size_t p = 0; error.empty() && p < spend.size(); ++p)
    if (spend[p] != r.key_figures(static_cast<Eigen::Index>(p), kf.offset))
      error = "total_spend_usd of path " + std::to_string(p) + " differs";

  const auto& cap = r.layout.find_series("capacity_h100e_gpuh");
  const auto& stats = r.series_stats[static_cast<std::size_t>(&cap - r.layout.series.data())];
  const auto mean = read_doubles(file, "/series/capacity_h100e_gpuh/mean",
                                 static_cast<std::size_t>(r.layout.steps * cap.width));
  if (error.empty() && mean.empty()) error = "cannot read /series/capacity_h100e_gpuh/mean";
  for (int t = 0; error.empty() && t < r.layout.steps; ++t)
    for (Eigen::Index i = 0; i < cap.width; ++i)
      if (mean[static_cast<std::size_t>(t * cap.width + i)] != stats(t, i))
        error = "capacity mean differs at step " + std::to_string(t);
  H5Fclose(file);
  return error;
}

// A file of this process in the temporary directory, e.g. "hdf5.h5".
std::string temporary(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("capsim-bench-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

RunResult run_baseline(const ScenarioSpec& spec, std::int64_t paths) {
  RunOptions options;
  options.paths = paths;
  return run(spec, registries(), options);
}

// Arg: paths.
void bm_hdf5(benchmark::State& state, Config config) {
  const std::int64_t paths = state.range(0);
  const ScenarioSpec spec = load_baseline(baseline_overrides(config));
  const RunResult result = run_baseline(spec, paths);
  const std::string file = temporary("hdf5.h5");
  auto write = [&] {
    io::Hdf5Output out(file, result.layout, paths, false);
    out.commit(spec, result);
  };
  const bool ok = checked(state, "hdf5/" + std::to_string(paths), [&] {
    write();
    return check_file(file, result);
  });
  if (ok) {
    const RssProbe rss;
    for (auto _ : state) write();
    set_counters(state, shape_of(spec, result.layout.steps, paths, 1), rss);
    state.counters["file_bytes"] = static_cast<double>(std::filesystem::file_size(file));
  }
  std::remove(file.c_str());
}

// The report page: the checks and the counters of the page written.
std::string check_page(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  const std::string page = text.str();
  if (page.rfind("<!DOCTYPE html>", 0) != 0) return "the page does not start with <!DOCTYPE html>";
  if (page.size() < 16 || page.compare(page.size() - 8, 8, "</html>\n") != 0)
    return "the page does not end with </html>";
  for (const char* part : {"id=\"capsim-data\"", "Chart.js v", "\"region_demand_h100e_gpuh\":{",
                           "\"spend_histogram\":{"})
    if (page.find(part) == std::string::npos) return std::string("the page lacks ") + part;
  return "";
}

// Arg: paths of the run the page shows.
void bm_run_page(benchmark::State& state, Config config) {
  const std::int64_t paths = state.range(0);
  const ScenarioSpec spec = load_baseline(baseline_overrides(config));
  const RunResult result = run_baseline(spec, paths);
  const std::string h5 = temporary("report.h5"), page = temporary("report.html");
  {
    io::Hdf5Output out(h5, result.layout, paths, false);
    out.commit(spec, result);
  }
  const bool ok = checked(state, "report/" + std::to_string(paths), [&] {
    io::write_report(h5, page);
    return check_page(page);
  });
  if (ok) {
    for (auto _ : state) io::write_report(h5, page);
    state.counters["page_bytes"] = static_cast<double>(std::filesystem::file_size(page));
    state.counters["steps"] = result.layout.steps;
    state.counters["paths"] = static_cast<double>(paths);
  }
  std::remove(h5.c_str());
  std::remove(page.c_str());
}

}  // namespace

void register_output_benchmarks(const Config& config) {
  using Benchmark = void (*)(benchmark::State&, Config);
  for (const auto& [name, function] : {std::pair<const char*, Benchmark>{"output/hdf5", bm_hdf5},
                                       {"report/run_page", bm_run_page}}) {
    auto* b = benchmark::RegisterBenchmark(name, function, config)
                  ->ArgNames({"paths"})
                  ->Unit(benchmark::kMillisecond)
                  ->UseRealTime();
    if (config.tiny)
      b->Arg(16)->Iterations(1);
    else
      b->Arg(1000)->Arg(10000);
  }
}

}  // namespace capsim::bench
