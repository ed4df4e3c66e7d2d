// The optimizer study (SPEC 5, `capsim optimize`): the best plan, a set of
// values of decision variables (scenario key paths), for an objective on one
// key figure subject to constraints on others.
//
// Method: sample-average approximation with common random numbers. Every
// candidate runs the same `paths` paths with the same `seed`, so a
// candidate's figures are a deterministic function of its values and two
// candidates differ only by their decisions. The search is a Latin
// hypercube screen of `screen` points (the sweep's lhs design), then COBYLA
// (NLopt, inequality constraints, bounds) from the best screened point, on
// the unit cube of the variables; then a pattern search on the integer and
// choice variables (steps halving down to one unit or one list element).
// Integer variables are optimized continuously and rounded when evaluated;
// choices take element floor(u n) of their n values. Evaluations are cached
// by their rounded values (a point is never run twice) and `max_evals`
// bounds the distinct points run.
//
// A measure is the mean or a quantile q (type 7) across paths of one
// key-figure column; the mean of a 0/1 figure (over_budget) is a
// probability.
#pragma once

#include <Eigen/Core>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "capsim/results.hpp"

namespace capsim::optimize {

// One `--var KEY=lo:hi[:int]` or `--var KEY=a,b,c` argument.
struct Variable {
  std::string argument;  // as given, for messages
  std::string key;       // e.g. "procurement.orders.0.count"
  bool choice = false;
  std::vector<std::string> choices;  // choice: the values as YAML text
  double lo = 0.0, hi = 0.0;         // range, lo < hi
  bool integer = false;              // range of whole numbers

  // The value (YAML text) at the position u in [0, 1]: lo + u (hi - lo),
  // rounded to a multiple of resolution(); a choice takes element
  // min(n - 1, floor(u n)).
  std::string value_at(double u) const;
  // 1 for a whole number; for a continuous variable the largest power of
  // ten at most (hi - lo) / 1000 (0.7:0.95 gives 0.0001), so values read
  // as 0.7180, not 0.7179779060124434.
  double resolution() const;
  // The position of a value (the middle of its slot for a choice); nullopt
  // when it is not a number in the range or not one of the choices.
  std::optional<double> position(const std::string& value) const;
};

// Parses KEY=lo:hi (continuous), KEY=lo:hi:int (whole numbers, lo and hi
// whole) or KEY=a,b,c (a choice, at least two values). Throws InputError
// naming the argument.
Variable parse_variable(const std::string& argument);

// The statistic of one key-figure column across paths.
struct Measure {
  std::string text;         // canonical: "total_spend_usd:mean", "npv_usd:p50"
  std::string unit;         // the key figure's unit ("0/1", "USD", "fraction")
  Eigen::Index column = 0;  // key-figure column
  double quantile = -1.0;   // in (0, 1); negative: the mean
  bool probability() const { return quantile < 0.0 && unit == "0/1"; }
  double of(const Eigen::Ref<const Eigen::ArrayXXd>& per_path) const;
};

// NAME[LABEL] with an optional statistic :mean or :pNN (also .mean, .pNN),
// NN a percentile in (0, 100), e.g. "over_budget", "npv_usd:p50",
// "unserved_fraction[inference].mean". Throws InputError naming `option`
// and suggesting the closest key figure.
Measure parse_measure(const std::string& text, const Layout& layout, const std::string& option);

struct Objective {
  Measure measure;
  bool maximize = false;
};
// "min:MEASURE" or "max:MEASURE".
Objective parse_objective(const std::string& text, const Layout& layout);

struct Constraint {
  std::string argument;
  Measure measure;
  bool at_most = true;  // MEASURE <= bound (else >=)
  double bound = 0.0;
  // The violation of value v is max(0, v - bound) / scale for <= (and
  // max(0, bound - v) / scale for >=), scale = |bound|, or 1 when the bound
  // is 0 or the measure a probability.
  double scale() const;
  double excess(double value) const;  // signed: > 0 violated
};
// "MEASURE<=X" or "MEASURE>=X". Throws InputError naming the argument.
Constraint parse_constraint(const std::string& text, const Layout& layout);
// Throws InputError for constraints contradictory on their face: a
// probability bounded outside [0, 1], a fraction bounded above by a
// negative number, and two constraints on one measure whose bounds leave
// nothing (x <= 0.1 and x >= 0.2).
void check_constraints(const std::vector<Constraint>& constraints);

struct Problem {
  std::vector<Variable> variables;
  Objective objective;
  std::vector<Constraint> constraints;
  std::uint64_t seed = 0;   // of every in-sample evaluation
  std::int64_t paths = 0;   // per evaluation
  std::int64_t screen = 0;  // Latin hypercube points (0: none)
  std::int64_t max_evals = 100;
  // Throws InputError: no variable, a key twice, screen > max_evals, ...
  void check() const;
};

struct Evaluation {
  std::vector<std::string> values;  // per variable, YAML text
  std::string phase;                // "input", "screen", "cobyla", "polish"
  double objective = 0.0;
  std::vector<double> constraints;  // per constraint, the measure's value
  double violation = 0.0;           // sum of the constraints' scaled violations
  bool feasible = false;
  StatsRow stats;  // key figures: mean, p05, p50, p95 (4 x columns)
};

// Whether a is a better plan than b: feasible beats infeasible; between
// feasible plans the better objective, between infeasible ones the smaller
// violation (then the better objective).
bool better(const Problem& problem, const Evaluation& a, const Evaluation& b);

// Per-path key figures (paths x key-figure columns) of the base scenario
// with the variables at `values`; the same function of the values every
// time (common random numbers). Throws InputError for values the scenario
// refuses, Interrupted when cancelled.
using Evaluator = std::function<Eigen::ArrayXXd(const std::vector<std::string>& values)>;

struct Options {
  // Evaluated first when given (the input plan, its values at the keys).
  std::optional<std::vector<std::string>> start;
  // Evaluations from an interrupted run: taken instead of running their
  // points again, in the order met (the search is deterministic, so it
  // takes the same steps).
  std::vector<Evaluation> known;
  const std::atomic<bool>* cancel = nullptr;
  // After each new evaluation (`index` into the result's evaluations).
  std::function<void(const std::vector<Evaluation>& evaluations, std::int64_t best)> on_evaluation;
};

struct Result {
  std::vector<Evaluation> evaluations;  // every distinct point, in the order run
  std::int64_t best = -1;               // index into evaluations
  std::int64_t input = -1;              // the start's index, or -1
  std::string stop;                     // why the search stopped
  bool feasible() const {
    return best >= 0 && evaluations[static_cast<std::size_t>(best)].feasible;
  }
};

// Evaluates a measure and every constraint of a point's per-path figures.
Evaluation evaluate(const Problem& problem, const std::vector<std::string>& values,
                    const Eigen::Ref<const Eigen::ArrayXXd>& per_path);

// Runs the search. Throws Interrupted (after on_evaluation of every point
// done) when cancelled.
Result solve(const Problem& problem, const Evaluator& evaluator, const Options& options);

// The out-of-sample check: a measure on independent paths and its 95%
// interval: a probability's Wilson interval, a mean's normal interval
// (mean +- 1.96 sd / sqrt(n)), a quantile's distribution-free interval from
// order statistics (ranks n q -+ 1.96 sqrt(n q (1 - q))).
struct Interval {
  double value = 0.0, lo = 0.0, hi = 0.0;
};
Interval interval_of(const Measure& measure, const Eigen::Ref<const Eigen::ArrayXXd>& per_path);

struct Margin {
  double in_sample = 0.0;  // the measure on the search's paths
  Interval value;          // on the independent paths
  // bound - value for <=, value - bound for >=: >= 0 holds; lo, hi from the
  // value's interval.
  Interval margin;
  bool holds() const { return margin.value >= 0.0; }
  bool holds_surely() const { return margin.lo >= 0.0; }
};

struct Check {
  std::uint64_t seed = 0;
  std::int64_t paths = 0;
  Interval objective;
  std::vector<Margin> margins;  // per constraint
  StatsRow stats;               // key figures on the independent paths
  bool feasible() const;        // every margin's estimate >= 0
};

Check out_of_sample(const Problem& problem, const Evaluation& plan,
                    const Eigen::Ref<const Eigen::ArrayXXd>& per_path, std::uint64_t seed);

// The key-figure column names of a layout: "total_spend_usd",
// "unserved_fraction[inference]", ... (column order).
std::vector<std::string> column_names(const Layout& layout);

}  // namespace capsim::optimize
