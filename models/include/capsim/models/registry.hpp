// One registry per model kind: name -> (description, parameters, factory).
//
// The YAML loader checks a slot's parameters against `params` (type, range,
// default) before the engine asks the registry to build the model, so a
// factory may read every declared parameter from its ModelConfig without
// further checks.
#pragma once

#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "capsim/error.hpp"
#include "capsim/scenario.hpp"

namespace capsim::models {

enum class ParamType { number, text, names, table };

struct ParamInfo {
  std::string name;
  ParamType type = ParamType::number;
  std::string unit;  // e.g. "1/year", "days", "" for dimensionless
  std::string description;
  bool required = false;
  double default_number = 0.0;                            // used when !required and type == number
  double min = -std::numeric_limits<double>::infinity();  // valid range (number,
  double max = std::numeric_limits<double>::infinity();   // table y values)
  bool whole = false;                                     // number: only whole values are valid
  std::string default_text;                               // used when !required and type == text
};

template <class Interface>
class Registry {
 public:
  using Factory = std::function<std::unique_ptr<Interface>(const ModelConfig&)>;
  struct Entry {
    std::string name;
    std::string description;  // one line
    std::vector<ParamInfo> params;
    Factory make;
  };

  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  const std::string& kind() const { return kind_; }
  void add(Entry entry) { entries_.push_back(std::move(entry)); }
  const std::vector<Entry>& entries() const { return entries_; }

  const Entry* find(const std::string& name) const {
    for (const auto& e : entries_)
      if (e.name == name) return &e;
    return nullptr;
  }

  std::string names() const {
    std::string out;
    for (const auto& e : entries_) out += (out.empty() ? "" : ", ") + e.name;
    return out;
  }

  // Throws InputError naming the valid models when `config.model` is unknown.
  std::unique_ptr<Interface> make(const ModelConfig& config) const {
    const Entry* e = find(config.model);
    if (!e)
      throw InputError({Diagnostic{
          config.mark, kind_,
          "unknown model \"" + config.model + "\" (expected one of: " + names() + ")"}});
    return e->make(config);
  }

 private:
  std::string kind_;
  std::vector<Entry> entries_;
};

}  // namespace capsim::models
