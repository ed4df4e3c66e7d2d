#include "capsim/error.hpp"

#include <chrono>
#include <cstdio>
#include <sstream>

namespace capsim {

std::string Diagnostic::format() const {
  std::ostringstream out;
  out << (mark.file.empty() ? "<scenario>" : mark.file);
  if (mark.line > 0) out << ':' << mark.line << ':' << mark.column;
  out << ": ";
  if (!key_path.empty()) out << key_path << ": ";
  out << message;
  return out.str();
}

std::string format_date(Date date) {
  const std::chrono::year_month_day ymd(date);
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return text;
}

namespace {
std::string join(const std::vector<Diagnostic>& diagnostics) {
  std::string text;
  for (const auto& d : diagnostics) {
    if (!text.empty()) text += '\n';
    text += d.format();
  }
  return text;
}
}  // namespace

InputError::InputError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join(diagnostics)), diagnostics_(std::move(diagnostics)) {}

InputError::InputError(const std::string& message) : std::runtime_error(message) {}

}  // namespace capsim
