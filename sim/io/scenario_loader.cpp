#include "capsim/io/scenario_loader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>
#include <system_error>
#include <tuple>
#include <utility>

#include "scenario_tree.hpp"
#include "scenario_validate.hpp"
#include "text_util.hpp"

namespace capsim::io {

namespace {

namespace fs = std::filesystem;
using detail::Sources;
using detail::TreeEntry;
using detail::TreeLimits;
using detail::TreeNode;
using detail::TreePos;

constexpr std::size_t kMaxOverridePathSegments = 32;

// Reads scenario files and resolves `extend:` chains into one tree.
class DocumentResolver {
 public:
  DocumentResolver(Sources& sources, std::vector<Diagnostic>& diagnostics)
      : sources_(sources), diagnostics_(diagnostics) {}

  // `shown` is the name used in messages; `from` is the extend entry that
  // names this file (null for the scenario itself).
  std::optional<TreeNode> file(const fs::path& path, const std::string& shown,
                               const TreePos* from) {
    const std::string identity = identity_of(path);
    const auto cycle_start = std::find(chain_.begin(), chain_.end(), identity);
    if (cycle_start != chain_.end()) {
      std::string cycle;
      for (auto it = cycle_start; it != chain_.end(); ++it)
        cycle += shown_chain_[static_cast<std::size_t>(it - chain_.begin())] + " -> ";
      error(from, "extend", "extend cycle: " + cycle + shown);
      return std::nullopt;
    }
    const auto text = read(path, shown, from);
    if (!text) return std::nullopt;
    const int file = sources_.add(shown);
    files_read_.push_back(path.string());
    if (from) extended_.push_back(shown);
    chain_.push_back(identity);
    shown_chain_.push_back(shown);
    auto resolved =
        parse_and_resolve(*text, file, shown, path.parent_path(), fs::path(shown).parent_path());
    chain_.pop_back();
    shown_chain_.pop_back();
    return resolved;
  }

  // Every file read so far, as opened (the scenario and its extends).
  const std::vector<std::string>& files_read() const { return files_read_; }
  // The files read through `extend`, in the order they were read.
  const std::vector<std::string>& extended() const { return extended_; }

  std::optional<TreeNode> text(const std::string& text, const std::string& name,
                               const fs::path& base_dir) {
    const int file = sources_.add(name);
    chain_.push_back(name);
    shown_chain_.push_back(name);
    auto resolved = parse_and_resolve(text, file, name, base_dir, base_dir);
    chain_.pop_back();
    shown_chain_.pop_back();
    return resolved;
  }

 private:
  static std::string identity_of(const fs::path& path) {
    std::error_code ec;
    const fs::path canonical = fs::weakly_canonical(path, ec);
    return ec ? path.lexically_normal().string() : canonical.string();
  }

  void error(const TreePos* from, const std::string& key_path, std::string message,
             const std::string& file = {}) {
    Diagnostic d;
    if (from) {
      d.mark = sources_.mark(*from);
      d.key_path = key_path;
    } else {
      d.mark.file = file;
    }
    d.message = std::move(message);
    diagnostics_.push_back(std::move(d));
  }

  std::optional<std::string> read(const fs::path& path, const std::string& shown,
                                  const TreePos* from) {
    // Messages about an extend target name it and point at the extend line;
    // messages about the scenario itself point at the file.
    const std::string what = from ? "cannot read '" + shown + "'" : "cannot read scenario";
    const auto fail = [&](const std::string& message) {
      error(from, "extend", what + ": " + message, shown);
      return std::nullopt;
    };
    // Opened without blocking and checked on the open file: opening a FIFO
    // with no writer would otherwise wait forever (deaf to Ctrl-C, which only
    // sets a flag), and a file swapped for another between a check and the
    // open is still seen for what it is.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      const int e = errno;
      return fail(e == ENOENT || e == ENOTDIR
                      ? std::string("no such file")
                      : "cannot open file (" + std::string(std::strerror(e)) + ")");
    }
    const struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat info {};
    if (::fstat(fd, &info) != 0)
      return fail("cannot open file (" + std::string(std::strerror(errno)) + ")");
    if (S_ISDIR(info.st_mode)) return fail("is a directory (expected a YAML file)");
    // A pipe, a FIFO or a device: no size to check and no end to rely on.
    if (!S_ISREG(info.st_mode))
      return fail("not a regular file (expected a YAML file; got a " + file_type(info.st_mode) +
                  ")");
    const TreeLimits limits;
    const auto size = static_cast<std::uint64_t>(info.st_size);
    if (size > limits.max_bytes)
      return fail("file too large (got " + std::to_string(size) + " bytes, expected at most " +
                  std::to_string(limits.max_bytes) + ")");
    // Read at most one byte past the limit, so that a file that grows while
    // it is read is refused, not read forever.
    std::string text;
    char block[1 << 16];
    while (text.size() <= limits.max_bytes) {
      const ssize_t got = ::read(fd, block, sizeof block);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return fail("read error (" + std::string(std::strerror(errno)) + ")");
      if (got == 0) break;
      text.append(block, static_cast<std::size_t>(got));
    }
    if (text.size() > limits.max_bytes)
      return fail("file too large (got more than " + std::to_string(limits.max_bytes) +
                  " bytes, expected at most " + std::to_string(limits.max_bytes) + ")");
    return text;
  }

  static std::string file_type(mode_t mode) {
    if (S_ISFIFO(mode)) return "pipe or FIFO";
    if (S_ISCHR(mode)) return "character device";
    if (S_ISBLK(mode)) return "block device";
    if (S_ISSOCK(mode)) return "socket";
    return "special file";
  }

  std::optional<TreeNode> parse_and_resolve(const std::string& text, int file_index,
                                            const std::string& shown, const fs::path& dir,
                                            const fs::path& shown_dir) {
    auto doc = detail::parse_tree(text, file_index, sources_, TreeLimits{}, diagnostics_);
    if (!doc) return std::nullopt;
    if (doc->is_null()) {
      diagnostics_.push_back(
          Diagnostic{SourceMark{shown, 0, 0}, "",
                     "empty document (expected a map of scenario keys such as time:, skus:)"});
      return std::nullopt;
    }
    if (!doc->is_map()) {
      diagnostics_.push_back(Diagnostic{
          sources_.mark(doc->pos), "",
          "wrong type (got " + detail::describe(*doc) + ", expected a map of scenario keys)"});
      return std::nullopt;
    }

    TreeNode merged;
    merged.kind = TreeNode::Kind::map;
    merged.pos = doc->pos;
    if (const TreeNode* extend = doc->find("extend")) {
      for (const auto& [target, pos] : extend_targets(*extend)) {
        const fs::path relative(target);
        const std::string target_shown = (shown_dir / relative).lexically_normal().string();
        if (auto base = file(dir / relative, target_shown, &pos))
          detail::merge_tree(merged, std::move(*base));
      }
      doc->erase("extend");
    }
    detail::merge_tree(merged, std::move(*doc));
    return merged;
  }

  std::vector<std::pair<std::string, TreePos>> extend_targets(const TreeNode& extend) {
    std::vector<std::pair<std::string, TreePos>> targets;
    const auto add = [&](const TreeNode& n, const std::string& path) {
      if (n.is_scalar() && !n.text.empty()) {
        targets.emplace_back(n.text, n.pos);
      } else {
        diagnostics_.push_back(
            Diagnostic{sources_.mark(n.pos), path,
                       "wrong type (got " + detail::describe(n) + ", expected a file path)"});
      }
    };
    if (extend.is_null()) return targets;
    if (extend.is_sequence()) {
      for (std::size_t i = 0; i < extend.items.size(); ++i)
        add(extend.items[i], "extend." + std::to_string(i));
    } else {
      add(extend, "extend");
    }
    return targets;
  }

  Sources& sources_;
  std::vector<Diagnostic>& diagnostics_;
  std::vector<std::string> files_read_;
  std::vector<std::string> chain_;  // identities of the files being resolved
  std::vector<std::string> shown_chain_;
  std::vector<std::string> extended_;
};

void set_positions(TreeNode& node, const TreePos& pos) {
  node.pos = pos;
  for (auto& item : node.items) set_positions(item, pos);
  for (auto& e : node.entries) {
    e.key_pos = pos;
    set_positions(e.value, pos);
  }
}

bool is_index(const std::string& s) {
  return !s.empty() && s.size() <= 9 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

TreeNode empty_map(const TreePos& pos) {
  TreeNode n;
  n.kind = TreeNode::Kind::map;
  n.pos = pos;
  return n;
}

// Applies `--set key.path=value` overrides, in order, on top of the resolved
// document. A value replaces what is at its path whole (a map value does not
// merge); a null value removes the key (recorded, so that an unknown one is
// still reported).
void apply_overrides(TreeNode& root, const std::vector<std::string>& overrides, Sources& sources,
                     std::vector<Diagnostic>& diagnostics) {
  if (overrides.empty()) return;
  const int file = sources.add("--set");
  for (std::size_t i = 0; i < overrides.size(); ++i) {
    const std::string& arg = overrides[i];
    const TreePos pos{file, static_cast<int>(i) + 1, 1};
    const auto fail = [&](const std::string& key_path, const std::string& message) {
      diagnostics.push_back(Diagnostic{sources.mark(pos), key_path, message});
    };

    const auto eq = arg.find('=');
    if (eq == std::string::npos) {
      fail("", "bad --set argument (got '" + arg + "', expected key.path=value)");
      continue;
    }
    const std::string key = arg.substr(0, eq);
    std::vector<std::string> segments;
    {
      std::string segment;
      std::istringstream in(key);
      while (std::getline(in, segment, '.')) segments.push_back(segment);
      if (!key.empty() && key.back() == '.') segments.emplace_back();
    }
    if (segments.empty() ||
        std::any_of(segments.begin(), segments.end(), [](const auto& s) { return s.empty(); })) {
      fail("", "bad --set argument (got '" + arg +
                   "', expected key.path=value with a key "
                   "path like time.paths)");
      continue;
    }
    if (segments.size() > kMaxOverridePathSegments) {
      fail(key, "key path too long (got " + std::to_string(segments.size()) +
                    " parts, expected at most " + std::to_string(kMaxOverridePathSegments) + ")");
      continue;
    }
    if (segments.front() == "extend") {
      fail(key, "extend cannot be set with --set (overrides apply after extend)");
      continue;
    }

    // The value is YAML, so maps, lists and quoted strings work on the
    // command line; its errors point at the override, not inside it.
    std::vector<Diagnostic> value_errors;
    auto value = detail::parse_tree(arg.substr(eq + 1), file, sources, TreeLimits{}, value_errors);
    if (!value) {
      for (auto& d : value_errors) {
        d.mark = sources.mark(pos);
        d.key_path = key;
        d.message = "in --set '" + arg + "': " + d.message;
        diagnostics.push_back(std::move(d));
      }
      continue;
    }
    set_positions(*value, pos);

    TreeNode* node = &root;
    for (std::size_t s = 0; s < segments.size(); ++s) {
      const std::string& segment = segments[s];
      const bool last = s + 1 == segments.size();
      std::string walked;
      for (std::size_t j = 0; j < s; ++j) walked += (j ? "." : "") + segments[j];
      if (node->is_null()) *node = empty_map(pos);

      if (node->is_map()) {
        TreeNode* next = node->find(segment);
        if (last) {
          if (value->is_null()) {
            node->erase(segment);
            node->nulls.push_back(TreeEntry{segment, pos, std::move(*value)});
          } else if (next) {
            *next = std::move(*value);
          } else {
            node->entries.push_back(TreeEntry{segment, pos, std::move(*value)});
          }
          break;
        }
        if (!next) {
          // "orders.0.date=..." on a missing list starts the list.
          TreeNode created = empty_map(pos);
          if (segments[s + 1] == "0") created.kind = TreeNode::Kind::sequence;
          node->entries.push_back(TreeEntry{segment, pos, std::move(created)});
          next = &node->entries.back().value;
        }
        node = next;
      } else if (node->is_sequence()) {
        const std::size_t size = node->items.size();
        if (!is_index(segment)) {
          fail(key, "not a list index (got '" + segment + "', expected 0 to " +
                        std::to_string(size) + ": " + walked + " is a list)");
          break;
        }
        const std::size_t index = std::stoul(segment);
        if (index > size) {
          fail(key, "list index out of range (got " + segment + ", expected 0 to " +
                        std::to_string(size) + ": " + walked + " has " + std::to_string(size) +
                        " items)");
          break;
        }
        // index == size appends an item.
        if (index == size) node->items.push_back(last ? TreeNode{} : empty_map(pos));
        if (last) {
          node->items[index] = std::move(*value);
          break;
        }
        node = &node->items[index];
      } else {
        fail(key, "cannot set a key inside " + detail::describe(*node) + " (" + walked +
                      " is not a map or list)");
        break;
      }
    }
  }
}

// Diagnostics sorted by file (in the order files were first named), then line
// and column, so they read top to bottom; errors at the same place keep the
// order they were found in. A document with thousands of errors (a wrong
// file, or a generated one) is cut to the first kMaxReported and a count of
// the rest, so the report stays readable and quick to print: only those are
// sorted, by their positions alone, not the whole list.
void sort_diagnostics(std::vector<Diagnostic>& diagnostics) {
  std::vector<std::string> files;
  struct Key {
    std::ptrdiff_t file;
    int line, column;
    std::size_t index;
    bool operator<(const Key& o) const {
      return std::tie(file, line, column, index) < std::tie(o.file, o.line, o.column, o.index);
    }
  };
  std::vector<Key> keys;
  keys.reserve(diagnostics.size());
  for (std::size_t i = 0; i < diagnostics.size(); ++i) {
    const SourceMark& m = diagnostics[i].mark;
    auto it = std::find(files.begin(), files.end(), m.file);
    if (it == files.end()) it = files.insert(files.end(), m.file);
    keys.push_back(Key{it - files.begin(), m.line, m.column, i});
  }
  const std::size_t shown = std::min(keys.size(), detail::kMaxReported);
  std::partial_sort(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(shown), keys.end());
  std::vector<Diagnostic> sorted;
  sorted.reserve(shown + 1);
  for (std::size_t i = 0; i < shown; ++i) sorted.push_back(std::move(diagnostics[keys[i].index]));
  if (diagnostics.size() > shown) {
    const std::size_t more = diagnostics.size() - shown;
    sorted.push_back(
        Diagnostic{SourceMark{sorted.back().mark.file, 0, 0}, "",
                   std::to_string(more) + " more errors not shown (fix the ones above first)"});
  }
  diagnostics = std::move(sorted);
}

ScenarioSpec finish(std::optional<TreeNode> root, const std::string& shown,
                    const DocumentResolver& resolver, Sources& sources,
                    const models::ModelRegistries& registries,
                    const std::vector<std::string>& overrides,
                    std::vector<Diagnostic>& diagnostics) {
  if (!root) {
    sort_diagnostics(diagnostics);
    throw InputError(std::move(diagnostics));
  }
  apply_overrides(*root, overrides, sources, diagnostics);
  detail::strip_nulls(*root);
  if (!diagnostics.empty()) {
    sort_diagnostics(diagnostics);
    throw InputError(std::move(diagnostics));
  }

  ScenarioSpec spec = detail::build_spec(*root, sources, registries, diagnostics);
  if (!diagnostics.empty()) {
    sort_diagnostics(diagnostics);
    throw InputError(std::move(diagnostics));
  }
  // A file name may hold any bytes; the name is written to terminals, JSON
  // and UTF-8 strings in HDF5.
  if (spec.name.empty()) spec.name = detail::printable_utf8(fs::path(shown).stem().string());
  spec.source_file = shown;
  spec.input_files = resolver.files_read();
  spec.extends = resolver.extended();
  spec.overrides = overrides;
  spec.resolved_yaml = detail::emit_tree(*root);
  return spec;
}

}  // namespace

ScenarioSpec load_scenario(const std::string& path, const models::ModelRegistries& registries,
                           const std::vector<std::string>& overrides) {
  Sources sources;
  std::vector<Diagnostic> diagnostics;
  DocumentResolver resolver(sources, diagnostics);
  auto root = resolver.file(fs::path(path), path, nullptr);
  return finish(std::move(root), path, resolver, sources, registries, overrides, diagnostics);
}

ScenarioSpec load_scenario_text(const std::string& text, const std::string& name,
                                const std::string& base_dir,
                                const models::ModelRegistries& registries,
                                const std::vector<std::string>& overrides) {
  Sources sources;
  std::vector<Diagnostic> diagnostics;
  DocumentResolver resolver(sources, diagnostics);
  auto root = resolver.text(text, name, fs::path(base_dir));
  return finish(std::move(root), name, resolver, sources, registries, overrides, diagnostics);
}

}  // namespace capsim::io
