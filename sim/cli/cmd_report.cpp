#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>

#include "capsim/error.hpp"
#include "capsim/io/report.hpp"
#include "commands.hpp"
#include "parse.hpp"

namespace po = boost::program_options;

namespace capsim::cli {

int report_command(const Args& args) {
  po::options_description opts(R"(Usage: capsim report FILE.h5 -o REPORT.html [--metric NAME]

Writes one self-contained HTML page with charts for a capsim run or sweep
file. The page carries its data and its chart library (Chart.js) inline,
works offline and makes no network request; open it in any browser.

A run file (capsim run -o): total spend against the budget, P(over budget),
inference service level and unserved work per class and region with their
p05/p50/p95; fan charts over time per region (demand against usable
capacity, unserved per class, utilization, GPUs per model, power against
the power schedule), cumulative spend against the budget, USD/JPY, the
distribution of total spend; the scenario's provenance (files, --set
overrides, seed, paths, capsim version).

A sweep file (capsim sweep -o, capsim merge -o): the sortable table of
points, and for a chosen key figure (--metric, or a menu on the page) a
scatter per varied key and a tornado of the swings.

Examples:
  capsim run scenarios/msft-japan-2024.yaml -o run.h5 && capsim report run.h5 -o run.html
  capsim report lhs.h5 -o lhs.html --metric prob_over_budget

Options)");
  std::string output, metric;
  opts.add_options()("help,h", "show this help")("output,o", po::value(&output),
                                                 "the HTML page to write")(
      "metric", po::value(&metric),
      "sweep files: the key figure shown first, e.g. unserved_fraction[inference] "
      "(default total_spend_usd)");
  std::string input;
  const auto parsed = parse_args(args, opts, "file", &input, 1);
  if (!parsed) return 0;
  if (input.empty()) throw InputError("report: missing FILE.h5 (see capsim report --help)");
  if (output.empty()) throw InputError("report: missing -o REPORT.html");
  io::ReportOptions options;
  options.metric = metric;
  const std::string format = io::write_report(input, output, options);
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(output, ec);
  std::cerr << "wrote " << output << " (" << format << " page"
            << (ec ? std::string() : ", " + std::to_string((bytes + 512) / 1024) + " KiB") << ")\n";
  return 0;
}

}  // namespace capsim::cli
