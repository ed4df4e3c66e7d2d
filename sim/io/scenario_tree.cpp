#include "scenario_tree.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>
#include <unordered_map>
#include <utility>

#include "text_util.hpp"

namespace capsim::io::detail {

int Sources::add(const std::string& name) {
  names_.push_back(name);
  return static_cast<int>(names_.size()) - 1;
}

SourceMark Sources::mark(const TreePos& pos) const {
  SourceMark m;
  if (pos.file >= 0 && pos.file < static_cast<int>(names_.size()))
    m.file = names_[static_cast<std::size_t>(pos.file)];
  m.line = pos.line;
  m.column = pos.column;
  return m;
}

const TreeNode* TreeNode::find(const std::string& key) const {
  for (const auto& e : entries)
    if (e.key == key) return &e.value;
  return nullptr;
}

TreeNode* TreeNode::find(const std::string& key) {
  for (auto& e : entries)
    if (e.key == key) return &e.value;
  return nullptr;
}

bool TreeNode::erase(const std::string& key) {
  const auto it = std::find_if(entries.begin(), entries.end(),
                               [&](const TreeEntry& e) { return e.key == key; });
  if (it == entries.end()) return false;
  entries.erase(it);
  return true;
}

namespace {

// Thrown from inside the event handler to abandon a document that exceeds a
// limit; unwinding through yaml-cpp's parser is how we keep its recursion
// shallow.
struct StopParsing {
  YAML::Mark mark;
  std::string message;
};

TreePos to_pos(int file, const YAML::Mark& mark) {
  if (mark.is_null()) return TreePos{file, 0, 0};
  return TreePos{file, mark.line + 1, mark.column + 1};
}

bool is_string_tag(const std::string& tag) {
  // "!" is yaml-cpp's tag for a quoted scalar; "?" for a plain one.
  if (tag == "!") return true;
  const std::string suffix = ":str";
  return tag.size() >= suffix.size() &&
         tag.compare(tag.size() - suffix.size(), suffix.size(), suffix) == 0;
}

class TreeBuilder : public YAML::EventHandler {
 public:
  TreeBuilder(int file, const Sources& sources, const TreeLimits& limits,
              std::vector<Diagnostic>& diagnostics)
      : file_(file), sources_(sources), limits_(limits), diagnostics_(diagnostics) {}

  std::optional<TreeNode>& root() { return root_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (documents_++ > 0)
      throw StopParsing{mark, "more than one YAML document (expected exactly one)"};
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    count(1, mark);
    TreeNode node;
    node.pos = to_pos(file_, mark);
    complete(std::move(node), anchor, 1);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    const auto it = anchors_.find(anchor);
    if (it == anchors_.end() || !it->second.complete)
      throw StopParsing{mark, "an alias refers to a value that contains it (recursive alias)"};
    count(it->second.nodes, mark);
    complete(TreeNode(it->second.node), 0, it->second.nodes);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    count(1, mark);
    TreeNode node;
    node.kind = TreeNode::Kind::scalar;
    node.quoted = is_string_tag(tag);
    node.text = value;
    node.pos = to_pos(file_, mark);
    complete(std::move(node), anchor, 1);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value /*style*/) override {
    open(TreeNode::Kind::sequence, mark, anchor);
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value /*style*/) override {
    open(TreeNode::Kind::map, mark, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    TreeNode node;
    YAML::anchor_t anchor = 0;
    std::size_t nodes_before = 0;
    std::optional<TreeNode> key;  // map: key read, value pending
    bool skip_value = false;      // map: the key was rejected, drop its value
    // map: line of each key so far; a hash, not a scan of the entries, so a
    // map with a million keys stays linear to read.
    std::unordered_map<std::string, int> key_lines;
  };

  struct Anchored {
    TreeNode node;
    std::size_t nodes = 0;
    bool complete = false;
  };

  void count(std::size_t n, const YAML::Mark& mark) {
    nodes_ += n;
    if (nodes_ > limits_.max_nodes)
      throw StopParsing{mark, "document has more than " + std::to_string(limits_.max_nodes) +
                                  " values after expanding aliases (an alias bomb?)"};
  }

  void open(TreeNode::Kind kind, const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (static_cast<int>(frames_.size()) >= limits_.max_depth)
      throw StopParsing{mark, "maps and lists nested deeper than " +
                                  std::to_string(limits_.max_depth) + " levels"};
    count(1, mark);
    Frame frame;
    frame.node.kind = kind;
    frame.node.pos = to_pos(file_, mark);
    frame.anchor = anchor;
    frame.nodes_before = nodes_ - 1;
    frames_.push_back(std::move(frame));
    if (anchor != 0) anchors_[anchor] = Anchored{};  // known but not complete yet
  }

  void close() {
    Frame frame = std::move(frames_.back());
    frames_.pop_back();
    complete(std::move(frame.node), frame.anchor, nodes_ - frame.nodes_before);
  }

  void complete(TreeNode node, YAML::anchor_t anchor, std::size_t nodes) {
    if (anchor != 0) anchors_[anchor] = Anchored{node, nodes, true};
    if (frames_.empty()) {
      root_ = std::move(node);
      return;
    }
    Frame& parent = frames_.back();
    if (parent.node.is_sequence()) {
      parent.node.items.push_back(std::move(node));
      return;
    }
    if (!parent.key && !parent.skip_value) {
      if (!node.is_scalar()) {
        error(node.pos, "a key must be plain text (got " + describe(node) + ")");
        parent.skip_value = true;
      } else {
        parent.key = std::move(node);
      }
      return;
    }
    if (parent.skip_value) {
      parent.skip_value = false;
      return;
    }
    TreeNode key = std::move(*parent.key);
    parent.key.reset();
    const auto [first, inserted] = parent.key_lines.emplace(key.text, key.pos.line);
    if (!inserted) {
      error(key.pos, "duplicate key '" + key.text.substr(0, 60) + "' (first written at line " +
                         std::to_string(first->second) + ")");
      return;
    }
    parent.node.entries.push_back(TreeEntry{std::move(key.text), key.pos, std::move(node)});
  }

  void error(const TreePos& pos, std::string message) {
    diagnostics_.push_back(Diagnostic{sources_.mark(pos), "", std::move(message)});
  }

  int file_;
  const Sources& sources_;
  const TreeLimits& limits_;
  std::vector<Diagnostic>& diagnostics_;
  int documents_ = 0;
  std::size_t nodes_ = 0;
  std::vector<Frame> frames_;
  std::map<YAML::anchor_t, Anchored> anchors_;
  std::optional<TreeNode> root_;
};

TreePos position_of(const std::string& text, std::size_t offset, int file) {
  TreePos pos{file, 1, 1};
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++pos.line;
      pos.column = 1;
    } else {
      ++pos.column;
    }
  }
  return pos;
}

void emit(YAML::Emitter& out, const TreeNode& node) {
  switch (node.kind) {
    case TreeNode::Kind::null:
      out << YAML::Null;
      break;
    case TreeNode::Kind::scalar:
      if (node.quoted)
        out << YAML::DoubleQuoted << node.text;
      else
        out << node.text;
      break;
    case TreeNode::Kind::sequence: {
      const bool flat = std::all_of(node.items.begin(), node.items.end(),
                                    [](const TreeNode& n) { return n.is_scalar() || n.is_null(); });
      if (flat) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& item : node.items) emit(out, item);
      out << YAML::EndSeq;
      break;
    }
    case TreeNode::Kind::map:
      if (node.entries.empty()) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const auto& e : node.entries) {
        out << YAML::Key << e.key << YAML::Value;
        emit(out, e.value);
      }
      out << YAML::EndMap;
      break;
  }
}

bool names_other_model(const TreeNode& base, const TreeNode& overlay) {
  const TreeNode* a = base.find("model");
  const TreeNode* b = overlay.find("model");
  return a && b && a->is_scalar() && b->is_scalar() && a->text != b->text;
}

}  // namespace

std::optional<TreeNode> parse_tree(const std::string& raw_text, int file, const Sources& sources,
                                   const TreeLimits& limits, std::vector<Diagnostic>& diagnostics) {
  const SourceMark whole_file = sources.mark(TreePos{file, 0, 0});
  // YAML breaks lines at LF, CR LF and a lone CR (old Mac line ends);
  // yaml-cpp only at the first two, so a lone CR becomes LF here (the same
  // number of bytes: positions do not move).
  std::string with_lf;
  const bool lone_cr = [&] {
    for (std::size_t i = raw_text.find('\r'); i != std::string::npos;
         i = raw_text.find('\r', i + 1))
      if (i + 1 == raw_text.size() || raw_text[i + 1] != '\n') return true;
    return false;
  }();
  if (lone_cr && raw_text.size() <= limits.max_bytes) {
    with_lf = raw_text;
    for (std::size_t i = 0; i < with_lf.size(); ++i)
      if (with_lf[i] == '\r' && (i + 1 == with_lf.size() || with_lf[i + 1] != '\n'))
        with_lf[i] = '\n';
  }
  const std::string& text = with_lf.empty() ? raw_text : with_lf;
  if (text.size() > limits.max_bytes) {
    diagnostics.push_back(Diagnostic{whole_file, "",
                                     "document too large (got " + std::to_string(text.size()) +
                                         " bytes, expected at most " +
                                         std::to_string(limits.max_bytes) + ")"});
    return std::nullopt;
  }
  if (const auto nul = text.find('\0'); nul != std::string::npos) {
    diagnostics.push_back(Diagnostic{sources.mark(position_of(text, nul, file)), "",
                                     "binary data (got a NUL byte, expected YAML text)"});
    return std::nullopt;
  }

  if (const auto bad = invalid_utf8_offset(text); bad != std::string::npos) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X",
                  static_cast<unsigned>(static_cast<unsigned char>(text[bad])));
    diagnostics.push_back(Diagnostic{sources.mark(position_of(text, bad, file)), "",
                                     std::string("invalid UTF-8 (got byte ") + hex +
                                         ", expected UTF-8 text; save the file as UTF-8)"});
    return std::nullopt;
  }

  const std::size_t errors_before = diagnostics.size();
  std::istringstream in(text);
  TreeBuilder builder(file, sources, limits, diagnostics);
  try {
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(builder)) {
    }
  } catch (const StopParsing& stop) {
    diagnostics.push_back(Diagnostic{sources.mark(to_pos(file, stop.mark)), "", stop.message});
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    diagnostics.push_back(
        Diagnostic{sources.mark(to_pos(file, e.mark)), "", "YAML syntax error: " + e.msg});
    return std::nullopt;
  }
  if (diagnostics.size() != errors_before) return std::nullopt;
  if (!builder.root()) {
    TreeNode empty;
    empty.pos = TreePos{file, 0, 0};
    return empty;
  }
  return std::move(builder.root());
}

void merge_tree(TreeNode& base, TreeNode overlay) {
  if (!base.is_map() || !overlay.is_map() || names_other_model(base, overlay)) {
    base = std::move(overlay);
    return;
  }
  // Onto an empty map (a file's own keys onto what its extends left), the
  // overlay is taken whole: no index of a hundred thousand keys to build.
  if (base.entries.empty() && base.nulls.empty()) {
    const TreePos pos = base.pos;
    base = std::move(overlay);
    base.pos = pos;
    return;
  }
  // Keys are looked up in a hash of the base's keys, so merging two large
  // maps stays linear; removed entries are dropped in one pass at the end.
  std::unordered_map<std::string, std::size_t> index;
  index.reserve(base.entries.size() + overlay.entries.size());
  for (std::size_t i = 0; i < base.entries.size(); ++i) index.emplace(base.entries[i].key, i);
  std::vector<bool> removed(base.entries.size(), false);
  for (auto& e : overlay.entries) {
    const auto it = index.find(e.key);
    if (e.value.is_null()) {
      if (it != index.end()) removed[it->second] = true;
      base.nulls.push_back(std::move(e));
    } else if (it != index.end() && !removed[it->second]) {
      merge_tree(base.entries[it->second].value, std::move(e.value));
    } else {
      // A key removed and written again in the same overlay cannot happen
      // (keys are unique), so a removed slot is never reused.
      index[e.key] = base.entries.size();
      removed.push_back(false);
      base.entries.push_back(std::move(e));
    }
  }
  for (auto& e : overlay.nulls) base.nulls.push_back(std::move(e));
  if (std::find(removed.begin(), removed.end(), true) == removed.end()) return;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < base.entries.size(); ++i)
    if (!removed[i]) {
      if (kept != i) base.entries[kept] = std::move(base.entries[i]);
      ++kept;
    }
  base.entries.resize(kept);
}

void strip_nulls(TreeNode& node) {
  if (node.is_map()) {
    for (auto& e : node.entries)
      if (e.value.is_null()) node.nulls.push_back(e);
    std::erase_if(node.entries, [](const TreeEntry& e) { return e.value.is_null(); });
    for (auto& e : node.entries) strip_nulls(e.value);
  } else if (node.is_sequence()) {
    for (auto& item : node.items) strip_nulls(item);
  }
}

std::string emit_tree(const TreeNode& node) {
  YAML::Emitter out;
  out.SetIndent(2);
  emit(out, node);
  std::string text = out.c_str();
  if (!text.empty() && text.back() != '\n') text += '\n';
  return text;
}

std::string describe(const TreeNode& node) {
  switch (node.kind) {
    case TreeNode::Kind::null:
      return "null";
    case TreeNode::Kind::sequence:
      return "a list";
    case TreeNode::Kind::map:
      return "a map";
    case TreeNode::Kind::scalar:
      break;
  }
  std::string text = node.text;
  constexpr std::size_t kMaxShown = 40;
  if (text.size() > kMaxShown) text = text.substr(0, kMaxShown) + "...";
  if (node.quoted || text.empty()) return '"' + text + '"';
  return text;
}

}  // namespace capsim::io::detail
