#include "sources/load_fleet.h"

#include <set>

#include "core/line_reader.h"
#include "sources/inventory_csv.h"
#include "sources/jobs_csv.h"
#include "sources/slurm_sacct.h"
#include "sources/telemetry_files.h"

namespace gpuledger {

namespace {

// Reads every exported telemetry file into per-machine buckets.
Result<std::vector<TelemetrySource>> ReadExportedTelemetry(const std::vector<TelemetryFile>& files,
                                                           const std::string& format,
                                                           const SeriesMapping& mapping,
                                                           const TimeZone& zone,
                                                           SourceStats* stats) {
  TelemetryBuckets buckets;
  for (const TelemetryFile& f : files) {
    const uint32_t index = buckets.AddFile(f.path, format == "prometheus" ? kJsonLineShift : 0);
    auto text = ReadWholeFile(f.path);
    if (!text) return std::unexpected(text.error());
    if (format == "prometheus") {
      ReadPrometheusMatrix(*text, f.path, index, mapping, &buckets, stats);
    } else if (format == "dcgm") {
      ReadDcgmScrape(*text, f.path, index, f.machine, mapping, zone, &buckets, stats);
    } else if (auto r = ReadLongTable(*text, f.path, index, mapping, zone, &buckets, stats); !r) {
      return std::unexpected(r.error());
    }
  }
  return buckets.Sources();
}

// The highest GPU index a machine's telemetry names, plus one (0: none), by one pass over it.
int GpusInTelemetry(const std::vector<TelemetrySource>& telemetry, const std::string& machine) {
  struct Counter : GpuSampleTarget {
    int gpus = 0;
    SampleVerdict Add(int gpu, TimeMs, double, uint64_t) override { return Saw(gpu); }
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

}  // namespace

Result<LoadedFleet> LoadFleet(const FleetPaths& paths, std::optional<double> price_per_gpu_hour,
                              const TimeZone* zone) {
  LoadedFleet out;
  const std::string& format = paths.telemetry_format;
  const std::vector<std::string> extensions =
      format == "prometheus" ? std::vector<std::string>{".json"}
      : format == "dcgm"     ? std::vector<std::string>{".prom", ".txt", ".metrics"}
                             : std::vector<std::string>{".csv"};
  auto files = ListTelemetryFiles(paths.telemetry, paths.machine, extensions);
  if (!files) return std::unexpected(files.error());
  if (paths.prometheus) {
    TelemetryBuckets buckets;
    auto r = paths.rollup ? FetchPrometheusRollup(*paths.prometheus, *paths.rollup, paths.mapping,
                                                  &buckets, &out.telemetry_stats, stderr)
                          : FetchPrometheusRaw(*paths.prometheus, paths.mapping, &buckets,
                                               &out.telemetry_stats, stderr);
    if (!r) return std::unexpected(r.error());
    out.telemetry = buckets.Sources();
  } else if (format == "nvidia-smi") {
    out.telemetry = NvidiaSmiSources(*files, zone);
  } else {
    auto read = ReadExportedTelemetry(*files, format, paths.mapping, *zone, &out.telemetry_stats);
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

  if (!paths.jobs.empty()) {
    auto text = ReadWholeFile(paths.jobs);
    if (!text) return std::unexpected(text.error());
    KnownMachines known;
    for (const Machine& m : out.fleet.machines) known[m.name] = m.gpu_count;
    auto ok = paths.jobs_format == "sacct" ? ReadSacct(*text, paths.jobs, file_index++, *zone,
                                                       known, &out.fleet.jobs, &out.jobs_stats)
                                           : ReadJobs(*text, paths.jobs, file_index++, *zone, known,
                                                      &out.fleet.jobs, &out.jobs_stats);
    if (!ok) return std::unexpected(ok.error());
  }
  return out;
}

}  // namespace gpuledger
