#include "request_options.hpp"

#include <cmath>
#include <sstream>
#include <string>

#include "capsim/error.hpp"

namespace po = boost::program_options;

namespace capsim::cli {

void check_option(const char* name, double x, double lo, double hi, bool lo_open) {
  if (std::isfinite(x) && (lo_open ? x > lo : x >= lo) && x <= hi) return;
  std::ostringstream message;
  message << "--" << name << ": expected a number in " << (lo_open ? "(" : "[") << lo << ", " << hi
          << "] (got " << x << ")";
  throw InputError(message.str());
}

void RequestOptions::add_to(po::options_description& opts) {
  opts.add_options()("input-tps", po::value(&input_tps)->default_value(input_tps),
                     "prompt (context) tokens one H100e processes per second")(
      "output-tps", po::value(&output_tps)->default_value(output_tps),
      "tokens one H100e generates per second")(
      "max-wait-probability", po::value(&max_wait_probability),
      "service level: at most this share of requests waits longer than --max-wait-s")(
      "wait-percentile", po::value(&wait_percentile),
      "service level: this quantile of the wait is at most --max-wait-s (default 0.99)")(
      "max-wait-s", po::value(&max_wait_s),
      "the service level's wait in seconds (default 1 with --wait-percentile, 0 with "
      "--max-wait-probability: the probability of waiting at all)");
}

void RequestOptions::resolve(const po::variables_map& vm) {
  check_option("input-tps", input_tps, 0, 1e9, true);
  check_option("output-tps", output_tps, 0, 1e9, true);
  const bool probability = vm.count("max-wait-probability") > 0;
  if (probability && vm.count("wait-percentile"))
    throw InputError(
        "--max-wait-probability and --wait-percentile both give the service level; give one");
  if (vm.count("max-wait-s"))
    check_option("max-wait-s", max_wait_s, 0, 86400);
  else
    max_wait_s = probability ? 0.0 : 1.0;
  if (probability) {
    check_option("max-wait-probability", max_wait_probability, 0, 1, true);
    if (!(max_wait_probability < 1))
      throw InputError("--max-wait-probability: expected a number in (0, 1) (got 1)");
    wait_percentile = -1.0;
  } else {
    if (!vm.count("wait-percentile")) wait_percentile = 0.99;
    check_option("wait-percentile", wait_percentile, 0, 1, true);
    if (!(wait_percentile < 1))
      throw InputError("--wait-percentile: expected a number in (0, 1) (got 1)");
    max_wait_probability = 1.0 - wait_percentile;
  }
}

}  // namespace capsim::cli
