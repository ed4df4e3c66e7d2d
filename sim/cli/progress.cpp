#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace capsim::cli {

ProgressBar::ProgressBar(std::string label, bool enabled)
    : label_(std::move(label)),
      enabled_(enabled && isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

ProgressBar::~ProgressBar() {
  finish();
}

void ProgressBar::finish() {
  if (drawn_) std::fputs("\n", stderr);
  drawn_ = false;
  enabled_ = false;
}

void ProgressBar::update(long done, long total, const std::string& note) {
  if (!enabled_ || total <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total && drawn_ && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  drawn_ = true;
  constexpr int kWidth = 30;
  const double fraction = static_cast<double>(done) / static_cast<double>(total);
  const int filled = static_cast<int>(fraction * kWidth);
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double eta = fraction > 0 ? elapsed * (1.0 - fraction) / fraction : 0.0;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r%s [%s] %3d%% %ld/%ld  %.1fs elapsed, %.1fs left %s%s", label_.c_str(),
               bar.c_str(), static_cast<int>(fraction * 100.0), done, total, elapsed, eta,
               note.empty() ? "" : " ", note.c_str());
  // A shorter note than the last leaves none of the last behind.
  if (!note.empty()) std::fputs("\x1b[K", stderr);
  std::fflush(stderr);
}

}  // namespace capsim::cli
