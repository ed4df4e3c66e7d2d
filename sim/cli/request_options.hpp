// Options shared by `capsim size` and `capsim calibrate`: the throughput of
// one H100e and the service level of a request-level class.
#pragma once

#include <boost/program_options.hpp>

namespace capsim::cli {

struct RequestOptions {
  double input_tps = 5000.0;   // prompt tokens per second on one H100e
  double output_tps = 1000.0;  // generated tokens per second on one H100e
  double max_wait_probability = -1.0;
  double wait_percentile = -1.0;
  double max_wait_s = -1.0;

  void add_to(boost::program_options::options_description& opts);
  // Checks the values given (InputError naming the option) and settles the
  // service level: P(wait > max_wait_s) <= max_wait_probability, either
  // given or from --wait-percentile (default: the 99th percentile at most
  // 1 s). After it, max_wait_s >= 0 and max_wait_probability is in (0, 1).
  void resolve(const boost::program_options::variables_map& vm);
  bool percentile() const { return wait_percentile >= 0.0; }
};

// Throws InputError "--NAME: expected ... (got X)" unless lo <= x <= hi
// (lo excluded when lo_open).
void check_option(const char* name, double x, double lo, double hi, bool lo_open = false);

}  // namespace capsim::cli
