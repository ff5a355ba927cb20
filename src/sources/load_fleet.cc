#include "sources/load_fleet.h"

#include "core/line_reader.h"
#include "sources/inventory_csv.h"
#include "sources/jobs_csv.h"
#include "sources/slurm_sacct.h"
#include "sources/telemetry_files.h"

namespace gpuledger {

Result<LoadedFleet> LoadFleet(const FleetPaths& paths, std::optional<double> price_per_gpu_hour,
                              const TimeZone* zone) {
  LoadedFleet out;
  auto files = ListTelemetryFiles(paths.telemetry, paths.machine);
  if (!files) return std::unexpected(files.error());
  out.telemetry = NvidiaSmiSources(*files, zone);
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
    auto text = ReadWholeFile(paths.inventory);
    if (!text) return std::unexpected(text.error());
    auto ok = ReadInventory(*text, paths.inventory, file_index++, *zone, &out.fleet,
                            &out.inventory_stats);
    if (!ok) return std::unexpected(ok.error());
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
