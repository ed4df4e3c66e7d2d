// The value a resolved scenario holds at a key path, for studies that start
// from the scenario's own values (the tornado's base point, the optimizer's
// input plan).
#include <charconv>
#include <sstream>

#include "capsim/io/scenario_loader.hpp"
#include "scenario_tree.hpp"

namespace capsim::io {

std::optional<std::string> scenario_value(const ScenarioSpec& spec, const std::string& key_path) {
  detail::Sources sources;
  const int file = sources.add(spec.source_file);
  std::vector<Diagnostic> diagnostics;
  const auto root =
      detail::parse_tree(spec.resolved_yaml, file, sources, detail::TreeLimits{}, diagnostics);
  if (!root) return std::nullopt;
  const detail::TreeNode* node = &*root;
  std::istringstream segments(key_path);
  for (std::string segment; node && std::getline(segments, segment, '.');) {
    if (node->is_map()) {
      node = node->find(segment);
    } else if (node->is_sequence()) {
      std::size_t index = 0;
      const auto [end, ec] =
          std::from_chars(segment.data(), segment.data() + segment.size(), index);
      node =
          ec == std::errc() && end == segment.data() + segment.size() && index < node->items.size()
              ? &node->items[index]
              : nullptr;
    } else {
      node = nullptr;
    }
  }
  if (!node) return std::nullopt;
  if (node->is_scalar()) return node->text;
  // A list of scalars as it is usually written: [h200, h100].
  if (!node->is_sequence()) return std::nullopt;
  std::string text = "[";
  for (std::size_t i = 0; i < node->items.size(); ++i) {
    if (!node->items[i].is_scalar()) return std::nullopt;
    text += (i ? ", " : "") + node->items[i].text;
  }
  return text + "]";
}

}  // namespace capsim::io
