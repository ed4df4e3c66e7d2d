#include "memory.hpp"

#include <sched.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <thread>

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

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

void check_threads(const std::string& command, int threads) {
  if (threads < 1)
    throw InputError(command + ": --threads must be at least 1 (got " + std::to_string(threads) +
                     ")");
  const int cores = available_cores();
  const long most = static_cast<long>(kThreadsPerCore) * cores;
  if (threads > most)
    throw InputError(command + ": --threads must be at most " + std::to_string(most) + " (" +
                     std::to_string(kThreadsPerCore) + " per core, " + std::to_string(cores) +
                     (cores == 1 ? " core" : " cores") + " available; got " +
                     std::to_string(threads) + ")");
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
