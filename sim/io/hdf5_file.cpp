#include "hdf5_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <hdf5_hl.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <type_traits>

#include "capsim/error.hpp"

namespace capsim::io::detail {

std::string hdf5_error_detail() {
  std::string detail;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* error, void* data) -> herr_t {
        if (n == 0 && error->desc != nullptr) *static_cast<std::string*>(data) = error->desc;
        return 0;
      },
      &detail);
  H5Eclear2(H5E_DEFAULT);
  // A failed write reports a long record (time, file descriptor, buffer,
  // offsets) that ends in the system's message; keep only that message.
  const std::string marker = "error message = '";
  if (const auto at = detail.find(marker); at != std::string::npos) {
    const auto begin = at + marker.size();
    const auto end = detail.find('\'', begin);
    if (end != std::string::npos) return detail.substr(begin, end - begin);
  }
  if (const auto newline = detail.find('\n'); newline != std::string::npos) detail.resize(newline);
  return detail;
}

void quiet_hdf5() {
  H5dont_atexit();
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

const char* dim_name(Dim d) {
  switch (d) {
    case Dim::region:
      return "region";
    case Dim::sku:
      return "sku";
    case Dim::klass:
      return "workload";
  }
  return "?";
}

std::string dims_text(std::string leading, const std::vector<Dim>& dims) {
  std::string text = std::move(leading);
  for (Dim d : dims) {
    if (!text.empty()) text += ',';
    text += dim_name(d);
  }
  return text;
}

// ---------------------------------------------------------------- Writer

void Writer::fail(const std::string& what) const {
  const std::string detail = hdf5_error_detail();
  throw RuntimeError("cannot write output file " + path_ + ": " + what +
                     (detail.empty() ? "" : " (" + detail + ")"));
}

Handle Writer::group(hid_t parent, const std::string& name) const {
  return {check(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                "create group " + name),
          H5Gclose};
}

Handle Writer::string_type() const {
  Handle type(check(H5Tcopy(H5T_C_S1), "create string type"), H5Tclose);
  check_status(H5Tset_size(type.get(), H5T_VARIABLE), "size string type");
  check_status(H5Tset_cset(type.get(), H5T_CSET_UTF8), "set string encoding");
  return type;
}

Handle Writer::simple_space(const std::vector<hsize_t>& dims) const {
  if (dims.empty()) return {check(H5Screate(H5S_SCALAR), "create dataspace"), H5Sclose};
  return {check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                "create dataspace"),
          H5Sclose};
}

void Writer::attr_string(hid_t object, const std::string& name, const std::string& value) const {
  const Handle type = string_type();
  const Handle space(check(H5Screate(H5S_SCALAR), "create dataspace"), H5Sclose);
  const Handle attr(
      check(H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
            "create attribute " + name),
      H5Aclose);
  const char* text = value.c_str();
  check_status(H5Awrite(attr.get(), type.get(), &text), "write attribute " + name);
}

void Writer::attr_scalar(hid_t object, const std::string& name, hid_t file_type, hid_t memory_type,
                         const void* value) const {
  const Handle space(check(H5Screate(H5S_SCALAR), "create dataspace"), H5Sclose);
  const Handle attr(
      check(H5Acreate2(object, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
            "create attribute " + name),
      H5Aclose);
  check_status(H5Awrite(attr.get(), memory_type, value), "write attribute " + name);
}

void Writer::attr_double(hid_t object, const std::string& name, double value) const {
  attr_scalar(object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}
void Writer::attr_int64(hid_t object, const std::string& name, std::int64_t value) const {
  attr_scalar(object, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}
void Writer::attr_uint64(hid_t object, const std::string& name, std::uint64_t value) const {
  attr_scalar(object, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value);
}

namespace {

// The C strings of `values`, for H5Awrite and H5Dwrite of variable-length texts.
std::vector<const char*> c_strings(const std::vector<std::string>& values) {
  std::vector<const char*> pointers;
  pointers.reserve(values.size());
  for (const auto& v : values) pointers.push_back(v.c_str());
  return pointers;
}

}  // namespace

void Writer::attr_strings(hid_t object, const std::string& name,
                          const std::vector<std::string>& values) const {
  const Handle type = string_type();
  const Handle space = simple_space({values.size()});
  const Handle attr(
      check(H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
            "create attribute " + name),
      H5Aclose);
  if (values.empty()) return;
  check_status(H5Awrite(attr.get(), type.get(), c_strings(values).data()),
               "write attribute " + name);
}

Handle Writer::strings(hid_t parent, const std::string& name,
                       const std::vector<std::string>& values, std::vector<hsize_t> dims) const {
  if (dims.empty()) dims = {values.size()};
  const Handle type = string_type();
  const Handle space = simple_space(dims);
  Handle set(check(H5Dcreate2(parent, name.c_str(), type.get(), space.get(), H5P_DEFAULT,
                              H5P_DEFAULT, H5P_DEFAULT),
                   "create dataset " + name),
             H5Dclose);
  if (values.empty()) return set;
  check_status(
      H5Dwrite(set.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, c_strings(values).data()),
      "write dataset " + name);
  return set;
}

Handle Writer::compressed_layout(const std::vector<hsize_t>& chunk) const {
  Handle plist(check(H5Pcreate(H5P_DATASET_CREATE), "create property list"), H5Pclose);
  check_status(H5Pset_chunk(plist.get(), static_cast<int>(chunk.size()), chunk.data()),
               "set chunking");
  check_status(H5Pset_shuffle(plist.get()), "set shuffle filter");
  check_status(H5Pset_deflate(plist.get(), 4), "set deflate filter");
  return plist;
}

Handle Writer::double_dataset(hid_t parent, const std::string& name,
                              const std::vector<hsize_t>& dims, hid_t create_plist) const {
  const Handle space = simple_space(dims);
  return {check(H5Dcreate2(parent, name.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT,
                           create_plist, H5P_DEFAULT),
                "create dataset " + name),
          H5Dclose};
}

Handle Writer::doubles(hid_t parent, const std::string& name, const std::vector<hsize_t>& dims,
                       const double* data, hid_t create_plist) const {
  Handle set = double_dataset(parent, name, dims, create_plist);
  hsize_t count = 1;
  for (hsize_t d : dims) count *= d;
  if (count > 0)
    check_status(H5Dwrite(set.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
                 "write dataset " + name);
  return set;
}

namespace {

Handle numbers(const Writer& writer, hid_t parent, const std::string& name, hid_t file_type,
               hid_t memory_type, hsize_t count, const void* data,
               const std::vector<hsize_t>& dims = {}) {
  const Handle space = writer.simple_space(dims.empty() ? std::vector<hsize_t>{count} : dims);
  Handle set(writer.check(H5Dcreate2(parent, name.c_str(), file_type, space.get(), H5P_DEFAULT,
                                     H5P_DEFAULT, H5P_DEFAULT),
                          "create dataset " + name),
             H5Dclose);
  if (count > 0)
    writer.check_status(H5Dwrite(set.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
                        "write dataset " + name);
  return set;
}

}  // namespace

Handle Writer::int64s(hid_t parent, const std::string& name, const std::vector<std::int64_t>& data,
                      const std::vector<hsize_t>& dims) const {
  return numbers(*this, parent, name, H5T_STD_I64LE, H5T_NATIVE_INT64, data.size(), data.data(),
                 dims);
}

Handle Writer::uint8s(hid_t parent, const std::string& name,
                      const std::vector<std::uint8_t>& data) const {
  return numbers(*this, parent, name, H5T_STD_U8LE, H5T_NATIVE_UINT8, data.size(), data.data());
}

// ---------------------------------------------------------------- Coordinates

bool Coordinates::has(const std::string& name) const {
  return std::any_of(scales_.begin(), scales_.end(),
                     [&](const auto& scale) { return scale.first == name; });
}

void Coordinates::add(const std::string& name, Handle dataset) {
  writer_.check_status(H5DSset_scale(dataset.get(), name.c_str()), "make " + name + " a scale");
  scales_.emplace_back(name, std::move(dataset));
}

void Coordinates::strings(const std::string& name, const std::vector<std::string>& values) {
  add(name, writer_.strings(group_, name, values));
}

void Coordinates::int64s(const std::string& name, const std::vector<std::int64_t>& values) {
  add(name, writer_.int64s(group_, name, values));
}

void Coordinates::steps(const std::string& name, Date start, double step_hours, int count) {
  std::vector<double> hours(static_cast<std::size_t>(std::max(count, 0)));
  for (std::size_t t = 0; t < hours.size(); ++t) hours[t] = static_cast<double>(t) * step_hours;
  Handle set = writer_.doubles(group_, name, {hours.size()}, hours.data());
  writer_.attr_string(set.get(), "units", "hours since " + format_date(start) + " 00:00:00");
  writer_.attr_string(set.get(), "calendar", "proleptic_gregorian");
  writer_.attr_string(set.get(), "long_name", "start of step");
  add(name, std::move(set));
}

void Coordinates::attach(hid_t dataset, const std::string& dims) const {
  unsigned axis = 0;
  std::size_t begin = 0;
  while (begin <= dims.size() && !dims.empty()) {
    const std::size_t end = std::min(dims.find(',', begin), dims.size());
    const std::string name = dims.substr(begin, end - begin);
    const auto it = std::find_if(scales_.begin(), scales_.end(),
                                 [&](const auto& scale) { return scale.first == name; });
    if (it == scales_.end()) throw std::logic_error("Coordinates::attach: no coordinate " + name);
    writer_.check_status(H5DSattach_scale(dataset, it->second.get(), axis), "attach scale " + name);
    ++axis;
    begin = end + 1;
  }
}

// ---------------------------------------------------------------- files

TempFileGuard::~TempFileGuard() {
  if (!path_.empty()) std::remove(path_.c_str());
}

std::string temporary_name(const std::string& final_path) {
  return final_path + ".tmp-" + std::to_string(static_cast<long long>(getpid()));
}

Handle create_file(const std::string& temp_path, const std::string& final_path,
                   const Writer& writer) {
  quiet_hdf5();
  const Handle access(writer.check(H5Pcreate(H5P_FILE_ACCESS), "create property list"), H5Pclose);
  // Closing the file closes anything still open in it, so the rename in
  // publish() never races a lingering handle.
  writer.check_status(H5Pset_fclose_degree(access.get(), H5F_CLOSE_STRONG), "set close degree");
  errno = 0;
  const hid_t id = H5Fcreate(temp_path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get());
  if (id < 0) {
    const int error = errno;
    std::string detail = error != 0 ? std::strerror(error) : hdf5_error_detail();
    H5Eclear2(H5E_DEFAULT);
    // On a full disk the file is created but its first block cannot be
    // written: remove what was left (the name is this process's own).
    std::remove(temp_path.c_str());
    throw RuntimeError("cannot create output file " + final_path + " (temporary file " + temp_path +
                       "): " + detail);
  }
  return {id, H5Fclose};
}

void publish(const std::string& temp_path, const std::string& final_path) {
  const int fd = ::open(temp_path.c_str(), O_RDONLY);
  if (fd < 0 || ::fsync(fd) != 0) {
    const int error = errno;
    if (fd >= 0) ::close(fd);
    throw RuntimeError("cannot write output file " + final_path + ": sync " + temp_path + ": " +
                       std::strerror(error));
  }
  ::close(fd);
  if (std::rename(temp_path.c_str(), final_path.c_str()) != 0) {
    const int error = errno;
    throw RuntimeError("cannot write output file " + final_path + ": rename from " + temp_path +
                       ": " + std::strerror(error));
  }
}

// ---------------------------------------------------------------- Reader

Reader::Reader(std::string path) : path_(std::move(path)) {
  quiet_hdf5();
  if (H5Fis_hdf5(path_.c_str()) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    errno = 0;
    std::FILE* f = std::fopen(path_.c_str(), "rb");
    const int error = errno;
    if (f != nullptr) std::fclose(f);
    throw InputError(path_ + ": " +
                     (f == nullptr ? std::string("cannot open: ") + std::strerror(error)
                                   : std::string("not an HDF5 file")));
  }
  const hid_t id = H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) fail("cannot open");
  file_ = Handle(id, H5Fclose);
}

void Reader::fail(const std::string& what) const {
  const std::string detail = hdf5_error_detail();
  throw InputError(path_ + ": " + what + (detail.empty() ? "" : " (" + detail + ")"));
}

bool Reader::has_attr(hid_t object, const std::string& name) const {
  const htri_t exists = H5Aexists(object, name.c_str());
  if (exists < 0) fail("cannot read attribute " + name);
  return exists > 0;
}

bool Reader::has_link(hid_t parent, const std::string& name) const {
  const htri_t exists = H5Lexists(parent, name.c_str(), H5P_DEFAULT);
  if (exists < 0) fail("cannot look up " + name);
  return exists > 0;
}

std::string Reader::attr_string(hid_t object, const std::string& name) const {
  if (!has_attr(object, name)) fail("missing attribute " + name);
  const Handle attr(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  if (!attr) fail("cannot open attribute " + name);
  const Handle type(H5Aget_type(attr.get()), H5Tclose);
  if (!type || H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) <= 0)
    fail("attribute " + name + " is not a text");
  const Handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(memory.get(), H5T_VARIABLE);
  H5Tset_cset(memory.get(), H5Tget_cset(type.get()));  // ASCII or UTF-8, as stored
  char* text = nullptr;
  if (H5Aread(attr.get(), memory.get(), &text) < 0) fail("cannot read attribute " + name);
  std::string value = text != nullptr ? text : "";
  H5free_memory(text);
  return value;
}

namespace {

template <class T>
T read_scalar_attr(const Reader& reader, hid_t object, const std::string& name, hid_t memory) {
  if (!reader.has_attr(object, name)) reader.fail("missing attribute " + name);
  const Handle attr(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  if (!attr) reader.fail("cannot open attribute " + name);
  const Handle type(H5Aget_type(attr.get()), H5Tclose);
  constexpr bool real = std::is_floating_point_v<T>;
  if (!type || H5Tget_class(type.get()) != (real ? H5T_FLOAT : H5T_INTEGER))
    reader.fail("attribute " + name + (real ? " is not a number" : " is not a whole number"));
  T value{};
  if (H5Aread(attr.get(), memory, &value) < 0) reader.fail("cannot read attribute " + name);
  return value;
}

}  // namespace

std::int64_t Reader::attr_int64(hid_t object, const std::string& name) const {
  return read_scalar_attr<std::int64_t>(*this, object, name, H5T_NATIVE_INT64);
}

std::uint64_t Reader::attr_uint64(hid_t object, const std::string& name) const {
  return read_scalar_attr<std::uint64_t>(*this, object, name, H5T_NATIVE_UINT64);
}

double Reader::attr_double(hid_t object, const std::string& name) const {
  if (!has_attr(object, name)) fail("missing attribute " + name);
  const Handle attr(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  if (!attr) fail("cannot open attribute " + name);
  const Handle type(H5Aget_type(attr.get()), H5Tclose);
  const Handle space(H5Aget_space(attr.get()), H5Sclose);
  const H5T_class_t cls = type ? H5Tget_class(type.get()) : H5T_NO_CLASS;
  if ((cls != H5T_FLOAT && cls != H5T_INTEGER) || !space ||
      H5Sget_simple_extent_npoints(space.get()) != 1)
    fail("attribute " + name + " is not a number");
  double value = 0;
  if (H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &value) < 0) fail("cannot read attribute " + name);
  return value;
}

std::vector<std::string> Reader::attr_strings(hid_t object, const std::string& name) const {
  if (!has_attr(object, name)) fail("missing attribute " + name);
  const Handle attr(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  if (!attr) fail("cannot open attribute " + name);
  const Handle type(H5Aget_type(attr.get()), H5Tclose);
  const Handle space(H5Aget_space(attr.get()), H5Sclose);
  if (!type || H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) <= 0 ||
      !space || H5Sget_simple_extent_ndims(space.get()) != 1)
    fail("attribute " + name + " is not a list of texts");
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  std::vector<std::string> out;
  if (count <= 0) return out;
  const Handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(memory.get(), H5T_VARIABLE);
  H5Tset_cset(memory.get(), H5Tget_cset(type.get()));  // ASCII or UTF-8, as stored
  std::vector<char*> pointers(static_cast<std::size_t>(count), nullptr);
  if (H5Aread(attr.get(), memory.get(), pointers.data()) < 0) fail("cannot read attribute " + name);
  out.reserve(pointers.size());
  for (char* p : pointers) {
    out.emplace_back(p != nullptr ? p : "");
    H5free_memory(p);
  }
  return out;
}

Handle Reader::group(hid_t parent, const std::string& name) const {
  if (!has_link(parent, name)) fail("missing group " + name);
  Handle g(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), H5Gclose);
  if (!g) fail("cannot open group " + name);
  return g;
}

std::vector<std::string> Reader::members(hid_t group) const {
  std::vector<std::string> names;
  const herr_t status = H5Literate(
      group, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
        static_cast<std::vector<std::string>*>(data)->emplace_back(name);
        return 0;
      },
      &names);
  if (status < 0) fail("cannot list a group");
  return names;
}

std::vector<hsize_t> Reader::dims(hid_t parent, const std::string& name) const {
  if (!has_link(parent, name)) fail("missing dataset " + name);
  const Handle set(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!set) fail("cannot open dataset " + name);
  const Handle space(H5Dget_space(set.get()), H5Sclose);
  const int rank = space ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (rank < 0) fail("cannot read the shape of " + name);
  std::vector<hsize_t> d(static_cast<std::size_t>(rank));
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), d.data(), nullptr);
  return d;
}

void Reader::read_numbers(hid_t parent, const std::string& name, hid_t memory_type, void* out,
                          std::size_t count) const {
  const Handle set(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!set) fail("cannot open dataset " + name);
  const Handle type(H5Dget_type(set.get()), H5Tclose);
  const H5T_class_t cls = type ? H5Tget_class(type.get()) : H5T_NO_CLASS;
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) fail("dataset " + name + " does not hold numbers");
  if (count > 0 && H5Dread(set.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
    fail("cannot read dataset " + name);
}

namespace {

std::size_t element_count(const std::vector<hsize_t>& dims) {
  std::size_t n = 1;
  for (hsize_t d : dims) n *= static_cast<std::size_t>(d);
  return n;
}

}  // namespace

std::vector<double> Reader::doubles(hid_t parent, const std::string& name) const {
  std::vector<double> out(element_count(dims(parent, name)));
  read_numbers(parent, name, H5T_NATIVE_DOUBLE, out.data(), out.size());
  return out;
}

std::vector<std::int64_t> Reader::int64s(hid_t parent, const std::string& name) const {
  std::vector<std::int64_t> out(element_count(dims(parent, name)));
  read_numbers(parent, name, H5T_NATIVE_INT64, out.data(), out.size());
  return out;
}

std::vector<std::uint8_t> Reader::uint8s(hid_t parent, const std::string& name) const {
  std::vector<std::uint8_t> out(element_count(dims(parent, name)));
  read_numbers(parent, name, H5T_NATIVE_UINT8, out.data(), out.size());
  return out;
}

std::vector<std::string> Reader::strings(hid_t parent, const std::string& name) const {
  const std::size_t count = element_count(dims(parent, name));
  const Handle set(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!set) fail("cannot open dataset " + name);
  const Handle type(H5Dget_type(set.get()), H5Tclose);
  if (!type || H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) <= 0)
    fail("dataset " + name + " does not hold texts");
  std::vector<std::string> out;
  if (count == 0) return out;
  const Handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(memory.get(), H5T_VARIABLE);
  H5Tset_cset(memory.get(), H5Tget_cset(type.get()));  // ASCII or UTF-8, as stored
  std::vector<char*> pointers(count, nullptr);
  if (H5Dread(set.get(), memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()) < 0)
    fail("cannot read dataset " + name);
  out.reserve(count);
  for (char* p : pointers) {
    out.emplace_back(p != nullptr ? p : "");
    H5free_memory(p);
  }
  return out;
}

}  // namespace capsim::io::detail
