// A machine's billed time as spans with the price of one GPU, and what GPUs cost over them.
#pragma once

#include <optional>
#include <vector>

#include "audit/audit_result.h"
#include "model/fleet.h"

namespace gpuledger {

struct BilledSpan {
  TimeMs from = 0, to = 0;
  double usd_per_gpu_ms = 0;
};

// The machine's billed time inside [from, to), one span per billing period, sorted. The price
// of one GPU is the period's hourly price over gpu_count, or the machine's price per GPU-hour
// when it is billed from telemetry.
std::vector<BilledSpan> BilledSpans(const Machine& machine, TimeMs from, TimeMs to);

// The maximal stretches of billed time: spans that touch are joined (a change of price does
// not interrupt billed time).
std::vector<std::pair<TimeMs, TimeMs>> ContiguousBilledTime(const std::vector<BilledSpan>& spans);

// What "gpus" GPUs cost over [from, to) of the billed spans. "gpus" counts GPU-equivalents: a
// MIG instance counts its share of a GPU (model/mig.h).
Spend BilledSpend(const std::vector<BilledSpan>& spans, TimeMs from, TimeMs to, double gpus);

// The instant at which "gpus" GPUs, billed from "from" on, have cost "usd"; nullopt if never.
std::optional<TimeMs> WhenSpent(const std::vector<BilledSpan>& spans, TimeMs from, double gpus,
                                double usd);

// Where open-ended billing and running jobs stop: the window's end when it has one, else the
// latest instant any input speaks of — "data_end" (the end of what samples stand for), finite
// billing starts and ends, job starts and finite ends.
TimeMs OpenEnd(const Fleet& fleet, TimeMs window_to, TimeMs data_end);

}  // namespace gpuledger
