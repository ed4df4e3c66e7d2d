// Sensitivity analysis: which inputs move an output, and by how much.
//
// The designs (where to evaluate a function of k inputs) and the estimators
// (what its outputs there say) as pure functions: designs give points in the
// unit cube, estimators take the matrix of outputs, one row per point and
// one column per target (output), and return one value per (target, input).
// `capsim sweep --method tornado|morris|sobol` maps the unit points onto the
// --vary ranges, runs the engine at them with common random numbers and
// calls the estimators; tests call them on functions with known indices.
//
// Index names: k inputs, N base rows (Sobol), r trajectories (Morris),
// T targets.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

namespace capsim::sensitivity {

// Bootstrap confidence intervals: `resamples` resamples with replacement,
// drawn from a counter-based generator keyed by `seed` (the same seed gives
// the same intervals on any machine); the interval is the two-sided
// percentile interval at `confidence` of the resampled estimates (quantiles
// of type 7, as the sweep's statistics).
struct Bootstrap {
  std::int64_t resamples = 1000;
  double confidence = 0.95;
  std::uint64_t seed = 0;
};

// ---- Sobol indices from Saltelli sampling -------------------------------

// The points for first-order and total indices of k inputs from N base
// rows: N (k + 2) rows, k columns, every value in (0, 1). For base row
// j = 0..N-1, row j (k + 2) + s is
//   s = 0:          A_j,
//   s = 1..k:       AB^s_j, which is A_j with input s-1 taken from B_j,
//   s = k + 1:      B_j,
// where (A_j, B_j) is point j of the 2k-dimensional Sobol sequence (Joe and
// Kuo's direction numbers, boost::random::sobol; point 0 is all zeros),
// A_j its first k coordinates and B_j its last k, with a random digital
// shift: each coordinate's 64 bits XOR-ed with a word drawn from `seed`,
// which keeps the sequence's stratification (the first 2^m points of each
// coordinate fall one in each of 2^m equal strata). Requires 1 <= k <= 1833
// (Boost's table has 3667 dimensions) and N >= 1.
Eigen::ArrayXXd saltelli_points(Eigen::Index inputs, std::int64_t base_rows, std::uint64_t seed);

// Indices of each target (column of y) for each input; targets x inputs.
struct SobolIndices {
  Eigen::ArrayXXd first, first_lo, first_hi;  // first-order S_i and its interval
  Eigen::ArrayXXd total, total_lo, total_hi;  // total ST_i and its interval
  Eigen::ArrayXd variance;                    // V of each target
};

// Estimates from y, the outputs at saltelli_points (N (k + 2) rows, T
// columns), with f(A), f(B), f(AB^i) the rows of base row j:
//   V    = variance of the 2N values f(A_j), f(B_j) (divided by 2N),
//   S_i  = (1/N)  sum_j f(B_j) (f(AB^i_j) - f(A_j)) / V    (Saltelli et al.
//          2010, Comput. Phys. Commun. 181, table 2 (b)),
//   ST_i = (1/2N) sum_j (f(A_j) - f(AB^i_j))^2 / V         (Jansen 1999).
// The bootstrap resamples the N base rows (a row's A, AB^i and B stay
// together). A target with V = 0 (it does not change) or a non-finite
// output gets NaN indices. Throws std::invalid_argument when y's rows are
// not a multiple of k + 2 or fewer than 2 base rows.
SobolIndices sobol_indices(const Eigen::Ref<const Eigen::ArrayXXd>& y, Eigen::Index inputs,
                           const Bootstrap& bootstrap);

// ---- Morris elementary effects -------------------------------------------

// r trajectories (Morris 1991) of k + 1 rows each on the p-level grid
// {0, 1/(p-1), ..., 1} (p even): trajectory t is rows t (k + 1) .. t (k + 1)
// + k. It starts at a random grid point, and each following row moves one
// more input, in a random order, by Delta = p / (2 (p - 1)) up or down, so
// that every input moves exactly once and every row stays in [0, 1].
// Requires k >= 1, r >= 1, even p >= 2.
Eigen::ArrayXXd morris_points(Eigen::Index inputs, std::int64_t trajectories, int levels,
                              std::uint64_t seed);

// Statistics of the elementary effects; targets x inputs.
struct MorrisEffects {
  Eigen::ArrayXXd mu;                               // mean EE
  Eigen::ArrayXXd mu_star, mu_star_lo, mu_star_hi;  // mean |EE| and its interval
  Eigen::ArrayXXd sigma;                            // standard deviation of EE
};

// From x, the points as run (r (k + 1) rows, each input's position in [0, 1]
// of its range; consecutive rows of a trajectory differ in exactly one
// input), and y, the outputs (r (k + 1) rows, T columns). The elementary
// effect of input i on a step of a trajectory that moves it is
//   EE_i = (y_after - y_before) / (x_after,i - x_before,i),
// the change of the target per whole range of the input. mu and mu* = the
// mean of |EE_i| (Campolongo, Cariboni and Saltelli 2007) over the r
// trajectories, sigma their standard deviation (divisor r - 1; NaN for
// r = 1); the interval of mu* resamples the trajectories. Throws
// std::invalid_argument when a step moves no input or more than one.
MorrisEffects morris_effects(const Eigen::Ref<const Eigen::ArrayXXd>& x,
                             const Eigen::Ref<const Eigen::ArrayXXd>& y,
                             const Bootstrap& bootstrap);

// ---- Tornado: one input at a time --------------------------------------

struct TornadoSwings {
  Eigen::ArrayXd base;               // targets: the output at the base point
  Eigen::ArrayXXd low, high, swing;  // targets x inputs; swing = high - low
};

// y: 2k + 1 rows, T columns. Row 0 is the base point; rows 2i + 1 and
// 2i + 2 move input i to its low and its high end, every other input at
// its base value. Throws std::invalid_argument on another number of rows.
TornadoSwings tornado_swings(const Eigen::Ref<const Eigen::ArrayXXd>& y, Eigen::Index inputs);

// ---- Ranking and stored results ----------------------------------------

// The rank of each input for each target (row): 1 for the largest
// |importance|, ties in input order; a NaN ranks after every number.
Eigen::ArrayXXi rank_inputs(const Eigen::Ref<const Eigen::ArrayXXd>& importance);

// One named measure of a result, as stored in the sweep file's
// `sensitivity` group (docs/output.md).
struct Measure {
  enum class Over { target_input, target, input };
  enum class Unit { none, target, target_squared, input };
  std::string name;         // dataset name, e.g. "first_order", "first_order_lo"
  std::string label;        // short column header, e.g. "first order S1"
  std::string description;  // one line
  Over over = Over::target_input;
  Unit unit = Unit::none;  // none: dimensionless; target: the target's unit; input: the input's
  // target_input: T x k; target: T x 1; input: k x 1.
  Eigen::ArrayXXd values;
};

// The indices of one sweep for every target.
struct Result {
  std::string method;                              // "tornado", "morris" or "sobol"
  std::string description;                         // how the measures were computed
  std::string ranked_by;                           // measure whose |value| ranks the inputs
  double confidence = 0.0;                         // of every NAME_lo, NAME_hi pair (0: none)
  std::int64_t resamples = 0;                      // bootstrap resamples (0: none)
  std::vector<std::string> inputs;                 // k varied keys
  std::vector<std::string> targets, target_units;  // T names and units
  std::string target;                              // the target shown on stdout
  std::vector<Measure> measures;
  Eigen::ArrayXXi rank;  // T x k, by ranked_by

  // nullptr when there is no such measure.
  const Measure* find(const std::string& name) const;
};

}  // namespace capsim::sensitivity
