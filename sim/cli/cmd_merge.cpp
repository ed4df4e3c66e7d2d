#include <boost/program_options.hpp>
#include <iostream>

#include "capsim/error.hpp"
#include "capsim/io/sweep_output.hpp"
#include "commands.hpp"
#include "output_files.hpp"
#include "parse.hpp"

namespace po = boost::program_options;

namespace capsim::cli {

namespace {

constexpr const char* kMergeUsage = R"(Usage: capsim merge PARTS... -o OUT.h5 [--csv FILE]

Joins the files of a sweep run in parts (capsim sweep ... --shard I/N -o
PART.h5) into one file, as if the sweep had run in one piece. Refuses parts
of different sweeps, parts that disagree on a point, and a set of parts that
leaves points out (a missing shard). The parts of a tornado, morris or sobol
sweep give its sensitivity indices once merged: in OUT.h5, in
--sensitivity-csv, and ranked for --target on stdout.

Example:
  capsim merge part1.h5 part2.h5 part3.h5 -o sweep.h5 --csv sweep.csv

Options)";

// "3, 4, 5 and 9 more" for error messages.
std::string some_points(const std::vector<std::int64_t>& points) {
  std::string text;
  const std::size_t shown = std::min<std::size_t>(points.size(), 5);
  for (std::size_t i = 0; i < shown; ++i) text += (i ? ", " : "") + std::to_string(points[i]);
  if (points.size() > shown) text += " and " + std::to_string(points.size() - shown) + " more";
  return text;
}

}  // namespace

int merge_command(const Args& args) {
  po::options_description opts(kMergeUsage);
  std::string output, csv, target_text, sensitivity_csv;
  opts.add_options()("help,h", "show this help")("output,o", po::value(&output),
                                                 "the merged sweep file (HDF5)")(
      "csv", po::value(&csv), "also write one row per point to this CSV file")(
      "target", po::value(&target_text),
      "tornado, morris, sobol: the key figure to rank on stdout (default: the sweep's --target)")(
      "sensitivity-csv", po::value(&sensitivity_csv),
      "tornado, morris, sobol: write the indices of every key figure to this CSV file");
  std::vector<std::string> parts;
  const auto parsed = parse_args(args, opts, "parts", &parts, -1);
  if (!parsed) return 0;
  const auto& vm = *parsed;
  if (parts.empty()) throw InputError("merge: no PARTS given (see capsim merge --help)");
  if (output.empty()) throw InputError("merge: missing -o OUT.h5");
  std::vector<NamedFile> inputs;
  for (std::size_t p = 0; p < parts.size(); ++p)
    inputs.push_back({"part " + std::to_string(p + 1), parts[p]});
  check_outputs(
      "merge", inputs,
      given_outputs(
          *parsed, {{"output", "-o"}, {"csv", "--csv"}, {"sensitivity-csv", "--sensitivity-csv"}}));

  sweep::Table merged = io::read_sweep_file(parts.front());
  std::vector<std::string> source(merged.done.size());
  for (std::size_t i = 0; i < merged.done.size(); ++i)
    if (merged.done[i]) source[i] = parts.front();
  for (std::size_t p = 1; p < parts.size(); ++p) {
    const sweep::Table part = io::read_sweep_file(parts[p]);
    if (part.sweep_id != merged.sweep_id)
      throw InputError("merge: " + parts[p] + " is part of a different sweep than " +
                       parts.front() + " (sweep_id " + part.sweep_id + " vs " + merged.sweep_id +
                       ": other scenario, --vary, --method, --samples, " +
                       "--paths, --seed or --set)");
    for (std::int64_t i = 0; i < part.points(); ++i) {
      const auto k = static_cast<std::size_t>(i);
      if (!part.done[k]) continue;
      const bool same =
          (part.stats.row(i) == merged.stats.row(i)).all() &&
          (part.prob_over_budget[i] == merged.prob_over_budget[i] ||
           (std::isnan(part.prob_over_budget[i]) && std::isnan(merged.prob_over_budget[i])));
      if (merged.done[k] && !same)
        throw InputError("merge: point " + std::to_string(i) + " differs between " + source[k] +
                         " and " + parts[p] + " (were they made by different capsim builds?)");
      merged.stats.row(i) = part.stats.row(i);
      merged.prob_over_budget[i] = part.prob_over_budget[i];
      merged.done[k] = 1;
      source[k] = parts[p];
    }
  }
  std::vector<std::int64_t> missing;
  for (std::int64_t i = 0; i < merged.points(); ++i)
    if (!merged.done[static_cast<std::size_t>(i)]) missing.push_back(i);
  if (!missing.empty())
    throw InputError("merge: " + std::to_string(missing.size()) + " of " +
                     std::to_string(merged.points()) + " points are in none of the parts (" +
                     some_points(missing) + "); is a shard missing or unfinished?");
  merged.shard.clear();
  const bool analyses = sweep::analyses(merged.method);
  for (const char* option : {"target", "sensitivity-csv"})
    if (vm.count(option) && !analyses)
      throw InputError("merge: --" + std::string(option) + " applies to the parts of a tornado, " +
                       "morris or sobol sweep (these are of --method " + merged.method + ")");
  if (analyses) {
    const sweep::Target target =
        io::parse_sensitivity_target(merged, !target_text.empty()     ? target_text
                                             : !merged.target.empty() ? merged.target
                                                                      : "total_spend_usd");
    merged.target = target.name;
    sweep::analyse(merged, io::sensitivity_targets(merged, target), target.name);
  }
  io::write_sweep_file(output, merged);
  if (!csv.empty()) io::write_sweep_csv(csv, merged);
  if (merged.sensitivity) {
    if (!sensitivity_csv.empty()) io::write_sensitivity_csv(sensitivity_csv, merged);
    io::print_sensitivity(std::cout, merged);
  }
  std::cerr << "merged " << parts.size() << " parts: " << merged.points() << " points in " << output
            << '\n';
  return 0;
}

}  // namespace capsim::cli
