// YAML scenario -> ScenarioSpec. The only user of yaml-cpp.
//
// Contract: returns a complete, valid spec, or throws InputError carrying
// every problem found ("FILE:LINE:COL: key.path: message (got X, expected
// Y)"). Handles `extend:` (a base file, path relative to the extending file;
// maps merge key by key, lists and scalars replace), `include:`-style shared
// catalog files, and `--set key.path=value` overrides applied after extend.
// The spec records where it came from: source_file, the files it extends
// and the overrides (ScenarioSpec::extends, ::overrides).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "capsim/models/builtin.hpp"
#include "capsim/scenario.hpp"

namespace capsim::io {

ScenarioSpec load_scenario(const std::string& path, const models::ModelRegistries& registries,
                           const std::vector<std::string>& overrides = {});

// Same, from text (`name` is used as the file name in messages; `extend`
// paths are relative to `base_dir`).
ScenarioSpec load_scenario_text(const std::string& text, const std::string& name,
                                const std::string& base_dir,
                                const models::ModelRegistries& registries,
                                const std::vector<std::string>& overrides = {});

// The scalar a loaded scenario holds at `key_path` (as --set names it, e.g.
// "skus.h200.lead_time_days" or "procurement.orders.0.count"), as written;
// nullopt when the key is absent (a default applies) or holds a map or list.
std::optional<std::string> scenario_value(const ScenarioSpec& spec, const std::string& key_path);

}  // namespace capsim::io
