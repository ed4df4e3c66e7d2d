#include "thread_pool.hpp"

#include <string>
#include <system_error>

#include "capsim/error.hpp"

namespace capsim::detail {

namespace {

[[noreturn]] void cannot_start(std::size_t started, std::size_t wanted,
                               const std::system_error& e) {
  throw RuntimeError("cannot start thread " + std::to_string(started + 1) + " of " +
                     std::to_string(wanted) + " (" + e.code().message() +
                     ": the system's limit on processes or threads); use fewer --threads");
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
  // A thread that cannot be started (the process or thread limit) fails the
  // pool cleanly: the workers already running are stopped and joined, never
  // left joinable while the exception unwinds.
  const std::size_t wanted = threads > 1 ? static_cast<std::size_t>(threads) : 1;
  workers_.reserve(wanted - 1);
  try {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { work(i); });
  } catch (const std::system_error& e) {
    const std::size_t started = workers_.size() + 1;  // with the calling thread
    stop();
    cannot_start(started, wanted, e);
  }
}

ThreadPool::~ThreadPool() {
  stop();
}

void ThreadPool::stop() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    ++generation_;
  }
  start_.notify_all();
  for (auto& w : workers_) w.join();
  workers_.clear();
}

void run_on_threads(std::size_t count, const std::function<void(std::size_t)>& body) {
  std::vector<std::thread> threads;
  threads.reserve(count);
  try {
    for (std::size_t i = 0; i < count; ++i) threads.emplace_back(body, i);
  } catch (const std::system_error& e) {
    for (auto& t : threads) t.join();
    cannot_start(threads.size(), count, e);
  }
  for (auto& t : threads) t.join();
}

void ThreadPool::parallel_for(Eigen::Index count,
                              const std::function<void(Eigen::Index, int)>& body) {
  if (workers_.empty() || count <= 1) {
    for (Eigen::Index i = 0; i < count; ++i) body(i, 0);
    return;
  }
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    body_ = &body;
    count_ = count;
    next_ = 0;
    error_ = nullptr;
    busy_ = workers_.size();
    ++generation_;
  }
  start_.notify_all();
  run_items(0);
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return busy_ == 0; });
    body_ = nullptr;
    error = error_;
  }
  if (error) std::rethrow_exception(error);
}

void ThreadPool::run_items(int thread) {
  for (;;) {
    Eigen::Index i;
    {
      // Items are whole chunks of paths (microseconds or more each), so a
      // lock per item costs nothing measurable.
      const std::lock_guard<std::mutex> lock(mutex_);
      if (next_ >= count_) return;
      i = next_++;
    }
    try {
      (*body_)(i, thread);
    } catch (...) {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
  }
}

void ThreadPool::work(int thread) {
  std::uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      if (stop_) return;
    }
    run_items(thread);
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (--busy_ == 0) done_.notify_one();
    }
  }
}

}  // namespace capsim::detail
