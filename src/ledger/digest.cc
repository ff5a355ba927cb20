#include "ledger/digest.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace gpuledger {
namespace {

std::set<std::string> GpusOf(const std::string& gpus) {  // "0;1" → {0, 1}
  std::set<std::string> out;
  size_t start = 0;
  while (start <= gpus.size()) {
    const size_t end = std::min(gpus.find(';', start), gpus.size());
    if (end > start) out.insert(gpus.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// The part of a job's run inside [from, to), as a share of its run (0 when none).
double ShareIn(const LedgerJob& j, TimeMs from, TimeMs to, TimeMs now) {
  const TimeMs end = j.end ? *j.end : std::max(j.start, j.heartbeat.value_or(now));
  if (end <= j.start) return j.start >= from && j.start < to ? 1.0 : 0.0;
  const TimeMs lo = std::max(from, j.start), hi = std::min(to, end);
  return hi > lo ? static_cast<double>(hi - lo) / static_cast<double>(end - j.start) : 0.0;
}

void AddJob(OwnerDigest* d, const LedgerJob& j, double share, bool previous) {
  if (previous) {
    d->previous_gpu_hours += j.gpu_hours * share;
    d->previous_usd += j.cost_usd * share;
    return;
  }
  d->gpu_hours += j.gpu_hours * share;
  d->idle_gpu_hours += j.idle_gpu_hours.value_or(0) * share;
  d->usd += j.cost_usd * share;
  ++d->jobs;
  d->failed += j.status == "failed";
  d->killed += j.status == "killed";
}

// When one of "gpus" of "host" is next used after "at": the earliest start of a job there that
// holds one of them; "to" when none starts before it.
TimeMs NextUse(const std::vector<LedgerJob>& jobs, const LedgerJob& killed, TimeMs at, TimeMs to) {
  const std::set<std::string> gpus = GpusOf(killed.gpus);
  TimeMs next = to;
  for (const LedgerJob& j : jobs) {
    if (j.job_id == killed.job_id || j.host != killed.host || j.start <= at || j.start >= next)
      continue;
    for (const std::string& g : GpusOf(j.gpus)) {
      if (gpus.count(g)) {
        next = j.start;
        break;
      }
    }
  }
  return next;
}

// The GPUs "killed" held, from "at" until one of them is next used (NextUse), priced at the
// job's own rate, else "usd_per_gpu_hour".
DigestFreed Freed(const std::vector<LedgerJob>& jobs, const LedgerJob& killed, TimeMs at, TimeMs to,
                  double usd_per_gpu_hour) {
  DigestFreed f;
  f.job_id = killed.job_id;
  f.killed_at = at;
  f.until = NextUse(jobs, killed, at, to);
  f.gpus = static_cast<int>(GpusOf(killed.gpus).size());
  f.gpu_hours = f.gpus * static_cast<double>(f.until - f.killed_at) / kMsPerHour;
  const double rate = killed.gpu_hours > 0 && killed.cost_usd > 0
                          ? killed.cost_usd / killed.gpu_hours
                          : usd_per_gpu_hour;
  f.usd = f.gpu_hours * rate;
  return f;
}

// One decision in "d": its kind counted; a kill's freed GPUs and doubt added.
void Count(OwnerDigest* d, const LedgerDecision& dec, const std::optional<DigestFreed>& freed,
           bool doubtful) {
  if (dec.kind == "warn") ++d->warnings;
  if (dec.kind == "release") ++d->releases;
  if (dec.kind == "warn_only") ++d->warn_only;
  if (dec.kind == "keep") d->keeps.push_back({dec.job_id, dec.granted_by, dec.explanation, dec.at});
  if (dec.kind != "kill") return;
  ++d->kills;
  if (!freed) return;
  d->freed.push_back(*freed);
  d->freed_gpu_hours += freed->gpu_hours;
  d->freed_usd += freed->usd;
  if (doubtful) d->possible_false_kills.push_back(freed->job_id);
}

bool StartedAgainWithinAnHour(const std::vector<LedgerJob>& jobs, const LedgerJob& killed) {
  if (killed.command.empty() || !killed.end) return false;
  for (const LedgerJob& j : jobs) {
    if (j.job_id != killed.job_id && j.owner == killed.owner && j.command == killed.command &&
        j.start >= *killed.end && j.start <= *killed.end + kMsPerHour) {
      return true;
    }
  }
  return false;
}

}  // namespace

Digest BuildDigest(const std::vector<LedgerJob>& jobs, const std::vector<LedgerDecision>& decisions,
                   TimeMs from, TimeMs to, double usd_per_gpu_hour) {
  Digest d;
  d.from = from, d.to = to;
  const TimeMs before = from - (to - from);
  std::map<std::string, OwnerDigest> owners;
  std::map<std::string, const LedgerJob*> by_id;
  for (const LedgerJob& j : jobs) {
    by_id[j.job_id] = &j;
    for (const bool previous : {false, true}) {
      const double share = previous ? ShareIn(j, before, from, to) : ShareIn(j, from, to, to);
      if (share <= 0) continue;
      OwnerDigest& o = owners[j.owner];
      o.owner = j.owner;
      AddJob(&o, j, share, previous);
      AddJob(&d.fleet, j, share, previous);
    }
  }
  for (const LedgerDecision& dec : decisions) {
    if (dec.at < from || dec.at >= to) continue;
    const auto it = by_id.find(dec.job_id);
    const LedgerJob* job = it == by_id.end() ? nullptr : it->second;
    // What a kill that stopped its job freed, and whether it looks wrong: worked out once, for
    // the owner and the fleet alike (a dry run's kill frees nothing).
    std::optional<DigestFreed> freed;
    bool doubtful = false;
    if (dec.kind == "kill" && job && job->status == "killed") {
      freed = Freed(jobs, *job, dec.at, to, usd_per_gpu_hour);
      doubtful = StartedAgainWithinAnHour(jobs, *job);
    }
    OwnerDigest* owner = nullptr;
    if (job) {
      owner = &owners[job->owner];
      owner->owner = job->owner;
    }
    for (OwnerDigest* target : {owner, &d.fleet}) {
      if (target) Count(target, dec, freed, doubtful);
    }
  }
  for (auto& [name, o] : owners) d.owners.push_back(std::move(o));
  std::stable_sort(d.owners.begin(), d.owners.end(),
                   [](const OwnerDigest& a, const OwnerDigest& b) { return a.usd > b.usd; });
  return d;
}

}  // namespace gpuledger
