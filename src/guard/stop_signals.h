// SIGTERM, SIGINT and SIGHUP caught for as long as a StopSignals lives (no SA_RESTART: a
// blocked poll returns at once), the previous handlers restored after. `run` forwards the
// signal to its job; the guard stops, killing nothing.
#pragma once

#include <signal.h>

#include <array>

#include "core/time.h"

namespace gpuledger {

class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  // The signal received since construction, 0 when none.
  int Pending() const;

 private:
  static constexpr std::array<int, 3> kSignals = {SIGTERM, SIGINT, SIGHUP};
  std::array<struct sigaction, 3> old_{};
};

}  // namespace gpuledger
