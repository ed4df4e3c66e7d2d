// A JSON text built front to back, for the data block of a report page.
// Internal to sim/io/report.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace capsim::io::report {

// Appends values to a JSON text; commas are placed automatically. Strings
// are escaped so that the text can sit inside an HTML <script> element
// ('<', '>' and '&' are written as \u escapes, so "</script>" cannot
// appear). Numbers that are not finite are written as null. The caller
// balances begin_/end_ calls and gives a key before each value of an object.
class Json {
 public:
  Json& begin_object();
  Json& end_object();
  Json& begin_array();
  Json& end_array();
  Json& key(std::string_view name);
  Json& string(std::string_view text);
  // Full precision: the shortest text that reads back as the same double.
  Json& number(double x);
  // `digits` significant digits (1 to 17), e.g. for long chart series.
  Json& number(double x, int digits);
  Json& integer(long long x);
  Json& boolean(bool b);
  Json& null();
  Json& strings(const std::vector<std::string>& values);
  // An array of the numbers from `first`, `count` of them, `stride` apart.
  Json& numbers(const double* first, std::size_t count, std::size_t stride, int digits);

  const std::string& text() const { return text_; }

 private:
  void separate();
  Json& open(char bracket);
  Json& close(char bracket);
  std::string text_;
  std::vector<bool> first_;  // per open object or array: no value written yet
  bool after_key_ = false;
};

}  // namespace capsim::io::report
