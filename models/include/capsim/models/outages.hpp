// Regional outages (SPEC 3.1 step 3): value = fraction of the region's
// capacity lost during step t, in [0, 1]. Stream::outage.
#pragma once

#include "capsim/models/process.hpp"
#include "capsim/models/registry.hpp"

namespace capsim::models {

class OutageModel : public PathProcess {};

}  // namespace capsim::models
