// Command-line parsing shared by the subcommands.
#pragma once

#include <boost/program_options.hpp>
#include <iostream>
#include <optional>

#include "commands.hpp"

namespace capsim::cli {

// Parses `args` against the `visible` options plus positional arguments
// stored in `*positional` under the name `positional_name` (at most
// `max_count`; -1 for any number). With --help, prints the visible options
// and returns nothing; the caller then exits with 0.
template <class T>
std::optional<boost::program_options::variables_map> parse_args(
    const Args& args, const boost::program_options::options_description& visible,
    const char* positional_name, T* positional, int max_count) {
  namespace po = boost::program_options;
  po::options_description hidden;
  hidden.add_options()(positional_name, po::value(positional));
  po::options_description all;
  all.add(visible).add(hidden);
  po::positional_options_description order;
  order.add(positional_name, max_count);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(order).run(), vm);
  if (vm.count("help")) {
    std::cout << visible << '\n';
    return std::nullopt;
  }
  po::notify(vm);
  return vm;
}

}  // namespace capsim::cli
