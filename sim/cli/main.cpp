// capsim: entry point. The only place that maps errors to exit codes:
// 0 success, 1 runtime failure, 2 invalid input or usage, 130 interrupted
// (and 3 for `capsim optimize` when no plan meets every constraint).
#include <boost/program_options/errors.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "capsim/error.hpp"
#include "commands.hpp"
#include "mpi_session.hpp"

namespace {

// Set by SIGINT/SIGTERM; the engine polls it every step. A signal handler can
// only reach static storage, hence this one file-local flag.
std::atomic<bool> g_cancel{false};

extern "C" void on_signal(int signal) {
  g_cancel.store(true);
  // A second Ctrl-C ends the process at once (e.g. while a scenario is still
  // being read); the output's temporary file may then be left behind.
  std::signal(signal, SIG_DFL);
}

constexpr const char* kUsage = R"(capsim: Monte-Carlo capacity planning for GPU clouds

Usage: capsim COMMAND [OPTIONS]

Commands:
  run SCENARIO       simulate a scenario; key figures on stdout, series to HDF5
  sweep SCENARIO     run a scenario at many points of varied keys (--vary)
  optimize SCENARIO  the cheapest (or best) plan that meets constraints (--var)
  merge PARTS...     join the shards of a sweep into one file
  report FILE.h5     an HTML page with charts of a run or sweep file (-o PAGE.html)
  validate FILE...   check scenarios without running them
  list [WHAT]        list the models (WHAT=models) or the outputs (WHAT=metrics)
  size --rate R      GPUs a request rate needs for a service level (Erlang C)
  calibrate TRACE    fit a request-level inference class to a request trace (CSV)

Options:
  -h, --help         show this help (or `capsim COMMAND --help`)
  --version          print the version

Exit codes: 0 success, 1 runtime failure, 2 invalid input or usage, 130 interrupted;
capsim optimize: 3 no plan meets every constraint.
)";

int dispatch(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string command = argv[1];
  const capsim::cli::Args args(argv + 2, argv + argc);
  if (command == "-h" || command == "--help" || command == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "--version" || command == "-V") {
    std::cout << "capsim " << CAPSIM_VERSION
              << (capsim::cli::mpi_available() ? " (with MPI)" : " (without MPI)") << '\n';
    return 0;
  }
  if (command == "run") return capsim::cli::run_command(args, g_cancel);
  if (command == "sweep") return capsim::cli::sweep_command(args, g_cancel);
  if (command == "optimize") return capsim::cli::optimize_command(args, g_cancel);
  if (command == "merge") return capsim::cli::merge_command(args);
  if (command == "report") return capsim::cli::report_command(args);
  if (command == "validate") return capsim::cli::validate_command(args);
  if (command == "list") return capsim::cli::list_command(args);
  if (command == "size") return capsim::cli::size_command(args);
  if (command == "calibrate") return capsim::cli::calibrate_command(args);
  std::cerr << "capsim: unknown command '" << command << "'\n\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  try {
    return dispatch(argc, argv);
  } catch (const capsim::InputError& e) {
    if (e.diagnostics().empty())
      std::cerr << "capsim: error: " << e.what() << '\n';
    else
      for (const auto& d : e.diagnostics()) std::cerr << d.format() << '\n';
    return 2;
  } catch (const boost::program_options::error& e) {
    std::cerr << "capsim: error: " << e.what() << " (see --help)\n";
    return 2;
  } catch (const capsim::Interrupted&) {
    std::cerr << "capsim: interrupted; no output written\n";
    return 130;
  } catch (const std::bad_alloc&) {
    std::cerr << "capsim: error: out of memory (try fewer --paths)\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "capsim: error: " << e.what() << '\n';
    return 1;
  }
}
