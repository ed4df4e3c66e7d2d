#include "validator.hpp"

#include "text_util.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <sstream>
#include <string_view>
#include <tuple>
#include <unordered_set>

namespace capsim::io::detail {

std::string join_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string format_number(double x) {
  if (std::isfinite(x) && std::floor(x) == x && std::fabs(x) < 1e15) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(0) << x;
    return out.str();
  }
  std::ostringstream out;
  out << std::setprecision(12) << x;
  return out.str();
}

// A name as quoted in a message: long ones are cut so a hostile document
// cannot make the message huge.
std::string quoted_name(const std::string& name) {
  constexpr std::size_t kMaxShown = 60;
  return "'" + (name.size() > kMaxShown ? name.substr(0, kMaxShown) + "..." : name) + "'";
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < kMaxListed; ++i)
    out += (out.empty() ? "" : ", ") + names[i];
  if (names.size() > kMaxListed)
    out += ", ... (" + std::to_string(names.size() - kMaxListed) + " more)";
  return out;
}

std::string expected_number(const Range& range, bool whole) {
  return std::string(whole ? "a whole number" : "a number") + range.describe();
}

std::optional<double> parse_double(const std::string& raw) {
  std::string_view text = raw;
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
    if (!text.empty() && text.front() == '-') return std::nullopt;
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  // Overflow (1e400) becomes infinite and is rejected as such; underflow
  // (1e-400) is a legitimate tiny number.
  if (ec == std::errc::result_out_of_range) return std::strtod(std::string(text).c_str(), nullptr);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

bool is_yaml_special_float(const std::string& text) {
  static constexpr const char* kSpecial[] = {".inf",  ".Inf",  ".INF",  "+.inf", "+.Inf", "+.INF",
                                             "-.inf", "-.Inf", "-.INF", ".nan",  ".NaN",  ".NAN"};
  return std::any_of(std::begin(kSpecial), std::end(kSpecial),
                     [&](const char* s) { return text == s; });
}

namespace {

// ASCII lower case: keys and names are ASCII, and this runs in the inner
// loop of the distance below (the C library's tolower costs a call per byte).
constexpr char fold(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Optimal string alignment distance (edits plus adjacent swaps), ignoring
// case. It runs once per unknown key and candidate, so a document with a
// hundred thousand unknown keys must not allocate here: the table is one
// buffer per thread, reused.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  const std::size_t n = a.size();
  const std::size_t m = b.size();
  thread_local std::vector<std::size_t> table;
  if (table.size() < (n + 1) * (m + 1)) table.resize((n + 1) * (m + 1));
  const auto d = [&](std::size_t i, std::size_t j) -> std::size_t& {
    return table[i * (m + 1) + j];
  };
  for (std::size_t i = 0; i <= n; ++i) d(i, 0) = i;
  for (std::size_t j = 0; j <= m; ++j) d(0, j) = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = fold(a[i - 1]) == fold(b[j - 1]) ? 0 : 1;
      d(i, j) = std::min({d(i - 1, j) + 1, d(i, j - 1) + 1, d(i - 1, j - 1) + cost});
      if (i > 1 && j > 1 && fold(a[i - 1]) == fold(b[j - 2]) && fold(a[i - 2]) == fold(b[j - 1]))
        d(i, j) = std::min(d(i, j), d(i - 2, j - 2) + 1);
    }
  }
  return d(n, m);
}

// Whether `text` starts with `prefix`, ignoring case.
bool starts_with_folded(const std::string& text, const std::string& prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (fold(text[i]) != fold(prefix[i])) return false;
  return true;
}

}  // namespace

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool valid_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-';
  });
}

// --- MapReader ---

MapReader::MapReader(Validator& v, const TreeNode* node, std::string path, const TreePos& fallback)
    : v_(v), path_(std::move(path)), pos_(node ? node->pos : fallback) {
  if (node && !node->is_map()) {
    v_.error(node->pos, path_, "wrong type (got " + describe(*node) + ", expected a map)");
    wrong_type_ = true;
    return;
  }
  node_ = node;
}

void MapReader::finish() {
  if (!node_) return;
  std::string expected;  // the valid keys, listed once for all unknown ones
  // Unknown keys per file: errors are listed by file and line and only the
  // first kMaxReported are shown, so past that many in one file the others
  // of this map are never shown; they are counted with a short message
  // instead of a search for the closest key each.
  std::unordered_map<int, std::size_t> unknown_in_file;
  const auto report = [&](const TreeEntry& e) {
    std::string message = "unknown key " + quoted_name(e.key);
    if (++unknown_in_file[e.key_pos.file] > kMaxReported) {
      v_.error(e.key_pos, path(e.key), std::move(message));
      return;
    }
    const std::string suggestion = closest_match(e.key, known_);
    if (!suggestion.empty()) {
      message += " (did you mean '" + suggestion + "'?)";
    } else {
      if (expected.empty()) expected = " (expected one of: " + join_names(known_) + ")";
      message += expected;
    }
    v_.error(e.key_pos, path(e.key), std::move(message));
  };
  const auto known = [&](const std::string& key) {
    return std::find(known_.begin(), known_.end(), key) != known_.end();
  };
  for (const auto& e : node_->entries)
    if (!known(e.key)) report(e);
  // Keys given as null: an unknown one is as wrong as with a value (and is
  // reported once, where a value was also given).
  std::unordered_set<std::string> reported;
  for (const auto& e : node_->nulls)
    if (!known(e.key) && !node_->find(e.key) && reported.insert(e.key).second) report(e);
}

void MapReader::missing(const std::string& key, const std::string& expected) {
  if (wrong_type_) return;
  v_.error(pos_, path(key), "missing required key (expected " + expected + ")");
}

bool MapReader::number(const std::string& key, double& out, const Range& range, bool required) {
  const TreeNode* n = get(key);
  if (!n) {
    if (required) missing(key, expected_number(range, false));
    return false;
  }
  const auto value = v_.number(*n, path(key), range);
  if (value) out = *value;
  return value.has_value();
}

bool MapReader::whole(const std::string& key, double& out, const Range& range, bool required) {
  const TreeNode* n = get(key);
  if (!n) {
    if (required) missing(key, expected_number(range, true));
    return false;
  }
  const auto value = v_.number(*n, path(key), range, true);
  if (value) out = *value;
  return value.has_value();
}

bool MapReader::date(const std::string& key, Date& out, bool required) {
  const TreeNode* n = get(key);
  if (!n) {
    if (required) missing(key, "a date YYYY-MM-DD");
    return false;
  }
  const auto value = v_.date(*n, path(key));
  if (value) out = *value;
  return value.has_value();
}

bool MapReader::text(const std::string& key, std::string& out, bool required) {
  const TreeNode* n = get(key);
  if (!n) {
    if (required) missing(key, "text");
    return false;
  }
  const auto value = v_.text(*n, path(key));
  if (value) out = *value;
  return value.has_value();
}

bool MapReader::boolean(const std::string& key, bool& out) {
  const TreeNode* n = get(key);
  if (!n) return false;
  const auto value = v_.boolean(*n, path(key));
  if (value) out = *value;
  return value.has_value();
}

// --- scalar conversions ---

std::optional<double> Validator::number(const TreeNode& n, const std::string& path,
                                        const Range& range, bool whole) {
  const std::string expected = expected_number(range, whole);
  if (!n.is_scalar() || n.quoted) {
    error(n.pos, path, "wrong type (got " + describe(n) + ", expected " + expected + ")");
    return std::nullopt;
  }
  std::optional<double> value = parse_double(n.text);
  if (!value && is_yaml_special_float(n.text)) value = kInf;
  if (!value) {
    error(n.pos, path, "not a number (got " + describe(n) + ", expected " + expected + ")");
    return std::nullopt;
  }
  if (!std::isfinite(*value)) {
    error(n.pos, path, "not a finite number (got " + describe(n) + ", expected " + expected + ")");
    return std::nullopt;
  }
  if (whole && std::floor(*value) != *value) {
    error(n.pos, path, "not a whole number (got " + describe(n) + ", expected " + expected + ")");
    return std::nullopt;
  }
  if (!range.contains(*value)) {
    error(n.pos, path, "out of range (got " + describe(n) + ", expected " + expected + ")");
    return std::nullopt;
  }
  return value;
}

std::optional<Date> Validator::date(const TreeNode& n, const std::string& path) {
  const std::string expected = "expected a date YYYY-MM-DD";
  if (!n.is_scalar()) {
    error(n.pos, path, "wrong type (got " + describe(n) + ", " + expected + ")");
    return std::nullopt;
  }
  const std::string& t = n.text;
  const bool shape =
      t.size() == 10 && t[4] == '-' && t[7] == '-' &&
      std::all_of(t.begin(), t.end(), [](unsigned char c) { return std::isdigit(c) || c == '-'; });
  if (!shape) {
    error(n.pos, path, "not a date (got " + describe(n) + ", " + expected + ")");
    return std::nullopt;
  }
  const int y = std::stoi(t.substr(0, 4));
  const unsigned m = static_cast<unsigned>(std::stoi(t.substr(5, 2)));
  const unsigned d = static_cast<unsigned>(std::stoi(t.substr(8, 2)));
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m},
                                        std::chrono::day{d}};
  if (!ymd.ok()) {
    error(n.pos, path, "not a calendar date (got " + describe(n) + ", " + expected + ")");
    return std::nullopt;
  }
  return Date(ymd);
}

std::optional<std::string> Validator::text(const TreeNode& n, const std::string& path) {
  if (!n.is_scalar()) {
    error(n.pos, path, "wrong type (got " + describe(n) + ", expected text)");
    return std::nullopt;
  }
  return n.text;
}

std::optional<bool> Validator::boolean(const TreeNode& n, const std::string& path) {
  if (n.is_scalar() && !n.quoted) {
    const std::string t = lower(n.text);
    if (t == "true" || t == "yes" || t == "on") return true;
    if (t == "false" || t == "no" || t == "off") return false;
  }
  error(n.pos, path, "wrong type (got " + describe(n) + ", expected true or false)");
  return std::nullopt;
}

std::optional<std::uint64_t> Validator::unsigned64(const TreeNode& n, const std::string& path) {
  const std::string expected = "expected a whole number in [0, 18446744073709551615]";
  if (n.is_scalar() && !n.quoted) {
    std::uint64_t value = 0;
    const std::string& t = n.text;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
    if (ec == std::errc() && end == t.data() + t.size() && !t.empty()) return value;
    if (ec == std::errc::result_out_of_range) {
      error(n.pos, path, "out of range (got " + describe(n) + ", " + expected + ")");
      return std::nullopt;
    }
  }
  error(n.pos, path, "wrong type (got " + describe(n) + ", " + expected + ")");
  return std::nullopt;
}

void Validator::unknown_name(const TreePos& pos, const std::string& path, const std::string& name,
                             const std::vector<std::string>& names, const std::string& what) {
  std::string message = "unknown " + what + " " + quoted_name(name);
  const std::string suggestion = closest_match(name, names);
  if (!suggestion.empty())
    message += " (did you mean '" + suggestion + "'?)";
  else
    message += " (expected one of: " + join_names(names) + ")";
  error(pos, path, std::move(message));
}

std::optional<int> Validator::reference(const TreeNode& n, const std::string& path,
                                        const NameIndex& names, const std::string& what) {
  const auto name = text(n, path);
  if (!name) return std::nullopt;
  const auto index = names.find(*name);
  if (!index) unknown_name(n.pos, path, *name, names.names(), what);
  return index;
}

std::string Validator::horizon_text() const {
  return "a date in [" + format_date(start_) + ", " + format_date(end_) + ")";
}

ScenarioSpec Validator::build(const TreeNode& root) {
  ScenarioSpec spec;
  MapReader top(*this, &root, "", root.pos);
  if (top.text("name", spec.name)) {
    // The name is printed and written to JSON and HDF5 as it is: no byte
    // that would cut it short (NUL) or drive a terminal (ESC).
    if (const auto at = control_character_offset(spec.name); at != std::string::npos) {
      const auto c = static_cast<unsigned char>(spec.name[at]);
      const unsigned code = c == 0xC2 ? static_cast<unsigned char>(spec.name[at + 1]) : c;
      char hex[16];
      std::snprintf(hex, sizeof hex, "U+%04X", code);
      error(top.get("name")->pos, "name",
            std::string("control character (got ") + hex + " at byte " + std::to_string(at) +
                ", expected printable text)");
    }
  }
  top.text("description", spec.description);
  read_time(top, spec.time);

  // Names first: sections refer to each other in both directions (SKU
  // perf_by_class names classes; classes name regions; orders name both).
  const TreeNode* skus = top.get("skus");
  const TreeNode* regions = top.get("regions");
  const TreeNode* classes = top.get("classes");
  skus_ = collect_names(skus, "skus", root.pos, "SKU");
  regions_ = collect_names(regions, "regions", root.pos, "region");
  classes_ = collect_names(classes, "classes", root.pos, "class");
  bool too_many = false;
  for (const auto& [node, count, path, what] :
       {std::tuple{skus, skus_.size(), "skus", "SKUs"},
        std::tuple{regions, regions_.size(), "regions", "regions"},
        std::tuple{classes, classes_.size(), "classes", "classes"}}) {
    if (count <= kMaxNames) continue;
    error(node->pos, path,
          std::string("too many ") + what + " (got " + std::to_string(count) +
              ", expected at most " + std::to_string(kMaxNames) + ")");
    too_many = true;
  }
  // Every other check would size tables by these counts; stop here.
  if (too_many) return spec;

  sku_available_.assign(skus_.size(), start_);
  if (skus && skus->is_map()) {
    for (std::size_t k = 0; k < skus->entries.size(); ++k) {
      spec.skus.push_back(read_sku(skus->entries[k]));
      sku_available_[k] = spec.skus.back().available_from;
    }
  }
  if (regions && regions->is_map())
    for (std::size_t r = 0; r < regions->entries.size(); ++r)
      spec.regions.push_back(read_region(regions->entries[r], static_cast<int>(r)));
  read_finance(top.get("finance"), root.pos, spec.finance);
  if (classes && classes->is_map())
    for (const auto& e : classes->entries) spec.classes.push_back(read_class(e));
  read_procurement(top.get("procurement"), root.pos, spec.procurement);
  spec.failures = slot(top, "failures", registries_.failures, "binomial");
  top.finish();
  return spec;
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  // About one typo per three characters (at least one, at most three), and
  // never a rewrite of the whole word (so "x" does not suggest "y").
  constexpr std::size_t kMaxWord = 64;  // the distance table is |word| x |candidate|
  if (word.size() > kMaxWord) return {};
  const std::size_t allowed = std::clamp<std::size_t>(word.size() / 3, 1, 3);
  const std::string* best = nullptr;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  // Suggestions are for typos among a handful of names, not for searching
  // thousands; and the distance is at least the difference in length.
  constexpr std::size_t kMaxCandidates = 2000;
  if (candidates.size() > kMaxCandidates) return {};
  for (const auto& c : candidates) {
    const std::size_t length_difference =
        c.size() > word.size() ? c.size() - word.size() : word.size() - c.size();
    if (length_difference > allowed) continue;
    const std::size_t d = edit_distance(word, c);
    if (d > allowed || d >= std::max(word.size(), c.size())) continue;
    if (d < best_distance) {
      best_distance = d;
      best = &c;
    }
  }
  if (best || word.size() < 3) return best ? *best : std::string();
  // Keys carry their unit ("lead_time_days"); a key written without it is
  // a likely mistake too.
  for (const auto& c : candidates)
    if (c.size() > word.size() && starts_with_folded(c, word) && c[word.size()] == '_') return c;
  return {};
}

ScenarioSpec build_spec(const TreeNode& root, const Sources& sources,
                        const models::ModelRegistries& registries,
                        std::vector<Diagnostic>& diagnostics) {
  Validator v(sources, registries, diagnostics);
  return v.build(root);
}

}  // namespace capsim::io::detail
