#include "output_files.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <optional>

#include "capsim/error.hpp"
#include "memory.hpp"

namespace capsim::cli {

namespace {

// What a path names, as a file: an existing file's device and inode; for a
// file still to be created, its directory's and its name.
struct Identity {
  bool exists = false;
  bool regular = false;
  bool directory = false;
  dev_t device = 0;
  ino_t inode = 0;
  std::string name;  // only for a file still to be created

  bool same_as(const Identity& o) const {
    return exists == o.exists && device == o.device && inode == o.inode && name == o.name;
  }
};

// nullopt when neither the file nor its directory exists (the directory
// check reports that).
std::optional<Identity> identity_of(const std::string& path) {
  struct stat info {};
  Identity id;
  if (::stat(path.c_str(), &info) == 0) {
    id.exists = true;
    id.regular = S_ISREG(info.st_mode);
    id.directory = S_ISDIR(info.st_mode);
  } else {
    std::filesystem::path dir = std::filesystem::path(path).parent_path();
    if (dir.empty()) dir = ".";
    if (::stat(dir.c_str(), &info) != 0) return std::nullopt;
    id.regular = true;  // it will be created as one
    id.name = std::filesystem::path(path).filename().string();
  }
  id.device = info.st_dev;
  id.inode = info.st_ino;
  return id;
}

}  // namespace

std::vector<NamedFile> scenario_inputs(const std::vector<std::string>& input_files) {
  std::vector<NamedFile> files;
  for (std::size_t i = 0; i < input_files.size(); ++i)
    files.push_back({i == 0 ? "the scenario" : "a file the scenario extends", input_files[i]});
  return files;
}

std::vector<NamedFile> given_outputs(
    const boost::program_options::variables_map& vm,
    std::initializer_list<std::pair<const char*, const char*>> options) {
  std::vector<NamedFile> files;
  for (const auto& [option, role] : options)
    if (vm.count(option)) files.push_back({role, vm[option].as<std::string>()});
  return files;
}

void check_outputs(const std::string& command, const std::vector<NamedFile>& inputs,
                   const std::vector<NamedFile>& outputs) {
  for (const NamedFile& out : outputs)
    if (out.path.empty())
      throw InputError(command + ": " + out.role + " needs a file name (got \"\")");

  std::vector<std::optional<Identity>> input_ids;
  for (const NamedFile& in : inputs) input_ids.push_back(identity_of(in.path));
  std::vector<std::optional<Identity>> output_ids;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const NamedFile& out = outputs[i];
    const std::optional<Identity> id = identity_of(out.path);
    output_ids.push_back(id);
    if (!id || !id->regular) continue;  // missing directory (below), or written in place
    for (std::size_t j = 0; j < inputs.size(); ++j)
      if (input_ids[j] && input_ids[j]->same_as(*id))
        throw InputError(command + ": " + out.role + " " + out.path + " is " + inputs[j].role +
                         (inputs[j].path == out.path ? "" : " (" + inputs[j].path + ")") +
                         ", which this command reads; refusing to overwrite it");
    for (std::size_t j = 0; j < i; ++j)
      if (output_ids[j] && output_ids[j]->same_as(*id))
        throw InputError(command + ": " + outputs[j].role + " and " + out.role +
                         " name the same file (" + outputs[j].path +
                         (outputs[j].path == out.path ? "" : ", " + out.path) + ")");
  }

  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const NamedFile& out = outputs[i];
    if (output_ids[i] && output_ids[i]->directory)
      throw RuntimeError("cannot write " + out.path + ": is a directory (" + out.role +
                         " needs a file name)");
    check_writable_directory(out.path);
  }
}

}  // namespace capsim::cli
