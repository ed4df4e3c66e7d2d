#include "capsim/study/optimize.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <map>
#include <nlopt.hpp>
#include <set>

#include "capsim/error.hpp"
#include "capsim/study/sweep.hpp"
#include "design.hpp"

namespace capsim::optimize {

namespace {

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  const auto end = s.find_last_not_of(" \t");
  return s.substr(begin, end - begin + 1);
}

[[noreturn]] void fail(const std::string& option, const std::string& argument,
                       const std::string& message) {
  throw InputError(option + " '" + argument + "': " + message);
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// Type 7 quantile of a column (copied, then partially sorted).
double quantile_of_column(const Eigen::Ref<const Eigen::ArrayXd>& column, double q) {
  std::vector<double> v(column.data(), column.data() + column.size());
  return sweep::detail::quantile_of(v, q);
}

}  // namespace

std::string Variable::value_at(double u) const {
  u = std::clamp(u, 0.0, 1.0);
  if (choice) {
    const auto n = static_cast<double>(choices.size());
    const auto i = std::min(choices.size() - 1, static_cast<std::size_t>(std::floor(u * n)));
    return choices[i];
  }
  const double x = lo + u * (hi - lo);
  if (integer) return std::to_string(static_cast<std::int64_t>(std::llround(x)));
  // Dividing by 1 / step (a whole power of ten) rounds as the decimal reads:
  // 7180 / 10000 is 0.718, where 7180 x 0.0001 is 0.7180000000000001.
  const double step = resolution();
  const double r =
      step < 1.0 ? std::round(x / step) / std::round(1.0 / step) : std::round(x / step) * step;
  return sweep::number_text(std::clamp(r, lo, hi));
}

double Variable::resolution() const {
  if (choice) return 1.0;
  if (integer) return 1.0;
  return std::pow(10.0, std::floor(std::log10((hi - lo) / 1000.0)));
}

std::optional<double> Variable::position(const std::string& value) const {
  if (choice) {
    const auto it = std::find(choices.begin(), choices.end(), trim(value));
    if (it == choices.end()) return std::nullopt;
    return (static_cast<double>(it - choices.begin()) + 0.5) / static_cast<double>(choices.size());
  }
  double x = 0.0;
  if (!sweep::parse_number(value, x) || x < lo || x > hi) return std::nullopt;
  return (x - lo) / (hi - lo);
}

Variable parse_variable(const std::string& argument) {
  Variable v;
  v.argument = argument;
  const auto eq = argument.find('=');
  if (eq == std::string::npos || trim(argument.substr(0, eq)).empty())
    fail("--var", argument, "expected KEY=lo:hi, KEY=lo:hi:int or KEY=a,b,c");
  v.key = trim(argument.substr(0, eq));
  const std::string spec = trim(argument.substr(eq + 1));
  if (spec.empty()) fail("--var", argument, "no bounds or values after '='");
  if (spec.find(',') != std::string::npos) {
    const sweep::Axis axis = sweep::parse_axis(v.key + "=" + spec);
    v.choice = true;
    v.choices = axis.values;
    std::set<std::string> distinct(v.choices.begin(), v.choices.end());
    if (distinct.size() < 2) fail("--var", argument, "a choice needs at least two distinct values");
    if (distinct.size() != v.choices.size()) fail("--var", argument, "a value is listed twice");
    return v;
  }
  std::vector<std::string> parts;
  std::string part;
  for (const char c : spec) {
    if (c == ':') {
      parts.push_back(trim(part));
      part.clear();
    } else {
      part += c;
    }
  }
  parts.push_back(trim(part));
  if (parts.size() == 3 && parts[2] == "int") {
    v.integer = true;
    parts.pop_back();
  }
  if (parts.size() != 2)
    fail("--var", argument,
         "expected bounds lo:hi or lo:hi:int, or a list of choices a,b,c (got '" + spec + "')");
  if (!sweep::parse_number(parts[0], v.lo) || !sweep::parse_number(parts[1], v.hi))
    fail("--var", argument, "the bounds must be numbers (got '" + spec + "')");
  if (!(v.lo < v.hi))
    fail("--var", argument,
         "empty bounds: lo must be below hi (got " + parts[0] + ":" + parts[1] + ")");
  if (v.integer && (v.lo != std::floor(v.lo) || v.hi != std::floor(v.hi)))
    fail("--var", argument, "an integer variable needs whole-number bounds");
  return v;
}

std::vector<std::string> column_names(const Layout& layout) {
  std::vector<std::string> names;
  for (const KeyFigureInfo& k : layout.key_figures) {
    if (k.dims.empty()) {
      names.push_back(k.name);
      continue;
    }
    for (const std::string& label : layout.dim_labels(k.dims.front()))
      names.push_back(k.name + "[" + label + "]");
  }
  return names;
}

double Measure::of(const Eigen::Ref<const Eigen::ArrayXXd>& per_path) const {
  const Eigen::ArrayXd x = per_path.col(column);
  if (x.size() == 0) return std::numeric_limits<double>::quiet_NaN();
  if (quantile < 0.0) return x.mean();
  return quantile_of_column(x, quantile);
}

Measure parse_measure(const std::string& text, const Layout& layout, const std::string& option) {
  Measure m;
  std::string name = trim(text), stat = "mean";
  const auto sep = name.find_last_of(":.");
  if (sep != std::string::npos && name.find(']', sep) == std::string::npos) {
    stat = name.substr(sep + 1);
    name = name.substr(0, sep);
  }
  if (stat == "mean") {
    m.quantile = -1.0;
  } else {
    double percent = 0.0;
    if (stat.size() < 2 || stat[0] != 'p' || !sweep::parse_number(stat.substr(1), percent) ||
        !(percent > 0.0 && percent < 100.0))
      fail(option, text,
           "unknown statistic '" + stat + "' (expected mean or a percentile pNN, e.g. p05, p95)");
    m.quantile = percent / 100.0;
  }
  if (name == "prob_over_budget") name = "over_budget";
  const std::vector<std::string> names = column_names(layout);
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) {
    std::string closest;
    std::size_t best = std::numeric_limits<std::size_t>::max();
    for (const std::string& n : names)
      // A name the user shortened ("total_spend") counts as close.
      if (const std::size_t d = n.rfind(name, 0) == 0 ? 1 : edit_distance(name, n); d < best) {
        best = d;
        closest = n;
      }
    std::string message = "unknown key figure '" + name + "'";
    if (best <= std::max<std::size_t>(3, name.size() / 3))
      message += "; did you mean '" + closest + "'?";
    message += " (capsim run --help and docs/output.md list the key figures)";
    fail(option, text, message);
  }
  m.column = it - names.begin();
  for (const KeyFigureInfo& k : layout.key_figures)
    if (m.column >= k.offset && m.column < k.offset + k.width) m.unit = k.unit;
  m.text = name + ":" + stat;
  return m;
}

Objective parse_objective(const std::string& text, const Layout& layout) {
  Objective o;
  const std::string t = trim(text);
  if (t.rfind("min:", 0) == 0) {
    o.maximize = false;
  } else if (t.rfind("max:", 0) == 0) {
    o.maximize = true;
  } else {
    fail("--objective", text, "expected min:KEY_FIGURE[:STAT] or max:KEY_FIGURE[:STAT]");
  }
  o.measure = parse_measure(t.substr(4), layout, "--objective");
  return o;
}

double Constraint::scale() const {
  if (measure.probability() || bound == 0.0) return 1.0;
  return std::abs(bound);
}

double Constraint::excess(double value) const {
  if (std::isnan(value)) return std::numeric_limits<double>::infinity();
  return (at_most ? value - bound : bound - value) / scale();
}

Constraint parse_constraint(const std::string& text, const Layout& layout) {
  Constraint c;
  c.argument = text;
  auto op = text.find("<=");
  c.at_most = true;
  if (op == std::string::npos) {
    op = text.find(">=");
    c.at_most = false;
  }
  if (op == std::string::npos)
    fail("--constraint", text, "expected KEY_FIGURE[:STAT]<=X or KEY_FIGURE[:STAT]>=X");
  c.measure = parse_measure(text.substr(0, op), layout, "--constraint");
  if (!sweep::parse_number(text.substr(op + 2), c.bound))
    fail("--constraint", text,
         "the bound must be a number (got '" + trim(text.substr(op + 2)) + "')");
  return c;
}

void check_constraints(const std::vector<Constraint>& constraints) {
  for (const Constraint& c : constraints) {
    const bool bounded01 = c.measure.unit == "0/1" || c.measure.unit == "fraction";
    if (bounded01 && (c.bound < 0.0 || c.bound > 1.0))
      fail("--constraint", c.argument,
           std::string(c.measure.probability() ? "a probability" : "a fraction") +
               " lies in [0, 1]; the bound " + sweep::number_text(c.bound) + " is outside it");
  }
  for (std::size_t i = 0; i < constraints.size(); ++i)
    for (std::size_t j = 0; j < constraints.size(); ++j) {
      const Constraint& a = constraints[i];
      const Constraint& b = constraints[j];
      if (i == j || a.measure.text != b.measure.text || !a.at_most || b.at_most) continue;
      if (a.bound < b.bound)
        throw InputError("--constraint '" + a.argument + "' and --constraint '" + b.argument +
                         "' contradict each other: " + a.measure.text + " cannot be at most " +
                         sweep::number_text(a.bound) + " and at least " +
                         sweep::number_text(b.bound));
    }
}

void Problem::check() const {
  if (variables.empty())
    throw InputError("optimize: no decision variable (give at least one --var KEY=lo:hi)");
  std::set<std::string> keys;
  for (const Variable& v : variables)
    if (!keys.insert(v.key).second)
      throw InputError("--var '" + v.argument + "': the key " + v.key + " is given twice");
  if (paths < 1) throw InputError("optimize: --paths must be at least 1");
  if (max_evals < 1) throw InputError("optimize: --max-evals must be at least 1");
  if (screen < 0) throw InputError("optimize: --screen must be 0 or more");
  if (screen > max_evals)
    throw InputError("optimize: --screen " + std::to_string(screen) + " exceeds --max-evals " +
                     std::to_string(max_evals));
}

Evaluation evaluate(const Problem& problem, const std::vector<std::string>& values,
                    const Eigen::Ref<const Eigen::ArrayXXd>& per_path) {
  Evaluation e;
  e.values = values;
  e.objective = problem.objective.measure.of(per_path);
  e.feasible = !std::isnan(e.objective);
  for (const Constraint& c : problem.constraints) {
    const double v = c.measure.of(per_path);
    e.constraints.push_back(v);
    const double excess = c.excess(v);
    if (excess > 0.0) {
      e.violation += excess;
      e.feasible = false;
    }
  }
  e.stats = column_stats(per_path);
  return e;
}

bool better(const Problem& problem, const Evaluation& a, const Evaluation& b) {
  const auto objective_better = [&](double x, double y) {
    if (std::isnan(y)) return !std::isnan(x);
    if (std::isnan(x)) return false;
    return problem.objective.maximize ? x > y : x < y;
  };
  if (a.feasible != b.feasible) return a.feasible;
  if (!a.feasible && a.violation != b.violation) return a.violation < b.violation;
  return objective_better(a.objective, b.objective);
}

namespace {

// The search's state: the cache of evaluated points, the budget and the best.
class Search {
 public:
  Search(const Problem& problem, const Evaluator& evaluator, const Options& options)
      : problem_(problem), evaluator_(evaluator), options_(options) {
    for (std::size_t i = 0; i < options.known.size(); ++i) known_[options.known[i].values] = i;
  }

  bool budget_left() const {
    return static_cast<std::int64_t>(result_.evaluations.size()) < problem_.max_evals;
  }

  // The evaluation of `values` (cached); nullopt when the budget is spent.
  std::optional<std::size_t> at(const std::vector<std::string>& values, const char* phase) {
    if (const auto it = cache_.find(values); it != cache_.end()) return it->second;
    if (!budget_left()) return std::nullopt;
    if (options_.cancel && options_.cancel->load()) throw Interrupted();
    Evaluation e;
    if (const auto it = known_.find(values); it != known_.end()) {
      e = options_.known[it->second];
    } else {
      e = evaluate(problem_, values, evaluator_(values));
    }
    e.phase = phase;
    result_.evaluations.push_back(std::move(e));
    const std::size_t index = result_.evaluations.size() - 1;
    cache_[values] = index;
    if (result_.best < 0 || better(problem_, result_.evaluations[index],
                                   result_.evaluations[static_cast<std::size_t>(result_.best)]))
      result_.best = static_cast<std::int64_t>(index);
    if (options_.on_evaluation) options_.on_evaluation(result_.evaluations, result_.best);
    return index;
  }

  std::vector<std::string> values_at(const std::vector<double>& u) const {
    std::vector<std::string> values;
    for (std::size_t i = 0; i < problem_.variables.size(); ++i)
      values.push_back(problem_.variables[i].value_at(u[i]));
    return values;
  }

  const Evaluation& best() const {
    return result_.evaluations[static_cast<std::size_t>(result_.best)];
  }

  void screen() {
    if (problem_.screen < 1) return;
    sweep::Definition definition;
    definition.method = "lhs";
    definition.samples = problem_.screen;
    definition.seed = problem_.seed;
    definition.paths = problem_.paths;
    for (const Variable& v : problem_.variables) {
      sweep::Axis axis;
      axis.argument = v.argument;
      axis.key = v.key;
      if (v.choice) {
        axis.kind = sweep::Axis::Kind::list;
        axis.values = v.choices;
      } else {
        axis.kind = sweep::Axis::Kind::range;
        axis.lo = v.lo;
        axis.hi = v.hi;
        axis.integer = v.integer;
      }
      definition.axes.push_back(std::move(axis));
    }
    for (auto point : sweep::make_points(definition)) {
      // The design's numbers at the variables' resolution, as the search
      // rounds its own.
      for (std::size_t i = 0; i < point.size(); ++i)
        if (const auto u = problem_.variables[i].position(point[i]))
          point[i] = problem_.variables[i].value_at(*u);
      if (!at(point, "screen")) return;
    }
  }

  // COBYLA on the unit cube from the best point so far.
  void local() {
    const std::size_t n = problem_.variables.size();
    std::vector<double> x(n);
    for (std::size_t i = 0; i < n; ++i)
      x[i] = problem_.variables[i].position(best().values[i]).value_or(0.5);
    const double objective_scale = std::max(std::abs(best().objective), 1e-300);
    nlopt::opt opt(nlopt::LN_COBYLA, static_cast<unsigned>(n));
    opt.set_lower_bounds(std::vector<double>(n, 0.0));
    opt.set_upper_bounds(std::vector<double>(n, 1.0));
    std::vector<double> xtol(n);
    for (std::size_t i = 0; i < n; ++i) {
      const Variable& v = problem_.variables[i];
      xtol[i] = v.choice ? 0.5 / static_cast<double>(v.choices.size())
                         : 0.5 * v.resolution() / (v.hi - v.lo);
    }
    opt.set_xtol_abs(xtol);
    opt.set_initial_step(std::vector<double>(n, 0.15));
    // Points already cached cost nothing but still count as NLopt calls.
    opt.set_maxeval(static_cast<int>(std::min<std::int64_t>(20 * problem_.max_evals, 100000)));

    struct Context {
      Search* search;
      std::exception_ptr error;
      std::vector<double> last_x;
      std::size_t last = 0;
      double scale;
    } context{this, nullptr, {}, 0, objective_scale};
    opt.set_min_objective(
        [](const std::vector<double>& u, std::vector<double>&, void* data) {
          auto& c = *static_cast<Context*>(data);
          const Evaluation& e = c.search->point_of(c, u);
          const double f =
              std::isnan(e.objective) ? std::numeric_limits<double>::max() : e.objective / c.scale;
          return c.search->problem_.objective.maximize ? -f : f;
        },
        &context);
    constraint_data_.clear();
    for (std::size_t k = 0; k < problem_.constraints.size(); ++k)
      constraint_data_.push_back(ConstraintData{&context, k});
    for (ConstraintData& d : constraint_data_)
      opt.add_inequality_constraint(
          [](const std::vector<double>& u, std::vector<double>&, void* data) {
            auto& cd = *static_cast<ConstraintData*>(data);
            auto& c = *static_cast<Context*>(cd.context);
            const Evaluation& e = c.search->point_of(c, u);
            const double g = c.search->problem_.constraints[cd.k].excess(e.constraints[cd.k]);
            return std::isfinite(g) ? g : 1e300;
          },
          &d, 0.0);
    double f = 0.0;
    try {
      const nlopt::result r = opt.optimize(x, f);
      stop_ = "COBYLA converged (NLopt result " + std::to_string(static_cast<int>(r)) + ")";
    } catch (const nlopt::forced_stop&) {
      stop_ = "the evaluation budget (--max-evals) was spent";
    } catch (const std::exception& e) {
      stop_ = std::string("COBYLA stopped: ") + e.what();
    }
    if (context.error) std::rethrow_exception(context.error);
  }

  // Pattern search on the integer and choice variables around the best.
  void polish() {
    const std::size_t n = problem_.variables.size();
    std::vector<double> step(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      const Variable& v = problem_.variables[i];
      if (v.choice) step[i] = 1.0;
      if (v.integer) step[i] = std::max(1.0, std::floor((v.hi - v.lo) / 16.0));
    }
    for (;;) {
      bool any_step = false;
      for (std::size_t i = 0; i < n; ++i) any_step = any_step || step[i] > 0.0;
      if (!any_step) return;
      bool improved = false;
      for (std::size_t i = 0; i < n; ++i) {
        if (step[i] <= 0.0) continue;
        for (const double direction : {-1.0, 1.0}) {
          std::vector<std::string> values = best().values;
          if (!move(i, direction * step[i], values)) continue;
          const auto before = result_.best;
          if (!at(values, "polish")) {
            stop_ += "; the polish stopped at the evaluation budget (--max-evals)";
            return;
          }
          if (result_.best != before) improved = true;
        }
      }
      if (improved) continue;
      for (std::size_t i = 0; i < n; ++i) {
        if (step[i] > 1.0)
          step[i] = std::floor(step[i] / 2.0);
        else
          step[i] = 0.0;
      }
    }
  }

  Result finish() {
    result_.stop = stop_;
    return std::move(result_);
  }

  std::optional<std::size_t> start(const std::vector<std::string>& values) {
    const auto index = at(values, "input");
    if (index) result_.input = static_cast<std::int64_t>(*index);
    return index;
  }

  bool empty() const { return result_.evaluations.empty(); }

 private:
  struct ConstraintData {
    void* context;
    std::size_t k;
  };

  template <class Context>
  const Evaluation& point_of(Context& c, const std::vector<double>& u) {
    if (c.last_x.empty() || u != c.last_x) {
      std::optional<std::size_t> index;
      try {
        index = at(values_at(u), "cobyla");
      } catch (...) {
        c.error = std::current_exception();
        throw nlopt::forced_stop();
      }
      if (!index) throw nlopt::forced_stop();
      c.last_x = u;
      c.last = *index;
    }
    return result_.evaluations[c.last];
  }

  // Moves variable i by `delta` units (whole numbers or list elements);
  // false when that leaves its range.
  bool move(std::size_t i, double delta, std::vector<std::string>& values) const {
    const Variable& v = problem_.variables[i];
    if (v.choice) {
      const auto it = std::find(v.choices.begin(), v.choices.end(), values[i]);
      const double j = static_cast<double>(it - v.choices.begin()) + delta;
      if (j < 0 || j >= static_cast<double>(v.choices.size())) return false;
      values[i] = v.choices[static_cast<std::size_t>(j)];
      return true;
    }
    double x = 0.0;
    if (!sweep::parse_number(values[i], x)) return false;
    const double y = std::clamp(x + delta, v.lo, v.hi);
    if (y == x) return false;
    values[i] = std::to_string(static_cast<std::int64_t>(std::llround(y)));
    return true;
  }

  const Problem& problem_;
  const Evaluator& evaluator_;
  const Options& options_;
  std::map<std::vector<std::string>, std::size_t> cache_, known_;
  std::vector<ConstraintData> constraint_data_;
  Result result_;
  std::string stop_ = "the screen used the whole evaluation budget";
};

}  // namespace

Result solve(const Problem& problem, const Evaluator& evaluator, const Options& options) {
  problem.check();
  Search search(problem, evaluator, options);
  if (options.start) search.start(*options.start);
  search.screen();
  if (search.empty()) {
    std::vector<double> middle(problem.variables.size(), 0.5);
    search.at(search.values_at(middle), "screen");
  }
  if (search.budget_left()) search.local();
  if (search.budget_left()) search.polish();
  return search.finish();
}

Interval interval_of(const Measure& measure, const Eigen::Ref<const Eigen::ArrayXXd>& per_path) {
  constexpr double z = 1.959963984540054;
  const Eigen::ArrayXd x = per_path.col(measure.column);
  const auto n = static_cast<double>(x.size());
  Interval r;
  if (x.size() == 0) {
    r.value = r.lo = r.hi = std::numeric_limits<double>::quiet_NaN();
    return r;
  }
  if (measure.probability()) {
    const double p = x.mean();
    const double centre = (p + z * z / (2 * n)) / (1 + z * z / n);
    const double half = z / (1 + z * z / n) * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n));
    return {p, std::max(0.0, centre - half), std::min(1.0, centre + half)};
  }
  if (measure.quantile < 0.0) {
    const double mean = x.mean();
    const double sd = x.size() > 1 ? std::sqrt((x - mean).square().sum() / (n - 1)) : 0.0;
    return {mean, mean - z * sd / std::sqrt(n), mean + z * sd / std::sqrt(n)};
  }
  std::vector<double> sorted(x.data(), x.data() + x.size());
  std::sort(sorted.begin(), sorted.end());
  const double q = measure.quantile;
  const double half = z * std::sqrt(n * q * (1 - q));
  const auto rank = [&](double position) {
    const auto i = static_cast<std::int64_t>(std::clamp(position, 1.0, n));
    return sorted[static_cast<std::size_t>(i - 1)];
  };
  r.value = sweep::detail::quantile_of(sorted, q);
  r.lo = rank(std::floor(n * q - half));
  r.hi = rank(std::ceil(n * q + half + 1));
  return r;
}

bool Check::feasible() const {
  return std::all_of(margins.begin(), margins.end(), [](const Margin& m) { return m.holds(); });
}

Check out_of_sample(const Problem& problem, const Evaluation& plan,
                    const Eigen::Ref<const Eigen::ArrayXXd>& per_path, std::uint64_t seed) {
  Check check;
  check.seed = seed;
  check.paths = per_path.rows();
  check.objective = interval_of(problem.objective.measure, per_path);
  for (std::size_t k = 0; k < problem.constraints.size(); ++k) {
    const Constraint& c = problem.constraints[k];
    Margin m;
    m.in_sample = plan.constraints[k];
    m.value = interval_of(c.measure, per_path);
    if (c.at_most)
      m.margin = {c.bound - m.value.value, c.bound - m.value.hi, c.bound - m.value.lo};
    else
      m.margin = {m.value.value - c.bound, m.value.lo - c.bound, m.value.hi - c.bound};
    check.margins.push_back(m);
  }
  check.stats = column_stats(per_path);
  return check;
}

}  // namespace capsim::optimize
