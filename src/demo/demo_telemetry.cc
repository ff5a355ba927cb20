// The demo's samples: a pure function of (seed, machine, GPU, time) and the machine's plan,
// so the in-memory feed and the written files carry exactly the same rows.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>

#include "core/csv_table.h"
#include "core/problems.h"
#include "demo/demo_fleet.h"

namespace gpuledger {
namespace {

uint64_t Mix(uint64_t a, uint64_t b) {
  uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

int UtilFor(const DemoFleet& demo, const ActivitySegment* seg, size_t m, int gpu, TimeMs t) {
  const uint64_t h = Mix(Mix(demo.options.seed, m * 4096 + gpu), static_cast<uint64_t>(t));
  const bool applies = seg != nullptr && (seg->gpu_mask >> (gpu & 31) & 1u);
  const Activity a = applies ? seg->activity : Activity::kIdle;
  switch (a) {
    case Activity::kIdle:
      return static_cast<int>(h % 3);
    case Activity::kSetupHang:
      return 0;
    case Activity::kBusy: {
      // A stalled input pipeline: in one poll of ten, all of the machine's GPUs wait on data.
      const uint64_t poll =
          Mix(Mix(demo.options.seed, m), static_cast<uint64_t>(t / (5 * kMsPerMinute)));
      if (poll % 100 < 10) return static_cast<int>(h % 4);
      return 35 + static_cast<int>(h % 65);
    }
  }
  return 0;
}

// GPU memory in use (MiB) with "util": a working GPU holds its model and batches; a stalled
// pipeline and a job hung at setup still hold theirs; an idle job keeps its memory on one
// machine in four (a notebook kernel left open); and on one used machine in five a session left
// open holds memory outside any job. Never-used machines hold nothing.
int MemoryFor(const DemoFleet& demo, const ActivitySegment* seg, size_t m, int gpu, int util) {
  if (util >= 5) return 30000 + util * 300;
  const bool applies = seg != nullptr && (seg->gpu_mask >> (gpu & 31) & 1u);
  if (applies && seg->activity == Activity::kBusy) return 30000;
  if (applies && seg->activity == Activity::kSetupHang) return 18000;
  if (applies) return Mix(demo.options.seed, m) % 4 == 0 ? 12000 : 3;
  if (demo.plans[m].segments.empty()) return 3;
  return Mix(demo.options.seed, m * 7 + 1) % 5 == 0 ? 9000 : 3;
}

// Walks one machine's poll instants in time order, tracking the plan's segment and outage.
class PlanCursor {
 public:
  PlanCursor(const DemoMachinePlan& plan) : plan_(plan) {}
  // The segment at t (or null) and whether t falls in an outage; t must not decrease.
  const ActivitySegment* At(TimeMs t, bool* outage) {
    while (seg_ < plan_.segments.size() && plan_.segments[seg_].to <= t) ++seg_;
    while (out_ < plan_.outages.size() && plan_.outages[out_].to <= t) ++out_;
    *outage = out_ < plan_.outages.size() && plan_.outages[out_].from <= t;
    return seg_ < plan_.segments.size() && plan_.segments[seg_].from <= t ? &plan_.segments[seg_]
                                                                          : nullptr;
  }

 private:
  const DemoMachinePlan& plan_;
  size_t seg_ = 0, out_ = 0;
};

// Calls emit(t, gpu, util, memory_mib) for every row of machine "m", in file order.
template <typename Emit>
void ForEachRow(const DemoFleet& demo, size_t m, Emit&& emit) {
  const Machine& machine = demo.fleet.machines[m];
  const BillingPeriod& b = machine.billing[0];
  PlanCursor cursor(demo.plans[m]);
  for (TimeMs t = b.start; t < b.end; t += demo.options.poll_ms) {
    bool outage = false;
    const ActivitySegment* seg = cursor.At(t, &outage);
    if (outage) continue;
    for (int g = 0; g < machine.gpu_count; ++g) {
      const int util = UtilFor(demo, seg, m, g, t);
      emit(t, g, util, MemoryFor(demo, seg, m, g, util));
    }
  }
}

std::string IsoOrEmpty(TimeMs t) { return t == kTimeMax ? "" : FormatIsoUtc(t); }

Result<void> WriteText(const std::filesystem::path& path, const std::string& text) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f || std::fwrite(text.data(), 1, text.size(), f.get()) != text.size()) {
    return MakeError(ErrorCode::kIo, "cannot write", path.string());
  }
  return {};
}

Result<void> WriteMachineCsv(const DemoFleet& demo, size_t m, const std::filesystem::path& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) return MakeError(ErrorCode::kIo, "cannot write", path.string());
  const std::string& model = demo.fleet.machines[m].billing[0].gpu_model;
  std::string buf = "timestamp, index, name, utilization.gpu [%], memory.used [MiB]\n";
  TimeMs last_t = kTimeMin;
  std::string stamp;
  bool ok = true;
  ForEachRow(demo, m, [&](TimeMs t, int g, int util, int memory_mib) {
    if (t != last_t) stamp = FormatNvidiaSmiTime(t), last_t = t;
    fmt::format_to(std::back_inserter(buf), "{}, {}, {}, {} %, {} MiB\n", stamp, g, model, util,
                   memory_mib);
    if (buf.size() > (1 << 20)) {
      ok = ok && std::fwrite(buf.data(), 1, buf.size(), f.get()) == buf.size();
      buf.clear();
    }
  });
  ok = ok && std::fwrite(buf.data(), 1, buf.size(), f.get()) == buf.size();
  if (!ok) return MakeError(ErrorCode::kIo, "cannot write", path.string());
  return {};
}

std::string InventoryCsv(const Fleet& fleet) {
  std::string out = "machine,gpu_count,gpu_model,hourly_usd,owner,team,project,start,end\n";
  for (const Machine& m : fleet.machines) {
    const BillingPeriod& b = m.billing[0];
    fmt::format_to(std::back_inserter(out), "{},{},{},{:.2f},{},{},{},{},{}\n", m.name, m.gpu_count,
                   b.gpu_model, b.hourly_usd, b.owner, b.team, b.project, FormatIsoUtc(b.start),
                   IsoOrEmpty(b.end));
  }
  return out;
}

std::string JobsCsv(const Fleet& fleet) {
  std::string out = "job_id,machine,gpus,owner,start,end,status,exit_code,repo,commit,pr\n";
  for (const Job& j : fleet.jobs) {
    std::string gpus;
    for (int g : j.gpus) gpus += (gpus.empty() ? "" : ";") + std::to_string(g);
    fmt::format_to(std::back_inserter(out), "{},{},{},{},{},{},{},{},{},{},{}\n", j.id, j.machine,
                   gpus, j.owner, FormatIsoUtc(j.start), IsoOrEmpty(j.end), j.status, j.exit_code,
                   j.repo, j.commit, j.pr);
  }
  return out;
}

}  // namespace

std::vector<TelemetrySource> DemoTelemetry(const DemoFleet& demo) {
  std::vector<TelemetrySource> sources;
  for (size_t m = 0; m < demo.fleet.machines.size(); ++m) {
    const Machine& machine = demo.fleet.machines[m];
    TelemetrySource src;
    src.machine = machine.name;
    src.files = {"demo:" + machine.name};
    src.file_indices = {static_cast<uint32_t>(m)};
    const BillingPeriod& b = machine.billing[0];
    src.bytes = static_cast<uint64_t>((b.end - b.start) / demo.options.poll_ms) *
                machine.gpu_count * 60;  // about what the CSV would take
    src.feed = [&demo, m](SampleSink* sink, SourceStats* stats,
                          std::atomic<uint64_t>* bytes) -> Result<bool> {
      uint64_t line = 1;
      bool in_order = true;
      ForEachRow(demo, m, [&](TimeMs t, int g, int util, int memory_mib) {
        if (!in_order) return;
        ++stats->rows_read;
        const SampleVerdict v = sink->Add(g, t, util, InputOrder(static_cast<uint32_t>(m), ++line),
                                          static_cast<double>(memory_mib));
        if (v == SampleVerdict::kOutOfOrder)
          in_order = false;
        else if (v == SampleVerdict::kAccepted || v == SampleVerdict::kDuplicate)
          ++stats->rows_accepted;
      });
      bytes->fetch_add(line * 60, std::memory_order_relaxed);
      return in_order;
    };
    sources.push_back(std::move(src));
  }
  return sources;
}

Result<void> WriteDemoFleet(const DemoFleet& demo, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "telemetry", ec);
  if (ec) return MakeError(ErrorCode::kIo, "cannot create directory: " + ec.message(), dir);
  if (auto r = WriteText(fs::path(dir) / "inventory.csv", InventoryCsv(demo.fleet)); !r) return r;
  if (auto r = WriteText(fs::path(dir) / "jobs.csv", JobsCsv(demo.fleet)); !r) return r;
  std::string credits = "date,amount_usd,label\n";
  for (const CreditBatch& b : demo.credits) {
    credits += fmt::format("{},{:.2f},{}\n", FormatIsoUtc(b.date), b.amount_usd, b.label);
  }
  if (auto r = WriteText(fs::path(dir) / "credits.csv", credits); !r) return r;
  std::atomic<size_t> next{0};
  std::vector<std::optional<Error>> errors(demo.fleet.machines.size());
  auto worker = [&] {
    for (size_t m; (m = next.fetch_add(1)) < demo.fleet.machines.size();) {
      const fs::path path = fs::path(dir) / "telemetry" / (demo.fleet.machines[m].name + ".csv");
      if (auto r = WriteMachineCsv(demo, m, path); !r) errors[m] = r.error();
    }
  };
  std::thread helper(worker);
  worker();
  helper.join();
  for (const auto& e : errors) {
    if (e) return std::unexpected(*e);
  }
  return {};
}

}  // namespace gpuledger
