// Number formatting and atomic text files shared by the run and sweep
// outputs (tables on stdout, CSV, JSON). Internal to sim/io.
#pragma once

#include <cstddef>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

namespace capsim::io::detail {

// "%.17g": enough digits to read the same double back.
std::string full_precision(double x);
// Four significant digits for small magnitudes, whole numbers with thousands
// separators for large ones; exponent notation only at the extremes.
std::string readable(double x);

// How a unit is shown in tables: money in millions, fractions in percent.
struct Display {
  std::string unit;
  double scale = 1.0;
  int decimals = -1;  // -1: readable()
};
Display display_for(const std::string& unit);
std::string shown(double x, const Display& d);

// `lines` as aligned columns two spaces apart, a rule under the first
// (header) line; columns [left_first, left_last) align left, the others
// right.
void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& lines,
                 std::size_t left_first, std::size_t left_last);

// Offset of the first byte that is not part of well-formed UTF-8 (no
// overlong forms, surrogates or code points above U+10FFFF), or npos.
std::size_t invalid_utf8_offset(const std::string& text);
// Offset of the first control character (U+0000 to U+001F, U+007F, U+0080
// to U+009F), or npos.
std::size_t control_character_offset(const std::string& text);
// `text` with every byte that is not well-formed UTF-8 and every control
// character replaced by U+FFFD: safe in a UTF-8 HDF5 string, JSON and on a
// terminal, and never cut short (a NUL becomes U+FFFD too).
std::string printable_utf8(const std::string& text);
// printable_utf8 of each string.
std::vector<std::string> printable_utf8(const std::vector<std::string>& texts);

// A JSON string literal; control characters escaped, bytes that are not
// UTF-8 replaced by U+FFFD (JSON text is UTF-8).
std::string json_string(const std::string& s);
// JSON has no NaN or infinity; null marks a value that is not a number.
std::string json_number(double x);
// RFC 4180: quote a field that holds a separator, quote or line break.
std::string csv_field(const std::string& s);

// A text output written under a temporary name beside `path` and renamed to
// it by commit(), so a failed write (a full disk) never leaves a partial
// file. A target that exists and is not a regular file (a pipe, a device
// such as /dev/stdout) is written in place.
class TextOutput {
 public:
  explicit TextOutput(std::string path);
  ~TextOutput();
  TextOutput(const TextOutput&) = delete;
  TextOutput& operator=(const TextOutput&) = delete;

  void commit();

  std::ofstream out;

 private:
  std::string path_, write_path_;
  bool committed_ = false;
};

}  // namespace capsim::io::detail
