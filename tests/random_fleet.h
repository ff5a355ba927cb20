// Random small fleets for cross-checking the engines against naive references: every time
// falls on a whole second after kT0, so per-second evaluation is exact.
#pragma once

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "audit_harness.h"

namespace gpuledger::testing {

struct RefSample {
  int64_t s;  // seconds after kT0
  double util;
  int order;
};

struct RefFleet {
  Fleet fleet;
  std::map<std::string, std::vector<std::vector<RefSample>>> samples;  // machine → GPU → rows
  std::map<std::string, std::string> text;                             // machine → CSV
  AuditOptions options;
};

inline TimeMs Sec(int64_t s) { return kT0 + s * 1000; }

inline RefFleet RandomFleet(std::mt19937& rng, bool price_mode) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  RefFleet r;
  r.options.threads = 1 + pick(0, 1);
  r.options.max_gap_ms = pick(1, 10) * 60 * 1000;
  if (pick(0, 2) == 0) r.options.window_from = Sec(pick(0, 1800));
  if (pick(0, 2) == 0) r.options.window_to = Sec(pick(2400, 4000));
  if (price_mode) r.options.price_per_gpu_hour = 3.6;
  const char* owners[] = {"", "ann", "bob"};
  const char* statuses[] = {"completed", "failed", "running", "cancelled", "completed"};
  const int machines = pick(1, 3);
  for (int m = 0; m < machines; ++m) {
    const std::string name = "m" + std::to_string(m);
    Machine& machine = r.fleet.AddMachine(name);
    machine.gpu_count = pick(1, 3);
    if (price_mode) {
      machine.billed_from_telemetry = true;
      machine.price_per_gpu_hour = 3.6;
      machine.billing.push_back(BillingPeriod{});
    } else {
      int64_t t = pick(0, 600);
      for (int p = pick(1, 2); p > 0; --p) {
        BillingPeriod b;
        b.start = Sec(t);
        t += pick(300, 2400);
        b.end = (p == 1 && pick(0, 3) == 0) ? kTimeMax : Sec(t);
        b.hourly_usd = 7.2 * pick(1, 3);
        b.owner = owners[pick(0, 2)];
        machine.billing.push_back(b);
        t += pick(0, 300);
      }
    }
    const bool idle_machine = pick(0, 3) == 0;  // a candidate for never_used
    for (int j = idle_machine ? 0 : pick(0, 4); j > 0; --j) {
      Job job;
      job.id = name + "j" + std::to_string(j);
      job.machine = name;
      job.start = Sec(pick(-200, 3600));
      job.status = statuses[pick(0, 4)];
      ClassifyJobStatus(job.status, &job.failed);
      job.end = job.status == "running" ? kTimeMax : job.start + pick(0, 1800) * 1000;
      if (pick(0, 2) == 0) job.gpus.push_back(pick(0, machine.gpu_count - 1));
      job.owner = owners[pick(0, 2)];
      job.commit = pick(0, 1) ? "c0ffee" : "";
      job.input_order = r.fleet.jobs.size();
      r.fleet.jobs.push_back(job);
    }
    // Samples: bursts with gaps, some duplicates, some invalid, shuffled a little.
    std::vector<std::pair<int, RefSample>> rows;
    int order = 0;
    auto& per_gpu = r.samples[name];
    per_gpu.assign(machine.gpu_count, {});
    for (int g = 0; g < machine.gpu_count; ++g) {
      int64_t s = pick(-400, 400);
      while (s < 4200) {
        const double utils[] = {0, 3, 4.5, 5, 40, 100};
        const double util = utils[pick(0, idle_machine ? 2 : 5)];
        rows.push_back({g, {s, pick(0, 9) == 0 ? -1.0 : util, 0}});
        s += pick(0, 3) == 0 ? pick(0, 900) : pick(0, 120);
      }
    }
    if (pick(0, 1)) std::shuffle(rows.begin(), rows.end(), rng);
    std::string text = "timestamp, index, utilization.gpu [%]\n";
    for (auto& [g, row] : rows) {
      row.order = order++;
      text += std::to_string(Sec(row.s) / 1000) + ", " + std::to_string(g) + ", " +
              (row.util < 0 ? std::string("[N/A]") : std::to_string(row.util)) + "\n";
      if (row.util >= 0) per_gpu[g].push_back(row);
    }
    r.text[name] = text;
  }
  return r;
}

// The samples of one GPU sorted, rows at one instant collapsed to the last read.
inline std::vector<RefSample> Sorted(std::vector<RefSample> v) {
  std::stable_sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.s < b.s; });
  std::vector<RefSample> out;
  for (auto& x : v) {
    if (!out.empty() && out.back().s == x.s)
      out.back() = x;
    else
      out.push_back(x);
  }
  return out;
}

// Where sample i of a sorted GPU stops standing (DESIGN.md, "Samples"), in seconds: the next
// sample or i + gap, and for the last sample min(gap, the lower median of all its intervals).
// Written naively on purpose: the engine computes the same with a streaming histogram.
inline int64_t StandsUntil(const std::vector<RefSample>& v, size_t i, int64_t gap_s) {
  if (i + 1 < v.size()) return std::min(v[i + 1].s, v[i].s + gap_s);
  std::vector<int64_t> intervals;
  for (size_t k = 1; k < v.size(); ++k) intervals.push_back(v[k].s - v[k - 1].s);
  if (intervals.empty()) return v[i].s + gap_s;
  std::sort(intervals.begin(), intervals.end());
  return v[i].s + std::min(gap_s, intervals[(intervals.size() - 1) / 2]);
}

}  // namespace gpuledger::testing
