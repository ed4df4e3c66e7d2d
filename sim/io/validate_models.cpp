// Pluggable slots (model: name plus parameters) and their parameters.
#include "validator.hpp"

#include <unordered_set>

namespace capsim::io::detail {

namespace {

std::string param_expectation(const ParamInfo& p) {
  const std::string unit = p.unit.empty() ? "" : " (" + p.unit + ")";
  switch (p.type) {
    case ParamType::number:
      return expected_number(Range::closed(p.min, p.max), p.whole) + unit;
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

}  // namespace

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
  const auto find_param = [&](const std::string& key) {
    return std::find_if(params->begin(), params->end(),
                        [&](const ParamInfo& p) { return p.name == key; });
  };
  const auto unknown_param = [&](const TreeEntry& e) {
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
  };
  std::vector<std::string> given;
  if (node && node->is_map()) {
    for (const auto& e : node->entries) {
      if (e.key == "model") continue;
      const auto it = find_param(e.key);
      if (it == params->end()) {
        unknown_param(e);
        continue;
      }
      given.push_back(e.key);
      read_param(e.value, join_path(path, e.key), *it, config);
    }
    // A parameter given as null takes its default; an unknown one is an error.
    for (const auto& e : node->nulls)
      if (e.key != "model" && find_param(e.key) == params->end() && !node->find(e.key))
        unknown_param(e);
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
      if (const auto x = number(n, path, Range::closed(info.min, info.max), info.whole))
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
      // A required list must name something: the headroom policy with no
      // SKUs could never buy.
      if (info.required && n.items.empty()) {
        error(n.pos, path,
              "empty list (got [], expected " + param_expectation(info) + ", at least one)");
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

}  // namespace capsim::io::detail
