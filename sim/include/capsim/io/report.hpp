// `capsim report`: a self-contained HTML page with charts for a capsim
// output file (a run or a sweep). The page inlines its chart library
// (Chart.js, from Debian's libjs-chart.js, embedded when capsim is built)
// and its data, and its Content-Security-Policy forbids every request, so
// it works offline and never reaches the network. What each page shows is
// in docs/report.md.
#pragma once

#include <string>
#include <vector>

namespace capsim::io {

struct ReportOptions {
  // Sweep pages: the key-figure column shown first, named as in `capsim
  // sweep --sort` ("total_spend_usd", "unserved_fraction[chat]",
  // "prob_over_budget"); empty for total_spend_usd.
  std::string metric;
};

// Reads `input` and writes its page to `html_path` atomically (a temporary
// file beside it, renamed when complete: never a partial page). Returns the
// file's format ("capsim run", "capsim sweep"). Throws InputError naming
// the file when it is not a capsim file this build reports: not HDF5, no or
// an unknown `format`, another format_version, missing or misshapen data,
// a truncated file; RuntimeError when the page cannot be written.
std::string write_report(const std::string& input, const std::string& html_path,
                         const ReportOptions& options = {});

// The formats write_report knows, e.g. {"capsim run", "capsim sweep"}.
std::vector<std::string> report_formats();

}  // namespace capsim::io
