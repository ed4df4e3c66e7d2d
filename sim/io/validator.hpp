// The scenario validator's shared pieces (internal to the scenario loader):
// typed reads of one map (MapReader), scalar conversions with their messages,
// and the Validator whose section readers live one file per SPEC section:
// validate_time.cpp, validate_catalog.cpp, validate_regions.cpp,
// validate_finance.cpp, validate_classes.cpp, validate_procurement.cpp and
// validate_models.cpp (pluggable slots and their parameters).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "scenario_validate.hpp"

namespace capsim::io::detail {

inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline constexpr double kShareTolerance = 1e-6;  // region shares sum, seasonality means
// Most SKUs, regions or classes a scenario may name: per-path state grows with
// their products (regions x SKUs, classes x regions), so a document naming a
// hundred thousand of each is refused here rather than exhausting memory.
inline constexpr std::size_t kMaxNames = 1000;
// Plausible maxima (scenarios/README.md, "Plausible maxima"): each several
// orders of magnitude above the largest real value, so that no accepted
// scenario can overflow a double in any figure of a run.
inline constexpr double kMaxGpus = 1e9;         // one SKU's GPUs in a fleet, order or quarter
inline constexpr double kMaxDemandH100e = 1e9;  // a class's base demand
inline constexpr double kMaxPowerMw = 1e6;      // a region's power cap
inline constexpr double kMaxUsdPerGpuh = 1e5;   // revenue or penalty per H100e-GPU-hour
// "expected one of" lists longer than this are cut.
inline constexpr std::size_t kMaxListed = 20;

using models::ParamInfo;
using models::ParamType;

std::string join_path(const std::string& path, const std::string& key);
std::string format_number(double x);
// A name as quoted in a message: long ones are cut so a hostile document
// cannot make the message huge.
std::string quoted_name(const std::string& name);
std::string join_names(const std::vector<std::string>& names);
std::optional<double> parse_double(const std::string& raw);
bool is_yaml_special_float(const std::string& text);
std::string lower(std::string s);
bool valid_name(const std::string& name);

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

std::string expected_number(const Range& range, bool whole);

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
  RequestSpec read_requests(const TreeNode& node, const std::string& path);
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
    // A name given as null takes the default, but must still be a name.
    for (const auto& e : node->nulls) {
      if (names.find(e.key) || node->find(e.key)) continue;
      unknown_name(e.key_pos, join_path(path, e.key), e.key, names.names(), what);
      all_valid = false;
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

}  // namespace capsim::io::detail
