// --method grid: every combination of the lists.
#include "design.hpp"

namespace capsim::sweep::detail {

namespace {

class Grid final : public Design {
 public:
  const char* name() const override { return "grid"; }
  const char* description() const override {
    return "every combination of the lists (the last --vary varying fastest)";
  }
  bool accepts_ranges() const override { return false; }

  long double count(const Definition& definition) const override {
    long double count = 1;
    for (const Axis& axis : definition.axes) count *= static_cast<long double>(axis.values.size());
    return count;
  }

  Points points(const Definition& definition) const override {
    const auto& axes = definition.axes;
    const auto count = static_cast<std::int64_t>(this->count(definition));
    Points points;
    points.reserve(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) {
      std::vector<std::string> point(axes.size());
      std::int64_t rest = i;
      for (std::size_t a = axes.size(); a-- > 0;) {
        const auto n = static_cast<std::int64_t>(axes[a].values.size());
        point[a] = axes[a].values[static_cast<std::size_t>(rest % n)];
        rest /= n;
      }
      points.push_back(std::move(point));
    }
    return points;
  }
};

}  // namespace

std::unique_ptr<Design> make_grid() {
  return std::make_unique<Grid>();
}

}  // namespace capsim::sweep::detail
