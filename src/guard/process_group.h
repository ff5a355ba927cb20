// A command run in its own process group, its output pumped through line by line, stopped with
// SIGTERM → grace → SIGKILL on the whole group. The one place that sends signals to jobs.
#pragma once

#include <sys/types.h>

#include <csignal>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/time.h"

namespace gpuledger {

struct ChildExit {
  std::optional<int> exit_code;  // set when it exited
  std::optional<int> signal;     // set when a signal ended it
  // The shell convention: the exit code, or 128 + the signal.
  int ShellStatus() const { return exit_code ? *exit_code : 128 + signal.value_or(0); }
};

class ProcessGroup {
 public:
  // Called with 1 (stdout) or 2 (stderr) and each complete line, without its newline.
  using LineFn = std::function<void(int stream, std::string_view line)>;

  // Starts argv in a new process group, with stdout and stderr piped back. Makes this process
  // a subreaper, so children the command leaves behind can be reaped here.
  // The job must not outlive this process: the command gets PR_SET_PDEATHSIG (SIGKILL), and a
  // watchdog process (in its own process group, deaf to ^C and hang-ups) SIGKILLs the job's
  // whole group if this process dies — even by SIGKILL — before the job is over.
  // kIo when it cannot fork; a command that cannot be executed exits 127 (126: not executable).
  static Result<std::unique_ptr<ProcessGroup>> Start(const std::vector<std::string>& argv);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  pid_t pid() const { return pid_; }

  // Waits up to timeout_ms for output, passing complete lines to on_line. Returns the main
  // process's exit once it has exited (its remaining output pumped first).
  std::optional<ChildExit> Poll(int timeout_ms, const LineFn& on_line);

  // Sends a signal to every process of the group.
  void Signal(int sig);

  // "first" (SIGTERM, or the signal `run` itself received) to the group; if the main process is
  // still there after "grace", SIGKILL. Pumps output meanwhile. Returns its exit and appends the
  // signals sent to *sent.
  ChildExit Terminate(DurationMs grace, const LineFn& on_line, std::vector<int>* sent,
                      int first = SIGTERM);

  // After the main process exited: ends what is left of the group (SIGTERM, then SIGKILL after
  // "grace") and reaps it, then stands the watchdog down. Returns how many processes were left.
  int KillLeftovers(DurationMs grace);

 private:
  ProcessGroup() = default;
  void Drain(int fd_index, const LineFn& on_line, bool flush);
  void StartWatchdog();
  void StandDownWatchdog();  // the job is over: the watchdog exits without killing

  pid_t pid_ = -1;
  int fds_[2] = {-1, -1};  // stdout, stderr read ends
  std::string partial_[2];
  std::optional<ChildExit> exit_;
  pid_t watchdog_ = -1;
  int watchdog_fd_ = -1;  // its pipe's write end: EOF (this process gone) means kill the group
};

}  // namespace gpuledger
