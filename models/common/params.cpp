#include "params.hpp"

#include <utility>

#include "capsim/error.hpp"

namespace capsim::models {

ParamInfo number_param(std::string name, std::string unit, std::string description, bool required,
                       double default_value, double min, double max) {
  ParamInfo info;
  info.name = std::move(name);
  info.type = ParamType::number;
  info.unit = std::move(unit);
  info.description = std::move(description);
  info.required = required;
  info.default_number = default_value;
  info.min = min;
  info.max = max;
  return info;
}

ParamInfo whole_param(std::string name, std::string unit, std::string description,
                      double default_value, double min, double max) {
  ParamInfo info = number_param(std::move(name), std::move(unit), std::move(description), false,
                                default_value, min, max);
  info.whole = true;
  return info;
}

ParamInfo names_param(std::string name, std::string unit, std::string description) {
  ParamInfo info;
  info.name = std::move(name);
  info.type = ParamType::names;
  info.unit = std::move(unit);
  info.description = std::move(description);
  info.required = true;
  return info;
}

ParamInfo table_param(std::string name, std::string unit, std::string description, double min,
                      double max) {
  ParamInfo info;
  info.name = std::move(name);
  info.type = ParamType::table;
  info.unit = std::move(unit);
  info.description = std::move(description);
  info.required = true;
  info.min = min;
  info.max = max;
  return info;
}

ModelConfig with_defaults(const ModelConfig& config, const std::vector<ParamInfo>& params,
                          const std::string& kind) {
  ModelConfig out = config;
  std::vector<Diagnostic> missing;
  for (const auto& p : params) {
    if (out.params.count(p.name)) continue;
    if (p.required) {
      missing.push_back(Diagnostic{config.mark, kind + "." + p.name,
                                   "model \"" + config.model + "\" needs this parameter"});
    } else if (p.type == ParamType::number) {
      out.params[p.name] = p.default_number;
    } else if (p.type == ParamType::text) {
      out.params[p.name] = p.default_text;
    }
  }
  if (!missing.empty()) throw InputError(std::move(missing));
  return out;
}

}  // namespace capsim::models
