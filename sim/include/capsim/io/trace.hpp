// Request traces and the calibration of a request-level inference class from
// one (SPEC 3.3, `capsim calibrate`).
//
// The trace format is the Azure LLM inference trace's: a CSV file with a
// header row naming TIMESTAMP, ContextTokens and GeneratedTokens (in any
// order; other columns are ignored) and one request per row, e.g.
//   TIMESTAMP,ContextTokens,GeneratedTokens
//   2023-11-16 18:17:03.9799600,4808,10
// Timestamps are `YYYY-MM-DD HH:MM:SS` with an optional fraction of up to 9
// digits ('T' may separate date and time); token counts are whole numbers
// >= 0.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace capsim::io {

struct Trace {
  std::string file;
  // Per request, sorted by arrival (rows with equal times keep file order).
  std::vector<double> arrival_s;  // seconds since the first request
  std::vector<double> input_tokens, output_tokens;
  std::string first_timestamp, last_timestamp;  // as written in the file
};

// Reads a trace. Throws InputError with one Diagnostic per problem (up to
// 20), each "FILE:LINE:COL: column: what is wrong (got X, expected Y)": a
// missing or unreadable file, a missing column, a row with the wrong number
// of fields, a malformed timestamp or token count, fewer than two requests
// or a trace of zero duration.
Trace read_trace(const std::string& path);
// The same from text; `name` is the file name in messages.
Trace parse_trace(const std::string& text, const std::string& name);

struct CalibrationOptions {
  double window_s = 900.0;                        // peak-to-mean window, (0, duration]
  double input_tokens_per_s_per_h100e = 5000.0;   // throughput of one H100e, for the
  double output_tokens_per_s_per_h100e = 1000.0;  //   service times
  double poisson_tolerance = 0.2;                 // |inter-arrival CV - 1| of "Poisson"
};

// Statistics of a trace, with n requests at times t_1 <= ... <= t_n:
//   duration_s       t_n - t_1
//   rate_per_s       n / duration_s
//   input_tokens, output_tokens   means over the requests
//   interarrival_cv  sample standard deviation (divisor n - 2) over mean of
//                    the n - 1 gaps t_{i+1} - t_i
//   service_s_i      input_i / input_tps + output_i / output_tps: request i's
//                    service time on one H100e (seconds); service_s is their
//                    mean, service_cv their sample CV (divisor n - 1)
//   load_h100e       rate_per_s x service_s = sum_i service_s_i / duration_s
//   peak_to_mean     max over windows [t_i, t_i + window_s) with t_i + window_s
//                    <= t_n of (sum of service_s_j with t_j in the window) /
//                    window_s, over load_h100e
//   busiest_start_s  t_i - t_1 of that window (the first, on ties)
//   poisson          |interarrival_cv - 1| <= poisson_tolerance
struct Calibration {
  std::int64_t requests = 0;
  double duration_s = 0.0, rate_per_s = 0.0;
  double input_tokens = 0.0, output_tokens = 0.0;
  double interarrival_cv = 0.0;
  double service_s = 0.0, service_cv = 0.0, load_h100e = 0.0;
  double window_s = 0.0, peak_to_mean = 0.0, busiest_start_s = 0.0;
  bool poisson = true;
  CalibrationOptions options;
};

// Throws InputError when the window is not in (0, duration].
Calibration calibrate(const Trace& trace, const CalibrationOptions& options);

// What the written class asks for besides the trace's statistics.
struct ClassYamlOptions {
  std::string class_name = "inference";
  double max_wait_s = 1.0;
  bool percentile = true;  // write wait_percentile (else max_wait_probability)
  double wait_percentile = 0.99;
  double max_wait_probability = 0.01;
  bool allen_cunneen = false;  // queue: allen_cunneen with the trace's CVs
  std::string window_text = "15m";
  std::vector<std::string> notes;  // comment lines at the top (source, licence)
};

// The class as a YAML document `classes: {NAME: {...}}`, to `extend:` from a
// scenario (it sets `base_demand_h100e: ~`, so it also turns an inherited
// class given in H100e into a request-level one) or to paste under
// `classes:`. Numbers have 10 significant digits; every value carries a
// comment saying where it comes from.
std::string class_yaml(const Trace& trace, const Calibration& c, const ClassYamlOptions& options);

// Writes `text` to `path` under a temporary name renamed when complete.
// Throws RuntimeError when it cannot.
void write_text(const std::string& path, const std::string& text);

}  // namespace capsim::io
