#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>

#include "capsim/error.hpp"
#include "capsim/models/builtin.hpp"
#include "capsim/models/queueing.hpp"
#include "commands.hpp"
#include "parse.hpp"
#include "request_options.hpp"

namespace po = boost::program_options;

namespace capsim::cli {

namespace {

// Above this many servers the waits are evaluated by Halfin-Whitt rather than
// the O(c) recurrence (about 50 ms at 10^7).
constexpr double kExactLimit = 1e7;

std::string g(double x, int digits = 4) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*g", digits, x);
  return buffer;
}

// The wait t (in service times) with P(W > t) = p, by bisection: 0 when the
// probability of waiting is at most p already.
double wait_quantile(const models::QueueModel& model, double pw, double spare, double p) {
  if (!(model.wait_tail(pw, spare, 0.0) > p)) return 0.0;
  double lo = 0.0, hi = 1.0;
  while (model.wait_tail(pw, spare, hi) > p && hi < 1e300) hi *= 2.0;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (!(mid > lo && mid < hi)) break;
    (model.wait_tail(pw, spare, mid) > p ? lo : hi) = mid;
  }
  return hi;
}

}  // namespace

int size_command(const Args& args) {
  po::options_description opts(R"(Usage: capsim size --rate R [OPTIONS]

How many GPUs (H100e) a stream of LLM requests needs to meet a service level,
by the M/M/c queueing model (Erlang C), as capsim sizes a request-level
inference class each step (SPEC 3.3): exact Erlang C up to 200 servers,
square-root staffing (Halfin-Whitt) above. A request's service time on one
H100e is input tokens / --input-tps + output tokens / --output-tps; the load
is --rate x --peak-factor x that time. Prints the GPUs needed, their
utilization, the probability of waiting and the mean and percentiles of the
wait; with --gpus N, the same for N GPUs.

Example (p99 wait at most 0.5 s):
  capsim size --rate 300 --input-tokens 2048 --output-tokens 28 --input-tps 10000 \
    --output-tps 1000 --wait-percentile 0.99 --max-wait-s 0.5

Options)");
  double rate = 0.0, input_tokens = 0.0, output_tokens = 0.0, peak = 1.0;
  double arrival_cv = 1.0, service_cv = 1.0, gpus = -1.0;
  RequestOptions request;
  opts.add_options()("help,h", "show this help")("rate", po::value(&rate)->required(),
                                                 "requests per second (required)")(
      "input-tokens", po::value(&input_tokens)->default_value(input_tokens),
      "mean prompt (context) tokens per request")(
      "output-tokens", po::value(&output_tokens)->default_value(output_tokens),
      "mean generated tokens per request");
  request.add_to(opts);
  opts.add_options()("peak-factor", po::value(&peak)->default_value(peak),
                     "size for the rate times this (the busiest part of a period)")(
      "arrival-cv", po::value(&arrival_cv),
      "coefficient of variation of the inter-arrival times: with it (or --service-cv) the "
      "waits follow the Allen-Cunneen G/G/c approximation (1: Poisson)")(
      "service-cv", po::value(&service_cv), "coefficient of variation of the service times")(
      "gpus", po::value(&gpus), "evaluate this many H100e instead of the number needed");
  std::string unused;
  const auto parsed = parse_args(args, opts, "unused", &unused, 0);
  if (!parsed) return 0;
  const auto& vm = *parsed;
  check_option("rate", rate, 0, 1e9);
  check_option("input-tokens", input_tokens, 0, 1e7);
  check_option("output-tokens", output_tokens, 0, 1e7);
  if (!(input_tokens + output_tokens > 0))
    throw InputError("--input-tokens, --output-tokens: a request needs tokens (got 0 and 0)");
  check_option("peak-factor", peak, 1, 10);
  check_option("arrival-cv", arrival_cv, 0, 100);
  check_option("service-cv", service_cv, 0, 100);
  if (vm.count("gpus")) {
    check_option("gpus", gpus, 0, 1e12);
    if (gpus != std::floor(gpus))
      throw InputError("--gpus: expected a whole number (got " + g(gpus, 17) + ")");
  }
  request.resolve(vm);

  const auto registries = models::builtin_registries();
  ModelConfig queue;
  const bool corrected = vm.count("arrival-cv") || vm.count("service-cv");
  queue.model = corrected ? "allen_cunneen" : "erlang_c";
  if (corrected) queue.params = {{"arrival_cv", arrival_cv}, {"service_cv", service_cv}};
  const auto model = registries.queue.make(queue);

  const double service_s = input_tokens / request.input_tps + output_tokens / request.output_tps;
  const double A = rate * peak * service_s;
  const models::ServiceLevel level{request.max_wait_s / service_s, request.max_wait_probability};
  const models::Staffing staffing(*model, level);
  const double needed = staffing.servers(A);

  std::cout << "load            " << g(A) << " H100e busy on average (" << g(rate, 6)
            << " requests/s x " << g(peak) << " peak factor x " << g(service_s)
            << " s per request)\n";
  std::cout << "service level   P(wait > " << g(request.max_wait_s)
            << " s) <= " << g(request.max_wait_probability);
  if (request.percentile())
    std::cout << " (p" << g(100 * request.wait_percentile) << " wait <= " << g(request.max_wait_s)
              << " s)";
  std::cout << "\nqueue           "
            << (corrected ? "G/G/c by Allen-Cunneen, waits x " +
                                g(0.5 * (arrival_cv * arrival_cv + service_cv * service_cv))
                          : std::string("M/M/c (Erlang C)"))
            << "\n";
  std::cout << "GPUs needed     " << g(needed, 15) << " H100e";
  if (needed <= staffing.switch_servers()) {
    std::cout << " (exact staffing)\n";
  } else {
    std::cout << " (square-root staffing: A + beta sqrt(A) + gamma, beta "
              << g(staffing.spare(A) / std::sqrt(A)) << ", gamma " << g(staffing.gamma());
    if (needed <= kExactLimit)
      std::cout << "; exact staffing: " << g(staffing.exact_servers(A), 15);
    std::cout << ")\n";
  }

  const double c = vm.count("gpus") ? gpus : needed;
  if (vm.count("gpus")) std::cout << "with            " << g(c, 15) << " H100e\n";
  std::cout << "utilization     " << (c > 0 ? g(A / c) : std::string("-")) << "\n";
  if (!(c > A)) {
    std::cout << "waits           unbounded: " << g(c, 15) << " H100e do not exceed the load\n";
    return 0;
  }
  const double pw = c <= kExactLimit
                        ? models::erlang_c(c, A)
                        : models::halfin_whitt_wait_probability((c - A) / std::sqrt(A));
  const double spare = c - A;
  std::cout << "P(wait)         " << g(pw) << (c <= kExactLimit ? "" : " (Halfin-Whitt)") << "\n";
  std::cout << "P(wait > " << g(request.max_wait_s) << " s) "
            << g(model->wait_tail(pw, spare, level.max_wait)) << " (level "
            << g(request.max_wait_probability) << ")\n";
  std::cout << "mean wait       " << g(model->mean_wait(pw, spare) * service_s) << " s\n";
  std::cout << "wait p50 p90 p95 p99  ";
  for (double q : {0.5, 0.9, 0.95, 0.99})
    std::cout << g(wait_quantile(*model, pw, spare, 1.0 - q) * service_s) << (q < 0.99 ? " " : "");
  std::cout << " s\n";
  return 0;
}

}  // namespace capsim::cli
