// A YAML document as a plain tree that remembers where every value was
// written. Internal to the scenario loader (sim/io/scenario_*.cpp), which is
// the only yaml-cpp user.
//
// Why our own tree instead of YAML::Node: values from several files (extend)
// and from --set are merged into one document, and each value must keep the
// file, line and column it came from so that errors found after merging still
// point at the text the user wrote. Building the tree from parser events also
// lets us stop early on documents that are too deep or too large (alias
// bombs) instead of letting them exhaust the stack or memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capsim/error.hpp"
#include "capsim/scenario.hpp"

namespace capsim::io::detail {

// Source position: index into Sources::names, 1-based line and column
// (0 = unknown).
struct TreePos {
  int file = -1;
  int line = 0;
  int column = 0;
};

// The file names that TreePos::file indexes.
class Sources {
 public:
  int add(const std::string& name);
  SourceMark mark(const TreePos& pos) const;

 private:
  std::vector<std::string> names_;
};

struct TreeEntry;

struct TreeNode {
  enum class Kind : std::uint8_t { null, scalar, sequence, map };
  Kind kind = Kind::null;
  bool quoted = false;             // scalar written quoted or tagged as a string: never a number
  std::string text;                // scalar text
  std::vector<TreeNode> items;     // sequence
  std::vector<TreeEntry> entries;  // map, in document order, keys unique
  // map: keys written with a null value (the default applies, or an
  // inherited value is removed). They are not entries, but the validator
  // still reports the unknown ones: a misspelt key is an error whatever its
  // value.
  std::vector<TreeEntry> nulls;
  TreePos pos;

  bool is_map() const { return kind == Kind::map; }
  bool is_sequence() const { return kind == Kind::sequence; }
  bool is_scalar() const { return kind == Kind::scalar; }
  bool is_null() const { return kind == Kind::null; }

  const TreeNode* find(const std::string& key) const;
  TreeNode* find(const std::string& key);
  bool erase(const std::string& key);
};

struct TreeEntry {
  std::string key;
  TreePos key_pos;
  TreeNode value;
};

struct TreeLimits {
  std::size_t max_bytes = std::size_t{2} << 20;  // 2 MiB: parses in well under 1 s
  int max_depth = 64;                             // nested maps and lists
  std::size_t max_nodes = 1'000'000;              // after expanding aliases
};

// Parses `text` as exactly one YAML document. On any problem appends
// diagnostics (syntax errors at the parser's mark, limits exceeded, duplicate
// or non-scalar keys) and returns nullopt. An empty document (nothing but
// whitespace and comments, or a lone null) returns a null node, not an error;
// callers decide what empty means for them.
std::optional<TreeNode> parse_tree(const std::string& text, int file, const Sources& sources,
                                   const TreeLimits& limits, std::vector<Diagnostic>& diagnostics);

// Merges `overlay` onto `base`: maps merge key by key recursively; scalars and
// lists replace; a null value removes the key (and is kept in `nulls`). A map
// with a `model:` key whose value differs from the base's replaces the base
// map whole, so parameters of one model never leak into another.
void merge_tree(TreeNode& base, TreeNode overlay);

// Moves map entries whose value is null to the map's `nulls`, recursively
// (null = "use the default").
void strip_nulls(TreeNode& node);

// The tree as YAML text (block style; lists of scalars in flow style).
std::string emit_tree(const TreeNode& node);

// "a map", "a list", "null", or the scalar as written ("fast" quoted when it
// was a quoted string).
std::string describe(const TreeNode& node);

}  // namespace capsim::io::detail
