#include "page.hpp"

#include "assets.hpp"

namespace capsim::io::report {

namespace {

// No request of any kind: scripts and styles only inline, images only as
// data: URLs (the screenshot-free page has none), no frames, forms, fonts
// or connections. A violation is reported to the page (and the test).
constexpr const char* kPolicy =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'";

// Text for an HTML element's content.
std::string escape_html(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string html(const Page& page) {
  std::string out;
  out.reserve(page.data.text().size() + 300000);
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta http-equiv=\"Content-Security-Policy\" content=\"";
  out += kPolicy;
  out += "\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta name=\"generator\" content=\"capsim " CAPSIM_VERSION "\">\n";
  out += "<title>" + escape_html(page.title) + "</title>\n<style>\n";
  out += assets::report_css;
  out += "</style>\n</head>\n<body>\n<main id=\"report\"><p class=\"loading\">";
  out += "This report draws its charts with JavaScript; allow scripts for this file.</p></main>\n";
  out += "<script type=\"application/json\" id=\"capsim-data\">";
  out += page.data.text();
  out += "</script>\n<script>\n";
  out += assets::chart_js;
  out += "\n</script>\n<script>\n";
  out += assets::report_js;
  out += "\n</script>\n<script>\n";
  out += page.script;
  out += "\n</script>\n</body>\n</html>\n";
  return out;
}

void begin_page(const std::string& kind, const std::string& title, const char* script,
                const detail::Reader& file, const std::string& path, Page& page) {
  page.title = title;
  page.script = script;
  Json& json = page.data;
  json.begin_object();
  json.key("kind").string(kind);
  json.key("provenance").begin_object();
  const hid_t root = file.root();
  json.key("file").string(path);
  for (const char* name : {"format", "capsim_version", "created", "scenario_name", "scenario_file"})
    json.key(name).string(file.attr_string(root, name));
  json.key("extends").strings(file.attr_strings(root, "extends"));
  json.key("overrides").strings(file.attr_strings(root, "overrides"));
  // As text: JavaScript numbers hold integers exactly only up to 2^53.
  json.key("seed").string(std::to_string(file.attr_uint64(root, "seed")));
  json.key("paths").integer(file.attr_int64(root, "paths"));
  json.key("report_capsim_version").string(CAPSIM_VERSION);
}

}  // namespace capsim::io::report
