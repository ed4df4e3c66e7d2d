// Runs the capsim executable as a child process, without a shell: arguments
// are passed as they are, stdout and stderr go to files, and the caller
// learns how the process ended (exit code or signal) and how long it took.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace capsim::test {

struct ProcessResult {
  bool exited = false;  // ended by exit(), not by a signal
  int code = -1;        // exit code when exited
  int signal = 0;       // terminating signal otherwise
  std::string out, err;
  double seconds = 0;      // wall time
  double cpu_seconds = 0;  // user + system time of the process
};

// A file of the source tree, e.g. source("scenarios/msft-japan-2024.yaml").
inline std::string source(const std::string& relative) {
  return std::string(CAPSIM_SOURCE_DIR) + "/" + relative;
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A child process running `program` (CAPSIM_EXE by default) with `args`; stdout and stderr are
// written to `log_dir`/out.txt and err.txt.
class Process {
 public:
  // Runs `in_child` in the child between fork and exec (to set a resource
  // limit or drop privileges); it may only make async-signal-safe calls, and
  // its nonzero return ends the child with that exit code instead of exec.
  using ChildSetup = int (*)();

  Process(const std::vector<std::string>& args, const std::filesystem::path& log_dir,
          const std::string& program = CAPSIM_EXE, ChildSetup in_child = nullptr)
      : out_(log_dir / "out.txt"), err_(log_dir / "err.txt") {
    std::vector<std::string> argv_text = {program};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (in_child) {
      start_with_fork(argv, in_child);
      return;
    }

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    start_ = std::chrono::steady_clock::now();
    const int failed = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (failed != 0) throw std::runtime_error("cannot start " + argv_text[0]);
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  void send(int signal) const { ::kill(pid_, signal); }
  pid_t pid() const { return pid_; }

  // Waits at most `timeout` for the process to end; kills it after that
  // (the result then reports SIGKILL).
  ProcessResult wait(std::chrono::duration<double> timeout) {
    int status = 0;
    pid_t done = 0;
    struct rusage usage {};
    const auto deadline = start_ + std::chrono::duration_cast<std::chrono::nanoseconds>(timeout);
    while ((done = ::wait4(pid_, &status, WNOHANG, &usage)) == 0 &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (done == 0) {
      ::kill(pid_, SIGKILL);
      ::wait4(pid_, &status, 0, &usage);
    }
    pid_ = 0;
    ProcessResult r;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const auto to_seconds = [](const timeval& tv) {
      return static_cast<double>(tv.tv_sec) + 1e-6 * static_cast<double>(tv.tv_usec);
    };
    r.cpu_seconds = to_seconds(usage.ru_utime) + to_seconds(usage.ru_stime);
    r.exited = WIFEXITED(status);
    r.code = r.exited ? WEXITSTATUS(status) : -1;
    r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    r.out = read_text(out_);
    r.err = read_text(err_);
    return r;
  }

 private:
  void start_with_fork(std::vector<char*>& argv, ChildSetup in_child) {
    // Everything the child needs is prepared before fork: after it, only
    // async-signal-safe calls.
    const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    const int out = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int err = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (in < 0 || out < 0 || err < 0) throw std::runtime_error("cannot open the child's files");
    start_ = std::chrono::steady_clock::now();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in, STDIN_FILENO);
      ::dup2(out, STDOUT_FILENO);
      ::dup2(err, STDERR_FILENO);
      if (const int code = in_child(); code != 0) ::_exit(code);
      ::execve(argv[0], argv.data(), environ);
      ::_exit(127);
    }
    ::close(in);
    ::close(out);
    ::close(err);
    if (pid_ < 0) throw std::runtime_error("cannot fork");
  }

  std::filesystem::path out_, err_;
  pid_t pid_ = 0;
  std::chrono::steady_clock::time_point start_;
};

// A fresh, empty directory under the system's temporary directory, removed
// with everything in it when the object goes out of scope.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& label) {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("capsim_" + label + "_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Names of the entries of `dir` (empty when it holds nothing).
inline std::vector<std::string> entries_of(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  return names;
}

}  // namespace capsim::test
