// HDF5 helpers shared by the run and sweep files: owned identifiers, a writer
// and a reader whose failures name the user's file, and the atomic
// temporary-file-then-rename publication. Internal to sim/io, the only HDF5
// user.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "capsim/results.hpp"
#include "capsim/scenario.hpp"

namespace capsim::io::detail {

// Owns one HDF5 identifier and closes it with the matching H5?close.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer close) : id_(id), close_(close) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept
      : id_(std::exchange(other.id_, H5I_INVALID_HID)), close_(other.close_) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
      close_ = other.close_;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  explicit operator bool() const { return id_ >= 0; }
  // Closes now; returns the close status (negative on failure).
  herr_t reset() {
    herr_t status = 0;
    if (id_ >= 0) status = close_(id_);
    id_ = H5I_INVALID_HID;
    return status;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer close_ = nullptr;
};

// The innermost message on HDF5's error stack, which names the actual cause
// (the outer ones only repeat which API call failed). Clears the stack.
std::string hdf5_error_detail();

// Turns off HDF5's own error printing and its exit-time clean-up (capsim
// reports failures itself; after a failed write the clean-up would crash
// trying to close the file again).
void quiet_hdf5();

std::string utc_now_iso8601();

// "region", "sku" or "workload".
const char* dim_name(Dim d);
// Comma-separated dimension names, e.g. "step,workload,region"; `leading` names
// the dimensions before the object's own ("" for none).
std::string dims_text(std::string leading, const std::vector<Dim>& dims);

// HDF5 calls on one output file; every failure becomes a RuntimeError that
// names the file the user asked for (not the temporary one).
class Writer {
 public:
  explicit Writer(std::string path) : path_(std::move(path)) {}

  [[noreturn]] void fail(const std::string& what) const;
  hid_t check(hid_t id, const std::string& what) const {
    if (id < 0) fail(what);
    return id;
  }
  void check_status(herr_t status, const std::string& what) const {
    if (status < 0) fail(what);
  }

  Handle group(hid_t parent, const std::string& name) const;
  Handle string_type() const;
  // A simple dataspace of shape `dims`; a scalar one when `dims` is empty.
  Handle simple_space(const std::vector<hsize_t>& dims) const;
  void attr_string(hid_t object, const std::string& name, const std::string& value) const;
  // A scalar attribute stored as `file_type`, given in memory as `memory_type`.
  void attr_scalar(hid_t object, const std::string& name, hid_t file_type, hid_t memory_type,
                   const void* value) const;
  void attr_double(hid_t object, const std::string& name, double value) const;
  void attr_int64(hid_t object, const std::string& name, std::int64_t value) const;
  void attr_uint64(hid_t object, const std::string& name, std::uint64_t value) const;
  // A one-dimensional string attribute (of length 0 when `values` is empty).
  void attr_strings(hid_t object, const std::string& name,
                    const std::vector<std::string>& values) const;
  // A string dataset of shape `dims` (one dimension when empty) from
  // row-major `values`.
  Handle strings(hid_t parent, const std::string& name, const std::vector<std::string>& values,
                 std::vector<hsize_t> dims = {}) const;
  // Chunked, shuffled and deflated: for per-path data, which can be large.
  Handle compressed_layout(const std::vector<hsize_t>& chunk) const;
  Handle double_dataset(hid_t parent, const std::string& name, const std::vector<hsize_t>& dims,
                        hid_t create_plist = H5P_DEFAULT) const;
  // Writes a whole dataset from row-major `data`.
  Handle doubles(hid_t parent, const std::string& name, const std::vector<hsize_t>& dims,
                 const double* data, hid_t create_plist = H5P_DEFAULT) const;
  // Of shape `dims` (one dimension when empty) from row-major `data`.
  Handle int64s(hid_t parent, const std::string& name, const std::vector<std::int64_t>& data,
                const std::vector<hsize_t>& dims = {}) const;
  Handle uint8s(hid_t parent, const std::string& name, const std::vector<std::uint8_t>& data) const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The coordinate variables of one group, in netCDF's data model as xarray
// reads it (through h5netcdf or netCDF4): a dataset named after its
// dimension and made an HDF5 dimension scale (H5DS) of that name, to which
// the group's data attach axis by axis. netCDF readers look for dimensions
// only in a group and its parents, so every group that holds data carries
// the coordinates its data use.
class Coordinates {
 public:
  Coordinates(const Writer& writer, hid_t group) : writer_(writer), group_(group) {}

  bool has(const std::string& name) const;
  // Dataset `name`, made the scale of dimension `name`.
  void strings(const std::string& name, const std::vector<std::string>& values);
  void int64s(const std::string& name, const std::vector<std::int64_t>& values);
  // Step starts as CF time: hours since `start` 00:00 (attributes `units`,
  // `calendar`, `long_name`), which xarray decodes to datetimes.
  void steps(const std::string& name, Date start, double step_hours, int count);
  // Attaches to `dataset` the scale of each name in the comma-separated
  // `dims` (e.g. "step,workload,region"), in axis order; every one must be
  // in this group.
  void attach(hid_t dataset, const std::string& dims) const;

 private:
  void add(const std::string& name, Handle dataset);
  const Writer& writer_;
  hid_t group_;
  std::vector<std::pair<std::string, Handle>> scales_;
};

// Removes the temporary file unless released; declared before the HDF5
// handles so that it runs after they are closed.
class TempFileGuard {
 public:
  TempFileGuard() = default;
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;
  ~TempFileGuard();
  void arm(const std::string& path) { path_ = path; }
  void release() { path_.clear(); }

 private:
  std::string path_;
};

// "PATH.tmp-PID": where a file is written before it is published.
std::string temporary_name(const std::string& final_path);

// Creates (truncates) the HDF5 file `temp_path`, to become `final_path`.
// Throws RuntimeError naming both, and leaves no `temp_path` behind.
Handle create_file(const std::string& temp_path, const std::string& final_path,
                   const Writer& writer);

// Makes `temp_path` durable (fsync) and renames it to `final_path`, so that a
// crash never leaves a complete-looking name over incomplete contents.
void publish(const std::string& temp_path, const std::string& final_path);

// Reads an HDF5 file; every failure becomes an InputError naming the file
// (a file given to capsim that is not what it should be is invalid input).
class Reader {
 public:
  explicit Reader(std::string path);

  [[noreturn]] void fail(const std::string& what) const;
  bool has_attr(hid_t object, const std::string& name) const;
  bool has_link(hid_t parent, const std::string& name) const;
  std::string attr_string(hid_t object, const std::string& name) const;
  std::int64_t attr_int64(hid_t object, const std::string& name) const;
  std::uint64_t attr_uint64(hid_t object, const std::string& name) const;
  double attr_double(hid_t object, const std::string& name) const;
  std::vector<std::string> attr_strings(hid_t object, const std::string& name) const;
  Handle group(hid_t parent, const std::string& name) const;
  // The names of a group's members, in name order.
  std::vector<std::string> members(hid_t group) const;
  // A dataset's dimensions.
  std::vector<hsize_t> dims(hid_t parent, const std::string& name) const;
  // A whole dataset, row-major, converted to the memory type.
  std::vector<double> doubles(hid_t parent, const std::string& name) const;
  std::vector<std::int64_t> int64s(hid_t parent, const std::string& name) const;
  std::vector<std::uint8_t> uint8s(hid_t parent, const std::string& name) const;
  std::vector<std::string> strings(hid_t parent, const std::string& name) const;

  hid_t root() const { return file_.get(); }
  const std::string& path() const { return path_; }

 private:
  void read_numbers(hid_t parent, const std::string& name, hid_t memory_type, void* out,
                    std::size_t count) const;
  std::string path_;
  Handle file_;
};

}  // namespace capsim::io::detail
