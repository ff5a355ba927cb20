#include "sources/load_fleet.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "core/line_reader.h"
#include "core/parallel.h"
#include "ledger/ledger.h"
#include "model/owner_rules.h"
#include "sources/dcgm_scrape.h"
#include "sources/inventory_csv.h"
#include "sources/jobs_csv.h"
#include "sources/slurm_sacct.h"
#include "sources/telemetry_files.h"
#include "sources/workload_jobs.h"

namespace gpuledger {

namespace {

// The instant a scrape without timestamps stands for: --scrape-time, else the file's mtime.
ScrapeTime ScrapeTimeOf(const std::string& path, const std::optional<TimeMs>& given) {
  if (given) return ScrapeTime{*given, "--scrape-time"};
  std::error_code ec;
  const auto mtime = std::filesystem::last_write_time(path, ec);
  if (ec) return ScrapeTime{0, "unknown modification time: give --scrape-time"};
  const auto sys = std::chrono::file_clock::to_sys(mtime);
  const TimeMs t =
      std::chrono::duration_cast<std::chrono::milliseconds>(sys.time_since_epoch()).count();
  return ScrapeTime{t, "the file's modification time; --scrape-time sets it"};
}

// Reads one exported telemetry file (registered as "index") into "buckets" and "stats": DCGM
// scrapes streamed a line at a time, JSON and long tables whole (a long table on up to
// "threads" cores).
Result<void> ReadExportedFile(const TelemetryFile& f, uint32_t index, const FleetPaths& paths,
                              const TimeZone& zone, TelemetryBuckets* buckets, SourceStats* stats,
                              int threads) {
  const std::string& format = paths.telemetry_format;
  if (format == "dcgm") {
    const std::optional<ScrapeTime> scrape_time = ScrapeTimeOf(f.path, paths.scrape_time);
    DcgmScrapeReader reader(f.path, index, f.machine, paths.mapping, scrape_time, buckets, stats);
    auto r = ForEachLine(f.path, [&](std::string_view line, uint64_t no) {
      reader.Line(line, no);
      return true;
    });
    if (!r) return std::unexpected(r.error());
    reader.Finish();
    return {};
  }
  if (format == "prometheus") {  // a block at a time: an answer of any size, never whole
    PrometheusMatrixReader reader(f.path, index, paths.mapping, buckets, stats);
    auto r = ForEachBlock(f.path, [&](std::string_view block) { reader.Feed(block); });
    if (!r) return std::unexpected(r.error());
    reader.Finish();
    return {};
  }
  return ReadLongTableFile(f.path, index, paths.mapping, zone, LongTableRole::kUtilisation, buckets,
                           stats, threads);
}

// Reads every exported telemetry file, then the memory tables, into per-machine buckets. Files
// are read a batch at a time, one per worker, each into buckets of its own, merged in file
// order: the result is what reading them one after the other gives.
Result<std::vector<TelemetrySource>> ReadExportedTelemetry(const std::vector<TelemetryFile>& files,
                                                           const FleetPaths& paths,
                                                           const TimeZone& zone,
                                                           SourceStats* stats) {
  TelemetryBuckets buckets;
  const int shift = paths.telemetry_format == "prometheus" ? kJsonLineShift : 0;
  std::vector<uint32_t> indices;
  for (const TelemetryFile& f : files) indices.push_back(buckets.AddFile(f.path, shift));
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const size_t batch = paths.threads > 0 ? paths.threads : cores;
  for (size_t first = 0; first < files.size(); first += batch) {
    const size_t count = std::min(batch, files.size() - first);
    std::vector<TelemetryBuckets> read(count);
    std::vector<SourceStats> read_stats(count);
    std::vector<Result<void>> results(count);
    ParallelFor(count, static_cast<int>(count), [&](size_t k) {
      // A batch of one file (one long table) is read on every core.
      results[k] = ReadExportedFile(files[first + k], indices[first + k], paths, zone, &read[k],
                                    &read_stats[k], count == 1 ? static_cast<int>(batch) : 1);
    });
    for (size_t k = 0; k < count; ++k) {
      if (!results[k]) return std::unexpected(results[k].error());
      buckets.Merge(std::move(read[k]));
      stats->Merge(read_stats[k]);
    }
  }
  const SeriesMapping& mapping = paths.mapping;
  SeriesMapping memory = mapping;
  memory.value_col = paths.memory_value_col;
  for (const std::string& path : paths.memory_telemetry) {
    const uint32_t index = buckets.AddFile(path);
    SourceStats memory_stats;  // memory rows are not utilisation samples: counted as notes
    auto r = ReadLongTableFile(path, index, memory, zone, LongTableRole::kMemory, &buckets,
                               &memory_stats);
    if (!r) return std::unexpected(r.error());
    stats->rejected.Merge(memory_stats.rejected);
    stats->notes.Add("memory_rows", path, 0, InputOrder(index, 0),
                     "GPU memory readings joined to utilisation samples of the same instant",
                     memory_stats.rows_accepted);
  }
  return buckets.Sources(paths.max_gap_ms);
}

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
