// Optimizer outputs: the HDF5 file of every evaluation and the chosen plan
// (docs/output.md, "Optimize files"), and the plan as a scenario file that
// extends the input.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "capsim/scenario.hpp"
#include "capsim/study/optimize.hpp"

namespace capsim::io {

inline constexpr int kOptimizeFormatVersion = 1;

struct OptimizeRecord {
  std::string scenario_file, scenario_name;
  std::vector<std::string> overrides;  // --set of every evaluation
  const optimize::Problem* problem = nullptr;
  std::vector<std::string> columns;  // key-figure column names
  std::vector<std::string> units;    // per column
  const optimize::Result* result = nullptr;
  bool complete = false;                 // false: a checkpoint (interrupted)
  std::optional<optimize::Check> check;  // out of sample, once done
  std::string plan_yaml;                 // as written to --plan-out
};

// Writes the record atomically (a temporary file renamed), so the file on
// disk is always complete.
void write_optimize_file(const std::string& path, const OptimizeRecord& record);

// The evaluations stored in an optimize file (values, phase, objective,
// constraints, violation, feasible, key-figure statistics), for --resume;
// `problem_text` must equal the file's problem attribute. Throws InputError
// naming the file otherwise.
std::vector<optimize::Evaluation> read_optimize_evaluations(const std::string& path,
                                                            const std::string& problem_text);

// The text that identifies a problem in its file: variables, objective,
// constraints, seed, paths, screen, max_evals, overrides.
std::string problem_text(const optimize::Problem& problem, const std::vector<std::string>& sets);

// A scenario that extends `extend_path` (as written in the file) and sets
// each key of `keys` to its value in `planned` (the scenario loaded with the
// plan's values as overrides). A key under a list (procurement.orders.2.count)
// writes the whole list, since lists replace when extended.
// The table printed at the end of `capsim optimize`: each variable's value
// and each measure (objective, then constraints) for the input plan and the
// optimized one on the search's paths, then the optimized plan on the
// independent paths with its 95% interval and each constraint's margin.
struct Comparison {
  const optimize::Problem* problem = nullptr;
  std::vector<std::string> input_values;      // per variable; "" when the scenario sets none
  std::optional<optimize::Evaluation> input;  // on the search's paths
  const optimize::Evaluation* plan = nullptr;
  const optimize::Check* check = nullptr;
};
void print_optimize_summary(std::ostream& out, const Comparison& comparison);

// Writes `text` to `path` under a temporary name renamed at the end (the
// plan scenario of --plan-out).
void write_text_file(const std::string& path, const std::string& text);

std::string plan_yaml(const ScenarioSpec& planned, const std::string& extend_path,
                      const std::vector<std::string>& keys, const std::string& comment);

}  // namespace capsim::io
