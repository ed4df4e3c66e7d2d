// The scenario loader's request-level inference classes (SPEC 3.3, keys in
// scenarios/README.md): every key read into RequestSpec, the two forms of
// the service level, and the errors.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "capsim/error.hpp"
#include "capsim/io/scenario_loader.hpp"
#include "capsim/models/builtin.hpp"

namespace {

const std::string kGolden = std::string(CAPSIM_SOURCE_DIR) + "/tests/scenarios/requests.yaml";

const capsim::models::ModelRegistries& registries() {
  static const auto r = capsim::models::builtin_registries();
  return r;
}

capsim::ScenarioSpec load(const std::vector<std::string>& overrides = {}) {
  return capsim::io::load_scenario(kGolden, registries(), overrides);
}

// Every diagnostic of loading the golden scenario with `overrides`, one per line.
std::string errors(const std::vector<std::string>& overrides) {
  try {
    load(overrides);
  } catch (const capsim::InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("io::load_scenario: a request-level class fills RequestSpec", "[io][loader][requests]") {
  const auto spec = load();
  REQUIRE(spec.classes.size() == 1);
  const auto& c = spec.classes[0];
  REQUIRE(c.requests);
  CHECK(c.base_demand_h100e == 0.0);
  CHECK(c.peak_factor == 1.0);
  const auto& q = *c.requests;
  CHECK(q.rate_per_s == 2.0);
  CHECK(q.input_tokens == 2000.0);
  CHECK(q.output_tokens == 50.0);
  CHECK(q.input_tokens_per_s_per_h100e == 4000.0);
  CHECK(q.output_tokens_per_s_per_h100e == 100.0);
  CHECK(q.service_s() == 1.0);  // 2000 / 4000 + 50 / 100
  CHECK(q.max_wait_s == 0.0);
  CHECK(q.max_wait_probability == 0.2);
  CHECK(q.peak_factor == 1.0);
  CHECK(q.queue.model == "erlang_c");

  SECTION("peak_factor of a request-level class applies to its rate") {
    const auto s = load({"classes.chat.peak_factor=1.5"});
    CHECK(s.classes[0].requests->peak_factor == 1.5);
    CHECK(s.classes[0].peak_factor == 1.0);
  }
  SECTION("a percentile of the wait") {
    const auto s = load({"classes.chat.requests.max_wait_probability=~",
                         "classes.chat.requests.wait_percentile=0.99",
                         "classes.chat.requests.max_wait_s=0.5"});
    CHECK(s.classes[0].requests->max_wait_probability == Approx(0.01).epsilon(1e-12));
    CHECK(s.classes[0].requests->max_wait_s == 0.5);
  }
  SECTION("a queue model with parameters") {
    const auto s = load({"classes.chat.requests.queue={model: allen_cunneen, arrival_cv: 2.5}"});
    CHECK(s.classes[0].requests->queue.model == "allen_cunneen");
    CHECK(s.classes[0].requests->queue.number("arrival_cv") == 2.5);
    CHECK(s.classes[0].requests->queue.number("service_cv") == 1.0);  // default
  }
}

TEST_CASE("io::load_scenario: request-level errors name the key", "[io][loader][requests]") {
  const std::string p = "classes.chat.requests.";
  CHECK(errors({p + "rate_per_s=-1"}).find(p + "rate_per_s: out of range") != std::string::npos);
  CHECK(errors({p + "input_tokens_per_s_per_h100e=0"})
            .find(p + "input_tokens_per_s_per_h100e: out of range") != std::string::npos);
  CHECK(errors({p + "max_wait_probability=1"}).find(p + "max_wait_probability: out of range") !=
        std::string::npos);
  CHECK(errors({p + "max_wait_s=-2"}).find(p + "max_wait_s: out of range") != std::string::npos);
  CHECK(errors({p + "rate_pr_s=3"}).find("did you mean 'rate_per_s'") != std::string::npos);
  CHECK(errors({p + "output_tokens=~"}).find(p + "output_tokens: missing required key") !=
        std::string::npos);
  CHECK(errors({p + "max_wait_probability=~"})
            .find(p + "max_wait_probability: missing required key") != std::string::npos);
  CHECK(errors({"classes.chat.requests=5"}).find("classes.chat.requests: wrong type") !=
        std::string::npos);
  CHECK(errors({"classes.chat.requests=~"})
            .find("classes.chat.base_demand_h100e: missing required key") != std::string::npos);
  // All at once.
  const std::string all = errors({p + "rate_per_s=-1", p + "output_tokens_per_s_per_h100e=0"});
  CHECK(all.find(p + "rate_per_s") != std::string::npos);
  CHECK(all.find(p + "output_tokens_per_s_per_h100e") != std::string::npos);
}
