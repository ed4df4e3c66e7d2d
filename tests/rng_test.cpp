// The counter-based generator's derived numbers: normals (Boost.Random's
// ziggurat on Philox words) and the uniforms four paths share.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "capsim/rng.hpp"

using capsim::Rng;
using capsim::Stream;

TEST_CASE("Rng::normal2: standard normals, a pure function of the counter", "[rng]") {
  const Rng rng(20240410);
  constexpr int kPairs = 200000;
  constexpr double kN = 2.0 * kPairs;
  double sum = 0.0, sum2 = 0.0, cross = 0.0;
  int beyond3 = 0;
  for (int p = 0; p < kPairs; ++p) {
    const Rng::Pair z = rng.normal2(p, 7, Stream::demand_noise, 3);
    for (const double v : {z.a, z.b}) {
      sum += v;
      sum2 += v * v;
      beyond3 += std::abs(v) > 3.0 ? 1 : 0;
    }
    cross += z.a * z.b;
  }
  const double mean = sum / kN;
  const double variance = sum2 / kN - mean * mean;
  // Four standard errors: of the mean 1/sqrt(N), of the variance sqrt(2/N),
  // of the product of the pair's two values 1/sqrt(pairs).
  CHECK(std::abs(mean) < 4.0 / std::sqrt(kN));
  CHECK(std::abs(variance - 1.0) < 4.0 * std::sqrt(2.0 / kN));
  CHECK(std::abs(cross / kPairs) < 4.0 / std::sqrt(static_cast<double>(kPairs)));
  // P(|Z| > 3) = 0.0026998 (the ziggurat's tail and wedges are exercised).
  const double tail = beyond3 / kN;
  CHECK(std::abs(tail - 0.0026998) < 4.0 * std::sqrt(0.0026998 / kN));

  const Rng::Pair once = rng.normal2(12345, 7, Stream::demand_noise, 3);
  const Rng::Pair again = rng.normal2(12345, 7, Stream::demand_noise, 3);
  CHECK(once.a == again.a);
  CHECK(once.b == again.b);
  CHECK(rng.normal2(12345, 7, Stream::demand_noise, 3, 1).a != once.a);
}

TEST_CASE("Rng::FourPaths: a path's uniform does not depend on where the walk starts", "[rng]") {
  const Rng rng(99);
  constexpr int kPaths = 100000;
  std::vector<double> in_order(kPaths);
  Rng::FourPaths forward(rng, 5, Stream::failure, 2, 0);
  double sum = 0.0;
  for (int p = 0; p < kPaths; ++p) {
    in_order[static_cast<std::size_t>(p)] = forward.uniform(p);
    sum += in_order[static_cast<std::size_t>(p)];
  }
  for (const double u : in_order) REQUIRE((u > 0.0 && u < 1.0));
  // Uniform(0, 1): mean 1/2 within four standard errors (sd 1/sqrt(12)).
  CHECK(std::abs(sum / kPaths - 0.5) < 4.0 / std::sqrt(12.0 * kPaths));
  // The four paths of a block get four different words.
  CHECK(in_order[0] != in_order[1]);
  CHECK(in_order[1] != in_order[2]);
  CHECK(in_order[2] != in_order[3]);

  // Backwards, and from starts that are not a multiple of four, as chunks
  // of a run that does not begin at path 0 would walk them.
  Rng::FourPaths backward(rng, 5, Stream::failure, 2, 0);
  for (int p = kPaths - 1; p >= 0; --p)
    REQUIRE(backward.uniform(p) == in_order[static_cast<std::size_t>(p)]);
  for (int start : {1, 2, 3, 4097}) {
    Rng::FourPaths chunk(rng, 5, Stream::failure, 2, 0);
    for (int p = start; p < start + 10; ++p)
      REQUIRE(chunk.uniform(p) == in_order[static_cast<std::size_t>(p)]);
  }
  // Another draw, step or stream index gives other numbers.
  CHECK(Rng::FourPaths(rng, 5, Stream::failure, 2, 1).uniform(0) != in_order[0]);
  CHECK(Rng::FourPaths(rng, 6, Stream::failure, 2, 0).uniform(0) != in_order[0]);
  CHECK(Rng::FourPaths(rng, 5, Stream::failure, 3, 0).uniform(0) != in_order[0]);
}
