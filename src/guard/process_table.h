// What /proc says of the processes the GPUs report, cached by (pid, start time) so that a
// reading of 256 processes costs one stat read each; cgroup, cmdline, environ and status are
// read once per process. A reused pid has another start time, and an exec another command
// name, so either is read afresh.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/proc_stat.h"
#include "guard/node_guard.h"
#include "guard/slurm_query.h"
#include "guard/workload.h"

namespace gpuledger {

// True when "path" lies on a FUSE mount (a file system a user's own process serves) by the
// /proc/PID/mountinfo text "mountinfo": the guard never looks a path up there.
bool IsUserMount(std::string_view mountinfo, std::string_view path);

class ProcessTable {
 public:
  // "proc_root": /proc, or a synthetic tree in tests. "slurm": how Slurm is asked (default:
  // scontrol on the PATH).
  explicit ProcessTable(std::string proc_root = "/proc",
                        std::shared_ptr<SlurmQuery> slurm = std::make_shared<SlurmQuery>())
      : root_(std::move(proc_root)), slurm_(std::move(slurm)) {}

  // A process with the workload it belongs to (owner, short command line; "processes" holds
  // only this process).
  struct Entry {
    ProcessFacts facts;
    WorkloadInfo workload;
    bool touched = true;
    bool settled = true;          // false: Slurm was not asked yet (read again at the next Lookup)
    std::array<char, 16> comm{};  // the command name when read (ProcStat::comm)
  };

  // What is known of "pid" now; nullptr when it is gone (or unreadable). Valid until the next
  // Lookup of the same pid or Sweep.
  const Entry* Lookup(int64_t pid);

  // Forgets the processes not looked up since the previous Sweep; once per sample.
  void Sweep();

  // The user name of "uid" (getpwuid_r, cached), or "uid:N" when it has none.
  std::string UserName(uint32_t uid);
  // The uid of the user "name" in this host's user database (NSS), or none.
  std::optional<uint32_t> UidOf(const std::string& name) const;

  // True while process "key" runs (the pid is there with that start time).
  bool Alive(const ProcessKey& key) const;

  // Every process whose process group is "pgid" (a scan of /proc).
  std::vector<ProcessKey> GroupMembers(int64_t pgid) const;
  // "pid" and every process descended from it (a scan of /proc).
  std::vector<ProcessKey> WithDescendants(const ProcessKey& root) const;

  // True when the group's leader is a login or interactive shell (argv[0] "-bash", or a shell
  // that leads its session): signalling the group would end someone's session.
  bool IsShellGroup(int64_t pgid);

  // The workload "facts" belong to, with its owner and a short command line.
  WorkloadInfo Describe(const ProcessFacts& facts);

  size_t cached() const { return cache_.size(); }

  const std::string& root() const { return root_; }

 private:
  std::optional<ProcessFacts> ReadFacts(int64_t pid, const ProcStat& stat, bool* settled);
  bool VouchSlurm(ProcessFacts* f);
  bool UnderGpuledgerRun(int64_t ppid) const;
  bool OwnsKernelFile(const ProcessFacts& f) const;

  std::string root_;
  std::shared_ptr<SlurmQuery> slurm_;
  static constexpr int64_t kSlurmMsPerSample = 500;
  int64_t slurm_ms_this_sample_ = 0;  // spent asking Slurm since the last Sweep
  std::unordered_map<int64_t, Entry> cache_;
  std::unordered_map<uint32_t, std::string> users_;
};

}  // namespace gpuledger
