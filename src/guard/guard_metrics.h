// The guard's /metrics (Prometheus text exposition format 0.0.4): per-GPU utilisation and
// memory, per workload the GPUs it holds, its idle seconds and state, counters of what the
// guard did, and the last sample's time. Rendering is pure; the server (cpp-httplib) serves
// the latest text from its own thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/error.h"
#include "gpu/gpu_source.h"
#include "guard/node_guard.h"
#include "notify/notifier.h"

namespace gpuledger {

struct GuardCounters {
  uint64_t warnings = 0, kills = 0, warn_only = 0, exemptions = 0, keeps = 0, releases = 0;
  uint64_t action_failures = 0, reading_errors = 0, samples = 0;
  uint64_t ledger_queued = 0, ledger_failures = 0, ledger_dropped = 0, ledger_quarantined = 0;
  std::vector<Notifier::Counts> notify;  // one per --notify sink
  // What the guard's stops and releases freed (in dry-run, what they would have): the GPUs the
  // stopped workloads held, every GPU of a released machine, and the GPU memory they held.
  uint64_t freed_gpus = 0;
  double freed_memory_bytes = 0;
};

// The exposition text. "last" is the latest snapshot (nullptr before the first).
std::string RenderGuardMetrics(const NodeGuard& guard, const GpuSnapshot* last,
                               const GuardCounters& counters, TimeMs now);

// A label value escaped as the text format wants (\\, \", \n).
std::string PromLabelValue(std::string_view v);

class MetricsServer {
 public:
  // Listens on "listen" (HOST:PORT; only that address) and serves GET /metrics.
  static Result<std::unique_ptr<MetricsServer>> Start(const std::string& listen);
  ~MetricsServer();
  void Publish(std::string text);
  int port() const { return port_; }

 private:
  MetricsServer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace gpuledger
