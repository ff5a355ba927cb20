#include "core/build_info.h"

#ifndef GPULEDGER_VERSION
#define GPULEDGER_VERSION "unknown"
#endif
#ifndef GPULEDGER_COMMIT
#define GPULEDGER_COMMIT "unknown"
#endif

namespace gpuledger {

const char* BuildVersion() { return GPULEDGER_VERSION; }
const char* BuildCommit() { return GPULEDGER_COMMIT; }
std::string VersionLine() {
  return std::string("gpuledger ") + BuildVersion() + " (commit " + BuildCommit() + ")";
}

}  // namespace gpuledger
