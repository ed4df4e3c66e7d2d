// Sweep outputs: the HDF5 file (also the checkpoint that --resume and merge
// read), CSV, and the one-line-per-point summary; for the sensitivity
// methods also their indices (the file's `sensitivity` group, a CSV and a
// ranked table). The layout is documented in docs/output.md.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "capsim/study/sweep.hpp"

namespace capsim::io {

inline constexpr int kSweepFormatVersion = 3;
// The `sensitivity` group's own version (its `format_version` attribute).
inline constexpr int kSensitivityFormatVersion = 1;

// Writes `table` to `path` atomically: a temporary file beside it, synced
// and renamed, so the file on disk is always a complete sweep file (a
// checkpoint), whatever happens to the process.
void write_sweep_file(const std::string& path, const sweep::Table& table);

// Reads a file written by write_sweep_file. Throws InputError naming the
// file when it is not a capsim sweep file.
sweep::Table read_sweep_file(const std::string& path);

// The name of each key-figure column of the table, as key_figure_column_names
// gives them for a run ("total_spend_usd", "unserved_fraction[chat]").
std::vector<std::string> key_figure_names(const sweep::Table& table);

// One header row, then one row per point done: point, the varied values,
// prob_over_budget and <key figure>_{mean,p05,p50,p95}.
void write_sweep_csv(const std::string& path, const sweep::Table& table);

// The column a sweep can be sorted by: a key-figure column name (as in
// key_figure_column_names, e.g. "total_spend_usd" or
// "unserved_fraction[chat]") or "prob_over_budget", optionally followed by
// ":desc". Throws InputError listing the names when unknown.
struct SweepSort {
  Eigen::Index column = -1;  // key-figure column; -1 for prob_over_budget
  bool descending = false;
  std::string name;
};
SweepSort parse_sweep_sort(const sweep::Table& table, const std::string& text);

// A readable table, one line per point done: the varied values and the
// means of the main key figures (and of the sort column), sorted by `sort`
// when given (points in order otherwise).
void print_sweep_summary(std::ostream& out, const sweep::Table& table, const SweepSort* sort);

// The target of a sensitivity analysis named by `text`: a key-figure column
// name (as for --sort; "prob_over_budget" is "over_budget", whose mean is
// the probability), optionally followed by ":mean" (the default), ":p05",
// ":p50" or ":p95". Throws InputError naming --target when unknown.
sweep::Target parse_sensitivity_target(const sweep::Table& table, const std::string& text);

// Every key-figure column's mean, in catalog order, then `shown` when it is
// a quantile: the targets whose indices a sweep file holds.
std::vector<sweep::Target> sensitivity_targets(const sweep::Table& table,
                                               const sweep::Target& shown);

// table.sensitivity as CSV: one header row, then one row per target and
// input (targets in file order, inputs by rank): target, unit, input, rank
// and every measure (docs/output.md).
void write_sensitivity_csv(const std::string& path, const sweep::Table& table);

// The indices of table.sensitivity's shown target as a readable table, one
// line per input, the most influential first.
void print_sensitivity(std::ostream& out, const sweep::Table& table);

}  // namespace capsim::io
