// Parameter sweeps (SPEC 5 and 6) and the studies built on them: the points
// of a sweep, the table of their results, and the driver that runs a batch
// of points, split across threads and processes, with checkpoints. The
// methods that pick the points (grid, lhs, random, and the sensitivity
// methods tornado, morris and sobol, which also compute indices from the
// results: capsim/study/sensitivity.hpp) are one file each in sim/study/.
//
// A point is a list of `--set` overrides ("key.path=value", one per varied
// key) on top of the base scenario. Every point runs the same paths with the
// same seed, so every point sees the same random futures (common random
// numbers) and the difference between two points is caused by the
// parameters alone.
#pragma once

#include <Eigen/Core>
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "capsim/models/builtin.hpp"
#include "capsim/results.hpp"
#include "capsim/scenario.hpp"
#include "capsim/study/sensitivity.hpp"

namespace capsim::sweep {

// One `--vary key.path=SPEC` argument.
struct Axis {
  enum class Kind { list, linspace, range };
  std::string argument;  // as given, for messages
  std::string key;       // e.g. "classes.chat.growth.rate"
  std::string spec;      // e.g. "linspace:0.5:1.5:5"
  Kind kind = Kind::list;
  std::vector<std::string> values;  // list and linspace: the values as YAML text
  double lo = 0.0, hi = 0.0;        // range
  bool integer = false;             // a range of whole numbers ("10:100")
};

// The number a value text holds (a finite number written in full, as a
// --vary SPEC reads it); false for anything else (a model name, a map).
bool parse_number(const std::string& text, double& value);
// The shortest text that reads back as the same double ("0.1", "2.5e-07").
std::string number_text(double x);

// Parses "key.path=SPEC" with SPEC a list "a,b,c" (YAML values; commas
// inside [] or {} do not split), "linspace:lo:hi:n" or a range "lo:hi"
// (lo < hi). Throws InputError naming the argument.
Axis parse_axis(const std::string& argument);

// The methods, in --help order: (name, one-line description).
std::vector<std::pair<std::string, std::string>> methods();
// `text` when it names a method; throws InputError listing them.
std::string parse_method(const std::string& text);
// Whether the method computes sensitivity indices from its points' results
// (false for a name that is not a method).
bool analyses(const std::string& method);

inline constexpr int kDefaultMorrisLevels = 4;

struct Definition {
  std::vector<Axis> axes;
  std::string method = "grid";
  // lhs, random: the number of points; morris: trajectories r (r (k + 1)
  // points for k axes); sobol: base rows N (N (k + 2) points).
  std::int64_t samples = 0;
  int levels = 0;          // morris: levels of its grid (0: kDefaultMorrisLevels)
  std::uint64_t seed = 0;  // the runs' seed; also draws the points and bootstrap resamples
  std::int64_t paths = 0;  // per point
  // tornado: per axis, the base scenario's value at its key ("" when it has
  // none); the base point takes it when it is a number in the range, else
  // the range's midpoint.
  std::vector<std::string> base;

  // Checks the combination (the method's kind of axes and samples, no key
  // varied twice, a bounded number of points). Throws InputError naming
  // the option.
  void check() const;
  // A readable description, stored in the output file: method, samples,
  // levels (morris), seed, paths and one line per --vary argument.
  std::string text() const;
};

inline constexpr std::int64_t kMaxPoints = 1'000'000;

// The points: points[i][a] is the value (YAML text) of axis a at point i.
// grid: the product of the lists, the last axis varying fastest. lhs: a
// Latin hypercube of `samples` points (each axis is cut into `samples`
// equal strata and every stratum holds exactly one point); random:
// independent uniform draws. List axes under lhs/random pick an element
// (stratified for lhs). tornado: the base point, then each axis at its low
// and at its high end; morris: r trajectories of k + 1 points
// (sensitivity::morris_points); sobol: Saltelli's N (k + 2) points
// (sensitivity::saltelli_points), mapped onto the ranges. Whole-number
// ranges give whole numbers. A pure function of the definition.
std::vector<std::vector<std::string>> make_points(const Definition& definition);

// The overrides of one point: key=value for each axis.
std::vector<std::string> point_overrides(const Definition& definition,
                                         const std::vector<std::string>& values);

// Shard `index` (1-based) of `count`: the contiguous range of points
// [first, last) it owns.
struct Shard {
  int index = 1, count = 1;
  std::int64_t first(std::int64_t points) const { return points * (index - 1) / count; }
  std::int64_t last(std::int64_t points) const { return points * index / count; }
  std::string text() const { return std::to_string(index) + "/" + std::to_string(count); }
};
Shard parse_shard(const std::string& text);  // "I/N"; throws InputError

// The results of a sweep, as stored in its HDF5 file.
struct Table {
  std::string sweep_id;  // identifies the sweep: base scenario, definition, points
  std::string scenario_name, scenario_file, base_yaml, definition_text, method;
  std::vector<std::string> extends, overrides;  // the base scenario's provenance
  std::uint64_t seed = 0;
  std::int64_t paths = 0, samples = 0;
  std::vector<std::string> axis_keys, axis_specs;
  std::vector<std::vector<std::string>> values;  // points x axes
  // Key figures as in a run's layout (offset/width index the columns).
  std::vector<KeyFigureInfo> key_figures;
  std::vector<std::string> regions, skus, classes;
  Eigen::Index columns = 0;         // key-figure columns
  Eigen::ArrayXXd stats;            // points x 4*columns: [mean | p05 | p50 | p95]
  Eigen::ArrayXd prob_over_budget;  // points
  std::vector<std::uint8_t> done;   // points; 1 when the row holds results
  std::string shard;                // "I/N" for a shard's file, else ""
  std::int64_t levels = 0;          // morris: levels of its grid
  // Sensitivity methods: the target shown on stdout, and the indices once
  // every point is done (analyse).
  std::string target;
  std::optional<sensitivity::Result> sensitivity;

  std::int64_t points() const { return static_cast<std::int64_t>(values.size()); }
  std::int64_t points_done() const;
  // Stores the statistics across paths of one point's per-path key figures
  // (paths x columns) in row `point` and marks it done.
  void store(std::int64_t point, const Eigen::Ref<const Eigen::ArrayXXd>& per_path);
};

// A table with every point not done: identity from the base scenario spec,
// the definition and the points.
Table make_table(const ScenarioSpec& base, const std::string& scenario_file,
                 const Definition& definition, std::vector<std::vector<std::string>> points);

// The definition a table was made from (axes parsed back from their keys
// and SPECs; no tornado base values, which are in point 0).
Definition definition_of(const Table& table);

// A target of a sensitivity analysis: one statistic across paths of one
// key-figure column.
struct Target {
  std::string name;  // "total_spend_usd", "unserved_fraction[chat]", "total_spend_usd:p95"
  std::string unit;
  Eigen::Index column = 0;  // key-figure column
  int stat = 0;             // index into kStatNames: 0 mean, 1 p05, 2 p50, 3 p95
};

// Computes table.sensitivity for every target from a table of a method that
// analyses, with every point done; `shown` names the target shown on
// stdout. Throws InputError for another method or a table with points
// missing.
void analyse(Table& table, const std::vector<Target>& targets, const std::string& shown);

// The processes that share a sweep (one without MPI). Collective calls: every
// process calls them in the same order.
class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // The largest `value` of any process, on every process.
  virtual int max(int value) = 0;
  // Every process's `mine`, in rank order, on rank 0 (empty elsewhere).
  virtual std::vector<std::vector<double>> gather(const std::vector<double>& mine) = 0;
  // Rank 0's `bytes` on every process.
  virtual void broadcast(std::vector<std::uint8_t>& bytes) = 0;
};

class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int max(int value) override { return value; }
  std::vector<std::vector<double>> gather(const std::vector<double>& mine) override {
    return {mine};
  }
  void broadcast(std::vector<std::uint8_t>&) override {}
};

struct ExecuteOptions {
  int threads = 1;  // per process
  const std::atomic<bool>* cancel = nullptr;
  // Rank 0: called with the table after new points are done, at most every
  // `checkpoint_seconds` (0: after every round of work) and at most as often
  // as keeps its writing under about 5% of the time; not after the last round.
  double checkpoint_seconds = 0.0;
  std::function<void(const Table&)> checkpoint;
  // Rank 0: points done so far in this execution, of `total`.
  std::function<void(std::int64_t done, std::int64_t total)> progress;
};

// Runs the points `todo` (indices into table.values) and stores their results
// in `table` on rank 0. `load` gives the scenario of a point. Work is split
// into units of (point, range of paths), dealt out round by round to the
// processes, each running its units on its threads; the results do not
// depend on the number of processes or threads. When cancelled, writes a
// checkpoint of the points finished so far and throws Interrupted. Returns
// the number of points computed.
std::int64_t execute(Table& table, const std::vector<std::int64_t>& todo,
                     const std::function<ScenarioSpec(std::int64_t point)>& load,
                     const models::ModelRegistries& registries, Communicator& comm,
                     const ExecuteOptions& options);

}  // namespace capsim::sweep
