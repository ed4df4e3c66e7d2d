// Resolved scenario tree -> ScenarioSpec (internal to the scenario loader).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "capsim/error.hpp"
#include "capsim/models/builtin.hpp"
#include "capsim/scenario.hpp"
#include "scenario_tree.hpp"

namespace capsim::io::detail {

// Errors listed before the rest are only counted ("N more errors not
// shown"): the report of a wrong or generated document stays readable and
// quick to print.
inline constexpr std::size_t kMaxReported = 100;

// Checks every key, type, range and cross-reference of `root` (a map, after
// extend and --set) and fills a ScenarioSpec. Appends one diagnostic per
// problem; the returned spec is only meaningful when none were added.
// name, source_file and resolved_yaml are left for the caller.
ScenarioSpec build_spec(const TreeNode& root, const Sources& sources,
                        const models::ModelRegistries& registries,
                        std::vector<Diagnostic>& diagnostics);

// The candidate closest to `word` by edit distance, or "" when none is close
// enough to be a likely typo.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace capsim::io::detail
