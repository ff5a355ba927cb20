#include "guard/preflight.h"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

namespace gpuledger {
namespace {

// stdout of a shell command, or nullopt when it fails.
std::optional<std::string> Capture(const char* command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command, "r"), &pclose);
  if (!pipe) return std::nullopt;
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe.get())) out.append(buf, n);
  if (pclose(pipe.release()) != 0) return std::nullopt;
  return out;
}

}  // namespace

GitState ReadGitState() {
  GitState g;
  if (auto head = Capture("git rev-parse HEAD 2>/dev/null")) {
    g.commit = head->substr(0, head->find_first_of("\r\n"));
    if (auto status = Capture("git status --porcelain 2>/dev/null")) g.dirty = !status->empty();
  }
  return g;
}

Result<void> CheckWritableDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string probe = dir + "/.gpuledger-write-check-" + std::to_string(getpid());
  std::FILE* f = std::fopen(probe.c_str(), "w");
  if (f == nullptr) return MakeError(ErrorCode::kIo, "output directory is not writable", dir);
  std::fclose(f);
  std::filesystem::remove(probe, ec);
  return {};
}

Result<void> RunShellCommand(const std::string& command) {
  const int status = std::system(command.c_str());
  if (status == 0) return {};
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return MakeError(ErrorCode::kInvalid, fmt::format("command failed (exit {})", code), command);
}

Result<std::vector<GpuSnapshot>> CheckGpus(GpuSource* source, TimeMs now, double threshold_pct,
                                           bool require_gpu, std::FILE* log) {
  auto snaps = source->Read(now);
  size_t visible = 0;
  if (snaps) {
    for (const GpuSnapshot& s : *snaps) visible = std::max(visible, s.gpus.size());
    for (const GpuSnapshot& s : *snaps) {
      for (const GpuReading& r : s.gpus) {
        if (r.util_pct >= threshold_pct || r.memory_used_mib.value_or(0) > 1024) {
          fmt::print(log,
                     "gpuledger run: preflight: GPU {} looks busy before the job starts "
                     "({} %{})\n",
                     r.index, r.util_pct,
                     r.memory_used_mib ? fmt::format(", {:.0f} MiB used", *r.memory_used_mib) : "");
        }
      }
    }
  }
  fmt::print(log, "gpuledger run: preflight: GPUs from {}\n", source->Describe());
  if (visible == 0 && require_gpu) {
    return MakeError(ErrorCode::kInvalid, "no GPU visible and --require-gpu was given");
  }
  if (visible == 0) {
    fmt::print(log,
               "gpuledger run: preflight: no GPU visible: the job runs, but the idle rules "
               "cannot apply to it\n");
  }
  return snaps ? std::move(*snaps) : std::vector<GpuSnapshot>{};
}

}  // namespace gpuledger
