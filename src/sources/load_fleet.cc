#include "sources/load_fleet.h"

#include <algorithm>
#include <set>

#include "core/line_reader.h"
#include "ledger/ledger.h"
#include "model/owner_rules.h"
#include "sources/exported_files.h"
#include "sources/inventory_csv.h"
#include "sources/jobs_csv.h"
#include "sources/slurm_sacct.h"
#include "sources/telemetry_files.h"
#include "sources/workload_jobs.h"

namespace gpuledger {

namespace {

// The highest GPU index a machine's telemetry names, plus one (0: none), by one pass over it.
int GpusInTelemetry(const std::vector<TelemetrySource>& telemetry, const std::string& machine) {
  struct Counter : GpuSampleTarget {
    int gpus = 0;
    SampleVerdict Add(int gpu, TimeMs, double, uint64_t, double) override { return Saw(gpu); }
    SampleVerdict AddSpan(int gpu, TimeMs, TimeMs, DurationMs, DurationMs, uint64_t) override {
      return Saw(gpu);
    }
    bool KnowsGpu(int) const override { return true; }
    SampleVerdict Saw(int gpu) {
      gpus = std::max(gpus, gpu + 1);
      return SampleVerdict::kAccepted;
    }
  };
  for (const TelemetrySource& src : telemetry) {
    if (src.machine != machine) continue;
    if (src.gpus >= 0) return src.gpus;
    Counter counter;
    SourceStats scratch;
    std::atomic<uint64_t> bytes{0};
    if (!src.feed(&counter, &scratch, &bytes)) return 0;
    return counter.gpus;
  }
  return 0;
}

// Fills each billing period's empty owner, team and project from the first rule that matches
// what is known of it: its machine's name and node labels, its bill line's tags. Keys that
// describe a pod (namespace, pod, container) are unknown here: a rule on them names pods' GPU
// time only (workload_jobs.cc), never the node's own.
void ApplyOwnerRules(const OwnerRules& rules, const std::vector<TelemetrySource>& telemetry,
                     Fleet* fleet, SourceStats* stats) {
  std::map<std::string, const std::map<std::string, std::string>*> labels;
  for (const TelemetrySource& src : telemetry) labels[src.machine] = &src.labels;
  uint64_t named = 0;
  for (Machine& m : fleet->machines) {
    auto it = labels.find(m.name);
    const std::map<std::string, std::string>* series = it == labels.end() ? nullptr : it->second;
    for (BillingPeriod& p : m.billing) {
      auto lookup = [&](const std::string& key) -> std::optional<std::string> {
        if (key == "machine") return m.name;
        if (!key.starts_with("label:") && !key.starts_with("tag:")) return std::nullopt;
        if (key.starts_with("tag:")) {
          std::string k = key.substr(4);
          for (char& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          for (const auto& [tk, tv] : p.tags) {
            if (tk == k) return tv;
          }
          return std::nullopt;
        }
        if (series == nullptr) return std::nullopt;
        auto l = series->find(key.substr(6));
        return l == series->end() ? std::nullopt : std::optional<std::string>(l->second);
      };
      const std::optional<Attribution> a = rules.Apply(lookup);
      if (!a) continue;
      bool used = false;
      for (auto [slot, value] : {std::pair{&p.owner, &a->owner}, std::pair{&p.team, &a->team},
                                 std::pair{&p.project, &a->project}}) {
        if (slot->empty() && !value->empty()) *slot = *value, used = true;
      }
      named += used;
    }
  }
  if (named > 0) {
    stats->notes.Add("owners_from_rules", "(--owners)", 0, UINT64_MAX - 1,
                     "billing periods whose owner, team or project came from --owners rules",
                     named);
  }
}

// A Kubernetes node's own GPU time that nothing names a team for is "(unallocated)": the
// cluster's idle, not "(none)" and never a pod's team.
void NameUnallocatedNodeTime(const std::vector<TelemetrySource>& telemetry, Fleet* fleet) {
  for (const TelemetrySource& src : telemetry) {
    const bool runs_pods =
        std::any_of(src.workloads.begin(), src.workloads.end(),
                    [](const SeriesWorkload& w) { return w.IsPod() && !w.infrastructure; });
    const int64_t index = fleet->Find(src.machine);
    if (!runs_pods || index < 0) continue;
    for (BillingPeriod& p : fleet->machines[static_cast<size_t>(index)].billing) {
      if (p.owner.empty() && p.team.empty()) p.team = kUnallocatedTeam;
    }
  }
}

// The jobs table "jobs" names: a file, or a ledger (ledger:PATH, postgresql://…) written out
// as the jobs CSV.
Result<std::string> ReadJobsText(const std::string& jobs) {
  const bool sqlite = jobs.starts_with("ledger:");
  if (!sqlite && !IsPostgresLocation(jobs)) return ReadWholeFile(jobs);
  auto ledger = Ledger::OpenExisting(sqlite ? jobs.substr(7) : jobs);
  if (!ledger) return std::unexpected(ledger.error());
  auto rows = (*ledger)->Jobs(kTimeMin);
  if (!rows) return std::unexpected(rows.error());
  return JobsToCsv(*rows);
}

}  // namespace

AuditInputs InputsOf(const LoadedFleet& loaded) {
  AuditInputs in;
  in.fleet = &loaded.fleet;
  in.telemetry = &loaded.telemetry;
  in.inventory_stats = loaded.inventory_stats;
  in.jobs_stats = loaded.jobs_stats;
  in.telemetry_stats = loaded.telemetry_stats;
  in.telemetry_given = loaded.telemetry_given;
  in.telemetry_files = loaded.telemetry_files;
  return in;
}

Result<LoadedFleet> LoadFleet(const FleetPaths& paths, std::optional<double> price_per_gpu_hour,
                              const TimeZone* zone) {
  LoadedFleet out;
  const std::string& format = paths.telemetry_format;
  const std::vector<std::string> extensions =
      format == "prometheus" ? std::vector<std::string>{".json"}
      : format == "dcgm"     ? std::vector<std::string>{".prom", ".txt", ".metrics"}
                             : std::vector<std::string>{".csv"};
  std::vector<std::string> skipped;
  auto files = ListTelemetryFiles(paths.telemetry, paths.machine, extensions, &skipped);
  if (!files) return std::unexpected(files.error());
  out.telemetry_given = !paths.telemetry.empty() || paths.prometheus.has_value();
  for (const TelemetryFile& f : *files) out.telemetry_files.push_back(f.path);
  if (!skipped.empty()) {
    std::string names;
    for (const std::string& s : skipped) names += (names.empty() ? "" : "; ") + s;
    out.telemetry_stats.notes.Add("skipped_file", skipped.front(), 0, 0, names, skipped.size());
  }
  if (!paths.telemetry.empty() && files->empty()) {
    return MakeError(ErrorCode::kParse,
                     "no telemetry file found (looked for " + extensions.front() +
                         " files for --telemetry-format " + format + ")" +
                         (skipped.empty() ? ""
                                          : "; skipped: " + skipped.front() +
                                                (skipped.size() > 1 ? " and more" : "")),
                     paths.telemetry.front());
  }
  if (!paths.memory_telemetry.empty() && (format == "nvidia-smi" || paths.prometheus)) {
    return MakeError(ErrorCode::kUsage,
                     "joins long tables, DCGM scrapes or query_range exports (--telemetry-format "
                     "long|dcgm|prometheus); nvidia-smi logs carry memory.used themselves",
                     "--memory-telemetry");
  }
  if (paths.prometheus) {
    TelemetryBuckets buckets;
    auto r = paths.rollup ? FetchPrometheusRollup(*paths.prometheus, *paths.rollup, paths.mapping,
                                                  &buckets, &out.telemetry_stats, stderr)
                          : FetchPrometheusRaw(*paths.prometheus, paths.mapping, &buckets,
                                               &out.telemetry_stats, stderr);
    if (!r) return std::unexpected(r.error());
    out.telemetry = buckets.Sources(paths.max_gap_ms);
  } else if (format == "nvidia-smi") {
    out.telemetry = NvidiaSmiSources(*files, zone);
  } else {
    auto read = ReadExportedTelemetry(*files, paths, *zone, &out.telemetry_stats);
    if (!read) return std::unexpected(read.error());
    out.telemetry = std::move(*read);
  }
  // Tables rank after every telemetry file in problem order.
  uint32_t file_index = static_cast<uint32_t>(files->size());

  if (price_per_gpu_hour) {
    for (const TelemetrySource& src : out.telemetry) {
      Machine& m = out.fleet.AddMachine(src.machine);
      m.billed_from_telemetry = true;
      m.price_per_gpu_hour = *price_per_gpu_hour;
      m.billing.push_back(BillingPeriod{});  // open both ways; clipped to the samples later
    }
  } else {
    if (!paths.inventory.empty()) {
      auto text = ReadWholeFile(paths.inventory);
      if (!text) return std::unexpected(text.error());
      auto ok = ReadInventory(*text, paths.inventory, file_index++, *zone, &out.fleet,
                              &out.inventory_stats);
      if (!ok) return std::unexpected(ok.error());
    }
    if (!paths.billing.empty()) {
      auto text = ReadWholeFile(paths.billing);
      if (!text) return std::unexpected(text.error());
      std::set<std::string> seen;
      for (const TelemetrySource& src : out.telemetry) seen.insert(src.machine);
      auto gpus = [&](const std::string& machine) {
        return GpusInTelemetry(out.telemetry, machine);
      };
      auto ok = ReadFocusBilling(*text, paths.billing, file_index++, *zone, paths.focus, seen, gpus,
                                 &out.fleet, &out.inventory_stats);
      if (!ok) return std::unexpected(ok.error());
    }
  }

  OwnerRules rules;  // none given: the built-in infrastructure list alone
  if (!paths.owners.empty()) {
    auto text = ReadWholeFile(paths.owners);
    if (!text) return std::unexpected(text.error());
    auto parsed = OwnerRules::Parse(*text, paths.owners);
    if (!parsed) return std::unexpected(parsed.error());
    rules = std::move(*parsed);
  }
  SetAsideInfrastructure(rules, &out.telemetry, &out.telemetry_stats);
  if (!paths.owners.empty()) {
    ApplyOwnerRules(rules, out.telemetry, &out.fleet, &out.inventory_stats);
  }
  NameUnallocatedNodeTime(out.telemetry, &out.fleet);

  if (!paths.jobs.empty()) {
    auto text = ReadJobsText(paths.jobs);
    if (!text) return std::unexpected(text.error());
    KnownMachines known;
    for (const Machine& m : out.fleet.machines) known[m.name] = m.gpu_count;
    const std::string source = RedactedLocation(paths.jobs);
    auto ok =
        paths.jobs_format == "sacct"
            ? ReadSacct(*text, source, file_index++, *zone, known, &out.fleet.jobs, &out.jobs_stats)
            : ReadJobs(*text, source, file_index++, *zone, known, &out.fleet.jobs, &out.jobs_stats);
    if (!ok) return std::unexpected(ok.error());
    MatchWorkloadsToJobs(out.telemetry, paths.owners.empty() ? nullptr : &rules, &out.fleet,
                         &out.jobs_stats);
  } else {
    JobsFromWorkloads(out.telemetry, paths.owners.empty() ? nullptr : &rules, &out.fleet,
                      &out.jobs_stats);
  }
  return out;
}

}  // namespace gpuledger
