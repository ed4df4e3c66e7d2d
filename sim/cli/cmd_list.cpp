#include <boost/program_options.hpp>
#include <iomanip>
#include <iostream>

#include "capsim/error.hpp"
#include "capsim/models/builtin.hpp"
#include "capsim/results.hpp"
#include "commands.hpp"
#include "parse.hpp"

namespace po = boost::program_options;

namespace capsim::cli {

namespace {

template <class Interface>
void print_registry(std::ostream& out, const models::Registry<Interface>& registry) {
  out << registry.kind() << ":\n";
  for (const auto& e : registry.entries()) {
    out << "  " << std::left << std::setw(18) << e.name << e.description << '\n';
    for (const auto& p : e.params) {
      out << "      " << std::setw(26) << p.name;
      if (!p.unit.empty()) out << '[' << p.unit << "] ";
      out << p.description;
      if (p.required)
        out << " (required)";
      else if (p.type == models::ParamType::number)
        out << " (default " << p.default_number << ')';
      out << '\n';
    }
  }
}

std::string dims_text(const std::vector<Dim>& dims) {
  std::string text;
  for (Dim d : dims)
    text += std::string(text.empty() ? "" : ",") + (d == Dim::region ? "region"
                                                    : d == Dim::sku  ? "sku"
                                                                     : "class");
  return text.empty() ? "-" : text;
}

}  // namespace

int list_command(const Args& args) {
  po::options_description opts(R"(Usage: capsim list [models|metrics]

Lists the pluggable models with their parameters (models) or the series and
key figures a run writes (metrics). Without an argument, both.

Options)");
  std::string what;
  opts.add_options()("help,h", "show this help");
  const auto parsed = parse_args(args, opts, "what", &what, 1);
  if (!parsed) return 0;
  if (!what.empty() && what != "models" && what != "metrics")
    throw InputError("list: unknown topic '" + what + "' (expected models or metrics)");

  if (what.empty() || what == "models") {
    const auto r = models::builtin_registries();
    std::cout << "Models (YAML: the slot key, `model: NAME`, then its parameters)\n\n";
    print_registry(std::cout, r.growth);
    print_registry(std::cout, r.noise);
    print_registry(std::cout, r.shocks);
    print_registry(std::cout, r.outages);
    print_registry(std::cout, r.price);
    print_registry(std::cout, r.fx);
    print_registry(std::cout, r.failures);
    print_registry(std::cout, r.procurement);
    print_registry(std::cout, r.queue);
    std::cout << '\n';
  }
  if (what.empty() || what == "metrics") {
    // Dimension sizes do not matter for the catalog; any scenario shape works.
    ScenarioSpec shape;
    shape.regions.resize(1);
    shape.skus.resize(1);
    shape.classes.resize(1);
    const Layout layout = make_layout(shape);
    std::cout << "Series (per step; mean, p05, p50, p95 across paths)\n";
    for (const auto& s : layout.series)
      std::cout << "  " << std::left << std::setw(32) << s.name << std::setw(16)
                << dims_text(s.dims) << s.unit << ": " << s.description << '\n';
    std::cout << "\nKey figures (per path, and mean, p05, p50, p95)\n";
    for (const auto& k : layout.key_figures)
      std::cout << "  " << std::left << std::setw(32) << k.name << std::setw(16)
                << dims_text(k.dims) << k.unit << ": " << k.description << '\n';
  }
  return 0;
}

}  // namespace capsim::cli
