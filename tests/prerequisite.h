// A test whose prerequisite (../shared/realdata beside the project, a server, root) is missing:
// under CI=true it fails, so a CI run cannot pass by skipping; elsewhere it skips, saying why.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

namespace gpuledger::testing {

inline bool OnCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::strcmp(ci, "true") == 0;
}

}  // namespace gpuledger::testing

// Use in a TEST body: returns from it (failing under CI=true, else skipping) unless "cond".
#define GPULEDGER_REQUIRE(cond, what)                                                \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      if (::gpuledger::testing::OnCi()) FAIL() << "missing under CI=true: " << what; \
      GTEST_SKIP() << what;                                                          \
    }                                                                                \
  } while (0)
