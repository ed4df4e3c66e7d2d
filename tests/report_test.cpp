// `capsim report` as a user runs it: the page of a run and of a sweep file,
// and every kind of bad input (exit 2) or output (exit 1), never a partial
// page. The pages' charts are checked in a browser by report_browser.py.
#include <hdf5.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "run_process.hpp"

namespace fs = std::filesystem;
using capsim::test::Process;
using capsim::test::ProcessResult;
using capsim::test::read_text;
using capsim::test::ScratchDir;
using capsim::test::source;

namespace {

constexpr std::chrono::seconds kTimeout{300};  // a hang guard: each run takes well under 5 s

ProcessResult run_capsim(const std::vector<std::string>& args, const fs::path& logs) {
  Process p(args, logs);
  return p.wait(kTimeout);
}

// Files made once for the whole test binary: a run (a what-if with two
// --set overrides) and a small sweep of the two-region scenario.
struct Fixture {
  ScratchDir dir{"report_fixture"};
  fs::path run = dir / "run.h5", sweep = dir / "sweep.h5";
  Fixture() {
    const std::string scenario = source("tests/scenarios/two-regions.yaml");
    const auto r =
        run_capsim({"run", scenario, "--paths", "40", "--quiet", "--set", "finance.usdjpy=170",
                    "--set", "classes.chat.growth.rate=1.1", "-o", run.string()},
                   dir.path());
    INFO(r.err);
    REQUIRE(r.code == 0);
    const auto s = run_capsim({"sweep", scenario, "--paths", "20", "--quiet", "--vary",
                               "finance.budget_usd=1e8,3e8", "-o", sweep.string()},
                              dir.path());
    INFO(s.err);
    REQUIRE(s.code == 0);
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

// Sets an attribute of the file's root to `value` (a text) or deletes it (empty).
void set_root_text(const fs::path& file, const std::string& name, const std::string& value) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(f >= 0);
  if (H5Aexists(f, name.c_str()) > 0) H5Adelete(f, name.c_str());
  if (!value.empty()) {
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(f, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
    const char* text = value.c_str();
    REQUIRE(H5Awrite(a, type, &text) >= 0);
    H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
  }
  H5Fclose(f);
}

void set_format_version(const fs::path& file, int version) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(f >= 0);
  const hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
  REQUIRE(H5Awrite(a, H5T_NATIVE_INT, &version) >= 0);
  H5Aclose(a);
  H5Fclose(f);
}

void remove_link(const fs::path& file, const std::string& path) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(f >= 0);
  REQUIRE(H5Ldelete(f, path.c_str(), H5P_DEFAULT) >= 0);
  H5Fclose(f);
}

// The directory's entries other than `keep`.
std::vector<std::string> others(const fs::path& dir, const std::vector<std::string>& keep) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (std::find(keep.begin(), keep.end(), name) == keep.end()) names.push_back(name);
  }
  return names;
}

}  // namespace

TEST_CASE("report: a run file's page is one self-contained HTML file", "[report][cli]") {
  const Fixture& f = fixture();
  const ScratchDir dir("report_run");
  const fs::path page = dir / "run.html";
  const auto r = run_capsim({"report", f.run.string(), "-o", page.string()}, dir.path());
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.err, Catch::Contains("capsim run page"));
  const std::string html = read_text(page);
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  // Nothing may be fetched: the policy allows no source but the page itself.
  CHECK_THAT(html,
             Catch::Contains(
                 "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "));
  CHECK_FALSE(std::regex_search(html, std::regex(R"((src|href)\s*=\s*["']?\s*(https?:|//))")));
  CHECK_THAT(html, Catch::Contains("Chart.js v"));  // the library, inlined
  // The data block names the what-if's provenance.
  CHECK_THAT(html, Catch::Contains(
                       R"("overrides":["finance.usdjpy=170","classes.chat.growth.rate=1.1"])"));
  CHECK_THAT(html, Catch::Contains(R"("scenario_name":"two-regions")"));
  CHECK_THAT(html, Catch::Contains(R"("region_demand_h100e_gpuh":{)"));
  CHECK(others(dir.path(), {"run.html", "out.txt", "err.txt"}).empty());  // no temporary file left
}

TEST_CASE("report: a sweep file's page, and --metric", "[report][cli]") {
  const Fixture& f = fixture();
  const ScratchDir dir("report_sweep");
  const fs::path page = dir / "sweep.html";
  SECTION("default and a chosen key figure") {
    for (const std::string metric : {"", "unserved_fraction[chat]", "prob_over_budget"}) {
      std::vector<std::string> args = {"report", f.sweep.string(), "-o", page.string()};
      if (!metric.empty()) args.insert(args.end(), {"--metric", metric});
      const auto r = run_capsim(args, dir.path());
      INFO(metric << ": " << r.err);
      REQUIRE(r.code == 0);
      const std::string html = read_text(page);
      CHECK_THAT(html, Catch::Contains("\"metric\":\"" +
                                       (metric.empty() ? "total_spend_usd" : metric) + "\""));
      CHECK_THAT(html, Catch::Contains(R"("key":"finance.budget_usd")"));
    }
  }
  SECTION("an unknown key figure lists the known ones") {
    const auto r = run_capsim(
        {"report", f.sweep.string(), "-o", page.string(), "--metric", "spend"}, dir.path());
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("--metric 'spend'"));
    CHECK_THAT(r.err, Catch::Contains("region_unserved_fraction[osaka]"));
    CHECK_FALSE(fs::exists(page));
  }
  SECTION("--metric on a run file") {
    const auto r = run_capsim(
        {"report", f.run.string(), "-o", page.string(), "--metric", "npv_usd"}, dir.path());
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("sweep"));
  }
}

TEST_CASE("report: bad input is refused with exit 2 and no page", "[report][cli]") {
  const Fixture& f = fixture();
  const ScratchDir dir("report_bad");
  const fs::path page = dir / "page.html";
  // An existing page stays as it is when the input is refused.
  std::ofstream(page) << "old page";
  const auto refused = [&](const fs::path& input, const std::string& message) {
    const auto r = run_capsim({"report", input.string(), "-o", page.string()}, dir.path());
    INFO(input << ": " << r.err);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains(input.string()));
    CHECK_THAT(r.err, Catch::Contains(message));
    CHECK(read_text(page) == "old page");
  };
  const fs::path copy = dir / "copy.h5";
  const auto fresh_copy = [&](const fs::path& from) {
    fs::copy_file(from, copy, fs::copy_options::overwrite_existing);
    return copy;
  };

  SECTION("not HDF5") {
    std::ofstream(dir / "notes.txt") << "not an HDF5 file at all\n";
    refused(dir / "notes.txt", "not an HDF5 file");
    refused(dir / "missing.h5", "cannot open");
  }
  SECTION("HDF5, but not a capsim file") {
    const hid_t h = H5Fcreate((dir / "other.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(H5Gcreate2(h, "data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Fclose(h);
    refused(dir / "other.h5", "not a capsim output file");
  }
  SECTION("a kind of capsim file this build does not report") {
    set_root_text(fresh_copy(f.run), "format", "capsim optimize");
    refused(copy, "\"capsim optimize\" file, which this capsim cannot report");
  }
  SECTION("a newer or older format_version") {
    set_format_version(fresh_copy(f.run), 99);
    refused(copy, "format_version 99 is newer than this capsim reads (3)");
    set_format_version(fresh_copy(f.sweep), 4);
    refused(copy, "capsim sweep format_version 4 is newer");
    // Run files of version 1 had no `format` attribute.
    fresh_copy(f.run);
    set_format_version(copy, 1);
    set_root_text(copy, "format", "");
    refused(copy, "format_version 1 is older than this capsim reads (3)");
  }
  SECTION("a truncated file") {
    const std::string whole = read_text(f.run);
    for (const std::size_t keep : {whole.size() / 2, std::size_t{3000}, std::size_t{100}}) {
      std::ofstream(dir / "cut.h5", std::ios::binary) << whole.substr(0, keep);
      refused(dir / "cut.h5", "truncated");
    }
  }
  SECTION("data missing from a run file") {
    remove_link(fresh_copy(f.run), "/series/usd_jpy");
    refused(copy, "missing group usd_jpy");
    remove_link(fresh_copy(f.run), "/paths/key_figures/total_spend_usd");
    refused(copy, "missing dataset total_spend_usd");
  }
  CHECK(others(dir.path(),
               {"page.html", "copy.h5", "notes.txt", "other.h5", "cut.h5", "out.txt", "err.txt"})
            .empty());
}

TEST_CASE("report: an unwritable output is exit 1 and leaves nothing", "[report][cli]") {
  const Fixture& f = fixture();
  const ScratchDir dir("report_unwritable");
  const auto r = run_capsim(
      {"report", f.run.string(), "-o", (dir / "no-such-dir" / "page.html").string()}, dir.path());
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Catch::Contains("cannot write"));
  CHECK_THAT(r.err, Catch::Contains("no-such-dir/page.html"));
  CHECK(others(dir.path(), {"out.txt", "err.txt"}).empty());
  const auto usage = run_capsim({"report", f.run.string()}, dir.path());
  CHECK(usage.code == 2);
  CHECK_THAT(usage.err, Catch::Contains("missing -o"));
}
