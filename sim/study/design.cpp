#include "design.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "capsim/error.hpp"

namespace capsim::sweep::detail {

namespace {

struct Entry {
  const char* name;
  std::unique_ptr<Design> (*make)();
};

// Every method, in --help order: a new method is one file and one line here.
constexpr Entry kMethods[] = {
    {"grid", make_grid},       {"lhs", make_lhs},       {"random", make_random},
    {"tornado", make_tornado}, {"morris", make_morris}, {"sobol", make_sobol},
};

// The shortest "%.*g" text, from 6 significant digits up, of x that
// `good` accepts; the full round-trip text when none does.
template <class Good>
std::string rounded(double x, const Good& good) {
  for (int digits = 6; digits < 17; ++digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", digits, x);
    double r = 0;
    if (parse_number(buf, r) && good(r)) return buf;
  }
  return number_text(x);
}

}  // namespace

sensitivity::Result Design::analyse(const Definition&, const Points&,
                                    const Eigen::ArrayXXd&) const {
  throw std::logic_error(std::string("sweep method ") + name() + " computes no indices");
}

std::unique_ptr<Design> find_design(const std::string& name) {
  std::string names;
  for (const Entry& entry : kMethods) {
    if (name == entry.name) return entry.make();
    names += std::string(names.empty() ? "" : ", ") + entry.name;
  }
  throw InputError("--method: unknown method '" + name + "' (expected one of: " + names + ")");
}

std::vector<std::unique_ptr<Design>> all_designs() {
  std::vector<std::unique_ptr<Design>> designs;
  for (const Entry& entry : kMethods) designs.push_back(entry.make());
  return designs;
}

std::string value_at(const Axis& axis, double u, std::int64_t strata) {
  if (axis.kind != Axis::Kind::range) {
    const auto n = static_cast<std::int64_t>(axis.values.size());
    const auto i = std::clamp<std::int64_t>(
        static_cast<std::int64_t>(std::floor(u * static_cast<double>(n))), 0, n - 1);
    return axis.values[static_cast<std::size_t>(i)];
  }
  if (axis.integer) {
    const double span = axis.hi - axis.lo + 1.0;
    const double v = std::min(axis.hi, axis.lo + std::floor(u * span));
    return std::to_string(static_cast<std::int64_t>(v));
  }
  const double lo = axis.lo, hi = axis.hi;
  const double x = std::min(hi, lo + u * (hi - lo));
  const auto stratum = [&](double v) {
    return std::ceil((v - lo) / (hi - lo) * static_cast<double>(strata));
  };
  return rounded(
      x, [&](double r) { return r >= lo && r <= hi && (strata == 0 || stratum(r) == stratum(x)); });
}

std::string level_value(const Axis& axis, double u) {
  const double lo = axis.lo, hi = axis.hi;
  const double x = std::clamp(lo + u * (hi - lo), lo, hi);
  if (axis.integer) return std::to_string(static_cast<std::int64_t>(std::llround(x)));
  return rounded(
      x, [&](double r) { return r >= lo && r <= hi && std::abs(r - x) <= 1e-6 * (hi - lo); });
}

double position(const Axis& axis, const std::string& value) {
  double x = 0;
  if (!parse_number(value, x)) return std::nan("");
  return (x - axis.lo) / (axis.hi - axis.lo);
}

double quantile_of(std::vector<double>& values, double q) {
  if (values.empty()) return std::nan("");
  std::sort(values.begin(), values.end());
  const double h = static_cast<double>(values.size() - 1) * q;
  const auto i = static_cast<std::size_t>(std::floor(h));
  if (i + 1 >= values.size()) return values.back();
  return values[i] + (h - static_cast<double>(i)) * (values[i + 1] - values[i]);
}

std::pair<double, double> percentile_interval(std::vector<double>& estimates, double confidence) {
  estimates.erase(std::remove_if(estimates.begin(), estimates.end(),
                                 [](double x) { return !std::isfinite(x); }),
                  estimates.end());
  const double tail = (1.0 - confidence) / 2.0;
  const double lo = quantile_of(estimates, tail);
  return {lo, quantile_of(estimates, 1.0 - tail)};
}

void add_with_interval(sensitivity::Result& result, const std::string& name,
                       const std::string& label, const std::string& what,
                       const std::string& description, sensitivity::Measure::Unit unit,
                       const Eigen::ArrayXXd& estimate, const Eigen::ArrayXXd& lo,
                       const Eigen::ArrayXXd& hi) {
  using M = sensitivity::Measure;
  result.measures.push_back(M{name, label, description, M::Over::target_input, unit, estimate});
  result.measures.push_back(
      M{name + "_lo", "", "lower end of the interval of " + what, M::Over::target_input, unit, lo});
  result.measures.push_back(
      M{name + "_hi", "", "upper end of the interval of " + what, M::Over::target_input, unit, hi});
  result.confidence = kConfidence;
  result.resamples = kResamples;
}

void fail_axis(const std::string& argument, const std::string& message) {
  throw InputError("--vary '" + argument + "': " + message);
}

}  // namespace capsim::sweep::detail
