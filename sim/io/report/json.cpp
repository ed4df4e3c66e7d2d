#include "json.hpp"

#include <charconv>
#include <cmath>

#include "../text_util.hpp"

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

Json& Json::open(char bracket) {
  separate();
  text_ += bracket;
  first_.push_back(true);
  return *this;
}

Json& Json::close(char bracket) {
  text_ += bracket;
  first_.pop_back();
  return *this;
}

Json& Json::begin_object() {
  return open('{');
}
Json& Json::end_object() {
  return close('}');
}
Json& Json::begin_array() {
  return open('[');
}
Json& Json::end_array() {
  return close(']');
}

Json& Json::key(std::string_view name) {
  string(name);
  text_ += ':';
  after_key_ = true;
  return *this;
}

Json& Json::string(std::string_view s) {
  separate();
  // JSON's escapes, and '<', '>', '&' as \u escapes for the HTML around it.
  for (const char c : detail::json_string(std::string(s))) {
    if (c == '<')
      text_ += "\\u003c";
    else if (c == '>')
      text_ += "\\u003e";
    else if (c == '&')
      text_ += "\\u0026";
    else
      text_ += c;
  }
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
