// A progress bar on stderr, drawn only when stderr is a terminal.
#pragma once

#include <chrono>
#include <string>

namespace capsim::cli {

class ProgressBar {
 public:
  ProgressBar(std::string label, bool enabled);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Redraws at most ten times a second, and always at the end; `note` is
  // shown after the times (e.g. the best plan so far).
  void update(long done, long total, const std::string& note = "");
  // Ends the bar's line (once), so that what is printed next starts on a
  // line of its own; the destructor calls it too.
  void finish();

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace capsim::cli
