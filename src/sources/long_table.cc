// Long tables (time, series, value CSV): ReadLongTable.
#include <cmath>

#include "core/csv_table.h"
#include "core/memory_size.h"
#include "core/parallel.h"
#include "core/time_parser.h"
#include "sources/exported_telemetry.h"
#include "sources/nvidia_smi_csv.h"
#include "sources/prom_text.h"
#include "sources/series_labels.h"
#include "sources/table_rows.h"

namespace gpuledger {

using namespace series;

namespace {

// A long table's machine and GPU of a row; false (after rejecting it) when they are missing.
bool RowMachineAndGpu(const TableRow& r, const SeriesMapping& m, std::optional<size_t> c_series,
                      std::optional<size_t> c_machine, std::optional<size_t> c_gpu,
                      std::string* machine, int* gpu,
                      std::vector<std::pair<std::string, std::string>>* labels) {
  const std::string series = r.Get(c_series);
  *gpu = 0;
  if (series.find('{') != std::string::npos) {  // a Prometheus selector: read its labels
    auto sample = ParsePromLine(series.front() == '{' ? "m" + series + " 0" : series + " 0");
    const char* reason = nullptr;
    if (!sample || !*sample ||
        !MachineAndGpu(
            m, [&](const std::string& k) { return std::string((*sample)->Label(k)); }, "", machine,
            gpu, &reason)) {
      r.Reject(reason ? reason : "no_machine_label", "series '" + series + "'");
      return false;
    }
    *labels = (*sample)->labels;
    return true;
  }
  *machine = c_machine ? r.Get(c_machine) : series;
  if (!c_gpu) return true;
  const std::string g = r.Get(c_gpu);
  auto [end, ec] = std::from_chars(g.data(), g.data() + g.size(), *gpu);
  if (g.empty() || ec != std::errc() || end != g.data() + g.size() || *gpu < 0 || *gpu > 1023) {
    r.Reject("bad_gpu_index", "gpu '" + g + "'");
    return false;
  }
  return true;
}

// A memory field in "mib_per_unit" units → MiB (nvidia-smi's memory.used parser reads the
// number); kNoMemory when it is not a non-negative number.
double MemoryField(const std::string& text, double mib_per_unit) {
  return ParseMemoryMib(text) * mib_per_unit;  // NaN stays NaN
}

// What a utilisation table's values looked like, to tell one that is not utilisation.
struct ValueCounts {
  uint64_t numeric = 0, above_100 = 0, first_above = 0;  // first_above: its line
  std::string first_above_value;
  // Adds the counts of the stretch read after this one.
  void Add(const ValueCounts& later) {
    if (above_100 == 0 && later.above_100 > 0) {
      first_above = later.first_above, first_above_value = later.first_above_value;
    }
    numeric += later.numeric, above_100 += later.above_100;
  }
};

// Reads a long table's rows, a stretch at a time, into buckets and stats (one set per stretch).
struct LongTableRows {
  const CsvTable& table;
  const std::string& file;
  uint32_t file_index;
  const SeriesMapping& m;
  const TimeZone& zone;
  LongTableRole role;
  double mib_per_unit;
  std::optional<size_t> c_time, c_series, c_value, c_machine, c_gpu, c_memory;

  void Read(const CsvTable::Stretch& stretch, TelemetryBuckets* out, SourceStats* stats,
            ValueCounts* counts) const {
    TimeParser parser(&zone);
    const bool ratio = m.value_scale == "ratio";
    ForEachTableRowIn(table, stretch, file, file_index, stats, [&](const TableRow& r) {
      TimeMs t = 0;
      if (!parser.Parse(r[*c_time], &t)) {
        r.Reject(parser.failure(), "time '" + r[*c_time] + "'");
        return;
      }
      if (parser.ambiguous()) r.Note(kAmbiguousLocalTime, "time '" + r[*c_time] + "'");
      std::string machine;
      int gpu = 0;
      std::vector<std::pair<std::string, std::string>> labels;
      if (!RowMachineAndGpu(r, m, c_series, c_machine, c_gpu, &machine, &gpu, &labels)) return;
      if (!labels.empty()) out->AddLabels(machine, labels);
      if (role == LongTableRole::kMemory) {
        const double mib = MemoryField(r[*c_value], mib_per_unit);
        if (std::isnan(mib)) {
          r.Reject("memory_not_a_number", "value '" + r[*c_value] + "'");
          return;
        }
        out->AddMemory(machine, gpu, t, mib, r.order());
        ++stats->rows_accepted;
        return;
      }
      double v = NAN, pct = 0;
      if (ParseUtilization(r[*c_value], &v) == 0) v = NAN;  // -1 (out of range) keeps v
      if (!std::isnan(v)) ++counts->numeric;
      if (v > (ratio ? 1 : 100) && counts->above_100++ == 0) {
        counts->first_above = r.line(), counts->first_above_value = r[*c_value];
      }
      if (const char* bad = CheckValue(v, ratio, &pct)) {
        r.Reject(bad, "value '" + r[*c_value] + "'");
        return;
      }
      out->Add(machine, gpu, t, pct, r.order(),
               c_memory ? MemoryField(r[*c_memory], mib_per_unit) : kNoMemory,
               labels.empty() ? -1 : out->WorkloadOf(machine, labels));
    });
  }
};

}  // namespace

Result<void> ReadLongTable(std::string_view text, const std::string& file, uint32_t file_index,
                           const SeriesMapping& m, const TimeZone& zone, LongTableRole role,
                           TelemetryBuckets* out, SourceStats* stats, int threads) {
  CsvTable table(text);
  const auto c_time = table.Column({m.time_col});
  const auto c_series = table.Column({m.series_col});
  const auto c_value = table.Column({m.value_col});
  std::optional<size_t> c_machine, c_gpu, c_memory;
  if (!m.machine_col.empty()) c_machine = table.Column({m.machine_col});
  if (!m.gpu_col.empty()) c_gpu = table.Column({m.gpu_col});
  if (!m.memory_col.empty()) c_memory = table.Column({m.memory_col});
  const std::string where = file + ":" + std::to_string(std::max<uint64_t>(table.header_line(), 1));
  if (!c_time || !c_series || !c_value || (!m.machine_col.empty() && !c_machine) ||
      (!m.gpu_col.empty() && !c_gpu)) {
    return MakeError(ErrorCode::kParse,
                     "the header lacks a column named by --time-col, --series-col, --value-col, "
                     "--machine-col or --gpu-col",
                     where);
  }
  if (!m.memory_col.empty() && !c_memory) {
    return MakeError(ErrorCode::kParse, "the header lacks the --memory-col column", where);
  }
  const std::optional<double> mib_per_unit = MibPerUnit(m.memory_unit);
  if (!mib_per_unit) {
    return MakeError(ErrorCode::kUsage, "must be bytes, KiB, MiB or GiB", "--memory-unit");
  }
  ++stats->files;
  // A table in UTC is read on several cores, a stretch each into buckets of its own, merged in
  // order; a local clock is read in one stream (a repeated hour is resolved by the stream's
  // order, docs/audit.md).
  const std::vector<CsvTable::Stretch> stretches =
      zone.is_utc() ? table.Split(threads) : table.Split(1);
  LongTableRows rows{table,  file,     file_index, m,         zone,  role,    *mib_per_unit,
                     c_time, c_series, c_value,    c_machine, c_gpu, c_memory};
  ValueCounts counts;
  if (stretches.size() == 1) {
    rows.Read(stretches[0], out, stats, &counts);
  } else {
    std::vector<TelemetryBuckets> parts(stretches.size());
    std::vector<SourceStats> part_stats(stretches.size());
    std::vector<ValueCounts> part_counts(stretches.size());
    ParallelFor(stretches.size(), static_cast<int>(stretches.size()), [&](size_t k) {
      rows.Read(stretches[k], &parts[k], &part_stats[k], &part_counts[k]);
    });
    for (size_t k = 0; k < stretches.size(); ++k) {
      out->Merge(std::move(parts[k]));
      stats->Merge(part_stats[k]);
      counts.Add(part_counts[k]);
    }
  }
  // One stray 101 is a bad row; many are another metric (memory in MiB, a clock, a count).
  const bool ratio = m.value_scale == "ratio";
  if (counts.above_100 > 1 && counts.above_100 * 20 >= counts.numeric) {
    return MakeError(ErrorCode::kParse,
                     std::to_string(counts.above_100) + " of " + std::to_string(counts.numeric) +
                         " values of --value-col '" + m.value_col + "' are above " +
                         (ratio ? "1" : "100") + " (first '" + counts.first_above_value +
                         "'): this is not a utilisation. A table of GPU memory goes in "
                         "--memory-telemetry FILE (with --memory-value-col and --memory-unit); "
                         "otherwise name the utilisation column with --value-col",
                     file + ":" + std::to_string(counts.first_above));
  }
  return {};
}

}  // namespace gpuledger
