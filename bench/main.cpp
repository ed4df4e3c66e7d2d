// capsim_bench: the benchmarks of the simulation core (SPEC 8).
//
//   capsim_bench [--tiny] [--max-paths=N] [Google Benchmark flags]
//
// --tiny registers one tiny size of every benchmark with a single iteration;
// the test suite runs it so that no benchmark can rot. --max-paths=N (default
// 100000) ends the series in paths at N. The exit code is 1
// when any benchmark's check failed (Google Benchmark itself exits 0).
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench_common.hpp"

namespace {

// The console reporter, counting benchmarks that ended with an error.
class CountingReporter final : public benchmark::ConsoleReporter {
 public:
  CountingReporter() : ConsoleReporter(::isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& reports) override {
    for (const Run& run : reports)
      if (run.error_occurred) ++errors_;
    ConsoleReporter::ReportRuns(reports);
  }
  int errors() const { return errors_; }

 private:
  int errors_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  capsim::bench::Config config;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--tiny") == 0)
      config.tiny = true;
    else if (std::strncmp(argv[i], "--max-paths=", 12) == 0)
      config.max_paths = std::atoll(argv[i] + 12);
    else
      args.push_back(argv[i]);
  }
  int count = static_cast<int>(args.size());
  args.push_back(nullptr);

  capsim::bench::register_rng_benchmarks(config);
  capsim::bench::register_stats_benchmarks(config);
  capsim::bench::register_engine_benchmarks(config);
  capsim::bench::register_output_benchmarks(config);
  capsim::bench::register_breakdown_benchmarks(config);
  capsim::bench::register_loader_benchmarks(config);
  capsim::bench::register_queueing_benchmarks(config);

  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 2;
  CountingReporter reporter;
  const std::size_t ran = benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  if (ran == 0) return 1;
  return reporter.errors() > 0 ? 1 : 0;
}
