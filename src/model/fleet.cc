#include "model/fleet.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "model/mig.h"

namespace gpuledger {

bool Job::CoversGpu(int gpu) const {
  const int physical = PhysicalGpu(gpu);  // a job on a GPU covers its MIG instances
  return gpus.empty() || std::find(gpus.begin(), gpus.end(), physical) != gpus.end();
}

int64_t Fleet::Find(const std::string& name) const {
  auto it = machine_index.find(name);
  return it == machine_index.end() ? -1 : static_cast<int64_t>(it->second);
}

Machine& Fleet::AddMachine(std::string name) {
  machine_index.emplace(name, machines.size());
  machines.push_back(Machine{});
  machines.back().name = std::move(name);
  return machines.back();
}

namespace {

// Lower case, letters only ("CANCELLED by 123" → "cancelledby", "TIMED_OUT" → "timedout"),
// then the Slurm "by <uid>" suffix dropped.
std::string StatusKey(std::string_view status) {
  std::string key;
  for (char c : status) {
    if (std::isalpha(static_cast<unsigned char>(c))) key += static_cast<char>(std::tolower(c));
  }
  if (key.ends_with("by")) key.resize(key.size() - 2);
  return key;
}

}  // namespace

bool IsCompletedStatus(std::string_view status) {
  static constexpr std::array<std::string_view, 7> kCompleted = {
      "completed", "complete", "succeeded", "success", "ok", "done", "finished"};
  const std::string key = StatusKey(status);
  return std::find(kCompleted.begin(), kCompleted.end(), key) != kCompleted.end();
}

bool ClassifyJobStatus(std::string_view status, bool* failed) {
  const std::string key = StatusKey(status);
  // "interrupted" and "abandoned" are the ledger's: `run` was stopped by a signal, or died.
  static constexpr std::array<std::string_view, 16> kFailed = {
      "failed",   "fail",        "cancelled",   "canceled",    "timeout",  "timedout",
      "killed",   "outofmemory", "oom",         "nodefailure", "nodefail", "preempted",
      "bootfail", "requeued",    "interrupted", "abandoned"};
  // "ended" is the guard's: a workload let go of its GPUs, its exit status unknown.
  // "unknown" is a pod's from telemetry labels, and a guard's workload whose guard fell silent.
  static constexpr std::array<std::string_view, 12> kOk = {
      "completed", "complete",  "succeeded", "success",  "ok",    "running",
      "pending",   "suspended", "done",      "finished", "ended", "unknown"};
  if (std::find(kFailed.begin(), kFailed.end(), key) != kFailed.end() || key == "deadline") {
    *failed = true;
    return true;
  }
  if (std::find(kOk.begin(), kOk.end(), key) != kOk.end()) {
    *failed = false;
    return true;
  }
  return false;
}

}  // namespace gpuledger
