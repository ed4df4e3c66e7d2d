#include "json.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <system_error>

namespace capsim::io::report {

void Json::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) text_ += ',';
    first_.back() = false;
  }
}

Json& Json::begin_object() {
  separate();
  text_ += '{';
  first_.push_back(true);
  return *this;
}

Json& Json::end_object() {
  text_ += '}';
  first_.pop_back();
  return *this;
}

Json& Json::begin_array() {
  separate();
  text_ += '[';
  first_.push_back(true);
  return *this;
}

Json& Json::end_array() {
  text_ += ']';
  first_.pop_back();
  return *this;
}

Json& Json::key(std::string_view name) {
  string(name);
  text_ += ':';
  after_key_ = true;
  return *this;
}

Json& Json::string(std::string_view s) {
  separate();
  text_ += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        text_ += "\\\"";
        break;
      case '\\':
        text_ += "\\\\";
        break;
      case '\n':
        text_ += "\\n";
        break;
      case '\t':
        text_ += "\\t";
        break;
      case '\r':
        text_ += "\\r";
        break;
      default:
        if (c < 0x20 || c == '<' || c == '>' || c == '&') {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          text_ += buf;
        } else {
          text_ += ch;
        }
    }
  }
  text_ += '"';
  return *this;
}

Json& Json::number(double x) {
  separate();
  if (!std::isfinite(x)) {
    text_ += "null";
    return *this;
  }
  char buf[32];
  const auto result = std::to_chars(buf, buf + sizeof buf, x);
  text_.append(buf, result.ptr);
  return *this;
}

Json& Json::number(double x, int digits) {
  separate();
  if (!std::isfinite(x)) {
    text_ += "null";
    return *this;
  }
  char buf[40];
  const auto result = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::general, digits);
  text_.append(buf, result.ptr);
  return *this;
}

Json& Json::integer(long long x) {
  separate();
  text_ += std::to_string(x);
  return *this;
}

Json& Json::boolean(bool b) {
  separate();
  text_ += b ? "true" : "false";
  return *this;
}

Json& Json::null() {
  separate();
  text_ += "null";
  return *this;
}

Json& Json::strings(const std::vector<std::string>& values) {
  begin_array();
  for (const auto& v : values) string(v);
  return end_array();
}

Json& Json::numbers(const double* first, std::size_t count, std::size_t stride, int digits) {
  begin_array();
  for (std::size_t i = 0; i < count; ++i) number(first[i * stride], digits);
  return end_array();
}

}  // namespace capsim::io::report
