// libFuzzer target: the scenario loader on arbitrary text. Any input must end
// in a ScenarioSpec or an InputError; a crash, a sanitizer report, a hang or
// any other exception is a bug. `extend:` targets resolve against the seed
// corpus directory (CAPSIM_FUZZ_BASE_DIR), so the fuzzer also reaches merging.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "capsim/error.hpp"
#include "capsim/io/scenario_loader.hpp"
#include "capsim/models/builtin.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const capsim::models::ModelRegistries registries = capsim::models::builtin_registries();
  static const std::string base_dir = [] {
    const char* dir = std::getenv("CAPSIM_FUZZ_BASE_DIR");
    return std::string(dir ? dir : ".");
  }();
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)capsim::io::load_scenario_text(text, "fuzz.yaml", base_dir, registries, {});
  } catch (const capsim::InputError&) {
    // Expected for almost every input.
  }
  return 0;
}
