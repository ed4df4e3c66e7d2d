// Every dataset of an HDF5 file, to compare two files bit for bit (the
// sweep's and the optimizer's "same result for any threads, ranks and
// resumes" tests).
#pragma once

#include <hdf5.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace capsim::test {

// Every dataset of an HDF5 file by path: numbers as doubles (compared bit
// for bit), texts as texts. Attributes (e.g. the creation time) are not
// included.
struct Datasets {
  std::map<std::string, std::vector<double>> numbers;
  std::map<std::string, std::vector<std::string>> texts;
};

inline Datasets read_datasets(const std::filesystem::path& path) {
  Datasets out;
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(file >= 0);
  std::vector<std::string> names;
  H5Ovisit(
      file, H5_INDEX_NAME, H5_ITER_INC,
      [](hid_t, const char* name, const H5O_info_t* info, void* data) -> herr_t {
        if (info->type == H5O_TYPE_DATASET)
          static_cast<std::vector<std::string>*>(data)->emplace_back(name);
        return 0;
      },
      &names);
  for (const auto& name : names) {
    const hid_t set = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
    const hid_t space = H5Dget_space(set);
    const auto count = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space));
    const hid_t type = H5Dget_type(set);
    if (H5Tget_class(type) == H5T_STRING) {
      const hid_t memory = H5Tcopy(H5T_C_S1);
      H5Tset_size(memory, H5T_VARIABLE);
      H5Tset_cset(memory, H5T_CSET_UTF8);
      std::vector<char*> text(count, nullptr);
      if (count > 0) H5Dread(set, memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, text.data());
      auto& dest = out.texts[name];
      for (char* t : text) {
        dest.emplace_back(t ? t : "");
        H5free_memory(t);
      }
      H5Tclose(memory);
    } else {
      auto& dest = out.numbers[name];
      dest.resize(count);
      if (count > 0) H5Dread(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, dest.data());
    }
    H5Tclose(type);
    H5Sclose(space);
    H5Dclose(set);
  }
  H5Fclose(file);
  return out;
}

// Datasets equal, numbers bit for bit (NaN equals NaN of the same bits).
inline void require_identical(const std::filesystem::path& a, const std::filesystem::path& b) {
  const Datasets x = read_datasets(a), y = read_datasets(b);
  REQUIRE(x.numbers.size() > 10);
  std::set<std::string> names_x, names_y;
  for (const auto& [name, _] : x.numbers) names_x.insert(name);
  for (const auto& [name, _] : y.numbers) names_y.insert(name);
  REQUIRE(names_x == names_y);
  for (const auto& [name, values] : x.numbers) {
    INFO("dataset " << name);
    const auto& other = y.numbers.at(name);
    REQUIRE(values.size() == other.size());
    CHECK(std::memcmp(values.data(), other.data(), values.size() * sizeof(double)) == 0);
  }
  CHECK(x.texts == y.texts);
}

}  // namespace capsim::test
