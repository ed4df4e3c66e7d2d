#include <hdf5.h>
#include <hdf5_hl.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "capsim/error.hpp"
#include "capsim/io/output.hpp"
#include "capsim/results.hpp"

namespace fs = std::filesystem;
using capsim::Dim;
using capsim::RunResult;
using capsim::ScenarioSpec;

namespace {

// A fresh empty directory, removed with its contents at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "capsim-output-test-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path_)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  fs::path path_;
};

// 2 regions, 2 SKUs, 2 classes, 30 daily steps (April 2024).
ScenarioSpec small_spec() {
  ScenarioSpec spec;
  spec.name = "jp \"what-if\"\tA";
  spec.resolved_yaml = "name: jp\ntime:\n  start: 2024-04-01\n";
  spec.source_file = "what-ifs/jp.yaml";
  spec.extends = {"catalog/gpus.yaml", "catalog/regions.yaml"};
  spec.overrides = {"finance.usdjpy=170", "classes.chat.noise={model: none}"};
  spec.finance.budget_usd = 2.9e9;
  spec.time.start = std::chrono::sys_days(std::chrono::year(2024) / 4 / 1);
  spec.time.horizon_months = 1;
  spec.time.step_hours = 24.0;
  spec.regions.resize(2);
  spec.regions[0].name = "tokyo";
  spec.regions[1].name = "osaka";
  spec.skus.resize(2);
  spec.skus[0].name = "h100";
  spec.skus[1].name = "b200";
  spec.classes.resize(2);
  spec.classes[0].name = "chat";
  spec.classes[1].name = "train";
  return spec;
}

// Distinct, recognisable values: series s, step t, stats column i.
double series_value(std::size_t s, Eigen::Index t, Eigen::Index i) {
  return static_cast<double>(s) * 1e6 + static_cast<double>(t) * 1e3 + static_cast<double>(i);
}
double path_value(int t, Eigen::Index p, Eigen::Index column) {
  return static_cast<double>(t) * 1e6 + static_cast<double>(p) * 1e3 + static_cast<double>(column);
}

RunResult small_result(const ScenarioSpec& spec, std::int64_t paths) {
  RunResult result;
  result.layout = capsim::make_layout(spec);
  result.paths = paths;
  result.seed = 0xfedcba9876543210ULL;
  const auto& layout = result.layout;
  for (std::size_t s = 0; s < layout.series.size(); ++s) {
    Eigen::ArrayXXd stats(layout.steps, 4 * layout.series[s].width);
    for (Eigen::Index t = 0; t < stats.rows(); ++t)
      for (Eigen::Index i = 0; i < stats.cols(); ++i) stats(t, i) = series_value(s, t, i);
    result.series_stats.push_back(std::move(stats));
  }
  result.key_figures.resize(paths, layout.key_figure_columns);
  for (Eigen::Index p = 0; p < paths; ++p)
    for (Eigen::Index k = 0; k < layout.key_figure_columns; ++k)
      result.key_figures(p, k) = static_cast<double>(p) * 100.0 + static_cast<double>(k) + 0.25;
  result.key_figure_stats.resize(4, layout.key_figure_columns);
  for (Eigen::Index j = 0; j < 4; ++j)
    for (Eigen::Index k = 0; k < layout.key_figure_columns; ++k)
      result.key_figure_stats(j, k) = static_cast<double>(j) * 10.0 + static_cast<double>(k) + 0.5;
  result.prob_over_budget = 0.25;
  return result;
}

// --- Reading HDF5 back -----------------------------------------------------

class H5 {
 public:
  H5(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) { REQUIRE(id_ >= 0); }
  ~H5() { close_(id_); }
  H5(const H5&) = delete;
  H5& operator=(const H5&) = delete;
  hid_t get() const { return id_; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

H5 open_file(const std::string& path) {
  return {H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
}

std::string attr_string(hid_t object, const std::string& name) {
  const H5 attr(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  const H5 type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  char* text = nullptr;
  REQUIRE(H5Aread(attr.get(), type.get(), &text) >= 0);
  std::string value = text;
  H5free_memory(text);
  return value;
}

std::vector<std::string> attr_strings(hid_t object, const std::string& name) {
  const H5 attr(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  const H5 space(H5Aget_space(attr.get()), H5Sclose);
  REQUIRE(H5Sget_simple_extent_ndims(space.get()) == 1);
  const H5 type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  std::vector<char*> raw(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.get())));
  if (raw.empty()) return {};
  REQUIRE(H5Aread(attr.get(), type.get(), raw.data()) >= 0);
  std::vector<std::string> out(raw.begin(), raw.end());
  for (char* p : raw) H5free_memory(p);
  return out;
}

template <typename T>
T attr_number(hid_t object, const std::string& name, hid_t memory_type) {
  const H5 attr(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  T value{};
  REQUIRE(H5Aread(attr.get(), memory_type, &value) >= 0);
  return value;
}

struct Doubles {
  std::vector<hsize_t> dims;
  std::vector<double> values;
};

Doubles read_doubles(hid_t file, const std::string& path) {
  const H5 set(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose);
  const H5 space(H5Dget_space(set.get()), H5Sclose);
  Doubles out;
  out.dims.resize(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space.get())));
  H5Sget_simple_extent_dims(space.get(), out.dims.data(), nullptr);
  out.values.resize(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.get())));
  REQUIRE(H5Dread(set.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.values.data()) >=
          0);
  return out;
}

std::vector<std::string> read_strings(hid_t file, const std::string& path) {
  const H5 set(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose);
  const H5 space(H5Dget_space(set.get()), H5Sclose);
  const H5 type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  std::vector<char*> raw(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.get())));
  if (raw.empty()) return {};
  REQUIRE(H5Dread(set.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) >= 0);
  std::vector<std::string> out(raw.begin(), raw.end());
  H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, raw.data());
  return out;
}

std::vector<hsize_t> chunk_dims(hid_t file, const std::string& path, int* filters) {
  const H5 set(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose);
  const H5 plist(H5Dget_create_plist(set.get()), H5Pclose);
  *filters = H5Pget_nfilters(plist.get());
  if (H5Pget_layout(plist.get()) != H5D_CHUNKED) return {};
  std::vector<hsize_t> chunk(8);
  const int rank = H5Pget_chunk(plist.get(), 8, chunk.data());
  chunk.resize(static_cast<std::size_t>(rank));
  return chunk;
}

std::vector<hsize_t> expected_dims(const capsim::Layout& layout, std::vector<hsize_t> leading,
                                   const std::vector<Dim>& dims) {
  for (Dim d : dims) leading.push_back(static_cast<hsize_t>(layout.dim_size(d)));
  return leading;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// --- A minimal JSON syntax checker (RFC 8259 grammar) ----------------------

class JsonChecker {
 public:
  explicit JsonChecker(const std::string& text) : s_(text) {}
  bool valid() {
    skip();
    if (!value()) return false;
    skip();
    return i_ == s_.size();
  }

 private:
  void skip() {
    while (i_ < s_.size() && std::string(" \t\r\n").find(s_[i_]) != std::string::npos) ++i_;
  }
  bool literal(const std::string& word) {
    if (s_.compare(i_, word.size(), word) != 0) return false;
    i_ += word.size();
    return true;
  }
  bool string() {
    if (i_ >= s_.size() || s_[i_] != '"') return false;
    for (++i_; i_ < s_.size(); ++i_) {
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (++i_ >= s_.size()) return false;
        if (s_[i_] == 'u') {
          for (int k = 0; k < 4; ++k)
            if (++i_ >= s_.size() || !std::isxdigit(static_cast<unsigned char>(s_[i_])))
              return false;
        } else if (std::string("\"\\/bfnrt").find(s_[i_]) == std::string::npos) {
          return false;
        }
      }
    }
    return false;
  }
  bool number() {
    const std::size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    auto digits = [&] {
      const std::size_t from = i_;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
      return i_ > from;
    };
    if (i_ < s_.size() && s_[i_] == '0') {
      ++i_;
    } else if (!digits()) {
      return false;
    }
    if (i_ < s_.size() && s_[i_] == '.' && (++i_, !digits())) return false;
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!digits()) return false;
    }
    return i_ > start;
  }
  template <typename Item>
  bool sequence(char close, Item item) {
    ++i_;
    skip();
    if (i_ < s_.size() && s_[i_] == close) return ++i_, true;
    while (true) {
      skip();
      if (!item()) return false;
      skip();
      if (i_ >= s_.size()) return false;
      if (s_[i_] == close) return ++i_, true;
      if (s_[i_++] != ',') return false;
    }
  }
  bool value() {
    if (i_ >= s_.size()) return false;
    switch (s_[i_]) {
      case '{':
        return sequence('}', [&] {
          if (!string()) return false;
          skip();
          if (i_ >= s_.size() || s_[i_++] != ':') return false;
          skip();
          return value();
        });
      case '[':
        return sequence(']', [&] { return value(); });
      case '"':
        return string();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return number();
    }
  }
  const std::string& s_;
  std::size_t i_ = 0;
};

// Type-7 quantile from a fully sorted copy: the reference column_stats must match.
double reference_quantile(std::vector<double> x, double q) {
  std::sort(x.begin(), x.end());
  const double h = static_cast<double>(x.size() - 1) * q;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const double frac = h - static_cast<double>(lo);
  if (lo + 1 >= x.size() || frac == 0.0 || x[lo] == x[lo + 1]) return x[lo];
  return x[lo] + frac * (x[lo + 1] - x[lo]);
}

}  // namespace

TEST_CASE("capsim::column_stats: mean and type-7 quantiles", "[statistics]") {
  SECTION("1..5") {
    Eigen::ArrayXXd v(5, 1);
    v << 3, 1, 5, 2, 4;
    const capsim::StatsRow s = capsim::column_stats(v);
    CHECK(s(0, 0) == Approx(3.0));
    CHECK(s(1, 0) == Approx(1.2));
    CHECK(s(2, 0) == 3.0);
    CHECK(s(3, 0) == Approx(4.8));
  }
  SECTION("one row: every statistic is the value") {
    Eigen::ArrayXXd v(1, 3);
    v << 7.5, -2.0, 0.0;
    const capsim::StatsRow s = capsim::column_stats(v);
    for (Eigen::Index j = 0; j < 3; ++j)
      for (Eigen::Index k = 0; k < 4; ++k) CHECK(s(k, j) == v(0, j));
  }
  SECTION("two rows interpolate") {
    Eigen::ArrayXXd v(2, 1);
    v << 10.0, 0.0;
    const capsim::StatsRow s = capsim::column_stats(v);
    CHECK(s(0, 0) == 5.0);
    CHECK(s(1, 0) == Approx(0.5));
    CHECK(s(2, 0) == 5.0);
    CHECK(s(3, 0) == Approx(9.5));
  }
  SECTION("ties and infinities") {
    Eigen::ArrayXXd v(4, 2);
    const double inf = std::numeric_limits<double>::infinity();
    v.col(0) << 2, 2, 2, 2;
    v.col(1) << inf, inf, inf, inf;
    const capsim::StatsRow s = capsim::column_stats(v);
    for (Eigen::Index k = 0; k < 4; ++k) {
      CHECK(s(k, 0) == 2.0);
      CHECK(s(k, 1) == inf);
    }
  }
  SECTION("a NaN makes the column's statistics NaN") {
    Eigen::ArrayXXd v(3, 2);
    v.col(0) << 1, std::numeric_limits<double>::quiet_NaN(), 3;
    v.col(1) << 1, 2, 3;
    const capsim::StatsRow s = capsim::column_stats(v);
    for (Eigen::Index k = 0; k < 4; ++k) CHECK(std::isnan(s(k, 0)));
    CHECK(s(2, 1) == 2.0);
  }
  SECTION("no rows: NaN") {
    const Eigen::ArrayXXd v(0, 2);
    const capsim::StatsRow s = capsim::column_stats(v);
    CHECK(s.cols() == 2);
    CHECK(s.isNaN().all());
  }
}

TEST_CASE("capsim::column_stats: equals a sorting reference and ignores row order",
          "[statistics]") {
  std::mt19937_64 rng(12345);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (Eigen::Index n : {1, 2, 3, 4, 5, 19, 20, 21, 100, 1001}) {
    Eigen::ArrayXXd v(n, 3);
    for (Eigen::Index i = 0; i < n; ++i) {
      v(i, 0) = normal(rng);
      v(i, 1) = std::round(normal(rng) * 2.0);  // many ties
      v(i, 2) = std::exp(3.0 * normal(rng));    // skewed
    }
    const capsim::StatsRow s = capsim::column_stats(v);

    std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), Eigen::Index{0});
    std::shuffle(order.begin(), order.end(), rng);
    Eigen::ArrayXXd shuffled(n, 3);
    for (Eigen::Index i = 0; i < n; ++i)
      shuffled.row(i) = v.row(order[static_cast<std::size_t>(i)]);
    const capsim::StatsRow t = capsim::column_stats(shuffled);

    for (Eigen::Index j = 0; j < 3; ++j) {
      INFO("n = " << n << ", column " << j);
      const std::vector<double> column(v.col(j).begin(), v.col(j).end());
      CHECK(s(0, j) == Approx(v.col(j).mean()).epsilon(1e-12));
      for (std::size_t q = 0; q < capsim::kQuantiles.size(); ++q) {
        const auto k = static_cast<Eigen::Index>(q) + 1;
        CHECK(s(k, j) == reference_quantile(column, capsim::kQuantiles[q]));
        CHECK(t(k, j) == s(k, j));  // quantiles exactly independent of the order
      }
      CHECK(t(0, j) == Approx(s(0, j)).epsilon(1e-12));
    }
  }
}

TEST_CASE("capsim::column_stats: selection on large and adversarial columns", "[statistics]") {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  for (Eigen::Index n : {257, 1025, 5000, 20001}) {
    Eigen::ArrayXXd v(n, 8);
    for (Eigen::Index i = 0; i < n; ++i) {
      const double x = static_cast<double>(i);
      v(i, 0) = x;                                              // sorted
      v(i, 1) = -x;                                             // reversed
      v(i, 2) = 3.0;                                            // all equal
      v(i, 3) = static_cast<double>(i % 2);                     // two values
      v(i, 4) = std::min(x, static_cast<double>(n) - x);        // organ pipe
      v(i, 5) = uniform(rng) < 0.9 ? 0.0 : uniform(rng) * 1e9;  // mostly zero, long tail
      v(i, 6) = std::floor(uniform(rng) * 5.0);                 // few distinct values
      v(i, 7) = std::exp(20.0 * (uniform(rng) - 0.5));          // many magnitudes
    }
    const capsim::StatsRow s = capsim::column_stats(v);
    for (Eigen::Index j = 0; j < v.cols(); ++j) {
      INFO("n = " << n << ", column " << j);
      const std::vector<double> column(v.col(j).begin(), v.col(j).end());
      for (std::size_t q = 0; q < capsim::kQuantiles.size(); ++q)
        CHECK(s(static_cast<Eigen::Index>(q) + 1, j) ==
              reference_quantile(column, capsim::kQuantiles[q]));
    }
  }
}

TEST_CASE("io::Hdf5Output: writes the documented layout", "[output]") {
  const TempDir dir;
  const ScenarioSpec spec = small_spec();
  const RunResult result = small_result(spec, 5);
  const capsim::Layout& layout = result.layout;
  REQUIRE(layout.steps == 30);
  const std::string path = dir.file("run.h5");
  {
    capsim::io::Hdf5Output output(path, layout, result.paths, false);
    CHECK(output.sink() == nullptr);
    CHECK(dir.entries().size() == 1);  // the temporary file only
    CHECK_FALSE(fs::exists(path));
    output.commit(spec, result);
  }
  CHECK(dir.entries() == std::vector<std::string>{"run.h5"});

  const H5 file = open_file(path);
  const hid_t root = file.get();

  SECTION("root attributes") {
    CHECK(attr_number<int>(root, "format_version", H5T_NATIVE_INT) == capsim::io::kFormatVersion);
    CHECK(attr_string(root, "format") == "capsim run");
    CHECK(attr_string(root, "scenario_file") == "what-ifs/jp.yaml");
    CHECK(attr_strings(root, "extends") == spec.extends);
    CHECK(attr_strings(root, "overrides") == spec.overrides);
    CHECK(attr_number<double>(root, "budget_usd", H5T_NATIVE_DOUBLE) == 2.9e9);
    CHECK(attr_string(root, "capsim_version") == CAPSIM_VERSION);
    CHECK(attr_string(root, "scenario_name") == spec.name);
    CHECK(attr_string(root, "scenario_yaml") == spec.resolved_yaml);
    CHECK(attr_number<std::uint64_t>(root, "seed", H5T_NATIVE_UINT64) == result.seed);
    CHECK(attr_number<std::int64_t>(root, "paths", H5T_NATIVE_INT64) == 5);
    CHECK(attr_number<double>(root, "step_hours", H5T_NATIVE_DOUBLE) == 24.0);
    CHECK(attr_string(root, "start_date") == "2024-04-01");
    CHECK(attr_number<int>(root, "steps", H5T_NATIVE_INT) == 30);
    const std::string created = attr_string(root, "created");
    REQUIRE(created.size() == 20);
    CHECK(created[4] == '-');
    CHECK(created[10] == 'T');
    CHECK(created.back() == 'Z');
  }

  SECTION("labels") {
    CHECK(read_strings(root, "labels/region") == std::vector<std::string>{"tokyo", "osaka"});
    CHECK(read_strings(root, "labels/sku") == std::vector<std::string>{"h100", "b200"});
    CHECK(read_strings(root, "labels/workload") == std::vector<std::string>{"chat", "train"});
    const auto starts = read_strings(root, "labels/step_start");
    REQUIRE(starts.size() == 30);
    CHECK(starts[0] == "2024-04-01T00:00");
    CHECK(starts[1] == "2024-04-02T00:00");
    CHECK(starts[29] == "2024-04-30T00:00");
    const Doubles hours = read_doubles(root, "labels/step");
    CHECK(hours.dims == std::vector<hsize_t>{30});
    for (std::size_t t = 0; t < 30; ++t) CHECK(hours.values[t] == 24.0 * static_cast<double>(t));
    const H5 step(H5Dopen2(root, "labels/step", H5P_DEFAULT), H5Dclose);
    CHECK(attr_string(step.get(), "units") == "hours since 2024-04-01 00:00:00");
    CHECK(H5DSis_scale(step.get()) > 0);
  }

  SECTION("series statistics: shapes, values, attributes") {
    for (std::size_t s = 0; s < layout.series.size(); ++s) {
      const capsim::SeriesInfo& info = layout.series[s];
      INFO("series " << info.name);
      const std::string group_path = "series/" + info.name;
      const H5 group(H5Gopen2(root, group_path.c_str(), H5P_DEFAULT), H5Gclose);
      CHECK(attr_string(group.get(), "unit") == info.unit);
      CHECK(attr_string(group.get(), "description") == info.description);
      const auto dims = expected_dims(layout, {30}, info.dims);
      for (std::size_t j = 0; j < 4; ++j) {
        const Doubles data = read_doubles(root, group_path + "/" + capsim::kStatNames[j]);
        REQUIRE(data.dims == dims);
        bool all_equal = true;
        for (Eigen::Index t = 0; t < 30; ++t)
          for (Eigen::Index i = 0; i < info.width; ++i)
            all_equal =
                all_equal && data.values[static_cast<std::size_t>(t * info.width + i)] ==
                                 series_value(s, t, static_cast<Eigen::Index>(j) * info.width + i);
        CHECK(all_equal);
      }
    }
    const H5 demand(H5Gopen2(root, "series/demand_h100e_gpuh", H5P_DEFAULT), H5Gclose);
    CHECK(attr_string(demand.get(), "dims") == "step,workload,region");
    // Each axis of a statistic is attached to the group's coordinate of that name.
    const H5 mean(H5Dopen2(demand.get(), "mean", H5P_DEFAULT), H5Dclose);
    const std::vector<std::string> axes = {"step", "workload", "region"};
    for (unsigned axis = 0; axis < 3; ++axis) {
      const H5 scale(H5Dopen2(demand.get(), axes[axis].c_str(), H5P_DEFAULT), H5Dclose);
      CHECK(H5DSis_attached(mean.get(), scale.get(), axis) > 0);
    }
    CHECK(read_strings(demand.get(), "workload") == std::vector<std::string>{"chat", "train"});
    CHECK(read_doubles(root, "series/demand_h100e_gpuh/mean").dims ==
          std::vector<hsize_t>{30, 2, 2});
    const H5 installed(H5Gopen2(root, "series/gpus_installed", H5P_DEFAULT), H5Gclose);
    CHECK(attr_string(installed.get(), "dims") == "step,sku,region");
    const H5 fx(H5Gopen2(root, "series/usd_jpy", H5P_DEFAULT), H5Gclose);
    CHECK(attr_string(fx.get(), "dims") == "step");
    CHECK(read_doubles(root, "series/usd_jpy/p95").dims == std::vector<hsize_t>{30});
  }

  SECTION("key figures: statistics and per-path values") {
    const H5 figures(H5Gopen2(root, "key_figures", H5P_DEFAULT), H5Gclose);
    CHECK(attr_number<double>(figures.get(), "prob_over_budget", H5T_NATIVE_DOUBLE) == 0.25);
    for (const capsim::KeyFigureInfo& info : layout.key_figures) {
      INFO("key figure " << info.name);
      const std::string group_path = "key_figures/" + info.name;
      const H5 group(H5Gopen2(root, group_path.c_str(), H5P_DEFAULT), H5Gclose);
      CHECK(attr_string(group.get(), "unit") == info.unit);
      CHECK(attr_string(group.get(), "description") == info.description);
      CHECK(attr_string(group.get(), "dims") == (info.dims.empty()                  ? ""
                                                 : info.dims.front() == Dim::region ? "region"
                                                                                    : "workload"));
      const std::vector<hsize_t> dims =
          info.dims.empty() ? std::vector<hsize_t>{} : std::vector<hsize_t>{2};
      for (std::size_t j = 0; j < 4; ++j) {
        const Doubles data = read_doubles(root, group_path + "/" + capsim::kStatNames[j]);
        REQUIRE(data.dims == dims);
        for (Eigen::Index i = 0; i < info.width; ++i)
          CHECK(data.values[static_cast<std::size_t>(i)] ==
                result.key_figure_stats(static_cast<Eigen::Index>(j), info.offset + i));
      }
      const Doubles per_path = read_doubles(root, "paths/key_figures/" + info.name);
      REQUIRE(per_path.dims == expected_dims(layout, {5}, info.dims));
      for (Eigen::Index p = 0; p < 5; ++p)
        for (Eigen::Index i = 0; i < info.width; ++i)
          CHECK(per_path.values[static_cast<std::size_t>(p * info.width + i)] ==
                result.key_figures(p, info.offset + i));
    }
    CHECK(read_doubles(root, "key_figures/unserved_fraction/mean").dims == std::vector<hsize_t>{2});
    CHECK(H5Lexists(root, "paths/series", H5P_DEFAULT) == 0);
  }
}

TEST_CASE("io::Hdf5Output: save_paths stores every step chunked and compressed", "[output]") {
  const TempDir dir;
  const ScenarioSpec spec = small_spec();
  const std::int64_t paths = 7;
  const RunResult result = small_result(spec, paths);
  const capsim::Layout& layout = result.layout;
  const std::string path = dir.file("paths.h5");
  {
    capsim::io::Hdf5Output output(path, layout, paths, true);
    capsim::StepSink* sink = output.sink();
    REQUIRE(sink != nullptr);
    Eigen::ArrayXXd values(paths, layout.series_columns);
    for (int t = 0; t < layout.steps; ++t) {
      for (Eigen::Index p = 0; p < paths; ++p)
        for (Eigen::Index c = 0; c < layout.series_columns; ++c) values(p, c) = path_value(t, p, c);
      sink->on_step(t, values);
    }
    CHECK_THROWS_AS(sink->on_step(layout.steps, values), std::invalid_argument);
    output.commit(spec, result);
  }
  CHECK(dir.entries() == std::vector<std::string>{"paths.h5"});

  const H5 file = open_file(path);
  for (const capsim::SeriesInfo& info : layout.series) {
    INFO("series " << info.name);
    const std::string name = "paths/series/" + info.name;
    const Doubles data = read_doubles(file.get(), name);
    REQUIRE(data.dims == expected_dims(layout, {30, 7}, info.dims));
    bool all_equal = true;
    for (int t = 0; t < layout.steps; ++t)
      for (Eigen::Index p = 0; p < paths; ++p)
        for (Eigen::Index i = 0; i < info.width; ++i)
          all_equal = all_equal &&
                      data.values[static_cast<std::size_t>((t * paths + p) * info.width + i)] ==
                          path_value(t, p, info.offset + i);
    CHECK(all_equal);
    int filters = 0;
    const auto chunk = chunk_dims(file.get(), name, &filters);
    REQUIRE(chunk.size() == data.dims.size());
    CHECK(chunk[0] == 1);
    CHECK(chunk[1] == 7);
    CHECK(filters == 2);  // shuffle and deflate
    const H5 set(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
    CHECK(attr_string(set.get(), "unit") == info.unit);
  }
  const H5 set(H5Dopen2(file.get(), "paths/series/demand_h100e_gpuh", H5P_DEFAULT), H5Dclose);
  CHECK(attr_string(set.get(), "dims") == "step,path,workload,region");
  // The statistics are written as without save_paths.
  CHECK(read_doubles(file.get(), "series/power_mw/p50").dims == std::vector<hsize_t>{30, 2});
}

TEST_CASE("io::Hdf5Output: atomic creation and failures", "[output]") {
  const TempDir dir;
  const ScenarioSpec spec = small_spec();
  const RunResult result = small_result(spec, 3);

  SECTION("an uncommitted output leaves nothing behind") {
    {
      capsim::io::Hdf5Output output(dir.file("never.h5"), result.layout, 3, true);
      Eigen::ArrayXXd values = Eigen::ArrayXXd::Ones(3, result.layout.series_columns);
      output.sink()->on_step(0, values);
      CHECK(dir.entries().size() == 1);
    }
    CHECK(dir.entries().empty());
  }

  SECTION("an existing file is replaced only at commit") {
    const std::string path = dir.file("run.h5");
    { std::ofstream(path) << "old"; }
    capsim::io::Hdf5Output output(path, result.layout, 3, false);
    CHECK(read_text(path) == "old");
    output.commit(spec, result);
    CHECK(read_text(path) != "old");
    CHECK(dir.entries() == std::vector<std::string>{"run.h5"});
    CHECK_THROWS_AS(output.commit(spec, result), std::logic_error);
  }

  SECTION("a missing directory is a RuntimeError naming the path") {
    const std::string path = dir.file("no-such-dir/run.h5");
    try {
      capsim::io::Hdf5Output output(path, result.layout, 3, false);
      FAIL("no exception");
    } catch (const capsim::RuntimeError& e) {
      CHECK_THAT(e.what(), Catch::Contains(path));
      CHECK_THAT(e.what(), Catch::Contains("No such file or directory"));
    }
    CHECK(dir.entries().empty());
  }

  SECTION("a result that does not match the layout is rejected, nothing is written") {
    {
      capsim::io::Hdf5Output output(dir.file("bad.h5"), result.layout, 4, false);
      CHECK_THROWS_AS(output.commit(spec, result), std::invalid_argument);
    }
    CHECK(dir.entries().empty());
  }
}

TEST_CASE("io::write_key_figures_csv and _json", "[output]") {
  const TempDir dir;
  const ScenarioSpec spec = small_spec();
  RunResult result = small_result(spec, 3);
  const auto& layout = result.layout;
  const Eigen::Index unserved = layout.find_key_figure("unserved_fraction").offset;
  result.key_figure_stats(0, unserved + 1) = std::numeric_limits<double>::quiet_NaN();
  result.key_figure_stats(3, unserved + 1) = std::numeric_limits<double>::infinity();

  SECTION("CSV: one header, one row per figure and class, and prob_over_budget") {
    const std::string path = dir.file("kf.csv");
    capsim::io::write_key_figures_csv(path, result);
    const std::string text = read_text(path);
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    REQUIRE(lines.size() == static_cast<std::size_t>(1 + layout.key_figure_columns + 1));
    CHECK(lines[0] == "key_figure,unit,mean,p05,p50,p95");
    CHECK(std::count(text.begin(), text.end(), '\n') == static_cast<long>(lines.size()));
    for (const auto& line : lines) CHECK(std::count(line.begin(), line.end(), ',') == 5);
    CHECK(lines[1] == "total_spend_usd,USD,0.5,10.5,20.5,30.5");
    const auto row = std::find_if(lines.begin(), lines.end(), [](const std::string& l) {
      return l.rfind("unserved_fraction[train],", 0) == 0;
    });
    REQUIRE(row != lines.end());
    CHECK(*row == "unserved_fraction[train],fraction,nan," + std::to_string(10 + unserved + 1) +
                      ".5," + std::to_string(20 + unserved + 1) + ".5,inf");
    CHECK(lines.back() == "prob_over_budget,probability,0.25,,,");
    // Per-region figures name the region.
    const Eigen::Index spend = layout.find_key_figure("region_spend_usd").offset;
    CHECK(std::count(lines.begin(), lines.end(),
                     "region_spend_usd[osaka],USD," + std::to_string(spend + 1) + ".5," +
                         std::to_string(10 + spend + 1) + ".5," + std::to_string(20 + spend + 1) +
                         ".5," + std::to_string(30 + spend + 1) + ".5") == 1);
  }

  SECTION("CSV keeps full precision") {
    result.key_figure_stats(0, 0) = 0.1;
    const std::string path = dir.file("kf.csv");
    capsim::io::write_key_figures_csv(path, result);
    CHECK_THAT(read_text(path), Catch::Contains("total_spend_usd,USD,0.10000000000000001,"));
  }

  SECTION("JSON is valid, escapes strings, writes non-finite numbers as null") {
    const std::string path = dir.file("kf.json");
    capsim::io::write_key_figures_json(path, spec, result);
    const std::string text = read_text(path);
    CHECK(JsonChecker(text).valid());
    CHECK_THAT(text, Catch::Contains(R"("scenario": "jp \"what-if\"\tA")"));
    CHECK_THAT(text, Catch::Contains(R"("seed": 18364758544493064720)"));
    CHECK_THAT(text, Catch::Contains(R"("paths": 3)"));
    CHECK_THAT(text, Catch::Contains(R"("prob_over_budget": 0.25)"));
    CHECK_THAT(text, Catch::Contains(
                         R"("total_spend_usd": {"unit": "USD", "description": "capex plus opex)"));
    CHECK_THAT(text, Catch::Contains(R"("mean": 0.5, "p05": 10.5, "p50": 20.5, "p95": 30.5})"));
    CHECK_THAT(text, Catch::Contains(R"("by_class": {)"));
    CHECK_THAT(text, Catch::Contains(R"("train": {"mean": null, )"));
    CHECK_THAT(text, Catch::Contains(R"("region_spend_usd": {"unit": "USD")"));
    CHECK_THAT(text, Catch::Contains(R"("by_region": {)"));
    CHECK_THAT(text, Catch::Contains(R"("osaka": {"mean": )"));
    CHECK_THAT(text, Catch::Contains(R"(, "p95": null})"));
    CHECK_FALSE(JsonChecker(text.substr(0, text.size() - 3)).valid());
  }

  SECTION("an unwritable path is a RuntimeError naming it") {
    const std::string path = dir.file("missing/kf.csv");
    CHECK_THROWS_WITH(capsim::io::write_key_figures_csv(path, result), Catch::Contains(path));
    CHECK_THROWS_AS(capsim::io::write_key_figures_json(path, spec, result), capsim::RuntimeError);
  }
}

TEST_CASE("io::print_key_figures: aligned table with every figure", "[output]") {
  const ScenarioSpec spec = small_spec();
  RunResult result = small_result(spec, 3);
  result.key_figure_stats(0, 0) = 2.9031e9;
  std::ostringstream out;
  capsim::io::print_key_figures(out, spec, result);
  const std::string text = out.str();
  CHECK_THAT(text, Catch::Contains(spec.name));
  CHECK_THAT(text, Catch::Contains("3 paths"));
  CHECK_THAT(text, Catch::Contains("seed 18364758544493064720"));
  CHECK_THAT(text, Catch::Contains("30 steps"));
  // Provenance: a what-if shows its file, what it extends and every --set,
  // quoted where a shell needs it.
  CHECK_THAT(text,
             Catch::Contains(
                 "  from what-ifs/jp.yaml, extending catalog/gpus.yaml, catalog/regions.yaml\n"));
  CHECK_THAT(text, Catch::Contains("  overrides: --set finance.usdjpy=170 --set "
                                   "'classes.chat.noise={model: none}'\n"));
  CHECK_THAT(text, Catch::Contains("  capsim " CAPSIM_VERSION "\n"));
  CHECK_THAT(text, Catch::Contains("unserved_fraction[chat]"));
  CHECK_THAT(text, Catch::Contains("unserved_fraction[train]"));
  CHECK_THAT(text, Catch::Contains("2,903.1"));
  CHECK_THAT(text, Catch::Contains("25.00 %"));

  // Every table line (header, rule, one per figure and class) has the same width.
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  const auto header = std::find_if(lines.begin(), lines.end(), [](const std::string& l) {
    return l.rfind("key figure", 0) == 0;
  });
  REQUIRE(header != lines.end());
  const auto rows = static_cast<std::ptrdiff_t>(result.layout.key_figure_columns);
  REQUIRE(std::distance(header, lines.end()) > rows + 1);
  for (auto it = header; it != header + rows + 2; ++it) CHECK(it->size() == header->size());
}
