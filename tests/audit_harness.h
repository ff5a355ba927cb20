// Test harness: audits small fleets written inline, through the real nvidia-smi reader and
// the real engine. Times are minutes after T0; machines priced at 60 USD per GPU-hour, so one
// GPU-minute costs exactly one dollar and expected figures can be worked out by hand.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "audit/audit_runner.h"
#include "core/line_reader.h"
#include "sources/nvidia_smi_csv.h"

namespace gpuledger::testing {

inline constexpr TimeMs kT0 = 1735689600000;  // 2025-01-01T00:00:00Z

inline TimeMs Min(double minutes) { return kT0 + static_cast<TimeMs>(minutes * 60000); }

struct Row {
  int gpu;
  double minute;
  std::string util;  // as logged: "50 %", "[N/A]", …
};

// nvidia-smi CSV text (epoch-second timestamps) with the given rows, in the given order.
inline std::string SmiText(const std::vector<Row>& rows) {
  std::string text = "timestamp, index, utilization.gpu [%]\n";
  for (const Row& r : rows) {
    const TimeMs t = Min(r.minute);
    text += std::to_string(t / 1000) + "." + std::to_string(1000 + t % 1000).substr(1) + ", " +
            std::to_string(r.gpu) + ", " + r.util + "\n";
  }
  return text;
}

// A telemetry source reading "text" as the file "<machine>.csv".
inline TelemetrySource SourceFromText(const std::string& machine, std::string text,
                                      uint32_t file_index = 0) {
  TelemetrySource src;
  src.machine = machine;
  src.files = {machine + ".csv"};
  src.file_indices = {file_index};
  src.bytes = text.size();
  src.feed = [text = std::move(text), machine, file_index](SampleSink* sink, SourceStats* stats,
                                                           std::atomic<uint64_t>*) -> Result<bool> {
    static const TimeZone kUtc = TimeZone::Utc();
    NvidiaSmiReader reader(machine + ".csv", file_index, &kUtc, sink, stats);
    bool in_order = true;
    ForEachLineIn(
        text, [&](std::string_view line, uint64_t no) { return in_order = reader.Line(line, no); });
    return in_order;
  };
  return src;
}

// A machine billed over [from, to) minutes at 60 USD per GPU-hour.
inline Machine& AddMachine(Fleet* fleet, const std::string& name, int gpus, double from, double to,
                           const std::string& owner = "") {
  Machine& m = fleet->AddMachine(name);
  m.gpu_count = gpus;
  BillingPeriod p;
  p.start = Min(from);
  p.end = to < 0 ? kTimeMax : Min(to);
  p.hourly_usd = 60.0 * gpus;
  p.owner = owner;
  m.billing.push_back(p);
  return m;
}

// A job over [from, to) minutes (to < 0: still running).
inline Job& AddJob(Fleet* fleet, const std::string& machine, double from, double to,
                   const std::string& status, std::vector<int> gpus = {},
                   const std::string& owner = "", const std::string& commit = "abc") {
  Job j;
  j.id = "j" + std::to_string(fleet->jobs.size() + 1);
  j.machine = machine;
  j.start = Min(from);
  j.end = to < 0 ? kTimeMax : Min(to);
  j.status = status;
  EXPECT_TRUE(ClassifyJobStatus(status, &j.failed)) << status;
  j.gpus = std::move(gpus);
  j.owner = owner;
  j.commit = commit;
  j.input_order = fleet->jobs.size();
  fleet->jobs.push_back(std::move(j));
  return fleet->jobs.back();
}

inline AuditResult RunOn(const Fleet& fleet, const std::vector<TelemetrySource>& telemetry,
                         AuditOptions options = {}) {
  options.threads = 1;
  AuditInputs inputs;
  inputs.fleet = &fleet;
  inputs.telemetry = &telemetry;
  auto result = RunAudit(inputs, options);
  EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().ToString());
  return result ? *result : AuditResult{};
}

// Dollars of one category over the whole audit.
inline double Usd(const AuditResult& r, Category c) {
  return r.totals.categories[static_cast<int>(c)].usd;
}

}  // namespace gpuledger::testing
