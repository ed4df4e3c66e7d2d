// --method tornado: one key at a time from the low to the high end of its
// range, every other key at the base point; ranked by the swing.
#include <stdexcept>

#include "design.hpp"

namespace capsim::sensitivity {

TornadoSwings tornado_swings(const Eigen::Ref<const Eigen::ArrayXXd>& y, Eigen::Index inputs) {
  const Eigen::Index k = inputs;
  if (k < 1 || y.rows() != 2 * k + 1)
    throw std::invalid_argument("tornado_swings: needs 2 inputs + 1 rows of outputs");
  TornadoSwings out;
  out.base = y.row(0).transpose();
  out.low.resize(y.cols(), k);
  out.high.resize(y.cols(), k);
  for (Eigen::Index i = 0; i < k; ++i) {
    out.low.col(i) = y.row(2 * i + 1).transpose();
    out.high.col(i) = y.row(2 * i + 2).transpose();
  }
  out.swing = out.high - out.low;
  return out;
}

}  // namespace capsim::sensitivity

namespace capsim::sweep::detail {

namespace {

// The number in `text`, NaN when it holds none.
double number_in(const std::string& text) {
  double x = 0;
  return parse_number(text, x) ? x : std::nan("");
}

class Tornado final : public Design {
 public:
  const char* name() const override { return "tornado"; }
  const char* description() const override {
    return "one key at a time from its low to its high end around the base point (2k + 1 points)";
  }
  bool needs_ranges() const override { return true; }
  bool analyses() const override { return true; }

  long double count(const Definition& definition) const override {
    return 2.0L * static_cast<long double>(definition.axes.size()) + 1.0L;
  }

  Points points(const Definition& definition) const override {
    const auto& axes = definition.axes;
    std::vector<std::string> base(axes.size());
    for (std::size_t a = 0; a < axes.size(); ++a) {
      const std::string own = a < definition.base.size() ? definition.base[a] : "";
      const double x = number_in(own);
      base[a] = x >= axes[a].lo && x <= axes[a].hi ? own : level_value(axes[a], 0.5);
    }
    Points points = {base};
    for (std::size_t a = 0; a < axes.size(); ++a)
      for (const double end : {0.0, 1.0}) {
        points.push_back(base);
        points.back()[a] = level_value(axes[a], end);
      }
    return points;
  }

  sensitivity::Result analyse(const Definition& definition, const Points& points,
                              const Eigen::ArrayXXd& y) const override {
    const auto k = static_cast<Eigen::Index>(definition.axes.size());
    const sensitivity::TornadoSwings s = sensitivity::tornado_swings(y, k);
    Eigen::ArrayXd base(k), low(k), high(k);
    for (Eigen::Index i = 0; i < k; ++i) {
      const auto a = static_cast<std::size_t>(i);
      base[i] = number_in(points.at(0)[a]);
      low[i] = number_in(points.at(2 * a + 1)[a]);
      high[i] = number_in(points.at(2 * a + 2)[a]);
    }
    using M = sensitivity::Measure;
    sensitivity::Result r;
    r.method = name();
    r.description =
        "one input at a time from the low to the high end of its range, the others at the base "
        "point (the scenario's value when it is in the range, else the range's midpoint)";
    r.ranked_by = "swing";
    r.measures = {
        M{"base_value", "base", "the input's value at the base point", M::Over::input,
          M::Unit::input, base},
        M{"low_value", "low", "the low end of the input's range", M::Over::input, M::Unit::input,
          low},
        M{"high_value", "high", "the high end of the input's range", M::Over::input, M::Unit::input,
          high},
        M{"base", "", "the target at the base point", M::Over::target, M::Unit::target, s.base},
        M{"at_low", "target at low", "the target with the input at its low end",
          M::Over::target_input, M::Unit::target, s.low},
        M{"at_high", "target at high", "the target with the input at its high end",
          M::Over::target_input, M::Unit::target, s.high},
        M{"swing", "swing", "target at high minus target at low", M::Over::target_input,
          M::Unit::target, s.swing},
    };
    return r;
  }
};

}  // namespace

std::unique_ptr<Design> make_tornado() {
  return std::make_unique<Tornado>();
}

}  // namespace capsim::sweep::detail
