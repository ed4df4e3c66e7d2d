// Run outputs: the HDF5 file (the only HDF5 user), CSV, JSON and the
// readable key-figure table. The layout is documented in docs/output.md.
#pragma once

#include <Eigen/Core>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "capsim/engine.hpp"
#include "capsim/results.hpp"
#include "capsim/scenario.hpp"

namespace capsim::io {

inline constexpr int kFormatVersion = 3;
// The `format` attribute of a run file (a sweep file's is "capsim sweep").
inline constexpr const char* kRunFormat = "capsim run";

// Writes a run to `path` atomically: everything goes to a temporary file
// beside it, renamed to `path` by commit(). Destroying an uncommitted
// output removes the temporary file.
class Hdf5Output {
 public:
  // Opens the temporary file. Throws RuntimeError (naming the path) when it
  // cannot be created. With save_paths, sink() receives every step's
  // per-path values and stores them chunked and compressed.
  Hdf5Output(const std::string& path, const Layout& layout, std::int64_t paths, bool save_paths);
  ~Hdf5Output();
  Hdf5Output(const Hdf5Output&) = delete;
  Hdf5Output& operator=(const Hdf5Output&) = delete;

  StepSink* sink();  // nullptr without save_paths
  // Writes attributes, labels, series statistics and key figures, closes
  // the file and renames it to its final name.
  void commit(const ScenarioSpec& spec, const RunResult& result);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The name of each key-figure column: "total_spend_usd",
// "unserved_fraction[chat]" (per-class figures name the class).
std::vector<std::string> key_figure_column_names(const Layout& layout);

// Where the scenario came from, for the header of the table: its file, the
// files it extends, every --set override (as arguments to paste back) and
// the capsim version; one indented line each.
std::string provenance_text(const ScenarioSpec& spec);

// Key figures (mean, p05, p50, p95) as a readable table, after a header
// (scenario, paths, seed, steps, run time, provenance_text).
void print_key_figures(std::ostream& out, const ScenarioSpec& spec, const RunResult& result);
// One row per key figure (per class where it applies): name,unit,mean,p05,p50,p95.
void write_key_figures_csv(const std::string& path, const RunResult& result);
void write_key_figures_json(const std::string& path, const ScenarioSpec& spec,
                            const RunResult& result);

}  // namespace capsim::io
