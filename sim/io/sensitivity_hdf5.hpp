// The `sensitivity` group of a sweep file (docs/output.md). Internal to
// sim/io, the only HDF5 user.
#pragma once

#include <optional>

#include "capsim/study/sensitivity.hpp"
#include "hdf5_file.hpp"

namespace capsim::io::detail {

void write_sensitivity(const Writer& writer, hid_t root, const sensitivity::Result& result);

// nullopt when the file has no sensitivity group; fails (InputError naming
// the file) when it has one of another version or a bad shape.
std::optional<sensitivity::Result> read_sensitivity(const Reader& reader, hid_t root);

}  // namespace capsim::io::detail
