// The report page of a run file: `capsim report run.h5 -o page.html` of a
// baseline run (reading the file, the page's data, writing the page).
// Checked first: the page is one complete HTML document that carries its
// data, Chart.js and the run's per-region totals.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "bench_common.hpp"
#include "capsim/engine.hpp"
#include "capsim/io/output.hpp"
#include "capsim/io/report.hpp"

namespace capsim::bench {

namespace {

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
  RunOptions options;
  options.paths = paths;
  const RunResult result = run(spec, registries(), options);
  const auto stem = std::filesystem::temp_directory_path() /
                    ("capsim-bench-report-" + std::to_string(::getpid()));
  const std::string h5 = stem.string() + ".h5", page = stem.string() + ".html";
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

void register_report_benchmarks(const Config& config) {
  auto* b = benchmark::RegisterBenchmark("report/run_page", bm_run_page, config)
                ->ArgNames({"paths"})
                ->Unit(benchmark::kMillisecond)
                ->UseRealTime();
  if (config.tiny)
    b->Arg(16)->Iterations(1);
  else
    b->Arg(1000)->Arg(10000);
}

}  // namespace capsim::bench
