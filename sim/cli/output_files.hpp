// The output files of a command, checked before any work is done, so that a
// run never overwrites what it reads or ends by failing to write where it
// could not have written from the start. Every command that writes files
// calls check_outputs() once its inputs are known.
#pragma once

#include <boost/program_options/variables_map.hpp>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace capsim::cli {

// A file a command reads or writes, and how messages name it ("-o",
// "--csv", "the scenario", "part 2").
struct NamedFile {
  std::string role;
  std::string path;
};

// The files a scenario was read from (ScenarioSpec::input_files): the
// scenario itself, then the files it extends.
std::vector<NamedFile> scenario_inputs(const std::vector<std::string>& input_files);

// The output options given in `vm`, each as {option name, role}: e.g.
// given_outputs(vm, {{"output", "-o"}, {"csv", "--csv"}}). An option given
// with an empty value is kept, so that check_outputs() refuses it.
std::vector<NamedFile> given_outputs(
    const boost::program_options::variables_map& vm,
    std::initializer_list<std::pair<const char*, const char*>> options);

// Refuses, before any work:
//   - an empty file name (InputError: usage);
//   - an output that is an input of the command, or the same file as
//     another output (InputError). Files are compared by identity, not by
//     spelling: device and inode after following links for existing files,
//     and for a file still to be created its directory's identity and its
//     name, so "x.h5", "./x.h5", a symbolic link and a hard link all match.
//     Outputs that are not regular files (/dev/stdout, a pipe) are written
//     in place and never clash;
//   - an output that is a directory, or whose directory is missing or not
//     writable (RuntimeError naming the path).
// `command` prefixes the messages ("run", "sweep", "merge").
void check_outputs(const std::string& command, const std::vector<NamedFile>& inputs,
                   const std::vector<NamedFile>& outputs);

}  // namespace capsim::cli
