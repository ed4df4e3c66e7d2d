// A report page and the builders that fill one per kind of capsim file.
// Internal to sim/io/report, the only room that knows HTML.
//
// A page is the data its charts draw (a JSON object, in a
// <script type="application/json"> element) and the script of its kind,
// which builds the page from the data with the inlined chart library.
// Adding a kind of file (say, an optimize file) is one builder: a reader
// function here, its script in assets/ (listed with the other assets in
// sim/CMakeLists.txt and declared in assets.hpp), and one line in
// page_builders().
#pragma once

#include <string>
#include <vector>

#include "../hdf5_file.hpp"
#include "capsim/io/report.hpp"
#include "json.hpp"

namespace capsim::io::report {

// Significant digits of the numbers that charts draw (long series): the
// page stays small, and a chart cannot show more. Headline figures are
// written in full precision.
inline constexpr int kChartDigits = 7;

struct Page {
  std::string title;
  std::string script;  // the page kind's script (an asset)
  Json data;           // the object the script reads
};

// The whole HTML document: a Content-Security-Policy that allows no
// request of any kind, the stylesheet, the data, Chart.js, the shared
// script and the page's own.
std::string html(const Page& page);

// Reads one kind of capsim file into a page. `path` is the file as the user
// named it; `file` is open on it.
using BuildPage = void (*)(const std::string& path, const detail::Reader& file,
                           const ReportOptions& options, Page& page);

struct PageBuilder {
  const char* format;      // the file's `format` attribute, e.g. "capsim run"
  int format_version;      // the version this build writes and reads
  const char* written_by;  // the command that writes such files, for messages
  BuildPage build;
};

// Every kind of file the report knows.
const std::vector<PageBuilder>& page_builders();

void build_run_page(const std::string& path, const detail::Reader& file,
                    const ReportOptions& options, Page& page);
void build_sweep_page(const std::string& path, const detail::Reader& file,
                      const ReportOptions& options, Page& page);

// Starts a page: its title and script, and its data up to the provenance
// every capsim file has (its root attributes), {"kind": kind, "provenance":
// {..., left open for the builder's own entries.
void begin_page(const std::string& kind, const std::string& title, const char* script,
                const detail::Reader& file, const std::string& path, Page& page);

}  // namespace capsim::io::report
