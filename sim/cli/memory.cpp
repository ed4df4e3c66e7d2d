#include "memory.hpp"

#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "capsim/error.hpp"

namespace capsim::cli {

namespace {

// Sums and products in long double: counts of up to 1e8 paths times a few
// thousand columns stay exact enough, and saturate instead of wrapping.
std::uint64_t to_bytes(long double doubles) {
  const long double bytes = doubles * static_cast<long double>(sizeof(double));
  constexpr auto kMax = static_cast<long double>(std::numeric_limits<std::uint64_t>::max());
  return bytes >= kMax ? std::numeric_limits<std::uint64_t>::max()
                       : static_cast<std::uint64_t>(bytes);
}

}  // namespace

std::uint64_t estimate_run_bytes(const ScenarioSpec& spec, const Layout& layout,
                                 std::int64_t paths) {
  const auto P = static_cast<long double>(std::max<std::int64_t>(paths, 0));
  const auto T = static_cast<long double>(std::max(layout.steps, 0));
  const auto R = static_cast<long double>(spec.regions.size());
  const auto K = static_cast<long double>(spec.skus.size());
  const auto C = static_cast<long double>(spec.classes.size());
  const auto S = static_cast<long double>(layout.series_columns);
  const auto F = static_cast<long double>(layout.key_figure_columns);
  const double h = spec.time.step_hours > 0 ? spec.time.step_hours : 1.0;

  // Policy orders in transit: at most one per step of the longest lead time
  // plus the longest delay, never more than the run has steps.
  double max_lead_hours = 0;
  for (const auto& sku : spec.skus)
    max_lead_hours = std::max(max_lead_hours, 24.0 * sku.lead_time_days);
  const double delay_hours = 24.0 * spec.procurement.supply.max_delay_days;
  const long double policy_slots =
      std::min(T + 1, static_cast<long double>(std::ceil((max_lead_hours + delay_hours) / h)) + 3);
  long double backlog_slots = 0;
  for (const auto& c : spec.classes)
    backlog_slots =
        std::max(backlog_slots, static_cast<long double>(std::floor(c.max_wait_hours / h)) + 1);

  long double widest = F;
  for (const auto& s : layout.series) widest = std::max(widest, static_cast<long double>(s.width));

  const long double per_path_state =
      R * K * (3 + 2 * policy_slots) + C * R * (8 + backlog_slots) + 50;
  const long double doubles = P * S + P * F + P * per_path_state + T * 4 * S + P * widest;
  return to_bytes(doubles);
}

std::uint64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return 0;
  return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size);
}

std::uint64_t free_disk_bytes(const std::string& path, bool& known) {
  known = false;
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  struct statvfs fs {};
  // Pseudo file systems (/proc, /sys) report no blocks at all: unknown.
  if (statvfs(dir.c_str(), &fs) != 0 || fs.f_blocks == 0) return 0;
  known = true;
  return static_cast<std::uint64_t>(fs.f_bavail) * static_cast<std::uint64_t>(fs.f_frsize);
}

std::uint64_t saved_paths_bytes(const Layout& layout, std::int64_t paths) {
  return to_bytes(static_cast<long double>(std::max(layout.steps, 0)) *
                  static_cast<long double>(std::max<std::int64_t>(paths, 0)) *
                  static_cast<long double>(layout.series_columns));
}

std::string format_bytes(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " bytes";
  auto value = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", value, kUnits[unit]);
  return text;
}

void check_writable_directory(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  const auto status = std::filesystem::status(dir, ec);
  if (!std::filesystem::exists(status))
    throw RuntimeError("cannot write " + path + ": directory " + dir.string() + " does not exist");
  if (!std::filesystem::is_directory(status))
    throw RuntimeError("cannot write " + path + ": " + dir.string() + " is not a directory");
  if (access(dir.c_str(), W_OK) != 0)
    throw RuntimeError("cannot write " + path + ": directory " + dir.string() +
                       " is not writable (" + std::strerror(errno) + ")");
}

}  // namespace capsim::cli
