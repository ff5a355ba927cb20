#include "guard/workload_names.h"

#include <dirent.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>

#include "core/text_safety.h"

namespace gpuledger {

std::optional<PodName> PodNameFromKubelet(const std::string& dir, const std::string& uid) {
  if (uid.empty()) return std::nullopt;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return std::nullopt;
  std::optional<PodName> found;
  const std::string suffix = "_" + uid;
  while (dirent* e = readdir(d)) {
    const std::string_view entry = e->d_name;
    if (!entry.ends_with(suffix)) continue;
    const std::string_view rest = entry.substr(0, entry.size() - suffix.size());
    const size_t cut = rest.find('_');  // Kubernetes names never hold '_'
    if (cut == std::string_view::npos || cut == 0 || cut + 1 == rest.size()) continue;
    struct stat st {};
    const std::string path = dir + "/" + std::string(entry);
    if (lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0) continue;
    found = PodName{std::string(rest.substr(0, cut)), std::string(rest.substr(cut + 1))};
    break;
  }
  closedir(d);
  return found;
}

WorkloadNames::WorkloadNames(std::string proc_root, std::string pod_logs_dir, std::FILE* log)
    : proc_root_(std::move(proc_root)), pod_logs_dir_(std::move(pod_logs_dir)), log_(log) {
  if (pod_logs_dir_.empty()) pod_logs_dir_ = proc_root_ + "/1/root/var/log/pods";
  for (int i = 0; i < kThreads; ++i) threads_.emplace_back([this] { LookupLoop(); });
}

WorkloadNames::~WorkloadNames() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
}

WorkloadNames::Names WorkloadNames::Find(const ProcessFacts& facts, const WorkloadName& name) {
  Names n;
  switch (name.kind) {
    case WorkloadKind::kJupyter: {
      const std::string kernel = name.id.substr(8);
      n.title = "Jupyter kernel " + kernel.substr(0, 8);
      if (queue_.size() >= kMaxQueued) {
        fmt::print(log_,
                   "gpuledger guard: {}: too many kernels to look up; it would be stopped "
                   "with signals\n",
                   name.id);
        break;
      }
      queue_.push_back(
          {name.id, {facts.pid, facts.uid, JupyterRuntimeDirOf(facts.argv), proc_root_}, kernel});
      wake_.notify_all();
      break;
    }
    case WorkloadKind::kSlurm:
      n.title = "Slurm job " + name.id.substr(6) +
                (facts.slurm_job_name.empty() ? "" : " (" + facts.slurm_job_name + ")");
      break;
    case WorkloadKind::kPod:
      if (auto pod = PodNameFromKubelet(pod_logs_dir_, name.id.substr(4))) {
        n.pod_namespace = pod->pod_namespace;
        n.pod_name = pod->name;
        n.title = "pod " + n.pod_namespace + "/" + n.pod_name;
      }
      break;
    default:
      break;
  }
  return n;
}

void WorkloadNames::Fill(const ProcessFacts& facts, WorkloadInfo* info) {
  std::lock_guard lock(mu_);
  auto it = names_.find(info->name.id);
  if (it == names_.end()) it = names_.emplace(info->name.id, Find(facts, info->name)).first;
  const Names& n = it->second;
  info->title = n.title;
  info->jupyter = n.jupyter;
  info->pod_namespace = n.pod_namespace;
  info->pod_name = n.pod_name;
}

void WorkloadNames::KeepOnly(const std::set<std::string>& alive) {
  std::lock_guard lock(mu_);
  std::erase_if(names_, [&](const auto& kv) { return !alive.count(kv.first); });
  std::erase_if(queue_, [&](const Lookup& l) { return !alive.count(l.id); });
}

bool WorkloadNames::Idle(int timeout_ms) {
  std::unique_lock lock(mu_);
  return wake_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                        [&] { return queue_.empty() && busy_ == 0; });
}

void WorkloadNames::LookupLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    auto next = std::find_if(queue_.begin(), queue_.end(),
                             [&](const Lookup& q) { return q.process.uid != last_uid_; });
    if (next == queue_.end()) next = queue_.begin();
    Lookup l = std::move(*next);
    queue_.erase(next);
    last_uid_ = l.process.uid;
    ++busy_;
    lock.unlock();
    auto found = LocateJupyterKernel(l.process, l.kernel_id);
    if (!found) {
      fmt::print(log_, "gpuledger guard: {}: {} (it would be stopped with signals)\n", l.id,
                 EscapeForLog(found.error().message));
    }
    lock.lock();
    --busy_;
    if (auto it = names_.find(l.id); it != names_.end() && found) {
      if (!found->notebook.empty()) it->second.title = "notebook " + found->notebook;
      it->second.jupyter = std::move(*found);
    }
    wake_.notify_all();
  }
}

}  // namespace gpuledger
