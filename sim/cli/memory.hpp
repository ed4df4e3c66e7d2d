// Resource checks made before a run starts, so that a run that cannot fit in
// memory or on disk is refused at once instead of failing after minutes.
#pragma once

#include <cstdint>
#include <string>

#include "capsim/results.hpp"
#include "capsim/scenario.hpp"

namespace capsim::cli {

// The machine's physical memory in bytes (0 when unknown).
std::uint64_t physical_memory_bytes();

// Bytes free for an unprivileged writer on the file system holding the
// directory of `path` (0 with known = false when it cannot be determined).
std::uint64_t free_disk_bytes(const std::string& path, bool& known);

// Uncompressed size in bytes of the per-path series `--save-paths` stores:
// T * P * S doubles.
std::uint64_t saved_paths_bytes(const Layout& layout, std::int64_t paths);

// The directory `path` would be written in must exist, be a directory and be
// writable; checked before the work so that a typo in a path does not waste
// it. Throws RuntimeError naming the path.
void check_writable_directory(const std::string& path);

// Cores this process may run on (its CPU affinity mask), at least 1.
int available_cores();

// The most --threads accepted, per available core: a few threads per core
// can hide waits, more only add switching, and tens of thousands exhaust the
// machine's process table (other programs' fork then fails).
inline constexpr int kThreadsPerCore = 4;

// --threads must be in [1, kThreadsPerCore * available_cores()]; throws
// InputError naming `command` otherwise.
void check_threads(const std::string& command, int threads);

// "3.2 TiB", "512 MiB", "900 bytes": binary units, one decimal.
std::string format_bytes(std::uint64_t bytes);

}  // namespace capsim::cli
