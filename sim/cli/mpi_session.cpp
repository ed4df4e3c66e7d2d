#include "mpi_session.hpp"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <string>

#include "capsim/error.hpp"

#ifdef CAPSIM_HAVE_MPI
#include <mpi.h>
#endif

namespace capsim::cli {

namespace {

// Set by mpirun (Open MPI, or PMIx/PMI launchers such as srun).
bool started_by_mpirun() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(name) != nullptr) return true;
  return false;
}

#ifdef CAPSIM_HAVE_MPI

void check(int status, const char* what) {
  if (status != MPI_SUCCESS) throw RuntimeError(std::string("MPI: ") + what + " failed");
}

class MpiCommunicator final : public sweep::Communicator {
 public:
  MpiCommunicator() {
    check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  int max(int value) override {
    int out = 0;
    check(MPI_Allreduce(&value, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
    return out;
  }

  std::vector<std::vector<double>> gather(const std::vector<double>& mine) override {
    if (mine.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
      throw RuntimeError("MPI: too many results in one message");
    const int count = static_cast<int>(mine.size());
    std::vector<int> counts(rank_ == 0 ? static_cast<std::size_t>(size_) : 0);
    check(MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD),
          "MPI_Gather");
    std::vector<int> displacements(counts.size(), 0);
    std::vector<double> all;
    if (rank_ == 0) {
      long long total = 0;
      for (std::size_t r = 0; r < counts.size(); ++r) {
        if (total > std::numeric_limits<int>::max())
          throw RuntimeError("MPI: too many results in one round");
        displacements[r] = static_cast<int>(total);
        total += counts[r];
      }
      all.resize(static_cast<std::size_t>(total));
    }
    check(MPI_Gatherv(mine.data(), count, MPI_DOUBLE, all.data(), counts.data(),
                      displacements.data(), MPI_DOUBLE, 0, MPI_COMM_WORLD),
          "MPI_Gatherv");
    std::vector<std::vector<double>> out;
    for (std::size_t r = 0; r < counts.size(); ++r)
      out.emplace_back(all.begin() + displacements[r], all.begin() + displacements[r] + counts[r]);
    return out;
  }

  void broadcast(std::vector<std::uint8_t>& bytes) override {
    long long size = static_cast<long long>(bytes.size());
    check(MPI_Bcast(&size, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD), "MPI_Bcast");
    if (size > std::numeric_limits<int>::max()) throw RuntimeError("MPI: message too large");
    bytes.resize(static_cast<std::size_t>(size));
    check(MPI_Bcast(bytes.data(), static_cast<int>(size), MPI_BYTE, 0, MPI_COMM_WORLD),
          "MPI_Bcast");
  }

 private:
  int rank_ = 0, size_ = 1;
};

#endif

}  // namespace

#ifdef CAPSIM_HAVE_MPI

bool mpi_available() {
  return true;
}

MpiSession::MpiSession() {
  if (!started_by_mpirun()) {
    comm_ = std::make_unique<sweep::SingleProcess>();
    return;
  }
  int provided = 0;
  // Only the main thread calls MPI; worker threads run the simulation.
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  active_ = true;
  comm_ = std::make_unique<MpiCommunicator>();
  if (const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE"))
    local_ranks_ = std::max(1, std::atoi(local));
}

MpiSession::~MpiSession() {
  comm_.reset();
  if (active_) MPI_Finalize();
}

#else

bool mpi_available() {
  return false;
}

MpiSession::MpiSession() {
  if (started_by_mpirun())
    throw InputError(
        "this capsim was built without MPI, so mpirun would run the whole sweep in every "
        "process; rebuild with Open MPI installed (CAPSIM_WITH_MPI), or use --shard I/N");
  comm_ = std::make_unique<sweep::SingleProcess>();
}

MpiSession::~MpiSession() = default;

#endif

}  // namespace capsim::cli
