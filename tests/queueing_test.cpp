// Tests of the queueing models (models/queueing): Erlang C against published
// values and an independent formula, its monotonicity, Halfin-Whitt against
// the exact recurrence, the staffing rule against exact staffing, and a
// discrete-event M/M/c simulation against Erlang C.
#include <Eigen/Core>
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "capsim/models/builtin.hpp"
#include "capsim/models/queueing.hpp"

namespace models = capsim::models;
using models::erlang_b;
using models::erlang_c;
using models::halfin_whitt_wait_probability;
using models::ServiceLevel;
using models::Staffing;

namespace {

const models::ModelRegistries& registries() {
  static const auto r = models::builtin_registries();
  return r;
}

std::unique_ptr<models::QueueModel> queue(const std::string& name,
                                          std::map<std::string, capsim::ParamValue> params = {}) {
  capsim::ModelConfig config;
  config.model = name;
  config.params = std::move(params);
  return registries().queue.make(config);
}

// Erlang B from its definition, (A^c / c!) / sum_{k <= c} A^k / k!, in log
// space: an independent formula for small c.
double erlang_b_by_sum(int c, double A) {
  const auto term = [&](int k) { return k * std::log(A) - std::lgamma(k + 1.0); };
  const double top = term(c);
  double sum = 0.0;
  for (int k = 0; k <= c; ++k) sum += std::exp(term(k) - top);
  return 1.0 / sum;
}

// Waits of a FIFO c-server queue with exponential service of mean 1 and
// inter-arrival times from `gap`, after `warmup` customers: the
// Kiefer-Wolfowitz recursion (each arrival takes the server that frees first).
std::vector<double> simulate_waits(int c, int customers, int warmup, std::mt19937_64& gen,
                                   const std::function<double(std::mt19937_64&)>& gap) {
  std::exponential_distribution<double> service(1.0);
  std::priority_queue<double, std::vector<double>, std::greater<>> free_at;
  for (int i = 0; i < c; ++i) free_at.push(0.0);
  std::vector<double> waits;
  waits.reserve(static_cast<std::size_t>(customers));
  double now = 0.0;
  for (int n = 0; n < warmup + customers; ++n) {
    now += gap(gen);
    const double start = std::max(now, free_at.top());
    free_at.pop();
    free_at.push(start + service(gen));
    if (n >= warmup) waits.push_back(start - now);
  }
  return waits;
}

// Mean of f(wait) and the half width of its 99.9% confidence interval by
// batch means (40 batches, Student t with 39 degrees of freedom: 3.558), which
// accounts for the correlation of successive waits.
struct Estimate {
  double mean = 0.0, half_width = 0.0;
};
Estimate batch_means(const std::vector<double>& waits, const std::function<double(double)>& f) {
  constexpr int kBatches = 40;
  constexpr double kT39 = 3.558;  // 0.9995 quantile of Student's t, 39 degrees of freedom
  const std::size_t per = waits.size() / kBatches;
  std::vector<double> batch(kBatches, 0.0);
  for (int b = 0; b < kBatches; ++b) {
    for (std::size_t i = 0; i < per; ++i) batch[b] += f(waits[b * per + i]);
    batch[b] /= static_cast<double>(per);
  }
  double mean = 0.0, var = 0.0;
  for (double x : batch) mean += x / kBatches;
  for (double x : batch) var += (x - mean) * (x - mean) / (kBatches - 1);
  return {mean, kT39 * std::sqrt(var / kBatches)};
}

}  // namespace

TEST_CASE("models::queueing::erlang_c: published values", "[models][queueing]") {
  // By hand: B(1) = 2/3, B(2) = 2 (2/3) / (2 + 4/3) = 2/5, B(3) = 2 (2/5) /
  // (3 + 4/5) = 4/19; C = 3 (4/19) / (3 - 2 (15/19)) = (12/19) / (27/19) = 4/9.
  CHECK(erlang_b(3, 2) == Approx(4.0 / 19.0).epsilon(1e-15));
  CHECK(erlang_c(3, 2) == Approx(4.0 / 9.0).epsilon(1e-15));
  // SPEC 3.3's published values, to 4 digits.
  CHECK(std::fabs(erlang_c(132, 123) - 0.3211) < 5e-5);
  CHECK(std::fabs(erlang_c(12421, 12345) - 0.3812) < 5e-5);
  // M/M/1: C = rho; no servers beyond the load: 1.
  CHECK(erlang_c(1, 0.3) == Approx(0.3).epsilon(1e-15));
  CHECK(erlang_c(5, 5) == 1.0);
  CHECK(erlang_c(4, 7) == 1.0);
  CHECK(erlang_c(3, 0) == 0.0);
}

TEST_CASE("models::queueing::erlang_b: the recurrence equals the defining sum",
          "[models][queueing]") {
  for (double A : {0.05, 0.5, 3.0, 12.5, 40.0})
    for (int c = 0; c <= 60; ++c) {
      INFO("c = " << c << ", A = " << A);
      CHECK(erlang_b(c, A) == Approx(erlang_b_by_sum(c, A)).epsilon(1e-12));
    }
}

TEST_CASE("models::queueing::erlang_c: stable for millions of servers", "[models][queueing]") {
  // Halfin-Whitt's limit is within 0.15 / sqrt(A) (next test), and the
  // recurrence gives a probability, with no overflow, at 10^6 and 10^7.
  for (double A : {1e6, 1e7}) {
    for (double beta : {0.5, 1.0, 2.0}) {
      const double c = std::ceil(A + beta * std::sqrt(A));
      const double C = erlang_c(c, A);
      INFO("A = " << A << ", c = " << c);
      REQUIRE(std::isfinite(C));
      CHECK(C > 0.0);
      CHECK(C < 1.0);
      CHECK(std::fabs(C - halfin_whitt_wait_probability((c - A) / std::sqrt(A))) <
            0.15 / std::sqrt(A));
    }
  }
}

TEST_CASE("models::queueing::erlang_c: monotone in c and A", "[models][queueing]") {
  for (double A : {0.2, 1.7, 9.0, 55.5, 400.0, 3000.0}) {
    INFO("A = " << A);
    double previous = 1.0;
    for (double c = std::floor(A) + 1; c < A + 8 * std::sqrt(A) + 10; ++c) {
      const double C = erlang_c(c, A);
      CHECK(C < previous);  // strictly falls with every server
      previous = C;
    }
  }
  for (double c : {1.0, 4.0, 30.0, 250.0, 2000.0}) {
    INFO("c = " << c);
    double previous = 0.0;
    for (double A = 0.01 * c; A < c; A += 0.013 * c) {
      const double C = erlang_c(c, A);
      // Strictly rises with the load, once it is above underflow.
      if (previous > 1e-290)
        CHECK(C > previous);
      else
        CHECK(C >= previous);
      previous = C;
    }
    CHECK(previous > 0.5);
  }
}

TEST_CASE("models::queueing::halfin_whitt: within 0.15/sqrt(A) of exact Erlang C",
          "[models][queueing]") {
  // The documented error (docs/models.md): the largest |C - alpha| over
  // beta in (0, 3] is 0.129/sqrt(A) at A = 10 and tends to 0.141/sqrt(A),
  // near beta = 0.9.
  CHECK(halfin_whitt_wait_probability(0.0) == 1.0);
  CHECK(halfin_whitt_wait_probability(45.0) == 0.0);
  for (double A : {10.0, 100.0, 1e3, 1e4, 1e5, 1e6}) {
    double worst = 0.0;
    for (double beta = 0.05; beta <= 3.0; beta += 0.05) {
      const double c = std::ceil(A + beta * std::sqrt(A));
      const double b = (c - A) / std::sqrt(A);
      worst = std::max(worst, std::fabs(erlang_c(c, A) - halfin_whitt_wait_probability(b)));
    }
    INFO("A = " << A << ": max |C - alpha| sqrt(A) = " << worst * std::sqrt(A));
    CHECK(worst * std::sqrt(A) < 0.15);
    CHECK(worst * std::sqrt(A) > 0.10);  // the error is real: the limit is not exact
  }
}

TEST_CASE("models::queueing: the queue models", "[models][queueing]") {
  const auto erlang = queue("erlang_c");
  const auto ac = queue("allen_cunneen", {{"arrival_cv", 2.0}, {"service_cv", 0.5}});
  const auto poisson = queue("allen_cunneen", {{"arrival_cv", 1.0}, {"service_cv", 1.0}});
  // M/M/c: P(W > t) = C exp(-(c - A) t), E[W] = C / (c - A) service times.
  CHECK(erlang->wait_tail(0.4, 2.0, 0.0) == 0.4);
  CHECK(erlang->wait_tail(0.4, 2.0, 1.5) == Approx(0.4 * std::exp(-3.0)));
  CHECK(erlang->mean_wait(0.4, 2.0) == Approx(0.2));
  // Allen-Cunneen: scale (4 + 0.25) / 2 = 2.125.
  CHECK(ac->wait_tail(0.4, 2.0, 0.0) == 0.4);
  CHECK(ac->wait_tail(0.4, 2.0, 1.5) == Approx(0.4 * std::exp(-3.0 / 2.125)));
  CHECK(ac->mean_wait(0.4, 2.0) == Approx(0.4 * 2.125 / 2.0));
  CHECK(poisson->wait_tail(0.3, 1.2, 0.7) == Approx(erlang->wait_tail(0.3, 1.2, 0.7)));
  const auto deterministic = queue("allen_cunneen", {{"arrival_cv", 0.0}, {"service_cv", 0.0}});
  CHECK(deterministic->wait_tail(0.3, 1.2, 0.7) == 0.0);
  CHECK(deterministic->wait_tail(0.3, 1.2, 0.0) == 0.3);
  CHECK(models::wait_tail(*erlang, 3, 2, 0.0) == Approx(4.0 / 9.0));
  CHECK(models::wait_tail(*erlang, 3, 2, 1.0) == Approx(4.0 / 9.0 * std::exp(-1.0)));
  CHECK(models::wait_tail(*erlang, 2, 2, 1.0) == 1.0);
}

TEST_CASE("models::queueing::Staffing: exact below the switch, within one server above",
          "[models][queueing]") {
  struct Case {
    const char* model;
    double arrival_cv;
    ServiceLevel level;
  };
  const std::vector<Case> cases = {
      {"erlang_c", 1.0, {0.0, 0.5}},        {"erlang_c", 1.0, {0.0, 0.2}},
      {"erlang_c", 1.0, {0.0, 0.01}},       {"erlang_c", 1.0, {0.0, 0.001}},
      {"erlang_c", 1.0, {1.0, 0.01}},       {"erlang_c", 1.0, {4.3, 0.01}},
      {"erlang_c", 1.0, {0.5, 0.05}},       {"allen_cunneen", 3.0, {1.0, 0.01}},
      {"allen_cunneen", 13.0, {4.3, 0.01}},
  };
  for (const Case& k : cases) {
    const auto model = std::string(k.model) == "erlang_c"
                           ? queue("erlang_c")
                           : queue("allen_cunneen", {{"arrival_cv", k.arrival_cv}});
    const Staffing s(*model, k.level);
    INFO(k.model << " cv " << k.arrival_cv << ": P(W > " << k.level.max_wait
                 << ") <= " << k.level.max_probability << "; switch at A = " << s.switch_load());
    CHECK(s.switch_servers() == Staffing::kExactServers);
    CHECK(s.switch_load() < Staffing::kExactServers);
    CHECK(s.servers(0.0) == 0.0);
    CHECK(std::isnan(s.servers(std::numeric_limits<double>::quiet_NaN())));
    // Below the switch: the exact count, which meets the level with one
    // server fewer failing it.
    double previous = 0.0;
    for (double A = 1e-3; A <= s.switch_load(); A *= 1.01) {
      const double c = s.servers(A);
      if (c != s.exact_servers(A))
        FAIL_CHECK("A = " << A << ": " << c << " vs exact " << s.exact_servers(A));
      if (!(s.meets(c, A) && !s.meets(c - 1, A))) FAIL_CHECK("A = " << A << ": " << c);
      if (c < previous) FAIL_CHECK("falls at A = " << A);
      previous = c;
    }
    CHECK(s.servers(s.switch_load()) == Staffing::kExactServers);
    // Above: square-root staffing with gamma, within one server of exact.
    int low = 0, high = 0, plain_low = 0;
    for (double A = s.switch_load() * 1.0001; A < 3e4; A *= 1.003) {
      const double exact = s.exact_servers(A), c = s.servers(A);
      low = std::min(low, static_cast<int>(c - exact));
      high = std::max(high, static_cast<int>(c - exact));
      plain_low = std::min(plain_low,
                           static_cast<int>(std::ceil(A + s.solve_beta(A) * std::sqrt(A)) - exact));
      if (c < previous) FAIL_CHECK("falls at A = " << A);
      previous = c;
    }
    for (double A : {1e5 + 0.3, 3e5 + 0.7, 1e6 + 0.1}) {
      const double d = s.servers(A) - s.exact_servers(A);
      low = std::min(low, static_cast<int>(d));
      high = std::max(high, static_cast<int>(d));
    }
    INFO("servers - exact in [" << low << ", " << high << "]; plain square-root staffing "
                                << plain_low << " at worst");
    CHECK(low >= -1);
    CHECK(high <= 1);
    if (k.level.max_wait == 0.0) CHECK(plain_low < 0);  // without gamma it falls short
  }
}

TEST_CASE("models::queueing::Staffing: the interpolated spare equals the solved one at nodes",
          "[models][queueing]") {
  const auto model = queue("erlang_c");
  const Staffing s(*model, ServiceLevel{1.0, 0.01});
  for (double A : {256.0, 320.0, 4096.0, 1e4 + 0.0, 1.5 * 1048576.0}) {
    // Nodes are 2^e (1 + k/32): 256, 320, 4096 and 1.5 2^20 are nodes.
    INFO("A = " << A);
    const bool node = std::fmod(A / std::exp2(std::floor(std::log2(A))) * 32.0, 1.0) == 0.0;
    if (node) CHECK(s.spare(A) == Approx(s.solve_beta(A) * std::sqrt(A)).epsilon(1e-12));
    // Between nodes the interpolation error is far below one server.
    CHECK(std::fabs(s.spare(A) - s.solve_beta(A) * std::sqrt(A)) < 1e-3);
  }
}

TEST_CASE("models::queueing: a discrete-event M/M/c simulation agrees with Erlang C",
          "[models][queueing]") {
  // 400,000 customers after 20,000 of warm-up per case; Erlang C (and the
  // tail at t = 0.5 service times) must lie inside the simulation's 99.9%
  // confidence interval.
  const auto erlang = queue("erlang_c");
  struct Case {
    int c;
    double A;
  };
  std::mt19937_64 gen(20240410);
  for (const Case k : {Case{1, 0.5}, Case{3, 2.0}, Case{10, 8.0}, Case{40, 36.0}}) {
    std::exponential_distribution<double> arrivals(k.A);  // service rate 1: lambda = A
    const auto waits =
        simulate_waits(k.c, 400000, 20000, gen, [&](std::mt19937_64& g) { return arrivals(g); });
    const Estimate wait = batch_means(waits, [](double w) { return w > 0.0 ? 1.0 : 0.0; });
    const Estimate tail = batch_means(waits, [](double w) { return w > 0.5 ? 1.0 : 0.0; });
    const double C = erlang_c(k.c, k.A);
    INFO("c = " << k.c << ", A = " << k.A << ": C = " << C << ", simulated " << wait.mean << " +- "
                << wait.half_width);
    CHECK(std::fabs(wait.mean - C) <= wait.half_width);
    CHECK(wait.half_width < 0.1 * C);  // and the interval is narrow enough to mean something
    const double t_exact = models::wait_tail(*erlang, k.c, k.A, 0.5);
    INFO("P(W > 0.5) = " << t_exact << ", simulated " << tail.mean << " +- " << tail.half_width);
    CHECK(std::fabs(tail.mean - t_exact) <= tail.half_width);
  }
}
