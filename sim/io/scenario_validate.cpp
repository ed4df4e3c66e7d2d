#include "scenario_validate.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <limits>
#include <optional>
#include <sstream>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace capsim::io::detail {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kShareTolerance = 1e-6;  // region shares sum, seasonality means
// Most SKUs, regions or classes a scenario may name: per-path state grows with
// their products (regions x SKUs, classes x regions), so a document naming a
// hundred thousand of each is refused here rather than exhausting memory.
constexpr std::size_t kMaxNames = 1000;
// "expected one of" lists longer than this are cut.
constexpr std::size_t kMaxListed = 20;

using models::ParamInfo;
using models::ParamType;

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

std::string format_date(const Date& date) {
  const std::chrono::year_month_day ymd(date);
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return text;
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

// The names of one section (SKUs, regions or classes) in document order, with
// a hash so that references to them are looked up in constant time.
class NameIndex {
 public:
  NameIndex& operator=(std::vector<std::string> names) {
    names_ = std::move(names);
    index_.clear();
    for (std::size_t i = 0; i < names_.size(); ++i) index_.emplace(names_[i], static_cast<int>(i));
    return *this;
  }
  std::optional<int> find(const std::string& name) const {
    const auto it = index_.find(name);
    if (it == index_.end()) return std::nullopt;
    return it->second;
  }
  const std::vector<std::string>& names() const { return names_; }
  std::size_t size() const { return names_.size(); }
  const std::string& operator[](std::size_t i) const { return names_[i]; }

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, int> index_;
};

// A closed, open or half-open interval; infinite ends mean "no bound".
struct Range {
  double lo = -kInf;
  double hi = kInf;
  bool lo_open = false;
  bool hi_open = false;

  static Range at_least(double lo) { return Range{lo, kInf, false, false}; }
  static Range above(double lo) { return Range{lo, kInf, true, false}; }
  static Range closed(double lo, double hi) { return Range{lo, hi, false, false}; }
  static Range left_open(double lo, double hi) { return Range{lo, hi, true, false}; }

  bool contains(double x) const {
    const bool lo_ok = lo_open ? x > lo : x >= lo;
    const bool hi_ok = hi_open ? x < hi : x <= hi;
    return lo_ok && hi_ok;
  }

  std::string describe() const {
    const bool has_lo = std::isfinite(lo);
    const bool has_hi = std::isfinite(hi);
    if (has_lo && has_hi)
      return std::string(" in ") + (lo_open ? "(" : "[") + format_number(lo) + ", " +
             format_number(hi) + (hi_open ? ")" : "]");
    if (has_lo) return std::string(lo_open ? " > " : " >= ") + format_number(lo);
    if (has_hi) return std::string(hi_open ? " < " : " <= ") + format_number(hi);
    return "";
  }
};

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

// Optimal string alignment distance (edits plus adjacent swaps).
std::size_t edit_distance(const std::string& a, const std::string& b) {
  const std::size_t n = a.size();
  const std::size_t m = b.size();
  // One flat (n + 1) x (m + 1) table: this runs once per unknown key.
  std::vector<std::size_t> table((n + 1) * (m + 1));
  const auto d = [&](std::size_t i, std::size_t j) -> std::size_t& {
    return table[i * (m + 1) + j];
  };
  for (std::size_t i = 0; i <= n; ++i) d(i, 0) = i;
  for (std::size_t j = 0; j <= m; ++j) d(0, j) = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d(i, j) = std::min({d(i - 1, j) + 1, d(i, j - 1) + 1, d(i - 1, j - 1) + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d(i, j) = std::min(d(i, j), d(i - 2, j - 2) + 1);
    }
  }
  return d(n, m);
}

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

// A registry's models and their parameters, without the interface type.
using ModelList = std::vector<std::pair<std::string, const std::vector<ParamInfo>*>>;

template <class Interface>
ModelList model_list(const models::Registry<Interface>& registry) {
  ModelList out;
  for (const auto& e : registry.entries()) out.emplace_back(e.name, &e.params);
  return out;
}

class Validator;

// The keys of one map: hands out values by key, remembers which keys the
// schema knows, and reports every other key as unknown. An absent map (null
// pointer) reads as empty, so missing sections produce "missing key" errors
// for their required keys and defaults for the rest.
class MapReader {
 public:
  MapReader(Validator& v, const TreeNode* node, std::string path, const TreePos& fallback);
  MapReader(const MapReader&) = delete;
  MapReader& operator=(const MapReader&) = delete;
  ~MapReader() = default;

  const TreeNode* get(const std::string& key) {
    known_.push_back(key);
    return node_ ? node_->find(key) : nullptr;
  }
  bool has(const std::string& key) const { return node_ && node_->find(key); }
  std::string path(const std::string& key) const { return join_path(path_, key); }
  const std::string& path() const { return path_; }
  const TreePos& pos() const { return pos_; }
  void finish();

  // Typed reads. Each returns true when the key is present and valid (and then
  // writes `out`); reports a missing required key.
  bool number(const std::string& key, double& out, const Range& range, bool required = false);
  bool whole(const std::string& key, double& out, const Range& range, bool required = false);
  bool date(const std::string& key, Date& out, bool required = false);
  bool text(const std::string& key, std::string& out, bool required = false);
  bool boolean(const std::string& key, bool& out);
  void missing(const std::string& key, const std::string& expected);

 private:
  Validator& v_;
  const TreeNode* node_ = nullptr;
  bool wrong_type_ = false;  // already reported; missing keys would only repeat it
  std::string path_;
  TreePos pos_;
  std::vector<std::string> known_;
};

class Validator {
 public:
  Validator(const Sources& sources, const models::ModelRegistries& registries,
            std::vector<Diagnostic>& diagnostics)
      : sources_(sources), registries_(registries), diagnostics_(diagnostics) {}

  ScenarioSpec build(const TreeNode& root);

  void error(const TreePos& pos, const std::string& path, std::string message) {
    diagnostics_.push_back(Diagnostic{sources_.mark(pos), path, std::move(message)});
  }

  // Scalar conversions: report and return nullopt on a wrong value.
  std::optional<double> number(const TreeNode& n, const std::string& path, const Range& range,
                               bool whole = false);
  std::optional<Date> date(const TreeNode& n, const std::string& path);
  std::optional<std::string> text(const TreeNode& n, const std::string& path);
  std::optional<bool> boolean(const TreeNode& n, const std::string& path);
  std::optional<std::uint64_t> unsigned64(const TreeNode& n, const std::string& path);

  // A name that must be one of `names` (what: "SKU", "region", "class").
  std::optional<int> reference(const TreeNode& n, const std::string& path, const NameIndex& names,
                               const std::string& what);
  void unknown_name(const TreePos& pos, const std::string& path, const std::string& name,
                    const std::vector<std::string>& names, const std::string& what);

 private:
  void read_time(MapReader& top, TimeSpec& time);
  std::vector<std::string> collect_names(const TreeNode* node, const std::string& path,
                                         const TreePos& fallback, const std::string& what);
  SkuSpec read_sku(const TreeEntry& entry);
  RegionSpec read_region(const TreeEntry& entry, int index);
  void read_power(MapReader& m, RegionSpec& region);
  void read_finance(const TreeNode* node, const TreePos& fallback, FinanceSpec& finance);
  ClassSpec read_class(const TreeEntry& entry);
  template <std::size_t N>
  void read_profile(MapReader& m, const std::string& key, std::array<double, N>& out);
  void read_procurement(const TreeNode* node, const TreePos& fallback, ProcurementSpec& out);

  // A map whose keys must be in `names` (what: "SKU", ...) and whose values
  // are numbers in `range`; calls fn(index, entry, value) for each valid
  // entry. Returns whether every entry was valid.
  template <class F>
  bool name_map(const TreeNode* node, const std::string& path, const NameIndex& names,
                const std::string& what, const Range& range, bool whole, F&& fn) {
    if (!node) return true;
    if (!node->is_map()) {
      error(node->pos, path,
            "wrong type (got " + describe(*node) + ", expected a map of " + what + " name -> " +
                expected_number(range, whole) + ")");
      return false;
    }
    bool all_valid = true;
    for (const auto& e : node->entries) {
      const std::string entry_path = join_path(path, e.key);
      const auto index = names.find(e.key);
      if (!index) {
        unknown_name(e.key_pos, entry_path, e.key, names.names(), what);
        all_valid = false;
        continue;
      }
      const auto value = number(e.value, entry_path, range, whole);
      if (!value) {
        all_valid = false;
        continue;
      }
      fn(*index, e, *value);
    }
    return all_valid;
  }

  // One of `options`; returns its index.
  std::optional<std::size_t> choice(const TreeNode& n, const std::string& path,
                                    const std::vector<std::string>& options) {
    const auto t = text(n, path);
    if (!t) return std::nullopt;
    const auto it = std::find(options.begin(), options.end(), *t);
    if (it != options.end()) return static_cast<std::size_t>(it - options.begin());
    std::string message = "unknown value (got " + describe(n) + ", ";
    const std::string suggestion = closest_match(*t, options);
    if (!suggestion.empty()) message += "did you mean '" + suggestion + "'? ";
    message += "expected one of: " + join_names(options) + ")";
    error(n.pos, path, std::move(message));
    return std::nullopt;
  }

  template <class Interface>
  ModelConfig slot(MapReader& m, const std::string& key,
                   const models::Registry<Interface>& registry, const std::string& default_model) {
    return read_slot(m.get(key), m.path(key), m.pos(), model_list(registry), default_model);
  }
  ModelConfig read_slot(const TreeNode* node, const std::string& path, const TreePos& fallback,
                        const ModelList& models, const std::string& default_model);
  void read_param(const TreeNode& n, const std::string& path, const ParamInfo& info,
                  ModelConfig& config);

  bool in_horizon(const Date& d) const { return has_start_ && d >= start_ && d < end_; }
  std::string horizon_text() const;

  const Sources& sources_;
  const models::ModelRegistries& registries_;
  std::vector<Diagnostic>& diagnostics_;

  bool has_start_ = false;
  Date start_{};
  Date end_{};
  NameIndex skus_;
  NameIndex regions_;
  NameIndex classes_;
  std::vector<Date> sku_available_;  // per SKU, for order dates
};

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
  for (const auto& e : node_->entries) {
    if (std::find(known_.begin(), known_.end(), e.key) != known_.end()) continue;
    const std::string suggestion = closest_match(e.key, known_);
    std::string message = "unknown key " + quoted_name(e.key);
    if (!suggestion.empty())
      message += " (did you mean '" + suggestion + "'?)";
    else
      message += " (expected one of: " + join_names(known_) + ")";
    v_.error(e.key_pos, path(e.key), std::move(message));
  }
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

// --- sections ---

void Validator::read_time(MapReader& top, TimeSpec& time) {
  MapReader m(*this, top.get("time"), "time", top.pos());
  const bool start_ok = m.date("start", time.start, true);
  double months = time.horizon_months;
  const bool months_ok =
      m.whole("horizon_months", months, Range::closed(1, 240)) || !m.has("horizon_months");
  time.horizon_months = static_cast<int>(months);
  // Same calendar arithmetic as the engine's step count: a day past the end
  // of the target month rolls over into the next one.
  start_ = time.start;
  end_ = Date(std::chrono::year_month_day(start_) + std::chrono::months(time.horizon_months));
  has_start_ = start_ok && months_ok;

  if (const TreeNode* n = m.get("step")) {
    constexpr double kHours[] = {1.0, 24.0, 168.0};
    if (const auto i = choice(*n, m.path("step"), {"1h", "1d", "1w"})) time.step_hours = kHours[*i];
  }
  double paths = static_cast<double>(time.paths);
  if (m.whole("paths", paths, Range::closed(1, 1e8))) time.paths = static_cast<std::int64_t>(paths);
  if (const TreeNode* n = m.get("seed"))
    if (const auto seed = unsigned64(*n, m.path("seed"))) time.seed = *seed;
  m.boolean("deterministic", time.deterministic);
  m.finish();
}

std::vector<std::string> Validator::collect_names(const TreeNode* node, const std::string& path,
                                                  const TreePos& fallback,
                                                  const std::string& what) {
  const std::string expected = "a map of " + what + " name -> " + what + " (at least one)";
  std::vector<std::string> names;
  if (!node) {
    error(fallback, path, "missing required key (expected " + expected + ")");
    return names;
  }
  if (!node->is_map()) {
    error(node->pos, path, "wrong type (got " + describe(*node) + ", expected " + expected + ")");
    return names;
  }
  if (node->entries.empty())
    error(node->pos, path, "no " + what + " (got {}, expected " + expected + ")");
  for (const auto& e : node->entries) {
    // Names become key paths for --set and labels in outputs, so no dots or spaces.
    if (!valid_name(e.key))
      error(e.key_pos, join_path(path, e.key),
            "invalid name (got " + quoted_name(e.key) + ", expected letters, digits, '_' or '-')");
    names.push_back(e.key);
  }
  return names;
}

SkuSpec Validator::read_sku(const TreeEntry& entry) {
  SkuSpec s;
  s.name = entry.key;
  MapReader m(*this, &entry.value, join_path("skus", entry.key), entry.key_pos);
  m.number("perf_h100e", s.perf_h100e, Range::left_open(0, 100));
  name_map(m.get("perf_by_class"), m.path("perf_by_class"), classes_, "class",
           Range::left_open(0, 100), false,
           [&](int, const TreeEntry& e, double v) { s.perf_by_class[e.key] = v; });
  m.number("power_kw", s.power_kw, Range::left_open(0, 100), true);
  m.number("idle_fraction", s.idle_fraction, Range::closed(0, 1));
  m.number("capex_usd", s.capex_usd, Range::closed(0, 1e8), true);
  s.available_from = start_;
  m.date("available_from", s.available_from);
  m.number("lead_time_days", s.lead_time_days, Range::closed(0, 3650));
  m.number("afr", s.afr, Range::closed(0, 10));
  m.number("repair_days", s.repair_days, Range::left_open(0, 3650));
  m.number("life_years", s.life_years, Range::left_open(0, 50));
  m.finish();
  return s;
}

void Validator::read_power(MapReader& m, RegionSpec& region) {
  const std::string path = m.path("power_mw");
  const TreeNode* n = m.get("power_mw");
  if (!n) {
    m.missing("power_mw", "a number >= 0 (MW), or a list of {from: date, mw: number >= 0}");
    return;
  }
  if (n->is_scalar()) {
    const auto mw = number(*n, path, Range::at_least(0));
    if (!mw) return;
    region.power_mw.push_back(PowerStep{start_, *mw});
    if (*mw <= 0) error(n->pos, path, "no power (got 0, expected a number > 0)");
    return;
  }
  if (!n->is_sequence() || n->items.empty()) {
    error(n->pos, path,
          "wrong type (got " + describe(*n) +
              ", expected a number >= 0, or a non-empty list of {from: date, mw: number >= 0})");
    return;
  }
  bool all_valid = true;
  bool any_power = false;
  std::optional<Date> previous;  // as written, so a first date after start is still checked
  for (std::size_t i = 0; i < n->items.size(); ++i) {
    const TreeNode& item = n->items[i];
    MapReader s(*this, &item, join_path(path, std::to_string(i)), item.pos);
    PowerStep step;
    step.from = start_;
    const bool has_from = s.date("from", step.from, i > 0);
    if (!s.number("mw", step.mw, Range::at_least(0), true)) all_valid = false;
    if (step.mw > 0) any_power = true;
    s.finish();
    if (!has_from && i > 0) all_valid = false;
    if (has_from) {
      if (previous && step.from <= *previous) {
        error(item.find("from")->pos, s.path("from"),
              "dates not increasing (got " + format_date(step.from) + ", expected a date after " +
                  format_date(*previous) + ")");
      }
      previous = step.from;
    }
    if (i == 0 && step.from > start_) step.from = start_;
    region.power_mw.push_back(step);
  }
  if (all_valid && !any_power)
    error(n->pos, path, "no power (got 0 MW in every step, expected some mw > 0)");
}

RegionSpec Validator::read_region(const TreeEntry& entry, int index) {
  RegionSpec r;
  r.name = entry.key;
  MapReader m(*this, &entry.value, join_path("regions", entry.key), entry.key_pos);
  read_power(m, r);
  m.number("pue", r.pue, Range::closed(1, 3));
  m.number("price_jpy_per_kwh", r.price_jpy_per_kwh, Range::at_least(0));
  m.number("price_usd_per_kwh", r.price_usd_per_kwh, Range::at_least(0));
  const std::string price_expected =
      "exactly one of price_jpy_per_kwh and price_usd_per_kwh, a number >= 0";
  if (m.has("price_jpy_per_kwh") && m.has("price_usd_per_kwh")) {
    error(m.get("price_usd_per_kwh")->pos, m.path("price_usd_per_kwh"),
          "two electricity prices (got price_jpy_per_kwh and price_usd_per_kwh, expected " +
              price_expected + ")");
  } else if (!m.has("price_jpy_per_kwh") && !m.has("price_usd_per_kwh")) {
    m.missing("price_usd_per_kwh", price_expected);
  }
  r.price_model = slot(m, "electricity_price", registries_.price, "constant");
  m.number("carbon_g_per_kwh", r.carbon_g_per_kwh, Range::closed(0, 2000));
  m.number("opex_usd_per_gpu_month", r.opex_usd_per_gpu_month, Range::at_least(0));
  m.number("opex_usd_per_mw_month", r.opex_usd_per_mw_month, Range::at_least(0));
  r.initial_fleet.assign(skus_.size(), 0.0);
  name_map(
      m.get("initial_fleet"), m.path("initial_fleet"), skus_, "SKU", Range::at_least(0), true,
      [&](int k, const TreeEntry&, double v) { r.initial_fleet[static_cast<std::size_t>(k)] = v; });
  r.outages = slot(m, "outages", registries_.outages, "none");

  if (const TreeNode* n = m.get("scheduled_outages")) {
    const std::string path = m.path("scheduled_outages");
    if (!n->is_sequence()) {
      error(n->pos, path,
            "wrong type (got " + describe(*n) + ", expected a list of {start, days, fraction})");
    } else {
      for (std::size_t i = 0; i < n->items.size(); ++i) {
        const TreeNode& item = n->items[i];
        MapReader o(*this, &item, join_path(path, std::to_string(i)), item.pos);
        ScheduledOutage outage;
        if (o.date("start", outage.start, true) && has_start_ && !in_horizon(outage.start)) {
          error(item.find("start")->pos, o.path("start"),
                "outside the horizon (got " + format_date(outage.start) + ", expected " +
                    horizon_text() + ")");
        }
        o.number("days", outage.days, Range::above(0), true);
        o.number("fraction", outage.fraction, Range::closed(0, 1), true);
        o.finish();
        r.scheduled_outages.push_back(outage);
      }
    }
  }

  name_map(
      m.get("spill_to"), m.path("spill_to"), regions_, "region", Range::left_open(0, 1), false,
      [&](int j, const TreeEntry& e, double v) {
        if (j == index)
          error(e.key_pos, m.path("spill_to") + "." + e.key,
                "a region cannot spill to itself (got '" + e.key + "', expected another region)");
        else
          r.spill_to.push_back(SpillTarget{j, v});
      });
  m.finish();
  return r;
}

void Validator::read_finance(const TreeNode* node, const TreePos& fallback, FinanceSpec& f) {
  MapReader m(*this, node, "finance", fallback);
  m.number("budget_usd", f.budget_usd, Range::above(0));
  if (const TreeNode* n = m.get("capex_timing")) {
    if (const auto i = choice(*n, m.path("capex_timing"), {"at_order", "at_delivery"}))
      f.capex_timing = *i == 0 ? CapexTiming::at_order : CapexTiming::at_delivery;
  }
  m.number("usdjpy", f.usdjpy, Range::left_open(0, 10000));
  f.fx_model = slot(m, "fx", registries_.fx, "constant");
  m.number("discount_rate", f.discount_rate, Range::closed(-0.5, 1));
  m.finish();
}

template <std::size_t N>
void Validator::read_profile(MapReader& m, const std::string& key, std::array<double, N>& out) {
  const TreeNode* n = m.get(key);
  if (!n) return;
  const std::string path = m.path(key);
  const std::string expected =
      "a list of " + std::to_string(N) + " numbers >= 0 with mean 1 (within 1e-6)";
  if (!n->is_sequence()) {
    error(n->pos, path, "wrong type (got " + describe(*n) + ", expected " + expected + ")");
    return;
  }
  if (n->items.size() != N) {
    error(n->pos, path,
          "wrong length (got " + std::to_string(n->items.size()) + " numbers, expected " +
              expected + ")");
    return;
  }
  std::array<double, N> values{};
  bool all_valid = true;
  for (std::size_t i = 0; i < N; ++i) {
    const auto x = number(n->items[i], join_path(path, std::to_string(i)), Range::at_least(0));
    if (x)
      values[i] = *x;
    else
      all_valid = false;
  }
  if (!all_valid) return;
  double sum = 0;
  for (double x : values) sum += x;
  const double mean = sum / static_cast<double>(N);
  if (std::fabs(mean - 1.0) > kShareTolerance) {
    error(n->pos, path,
          "mean is not 1 (got mean " + format_number(mean) + ", expected " + expected + ")");
    return;
  }
  out = values;
}

ClassSpec Validator::read_class(const TreeEntry& entry) {
  ClassSpec c;
  c.name = entry.key;
  MapReader m(*this, &entry.value, join_path("classes", entry.key), entry.key_pos);
  std::optional<WorkloadKind> kind;
  if (const TreeNode* n = m.get("kind")) {
    if (const auto i = choice(*n, m.path("kind"), {"inference", "training"}))
      kind = *i == 0 ? WorkloadKind::inference : WorkloadKind::training;
  } else {
    m.missing("kind", "one of: inference, training");
  }
  if (kind) c.kind = *kind;
  m.number("base_demand_h100e", c.base_demand_h100e, Range::at_least(0), true);

  c.region_share.assign(regions_.size(), 0.0);
  if (const TreeNode* n = m.get("region_share")) {
    const bool all_valid =
        name_map(n, m.path("region_share"), regions_, "region", Range::closed(0, 1), false,
                 [&](int r, const TreeEntry&, double v) {
                   c.region_share[static_cast<std::size_t>(r)] = v;
                 });
    double sum = 0;
    for (double s : c.region_share) sum += s;
    if (all_valid && n->is_map() && std::fabs(sum - 1.0) > kShareTolerance)
      error(n->pos, m.path("region_share"),
            "shares do not sum to 1 (got " + format_number(sum) + ", expected 1 within 1e-6)");
  } else if (regions_.size() == 1) {
    c.region_share[0] = 1.0;
  } else if (regions_.size() > 1) {
    m.missing("region_share", "a map of region -> share in [0, 1] summing to 1");
  }

  c.growth = slot(m, "growth", registries_.growth, "constant");
  c.noise = slot(m, "noise", registries_.noise, "none");
  c.shocks = slot(m, "shocks", registries_.shocks, "none");
  c.hourly.fill(1.0);
  c.weekly.fill(1.0);
  read_profile(m, "hourly", c.hourly);
  read_profile(m, "weekly", c.weekly);

  if (const TreeNode* n = m.get("peak_factor")) {
    if (const auto x = number(*n, m.path("peak_factor"), Range::closed(1, 10))) c.peak_factor = *x;
    if (kind == WorkloadKind::training)
      error(n->pos, m.path("peak_factor"),
            "only for inference classes (got peak_factor on a training class, expected no "
            "peak_factor)");
  }
  m.number("residency", c.residency, Range::closed(0, 1));
  double wait_days = 7.0;
  if (const TreeNode* n = m.get("max_wait_days")) {
    if (const auto x = number(*n, m.path("max_wait_days"), Range::left_open(0, 3650)))
      wait_days = *x;
    if (kind == WorkloadKind::inference)
      error(n->pos, m.path("max_wait_days"),
            "only for training classes (got max_wait_days on an inference class, expected no "
            "max_wait_days)");
  }
  if (c.kind == WorkloadKind::training) c.max_wait_hours = 24.0 * wait_days;
  double priority = 0;
  if (m.whole("priority", priority, Range::closed(-1e6, 1e6)))
    c.priority = static_cast<int>(priority);
  m.number("revenue_usd_per_h100e_gpuh", c.revenue_usd_per_h100e_gpuh, Range::at_least(0));
  m.number("penalty_usd_per_h100e_gpuh", c.penalty_usd_per_h100e_gpuh, Range::at_least(0));
  m.finish();
  return c;
}

void Validator::read_procurement(const TreeNode* node, const TreePos& fallback,
                                 ProcurementSpec& out) {
  MapReader m(*this, node, "procurement", fallback);
  if (const TreeNode* n = m.get("orders")) {
    const std::string path = m.path("orders");
    if (!n->is_sequence()) {
      error(n->pos, path,
            "wrong type (got " + describe(*n) + ", expected a list of {date, region, sku, count})");
    } else {
      for (std::size_t i = 0; i < n->items.size(); ++i) {
        const TreeNode& item = n->items[i];
        MapReader o(*this, &item, join_path(path, std::to_string(i)), item.pos);
        OrderSpec order;
        const bool date_ok = o.date("date", order.date, true);
        if (date_ok && has_start_ && !in_horizon(order.date)) {
          error(item.find("date")->pos, o.path("date"),
                "outside the horizon (got " + format_date(order.date) + ", expected " +
                    horizon_text() + ")");
        }
        if (const TreeNode* r = o.get("region")) {
          if (const auto index = reference(*r, o.path("region"), regions_, "region"))
            order.region = *index;
        } else {
          o.missing("region", "a region name");
        }
        if (const TreeNode* k = o.get("sku")) {
          if (const auto index = reference(*k, o.path("sku"), skus_, "SKU")) order.sku = *index;
        } else {
          o.missing("sku", "a SKU name");
        }
        o.whole("count", order.count, Range::at_least(0), true);
        o.finish();
        if (date_ok && order.sku >= 0) {
          const Date available = sku_available_[static_cast<std::size_t>(order.sku)];
          if (order.date < available) {
            error(item.find("date")->pos, o.path("date"),
                  "before SKU '" + skus_[static_cast<std::size_t>(order.sku)] +
                      "' is available (got " + format_date(order.date) +
                      ", expected a date on or after " + format_date(available) + ")");
          }
        }
        out.orders.push_back(order);
      }
    }
  }
  out.policy = slot(m, "policy", registries_.procurement, "none");

  MapReader s(*this, m.get("supply"), m.path("supply"), m.pos());
  SupplySpec& supply = out.supply;
  s.number("late_probability", supply.late_probability, Range::closed(0, 1));
  s.number("mean_delay_days", supply.mean_delay_days, Range::at_least(0));
  s.number("max_delay_days", supply.max_delay_days, Range::at_least(0));
  supply.max_per_quarter.assign(skus_.size(), kInf);
  name_map(s.get("max_per_quarter"), s.path("max_per_quarter"), skus_, "SKU", Range::at_least(0),
           false, [&](int k, const TreeEntry&, double v) {
             supply.max_per_quarter[static_cast<std::size_t>(k)] = v;
           });
  s.finish();
  m.finish();
}

std::string param_expectation(const ParamInfo& p) {
  const std::string unit = p.unit.empty() ? "" : " (" + p.unit + ")";
  switch (p.type) {
    case ParamType::number:
      return expected_number(Range::closed(p.min, p.max), false) + unit;
    case ParamType::text:
      return "text";
    case ParamType::names:
      return "a list of " + (p.unit.empty() ? std::string("names") : p.unit);
    case ParamType::table:
      return "a non-empty list of [x, y] rows, x increasing, y" +
             Range::closed(p.min, p.max).describe() + unit;
  }
  return "";
}

ModelConfig Validator::read_slot(const TreeNode* node, const std::string& path,
                                 const TreePos& fallback, const ModelList& models,
                                 const std::string& default_model) {
  ModelConfig config;
  config.mark = sources_.mark(node ? node->pos : fallback);
  std::vector<std::string> names;
  for (const auto& entry : models) names.push_back(entry.first);
  const auto find_params = [&](const std::string& name) -> const std::vector<ParamInfo>* {
    for (const auto& entry : models)
      if (entry.first == name) return entry.second;
    return nullptr;
  };

  const TreeNode* model_node = node;
  std::string model_path = path;
  if (!node) {
    config.model = default_model;
  } else if (node->is_map()) {
    model_node = node->find("model");
    model_path = join_path(path, "model");
    if (!model_node) {
      error(node->pos, model_path,
            "missing required key (expected one of: " + join_names(names) + ")");
      return config;
    }
  } else if (!node->is_scalar()) {
    error(node->pos, path,
          "wrong type (got " + describe(*node) +
              ", expected a model name or a map {model: name, parameters...})");
    return config;
  }
  if (model_node) {
    const auto name = text(*model_node, model_path);
    if (!name) return config;
    config.model = *name;
  }

  const std::vector<ParamInfo>* params = find_params(config.model);
  if (!params) {
    // A registry without the default model (e.g. a trimmed-down test registry)
    // still gets a slot naming it; the engine's registry lookup reports it.
    if (!model_node) return config;
    std::string message = "unknown model \"" + config.model + "\" (";
    const std::string suggestion = closest_match(config.model, names);
    if (!suggestion.empty()) message += "did you mean '" + suggestion + "'? ";
    message += "expected one of: " + join_names(names) + ")";
    error(model_node->pos, model_path, std::move(message));
    return config;
  }

  std::vector<std::string> param_names;
  for (const auto& p : *params) param_names.push_back(p.name);
  std::vector<std::string> given;
  if (node && node->is_map()) {
    for (const auto& e : node->entries) {
      if (e.key == "model") continue;
      const auto it = std::find_if(params->begin(), params->end(),
                                   [&](const ParamInfo& p) { return p.name == e.key; });
      if (it == params->end()) {
        std::string message =
            "unknown parameter " + quoted_name(e.key) + " of model \"" + config.model + "\" (";
        const std::string suggestion = closest_match(e.key, param_names);
        if (!suggestion.empty())
          message += "did you mean '" + suggestion + "'?)";
        else if (param_names.empty())
          message += "this model has no parameters)";
        else
          message += "expected one of: " + join_names(param_names) + ")";
        error(e.key_pos, join_path(path, e.key), std::move(message));
        continue;
      }
      given.push_back(e.key);
      read_param(e.value, join_path(path, e.key), *it, config);
    }
  }
  for (const auto& p : *params) {
    if (std::find(given.begin(), given.end(), p.name) != given.end()) continue;
    if (p.required) {
      if (node)
        error(node->pos, join_path(path, p.name),
              "missing required parameter of model \"" + config.model + "\" (expected " +
                  param_expectation(p) + ")");
      continue;
    }
    switch (p.type) {
      case ParamType::number:
        config.params[p.name] = p.default_number;
        break;
      case ParamType::text:
        config.params[p.name] = p.default_text;
        break;
      case ParamType::names:
        config.params[p.name] = std::vector<std::string>{};
        break;
      case ParamType::table:
        config.params[p.name] = ParamTable{};
        break;
    }
  }
  return config;
}

void Validator::read_param(const TreeNode& n, const std::string& path, const ParamInfo& info,
                           ModelConfig& config) {
  switch (info.type) {
    case ParamType::number:
      if (const auto x = number(n, path, Range::closed(info.min, info.max)))
        config.params[info.name] = *x;
      return;
    case ParamType::text:
      if (const auto t = text(n, path)) config.params[info.name] = *t;
      return;
    case ParamType::names: {
      if (!n.is_sequence()) {
        error(n.pos, path,
              "wrong type (got " + describe(n) + ", expected " + param_expectation(info) + ")");
        return;
      }
      const NameIndex* known = nullptr;
      std::string what;
      if (info.unit == "sku names") {
        known = &skus_;
        what = "SKU";
      } else if (info.unit == "region names") {
        known = &regions_;
        what = "region";
      } else if (info.unit == "class names") {
        known = &classes_;
        what = "class";
      }
      std::vector<std::string> names;
      std::unordered_set<std::string> seen;
      bool all_valid = true;
      for (std::size_t i = 0; i < n.items.size(); ++i) {
        const std::string item_path = join_path(path, std::to_string(i));
        const auto name = text(n.items[i], item_path);
        if (!name) {
          all_valid = false;
        } else if (known && !known->find(*name)) {
          unknown_name(n.items[i].pos, item_path, *name, known->names(), what);
          all_valid = false;
        } else if (!seen.insert(*name).second) {
          error(n.items[i].pos, item_path, "duplicate name (got " + quoted_name(*name) + " twice)");
          all_valid = false;
        } else {
          names.push_back(*name);
        }
      }
      if (all_valid) config.params[info.name] = std::move(names);
      return;
    }
    case ParamType::table: {
      if (!n.is_sequence() || n.items.empty()) {
        error(n.pos, path,
              "wrong type (got " + describe(n) + ", expected " + param_expectation(info) + ")");
        return;
      }
      ParamTable rows;
      bool all_valid = true;
      std::optional<double> previous_x;
      for (std::size_t i = 0; i < n.items.size(); ++i) {
        const TreeNode& row = n.items[i];
        const std::string row_path = join_path(path, std::to_string(i));
        if (!row.is_sequence() || row.items.size() != 2) {
          const std::string got = row.is_sequence()
                                      ? "a list of " + std::to_string(row.items.size()) + " values"
                                      : describe(row);
          error(row.pos, row_path, "wrong shape (got " + got + ", expected a row [x, y])");
          all_valid = false;
          continue;
        }
        const auto x = number(row.items[0], row_path + ".0", Range{});
        const auto y = number(row.items[1], row_path + ".1", Range::closed(info.min, info.max));
        if (x) {
          if (previous_x && *x <= *previous_x) {
            error(row.items[0].pos, row_path + ".0",
                  "x not increasing (got " + format_number(*x) + ", expected a value > " +
                      format_number(*previous_x) + ")");
            all_valid = false;
          }
          previous_x = *x;
        }
        if (!x || !y) {
          all_valid = false;
          continue;
        }
        rows.push_back({*x, *y});
      }
      if (all_valid) config.params[info.name] = std::move(rows);
      return;
    }
  }
}

ScenarioSpec Validator::build(const TreeNode& root) {
  ScenarioSpec spec;
  MapReader top(*this, &root, "", root.pos);
  top.text("name", spec.name);
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

}  // namespace

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  // About one typo per three characters (at least one, at most three), and
  // never a rewrite of the whole word (so "x" does not suggest "y").
  constexpr std::size_t kMaxWord = 64;  // the distance table is |word| x |candidate|
  if (word.size() > kMaxWord) return {};
  const std::string word_lower = lower(word);
  const std::size_t allowed = std::clamp<std::size_t>(word.size() / 3, 1, 3);
  std::string best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  // Suggestions are for typos among a handful of names, not for searching
  // thousands; and the distance is at least the difference in length.
  constexpr std::size_t kMaxCandidates = 2000;
  if (candidates.size() > kMaxCandidates) return {};
  for (const auto& c : candidates) {
    const std::size_t length_difference =
        c.size() > word.size() ? c.size() - word.size() : word.size() - c.size();
    if (length_difference > allowed) continue;
    const std::string c_lower = lower(c);
    const std::size_t d = edit_distance(word_lower, c_lower);
    if (d > allowed || d >= std::max(word.size(), c.size())) continue;
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  if (!best.empty() || word.size() < 3) return best;
  // Keys carry their unit ("lead_time_days"); a key written without it is
  // a likely mistake too.
  for (const auto& c : candidates)
    if (c.size() > word.size() && lower(c).rfind(word_lower + "_", 0) == 0) return c;
  return best;
}

ScenarioSpec build_spec(const TreeNode& root, const Sources& sources,
                        const models::ModelRegistries& registries,
                        std::vector<Diagnostic>& diagnostics) {
  Validator v(sources, registries, diagnostics);
  return v.build(root);
}

}  // namespace capsim::io::detail
