// The scenario loader on a hostile document: how long refusing it takes.
//
//   loader/unknown_keys/keys:N  N top-level keys, all unknown: parse,
//                               validate, sort and cut the report to the
//                               first 100 errors and a count of the rest
//   loader/parse_only/keys:N    the same N keys one level down, under one
//                               unknown key: the same parse, one error
//
// The difference between the two is the cost of reporting N errors.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench_common.hpp"
#include "capsim/error.hpp"

namespace capsim::bench {

namespace {

std::string keys_document(int keys, bool nested) {
  std::string text = nested ? "x:\n" : "";
  for (int k = 0; k < keys; ++k) text += (nested ? "  key" : "key") + std::to_string(k) + ": 1\n";
  return text;
}

// The loader's report of `text` (it must refuse it).
std::vector<Diagnostic> report_of(const std::string& text) {
  try {
    (void)io::load_scenario_text(text, "keys.yaml", ".", registries());
  } catch (const InputError& e) {
    return e.diagnostics();
  }
  return {};
}

// The report of N unknown keys holds the first 100 errors and a count of the
// rest, which adds up to the N keys and the errors of the nested document
// but its one unknown key (the missing required sections, the same in both).
std::string check_reports(int keys) {
  const auto nested = report_of(keys_document(keys, true));
  const auto flat = report_of(keys_document(keys, false));
  if (nested.empty() || flat.empty()) return "a document of unknown keys was accepted";
  if (nested.size() >= 100) return "the nested document has too many errors";
  const auto expected_total = static_cast<std::size_t>(keys) + nested.size() - 1;
  if (expected_total <= 100) return flat.size() == expected_total ? "" : "wrong number of errors";
  const std::string more = std::to_string(expected_total - 100) + " more errors not shown";
  if (flat.size() != 101 || flat.back().message.rfind(more, 0) != 0)
    return "expected 100 errors and \"" + more + "\", got " + std::to_string(flat.size()) +
           " ending in \"" + flat.back().message + "\"";
  return "";
}

void bm_loader(benchmark::State& state, bool nested) {
  const int keys = static_cast<int>(state.range(0));
  if (!checked(state, "loader/" + std::to_string(keys), [&] { return check_reports(keys); }))
    return;
  const std::string text = keys_document(keys, nested);
  for (auto _ : state) benchmark::DoNotOptimize(report_of(text));
  state.counters["keys_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()) * keys,
                                                    benchmark::Counter::kIsRate);
}

}  // namespace

void register_loader_benchmarks(const Config& config) {
  for (const bool nested : {false, true}) {
    auto* b = benchmark::RegisterBenchmark(
                  nested ? "loader/parse_only" : "loader/unknown_keys",
                  [nested](benchmark::State& state) { bm_loader(state, nested); })
                  ->ArgNames({"keys"})
                  ->Unit(benchmark::kMillisecond);
    if (config.tiny)
      b->Arg(300)->Iterations(1);
    else
      b->Arg(1000)->Arg(100000);
  }
}

}  // namespace capsim::bench
