#include "capsim/study/sweep.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <exception>
#include <map>
#include <numeric>
#include <thread>

#include "../src/thread_pool.hpp"
#include "capsim/engine.hpp"
#include "capsim/error.hpp"
#include "design.hpp"

namespace capsim::sweep {

namespace {

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  const auto end = s.find_last_not_of(" \t");
  return s.substr(begin, end - begin + 1);
}

}  // namespace

bool parse_number(const std::string& text, double& value) {
  const std::string t = trim(text);
  if (t.empty()) return false;
  const char* first = t.data();
  if (*first == '+') ++first;
  const auto [end, ec] = std::from_chars(first, t.data() + t.size(), value);
  return ec == std::errc() && end == t.data() + t.size() && std::isfinite(value);
}

namespace {

bool parse_integer(const std::string& text, std::int64_t& value) {
  const std::string t = trim(text);
  if (t.empty()) return false;
  const char* first = t.data();
  if (*first == '+') ++first;
  const auto [end, ec] = std::from_chars(first, t.data() + t.size(), value);
  return ec == std::errc() && end == t.data() + t.size();
}

}  // namespace

std::string number_text(double x) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(x);
}

namespace {

// Splits at commas outside brackets, braces and quotes.
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::string item;
  int depth = 0;
  char quote = 0;
  for (const char c : text) {
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    } else if (c == ',' && depth == 0) {
      items.push_back(trim(item));
      item.clear();
      continue;
    }
    item += c;
  }
  items.push_back(trim(item));
  return items;
}

// 64-bit FNV-1a: a stable fingerprint (not a security measure).
class Fingerprint {
 public:
  void add(const std::string& text) {
    for (const char c : text) mix(static_cast<unsigned char>(c));
    mix(0);  // separator: ("ab","c") differs from ("a","bc")
  }
  std::string hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash_));
    return buf;
  }

 private:
  void mix(unsigned char byte) {
    hash_ ^= byte;
    hash_ *= 0x100000001b3ULL;
  }
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

}  // namespace

Axis parse_axis(const std::string& argument) {
  Axis axis;
  axis.argument = argument;
  const auto eq = argument.find('=');
  if (eq == std::string::npos || trim(argument.substr(0, eq)).empty())
    detail::fail_axis(argument,
                      "expected key.path=SPEC, e.g. classes.inference.growth.rate=0.5,0.9,1.3 "
                      "(SPEC: a list a,b,c, "
                      "linspace:lo:hi:n or a range lo:hi)");
  axis.key = trim(argument.substr(0, eq));
  axis.spec = trim(argument.substr(eq + 1));
  const std::string& spec = axis.spec;
  if (spec.empty())
    detail::fail_axis(argument,
                      "empty SPEC (expected a list a,b,c, linspace:lo:hi:n or a range lo:hi)");

  if (spec.rfind("linspace:", 0) == 0) {
    std::vector<std::string> parts;
    std::string part;
    for (const char c : spec.substr(9) + ":") {
      if (c == ':') {
        parts.push_back(part);
        part.clear();
      } else {
        part += c;
      }
    }
    double lo = 0, hi = 0;
    std::int64_t n = 0;
    if (parts.size() != 3 || !parse_number(parts[0], lo) || !parse_number(parts[1], hi) ||
        !parse_integer(parts[2], n))
      detail::fail_axis(
          argument, "bad linspace (got '" + spec +
                        "', expected linspace:lo:hi:n with numbers lo, hi and a whole number n)");
    if (n < 1)
      detail::fail_axis(argument,
                        "empty linspace (got n = " + std::to_string(n) + ", expected n >= 1)");
    if (n > kMaxPoints)
      detail::fail_axis(argument, "linspace of " + std::to_string(n) +
                                      " values (expected at most " + std::to_string(kMaxPoints) +
                                      ")");
    if (n > 1 && lo == hi)
      detail::fail_axis(argument, "empty range (lo = hi = " + number_text(lo) + " with n = " +
                                      std::to_string(n) + " would repeat one value)");
    axis.kind = Axis::Kind::linspace;
    for (std::int64_t i = 0; i < n; ++i) {
      const double x = i == n - 1 && n > 1
                           ? hi
                           : lo + static_cast<double>(i) * (hi - lo) / static_cast<double>(n - 1);
      axis.values.push_back(number_text(n == 1 ? lo : x));
    }
    return axis;
  }

  const auto colon = spec.find(':');
  if (colon != std::string::npos && spec.find(':', colon + 1) == std::string::npos) {
    double lo = 0, hi = 0;
    const std::string lo_text = spec.substr(0, colon), hi_text = spec.substr(colon + 1);
    if (parse_number(lo_text, lo) && parse_number(hi_text, hi)) {
      if (!(lo < hi))
        detail::fail_axis(argument, "empty range (got " + trim(lo_text) + ":" + trim(hi_text) +
                                        ", expected lo:hi with lo < hi)");
      std::int64_t lo_int = 0, hi_int = 0;
      axis.kind = Axis::Kind::range;
      axis.lo = lo;
      axis.hi = hi;
      axis.integer = parse_integer(lo_text, lo_int) && parse_integer(hi_text, hi_int);
      return axis;
    }
  }

  axis.kind = Axis::Kind::list;
  axis.values = split_list(spec);
  for (std::size_t i = 0; i < axis.values.size(); ++i)
    if (axis.values[i].empty())
      detail::fail_axis(argument,
                        "empty value at position " + std::to_string(i + 1) + " of the list");
  return axis;
}

std::vector<std::pair<std::string, std::string>> methods() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& design : detail::all_designs())
    out.emplace_back(design->name(), design->description());
  return out;
}

std::string parse_method(const std::string& text) {
  return detail::find_design(text)->name();
}

bool analyses(const std::string& method) {
  for (const auto& design : detail::all_designs())
    if (design->name() == method) return design->analyses();
  return false;
}

void Definition::check() const {
  const auto design = detail::find_design(method);
  const std::string named = std::string("--method ") + design->name();
  if (axes.empty())
    throw InputError("sweep: nothing to vary (give at least one --vary key.path=SPEC)");
  for (std::size_t a = 0; a < axes.size(); ++a)
    for (std::size_t b = 0; b < a; ++b)
      if (axes[a].key == axes[b].key)
        detail::fail_axis(axes[a].argument,
                          axes[a].key + " is already varied by --vary '" + axes[b].argument + "'");
  for (const Axis& axis : axes) {
    if (axis.kind == Axis::Kind::range && !design->accepts_ranges())
      detail::fail_axis(axis.argument,
                        "a range lo:hi needs --method lhs, random, tornado, morris or sobol "
                        "(for a grid, give a list or linspace:lo:hi:n)");
    if (axis.kind != Axis::Kind::range && design->needs_ranges())
      detail::fail_axis(axis.argument, named + " needs a range lo:hi for every key (got a " +
                                           (axis.kind == Axis::Kind::list ? "list" : "linspace") +
                                           ")");
  }
  if (design->samples_are() == nullptr) {
    if (samples > 0)
      throw InputError("--samples applies to --method lhs, random, morris and sobol (" + named +
                       " has " + design->description() + ")");
  } else {
    if (samples < design->min_samples())
      throw InputError(named + " needs --samples N >= " + std::to_string(design->min_samples()) +
                       " (" + design->samples_are() + ")" +
                       (samples > 0 ? "; got " + std::to_string(samples) : ""));
    if (samples > kMaxPoints)
      throw InputError("--samples " + std::to_string(samples) + ": expected at most " +
                       std::to_string(kMaxPoints));
  }
  if (levels != 0 && design->name() != std::string("morris"))
    throw InputError("--levels applies to --method morris");
  design->check(*this);
  if (const long double count = design->count(*this); count > static_cast<long double>(kMaxPoints))
    throw InputError("sweep: " + named + " would run " + number_text(static_cast<double>(count)) +
                     " points (expected at most " + std::to_string(kMaxPoints) + ")");
}

std::string Definition::text() const {
  const auto design = detail::find_design(method);
  std::string text = "method: " + method + "\n";
  if (design->samples_are() != nullptr) text += "samples: " + std::to_string(samples) + "\n";
  if (method == "morris")
    text += "levels: " + std::to_string(levels > 0 ? levels : kDefaultMorrisLevels) + "\n";
  text += "seed: " + std::to_string(seed) + "\n";
  text += "paths: " + std::to_string(paths) + "\n";
  text += "vary:\n";
  for (const Axis& axis : axes) text += "  - " + axis.key + "=" + axis.spec + "\n";
  return text;
}

std::vector<std::vector<std::string>> make_points(const Definition& definition) {
  definition.check();
  return detail::find_design(definition.method)->points(definition);
}

std::vector<std::string> point_overrides(const Definition& definition,
                                         const std::vector<std::string>& values) {
  std::vector<std::string> overrides;
  for (std::size_t a = 0; a < definition.axes.size(); ++a)
    overrides.push_back(definition.axes[a].key + "=" + values.at(a));
  return overrides;
}

Shard parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  std::int64_t index = 0, count = 0;
  if (slash == std::string::npos || !parse_integer(text.substr(0, slash), index) ||
      !parse_integer(text.substr(slash + 1), count) || count < 1 || count > kMaxPoints ||
      index < 1 || index > count)
    throw InputError("--shard: expected I/N with 1 <= I <= N, e.g. 2/8 (got '" + text + "')");
  return Shard{static_cast<int>(index), static_cast<int>(count)};
}

std::int64_t Table::points_done() const {
  return std::count(done.begin(), done.end(), std::uint8_t{1});
}

void Table::store(std::int64_t point, const Eigen::Ref<const Eigen::ArrayXXd>& per_path) {
  const StatsRow s = column_stats(per_path);
  for (Eigen::Index j = 0; j < 4; ++j) stats.row(point).segment(j * columns, columns) = s.row(j);
  Eigen::Index over_budget = -1;
  for (const KeyFigureInfo& info : key_figures)
    if (info.name == "over_budget") over_budget = info.offset;
  // As a run computes it: the mean of the per-path 0/1 indicator.
  prob_over_budget[point] = over_budget >= 0 ? per_path.col(over_budget).mean() : std::nan("");
  done[static_cast<std::size_t>(point)] = 1;
}

Definition definition_of(const Table& table) {
  Definition definition;
  for (std::size_t a = 0; a < table.axis_keys.size(); ++a)
    definition.axes.push_back(parse_axis(table.axis_keys[a] + "=" + table.axis_specs.at(a)));
  definition.method = table.method;
  definition.samples = table.samples;
  definition.levels = static_cast<int>(table.levels);
  definition.seed = table.seed;
  definition.paths = table.paths;
  return definition;
}

Table make_table(const ScenarioSpec& base, const std::string& scenario_file,
                 const Definition& definition, std::vector<std::vector<std::string>> points) {
  Table table;
  const Layout layout = make_layout(base);
  table.scenario_name = base.name;
  table.scenario_file = scenario_file;
  table.base_yaml = base.resolved_yaml;
  table.extends = base.extends;
  table.overrides = base.overrides;
  table.definition_text = definition.text();
  table.method = definition.method;
  table.seed = definition.seed;
  table.paths = definition.paths;
  table.samples = definition.samples;
  if (definition.method == "morris")
    table.levels = definition.levels > 0 ? definition.levels : kDefaultMorrisLevels;
  for (const Axis& axis : definition.axes) {
    table.axis_keys.push_back(axis.key);
    table.axis_specs.push_back(axis.spec);
  }
  table.values = std::move(points);
  table.key_figures = layout.key_figures;
  table.regions = layout.regions;
  table.skus = layout.skus;
  table.classes = layout.classes;
  table.columns = layout.key_figure_columns;
  const auto M = static_cast<Eigen::Index>(table.values.size());
  table.stats = Eigen::ArrayXXd::Constant(M, 4 * table.columns, std::nan(""));
  table.prob_over_budget = Eigen::ArrayXd::Constant(M, std::nan(""));
  table.done.assign(static_cast<std::size_t>(M), 0);

  Fingerprint id;
  id.add("capsim sweep 1");
  id.add(table.base_yaml);
  id.add(table.definition_text);
  for (const auto& point : table.values)
    for (const auto& v : point) id.add(v);
  table.sweep_id = id.hex();
  return table;
}

std::int64_t execute(Table& table, const std::vector<std::int64_t>& todo,
                     const std::function<ScenarioSpec(std::int64_t point)>& load,
                     const models::ModelRegistries& registries, Communicator& comm,
                     const ExecuteOptions& options) {
  const int ranks = comm.size(), rank = comm.rank();
  const int threads = std::max(1, options.threads);
  const std::int64_t paths = table.paths;
  const auto points = static_cast<std::int64_t>(todo.size());
  constexpr std::int64_t kMinSlicePaths = 256;

  // Split each point's paths only when there are fewer points than processes.
  std::int64_t slices = 1;
  if (points > 0 && points < ranks)
    slices = std::clamp<std::int64_t>((ranks + points - 1) / points, 1,
                                      std::max<std::int64_t>(1, paths / kMinSlicePaths));
  // A unit too small to keep the threads busy with its own paths runs beside
  // others, one thread each.
  const std::int64_t slice_paths = (paths + slices - 1) / slices;
  const int per_round = slice_paths >= kMinSlicePaths * threads ? 1 : threads;
  const int unit_threads = std::max(1, threads / per_round);
  const std::int64_t units = points * slices;
  const std::int64_t round_units = static_cast<std::int64_t>(ranks) * per_round;
  const auto columns = table.columns;

  struct Unit {
    std::int64_t point = 0, first = 0, count = 0;
  };
  const auto unit_at = [&](std::int64_t u) {
    const std::int64_t s = u % slices;
    const std::int64_t first = paths * s / slices;
    return Unit{todo[static_cast<std::size_t>(u / slices)], first,
                paths * (s + 1) / slices - first};
  };

  std::map<std::int64_t, std::pair<Eigen::ArrayXXd, std::int64_t>> partial;  // rank 0
  std::int64_t computed = 0, since_checkpoint = 0;
  auto last_checkpoint = std::chrono::steady_clock::now();
  double write_seconds = 0;  // how long the last checkpoint took to write
  const auto write_checkpoint = [&] {
    const auto start = std::chrono::steady_clock::now();
    if (rank == 0 && options.checkpoint && since_checkpoint > 0) options.checkpoint(table);
    since_checkpoint = 0;
    last_checkpoint = std::chrono::steady_clock::now();
    write_seconds = std::chrono::duration<double>(last_checkpoint - start).count();
  };

  for (std::int64_t begin = 0; begin < units; begin += round_units) {
    // This process's units of the round, run at once.
    std::vector<Unit> mine;
    for (int j = 0; j < per_round; ++j) {
      const std::int64_t u = begin + static_cast<std::int64_t>(rank) * per_round + j;
      if (u < units) mine.push_back(unit_at(u));
    }
    std::vector<Eigen::ArrayXXd> results(mine.size());
    std::vector<std::exception_ptr> errors(mine.size());
    const auto run_unit = [&](std::size_t i) {
      try {
        const Unit& unit = mine[i];
        const ScenarioSpec spec = load(unit.point);
        RunOptions run_options;
        run_options.paths = unit.count;
        run_options.first_path = unit.first;
        run_options.seed = table.seed;
        run_options.has_seed = true;
        run_options.threads = unit_threads;
        run_options.series_stats = false;
        run_options.cancel = options.cancel;
        RunResult result = run(spec, registries, run_options);
        if (result.key_figures.cols() != columns)
          throw InputError("sweep point " + std::to_string(unit.point + 1) +
                           " has different key figures from the base scenario (a varied key "
                           "must not change the classes or regions)");
        results[i] = std::move(result.key_figures);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    };
    if (options.cancel && options.cancel->load()) {
      for (auto& e : errors) e = std::make_exception_ptr(Interrupted());
    } else if (mine.size() == 1) {
      run_unit(0);
    } else {
      capsim::detail::run_on_threads(mine.size(), run_unit);
    }

    // 0: all done, 1: interrupted, 2: failed; the worst of any process.
    int status = 0;
    std::exception_ptr failure;
    for (const auto& e : errors) {
      if (!e) continue;
      try {
        std::rethrow_exception(e);
      } catch (const Interrupted&) {
        status = std::max(status, 1);
      } catch (...) {
        if (!failure) failure = e;
        status = 2;
      }
    }
    if (options.cancel && options.cancel->load()) status = std::max(status, 1);
    const int worst = comm.max(status);
    if (worst != 0) {
      write_checkpoint();
      if (failure) std::rethrow_exception(failure);
      if (worst == 2) throw RuntimeError("another process of the sweep failed (see its message)");
      throw Interrupted();
    }

    std::vector<double> send;
    for (const auto& r : results) send.insert(send.end(), r.data(), r.data() + r.size());
    const auto received = comm.gather(send);
    if (rank != 0) continue;
    for (int from = 0; from < ranks; ++from) {
      const std::vector<double>& data = received[static_cast<std::size_t>(from)];
      std::size_t at = 0;
      for (int j = 0; j < per_round; ++j) {
        const std::int64_t u = begin + static_cast<std::int64_t>(from) * per_round + j;
        if (u >= units) break;
        const Unit unit = unit_at(u);
        const auto n = static_cast<Eigen::Index>(unit.count);
        if (at + static_cast<std::size_t>(n * columns) > data.size())
          throw RuntimeError("sweep: a process sent fewer results than expected");
        auto& [buffer, missing] = partial[unit.point];
        if (buffer.size() == 0) {
          buffer.resize(paths, columns);
          missing = slices;
        }
        buffer.middleRows(unit.first, n) =
            Eigen::Map<const Eigen::ArrayXXd>(data.data() + at, n, columns);
        at += static_cast<std::size_t>(n * columns);
        if (--missing == 0) {
          table.store(unit.point, buffer);
          partial.erase(unit.point);
          ++computed;
          ++since_checkpoint;
        }
      }
    }
    if (options.progress) options.progress(computed, points);
    const bool last = begin + round_units >= units;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - last_checkpoint).count();
    // At most every checkpoint_seconds, and rarely enough that writing the
    // file takes at most about 5% of the time (large sweeps, big files).
    if (!last && elapsed >= std::max(options.checkpoint_seconds, 20.0 * write_seconds))
      write_checkpoint();
  }
  return computed;
}

}  // namespace capsim::sweep
