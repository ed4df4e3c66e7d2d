#include "capsim/io/optimize_output.hpp"

#include <hdf5.h>

#include <cmath>
#include <sstream>

#include "capsim/error.hpp"
#include "capsim/study/sweep.hpp"
#include "hdf5_file.hpp"
#include "scenario_tree.hpp"
#include "text_util.hpp"

namespace capsim::io {

namespace {

using detail::Handle;
using detail::Reader;
using detail::TreeNode;
using detail::Writer;

constexpr const char* kFormat = "capsim-optimize";

std::vector<std::string> split_key(const std::string& key) {
  std::vector<std::string> segments;
  std::string segment;
  std::istringstream in(key);
  while (std::getline(in, segment, '.')) segments.push_back(segment);
  return segments;
}

bool is_index(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// The map entry `key` of `node`, made when missing.
TreeNode& child(TreeNode& node, const std::string& key) {
  if (!node.is_map()) {
    node = TreeNode{};
    node.kind = TreeNode::Kind::map;
  }
  if (TreeNode* found = node.find(key)) return *found;
  node.entries.push_back(detail::TreeEntry{key, {}, TreeNode{}});
  return node.entries.back().value;
}

}  // namespace

std::string plan_yaml(const ScenarioSpec& planned, const std::string& extend_path,
                      const std::vector<std::string>& keys, const std::string& comment) {
  detail::Sources sources;
  const int file = sources.add("plan");
  std::vector<Diagnostic> diagnostics;
  const auto tree =
      detail::parse_tree(planned.resolved_yaml, file, sources, detail::TreeLimits{}, diagnostics);
  if (!tree) throw RuntimeError("plan: cannot read back the planned scenario");
  TreeNode overlay;
  overlay.kind = TreeNode::Kind::map;
  for (const std::string& key : keys) {
    // Up to the first list index: a list is written whole.
    std::vector<std::string> path;
    for (const std::string& s : split_key(key)) {
      if (is_index(s)) break;
      path.push_back(s);
    }
    const TreeNode* source = &*tree;
    for (const std::string& s : path) {
      source = source->is_map() ? source->find(s) : nullptr;
      if (!source) break;
    }
    if (!source || path.empty()) continue;
    TreeNode* target = &overlay;
    for (const std::string& s : path) target = &child(*target, s);
    *target = *source;
  }
  std::string text = comment;
  text += "extend: " + detail::emit_tree([&] {
            TreeNode n;
            n.kind = TreeNode::Kind::scalar;
            n.text = extend_path;
            n.quoted = true;
            return n;
          }());
  if (TreeNode* name = overlay.find("name"); !name) {
    TreeNode n;
    n.kind = TreeNode::Kind::scalar;
    n.text = planned.name + "-optimized";
    n.quoted = true;
    overlay.entries.insert(overlay.entries.begin(), detail::TreeEntry{"name", {}, n});
  }
  text += detail::emit_tree(overlay);
  return text;
}

std::string problem_text(const optimize::Problem& problem, const std::vector<std::string>& sets) {
  std::ostringstream out;
  out << "objective: " << (problem.objective.maximize ? "max:" : "min:")
      << problem.objective.measure.text << '\n';
  for (const auto& v : problem.variables) out << "var: " << v.argument << '\n';
  for (const auto& c : problem.constraints) out << "constraint: " << c.argument << '\n';
  for (const auto& s : sets) out << "set: " << s << '\n';
  out << "seed: " << problem.seed << "\npaths: " << problem.paths << "\nscreen: " << problem.screen
      << "\nmax_evals: " << problem.max_evals << '\n';
  return out.str();
}

void write_optimize_file(const std::string& path, const OptimizeRecord& record) {
  const optimize::Problem& problem = *record.problem;
  const optimize::Result& result = *record.result;
  const Writer writer(path);
  const std::string temp = detail::temporary_name(path);
  detail::TempFileGuard guard;
  Handle file = detail::create_file(temp, path, writer);
  guard.arm(temp);
  const hid_t root = file.get();
  const auto E = static_cast<hsize_t>(result.evaluations.size());
  const auto V = static_cast<hsize_t>(problem.variables.size());
  const auto C = static_cast<hsize_t>(problem.constraints.size());
  const auto K = static_cast<hsize_t>(record.columns.size());

  writer.attr_string(root, "format", kFormat);
  const int version = kOptimizeFormatVersion;
  writer.attr_scalar(root, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT, &version);
  writer.attr_string(root, "capsim_version", CAPSIM_VERSION);
  writer.attr_string(root, "created", detail::utc_now_iso8601());
  writer.attr_string(root, "scenario_file", detail::printable_utf8(record.scenario_file));
  writer.attr_string(root, "scenario_name", record.scenario_name);
  writer.attr_strings(root, "overrides", detail::printable_utf8(record.overrides));
  writer.attr_string(root, "problem", problem_text(problem, record.overrides));
  writer.attr_string(
      root, "objective",
      (problem.objective.maximize ? "max:" : "min:") + problem.objective.measure.text);
  writer.attr_uint64(root, "seed", problem.seed);
  writer.attr_int64(root, "paths", problem.paths);
  writer.attr_int64(root, "screen", problem.screen);
  writer.attr_int64(root, "max_evals", problem.max_evals);
  writer.attr_int64(root, "best", result.best);
  writer.attr_int64(root, "input", result.input);
  writer.attr_int64(root, "complete", record.complete ? 1 : 0);
  writer.attr_int64(root, "feasible", result.feasible() ? 1 : 0);
  writer.attr_string(root, "stop", result.stop);
  writer.attr_string(root, "plan_yaml", record.plan_yaml);

  {
    const Handle vars = writer.group(root, "variables");
    std::vector<std::string> keys, specs;
    for (const auto& v : problem.variables) {
      keys.push_back(v.key);
      specs.push_back(v.argument.substr(v.argument.find('=') + 1));
    }
    writer.strings(vars.get(), "keys", keys);
    writer.strings(vars.get(), "specs", specs);
  }
  {
    const Handle cons = writer.group(root, "constraints");
    std::vector<std::string> text, measure;
    std::vector<double> bound;
    std::vector<std::int64_t> at_most;
    for (const auto& c : problem.constraints) {
      text.push_back(c.argument);
      measure.push_back(c.measure.text);
      bound.push_back(c.bound);
      at_most.push_back(c.at_most ? 1 : 0);
    }
    writer.strings(cons.get(), "text", text);
    writer.strings(cons.get(), "measure", measure);
    writer.doubles(cons.get(), "bound", {C}, bound.data());
    writer.int64s(cons.get(), "at_most", at_most);
  }
  {
    const Handle evals = writer.group(root, "evaluations");
    std::vector<std::string> values, phase;
    std::vector<double> numeric, objective, constraints, violation, stats;
    std::vector<std::uint8_t> feasible;
    for (const auto& e : result.evaluations) {
      for (const auto& v : e.values) {
        values.push_back(v);
        double x = 0.0;
        numeric.push_back(sweep::parse_number(v, x) ? x : std::nan(""));
      }
      phase.push_back(e.phase);
      objective.push_back(e.objective);
      constraints.insert(constraints.end(), e.constraints.begin(), e.constraints.end());
      violation.push_back(e.violation);
      feasible.push_back(e.feasible ? 1 : 0);
      for (Eigen::Index j = 0; j < 4; ++j)
        for (Eigen::Index k = 0; k < e.stats.cols(); ++k) stats.push_back(e.stats(j, k));
    }
    writer.strings(evals.get(), "values", values, {E, V});
    writer.doubles(evals.get(), "numeric", {E, V}, numeric.data());
    writer.strings(evals.get(), "phase", phase);
    writer.doubles(evals.get(), "objective", {E}, objective.data());
    writer.doubles(evals.get(), "constraints", {E, C}, constraints.data());
    writer.doubles(evals.get(), "violation", {E}, violation.data());
    writer.uint8s(evals.get(), "feasible", feasible);
    const Handle s = writer.doubles(evals.get(), "key_figure_stats", {E, 4, K}, stats.data());
    writer.attr_string(s.get(), "dims", "evaluation,stat,column");
  }
  {
    const Handle labels = writer.group(root, "key_figures");
    writer.strings(labels.get(), "columns", record.columns);
    writer.strings(labels.get(), "units", record.units);
    writer.strings(labels.get(), "stats", {"mean", "p05", "p50", "p95"});
  }
  if (record.check) {
    const optimize::Check& check = *record.check;
    const Handle plan = writer.group(root, "plan");
    writer.attr_uint64(plan.get(), "seed", check.seed);
    writer.attr_int64(plan.get(), "paths", check.paths);
    writer.attr_int64(plan.get(), "feasible", check.feasible() ? 1 : 0);
    const double objective[3] = {check.objective.value, check.objective.lo, check.objective.hi};
    writer.doubles(plan.get(), "objective", {3}, objective);
    std::vector<double> in_sample, value, margin;
    for (const auto& m : check.margins) {
      in_sample.push_back(m.in_sample);
      for (const double x : {m.value.value, m.value.lo, m.value.hi}) value.push_back(x);
      for (const double x : {m.margin.value, m.margin.lo, m.margin.hi}) margin.push_back(x);
    }
    writer.doubles(plan.get(), "constraint_in_sample", {C}, in_sample.data());
    writer.doubles(plan.get(), "constraint_value", {C, 3}, value.data());
    writer.doubles(plan.get(), "margin", {C, 3}, margin.data());
    std::vector<double> stats;
    for (Eigen::Index j = 0; j < 4; ++j)
      for (Eigen::Index k = 0; k < check.stats.cols(); ++k) stats.push_back(check.stats(j, k));
    writer.doubles(plan.get(), "key_figure_stats", {4, K}, stats.data());
  }
  writer.check_status(H5Fflush(root, H5F_SCOPE_GLOBAL), "flush");
  writer.check_status(file.reset(), "close");
  detail::publish(temp, path);
  guard.release();
}

std::vector<optimize::Evaluation> read_optimize_evaluations(const std::string& path,
                                                            const std::string& problem) {
  const Reader reader(path);
  const hid_t root = reader.root();
  if (!reader.has_attr(root, "format") || reader.attr_string(root, "format") != kFormat)
    throw InputError("--resume: " + path + " is not a capsim optimize file");
  if (reader.attr_string(root, "problem") != problem)
    throw InputError("--resume: " + path +
                     " holds a different problem (other --var, --objective, --constraint, "
                     "--set, --seed, --paths, --screen or --max-evals); remove it or choose "
                     "another -o");
  const Handle evals = reader.group(root, "evaluations");
  const auto values = reader.strings(evals.get(), "values");
  const auto phase = reader.strings(evals.get(), "phase");
  const auto objective = reader.doubles(evals.get(), "objective");
  const auto constraints = reader.doubles(evals.get(), "constraints");
  const auto violation = reader.doubles(evals.get(), "violation");
  const auto feasible = reader.uint8s(evals.get(), "feasible");
  const auto stats = reader.doubles(evals.get(), "key_figure_stats");
  const std::size_t E = objective.size();
  std::vector<optimize::Evaluation> out(E);
  if (E == 0) return out;
  const std::size_t V = values.size() / E, C = constraints.size() / E, K = stats.size() / (4 * E);
  for (std::size_t i = 0; i < E; ++i) {
    optimize::Evaluation& e = out[i];
    e.values.assign(values.begin() + static_cast<std::ptrdiff_t>(i * V),
                    values.begin() + static_cast<std::ptrdiff_t>((i + 1) * V));
    e.phase = phase[i];
    e.objective = objective[i];
    e.constraints.assign(constraints.begin() + static_cast<std::ptrdiff_t>(i * C),
                         constraints.begin() + static_cast<std::ptrdiff_t>((i + 1) * C));
    e.violation = violation[i];
    e.feasible = feasible[i] != 0;
    e.stats.resize(4, static_cast<Eigen::Index>(K));
    for (std::size_t j = 0; j < 4; ++j)
      for (std::size_t k = 0; k < K; ++k)
        e.stats(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(k)) =
            stats[(i * 4 + j) * K + k];
  }
  return out;
}

}  // namespace capsim::io

namespace capsim::io {

namespace {

using detail::Display;
using detail::display_for;
using detail::print_table;
using detail::shown;

// A measure's label with its bound and the unit its values are shown in.
std::string measure_label(const optimize::Measure& m, const std::string& bound) {
  const Display d = display_for(m.unit);
  std::string label = m.text + bound;
  if (!d.unit.empty() && d.unit != "1") label += " (" + d.unit + ")";
  return label;
}

}  // namespace

void write_text_file(const std::string& path, const std::string& text) {
  detail::TextOutput file(path);
  file.out << text;
  file.commit();
}

void print_optimize_summary(std::ostream& out, const Comparison& c) {
  const optimize::Problem& problem = *c.problem;
  const optimize::Evaluation& plan = *c.plan;
  const optimize::Check& check = *c.check;
  std::vector<std::vector<std::string>> lines;
  const std::string paths = std::to_string(problem.paths) + " paths";
  lines.push_back({"", "input, " + paths, "plan, " + paths,
                   "plan, " + std::to_string(check.paths) + " new paths [95% interval]",
                   "margin [95% interval]"});
  for (std::size_t i = 0; i < problem.variables.size(); ++i) {
    const std::string& input = c.input_values[i];
    lines.push_back(
        {problem.variables[i].key, input.empty() ? "-" : input, plan.values[i], "", ""});
  }
  const auto interval = [](const Display& d, const optimize::Interval& v) {
    return shown(v.value, d) + " [" + shown(v.lo, d) + ", " + shown(v.hi, d) + "]";
  };
  const optimize::Measure& objective = problem.objective.measure;
  const Display od = display_for(objective.unit);
  lines.push_back({(problem.objective.maximize ? "max " : "min ") + measure_label(objective, ""),
                   c.input ? shown(c.input->objective, od) : "-", shown(plan.objective, od),
                   interval(od, check.objective), ""});
  for (std::size_t k = 0; k < problem.constraints.size(); ++k) {
    const optimize::Constraint& con = problem.constraints[k];
    const optimize::Measure& m = con.measure;
    const optimize::Margin& margin = check.margins[k];
    const Display d = display_for(m.unit);
    lines.push_back({measure_label(m, (con.at_most ? " <= " : " >= ") + shown(con.bound, d)),
                     c.input ? shown(c.input->constraints[k], d) : "-",
                     shown(plan.constraints[k], d), interval(d, margin.value),
                     interval(d, margin.margin) + (margin.holds() ? "" : " missed")});
  }
  lines.push_back({"meets every constraint", c.input ? (c.input->feasible ? "yes" : "no") : "-",
                   plan.feasible ? "yes" : "no", check.feasible() ? "yes" : "no", ""});
  print_table(out, lines, 0, 1);
}

}  // namespace capsim::io
