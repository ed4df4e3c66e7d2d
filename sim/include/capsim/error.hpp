// Errors thrown by capsim libraries. Only main() maps them to exit codes.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "capsim/scenario.hpp"

namespace capsim {

// One problem in a scenario, with where it is and the offending value.
struct Diagnostic {
  SourceMark mark;
  std::string key_path;  // e.g. "classes.chat.growth.rate"
  std::string message;   // e.g. "expected a number in [0, 10] (got \"fast\")"

  // "FILE:LINE:COL: key.path: message"
  std::string format() const;
};

// `date` as YYYY-MM-DD, the way messages and outputs write dates.
std::string format_date(Date date);

// Invalid input: scenario, --set, or command-line usage (exit code 2).
// Carries every problem found, not only the first.
class InputError : public std::runtime_error {
 public:
  explicit InputError(std::vector<Diagnostic> diagnostics);
  explicit InputError(const std::string& message);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

// Failure while running (I/O, resources): exit code 1.
class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The run was cancelled by the user (SIGINT/SIGTERM): exit code 130.
class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted") {}
};

}  // namespace capsim
