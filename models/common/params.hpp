// Building ParamInfo lists and reading a model's parameters (internal to
// capsim::models).
#pragma once

#include <string>
#include <vector>

#include "capsim/models/registry.hpp"
#include "capsim/scenario.hpp"

namespace capsim::models {

// A number parameter with its unit and valid range [min, max]. Optional when
// `required` is false, then `default_value` is used.
ParamInfo number_param(std::string name, std::string unit, std::string description, bool required,
                       double default_value, double min, double max);

// A number parameter that must be a whole number in [min, max], optional
// with `default_value`.
ParamInfo whole_param(std::string name, std::string unit, std::string description,
                      double default_value, double min, double max);

// A list of names (e.g. SKU names), always required.
ParamInfo names_param(std::string name, std::string unit, std::string description);

// A table of (x, y) rows; `min` and `max` bound the y values. Always required.
ParamInfo table_param(std::string name, std::string unit, std::string description, double min,
                      double max);

// `config` with every missing optional parameter of `params` set to its
// default. The loader already does this for scenarios; factories call it too
// so a hand-made ModelConfig (tests, tools) behaves the same. Throws
// InputError naming every missing required parameter.
ModelConfig with_defaults(const ModelConfig& config, const std::vector<ParamInfo>& params,
                          const std::string& kind);

}  // namespace capsim::models
