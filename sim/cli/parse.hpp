// Command-line parsing shared by the subcommands.
#pragma once

#include <boost/program_options.hpp>
#include <charconv>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>

#include "capsim/error.hpp"
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

// The value of --seed, read as the scenario's time.seed is: a whole number in
// [0, 2^64 - 1]. (Boost's conversion to an unsigned type would take "-1" as
// 2^64 - 1.) Throws InputError naming `command`.
inline std::uint64_t parse_seed(const std::string& text, const std::string& command) {
  std::uint64_t seed = 0;
  const char* end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, seed);
  if (text.empty() || ec != std::errc() || stop != end)
    throw InputError(command +
                     ": --seed must be a whole number in [0, 18446744073709551615] (got '" + text +
                     "')");
  return seed;
}

}  // namespace capsim::cli
