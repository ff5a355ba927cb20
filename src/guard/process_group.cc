#include "guard/process_group.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "core/proc_stat.h"

namespace gpuledger {
namespace {

TimeMs MonotonicMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The live (not zombie) processes of process group "pgid", from /proc.
std::vector<pid_t> GroupMembers(pid_t pgid) {
  std::vector<pid_t> members;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = std::stoi(name);
    const std::optional<ProcStat> stat = ReadProcStat(pid);
    if (stat && stat->pgrp == pgid && stat->state != 'Z') members.push_back(pid);
  }
  return members;
}

ChildExit FromStatus(int status) {
  ChildExit e;
  if (WIFEXITED(status))
    e.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    e.signal = WTERMSIG(status);
  return e;
}

// In the child, after fork: never returns.
[[noreturn]] void ExecChild(const std::vector<std::string>& argv, int out_w, int err_w,
                            pid_t parent) {
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);               // `run` gone, job gone
  if (getppid() != parent) _exit(128 + SIGKILL);  // it died before the line above
  // ^C and kill signals reach the job from `run` (forwarded), as they would without it.
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  dup2(out_w, STDOUT_FILENO);
  dup2(err_w, STDERR_FILENO);
  signal(SIGPIPE, SIG_DFL);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  const int code = errno == ENOENT ? 127 : 126;
  dprintf(STDERR_FILENO, "gpuledger run: cannot execute %s: %s\n", args[0], strerror(errno));
  _exit(code);
}

}  // namespace

Result<std::unique_ptr<ProcessGroup>> ProcessGroup::Start(const std::vector<std::string>& argv) {
  if (argv.empty()) return MakeError(ErrorCode::kUsage, "no command to run");
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0)
    return MakeError(ErrorCode::kIo, "pipe: " + std::string(strerror(errno)));
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]), close(out[1]);
    return MakeError(ErrorCode::kIo, "pipe: " + std::string(strerror(errno)));
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return MakeError(ErrorCode::kIo, "fork: " + std::string(strerror(errno)));
  if (pid == 0) ExecChild(argv, out[1], err[1], parent);
  setpgid(pid, pid);  // also here, so signals reach the group even before the child runs
  close(out[1]), close(err[1]);
  std::unique_ptr<ProcessGroup> g(new ProcessGroup());
  g->pid_ = pid;
  g->fds_[0] = out[0], g->fds_[1] = err[0];
  for (int fd : g->fds_) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  g->StartWatchdog();
  return g;
}

void ProcessGroup::StartWatchdog() {
  int wd[2];
  if (pipe2(wd, O_CLOEXEC) != 0) return;  // the job still has PR_SET_PDEATHSIG
  const pid_t pid = fork();
  if (pid < 0) {
    close(wd[0]), close(wd[1]);
    return;
  }
  if (pid == 0) {
    // The watchdog: its own process group (a signal to `run`'s group does not reach it), deaf
    // to ^C and hang-ups. It waits for a byte (the job is over: stand down) or EOF (`run` died).
    setpgid(0, 0);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    close(wd[1]);
    for (int fd : fds_) close(fd);
    char byte = 0;
    ssize_t n;
    do {
      n = read(wd[0], &byte, 1);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) kill(-pid_, SIGKILL);
    _exit(0);
  }
  close(wd[0]);
  watchdog_ = pid;
  watchdog_fd_ = wd[1];
}

void ProcessGroup::StandDownWatchdog() {
  if (watchdog_fd_ < 0) return;
  const char byte = 'x';
  (void)!write(watchdog_fd_, &byte, 1);
  close(watchdog_fd_);
  watchdog_fd_ = -1;
  waitpid(watchdog_, nullptr, 0);
  watchdog_ = -1;
}

ProcessGroup::~ProcessGroup() {
  if (!exit_ && pid_ > 0) {
    kill(-pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  StandDownWatchdog();
  for (int fd : fds_) {
    if (fd >= 0) close(fd);
  }
}

void ProcessGroup::Drain(int i, const LineFn& on_line, bool flush) {
  char buf[65536];
  while (fds_[i] >= 0) {
    const ssize_t n = read(fds_[i], buf, sizeof buf);
    if (n > 0) {
      partial_[i].append(buf, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl; (nl = partial_[i].find('\n', start)) != std::string::npos; start = nl + 1) {
        on_line(i + 1, std::string_view(partial_[i]).substr(start, nl - start));
      }
      partial_[i].erase(0, start);
      continue;
    }
    if (n == 0) {  // every writer closed it
      close(fds_[i]);
      fds_[i] = -1;
      flush = true;
    }
    break;  // EAGAIN: nothing more for now
  }
  if (flush && !partial_[i].empty()) {
    on_line(i + 1, partial_[i]);
    partial_[i].clear();
  }
}

std::optional<ChildExit> ProcessGroup::Poll(int timeout_ms, const LineFn& on_line) {
  if (exit_) return exit_;
  pollfd pfds[2];
  int n = 0;
  for (int i = 0; i < 2; ++i) {
    if (fds_[i] >= 0) pfds[n++] = {fds_[i], POLLIN, 0};
  }
  if (n > 0)
    poll(pfds, n, timeout_ms);
  else
    std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
  for (int i = 0; i < 2; ++i) Drain(i, on_line, false);
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    for (int i = 0; i < 2; ++i) Drain(i, on_line, true);
    exit_ = FromStatus(status);
  }
  return exit_;
}

void ProcessGroup::Signal(int sig) { kill(-pid_, sig); }

ChildExit ProcessGroup::Terminate(DurationMs grace, const LineFn& on_line, std::vector<int>* sent,
                                  int first) {
  if (exit_) return *exit_;
  Signal(first);
  sent->push_back(first);
  const TimeMs deadline = MonotonicMs() + grace;
  while (MonotonicMs() < deadline) {
    if (auto e = Poll(20, on_line)) return *e;
  }
  Signal(SIGKILL);
  sent->push_back(SIGKILL);
  while (true) {
    if (auto e = Poll(20, on_line)) return *e;
  }
}

int ProcessGroup::KillLeftovers(DurationMs grace) {
  const size_t left = GroupMembers(pid_).size();
  auto wait_empty = [&](TimeMs until) {
    while (true) {
      while (waitpid(-1, nullptr, WNOHANG) > 0) {  // orphans are ours to reap (subreaper)
      }
      if (GroupMembers(pid_).empty()) return true;
      if (MonotonicMs() >= until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  };
  if (left > 0) {
    Signal(SIGTERM);
    if (!wait_empty(MonotonicMs() + grace)) {
      Signal(SIGKILL);
      wait_empty(MonotonicMs() + 5000);
    }
  }
  for (int i = 0; i < 2; ++i) {
    if (fds_[i] >= 0) close(fds_[i]), fds_[i] = -1;
  }
  StandDownWatchdog();
  return static_cast<int>(left);
}

}  // namespace gpuledger
