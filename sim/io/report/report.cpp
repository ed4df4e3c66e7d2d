#include "capsim/io/report.hpp"

#include "../text_util.hpp"
#include "capsim/error.hpp"
#include "capsim/io/output.hpp"
#include "capsim/io/sweep_output.hpp"
#include "page.hpp"

namespace capsim::io {

namespace report {

const std::vector<PageBuilder>& page_builders() {
  static const std::vector<PageBuilder> builders = {
      {kRunFormat, kFormatVersion, "capsim run", build_run_page},
      {"capsim sweep", kSweepFormatVersion, "capsim sweep", build_sweep_page},
  };
  return builders;
}

}  // namespace report

std::vector<std::string> report_formats() {
  std::vector<std::string> formats;
  for (const auto& b : report::page_builders()) formats.emplace_back(b.format);
  return formats;
}

std::string write_report(const std::string& input, const std::string& html_path,
                         const ReportOptions& options) {
  std::string known;
  for (const auto& f : report_formats()) known += (known.empty() ? "" : ", ") + f;
  const detail::Reader file(input);
  const hid_t root = file.root();
  // Run files of format_version 1 had no `format` attribute.
  std::string format;
  if (file.has_attr(root, "format"))
    format = file.attr_string(root, "format");
  else if (file.has_attr(root, "format_version") && file.has_link(root, "series"))
    format = kRunFormat;
  else
    file.fail("not a capsim output file (no `format` attribute; capsim report reads " + known +
              " files)");

  const report::PageBuilder* builder = nullptr;
  for (const auto& b : report::page_builders())
    if (format == b.format) builder = &b;
  if (builder == nullptr)
    file.fail("a \"" + format + "\" file, which this capsim cannot report (it reports " + known +
              " files)");
  const std::int64_t version = file.attr_int64(root, "format_version");
  if (version > builder->format_version)
    file.fail(format + " format_version " + std::to_string(version) +
              " is newer than this capsim reads (" + std::to_string(builder->format_version) +
              "): report it with a newer capsim");
  if (version < builder->format_version)
    file.fail(format + " format_version " + std::to_string(version) +
              " is older than this capsim reads (" + std::to_string(builder->format_version) +
              "): write it again with this capsim's `" + builder->written_by + "`");

  report::Page page;
  builder->build(input, file, options, page);
  detail::TextOutput out(html_path);
  out.out << report::html(page);
  out.commit();
  return format;
}

}  // namespace capsim::io
