// The version and the git commit this binary was built from (`gpuledger --version`, the guard's
// gpuledger_build_info metric).
#pragma once

#include <string>

namespace gpuledger {

// "0.1.0".
const char* BuildVersion();
// The commit's first 12 hex digits, with "-dirty" when the tree had uncommitted changes;
// "unknown" outside a git checkout.
const char* BuildCommit();
// "gpuledger 0.1.0 (commit 1234567890ab)".
std::string VersionLine();

}  // namespace gpuledger
