// Commands the guard runs on behalf of the systems that own a workload (scontrol, scancel,
// k8s_action, the release command): without a shell unless asked, never longer than a
// deadline (then SIGKILLed), their output captured up to a cap.
#pragma once

#include <string>
#include <vector>

#include "core/error.h"
#include "core/time.h"

namespace gpuledger {

struct CommandOutput {
  int status = 0;          // the exit code, or 128 + the signal that ended it
  bool timed_out = false;  // killed at the deadline
  bool not_found = false;  // could not be executed (exit 127 from the child)
  std::string output;      // stdout and stderr together, the last 64 KiB
};

// Runs argv (execvp, no shell) with stdin from /dev/null and waits for it, at most
// "timeout_ms" (then SIGKILL). kIo only when it cannot be started at all.
Result<CommandOutput> CaptureArgv(const std::vector<std::string>& argv, DurationMs timeout_ms);

// CaptureArgv, failing with the output's last line when the command does not exit 0.
Result<void> RunArgv(const std::vector<std::string>& argv, DurationMs timeout_ms);

}  // namespace gpuledger
