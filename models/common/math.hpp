// Element-wise transcendental functions that give the same bits for every
// element (internal to capsim::models).
//
// Eigen evaluates .exp() with its own SIMD polynomial on packets and with
// std::exp on the elements before and after them, and which elements fall
// in a packet depends on the chunk's size and alignment. The two differ in
// the last bit, which would make results depend on chunking (SPEC 3.2). These
// wrappers apply std::exp to every element.
#pragma once

#include <Eigen/Core>
#include <cmath>

namespace capsim::models {

struct ExpOp {
  double operator()(double x) const { return std::exp(x); }
};

template <class Derived>
auto exp_each(const Eigen::ArrayBase<Derived>& x) {
  return x.unaryExpr(ExpOp{});
}

}  // namespace capsim::models
