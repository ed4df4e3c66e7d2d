// The staffing rule of request-level classes (models::Staffing): building it
// for a class, and one evaluation per path, region and step, for loads below
// the switch (exact table), above it with a level on P(W > 0) (square root)
// and above it with a level on a wait (interpolated spare). Checked first
// against exact staffing by the recurrence.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <memory>
#include <string>

#include "bench_common.hpp"
#include "capsim/models/queueing.hpp"

namespace capsim::bench {

namespace {

struct Level {
  const char* name;
  models::ServiceLevel level;
  double load_lo, load_hi;  // loads evaluated
};

const Level kLevels[] = {
    {"exact/p_wait_0.2", {0.0, 0.2}, 1.0, 150.0},
    {"square_root/p_wait_0.2", {0.0, 0.2}, 500.0, 20000.0},
    {"square_root/p99_wait_2.3_service_times", {2.3, 0.01}, 500.0, 20000.0},
};

std::unique_ptr<models::QueueModel> erlang_c() {
  ModelConfig config;
  config.model = "erlang_c";
  return registries().queue.make(config);
}

// Arg: index into kLevels. Times servers() over 4,096 loads, evenly spread.
void bm_servers(benchmark::State& state) {
  const Level& l = kLevels[state.range(0)];
  const auto model = erlang_c();
  const models::Staffing staffing(*model, l.level);
  const Eigen::ArrayXd load = Eigen::ArrayXd::LinSpaced(4096, l.load_lo, l.load_hi);
  Eigen::ArrayXd out(load.size());
  const bool ok = checked(state, std::string("servers/") + l.name, [&] {
    staffing.servers(load, out);
    for (Eigen::Index i = 0; i < load.size(); i += 97) {
      const double d = out[i] - staffing.exact_servers(load[i]);
      if (d < -1 || d > 1 || (l.load_hi <= staffing.switch_load() && d != 0))
        return "load " + std::to_string(load[i]) + ": " + std::to_string(out[i]) +
               " servers, exact " + std::to_string(staffing.exact_servers(load[i]));
    }
    return std::string();
  });
  if (!ok) return;
  for (auto _ : state) {
    staffing.servers(load, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * load.size());
  state.SetLabel(l.name);
}

// Building the rule for one class. Arg: index into kLevels (its level).
void bm_build(benchmark::State& state) {
  const Level& l = kLevels[state.range(0)];
  const auto model = erlang_c();
  if (!checked(state, std::string("build/") + l.name, [&] {
        const models::Staffing s(*model, l.level);
        return s.servers(s.switch_load()) == models::Staffing::kExactServers
                   ? std::string()
                   : std::string("the switch load does not take the switch's servers");
      }))
    return;
  for (auto _ : state) {
    models::Staffing s(*model, l.level);
    benchmark::DoNotOptimize(&s);
  }
  state.SetLabel(l.name);
}

}  // namespace

void register_queueing_benchmarks(const Config& config) {
  auto* servers = benchmark::RegisterBenchmark("queueing/servers", bm_servers)
                      ->Unit(benchmark::kMicrosecond)
                      ->ArgName("level");
  auto* build = benchmark::RegisterBenchmark("queueing/build", bm_build)
                    ->Unit(benchmark::kMillisecond)
                    ->ArgName("level");
  servers->Arg(0)->Arg(1)->Arg(2);
  build->Arg(0)->Arg(2);  // with max_wait = 0, the table alone; with a wait, also the spare
  if (config.tiny) {
    servers->Iterations(1);
    build->Iterations(1);
  }
}

}  // namespace capsim::bench
