#include <stdexcept>

#include "capsim/results.hpp"

namespace capsim {

namespace {

using D = Dim;

struct SeriesDef {
  const char* name;
  const char* unit;
  const char* description;
  std::vector<Dim> dims;
};

// The order here is the column order of StepValues and of the HDF5 groups.
const std::vector<SeriesDef>& series_defs() {
  static const std::vector<SeriesDef> defs = {
      {"demand_h100e_gpuh",
       "H100e-GPU-hours per step",
       "demand arriving, by home region",
       {D::klass, D::region}},
      {"served_h100e_gpuh",
       "H100e-GPU-hours per step",
       "demand served anywhere, by home region",
       {D::klass, D::region}},
      {"spilled_h100e_gpuh",
       "H100e-GPU-hours per step",
       "part of served that ran in another region, by home region",
       {D::klass, D::region}},
      {"unserved_h100e_gpuh",
       "H100e-GPU-hours per step",
       "inference lost plus training abandoned after max_wait",
       {D::klass, D::region}},
      {"backlog_h100e_gpuh",
       "H100e-GPU-hours",
       "training work waiting at the end of the step",
       {D::klass, D::region}},
      // Region totals: the per-path sums over classes, so that their
      // quantiles are quantiles of the sums (the per-class quantiles cannot
      // be added up).
      {"region_demand_h100e_gpuh",
       "H100e-GPU-hours per step",
       "demand of all classes arriving, by home region",
       {D::region}},
      {"region_served_h100e_gpuh",
       "H100e-GPU-hours per step",
       "demand of all classes served anywhere, by home region",
       {D::region}},
      {"region_unserved_h100e_gpuh",
       "H100e-GPU-hours per step",
       "unserved work of all classes, by home region",
       {D::region}},
      {"region_backlog_h100e_gpuh",
       "H100e-GPU-hours",
       "training work of all classes waiting at the end of the step, by home region",
       {D::region}},
      {"requests",
       "requests per step",
       "requests arriving, by home region (request-level classes; 0 for the others)",
       {D::klass, D::region}},
      {"lost_requests",
       "requests per step",
       "requests not served: the unserved share of the class's demand times its requests",
       {D::klass, D::region}},
      {"capacity_h100e_gpuh",
       "H100e-GPU-hours per step",
       "usable capacity (working, powered, not in outage)",
       {D::region}},
      {"busy_h100e_gpuh",
       "H100e-GPU-hours per step",
       "capacity consumed by served work",
       {D::region}},
      {"utilization", "fraction", "busy / capacity", {D::region}},
      {"outage_fraction", "fraction", "capacity lost to outages", {D::region}},
      {"gpus_installed",
       "GPUs",
       "installed fleet (working, failed or stranded)",
       {D::sku, D::region}},
      {"gpus_failed", "GPUs", "failed, awaiting repair", {D::sku, D::region}},
      {"gpus_stranded", "GPUs", "working but without power under the cap", {D::sku, D::region}},
      {"gpus_on_order", "GPUs", "ordered, not yet delivered", {D::sku, D::region}},
      {"power_mw", "MW", "facility power (IT power x PUE)", {D::region}},
      {"power_cap_mw", "MW", "IT power available for GPUs", {D::region}},
      {"energy_mwh", "MWh per step", "facility energy", {D::region}},
      {"energy_cost_usd", "USD per step", "electricity cost", {D::region}},
      {"opex_usd", "USD per step", "energy cost plus fixed opex", {D::region}},
      {"capex_usd", "USD per step", "capex booked this step", {D::region}},
      {"revenue_usd", "USD per step", "revenue of served work, by home region", {D::region}},
      {"penalty_usd", "USD per step", "penalties of unserved work, by home region", {D::region}},
      {"carbon_t", "t CO2 per step", "emissions of the energy used", {D::region}},
      {"spend_cum_usd", "USD", "cumulative capex plus opex", {}},
      {"budget_left_usd", "USD", "budget minus cumulative spend", {}},
      {"usd_jpy", "JPY per USD", "exchange rate", {}},
      {"electricity_price_usd_per_kwh", "USD per kWh", "electricity price", {D::region}},
      // The procurement policy's reviews, in models::PolicyLimit order.
      {"reviews_limited_by_budget",
       "0/1",
       "1 when this step's policy review ordered less than the region's gap for lack of budget",
       {D::region}},
      {"reviews_limited_by_power",
       "0/1",
       "1 when this step's policy review ordered less than the region's gap for lack of power",
       {D::region}},
      {"reviews_limited_by_supply",
       "0/1",
       "1 when this step's policy review ordered less than the region's gap for lack of supply "
       "(quarterly allocations used, or no SKU available)",
       {D::region}},
  };
  return defs;
}

const std::vector<SeriesDef>& key_figure_defs() {
  static const std::vector<SeriesDef> defs = {
      {"total_spend_usd", "USD", "capex plus opex over the horizon", {}},
      {"capex_usd", "USD", "capex over the horizon", {}},
      {"opex_usd", "USD", "energy and fixed opex over the horizon", {}},
      {"energy_cost_usd", "USD", "electricity cost over the horizon", {}},
      {"budget_overrun_usd", "USD", "max(0, total spend - budget)", {}},
      {"over_budget", "0/1", "1 when total spend exceeds the budget (mean = probability)", {}},
      {"demand_h100e_gpuh", "H100e-GPU-hours", "demand over the horizon", {D::klass}},
      {"unserved_fraction", "fraction", "unserved / demand over the horizon", {D::klass}},
      {"region_unserved_fraction",
       "fraction",
       "unserved / demand of all classes over the horizon, by home region",
       {D::region}},
      {"region_spend_usd", "USD", "capex plus opex of the region over the horizon", {D::region}},
      {"lost_requests",
       "requests",
       "requests not served over the horizon (request-level classes)",
       {D::klass}},
      {"lost_request_fraction",
       "fraction",
       "lost requests / requests over the horizon (0 without requests)",
       {D::klass}},
      {"inference_service_level",
       "fraction",
       "share of steps with no unserved inference in any region",
       {}},
      {"mean_utilization", "fraction", "busy / capacity, summed over steps and regions", {}},
      {"peak_power_over_cap_mw",
       "MW",
       "largest excess of wanted full-load IT power over the cap (0 if never)",
       {}},
      {"cost_per_served_h100e_gpuh_usd",
       "USD per H100e-GPU-hour",
       "total spend / work served (at least 1 H100e-GPU-hour)",
       {}},
      {"energy_mwh", "MWh", "facility energy over the horizon", {}},
      {"carbon_t", "t CO2", "emissions over the horizon", {}},
      {"gpus_bought", "GPUs", "GPUs ordered within the horizon (explicit and policy)", {}},
      {"revenue_usd", "USD", "revenue over the horizon", {}},
      {"penalty_usd", "USD", "penalties over the horizon", {}},
      {"npv_usd", "USD", "revenue - capex - opex, discounted at finance.discount_rate", {}},
      {"reviews_limited_by_budget",
       "reviews",
       "policy reviews (one per region) that ordered less than the gap for lack of budget",
       {}},
      {"reviews_limited_by_power",
       "reviews",
       "policy reviews (one per region) that ordered less than the gap for lack of power",
       {}},
      {"reviews_limited_by_supply",
       "reviews",
       "policy reviews (one per region) that ordered less than the gap for lack of supply",
       {}},
  };
  return defs;
}

}  // namespace

Layout make_layout(const ScenarioSpec& spec) {
  Layout layout;
  for (const auto& r : spec.regions) layout.regions.push_back(r.name);
  for (const auto& k : spec.skus) layout.skus.push_back(k.name);
  for (const auto& c : spec.classes) layout.classes.push_back(c.name);
  layout.step_hours = spec.time.step_hours;
  layout.start = spec.time.start;
  const auto end = std::chrono::sys_days(std::chrono::year_month_day(spec.time.start) +
                                         std::chrono::months(spec.time.horizon_months));
  const double hours = 24.0 * static_cast<double>((end - spec.time.start).count());
  layout.steps = static_cast<int>(hours / spec.time.step_hours + 0.5);

  auto width = [&](const std::vector<Dim>& dims) {
    Eigen::Index w = 1;
    for (Dim d : dims) w *= layout.dim_size(d);
    return w;
  };
  for (const auto& d : series_defs()) {
    SeriesInfo s{d.name, d.unit, d.description, d.dims, layout.series_columns, width(d.dims)};
    layout.series_columns += s.width;
    layout.series.push_back(std::move(s));
  }
  for (const auto& d : key_figure_defs()) {
    KeyFigureInfo k{d.name,       d.unit, d.description, d.dims, layout.key_figure_columns,
                    width(d.dims)};
    layout.key_figure_columns += k.width;
    layout.key_figures.push_back(std::move(k));
  }
  return layout;
}

const SeriesInfo& Layout::find_series(const std::string& name) const {
  for (const auto& s : series)
    if (s.name == name) return s;
  throw std::out_of_range("no series named " + name);
}

const KeyFigureInfo& Layout::find_key_figure(const std::string& name) const {
  for (const auto& k : key_figures)
    if (k.name == name) return k;
  throw std::out_of_range("no key figure named " + name);
}

}  // namespace capsim
