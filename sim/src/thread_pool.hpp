// A fixed set of worker threads that run a parallel loop and then sleep.
//
// Workers block on a condition variable between loops instead of spinning,
// so a run stays fast when the machine is busy (more runnable threads than
// cores), where spin-waiting at every step's barrier is very slow.
#pragma once

#include <Eigen/Core>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace capsim::detail {

class ThreadPool {
 public:
  // `threads` counts the calling thread: threads - 1 workers are started.
  // Throws RuntimeError when one cannot be started (after stopping those
  // that were).
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Runs body(i, thread) for every i in [0, count), spread over all threads,
  // and returns when all are done; `thread` in [0, threads()) names the
  // thread running the item (0 is the caller), e.g. to pick its scratch
  // memory. The first exception thrown is rethrown here (the other items
  // still run). Which thread runs an item is unspecified.
  void parallel_for(Eigen::Index count, const std::function<void(Eigen::Index, int)>& body);

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

 private:
  void work(int thread);
  void run_items(int thread);
  void stop();  // stops and joins the workers

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_, done_;
  std::uint64_t generation_ = 0;
  bool stop_ = false;
  std::size_t busy_ = 0;
  const std::function<void(Eigen::Index, int)>* body_ = nullptr;
  Eigen::Index count_ = 0;
  Eigen::Index next_ = 0;  // guarded by mutex_
  std::exception_ptr error_;
};

// Runs body(i) for every i in [0, count), each on a thread of its own, and
// returns when all are done. When a thread cannot be started, the ones that
// were are joined and RuntimeError is thrown. `body` must not throw.
void run_on_threads(std::size_t count, const std::function<void(std::size_t)>& body);

}  // namespace capsim::detail
