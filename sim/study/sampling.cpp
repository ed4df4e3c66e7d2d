// --method lhs and random: `--samples N` points spread over the ranges and
// lists, stratified (a Latin hypercube) or independent.
#include <algorithm>
#include <numeric>

#include "design.hpp"

namespace capsim::sweep::detail {

namespace {

class Sampling final : public Design {
 public:
  explicit Sampling(bool latin) : latin_(latin) {}
  const char* name() const override { return latin_ ? "lhs" : "random"; }
  const char* description() const override {
    return latin_ ? "a Latin hypercube of --samples N points (one in every stratum of every key)"
                  : "--samples N independent uniform points";
  }
  const char* samples_are() const override { return "the number of points"; }

  long double count(const Definition& definition) const override {
    return static_cast<long double>(definition.samples);
  }

  Points points(const Definition& definition) const override {
    const auto& axes = definition.axes;
    const std::int64_t N = definition.samples;
    const PointRng rng(definition.seed);
    Points points(static_cast<std::size_t>(N), std::vector<std::string>(axes.size()));
    for (std::size_t a = 0; a < axes.size(); ++a) {
      if (!latin_) {
        for (std::int64_t i = 0; i < N; ++i)
          points[static_cast<std::size_t>(i)][a] = value_at(axes[a], rng.uniform(a, i, kRandom), 0);
        continue;
      }
      // Latin hypercube: point i falls in stratum order[i] of this axis; the
      // order is a uniformly random permutation (Fisher-Yates).
      std::vector<std::int64_t> order(static_cast<std::size_t>(N));
      std::iota(order.begin(), order.end(), 0);
      for (std::int64_t i = N - 1; i > 0; --i) {
        const auto j =
            std::min<std::int64_t>(i, static_cast<std::int64_t>(rng.uniform(a, i, kPermutation) *
                                                                static_cast<double>(i + 1)));
        std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
      }
      for (std::int64_t i = 0; i < N; ++i) {
        // In (0, 1]: stratum s covers (s/N, (s+1)/N].
        const double u =
            (static_cast<double>(order[static_cast<std::size_t>(i)]) + rng.uniform(a, i, kJitter)) /
            static_cast<double>(N);
        points[static_cast<std::size_t>(i)][a] = value_at(axes[a], u, N);
      }
    }
    return points;
  }

 private:
  bool latin_;
};

}  // namespace

std::unique_ptr<Design> make_lhs() {
  return std::make_unique<Sampling>(true);
}
std::unique_ptr<Design> make_random() {
  return std::make_unique<Sampling>(false);
}

}  // namespace capsim::sweep::detail
