// Open MPI for sweeps across processes and machines (SPEC 6). Compiled in
// when CMake finds MPI (CAPSIM_HAVE_MPI); used only when the process was
// started by mpirun, so a plain `capsim sweep` never initializes MPI.
#pragma once

#include <memory>

#include "capsim/study/sweep.hpp"

namespace capsim::cli {

// Whether this capsim was built with MPI.
bool mpi_available();

// The processes of this sweep: all MPI ranks when started by mpirun (MPI
// is initialized here and finalized on destruction), else this process alone.
class MpiSession {
 public:
  MpiSession();
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  sweep::Communicator& comm() { return *comm_; }
  bool active() const { return active_; }
  // Ranks of this job on this machine (1 without MPI): to share its cores.
  int local_ranks() const { return local_ranks_; }

 private:
  std::unique_ptr<sweep::Communicator> comm_;
  bool active_ = false;
  int local_ranks_ = 1;
};

}  // namespace capsim::cli
