#include "guard/process_table.h"

#include <dirent.h>
#include <pwd.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>

#include "core/text_safety.h"
#include "guard/jupyter_server.h"

namespace gpuledger {
namespace {

// A whole small /proc file (cmdline, environ, cgroup, status); empty when unreadable.
std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<std::string> SplitNul(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t j = s.find('\0', i);
    if (j == std::string::npos) j = s.size();
    out.emplace_back(s, i, j - i);
    i = j + 1;
  }
  return out;
}

// The real uid on the "Uid:" line of /proc/PID/status.
std::optional<uint32_t> RealUid(const std::string& status) {
  const size_t at = status.find("\nUid:");
  if (at == std::string::npos) return std::nullopt;
  size_t i = at + 5;
  while (i < status.size() && (status[i] == '\t' || status[i] == ' ')) ++i;
  uint32_t uid = 0;
  auto [end, ec] = std::from_chars(status.data() + i, status.data() + status.size(), uid);
  if (ec != std::errc()) return std::nullopt;
  return uid;
}

bool IsShell(std::string_view name) {
  if (name.starts_with('-')) name.remove_prefix(1);
  if (const size_t slash = name.rfind('/'); slash != std::string_view::npos)
    name.remove_prefix(slash + 1);
  for (std::string_view s : {"bash", "sh", "zsh", "dash", "fish", "ksh", "tcsh", "csh", "mksh"}) {
    if (name == s) return true;
  }
  return false;
}

// Every numeric entry of /proc with its stat.
template <typename Fn>
void ForEachProcess(const std::string& root, Fn fn) {
  DIR* dir = opendir(root.c_str());
  if (!dir) return;
  while (dirent* e = readdir(dir)) {
    int64_t pid = 0;
    const std::string_view name = e->d_name;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (ec != std::errc() || end != name.data() + name.size()) continue;
    if (auto st = ReadProcStat(pid, root)) fn(pid, *st);
  }
  closedir(dir);
}

}  // namespace

bool IsUserMount(std::string_view mountinfo, std::string_view path) {
  // "36 35 98:0 /mnt1 /mnt/x rw,noatime master:1 - fuse.sshfs host:/ rw": the mount point is
  // the fifth field, the type the first after " - ". The longest mount point holding "path"
  // decides.
  size_t best = 0;
  bool fuse = false;
  while (!mountinfo.empty()) {
    const size_t nl = mountinfo.find('\n');
    std::string_view line = mountinfo.substr(0, nl);
    mountinfo.remove_prefix(nl == std::string_view::npos ? mountinfo.size() : nl + 1);
    size_t at = 0;
    for (int field = 0; field < 4 && at != std::string_view::npos; ++field)
      at = line.find(' ', at + (field > 0));
    if (at == std::string_view::npos) continue;
    const size_t stop = line.find(' ', at + 1);
    const std::string_view point = line.substr(at + 1, stop - at - 1);
    const size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    const std::string_view type = line.substr(dash + 3, line.find(' ', dash + 3) - dash - 3);
    const bool holds =
        path == point || point == "/" ||
        (path.starts_with(point) && path.size() > point.size() && path[point.size()] == '/');
    if (!holds || point.size() < best) continue;
    best = point.size();
    fuse = type == "fuse" || type.starts_with("fuse.") || type == "fuseblk";
  }
  return fuse;
}

std::optional<ProcessFacts> ProcessTable::ReadFacts(int64_t pid, const ProcStat& st,
                                                    bool* settled) {
  const std::string dir = root_ + "/" + std::to_string(pid);
  ProcessFacts f;
  f.pid = pid;
  f.ppid = st.ppid, f.pgid = st.pgrp, f.session = st.session, f.start_ticks = st.start_ticks;
  auto uid = RealUid(Slurp(dir + "/status"));
  if (!uid) return std::nullopt;
  f.uid = *uid;
  f.cgroup = Slurp(dir + "/cgroup");
  f.argv = SplitNul(Slurp(dir + "/cmdline"));
  std::map<std::string, std::string, std::less<>> identity;  // the identity variables it sets
  for (const std::string& var : SplitNul(Slurp(dir + "/environ"))) {
    const size_t eq = var.find('=');
    if (eq == std::string::npos) continue;
    const std::string_view key(var.data(), eq);
    std::string value = var.substr(eq + 1);
    if (key == "SLURM_JOB_ID")
      f.env_slurm_job_id = std::move(value);
    else if (key == "GPULEDGER_JOB_ID")
      f.env_gpuledger_job_id = std::move(value);
    else if (key == "GPULEDGER_OWNER")
      f.env_gpuledger_owner = std::move(value);
    else if (IsIdentityVariable(key) && !value.empty())
      identity.emplace(key, std::move(value));
  }
  if (!identity.empty()) {
    f.env_identity = IdentityFromEnvironment([&](std::string_view name) {
      auto it = identity.find(name);
      return it == identity.end() ? std::nullopt : std::optional<std::string>(it->second);
    });
  }
  *settled = VouchSlurm(&f);
  if (!f.env_gpuledger_job_id.empty()) f.under_gpuledger_run = UnderGpuledgerRun(f.ppid);
  f.owns_kernel_file = OwnsKernelFile(f);
  return f;
}

// The Slurm job from slurmd's cgroup (v1's uid_<N> must be the process's uid), else — only
// when SLURM_JOB_ID hints at one — from slurmd's own tracking (`scontrol pidinfo`). Either way
// the job's user, where slurmctld answers, must be the process's uid.
// Asking costs a command each, and any process may set the hint: past kSlurmMsPerSample of
// asking in one sample the process is left unvouched for now (*asked false) and read again
// next sample, so no number of hinting processes can hold a sample up for long.
bool ProcessTable::VouchSlurm(ProcessFacts* f) {
  std::optional<uint32_t> cgroup_uid;
  std::string job = SlurmJobOfCgroup(f->cgroup, &cgroup_uid);
  if (!job.empty() && cgroup_uid && *cgroup_uid != f->uid) job.clear();
  if (job.empty() && !f->env_slurm_job_id.empty()) {
    if (slurm_ms_this_sample_ >= kSlurmMsPerSample) return false;
    const auto t0 = std::chrono::steady_clock::now();
    job = slurm_->JobOfPid(f->pid);
    slurm_ms_this_sample_ +=
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
  }
  if (job.empty()) return true;
  if (auto info = slurm_->Job(job)) {
    if (info->uid != f->uid) return true;  // a job of someone else: not this process's
    f->slurm_user = info->user;
    f->slurm_job_name = info->name;
  }
  f->slurm_job = std::move(job);
  return true;
}

// True when an ancestor of the process (from "ppid" up) is this very binary running `run`:
// its executable is the guard's own (same device and inode, as the kernel links it).
bool ProcessTable::UnderGpuledgerRun(int64_t ppid) const {
  static const std::optional<struct stat> self = []() -> std::optional<struct stat> {
    struct stat st {};
    return stat("/proc/self/exe", &st) == 0 ? std::optional<struct stat>(st) : std::nullopt;
  }
  ();
  if (!self) return false;
  for (int depth = 0; depth < 64 && ppid > 1; ++depth) {
    const std::string dir = root_ + "/" + std::to_string(ppid);
    struct stat exe {};
    if (stat((dir + "/exe").c_str(), &exe) == 0 && exe.st_dev == self->st_dev &&
        exe.st_ino == self->st_ino) {
      const std::vector<std::string> argv = SplitNul(Slurp(dir + "/cmdline"));
      if (argv.size() > 1 && argv[1] == "run") return true;
    }
    auto st = ReadProcStat(ppid, root_);
    if (!st) return false;
    ppid = st->ppid;
  }
  return false;
}

// True when the kernel connection file of an ipykernel command line is a regular file (not a
// link) owned by the process's uid, looked up in the process's own mount namespace.
// The file is reached one component at a time, and never through a FUSE mount (whose
// user-space server could make a stat wait forever on the guard's loop), a symbolic link or
// "..": each component is checked against the process's mount table before it is looked up.
bool ProcessTable::OwnsKernelFile(const ProcessFacts& f) const {
  if (JupyterKernelOf(f.argv).empty()) return false;
  const std::string file = JupyterConnectionFileOf(f.argv);
  if (!file.starts_with('/')) return false;
  const std::string proc = root_ + "/" + std::to_string(f.pid);
  const std::string mountinfo = Slurp(proc + "/mountinfo");
  struct stat st {};
  for (size_t end = file.find('/', 1);; end = file.find('/', end + 1)) {
    const std::string prefix = file.substr(0, end);
    if (prefix.ends_with("/..") || prefix.ends_with("/.") || IsUserMount(mountinfo, prefix))
      return false;
    if (lstat((proc + "/root" + prefix).c_str(), &st) != 0) return false;
    if (end == std::string::npos) break;
    if (!S_ISDIR(st.st_mode)) return false;  // a link, or not a folder
  }
  return S_ISREG(st.st_mode) && st.st_uid == f.uid;
}

const ProcessTable::Entry* ProcessTable::Lookup(int64_t pid) {
  auto st = ReadProcStat(pid, root_);
  if (!st || st->state == 'Z') {
    cache_.erase(pid);
    return nullptr;
  }
  auto it = cache_.find(pid);
  // setpgid may move a process and exec may make it another program (a new command name):
  // then it is read again.
  if (it != cache_.end() && it->second.settled && it->second.facts.start_ticks == st->start_ticks &&
      it->second.facts.pgid == st->pgrp && it->second.comm == st->comm) {
    it->second.touched = true;
    return &it->second;
  }
  bool settled = true;
  auto facts = ReadFacts(pid, *st, &settled);
  if (!facts) {
    cache_.erase(pid);
    return nullptr;
  }
  Entry& e = cache_[pid];
  e.workload = Describe(*facts);
  e.facts = std::move(*facts);
  e.comm = st->comm;
  e.touched = true;
  e.settled = settled;
  return &e;
}

void ProcessTable::Sweep() {
  slurm_ms_this_sample_ = 0;
  std::erase_if(cache_, [](const auto& kv) { return !kv.second.touched; });
  for (auto& [pid, c] : cache_) c.touched = false;
}

std::string ProcessTable::UserName(uint32_t uid) {
  auto it = users_.find(uid);
  if (it != users_.end()) return it->second;
  passwd pw{}, *found = nullptr;
  char buf[4096];
  std::string name = "uid:" + std::to_string(uid);
  if (getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found) name = found->pw_name;
  return users_[uid] = name;
}

std::optional<uint32_t> ProcessTable::UidOf(const std::string& name) const {
  passwd pw{}, *found = nullptr;
  char buf[4096];
  if (getpwnam_r(name.c_str(), &pw, buf, sizeof buf, &found) != 0 || found == nullptr)
    return std::nullopt;
  return found->pw_uid;
}

bool ProcessTable::Alive(const ProcessKey& key) const {
  auto st = ReadProcStat(key.pid, root_);
  return st && st->state != 'Z' && st->start_ticks == key.start_ticks;
}

std::vector<ProcessKey> ProcessTable::GroupMembers(int64_t pgid) const {
  std::vector<ProcessKey> out;
  ForEachProcess(root_, [&](int64_t pid, const ProcStat& st) {
    if (st.pgrp == pgid && st.state != 'Z') out.push_back({pid, st.start_ticks});
  });
  return out;
}

std::vector<ProcessKey> ProcessTable::WithDescendants(const ProcessKey& root) const {
  std::multimap<int64_t, ProcessKey> children;  // ppid → child
  ForEachProcess(root_, [&](int64_t pid, const ProcStat& st) {
    if (st.state != 'Z') children.insert({st.ppid, {pid, st.start_ticks}});
  });
  std::vector<ProcessKey> out = {root};
  for (size_t i = 0; i < out.size(); ++i) {
    auto [from, to] = children.equal_range(out[i].pid);
    for (auto it = from; it != to; ++it) out.push_back(it->second);
  }
  return out;
}

bool ProcessTable::IsShellGroup(int64_t pgid) {
  const Entry* leader = Lookup(pgid);
  if (!leader) return false;  // the leader is gone: the group is the workload's own
  const ProcessFacts& f = leader->facts;
  const std::string argv0 = f.argv.empty() ? "" : f.argv[0];
  if (argv0.starts_with('-')) return true;  // a login shell
  return f.session == f.pid && IsShell(argv0);
}

WorkloadInfo ProcessTable::Describe(const ProcessFacts& f) {
  WorkloadInfo info;
  info.name = ClassifyProcess(f);
  info.uid = f.uid;
  info.pgid = f.pgid;
  // The scheduler that vouches for the process names its owner; else the kernel's uid does.
  if (info.name.kind == WorkloadKind::kSlurm && !f.slurm_user.empty())
    info.owner = f.slurm_user;
  else if (info.name.kind == WorkloadKind::kRun && IsWorkloadIdText(f.env_gpuledger_owner))
    info.owner = f.env_gpuledger_owner;
  else
    info.owner = UserName(f.uid);
  std::string command;
  for (const std::string& a : f.argv) {
    if (command.size() > 60) break;
    command += (command.empty() ? "" : " ") + a;
  }
  // Cut at a character boundary: half a UTF-8 character is text no store accepts.
  if (command.size() > 64) command = std::string(TruncateUtf8(command, 61)) + "…";
  info.command = command;
  info.processes.insert({f.pid, f.start_ticks});
  info.identity = f.env_identity;
  return info;
}

}  // namespace gpuledger
