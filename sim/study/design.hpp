// The methods of a sweep, inside the study room: how each one picks its
// points and, for the sensitivity methods, what it computes from their
// results. A method is one file here (grid.cpp, sampling.cpp, tornado.cpp,
// morris.cpp, sobol.cpp) and one line in design.cpp's table.
#pragma once

#include <Random123/philox.h>
#include <Random123/uniform.hpp>

#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "capsim/study/sensitivity.hpp"
#include "capsim/study/sweep.hpp"

namespace capsim::sweep::detail {

using Points = std::vector<std::vector<std::string>>;

// Contract: the common checks (at least one axis, no key twice, --samples
// only for a method that counts samples and at least min_samples(), ranges
// only where allowed or needed, at most kMaxPoints) run in
// Definition::check before check() adds the method's own; every check
// throws InputError naming the option. points() is a pure function of a
// checked definition; analyse() a pure function of the definition, the
// points and their outputs.
class Design {
 public:
  virtual ~Design() = default;
  virtual const char* name() const = 0;
  virtual const char* description() const = 0;  // one line for --help
  // What --samples counts ("the number of points"); nullptr: takes none.
  virtual const char* samples_are() const { return nullptr; }
  virtual std::int64_t min_samples() const { return 1; }
  // Every axis must be a range lo:hi (true), may be one (false), or must
  // not be (a grid: see accepts_ranges).
  virtual bool needs_ranges() const { return false; }
  virtual bool accepts_ranges() const { return true; }
  virtual void check(const Definition&) const {}
  // The number of points of a checked definition, before they are made.
  virtual long double count(const Definition& definition) const = 0;
  virtual Points points(const Definition& definition) const = 0;
  // Whether analyse() computes indices (the sensitivity methods).
  virtual bool analyses() const { return false; }
  // From the outputs y (points x targets) of every point: the method's
  // measures, description, ranked_by, confidence and resamples (the caller
  // adds inputs, targets and ranks).
  virtual sensitivity::Result analyse(const Definition& definition, const Points& points,
                                      const Eigen::ArrayXXd& y) const;
};

std::unique_ptr<Design> make_grid();
std::unique_ptr<Design> make_lhs();
std::unique_ptr<Design> make_random();
std::unique_ptr<Design> make_tornado();
std::unique_ptr<Design> make_morris();
std::unique_ptr<Design> make_sobol();

// The method of that name; throws InputError listing the methods.
std::unique_ptr<Design> find_design(const std::string& name);
// Every method, in --help order.
std::vector<std::unique_ptr<Design>> all_designs();

// The bootstrap of the sensitivity methods' intervals: 1000 resamples,
// 95% percentile intervals, drawn from the sweep's seed.
inline constexpr std::int64_t kResamples = 1000;
inline constexpr double kConfidence = 0.95;
inline sensitivity::Bootstrap bootstrap_of(const Definition& definition) {
  return sensitivity::Bootstrap{kResamples, kConfidence, definition.seed};
}

// Adds the measures NAME, NAME_lo and NAME_hi (over targets and inputs):
// an estimate and its bootstrap interval (the lower and upper ends are
// described from `what`); sets the result's confidence and resamples.
void add_with_interval(sensitivity::Result& result, const std::string& name,
                       const std::string& label, const std::string& what,
                       const std::string& description, sensitivity::Measure::Unit unit,
                       const Eigen::ArrayXXd& estimate, const Eigen::ArrayXXd& lo,
                       const Eigen::ArrayXXd& hi);

// Uniforms in (0, 1] (and raw words) for drawing points and bootstrap
// resamples; keyed apart from the simulation's own streams (which use the
// seed itself as the key), each use by its own purpose.
enum Purpose : std::uint32_t {
  kPermutation = 1,
  kJitter = 2,
  kRandom = 3,
  kMorrisStart = 4,
  kMorrisOrder = 5,
  kMorrisDirection = 6,
  kSobolShift = 7,
  kBootstrap = 8,
};

class PointRng {
 public:
  explicit PointRng(std::uint64_t seed) {
    key_ = {{static_cast<std::uint32_t>(seed) ^ 0x9E3779B9u,
             static_cast<std::uint32_t>(seed >> 32) ^ 0x7F4A7C15u}};
  }
  std::uint64_t bits(std::size_t axis, std::int64_t i, std::uint32_t purpose) const {
    const r123::Philox4x32::ctr_type ctr = {{static_cast<std::uint32_t>(axis),
                                             static_cast<std::uint32_t>(i),
                                             static_cast<std::uint32_t>(i >> 32), purpose}};
    const auto r = r123::Philox4x32()(ctr, key_);
    return (static_cast<std::uint64_t>(r[0]) << 32) | r[1];
  }
  double uniform(std::size_t axis, std::int64_t i, std::uint32_t purpose) const {
    return r123::u01<double>(bits(axis, i, purpose));
  }
  // Uniform in {0, ..., n - 1}.
  std::int64_t below(std::int64_t n, std::size_t axis, std::int64_t i,
                     std::uint32_t purpose) const {
    const auto k = static_cast<std::int64_t>(uniform(axis, i, purpose) * static_cast<double>(n));
    return k < n ? k : n - 1;
  }

 private:
  r123::Philox4x32::key_type key_{};
};

// The value of `axis` at the fraction u in (0, 1] of its range or list,
// for sampling: a list picks element floor(u n); a whole-number range of n
// numbers gives lo + floor(u n), so every number is equally likely; a
// continuous range is rounded to the fewest significant digits (6 or more)
// that keep it in the range and, for a Latin hypercube of `strata` strata
// (0: none), in its stratum.
std::string value_at(const Axis& axis, double u, std::int64_t strata);

// The value of range `axis` at the position u in [0, 1], for designs on
// levels (Morris, tornado): lo + u (hi - lo), rounded to the nearest whole
// number for a whole-number range, else to the fewest significant digits
// (6 or more) within 1e-6 of the range of the exact value.
std::string level_value(const Axis& axis, double u);

// The position in [0, 1] of a range axis's value (lo -> 0, hi -> 1).
double position(const Axis& axis, const std::string& value);

// The quantile q (type 7) of `values`, which it sorts; NaN when empty.
double quantile_of(std::vector<double>& values, double q);

// The percentile interval at `confidence` of the finite `estimates`
// (which it reorders); NaN when none is finite.
std::pair<double, double> percentile_interval(std::vector<double>& estimates, double confidence);

// Throws InputError("--vary 'ARGUMENT': MESSAGE").
[[noreturn]] void fail_axis(const std::string& argument, const std::string& message);

}  // namespace capsim::sweep::detail
