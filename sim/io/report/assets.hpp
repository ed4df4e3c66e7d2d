// Texts embedded at build time (sim/CMakeLists.txt, cmake/CapsimEmbed.cmake):
// Chart.js from Debian's libjs-chart.js and the report's own script and
// style from assets/.
#pragma once

namespace capsim::io::report::assets {

extern const char chart_js[];
extern const char report_css[];
extern const char report_js[];  // shared by every page: charts, formats, tables
extern const char run_js[];     // the page of a run file
extern const char sweep_js[];   // the page of a sweep file

}  // namespace capsim::io::report::assets
