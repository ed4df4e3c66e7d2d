#include <boost/program_options.hpp>
#include <iostream>

#include "capsim/engine.hpp"
#include "capsim/error.hpp"
#include "capsim/io/scenario_loader.hpp"
#include "capsim/results.hpp"
#include "commands.hpp"
#include "parse.hpp"

namespace po = boost::program_options;

namespace capsim::cli {

int validate_command(const Args& args) {
  po::options_description opts(R"(Usage: capsim validate SCENARIO... [OPTIONS]

Checks each scenario (types, ranges, names, cross-references) without running
it and reports every problem as FILE:LINE:COL: key.path: message. Exit code 0
when all are valid, 2 otherwise. Warnings (explicit orders that exceed a
region's power cap when they arrive) are printed the same way, as
"FILE:LINE:COL: key.path: warning: ...", and do not make a file invalid.

Example:
  capsim validate scenarios/msft-japan-2024.yaml

Options)");
  std::vector<std::string> overrides, files;
  opts.add_options()("help,h", "show this help")("set", po::value(&overrides)->composing(),
                                                 "override a key: --set key.path=value")(
      "quiet,q", "print only errors");
  const auto parsed = parse_args(args, opts, "files", &files, -1);
  if (!parsed) return 0;
  const auto& vm = *parsed;
  if (files.empty()) throw InputError("validate: no scenario given (see capsim validate --help)");

  const auto registries = models::builtin_registries();
  int invalid = 0;
  for (const auto& file : files) {
    try {
      const ScenarioSpec spec = io::load_scenario(file, registries, overrides);
      for (const auto& w : power_warnings(spec)) std::cerr << w.format() << '\n';
      if (vm.count("quiet") == 0) {
        const Layout layout = make_layout(spec);
        std::cout << file << ": ok (" << spec.name << ": " << spec.regions.size() << " regions, "
                  << spec.skus.size() << " GPU models, " << spec.classes.size()
                  << " workload classes, " << layout.steps << " steps of " << spec.time.step_hours
                  << " h)\n";
      }
    } catch (const InputError& e) {
      ++invalid;
      if (e.diagnostics().empty())
        std::cerr << file << ": " << e.what() << '\n';
      else
        for (const auto& d : e.diagnostics()) std::cerr << d.format() << '\n';
    }
  }
  return invalid == 0 ? 0 : 2;
}

}  // namespace capsim::cli
