#include "region_totals.hpp"

namespace capsim::detail {

RegionTotalColumns region_total_columns(const Layout& layout) {
  RegionTotalColumns c;
  c.R = static_cast<Eigen::Index>(layout.regions.size());
  c.C = static_cast<Eigen::Index>(layout.classes.size());
  const auto s = [&](const char* name) { return layout.find_series(name).offset; };
  c.demand = s("demand_h100e_gpuh");
  c.served = s("served_h100e_gpuh");
  c.unserved = s("unserved_h100e_gpuh");
  c.backlog = s("backlog_h100e_gpuh");
  c.capex = s("capex_usd");
  c.opex = s("opex_usd");
  c.region_demand = s("region_demand_h100e_gpuh");
  c.region_served = s("region_served_h100e_gpuh");
  c.region_unserved = s("region_unserved_h100e_gpuh");
  c.region_backlog = s("region_backlog_h100e_gpuh");
  c.kf_unserved_fraction = layout.find_key_figure("region_unserved_fraction").offset;
  c.kf_spend = layout.find_key_figure("region_spend_usd").offset;
  return c;
}

void add_region_totals(const RegionTotalColumns& cols, Eigen::Ref<Eigen::ArrayXXd> values,
                       Eigen::Ref<Eigen::ArrayXXd> acc) {
  const Eigen::Index R = cols.R, C = cols.C;
  const std::pair<Eigen::Index, Eigen::Index> sums[] = {{cols.demand, cols.region_demand},
                                                        {cols.served, cols.region_served},
                                                        {cols.unserved, cols.region_unserved},
                                                        {cols.backlog, cols.region_backlog}};
  for (const auto& [from, to] : sums)
    for (Eigen::Index r = 0; r < R; ++r) {
      values.col(to + r).setZero();
      for (Eigen::Index c = 0; c < C; ++c) values.col(to + r) += values.col(from + c * R + r);
    }
  for (Eigen::Index r = 0; r < R; ++r) {
    acc.col(r) += values.col(cols.region_demand + r);
    acc.col(R + r) += values.col(cols.region_unserved + r);
    acc.col(2 * R + r) += values.col(cols.capex + r) + values.col(cols.opex + r);
  }
}

void finish_region_totals(const RegionTotalColumns& cols,
                          const Eigen::Ref<const Eigen::ArrayXXd>& acc,
                          Eigen::Ref<Eigen::ArrayXXd> key_figures) {
  const Eigen::Index R = cols.R;
  for (Eigen::Index r = 0; r < R; ++r) {
    const auto demand = acc.col(r);
    key_figures.col(cols.kf_unserved_fraction + r) =
        (demand > 0).select(acc.col(R + r) / demand, 0.0);
    key_figures.col(cols.kf_spend + r) = acc.col(2 * R + r);
  }
}

}  // namespace capsim::detail
