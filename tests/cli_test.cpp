// The capsim executable as a user runs it: exit codes, messages, files.
#include <H5Cpp.h>
#include <sys/wait.h>

#include <algorithm>
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
  CHECK(version == 3);
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
  for (const char* name :
       {"reviews_limited_by_budget", "reviews_limited_by_power", "reviews_limited_by_supply"})
    CHECK(metrics.out.find(name) != std::string::npos);
  CHECK(capsim("list nonsense").code == 2);
}

TEST_CASE("cli: validate and run warn about explicit orders over the power schedule",
          "[cli][policy]") {
  // tests/scenarios/power-warning.yaml, by hand: the second order (line 17)
  // goes live on 2024-03-02 with 1,000 GPUs of 1.25 kW = 1.25 MW against a
  // 1 MW cap; the first (750 kW of 1 MW) and the third (1.75 of 2 MW) fit.
  const std::string file = source("tests/scenarios/power-warning.yaml");
  const Result v = capsim("validate " + file);
  INFO(v.err);
  CHECK(v.code == 0);  // a warning is not an error
  CHECK(v.out.find("power-warning.yaml: ok") != std::string::npos);
  CHECK(v.err.find(file + ":17:7: procurement.orders.1: warning: ") != std::string::npos);
  CHECK(v.err.find("0.25 MW over") != std::string::npos);
  CHECK(v.err.find("procurement.orders.0") == std::string::npos);
  CHECK(v.err.find("procurement.orders.2") == std::string::npos);
  const Result r = capsim("run " + file + " --paths 2 --quiet");
  CHECK(r.code == 0);
  CHECK(r.err.find(file + ":17:7: procurement.orders.1: warning: ") != std::string::npos);
  // The shipped baseline's explicit orders fit its power schedules.
  const Result base = capsim("validate " + source("scenarios/msft-japan-2024.yaml"));
  CHECK(base.code == 0);
  CHECK(base.err.find("warning") == std::string::npos);
}

TEST_CASE("cli: --set of a misspelt key is an error also with an empty or null value", "[cli]") {
  const std::string scenario = source("tests/scenarios/constant.yaml");
  for (const char* set : {"x=", "'finance.budgte_usd=~'"}) {
    INFO(set);
    const Result r = capsim("validate " + scenario + " --set " + set);
    CHECK(r.code == 2);
    CHECK(r.err.find("--set:1:1: ") != std::string::npos);
    CHECK(r.err.find("unknown key") != std::string::npos);
  }
  const Result typo = capsim("validate " + scenario + " --set 'finance.budgte_usd=~'");
  CHECK(
      typo.err.find("finance.budgte_usd: unknown key 'budgte_usd' (did you mean 'budget_usd'?)") !=
      std::string::npos);
  // A known key set to null removes it: its default applies.
  CHECK(capsim("validate " + scenario + " --set 'finance.budget_usd=~'").code == 0);
}

TEST_CASE("cli: a scenario with CR-only line ends reads as the same document", "[cli]") {
  std::string text = slurp(source("tests/scenarios/constant.yaml"));
  std::replace(text.begin(), text.end(), '\n', '\r');
  const fs::path cr = scratch("cr-only.yaml");
  std::ofstream(cr, std::ios::binary) << text;
  const Result ok = capsim("validate " + cr.string());
  INFO(ok.err);
  CHECK(ok.code == 0);
  CHECK(ok.out.find(": ok (constant: 1 regions, 1 GPU models, 1 workload classes, 31 steps") !=
        std::string::npos);
  // Errors keep their lines: after the file's lines come finance: and then
  // usdjpy, two lines further.
  const std::size_t lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\r'));
  const fs::path bad = scratch("cr-only-bad.yaml");
  std::ofstream(bad, std::ios::binary) << text << "finance:\r  usdjpy: cheap\r";
  const Result error = capsim("validate " + bad.string());
  CHECK(error.code == 2);
  CHECK(error.err.find(bad.string() + ":" + std::to_string(lines + 2) + ":11: finance.usdjpy: ") !=
        std::string::npos);
}

TEST_CASE("cli: --seed is a whole number in [0, 2^64 - 1], as time.seed is", "[cli]") {
  const std::string scenario = source("tests/scenarios/constant.yaml");
  for (const std::string& command :
       {"run " + scenario, "sweep " + scenario + " --vary time.paths=1"}) {
    for (const char* seed : {"-1", "18446744073709551616", "1e3", "x"}) {
      INFO(command << " --seed " << seed);
      const Result r = capsim(command + " --seed " + seed + " --quiet");
      CHECK(r.code == 2);
      CHECK(r.err.find("--seed must be a whole number in [0, 18446744073709551615] (got '" +
                       std::string(seed) + "')") != std::string::npos);
    }
  }
  const Result top = capsim("run " + scenario + " --seed 18446744073709551615 --quiet");
  CHECK(top.code == 0);
  CHECK(top.out.find("seed 18446744073709551615") != std::string::npos);
}

TEST_CASE("cli: --threads is bounded by the cores available", "[cli]") {
  const std::string scenario = source("tests/scenarios/constant.yaml");
  for (const std::string& command :
       {"run " + scenario, "sweep " + scenario + " --vary time.paths=1"}) {
    INFO(command);
    const Result r = capsim(command + " --threads 100000 --quiet");
    CHECK(r.code == 2);
    CHECK(r.err.find("--threads must be at most ") != std::string::npos);
    CHECK(r.err.find(" per core, ") != std::string::npos);
    CHECK(r.err.find("got 100000)") != std::string::npos);
  }
}

TEST_CASE("cli: an output that is an input or another output is refused before any work", "[cli]") {
  const fs::path dir = scratch("identity");
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path scen = dir / "scen.yaml";
  fs::copy_file(source("tests/scenarios/constant.yaml"), scen);
  const std::string text = slurp(scen);
  const auto refused = [&](const std::string& args, const std::string& fragment) {
    INFO(args);
    const Result r = capsim(args + " --quiet");
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK(r.err.find(fragment) != std::string::npos);
    CHECK(slurp(scen) == text);
  };
  const std::string run = "run " + scen.string();
  SECTION("the scenario, by any spelling or link") {
    refused(run + " -o " + scen.string(), "run: -o " + scen.string() + " is the scenario");
    refused(run + " --csv " + (dir / "." / "scen.yaml").string(), "run: --csv ");
    fs::create_symlink(scen, dir / "link.yaml");
    refused(run + " --json " + (dir / "link.yaml").string(), "is the scenario");
    fs::create_hard_link(scen, dir / "hard.yaml");
    refused(run + " -o " + (dir / "hard.yaml").string(), "is the scenario");
    refused("sweep " + scen.string() + " --vary time.paths=1 -o " + scen.string(),
            "sweep: -o " + scen.string() + " is the scenario");
  }
  SECTION("a file the scenario extends") {
    const fs::path top = dir / "top.yaml";
    std::ofstream(top) << "extend: scen.yaml\nname: top\n";
    refused("run " + top.string() + " --json " + scen.string(), "is a file the scenario extends");
  }
  SECTION("two outputs naming one file, also one still to be created") {
    const fs::path x = dir / "x.h5";
    refused(run + " -o " + x.string() + " --csv " + x.string(),
            "run: -o and --csv name the same file");
    refused(run + " --csv " + x.string() + " --json " + (dir / "." / "x.h5").string(),
            "run: --csv and --json name the same file");
    CHECK_FALSE(fs::exists(x));
    refused(
        "sweep " + scen.string() + " --vary time.paths=1 -o " + x.string() + " --csv " + x.string(),
        "sweep: -o and --csv name the same file");
  }
  SECTION("merge: an output naming a part") {
    for (const char* shard : {"1", "2"})
      REQUIRE(capsim("sweep " + scen.string() + " --vary time.paths=1,2 --shard " + shard +
                     "/2 -o " + (dir / ("p" + std::string(shard) + ".h5")).string() + " --quiet")
                  .code == 0);
    const std::string part = slurp(dir / "p2.h5");
    const Result r =
        capsim("merge " + (dir / "p1.h5").string() + " " + (dir / "p2.h5").string() + " -o " +
               (dir / "all.h5").string() + " --csv " + (dir / "p2.h5").string());
    CHECK(r.code == 2);
    CHECK(r.err.find("merge: --csv " + (dir / "p2.h5").string() + " is part 2") !=
          std::string::npos);
    CHECK(slurp(dir / "p2.h5") == part);
    CHECK_FALSE(fs::exists(dir / "all.h5"));
  }
  SECTION("an empty file name and a directory, before the run") {
    refused(run + " -o ''", "run: -o needs a file name");
    for (const char* flag : {"-o", "--csv", "--json"}) {
      INFO(flag);
      const Result r = capsim(run + " " + flag + " " + dir.string() + " --quiet");
      CHECK(r.code == 1);
      CHECK(r.err.find("cannot write " + dir.string() + ": is a directory") != std::string::npos);
      CHECK(r.out.empty());  // no key figures: nothing was run
    }
    for (const auto& e : fs::directory_iterator(dir.parent_path()))
      CHECK(e.path().filename().string().find("identity.tmp") == std::string::npos);
  }
}

TEST_CASE("cli: names are written whole and as valid UTF-8, or refused", "[cli]") {
  // No name: key, and a file name with a byte that is not UTF-8: the name
  // taken from the file replaces it with U+FFFD in stdout, JSON and HDF5.
  std::string text = slurp(source("tests/scenarios/constant.yaml"));
  text.erase(text.find("name: constant\n"), std::string("name: constant\n").size());
  const std::string stem = "odd\xff";
  const fs::path file = scratch(stem + ".yaml");
  std::ofstream(file, std::ios::binary) << text;
  const fs::path json = scratch("names.json"), h5 = scratch("names.h5");
  const Result r =
      capsim("run '" + file.string() + "' --quiet --json " + json.string() + " -o " + h5.string());
  INFO(r.err);
  REQUIRE(r.code == 0);
  const std::string shown = "odd\xef\xbf\xbd";
  CHECK(r.out.find("scenario " + shown + ":") != std::string::npos);
  CHECK(r.out.find('\xff') == std::string::npos);
  const std::string json_text = slurp(json);
  CHECK(json_text.find("\"scenario\": \"" + shown + "\"") != std::string::npos);
  CHECK(json_text.find('\xff') == std::string::npos);
  H5::H5File h5file(h5.string(), H5F_ACC_RDONLY);
  std::string name;
  const H5::Attribute attr = h5file.openAttribute("scenario_name");
  attr.read(attr.getStrType(), name);
  CHECK(name == shown);
}
