// Unit, statistical and property tests of the built-in models.
//
// Statistical tests use fixed seeds; each states its tolerance, normally four
// standard errors of the estimate, so a correct model fails with a
// probability well below 1e-4 for a new seed and never for the fixed one.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "capsim/error.hpp"
#include "capsim/models/builtin.hpp"
#include "capsim/rng.hpp"

using namespace capsim;
using namespace capsim::models;
using Eigen::ArrayXd;
using Eigen::ArrayXXd;
using Eigen::Index;

namespace {

const ModelRegistries& registries() {
  static const ModelRegistries instance = builtin_registries();
  return instance;
}

ModelConfig config(const std::string& model, std::map<std::string, ParamValue> params = {}) {
  ModelConfig c;
  c.model = model;
  c.params = std::move(params);
  return c;
}

ChunkContext context(const Rng* rng, std::int64_t path0, Index paths, double step_hours,
                     bool deterministic = false, std::uint32_t stream_index = 0) {
  ChunkContext ctx;
  ctx.rng = rng;
  ctx.path0 = path0;
  ctx.paths = paths;
  ctx.step_hours = step_hours;
  ctx.deterministic = deterministic;
  ctx.stream_index = stream_index;
  return ctx;
}

// Runs `process` for steps 0..steps-1 and hands each step's values to `on_step`.
void run(const PathProcess& process, const ChunkContext& ctx, int steps,
         const std::function<void(int, const ArrayXd&)>& on_step) {
  ArrayXXd state(ctx.paths, process.state_size());
  process.init(ctx, state);
  ArrayXd value(ctx.paths);
  for (int t = 0; t < steps; ++t) {
    process.step(ctx, t, state, value);
    on_step(t, value);
  }
}

// Values of all steps (paths x steps).
ArrayXXd run_all(const PathProcess& process, const ChunkContext& ctx, int steps) {
  ArrayXXd out(ctx.paths, steps);
  run(process, ctx, steps, [&](int t, const ArrayXd& v) { out.col(t) = v; });
  return out;
}

// Paths 0..99 in one chunk and in uneven chunks (sizes 1, 7, 13, ...) must be
// bitwise equal: same random numbers, same arithmetic, whatever the chunk.
void check_chunking(const PathProcess& process, double step_hours, int steps) {
  const Rng rng(20240410);
  const ArrayXXd whole = run_all(process, context(&rng, 0, 100, step_hours, false, 3), steps);
  ArrayXXd pieces(100, steps);
  const std::vector<Index> sizes = {1, 7, 13, 2, 31, 5, 16, 25};
  Index first = 0;
  for (Index size : sizes) {
    pieces.middleRows(first, size) =
        run_all(process, context(&rng, first, size, step_hours, false, 3), steps);
    first += size;
  }
  REQUIRE(first == 100);
  CHECK((whole == pieces).all());
}

// The per-step numbers of a path process: component t mod 2 of the block at
// step 2 floor(t / 2).
double paired_normal(const Rng& rng, std::int64_t path, int t, Stream stream, std::uint32_t index) {
  const Rng::Pair pair = rng.normal2(path, static_cast<std::uint32_t>(t - t % 2), stream, index);
  return t % 2 ? pair.b : pair.a;
}

double paired_uniform(const Rng& rng, std::int64_t path, int t, Stream stream,
                      std::uint32_t index) {
  const Rng::Pair pair = rng.uniform2(path, static_cast<std::uint32_t>(t - t % 2), stream, index);
  return t % 2 ? pair.b : pair.a;
}

struct Moments {
  double mean = 0, variance = 0, fourth_central = 0;
};

Moments moments(const ArrayXd& x) {
  Moments m;
  m.mean = x.mean();
  const ArrayXd d = x - m.mean;
  m.variance = d.square().sum() / static_cast<double>(x.size() - 1);
  m.fourth_central = d.square().square().mean();
  return m;
}

// Four standard errors of a sample mean.
double four_se_of_mean(const ArrayXd& x) {
  return 4.0 * std::sqrt(moments(x).variance / static_cast<double>(x.size()));
}

// Four standard errors of a sample variance.
double four_se_of_variance(const ArrayXd& x) {
  const Moments m = moments(x);
  return 4.0 *
         std::sqrt((m.fourth_central - m.variance * m.variance) / static_cast<double>(x.size()));
}

double binomial_pmf(double n, double p, double k) {
  return std::exp(std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1) +
                  k * std::log(p) + (n - k) * std::log1p(-p));
}

}  // namespace

// ---------------------------------------------------------------- registry

TEST_CASE("models::Registry: built-in models", "[models]") {
  const ModelRegistries& r = registries();

  SECTION("names per kind") {
    CHECK(r.growth.names() == "constant, exponential, logistic, piecewise_linear");
    CHECK(r.noise.names() == "none, log_ar1");
    CHECK(r.shocks.names() == "none, poisson");
    CHECK(r.outages.names() == "none, poisson");
    CHECK(r.fx.names() == "constant, gbm");
    CHECK(r.price.names() == "constant, log_ou");
    CHECK(r.failures.names() == "none, binomial");
    CHECK(r.procurement.names() == "none, headroom");
    CHECK(r.price.kind() == "electricity_price");
    CHECK(r.procurement.kind() == "policy");
  }

  SECTION("an unknown name lists the valid ones") {
    ModelConfig c = config("exponentail");
    c.mark = SourceMark{"scenarios/x.yaml", 14, 7};
    try {
      r.growth.make(c);
      FAIL("no error");
    } catch (const InputError& e) {
      const std::string text = e.what();
      CHECK(text.find("scenarios/x.yaml:14:7") != std::string::npos);
      CHECK(text.find("\"exponentail\"") != std::string::npos);
      CHECK(text.find("constant, exponential, logistic, piecewise_linear") != std::string::npos);
    }
  }

  SECTION("a missing required parameter is named") {
    try {
      r.growth.make(config("logistic", {{"cap", 3.0}}));
      FAIL("no error");
    } catch (const InputError& e) {
      const std::string text = e.what();
      CHECK(text.find("growth.midpoint_months") != std::string::npos);
      CHECK(text.find("growth.rate") != std::string::npos);
      CHECK(e.diagnostics().size() == 2);
    }
  }

  SECTION("every entry is described and its defaults lie in range") {
    auto check = [](const auto& registry) {
      for (const auto& e : registry.entries()) {
        INFO(registry.kind() << "." << e.name);
        CHECK(!e.description.empty());
        CHECK(e.description.find('\n') == std::string::npos);
        for (const ParamInfo& p : e.params) {
          INFO(p.name);
          CHECK(!p.description.empty());
          CHECK(p.min <= p.max);
          if (p.type == ParamType::number && !p.required) {
            CHECK(p.default_number >= p.min);
            CHECK(p.default_number <= p.max);
          }
        }
      }
    };
    check(r.growth);
    check(r.noise);
    check(r.shocks);
    check(r.outages);
    check(r.fx);
    check(r.price);
    check(r.failures);
    check(r.procurement);
  }
}

// ---------------------------------------------------------------- growth

TEST_CASE("models::demand::Constant: value 1", "[models]") {
  const auto m = registries().growth.make(config("constant"));
  const Rng rng(1);
  const ArrayXXd v = run_all(*m, context(&rng, 0, 5, 24.0), 10);
  CHECK((v == 1.0).all());
}

TEST_CASE("models::demand::Exponential: known values", "[models]") {
  const Rng rng(7);

  SECTION("fixed rate: exp(rate * years)") {
    const auto m = registries().growth.make(config("exponential", {{"rate", 0.5}}));
    const ArrayXXd v = run_all(*m, context(&rng, 0, 3, 24.0), 731);
    CHECK((v.col(0) == 1.0).all());
    CHECK(v(1, 365) == Approx(std::exp(0.5)).epsilon(1e-14));
    CHECK(v(2, 730) == Approx(std::exp(1.0)).epsilon(1e-14));
  }

  SECTION("the default rate is 0") {
    const auto m = registries().growth.make(config("exponential"));
    CHECK((run_all(*m, context(&rng, 0, 3, 24.0), 20) == 1.0).all());
  }

  SECTION("per-path rate: mean rate, sd rate_sd, value(0) == 1") {
    const auto m =
        registries().growth.make(config("exponential", {{"rate", 0.4}, {"rate_sd", 0.1}}));
    const Index paths = 20000;
    const ArrayXXd v = run_all(*m, context(&rng, 0, paths, 168.0), 53);
    CHECK((v.col(0) == 1.0).all());
    const double years = 52 * 168.0 / 8760.0;
    const ArrayXd rate = v.col(52).log() / years;
    CHECK(std::abs(rate.mean() - 0.4) < four_se_of_mean(rate));
    CHECK(std::abs(std::sqrt(moments(rate).variance) - 0.1) < 4 * 0.1 / std::sqrt(2.0 * paths));
    // Constant per path: log(value) is linear in t.
    CHECK(((v.col(26).log() * 2.0 - v.col(52).log()).abs() < 1e-12).all());
  }

  SECTION("deterministic: the nominal rate, no generator") {
    const auto m =
        registries().growth.make(config("exponential", {{"rate", 0.4}, {"rate_sd", 0.1}}));
    const ArrayXXd v = run_all(*m, context(nullptr, 0, 1, 24.0, true), 366);
    CHECK(v(0, 365) == Approx(std::exp(0.4)).epsilon(1e-14));
  }
  SECTION("saturates at kMaxDemandMultiplier instead of overflowing") {
    // rate 10 over 20 years is e^200 ~ 7e86, and a path 3 sd up (rate 25)
    // e^500: both beyond the cap; at year 1, e^10 ~ 22026 is below it.
    const auto m =
        registries().growth.make(config("exponential", {{"rate", 10.0}, {"rate_sd", 5.0}}));
    const ArrayXXd v = run_all(*m, context(&rng, 0, 1000, 168.0), 1044);  // 20 years weekly
    CHECK(v.allFinite());
    CHECK(v.maxCoeff() == kMaxDemandMultiplier);
    CHECK((v.col(1043) <= kMaxDemandMultiplier).all());
    const ArrayXXd nominal = run_all(*m, context(nullptr, 0, 1, 168.0, true), 1044);
    CHECK(nominal(0, 1043) == kMaxDemandMultiplier);
    CHECK(nominal(0, 52) == Approx(std::exp(10.0 * 52 * 168.0 / 8760.0)).epsilon(1e-14));
  }
}

TEST_CASE("models::demand::Logistic: S-curve from 1 to cap", "[models]") {
  const auto m = registries().growth.make(
      config("logistic", {{"cap", 10.0}, {"midpoint_months", 12.0}, {"rate", 2.0}}));
  const Rng rng(11);

  SECTION("value(0) == 1, the limit is cap") {
    const ArrayXXd v = run_all(*m, context(&rng, 0, 2, 24.0 * 365.0), 31);
    CHECK((v.col(0) == 1.0).all());
    CHECK(v(0, 30) == Approx(10.0).epsilon(1e-12));  // 30 years
  }

  SECTION("value at the midpoint, computed by hand") {
    // s(0) = 1 / (1 + e^2) = 0.11920292202211755;
    // value = 1 + 9 (0.5 - s(0)) / (1 - s(0)) = 4.890991225435243.
    const ArrayXXd v = run_all(*m, context(&rng, 0, 1, 24.0), 366);
    CHECK(v(0, 365) == Approx(4.890991225435243).epsilon(1e-12));
  }

  SECTION("the inflection point is at the midpoint") {
    const ArrayXXd v = run_all(*m, context(&rng, 0, 1, 24.0), 731);
    const ArrayXd second = v.row(0).segment(2, 729).transpose() -
                           2.0 * v.row(0).segment(1, 729).transpose() +
                           v.row(0).segment(0, 729).transpose();
    // second(i) is centred on day i + 1; day 365 is the midpoint.
    CHECK((second.head(362) > 0.0).all());
    CHECK((second.tail(363) < 0.0).all());
  }

  SECTION("per-path rates keep value(0) == 1 and stay below cap") {
    const auto u = registries().growth.make(config(
        "logistic", {{"cap", 5.0}, {"midpoint_months", 18.0}, {"rate", 1.5}, {"rate_sd", 2.0}}));
    const ArrayXXd v = run_all(*u, context(&rng, 0, 5000, 168.0), 200);
    CHECK((v.col(0) == 1.0).all());
    CHECK((v >= 1.0 - 1e-12).all());
    CHECK((v <= 5.0 + 1e-12).all());
    CHECK((v.col(199) != v(0, 199)).any());  // the rate differs between paths
  }
}

TEST_CASE("models::demand::PiecewiseLinear: interpolation in months", "[models]") {
  const Rng rng(5);
  const ParamTable points = {{{0.0, 1.0}}, {{12.0, 2.0}}, {{24.0, 2.5}}};
  // step_hours = 73: month = t / 10.
  const double h = 73.0;

  SECTION("at, between and after the points") {
    const auto m = registries().growth.make(config("piecewise_linear", {{"points", points}}));
    const ArrayXXd v = run_all(*m, context(&rng, 0, 2, h), 301);
    CHECK(v(0, 0) == 1.0);
    CHECK(v(0, 60) == Approx(1.5).epsilon(1e-14));
    CHECK(v(1, 120) == Approx(2.0).epsilon(1e-14));
    CHECK(v(0, 180) == Approx(2.25).epsilon(1e-14));
    CHECK(v(0, 240) == Approx(2.5).epsilon(1e-14));
    CHECK(v(1, 300) == Approx(2.5).epsilon(1e-14));
  }

  SECTION("a first month after 0 interpolates from (0, 1)") {
    const auto m = registries().growth.make(
        config("piecewise_linear", {{"points", ParamTable{{{6.0, 2.0}}}}}));
    const ArrayXXd v = run_all(*m, context(&rng, 0, 1, h), 121);
    CHECK(v(0, 0) == 1.0);
    CHECK(v(0, 30) == Approx(1.5).epsilon(1e-14));
    CHECK(v(0, 60) == Approx(2.0).epsilon(1e-14));
    CHECK(v(0, 120) == Approx(2.0).epsilon(1e-14));
  }

  SECTION("a multiplier other than 1 at month 0 is rejected") {
    const ParamTable bad = {{{0.0, 1.2}}, {{12.0, 2.0}}};
    CHECK_THROWS_AS(registries().growth.make(config("piecewise_linear", {{"points", bad}})),
                    InputError);
  }

  SECTION("growth_sd scales the deviation from 1 with mean factor 1") {
    const auto m = registries().growth.make(
        config("piecewise_linear", {{"points", points}, {"growth_sd", 0.3}}));
    const ArrayXXd v = run_all(*m, context(&rng, 0, 20000, h), 121);
    CHECK((v.col(0) == 1.0).all());
    const ArrayXd at12 = v.col(120);
    CHECK(std::abs(at12.mean() - 2.0) < four_se_of_mean(at12));
    CHECK((at12 > 1.0).all());
    // Same factor at every step: (v - 1) scales with m - 1.
    CHECK(((v.col(60) - 1.0) * 2.0 - (at12 - 1.0)).abs().maxCoeff() < 1e-12);
    const ArrayXXd nominal = run_all(*m, context(nullptr, 0, 1, h, true), 121);
    CHECK(nominal(0, 120) == Approx(2.0).epsilon(1e-14));
  }
}

// ---------------------------------------------------------------- noise

TEST_CASE("models::demand::LogAr1: mean 1 and autocorrelation phi", "[models]") {
  const double sigma = 0.3;
  const auto m = registries().noise.make(config("log_ar1", {{"sigma", sigma}, {"phi", 0.9}}));
  const Rng rng(101);

  SECTION("daily steps: mean, lag-1 autocorrelation, stationary variance") {
    const Index paths = 20000;
    const int steps = 200;
    ArrayXd path_mean = ArrayXd::Zero(paths);
    ArrayXd x_prev(paths), x0(paths), x_last(paths);
    double cross = 0, square = 0;
    run(*m, context(&rng, 0, paths, 24.0), steps, [&](int t, const ArrayXd& v) {
      path_mean += v / steps;
      const ArrayXd x = v.log() + 0.5 * sigma * sigma;
      if (t == 0) x0 = x;
      if (t > 0) {
        cross += (x * x_prev).sum();
        square += x_prev.square().sum();
      }
      x_prev = x;
      x_last = x;
    });
    // The path means are independent across paths: their standard error
    // accounts for the autocorrelation within a path.
    CHECK(std::abs(path_mean.mean() - 1.0) < four_se_of_mean(path_mean));
    // Pooled least-squares AR(1) coefficient; sd sqrt((1 - phi^2) / N).
    const double n = static_cast<double>(paths) * (steps - 1);
    CHECK(std::abs(cross / square - 0.9) < 4.0 * std::sqrt((1 - 0.81) / n));
    // x_t ~ N(0, sigma^2) at the start and later; sd of a sample variance of
    // a normal is sigma^2 sqrt(2 / paths).
    const double tol = 4.0 * sigma * sigma * std::sqrt(2.0 / paths);
    CHECK(std::abs(x0.square().mean() - sigma * sigma) < tol);
    CHECK(std::abs(x_last.square().mean() - sigma * sigma) < tol);
  }

  SECTION("hourly steps: autocorrelation phi^(1/24) per step") {
    const Index paths = 2000;
    const int steps = 500;
    ArrayXd x_prev(paths);
    double cross = 0, square = 0;
    run(*m, context(&rng, 0, paths, 1.0), steps, [&](int t, const ArrayXd& v) {
      const ArrayXd x = v.log() + 0.5 * sigma * sigma;
      if (t > 0) {
        cross += (x * x_prev).sum();
        square += x_prev.square().sum();
      }
      x_prev = x;
    });
    const double a = std::pow(0.9, 1.0 / 24.0);
    const double n = static_cast<double>(paths) * (steps - 1);
    CHECK(std::abs(cross / square - a) < 4.0 * std::sqrt((1 - a * a) / n));
  }

  SECTION("equals a scalar reference") {
    const Index paths = 37;
    const ArrayXXd v = run_all(*m, context(&rng, 50, paths, 24.0, false, 4), 30);
    const double a = 0.9;
    const double s = sigma * std::sqrt(1 - a * a);
    for (Index i = 0; i < paths; ++i) {
      double x = sigma * rng.normal2(50 + i, kOncePerPath, Stream::demand_noise, 4).a;
      for (int t = 0; t < 30; ++t) {
        if (t > 0) x = a * x + s * paired_normal(rng, 50 + i, t, Stream::demand_noise, 4);
        CHECK(v(i, t) == std::exp(x - 0.5 * sigma * sigma));
      }
    }
  }

  SECTION("none and deterministic give 1") {
    const auto none = registries().noise.make(config("none"));
    CHECK((run_all(*none, context(&rng, 0, 4, 24.0), 5) == 1.0).all());
    CHECK((run_all(*m, context(nullptr, 0, 4, 24.0, true), 5) == 1.0).all());
  }
}

// ---------------------------------------------------------------- shocks

TEST_CASE("models::demand::PoissonShocks: jump rate and size", "[models]") {
  const Rng rng(202);
  const double rate = 12.0;
  const double mean_jump = 0.2;
  const Index paths = 5000;
  const int steps = 365;

  SECTION("permanent jumps: frequency 1 - exp(-rate h / 8760), mean size mean_jump") {
    const auto m = registries().shocks.make(
        config("poisson", {{"rate_per_year", rate}, {"mean_jump", mean_jump}}));
    ArrayXd prev = ArrayXd::Ones(paths);
    double jumps = 0;
    std::vector<double> sizes;
    run(*m, context(&rng, 0, paths, 24.0), steps, [&](int, const ArrayXd& v) {
      for (Index i = 0; i < paths; ++i) {
        if (v[i] != prev[i]) {
          jumps += 1;
          sizes.push_back(v[i] / prev[i] - 1.0);
        }
      }
      CHECK((v >= prev).all());
      prev = v;
    });
    const double p = 1.0 - std::exp(-rate * 24.0 / 8760.0);
    const double n = static_cast<double>(paths) * steps;
    CHECK(std::abs(jumps / n - p) < 4.0 * std::sqrt(p * (1 - p) / n));
    const ArrayXd size = Eigen::Map<const ArrayXd>(sizes.data(), static_cast<Index>(sizes.size()));
    // Exponential sizes: sd == mean.
    CHECK(std::abs(size.mean() - mean_jump) < 4.0 * mean_jump / std::sqrt(size.size()));
  }

  SECTION("decay: the excess shrinks by exp(-h / (730 decay_months)) between jumps") {
    const auto m = registries().shocks.make(config(
        "poisson", {{"rate_per_year", rate}, {"mean_jump", mean_jump}, {"decay_months", 2.0}}));
    const double keep = std::exp(-24.0 / (730.0 * 2.0));
    ArrayXd prev = ArrayXd::Ones(200);
    int decays = 0;
    run(*m, context(&rng, 0, 200, 24.0), steps, [&](int, const ArrayXd& v) {
      const ArrayXd decayed = 1.0 + (prev - 1.0) * keep;
      for (Index i = 0; i < v.size(); ++i) {
        if (std::abs(v[i] - decayed[i]) <= 1e-12) {
          ++decays;
        } else {
          CHECK(v[i] > decayed[i]);  // a jump
        }
      }
      prev = v;
    });
    CHECK(decays > 0);
    CHECK((prev >= 1.0).all());
  }

  SECTION("saturates at kMaxDemandMultiplier instead of overflowing") {
    // 365 shocks a year of mean size 10: each multiplies the level by about
    // 11 (log 11 ~ 2.4), so the level passes 1e308 within a year of daily
    // steps (709 / 2.4 ~ 300 jumps) without the cap.
    const auto m = registries().shocks.make(
        config("poisson", {{"rate_per_year", 365.0}, {"mean_jump", 10.0}}));
    const ArrayXXd v = run_all(*m, context(&rng, 0, 200, 24.0), 2 * 365);
    CHECK(v.allFinite());
    CHECK((v.col(2 * 365 - 1) == kMaxDemandMultiplier).all());
  }

  SECTION("none and deterministic give 1") {
    const auto m = registries().shocks.make(config("poisson", {{"rate_per_year", rate}}));
    CHECK((run_all(*m, context(nullptr, 0, 3, 24.0, true), 50) == 1.0).all());
    const auto none = registries().shocks.make(config("none"));
    CHECK((run_all(*none, context(&rng, 0, 3, 24.0), 50) == 1.0).all());
  }
}

// ---------------------------------------------------------------- outages

TEST_CASE("models::outages::Poisson: fraction of time in outage", "[models]") {
  const Rng rng(303);
  const double events = 6.0;
  const double mean_days = 5.0;
  const auto m = registries().outages.make(config(
      "poisson", {{"events_per_year", events}, {"mean_days", mean_days}, {"fraction", 0.5}}));

  SECTION("steady state p_start / (p_start + p_end)") {
    // Two-state chain per step: P(0 -> 1) = p = 1 - exp(-6/365) = 0.016304,
    // P(1 -> 0) = q = 1/5 (mean duration 5 days); stationary share in outage
    // p / (p + q) = 0.075375 (continuous time: 6*5 / (365 + 6*5) = 0.0759).
    const double p = 1.0 - std::exp(-events / 365.0);
    const double q = 1.0 / mean_days;
    const double expected = p / (p + q);
    CHECK(expected == Approx(0.075375).epsilon(1e-4));
    const Index paths = 20000;
    const int burn_in = 60;  // (1 - p - q)^60 < 1e-5
    const int steps = 460;
    ArrayXd share = ArrayXd::Zero(paths);
    run(*m, context(&rng, 0, paths, 24.0), steps, [&](int t, const ArrayXd& v) {
      CHECK(((v == 0.0) || (v == 0.5)).all());
      if (t >= burn_in) share += (v > 0.0).cast<double>() / (steps - burn_in);
    });
    CHECK(std::abs(share.mean() - expected) < four_se_of_mean(share));
  }

  SECTION("durations are geometric in steps with mean 1 / p_end") {
    const double q = 1.0 / mean_days;
    const Index paths = 4000;
    ArrayXd run_length = ArrayXd::Zero(paths);
    std::vector<double> durations;
    run(*m, context(&rng, 0, paths, 24.0), 730, [&](int, const ArrayXd& v) {
      for (Index i = 0; i < paths; ++i) {
        if (v[i] > 0.0) {
          run_length[i] += 1;
        } else if (run_length[i] > 0) {
          durations.push_back(run_length[i]);
          run_length[i] = 0;
        }
      }
    });
    const ArrayXd d =
        Eigen::Map<const ArrayXd>(durations.data(), static_cast<Index>(durations.size()));
    CHECK(d.minCoeff() >= 1.0);
    // Geometric: sd = sqrt(1 - q) / q.
    CHECK(std::abs(d.mean() - 1.0 / q) < 4.0 * std::sqrt(1 - q) / q / std::sqrt(d.size()));
  }

  SECTION("equals a scalar reference") {
    const double p = 1.0 - std::exp(-events / 365.0);
    const double q = 1.0 / mean_days;
    const ArrayXXd v = run_all(*m, context(&rng, 1000, 64, 24.0, false, 9), 400);
    int outage_steps = 0;
    for (Index i = 0; i < 64; ++i) {
      bool in = false;
      for (int t = 0; t < 400; ++t) {
        const double u = paired_uniform(rng, 1000 + i, t, Stream::outage, 9);
        in = in ? !(u <= q) : u <= p;
        outage_steps += in;
        CHECK(v(i, t) == (in ? 0.5 : 0.0));
      }
    }
    CHECK(outage_steps > 0);
  }

  SECTION("none and deterministic give 0") {
    CHECK((run_all(*m, context(nullptr, 0, 3, 24.0, true), 50) == 0.0).all());
    const auto none = registries().outages.make(config("none"));
    CHECK((run_all(*none, context(&rng, 0, 3, 24.0), 50) == 0.0).all());
  }
}

// ---------------------------------------------------------------- prices

TEST_CASE("models::prices::Gbm: USD/JPY factor", "[models]") {
  const Rng rng(404);
  const double vol = 0.1;
  const double drift = 0.05;
  const auto m = registries().fx.make(config("gbm", {{"volatility", vol}, {"drift", drift}}));

  SECTION("value(0) == 1, mean exp(drift t), log-variance vol^2 t") {
    const Index paths = 20000;
    ArrayXd first, last;
    run(*m, context(&rng, 0, paths, 168.0), 105, [&](int t, const ArrayXd& v) {
      if (t == 0) first = v;
      if (t == 104) last = v;
    });
    CHECK((first == 1.0).all());
    const double years = 104 * 168.0 / 8760.0;
    CHECK(std::abs(last.mean() - std::exp(drift * years)) < four_se_of_mean(last));
    const ArrayXd log_last = last.log();
    CHECK(std::abs(moments(log_last).variance - vol * vol * years) < four_se_of_variance(log_last));
  }

  SECTION("equals a scalar reference") {
    const double dt = 24.0 / 8760.0;
    const ArrayXXd v = run_all(*m, context(&rng, 7, 21, 24.0, false, 0), 40);
    for (Index i = 0; i < 21; ++i) {
      double s = 1.0;
      for (int t = 0; t < 40; ++t) {
        if (t > 0)
          s *= std::exp((drift - 0.5 * vol * vol) * dt +
                        vol * std::sqrt(dt) * paired_normal(rng, 7 + i, t, Stream::fx, 0));
        CHECK(v(i, t) == s);
      }
    }
  }

  SECTION("deterministic: exp(drift * years)") {
    const ArrayXXd v = run_all(*m, context(nullptr, 0, 1, 24.0, true), 731);
    CHECK(v(0, 0) == 1.0);
    CHECK(v(0, 730) == Approx(std::exp(2 * drift)).epsilon(1e-14));
  }

  SECTION("constant gives 1") {
    const auto c = registries().fx.make(config("constant"));
    CHECK((run_all(*c, context(&rng, 0, 3, 24.0), 5) == 1.0).all());
  }
}

TEST_CASE("models::prices::LogOu: electricity price factor", "[models]") {
  const Rng rng(505);
  const double vol = 0.3;
  const double k = 2.0;
  const auto m =
      registries().price.make(config("log_ou", {{"volatility", vol}, {"reversion_per_year", k}}));

  SECTION("value(0) == 1, mean 1, log-variance var_t") {
    const Index paths = 20000;
    std::map<int, ArrayXd> at;
    run(*m, context(&rng, 0, paths, 24.0), 731, [&](int t, const ArrayXd& v) {
      if (t == 0 || t == 30 || t == 365 || t == 730) at[t] = v;
    });
    CHECK((at[0] == 1.0).all());
    for (int t : {30, 365, 730}) {
      INFO("t = " << t);
      const ArrayXd& v = at[t];
      CHECK(std::abs(v.mean() - 1.0) < four_se_of_mean(v));
      const double years = t / 365.0;
      const double var_t = vol * vol * (1 - std::exp(-2 * k * years)) / (2 * k);
      const ArrayXd x = v.log();
      CHECK(std::abs(moments(x).variance - var_t) < four_se_of_variance(x));
    }
  }

  SECTION("deterministic and constant give 1") {
    CHECK((run_all(*m, context(nullptr, 0, 3, 24.0, true), 30) == 1.0).all());
    const auto c = registries().price.make(config("constant"));
    CHECK((run_all(*c, context(&rng, 0, 3, 24.0), 5) == 1.0).all());
  }
}

// ---------------------------------------------------------------- failures

TEST_CASE("models::failures::Binomial: counts", "[models]") {
  const auto m = registries().failures.make(config("binomial"));
  const Rng rng(606);
  const Index draws = 200000;

  auto sample = [&](double n, double p, std::uint32_t draw = 0, int t = 0) {
    const ArrayXd count = ArrayXd::Constant(draws, n);
    ArrayXd out(draws);
    m->sample(context(&rng, 0, draws, 24.0, false, 2), t, Stream::failure, count, p, out, draw);
    return out;
  };
  auto check_moments = [](const ArrayXd& x, double n, double p) {
    CHECK((x >= 0.0).all());
    CHECK((x <= n).all());
    CHECK((x == x.round()).all());
    CHECK(std::abs(x.mean() - n * p) < four_se_of_mean(x));
    CHECK(std::abs(moments(x).variance - n * p * (1 - p)) < four_se_of_variance(x));
  };

  SECTION("exact branch, n p = 5: moments and chi-square against the pmf") {
    const ArrayXd x = sample(100, 0.05);
    check_moments(x, 100, 0.05);
    // Bins 0..14 and 15+; 15 degrees of freedom, P(chi2 > 44.6) ~ 1e-4.
    double chi2 = 0;
    double tail = 1.0;
    for (int k = 0; k <= 15; ++k) {
      const double expected_p = k < 15 ? binomial_pmf(100, 0.05, k) : tail;
      tail -= expected_p;
      const double observed = k < 15 ? (x == k).count() : (x >= 15).count();
      const double expected = expected_p * draws;
      chi2 += (observed - expected) * (observed - expected) / expected;
    }
    CHECK(chi2 < 44.6);
  }

  SECTION("p > 1/2 counts the other outcome exactly") {
    check_moments(sample(20, 0.9), 20, 0.9);
  }

  SECTION("normal branch, n p = 100") {
    check_moments(sample(10000, 0.01), 10000, 0.01);
  }

  SECTION("boundary n p = 25: KS distance to the exact binomial within the documented bound") {
    // n = 2500, p = 0.01 takes the normal branch. The rounded normal differs
    // from Binomial(2500, 0.01) by a KS distance of 0.0130 (docs/models.md);
    // 1.95 / sqrt(N) allows for sampling (P ~ 1e-3).
    const double n = 2500, p = 0.01;
    const ArrayXd x = sample(n, p);
    check_moments(x, n, p);
    const double mu = n * p;
    const double sd = std::sqrt(mu * (1 - p));
    double cdf_exact = 0;
    double ks_exact = 0, ks_model = 0;
    for (int k = 0; k <= 80; ++k) {
      cdf_exact += binomial_pmf(n, p, k);
      const double cdf_model = 0.5 * std::erfc(-(k + 0.5 - mu) / sd / std::sqrt(2.0));
      const double empirical = static_cast<double>((x <= k).count()) / draws;
      ks_exact = std::max(ks_exact, std::abs(empirical - cdf_exact));
      ks_model = std::max(ks_model, std::abs(empirical - cdf_model));
    }
    const double sampling = 1.95 / std::sqrt(static_cast<double>(draws));
    CHECK(ks_model < sampling);
    CHECK(ks_exact < 0.0133 + sampling);
  }

  SECTION("draw and step select independent numbers") {
    const ArrayXd a = sample(100, 0.3, 0, 5);
    const ArrayXd b = sample(100, 0.3, 1, 5);
    const ArrayXd c = sample(100, 0.3, 0, 6);
    CHECK((a != b).count() > draws / 2);
    CHECK((a != c).count() > draws / 2);
    CHECK((a == sample(100, 0.3, 0, 5)).all());
  }

  SECTION("edge cases and the deterministic plan") {
    ArrayXd n(4);
    n << 0, 1, 7, 1000;
    ArrayXd out(4);
    const ChunkContext ctx = context(&rng, 0, 4, 24.0);
    m->sample(ctx, 0, Stream::repair, n, 0.0, out);
    CHECK((out == 0.0).all());
    m->sample(ctx, 0, Stream::repair, n, 1.0, out);
    CHECK((out == n).all());
    m->sample(context(nullptr, 0, 4, 24.0, true), 0, Stream::repair, n, 0.25, out);
    CHECK((out == n * 0.25).all());
    const auto none = registries().failures.make(config("none"));
    none->sample(ctx, 0, Stream::failure, n, 0.5, out);
    CHECK((out == 0.0).all());
  }
}

// ---------------------------------------------------------------- procurement

namespace {

Date day(int offset) {
  return std::chrono::sys_days{std::chrono::year{2024} / 4 / 10} + std::chrono::days{offset};
}

// Two regions; SKU "a" (1 H100e, 1 kW, USD 10,000, 90-day lead) available
// from the start, SKU "b" (2 H100e, 1.5 kW, USD 30,000, 60-day lead) from day 100.
ScenarioSpec policy_spec() {
  ScenarioSpec spec;
  spec.time.start = day(0);
  SkuSpec a;
  a.name = "a";
  a.perf_h100e = 1.0;
  a.power_kw = 1.0;
  a.capex_usd = 10000.0;
  a.lead_time_days = 90.0;
  a.available_from = day(0);
  SkuSpec b = a;
  b.name = "b";
  b.perf_h100e = 2.0;
  b.power_kw = 1.5;
  b.capex_usd = 30000.0;
  b.lead_time_days = 60.0;
  b.available_from = day(100);
  spec.skus = {a, b};
  RegionSpec east;
  east.name = "east";
  east.power_mw = {{day(0), 0.1}, {day(60), 0.2}};  // 0.2 MW from day 60 on
  RegionSpec west;
  west.name = "west";
  west.power_mw = {{day(0), 1.0}};
  spec.regions = {east, west};
  spec.procurement.supply.max_per_quarter = {150.0, std::numeric_limits<double>::infinity()};
  return spec;
}

// A hand-made view of four paths (see the test below): the fleet, need and
// budget per path; power room, arrival steps and commitments per GPU as the
// engine would hand them over.
struct HandView {
  static constexpr Index kPaths = 4;
  ScenarioSpec spec = policy_spec();
  int t = 0;
  // Columns r * K + k: 0 east/a, 1 east/b, 2 west/a, 3 west/b.
  ArrayXXd need = ArrayXXd::Zero(kPaths, 2), installed = ArrayXXd::Zero(kPaths, 4),
           on_order = ArrayXXd::Zero(kPaths, 4), quarter = ArrayXXd::Zero(kPaths, 2),
           commit = ArrayXXd::Zero(kPaths, 4);
  ArrayXd budget = ArrayXd::Constant(kPaths, 1e9);
  std::vector<double> room_kw = {200.0, 200.0, 1000.0, 1000.0};  // east 0.2 MW, west 1 MW
  std::vector<int> arrival = {90, 60};
  int steps = 730;

  HandView() {
    for (Index k = 0; k < 2; ++k)
      for (Index r = 0; r < 2; ++r)
        commit.col(r * 2 + k).setConstant(spec.skus[static_cast<std::size_t>(k)].capex_usd);
  }
  PolicyView view() const {
    return PolicyView{&spec,    t,      day(t), steps,   need,    installed,
                      on_order, budget, commit, room_kw, arrival, quarter};
  }
};

struct Decision {
  ArrayXXd order = ArrayXXd::Zero(HandView::kPaths, 4);
  ArrayXXd limited = ArrayXXd::Zero(HandView::kPaths, kPolicyLimits * 2);
  // Flag of limit l for region r on path p.
  double flag(Index p, PolicyLimit l, Index r) const { return limited(p, l * 2 + r); }
};

Decision decide(const ProcurementPolicy& policy, const HandView& v) {
  Decision d;
  policy.review(context(nullptr, 0, HandView::kPaths, 24.0), v.view(), d.order, d.limited);
  return d;
}

}  // namespace

TEST_CASE("models::procurement::Headroom: orders on a hand-made view", "[models]") {
  // No planner growth and 80% target: required = need / 0.8.
  const auto policy = registries().procurement.make(
      config("headroom", {{"planner_growth_per_year", 0.0},
                          {"target_utilization", 0.8},
                          {"skus", std::vector<std::string>{"b", "a"}}}));
  HandView v;
  // Path 0: the gap binds. East: required 80 / 0.8 = 100, have 20 + 10 + 5 * 2
  // = 40, order 60; west: 40 / 0.8 = 50.
  v.need.row(0) << 80, 40;
  v.installed(0, 0) = 20;
  v.on_order(0, 0) = 10;
  v.installed(0, 1) = 5;
  // Path 1: power binds. East has 200 kW from the arrival on, 150 kW used:
  // 50 GPUs of 1 kW (not the 350 of the gap).
  v.need.row(1) << 400, 0;
  v.installed(1, 0) = 150;
  // Path 2: budget binds: USD 255,000 buys 25 GPUs, nothing left for west.
  v.need.row(2) << 80, 40;
  v.budget[2] = 255000;
  // Path 3: the quarter cap binds: 120 of 150 already ordered; east takes 20,
  // west the last 10.
  v.need.row(3) << 16, 40;
  v.quarter(3, 0) = 120;

  SECTION("before b is available: a, and why each path ordered less than its gap") {
    const Decision d = decide(*policy, v);
    ArrayXXd expected = ArrayXXd::Zero(HandView::kPaths, 4);
    expected.col(0) << 60, 50, 25, 20;
    expected.col(2) << 50, 0, 0, 10;
    CHECK((d.order == expected).all());
    ArrayXXd flags = ArrayXXd::Zero(HandView::kPaths, kPolicyLimits * 2);
    flags(1, limit_power * 2 + 0) = 1;   // path 1 east: power
    flags(2, limit_budget * 2 + 0) = 1;  // path 2: budget, both regions
    flags(2, limit_budget * 2 + 1) = 1;
    flags(3, limit_supply * 2 + 1) = 1;  // path 3 west: allocation used up, no other SKU yet
    CHECK((d.limited == flags).all());
  }

  SECTION("once b is available: b, whole GPUs") {
    // Path 0 east: required 81 / 0.8 = 101.25, have 40, gap 61.25 = 30.6 b -> 31.
    // Power from the arrival on: (200 - 37.5) / 1.5 = 108.3 -> 108, no bind.
    v.need(0, 0) = 81;
    // Path 1 east: gap 350 -> 175 b; power (200 - 150) / 1.5 = 33.3 -> 33,
    // and no fall back to a: power is shared by every SKU.
    v.t = 100;
    const Decision d = decide(*policy, v);
    CHECK(d.order(0, 1) == 31);
    CHECK(d.order(0, 3) == 25);  // west: 50 / 2
    CHECK(d.order(1, 1) == 33);
    CHECK(d.flag(1, limit_power, 0) == 1);
    CHECK(d.order(2, 1) == 8);  // 255,000 / 30,000
    CHECK(d.order(2, 3) == 0);
    CHECK(d.flag(2, limit_budget, 1) == 1);
    CHECK(d.order(3, 1) == 10);  // b has no quarter cap
    CHECK(d.order(3, 3) == 25);
    CHECK((d.order.col(0) == 0.0).all());
    CHECK((d.order.col(2) == 0.0).all());
  }

  SECTION("the next SKU of the list when the preferred one's quarterly allocation is used") {
    // b capped at 10 a quarter. Path 0 east wants 31 b, gets 10 (20 H100e),
    // then a for the rest: 101.25 - 40 - 20 = 41.25 -> 42 a. West: b's
    // allocation is gone, so a: 50. a's allocation: 150 - 42 - 50 = 58 left.
    v.spec.procurement.supply.max_per_quarter[1] = 10;
    v.need(0, 0) = 81;
    v.t = 100;
    const Decision d = decide(*policy, v);
    CHECK(d.order(0, 1) == 10);
    CHECK(d.order(0, 0) == 42);
    CHECK(d.order(0, 3) == 0);
    CHECK(d.order(0, 2) == 50);
    CHECK((d.limited.row(0) == 0.0).all());  // every gap closed
    // Path 3: a's allocation has 30 left. East: 10 b (16 / 0.8 = 20 H100e), no
    // fall back needed; west: b gone, a: 30 of the 50 wanted -> supply.
    CHECK(d.order(3, 1) == 10);
    CHECK(d.order(3, 2) == 30);
    CHECK(d.flag(3, limit_supply, 1) == 1);
    CHECK(d.flag(3, limit_supply, 0) == 0);
  }

  SECTION("order_unit: the gap rounds up to whole units, every limit down") {
    const auto servers = registries().procurement.make(
        config("headroom", {{"planner_growth_per_year", 0.0},
                            {"order_unit", 8.0},
                            {"skus", std::vector<std::string>{"a"}}}));
    const Decision d = decide(*servers, v);
    // Path 0: 60 -> 64 (8 servers), west 50 -> 56. Path 1: power 50 -> 48.
    // Path 2: budget 25.5 -> 24, then 15,000 USD left: nothing for west.
    // Path 3: east 20 -> 24 (the allocation's 30 -> 24 holds it); west 6
    // left -> 0.
    ArrayXXd expected = ArrayXXd::Zero(HandView::kPaths, 4);
    expected.col(0) << 64, 48, 24, 24;
    expected.col(2) << 56, 0, 0, 0;
    CHECK((d.order == expected).all());
    CHECK(d.flag(1, limit_power, 0) == 1);
    CHECK(d.flag(2, limit_budget, 1) == 1);
    CHECK(d.flag(3, limit_supply, 1) == 1);
  }

  SECTION("budget: the reserve is held back and each GPU commits its future opex") {
    // Budget 1e6 with a 10% reserve: 100,000 held back. Path 2 has 255,000
    // left: 155,000 to spend. East GPUs commit 12,500 each (10,000 capex and
    // 2,500 of opex to the horizon): floor(12.4) = 12; west: 5,000 left < 10,000.
    v.spec.finance.budget_usd = 1e6;
    v.commit.col(0).setConstant(12500.0);
    const auto reserving = registries().procurement.make(
        config("headroom", {{"planner_growth_per_year", 0.0},
                            {"budget_reserve", 0.1},
                            {"skus", std::vector<std::string>{"a"}}}));
    const Decision d = decide(*reserving, v);
    CHECK(d.order(2, 0) == 12);
    CHECK(d.order(2, 2) == 0);
    CHECK(d.flag(2, limit_budget, 0) == 1);
    CHECK(d.flag(2, limit_budget, 1) == 1);
    // Path 0 (1e9 left) is not limited.
    CHECK(d.order(0, 0) == 60);
    CHECK((d.limited.row(0) == 0.0).all());
  }

  SECTION("the planner's growth raises the requirement over lead time plus review period") {
    const auto growing = registries().procurement.make(
        config("headroom", {{"skus", std::vector<std::string>{"a"}}}));
    // Defaults: growth 0.3, review 30 days, target 0.8. Factor
    // 1.3^((90 + 30) / 365) / 0.8 = 1.36261; path 0 west: 40 * 1.36261 =
    // 54.50 -> 55 GPUs.
    CHECK(decide(*growing, v).order(0, 2) == 55);
  }

  SECTION("no SKU available yet: no orders, and every gap is short of supply") {
    const auto only_b = registries().procurement.make(
        config("headroom", {{"skus", std::vector<std::string>{"b"}}}));
    const Decision d = decide(*only_b, v);
    CHECK((d.order == 0.0).all());
    CHECK(d.flag(0, limit_supply, 0) == 1);
    CHECK(d.flag(1, limit_supply, 1) == 0);                      // no need in west on path 1
    CHECK((d.limited.leftCols(limit_supply * 2) == 0.0).all());  // no budget or power flags
  }

  SECTION("an order that would arrive after the horizon is not placed") {
    v.steps = 80;  // a arrives at step 90
    const auto only_a = registries().procurement.make(
        config("headroom", {{"skus", std::vector<std::string>{"a"}}}));
    const Decision d = decide(*only_a, v);
    CHECK((d.order == 0.0).all());
    CHECK((d.limited == 0.0).all());
  }

  SECTION("an unknown SKU name is an input error") {
    const auto bad = registries().procurement.make(
        config("headroom", {{"skus", std::vector<std::string>{"h100"}}}));
    Decision d;
    CHECK_THROWS_AS(
        bad->review(context(nullptr, 0, HandView::kPaths, 24.0), v.view(), d.order, d.limited),
        InputError);
  }

  SECTION("none orders nothing") {
    const auto none = registries().procurement.make(config("none"));
    const Decision d = decide(*none, v);
    CHECK((d.order == 0.0).all());
    CHECK((d.limited == 0.0).all());
    CHECK_FALSE(none->is_review(29, 24.0));
  }
}

TEST_CASE("models::procurement::Headroom: review schedule", "[models]") {
  const auto policy =
      registries().procurement.make(config("headroom", {{"skus", std::vector<std::string>{"a"}}}));

  SECTION("daily steps: the last step of every 30 days") {
    std::vector<int> reviews;
    for (int t = 0; t < 100; ++t)
      if (policy->is_review(t, 24.0)) reviews.push_back(t);
    CHECK(reviews == std::vector<int>{29, 59, 89});
  }

  SECTION("hourly and weekly steps: one review per 720 hours") {
    int hourly = 0, weekly = 0;
    for (int t = 0; t < 24 * 360; ++t) hourly += policy->is_review(t, 1.0);
    for (int t = 0; t < 51; ++t) weekly += policy->is_review(t, 168.0);
    CHECK(hourly == 12);
    CHECK(policy->is_review(719, 1.0));
    CHECK(weekly == 11);                 // 51 weeks = 357 days: reviews at days 30, 60, ..., 330
    CHECK(policy->is_review(4, 168.0));  // week 4 covers day 28 to 35
  }
}

// ---------------------------------------------------------------- reproducibility

TEST_CASE("models::Reproducibility: chunking does not change any path", "[models]") {
  const ModelRegistries& r = registries();
  SECTION("growth") {
    check_chunking(*r.growth.make(config("exponential", {{"rate", 0.3}, {"rate_sd", 0.2}})), 24.0,
                   20);
    check_chunking(
        *r.growth.make(config(
            "logistic", {{"cap", 4.0}, {"midpoint_months", 6.0}, {"rate", 3.0}, {"rate_sd", 1.0}})),
        24.0, 20);
    check_chunking(*r.growth.make(config(
                       "piecewise_linear",
                       {{"points", ParamTable{{{0.0, 1.0}}, {{1.0, 3.0}}}}, {"growth_sd", 0.5}})),
                   24.0, 20);
  }
  SECTION("noise and shocks") {
    check_chunking(*r.noise.make(config("log_ar1", {{"sigma", 0.4}})), 24.0, 30);
    check_chunking(
        *r.shocks.make(config("poisson", {{"rate_per_year", 50.0}, {"decay_months", 1.0}})), 24.0,
        60);
  }
  SECTION("outages and prices") {
    check_chunking(
        *r.outages.make(config("poisson", {{"events_per_year", 20.0}, {"mean_days", 3.0}})), 24.0,
        60);
    check_chunking(*r.fx.make(config("gbm", {{"volatility", 0.2}})), 24.0, 30);
    check_chunking(*r.price.make(config("log_ou", {{"volatility", 0.5}})), 24.0, 30);
  }
  SECTION("failures, both branches") {
    const auto m = r.failures.make(config("binomial"));
    const Rng rng(99);
    ArrayXd n(100);
    for (Index i = 0; i < 100; ++i) n[i] = static_cast<double>(i * 30);  // n p from 0 to 59
    ArrayXd whole(100), pieces(100);
    m->sample(context(&rng, 0, 100, 24.0, false, 1), 3, Stream::failure, n, 0.02, whole, 2);
    for (Index first = 0; first < 100; first += 10)
      m->sample(context(&rng, first, 10, 24.0, false, 1), 3, Stream::failure, n.segment(first, 10),
                0.02, pieces.segment(first, 10), 2);
    CHECK((whole == pieces).all());
  }
}
