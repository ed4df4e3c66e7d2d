#include <boost/program_options.hpp>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "capsim/error.hpp"
#include "capsim/io/trace.hpp"
#include "commands.hpp"
#include "parse.hpp"
#include "request_options.hpp"

namespace po = boost::program_options;

namespace capsim::cli {

namespace {

// "15m", "900s", "900", "1.5h": seconds.
double parse_window(const std::string& text) {
  std::size_t used = 0;
  double x = 0.0;
  try {
    x = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const std::string unit = used > 0 ? text.substr(used) : "";
  const double scale = unit.empty() || unit == "s" ? 1.0
                       : unit == "m"               ? 60.0
                       : unit == "h"               ? 3600.0
                                                   : 0.0;
  if (used == 0 || scale == 0.0 || !(x > 0.0) || !std::isfinite(x))
    throw InputError("--window: expected a duration > 0 such as 900s, 15m or 1h (got \"" + text +
                     "\")");
  return x * scale;
}

std::string g(double x, int digits = 6) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*g", digits, x);
  return buffer;
}

}  // namespace

int calibrate_command(const Args& args) {
  po::options_description opts(R"(Usage: capsim calibrate TRACE.csv [OPTIONS]

Fits a request-level inference class (SPEC 3.3) to a request trace and writes
it as YAML: a document `classes: {NAME: {...}}` that a scenario can `extend:`
(it replaces a class of the same name given in H100e) or whose class can be
pasted under `classes:`.

The trace is a CSV file in the Azure LLM inference trace format: a header
naming TIMESTAMP (YYYY-MM-DD HH:MM:SS with an optional fraction),
ContextTokens and GeneratedTokens, then one request per row. From it:

  rate_per_s     requests / (last - first timestamp)
  input_tokens, output_tokens   the mean ContextTokens and GeneratedTokens
  peak_factor    the load (service time on one H100e, at --input-tps and
                 --output-tps) of the busiest --window over the mean load
  arrival_cv     the coefficient of variation of the inter-arrival times,
                 and service_cv that of the service times

Arrivals whose inter-arrival CV is more than 0.2 away from 1 are far from
Poisson: calibrate says so and, with --queue auto, corrects the waits by the
Allen-Cunneen G/G/c approximation (waits x (arrival_cv^2 + service_cv^2) / 2).
A malformed trace is reported as FILE:LINE:COL: column: message (exit 2).

Example:
  capsim calibrate ../shared/data/azure-llm-inference-code-2023.csv --window 15m \
    --wait-percentile 0.99 --max-wait-s 1 -o code.yaml

Options)");
  std::string trace_file, output, window = "15m", class_name = "inference", queue = "auto";
  std::vector<std::string> notes;
  RequestOptions request;
  opts.add_options()("help,h", "show this help")("output,o", po::value(&output),
                                                 "write the class to this file (default: stdout)")(
      "window", po::value(&window)->default_value(window),
      "window of the peak-to-mean load: seconds, or with s, m or h")(
      "class", po::value(&class_name)->default_value(class_name), "name of the class");
  request.add_to(opts);
  opts.add_options()("queue", po::value(&queue)->default_value(queue),
                     "auto (allen_cunneen when arrivals are far from Poisson), erlang_c or "
                     "allen_cunneen")(
      "note", po::value(&notes)->composing(),
      "a comment line at the top of the file, e.g. the trace's source and licence (repeatable)")(
      "quiet,q", "no summary");
  const auto parsed = parse_args(args, opts, "trace", &trace_file, 1);
  if (!parsed) return 0;
  const auto& vm = *parsed;
  if (trace_file.empty())
    throw InputError("calibrate: no trace given (see capsim calibrate --help)");
  request.resolve(vm);
  if (queue != "auto" && queue != "erlang_c" && queue != "allen_cunneen")
    throw InputError("--queue: expected auto, erlang_c or allen_cunneen (got \"" + queue + "\")");
  bool name_ok = !class_name.empty();
  for (const char ch : class_name)
    name_ok = name_ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-');
  if (!name_ok)
    throw InputError("--class: expected letters, digits, _ and - only (got \"" + class_name +
                     "\")");
  for (const auto& note : notes)
    if (note.find_first_of("\r\n") != std::string::npos)
      throw InputError("--note: one line each (got a line break)");

  io::CalibrationOptions options;
  options.window_s = parse_window(window);
  options.input_tokens_per_s_per_h100e = request.input_tps;
  options.output_tokens_per_s_per_h100e = request.output_tps;
  const io::Trace trace = io::read_trace(trace_file);
  const io::Calibration c = io::calibrate(trace, options);

  io::ClassYamlOptions yaml;
  yaml.class_name = class_name;
  yaml.percentile = request.percentile();
  yaml.wait_percentile = request.wait_percentile;
  yaml.max_wait_probability = request.max_wait_probability;
  yaml.max_wait_s = request.max_wait_s;
  yaml.allen_cunneen = queue == "allen_cunneen" || (queue == "auto" && !c.poisson);
  yaml.window_text = window;
  yaml.notes = notes;
  const std::string text = io::class_yaml(trace, c, yaml);
  if (output.empty())
    std::cout << text;
  else
    io::write_text(output, text);

  if (vm.count("quiet") == 0) {
    std::ostream& out = output.empty() ? std::cerr : std::cout;
    const double k = 0.5 * (c.interarrival_cv * c.interarrival_cv + c.service_cv * c.service_cv);
    out << "trace: " << trace_file << ": " << c.requests << " requests from "
        << trace.first_timestamp << " to " << trace.last_timestamp << " (" << g(c.duration_s)
        << " s)\n"
        << "rate: " << g(c.rate_per_s) << " requests/s\n"
        << "tokens: " << g(c.input_tokens) << " input, " << g(c.output_tokens)
        << " output per request (mean)\n"
        << "service time: " << g(c.service_s) << " s per request on one H100e at "
        << g(request.input_tps) << " input and " << g(request.output_tps) << " output tokens/s (CV "
        << g(c.service_cv, 4) << ")\n"
        << "load: " << g(c.load_h100e) << " H100e busy on average\n"
        << "peak-to-mean of the load over " << window << ": " << g(c.peak_to_mean, 4)
        << " (busiest window from " << g(c.busiest_start_s) << " s after the first request)\n"
        << "inter-arrival CV: " << g(c.interarrival_cv, 4) << " (Poisson: 1)\n";
    if (!c.poisson)
      out << "note: arrivals are far from Poisson (inter-arrival CV " << g(c.interarrival_cv, 4)
          << ", more than 0.2 from 1). "
          << (yaml.allen_cunneen
                  ? "The class corrects its waits by the Allen-Cunneen G/G/c approximation, x " +
                        g(k, 4) + " = (" + g(c.interarrival_cv, 4) + "^2 + " + g(c.service_cv, 4) +
                        "^2) / 2 (--queue erlang_c for plain M/M/c)"
                  : std::string("--queue allen_cunneen would scale the waits by the "
                                "Allen-Cunneen G/G/c approximation, x ") +
                        g(k, 4))
          << "; peak_factor " << g(std::fmax(1.0, c.peak_to_mean), 4) << " sizes for the busiest "
          << window
          << ". Allen-Cunneen changes the wait, not the probability of waiting: with "
             "--max-wait-s 0 only peak_factor corrects for the bursts.\n";
    if (!output.empty()) out << "wrote " << output << "\n";
  }
  return 0;
}

}  // namespace capsim::cli
