// Runs that stop early: Ctrl-C, an output that cannot be written, a full
// disk, a run too large for memory. None may leave an output file behind.
#include <grp.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "run_process.hpp"

namespace fs = std::filesystem;
using capsim::test::entries_of;
using capsim::test::Process;
using capsim::test::ProcessResult;
using capsim::test::ScratchDir;
using capsim::test::source;

namespace {

ProcessResult run_capsim(const std::vector<std::string>& args) {
  const ScratchDir logs("int_log");
  Process process(args, logs.path());
  return process.wait(std::chrono::seconds(120));
}

// A tmpfs of `bytes` mounted on a fresh directory, unmounted at the end; not
// mounted when the test may not mount file systems (no root, a container).
class SmallFileSystem {
 public:
  explicit SmallFileSystem(std::size_t bytes) : dir_("tmpfs") {
    const std::string options = "size=" + std::to_string(bytes);
    mounted_ = ::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, options.c_str()) == 0;
  }
  SmallFileSystem(const SmallFileSystem&) = delete;
  SmallFileSystem& operator=(const SmallFileSystem&) = delete;
  ~SmallFileSystem() {
    if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  fs::path operator/(const std::string& name) const { return dir_ / name; }
  const fs::path& path() const { return dir_.path(); }

 private:
  ScratchDir dir_;
  bool mounted_ = false;
};

}  // namespace

TEST_CASE("interruptions: SIGINT during a run exits 130 and leaves no file", "[bad][interrupt]") {
  const ScratchDir output("int_out");
  const ScratchDir logs("int_log");
  const fs::path h5 = output / "out.h5";
  Process process({"run", source("tests/scenarios/two-regions.yaml"), "--paths", "20000", "--set",
                   "time.horizon_months=24", "-o", h5.string(), "--quiet"},
                  logs.path());
  // The temporary output file appears once the scenario is loaded and the
  // run is about to start; then let it run a little.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (entries_of(output.path()).empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE_FALSE(entries_of(output.path()).empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto sent = std::chrono::steady_clock::now();
  process.send(SIGINT);
  const auto r = process.wait(std::chrono::seconds(60));
  const double after_signal =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  INFO("stderr: " << r.err);
  CHECK(r.exited);
  CHECK(r.code == 130);
  CHECK(r.err.find("interrupted; no output written") != std::string::npos);
  CHECK(after_signal < 5.0);
  CHECK(entries_of(output.path()).empty());
}

TEST_CASE("interruptions: an unwritable output fails before the run, naming the path",
          "[bad][interrupt]") {
  const ScratchDir output("int_ro");
  fs::permissions(output.path(), fs::perms::owner_read | fs::perms::owner_exec);
  // Permissions do not bind root; a directory that refuses new files even
  // to root stands in for it then.
  const bool root = geteuid() == 0;
  const fs::path h5 = root ? fs::path("/sys/capsim-test-out.h5") : output / "out.h5";
  const auto r = run_capsim({"run", source("tests/scenarios/two-regions.yaml"), "--paths", "20000",
                             "-o", h5.string(), "--quiet"});
  INFO("stderr: " << r.err);
  CHECK(r.exited);
  CHECK(r.code == 1);
  CHECK(r.err.find("capsim: error: cannot create output file " + h5.string()) != std::string::npos);
  CHECK(r.seconds < 5.0);  // 20,000 paths would take far longer: refused first
  CHECK_FALSE(fs::exists(h5));
  CHECK(entries_of(output.path()).empty());

  const auto missing = run_capsim({"run", source("tests/scenarios/constant.yaml"), "--csv",
                                   (output / "no-dir" / "kf.csv").string(), "--quiet"});
  CHECK(missing.code == 1);
  CHECK(missing.err.find("no-dir/kf.csv: directory") != std::string::npos);
}

TEST_CASE("interruptions: a full disk gives exit 1, a message and no file", "[bad][interrupt]") {
  SECTION("CSV and JSON to a device that is always full") {
    for (const char* flag : {"--csv", "--json"}) {
      const auto r = run_capsim(
          {"run", source("tests/scenarios/constant.yaml"), flag, "/dev/full", "--quiet"});
      INFO(flag << ": " << r.err);
      CHECK(r.exited);
      CHECK(r.code == 1);
      CHECK(r.err.find("capsim: error: cannot write /dev/full") != std::string::npos);
    }
  }
  SECTION("HDF5 output on a small file system") {
    const SmallFileSystem small(96 * 1024);
    if (!small.mounted()) {
      WARN(
          "cannot mount a tmpfs here (needs root outside a container); HDF5 full-disk case "
          "skipped");
      return;
    }
    const fs::path h5 = small / "out.h5";
    // The series statistics fit the free-space check, the whole file does not:
    // the write itself fails.
    const auto r =
        run_capsim({"run", source("tests/scenarios/constant.yaml"), "-o", h5.string(), "--quiet"});
    INFO("stderr: " << r.err);
    CHECK(r.exited);
    CHECK(r.code == 1);
    CHECK(r.err.find("capsim: error: cannot write output file " + h5.string()) !=
          std::string::npos);
    CHECK(r.err.find("No space left on device") != std::string::npos);
    CHECK(entries_of(small.path()).empty());

    // --save-paths of 20,000 paths cannot fit: refused before the run.
    const auto big = run_capsim({"run", source("tests/scenarios/two-regions.yaml"), "--paths",
                                 "20000", "--save-paths", "-o", h5.string(), "--quiet"});
    INFO("stderr: " << big.err);
    CHECK(big.code == 1);
    CHECK(big.err.find("cannot write " + h5.string() + ": it would need at least") !=
          std::string::npos);
    CHECK(big.seconds < 5.0);
    CHECK(entries_of(small.path()).empty());
  }
}

TEST_CASE("interruptions: runs that cannot fit in memory are refused", "[bad][interrupt]") {
  const auto r = run_capsim(
      {"run", source("tests/scenarios/two-regions.yaml"), "--paths", "50000000000", "--quiet"});
  INFO("stderr: " << r.err);
  CHECK(r.code == 2);
  CHECK(r.err.find("run: 50000000000 paths would need about ") != std::string::npos);
  CHECK(r.err.find("TiB of memory (this machine has ") != std::string::npos);
  CHECK(r.err.find("use fewer --paths") != std::string::npos);
  for (const char* flag : {"--paths", "--threads"}) {
    const auto zero = run_capsim({"run", source("tests/scenarios/constant.yaml"), flag, "0"});
    CHECK(zero.code == 2);
    CHECK(zero.err.find(std::string(flag) + " must be at least 1") != std::string::npos);
  }
}

namespace {

// In the child: a user id of its own (root is not held to RLIMIT_NPROC, and
// no other process runs as this one) and a limit of 3 processes and threads
// for it: the process itself and two more threads, so a fourth cannot start.
constexpr uid_t kLimitedUser = 47318;
constexpr rlim_t kProcessLimit = 3;
constexpr int kCannotDropRoot = 90, kCannotSetLimit = 91;

int limit_threads() {
  if (::geteuid() == 0 &&
      (::setgroups(0, nullptr) != 0 || ::setgid(kLimitedUser) != 0 || ::setuid(kLimitedUser) != 0))
    return kCannotDropRoot;
  const struct rlimit limit { kProcessLimit, kProcessLimit };
  return ::setrlimit(RLIMIT_NPROC, &limit) == 0 ? 0 : kCannotSetLimit;
}

}  // namespace

TEST_CASE("interruptions: threads that cannot be started give exit 1 and no file",
          "[bad][interrupt]") {
  // The child may only write where its own user can.
  const ScratchDir dir("threads");
  fs::permissions(dir.path(), fs::perms::all);
  const fs::path scenario = dir / "constant.yaml";
  fs::copy_file(source("tests/scenarios/constant.yaml"), scenario);
  fs::permissions(scenario, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  const ScratchDir logs("threads_log");
  // 4 threads: the calling one and 3 workers, the last of which the limit
  // refuses (4 is allowed on any machine: 4 per core).
  Process process({"run", scenario.string(), "--threads", "4", "--paths", "64", "-o",
                   (dir / "out.h5").string(), "--quiet"},
                  logs.path(), CAPSIM_EXE, limit_threads);
  const auto r = process.wait(std::chrono::seconds(60));
  INFO("stderr: " << r.err);
  if (r.exited && (r.code == kCannotDropRoot || r.code == kCannotSetLimit)) {
    WARN("cannot run a child under its own user and RLIMIT_NPROC here (code "
         << r.code << "); thread-exhaustion case skipped");
    return;
  }
  if (r.exited && r.code == 0) {
    WARN("RLIMIT_NPROC is not enforced for the child here; thread-exhaustion case skipped");
    return;
  }
  CHECK(r.exited);
  CHECK(r.code == 1);
  // The calling thread and two workers run; the fourth thread is refused.
  CHECK(r.err.find("capsim: error: cannot start thread 4 of 4 (") != std::string::npos);
  CHECK(entries_of(dir.path()) == std::vector<std::string>{"constant.yaml"});
}

TEST_CASE("interruptions: a sweep checkpoint on a full disk keeps the file and leaves no other",
          "[bad][interrupt]") {
  const SmallFileSystem small(256 * 1024);
  if (!small.mounted()) {
    WARN(
        "cannot mount a tmpfs here (needs root outside a container); full-disk sweep case "
        "skipped");
    return;
  }
  const fs::path h5 = small / "sweep.h5";
  const std::vector<std::string> sweep = {"sweep",  source("tests/scenarios/constant.yaml"),
                                          "--vary", "time.paths=1,2",
                                          "-o",     h5.string(),
                                          "--quiet"};
  REQUIRE(run_capsim(sweep).code == 0);
  const std::string written = capsim::test::read_text(h5);
  // Fill the file system to the last byte.
  {
    std::ofstream filler(small / "filler", std::ios::binary);
    const std::string block(4096, 'x');
    while (filler.write(block.data(), static_cast<std::streamsize>(block.size()))) {
    }
  }
  std::vector<std::string> resume = sweep;
  resume.push_back("--resume");
  const auto r = run_capsim(resume);
  INFO("stderr: " << r.err);
  CHECK(r.exited);
  CHECK(r.code == 1);
  CHECK(r.err.find("No space left on device") != std::string::npos);
  CHECK(capsim::test::read_text(h5) == written);
  auto names = entries_of(small.path());
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"filler", "sweep.h5"});
}
