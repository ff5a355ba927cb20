#include "guard/external_command.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

namespace gpuledger {
namespace {

constexpr size_t kMaxOutput = 64 * 1024;

[[noreturn]] void ExecChild(const std::vector<std::string>& argv, int out_fd) {
  const int null = open("/dev/null", O_RDONLY);
  if (null >= 0) dup2(null, 0);
  dup2(out_fd, 1);
  dup2(out_fd, 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  _exit(127);
}

}  // namespace

Result<CommandOutput> CaptureArgv(const std::vector<std::string>& argv, DurationMs timeout_ms) {
  if (argv.empty()) return MakeError(ErrorCode::kUsage, "no command");
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return MakeError(ErrorCode::kIo, "pipe failed");
  const pid_t child = fork();
  if (child < 0) {
    close(fds[0]), close(fds[1]);
    return MakeError(ErrorCode::kIo, "fork failed");
  }
  if (child == 0) ExecChild(argv, fds[1]);
  close(fds[1]);
  CommandOutput out;
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      out.timed_out = true;
      kill(child, SIGKILL);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[4096];
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;  // EOF: the command (and whatever kept its output open) is done
    out.output.append(buf, static_cast<size_t>(n));
    if (out.output.size() > kMaxOutput) out.output.erase(0, out.output.size() - kMaxOutput);
  }
  close(fds[0]);
  int status = 0;
  // A command that closed its output but lingers is given until the deadline, then killed.
  while (waitpid(child, &status, WNOHANG) == 0) {
    if (Clock::now() >= deadline) {
      out.timed_out = true;
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
      break;
    }
    usleep(2000);
  }
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  out.not_found = !out.timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 127;
  return out;
}

Result<void> RunArgv(const std::vector<std::string>& argv, DurationMs timeout_ms) {
  auto r = CaptureArgv(argv, timeout_ms);
  if (!r) return std::unexpected(r.error());
  if (r->timed_out)
    return MakeError(ErrorCode::kIo,
                     fmt::format("{} did not finish in {}", argv[0], FormatDuration(timeout_ms)));
  if (r->status == 0) return {};
  std::string& o = r->output;
  while (!o.empty() && (o.back() == '\n' || o.back() == ' ')) o.pop_back();
  const size_t nl = o.rfind('\n');
  const std::string last = o.substr(nl == std::string::npos ? 0 : nl + 1);
  return MakeError(ErrorCode::kIo, fmt::format("{} exited {}{}", argv[0], r->status,
                                               last.empty() ? "" : ": " + last));
}

}  // namespace gpuledger
