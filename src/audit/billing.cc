#include "audit/billing.h"

#include <algorithm>
#include <cmath>

namespace gpuledger {

std::vector<BilledSpan> BilledSpans(const Machine& m, TimeMs from, TimeMs to) {
  std::vector<BilledSpan> spans;
  for (const BillingPeriod& p : m.billing) {
    const TimeMs a = std::max(p.start, from), b = std::min(p.end, to);
    if (a >= b) continue;
    const double usd_per_gpu_ms = m.billed_from_telemetry ? m.price_per_gpu_hour / kMsPerHour
                                                          : p.hourly_usd / m.gpu_count / kMsPerHour;
    spans.push_back({a, b, usd_per_gpu_ms});
  }
  return spans;
}

std::vector<std::pair<TimeMs, TimeMs>> ContiguousBilledTime(const std::vector<BilledSpan>& spans) {
  std::vector<std::pair<TimeMs, TimeMs>> runs;
  for (const BilledSpan& b : spans) {
    if (!runs.empty() && runs.back().second == b.from)
      runs.back().second = b.to;
    else
      runs.emplace_back(b.from, b.to);
  }
  return runs;
}

Spend BilledSpend(const std::vector<BilledSpan>& spans, TimeMs from, TimeMs to, double gpus) {
  Spend s;
  for (const BilledSpan& b : spans) {
    const DurationMs ms = std::min(b.to, to) - std::max(b.from, from);
    if (ms <= 0) continue;
    s.gpu_ms += std::llround(static_cast<double>(ms) * gpus);
    s.usd += static_cast<double>(ms) * gpus * b.usd_per_gpu_ms;
  }
  return s;
}

std::optional<TimeMs> WhenSpent(const std::vector<BilledSpan>& spans, TimeMs from, double gpus,
                                double usd) {
  if (usd <= 0) return from;
  double spent = 0;
  for (const BilledSpan& b : spans) {
    const TimeMs a = std::max(b.from, from);
    if (a >= b.to || gpus == 0 || b.usd_per_gpu_ms <= 0) continue;
    const double rate = gpus * b.usd_per_gpu_ms;  // USD per ms
    const double here = static_cast<double>(b.to - a) * rate;
    if (spent + here >= usd) return a + static_cast<TimeMs>(std::ceil((usd - spent) / rate));
    spent += here;
  }
  return std::nullopt;
}

TimeMs OpenEnd(const Fleet& fleet, TimeMs window_to, TimeMs data_end) {
  if (window_to != kTimeMax) return window_to;
  TimeMs end = data_end;
  for (const Machine& m : fleet.machines) {
    for (const BillingPeriod& p : m.billing) {
      if (p.start != kTimeMin) end = std::max(end, p.start);
      if (p.end != kTimeMax) end = std::max(end, p.end);
    }
  }
  for (const Job& j : fleet.jobs) {
    end = std::max(end, j.start);
    if (j.end != kTimeMax) end = std::max(end, j.end);
  }
  return end;
}

}  // namespace gpuledger
