// The capsim executable as a user runs it: exit codes, messages, files.
#include <H5Cpp.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

struct Result {
  int code = -1;
  std::string out, err;
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs `capsim ARGS` with stdout and stderr captured.
Result capsim(const std::string& args) {
  static int counter = 0;
  const fs::path dir = fs::temp_directory_path() / ("capsim_cli_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const fs::path out = dir / ("out" + std::to_string(counter) + ".txt");
  const fs::path err = dir / ("err" + std::to_string(counter++) + ".txt");
  const std::string command = std::string(CAPSIM_EXE) + " " + args + " >" + out.string() + " 2>" +
                              err.string() + " </dev/null";
  const int status = std::system(command.c_str());
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

std::string source(const std::string& relative) {
  return std::string(CAPSIM_SOURCE_DIR) + "/" + relative;
}

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("capsim_cli_" + std::to_string(getpid()));
  fs::create_directories(dir);
  return dir / name;
}

}  // namespace

TEST_CASE("cli: --version and --help", "[cli]") {
  const Result version = capsim("--version");
  CHECK(version.code == 0);
  CHECK(version.out.rfind("capsim ", 0) == 0);
  for (const char* command : {"--help", "run --help", "validate --help", "list --help"}) {
    INFO(command);
    const Result help = capsim(command);
    CHECK(help.code == 0);
    CHECK(help.out.find("Usage") != std::string::npos);
  }
  CHECK(capsim("").code == 2);
  CHECK(capsim("frobnicate").code == 2);
}

TEST_CASE("cli: run writes the documented HDF5 file, CSV and JSON", "[cli]") {
  const fs::path h5 = scratch("run.h5"), csv = scratch("kf.csv"), json = scratch("kf.json");
  const Result r = capsim("run " + source("scenarios/msft-japan-2024.yaml") +
                          " --paths 50 --threads 2 --quiet --set time.horizon_months=7 -o " +
                          h5.string() + " --csv " + csv.string() + " --json " + json.string());
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("total_spend_usd") != std::string::npos);
  // The header says where the scenario came from, so a what-if never looks
  // like the baseline.
  CHECK(r.out.find("extending " + source("scenarios/catalog/gpus.yaml")) != std::string::npos);
  CHECK(r.out.find("\n  overrides: --set time.horizon_months=7\n") != std::string::npos);
  REQUIRE(fs::exists(h5));
  for (const auto& entry : fs::directory_iterator(h5.parent_path()))
    CHECK(entry.path().string().find(".tmp") == std::string::npos);

  H5::H5File file(h5.string(), H5F_ACC_RDONLY);
  int version = 0;
  file.openAttribute("format_version").read(H5::PredType::NATIVE_INT, &version);
  CHECK(version == 2);
  for (const char* series :
       {"demand_h100e_gpuh", "served_h100e_gpuh", "unserved_h100e_gpuh", "backlog_h100e_gpuh",
        "capacity_h100e_gpuh", "utilization", "gpus_installed", "gpus_failed", "gpus_stranded",
        "gpus_on_order", "power_mw", "energy_mwh", "capex_usd", "opex_usd", "spend_cum_usd",
        "revenue_usd", "carbon_t"}) {
    INFO(series);
    for (const char* stat : {"mean", "p05", "p50", "p95"})
      CHECK(file.nameExists(std::string("/series/") + series + "/" + stat));
  }
  for (const char* key :
       {"total_spend_usd", "capex_usd", "opex_usd", "budget_overrun_usd", "unserved_fraction",
        "inference_service_level", "mean_utilization", "peak_power_over_cap_mw",
        "cost_per_served_h100e_gpuh_usd", "energy_mwh", "carbon_t", "gpus_bought", "npv_usd",
        "region_unserved_fraction", "region_spend_usd"}) {
    INFO(key);
    CHECK(file.nameExists(std::string("/key_figures/") + key + "/mean"));
    CHECK(file.nameExists(std::string("/paths/key_figures/") + key));
  }

  for (const char* series : {"region_demand_h100e_gpuh", "region_served_h100e_gpuh",
                             "region_unserved_h100e_gpuh", "region_backlog_h100e_gpuh"})
    CHECK(file.nameExists(std::string("/series/") + series + "/p95"));

  const std::string csv_text = slurp(csv);
  CHECK(csv_text.rfind("key_figure,unit,mean,p05,p50,p95\n", 0) == 0);
  CHECK(slurp(json).find("\"total_spend_usd\"") != std::string::npos);
}

TEST_CASE("cli: an invalid scenario gives FILE:LINE:COL: key.path and exit 2", "[cli]") {
  const fs::path bad = scratch("bad.yaml");
  std::ofstream(bad) << slurp(source("tests/scenarios/constant.yaml"))
                     << "\nfinance:\n  usdjpy: cheap\n";
  const fs::path h5 = scratch("never.h5");
  const Result r = capsim("run " + bad.string() + " -o " + h5.string());
  CHECK(r.code == 2);
  INFO(r.err);
  CHECK(std::regex_search(r.err, std::regex(bad.string() + ":[0-9]+:[0-9]+: finance\\.usdjpy: ")));
  CHECK_FALSE(fs::exists(h5));
  CHECK(capsim("validate " + bad.string()).code == 2);
  CHECK(capsim("validate " + source("tests/scenarios/constant.yaml")).code == 0);
}

TEST_CASE("cli: bad usage and an unwritable output", "[cli]") {
  const std::string scenario = source("tests/scenarios/constant.yaml");
  CHECK(capsim("run " + scenario + " --paths 0").code == 2);
  CHECK(capsim("run " + scenario + " --threads 0").code == 2);
  CHECK(capsim("run " + scenario + " --no-such-flag").code == 2);
  CHECK(capsim("run").code == 2);
  const Result r = capsim("run " + scenario + " -o /nonexistent-dir/out.h5");
  CHECK(r.code == 1);
  CHECK(r.err.find("/nonexistent-dir/out.h5") != std::string::npos);
}

TEST_CASE("cli: list prints models and metrics", "[cli]") {
  const Result models = capsim("list models");
  CHECK(models.code == 0);
  for (const char* name : {"exponential", "logistic", "piecewise_linear", "log_ar1", "poisson",
                           "gbm", "log_ou", "binomial", "headroom"})
    CHECK(models.out.find(name) != std::string::npos);
  const Result metrics = capsim("list metrics");
  CHECK(metrics.code == 0);
  CHECK(metrics.out.find("unserved_fraction") != std::string::npos);
  CHECK(capsim("list nonsense").code == 2);
}
