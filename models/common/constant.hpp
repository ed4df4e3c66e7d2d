// The stateless process of the "none"/"constant" models: its value is the
// same number on every path and step (internal to capsim::models).
#pragma once

#include "capsim/models/process.hpp"

namespace capsim::models {

template <class Interface>
class ConstantProcess final : public Interface {
 public:
  explicit ConstantProcess(double value) : value_(value) {}
  int state_size() const override { return 0; }
  void init(const ChunkContext&, Eigen::Ref<Eigen::ArrayXXd>) const override {}
  void step(const ChunkContext&, int, Eigen::Ref<Eigen::ArrayXXd>,
            Eigen::Ref<Eigen::ArrayXd> value) const override {
    value.setConstant(value_);
  }

 private:
  double value_;
};

}  // namespace capsim::models
