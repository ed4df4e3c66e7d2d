// libFuzzer target: the scenario loader on arbitrary text, with --set
// overrides. Any input must end in a ScenarioSpec or an InputError; a crash,
// a sanitizer report, a hang or any other exception is a bug. `extend:`
// targets resolve against the seed corpus directory (CAPSIM_FUZZ_BASE_DIR),
// so the fuzzer also reaches merging.
//
// Overrides: every line of the input that starts with "#set " is also given
// as a --set argument (the rest of the line, e.g. "#set time.paths=5"), up to
// kMaxOverrides of them. To YAML such a line is a comment, so one input
// drives both the document and the overrides applied on top of it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "capsim/error.hpp"
#include "capsim/io/scenario_loader.hpp"
#include "capsim/models/builtin.hpp"

namespace {

constexpr std::size_t kMaxOverrides = 16;

std::vector<std::string> overrides_in(const std::string& text) {
  const std::string marker = "#set ";
  std::vector<std::string> overrides;
  for (std::size_t at = 0; at < text.size() && overrides.size() < kMaxOverrides;) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    if (text.compare(at, marker.size(), marker) == 0)
      overrides.push_back(text.substr(at + marker.size(), end - at - marker.size()));
    at = end + 1;
  }
  return overrides;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const capsim::models::ModelRegistries registries = capsim::models::builtin_registries();
  static const std::string base_dir = [] {
    const char* dir = std::getenv("CAPSIM_FUZZ_BASE_DIR");
    return std::string(dir ? dir : ".");
  }();
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)capsim::io::load_scenario_text(text, "fuzz.yaml", base_dir, registries,
                                         overrides_in(text));
  } catch (const capsim::InputError&) {
    // Expected for almost every input.
  }
  return 0;
}
