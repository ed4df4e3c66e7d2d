// Queueing of request-level inference (SPEC 3.3): how many servers a stream
// of requests needs so that its waits meet a service level. Pure math, no I/O.
//
// Notation: a server is one H100e. lambda is the arrival rate (requests per
// second), S the mean service time of a request on one server (seconds),
// mu = 1 / S; A = lambda S is the offered load in Erlangs (servers busy on
// average); c is the number of servers, spare = c - A; W is a request's wait
// in the queue before its service starts. Times without a unit suffix (t,
// max_wait) are in mean service times, i.e. mu t; a wait of t_s seconds is
// t = t_s / S.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "capsim/models/registry.hpp"

namespace capsim::models {

// Erlang B, the blocking probability of M/M/c/c, by the recurrence
//   B(0) = 1,   B(k) = A B(k-1) / (k + A B(k-1)).
// Every term lies in [0, 1], so the recurrence neither overflows nor cancels,
// for a million servers or a billion (no factorials, no powers of A). O(c)
// operations. Contract: c >= 0 (whole), A >= 0.
double erlang_b(double c, double A);

// Erlang C, the probability of waiting P(W > 0) in M/M/c:
//   C(c, A) = c B(c, A) / (c - A (1 - B(c, A)))   for c > A,
// and 1 for c <= A (no steady state: the queue grows without bound). O(c).
double erlang_c(double c, double A);

// Halfin-Whitt: with c = A + beta sqrt(A) and beta > 0 fixed, Erlang C tends
// to alpha(beta) = 1 / (1 + beta Phi(beta) / phi(beta)) as A grows, Phi and
// phi being the standard normal distribution and density. O(1); 1 at beta = 0.
double halfin_whitt_wait_probability(double beta);

// The wait of a queue given its M/M/c probability of waiting: the "queue" slot
// of a request-level class (registry "queue": erlang_c, allen_cunneen).
//
// Contract: for a queue whose M/M/c probability of waiting is pw (Erlang C,
// exact or its Halfin-Whitt value) and whose servers exceed the load by
// spare = c - A > 0, wait_tail(pw, spare, t) is P(W > t), t >= 0 in mean
// service times, with wait_tail(pw, spare, 0) = pw; it is non-decreasing in
// pw and non-increasing in spare and t. mean_wait(pw, spare) is E[W] in mean
// service times. Both are O(1).
class QueueModel {
 public:
  virtual ~QueueModel() = default;
  virtual double wait_tail(double pw, double spare, double t) const = 0;
  virtual double mean_wait(double pw, double spare) const = 0;
};

// P(W > t) of `model` with c servers at load A: 1 when c <= A, otherwise
// model.wait_tail(erlang_c(c, A), c - A, t). O(c).
double wait_tail(const QueueModel& model, double c, double A, double t);

// A service level: P(W > max_wait) <= max_probability. max_wait = 0 bounds the
// probability of waiting at all; max_wait = w with max_probability = 1 - q
// says "the q-quantile of the wait is at most w".
struct ServiceLevel {
  double max_wait = 0.0;         // mean service times, >= 0
  double max_probability = 0.2;  // in (0, 1)
};

// The servers a load needs to meet a service level under a queue model, fast
// enough to be evaluated for every path, region and step.
//
// servers(A) is the smallest whole c with P(W > max_wait) <= max_probability
// (0 for A = 0), by this rule:
// - exact for c <= switch_servers(), i.e. A <= switch_load(): the largest
//   load each c = 1 .. switch_servers() carries within the service level,
//   A_c, is found once by root finding on the exact tail, and servers(A) is
//   the first c with A <= A_c;
// - above, square-root staffing (Halfin-Whitt): c = max(switch_servers() + 1,
//   ceil(A + spare(A) + gamma)). The spare servers spare(A) = beta sqrt(A),
//   where beta solves wait_tail(alpha(beta), beta sqrt(A), max_wait) =
//   max_probability. With max_wait = 0 beta is one number, solved once. With
//   max_wait > 0 it depends on A: spare(A) is solved at the nodes 2^e (1 +
//   k / 32) (whole e, k = 0 .. 31) from the one at or below switch_load() to
//   2^40, and interpolated linearly in A between them (beyond 2^40, the last
//   node's beta times sqrt(A): beta falls as A grows, so this staffs more,
//   never less). gamma = switch_servers() - switch_load() - spare(switch_load())
//   makes the two parts meet at the switch: square-root staffing alone falls
//   short of the exact count by a nearly constant 0.2 to 2 servers (more for
//   stricter levels), which gamma takes up. docs/models.md gives the measured
//   error: at most one server either way.
// Cost: servers(A) is O(1) (a table look-up, a square root or an
// interpolation); building is O(switch_servers()^2) plus about a thousand
// one-dimensional root searches when max_wait > 0.
// Contract: `model` outlives the Staffing; A >= 0 or NaN (NaN gives NaN).
class Staffing {
 public:
  static constexpr int kExactServers = 200;

  Staffing(const QueueModel& model, ServiceLevel level, int exact_servers = kExactServers);

  double servers(double A) const;
  // out[i] = servers(load[i]); out may not alias load.
  void servers(Eigen::Ref<const Eigen::ArrayXd> load, Eigen::Ref<Eigen::ArrayXd> out) const;

  // The exact smallest c, walking the Erlang B recurrence up from c = 1:
  // O(c), for checks and one-off answers.
  double exact_servers(double A) const;
  // Whether c servers meet the level at load A (exact, O(c)).
  bool meets(double c, double A) const;

  int switch_servers() const { return exact_servers_; }
  double switch_load() const { return limit_.back(); }
  // The rule's spare servers beta sqrt(A) for A >= switch_load(), and gamma.
  double spare(double A) const;
  double gamma() const { return gamma_; }
  // beta of the Halfin-Whitt equation at load A, solved directly (bisection
  // in [lo, hi], which must bracket it).
  double solve_beta(double A, double lo = 0.0, double hi = kMaxBeta) const;
  const ServiceLevel& level() const { return level_; }

  // No service level needs a larger beta: alpha(40) is below 1e-300.
  static constexpr double kMaxBeta = 40.0;
  // Interpolation nodes: 32 per octave, up to 2^40.
  static constexpr int kMantissaBits = 5;
  static constexpr int kLastExponent = 40;

 private:
  double find_limit(int c, double lo) const;

  const QueueModel* model_;
  ServiceLevel level_;
  int exact_servers_;
  std::vector<double> limit_;  // [c] largest load c servers carry; limit_[0] = 0
  std::vector<int> first_;     // [j] smallest c with limit_[c] >= j, j = 0 .. floor(switch_load)
  double beta0_ = 0.0;         // beta when max_wait = 0
  std::uint64_t node0_ = 0;    // sign, exponent and top mantissa bits of the first node
  std::vector<double> spare_;  // [j] spare at node j (max_wait > 0)
  double gamma_ = 0.0;
};

}  // namespace capsim::models
