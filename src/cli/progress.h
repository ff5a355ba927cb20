// A one-line progress display on stderr for long audits; silent unless stderr is a terminal.
#pragma once

#include <atomic>
#include <thread>

#include "audit/audit_runner.h"

namespace gpuledger::cli {

class ProgressLine {
 public:
  // Starts redrawing "progress" every quarter second when stderr is a terminal.
  explicit ProgressLine(const AuditProgress* progress);
  // Stops and clears the line.
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

 private:
  void Loop();

  const AuditProgress* progress_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace gpuledger::cli
