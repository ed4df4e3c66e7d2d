#include "text_util.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "capsim/error.hpp"

namespace capsim::io::detail {

std::string full_precision(double x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

namespace {

// Groups the integer digits of a "%.Nf" rendering in thousands: 2903145.2 ->
// "2,903,145.2".
std::string with_thousands(double x, int decimals) {
  char buf[400];  // "%.f" of the largest double has 309 digits
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  const std::string digits = buf;
  const std::size_t sign = (digits[0] == '-') ? 1 : 0;
  const std::size_t end = std::min(digits.find('.'), digits.size());
  std::string text = digits.substr(0, sign);
  for (std::size_t i = sign; i < end; ++i) {
    if (i > sign && (end - i) % 3 == 0) text += ',';
    text += digits[i];
  }
  return text + digits.substr(end);
}

}  // namespace

// Four significant digits for small magnitudes, whole numbers with thousands
// separators for large ones; exponent notation only at the extremes.
std::string readable(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  const double a = std::fabs(x);
  char buf[64];
  if (a == 0.0) return "0";
  if (a >= 1e15 || a < 1e-3) {
    std::snprintf(buf, sizeof buf, "%.3e", x);
    return buf;
  }
  if (a >= 1000.0 || x == std::trunc(x)) return with_thousands(x, 0);
  const int decimals = std::max(0, 3 - static_cast<int>(std::floor(std::log10(a))));
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  return buf;
}

// How a unit is shown in the table: money in millions, fractions in percent.
Display display_for(const std::string& unit) {
  if (unit == "USD") return {"M USD", 1e-6, 1};
  if (unit == "fraction" || unit == "0/1") return {"%", 100.0, 2};
  return {unit, 1.0, -1};
}

std::string shown(double x, const Display& d) {
  const double v = x * d.scale;
  if (d.decimals < 0 || !(std::fabs(v) < 1e15)) return readable(v);
  return with_thousands(v, d.decimals);
}

void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& lines,
                 std::size_t left_first, std::size_t left_last) {
  std::vector<std::size_t> width;
  for (const auto& line : lines) {
    width.resize(std::max(width.size(), line.size()), 0);
    for (std::size_t k = 0; k < line.size(); ++k) width[k] = std::max(width[k], line[k].size());
  }
  for (std::size_t l = 0; l < lines.size(); ++l) {
    for (std::size_t k = 0; k < lines[l].size(); ++k) {
      const std::string& cell = lines[l][k];
      const std::string pad(width[k] - cell.size(), ' ');
      out << (k == 0 ? "" : "  ") << (k >= left_first && k < left_last ? cell + pad : pad + cell);
    }
    out << '\n';
    if (l == 0) {
      std::size_t total = 0;
      for (std::size_t w : width) total += w + 2;
      out << std::string(total - 2, '-') << '\n';
    }
  }
}

namespace {

constexpr const char* kReplacement = "\xEF\xBF\xBD";  // U+FFFD, the replacement character

// Length of the well-formed UTF-8 sequence at `i` (no overlong forms,
// surrogates or code points above U+10FFFF), or 0 when the bytes there are
// not one.
std::size_t utf8_length(const std::string& text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t length = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    length = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    length = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    length = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < length; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return length;
}

// C0 controls, DEL, and the C1 controls U+0080 to U+009F (0xC2 0x80-0x9F).
bool is_control(const std::string& text, std::size_t i, std::size_t length) {
  const auto c = static_cast<unsigned char>(text[i]);
  if (length == 1) return c < 0x20 || c == 0x7F;
  return length == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0;
}

}  // namespace

std::size_t invalid_utf8_offset(const std::string& text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_length(text, i);
    if (length == 0) return i;
    i += length;
  }
  return std::string::npos;
}

std::size_t control_character_offset(const std::string& text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = std::max<std::size_t>(utf8_length(text, i), 1);
    if (is_control(text, i, length)) return i;
    i += length;
  }
  return std::string::npos;
}

std::string printable_utf8(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_length(text, i);
    if (length == 0 || is_control(text, i, length)) {
      out += kReplacement;
      i += std::max<std::size_t>(length, 1);
    } else {
      out.append(text, i, length);
      i += length;
    }
  }
  return out;
}

std::vector<std::string> printable_utf8(const std::vector<std::string>& texts) {
  std::vector<std::string> out;
  out.reserve(texts.size());
  for (const auto& text : texts) out.push_back(printable_utf8(text));
  return out;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t length = utf8_length(s, i);
    if (length == 0) {
      out += kReplacement;  // a byte that is not UTF-8
      ++i;
      continue;
    }
    if (length > 1) {
      out.append(s, i, length);
      i += length;
      continue;
    }
    const char ch = s[i++];
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

// JSON has no NaN or infinity; null marks a value that is not a number.
std::string json_number(double x) {
  return std::isfinite(x) ? full_precision(x) : "null";
}

// RFC 4180: quote a field that holds a separator, quote or line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (const char ch : s) out += (ch == '"') ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

// A text output written under a temporary name beside `path` and renamed to
// it by commit(), so a failed write (a full disk) never leaves a partial
// file. A target that exists and is not a regular file (a pipe, a device
// such as /dev/stdout) is written in place.
TextOutput::TextOutput(std::string path) : path_(std::move(path)) {
  struct stat info {};
  const bool special = ::stat(path_.c_str(), &info) == 0 && !S_ISREG(info.st_mode);
  write_path_ = special ? path_ : path_ + ".tmp-" + std::to_string(::getpid());
  errno = 0;
  out.open(write_path_, std::ios::binary | std::ios::trunc);
  if (!out) {
    const int error = errno;
    throw RuntimeError("cannot write " + path_ + ": " +
                       (error != 0 ? std::strerror(error) : "cannot open file"));
  }
}

TextOutput::~TextOutput() {
  if (committed_ || write_path_ == path_) return;
  out.close();
  std::remove(write_path_.c_str());
}

void TextOutput::commit() {
  out.flush();
  const bool ok = static_cast<bool>(out);
  out.close();
  if (!ok || out.fail()) throw RuntimeError("cannot write " + path_ + ": write failed");
  if (write_path_ != path_ && std::rename(write_path_.c_str(), path_.c_str()) != 0)
    throw RuntimeError("cannot write " + path_ + ": " + std::strerror(errno));
  committed_ = true;
}

}  // namespace capsim::io::detail
