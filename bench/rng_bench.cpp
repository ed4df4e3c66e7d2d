// Random-number generation: Philox4x32-10 normals (Boost.Random ziggurat) and uniforms
// per second, one thread. The normal rate is the RNG ceiling the breakdown
// compares the engine against.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <cmath>
#include <sstream>
#include <string>

#include "bench_common.hpp"
#include "capsim/rng.hpp"

namespace capsim::bench {

namespace {

// Mean and variance of `n` numbers drawn by draw(i) within `tol` of the
// expected values; "" or a description of the miss.
template <class Draw>
std::string check_moments(Eigen::Index n, double mean, double var, double tol, Draw&& draw) {
  double sum = 0, sum2 = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    const double x = draw(i);
    sum += x;
    sum2 += x * x;
  }
  const double m = sum / static_cast<double>(n);
  const double v = sum2 / static_cast<double>(n) - m * m;
  if (std::abs(m - mean) <= tol && std::abs(v - var) <= tol) return "";
  std::ostringstream out;
  out << "mean " << m << " (expected " << mean << "), variance " << v << " (expected " << var
      << ")";
  return out.str();
}

// Normals by the scalar call Rng::normal2 in a tight loop (both numbers of
// the pair are used): the machine's best rate for the engine's normals.
void bm_rng_normal2(benchmark::State& state) {
  const Rng rng(20240410);
  const bool ok = checked(state, "rng_normal2", [&] {
    return check_moments(200000, 0.0, 1.0, 0.01, [&](Eigen::Index i) {
      const auto z = rng.normal2(i / 2, 3, Stream::demand_noise, 1);
      return i % 2 ? z.b : z.a;
    });
  });
  if (!ok) return;
  const auto n = static_cast<std::int64_t>(state.range(0));
  for (auto _ : state) {
    double acc = 0;
    for (std::int64_t p = 0; p < n; ++p) {
      const auto z = rng.normal2(p, 5, Stream::demand_noise, 2);
      acc += z.a + z.b;
    }
    benchmark::DoNotOptimize(acc);
  }
  state.SetItemsProcessed(state.iterations() * n * 2);
  state.counters["normals_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * n * 2), benchmark::Counter::kIsRate);
}

// Rng::fill_normal: one normal per path into an array, as the models draw.
void bm_rng_fill_normal(benchmark::State& state) {
  const Rng rng(20240410);
  const Eigen::Index n = state.range(0);
  Eigen::ArrayXd out(n);
  const bool ok = checked(state, "rng_fill_normal/" + std::to_string(n), [&] {
    rng.fill_normal(1000, 7, Stream::fx, 0, 0, out);
    for (Eigen::Index i = 0; i < n; ++i)
      if (out[i] != rng.normal2(1000 + i, 7, Stream::fx, 0, 0).a)
        return std::string("fill_normal differs from normal2 at ") + std::to_string(i);
    return check_moments(200000, 0.0, 1.0, 0.01,
                         [&](Eigen::Index i) { return rng.normal2(i, 9, Stream::fx, 0).a; });
  });
  if (!ok) return;
  std::uint32_t step = 0;
  for (auto _ : state) {
    rng.fill_normal(0, step++, Stream::demand_noise, 0, 0, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["normals_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * n), benchmark::Counter::kIsRate);
}

// Rng::fill_uniform: one uniform in (0, 1] per path.
void bm_rng_fill_uniform(benchmark::State& state) {
  const Rng rng(20240410);
  const Eigen::Index n = state.range(0);
  Eigen::ArrayXd out(n);
  const bool ok = checked(state, "rng_fill_uniform/" + std::to_string(n), [&] {
    rng.fill_uniform(0, 4, Stream::outage, 3, 0, out);
    if (!(out > 0.0).all() || !(out <= 1.0).all()) return std::string("uniform outside (0, 1]");
    return check_moments(200000, 0.5, 1.0 / 12.0, 0.005,
                         [&](Eigen::Index i) { return rng.uniform2(i, 4, Stream::outage, 3).a; });
  });
  if (!ok) return;
  std::uint32_t step = 0;
  for (auto _ : state) {
    rng.fill_uniform(0, step++, Stream::outage, 0, 0, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["uniforms_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * n), benchmark::Counter::kIsRate);
}

}  // namespace

void register_rng_benchmarks(const Config& config) {
  const std::int64_t n = config.tiny ? 64 : 1 << 16;
  auto tiny = [&](benchmark::internal::Benchmark* b) {
    if (config.tiny) b->Iterations(1);
  };
  tiny(benchmark::RegisterBenchmark("rng/normal2", bm_rng_normal2)->Arg(n));
  tiny(benchmark::RegisterBenchmark("rng/fill_normal", bm_rng_fill_normal)->Arg(n));
  tiny(benchmark::RegisterBenchmark("rng/fill_uniform", bm_rng_fill_uniform)->Arg(n));
}

}  // namespace capsim::bench
