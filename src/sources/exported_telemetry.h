// GPU telemetry as teams export it from their Prometheus / DCGM stack. Each reader is a pure
// parse step: text → samples in TelemetryBuckets, rejected rows counted in SourceStats.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/problems.h"
#include "core/time_zone.h"
#include "sources/telemetry_buckets.h"

namespace gpuledger {

// How series map to machines, GPUs and utilisation.
struct SeriesMapping {
  std::vector<std::string> machine_labels = {"Hostname", "hostname", "instance"};  // first found
  std::string gpu_label = "gpu";
  std::string metric = "DCGM_FI_DEV_GPU_UTIL";  // for DCGM scrapes
  // GPU memory in use, in MiB (DCGM scrapes and query_range exports): the held-idle lens.
  std::string memory_metric = "DCGM_FI_DEV_FB_USED";
  std::string value_scale = "auto";  // auto (ratio for DCGM_FI_PROF_* and *_RATIO), percent, ratio
  // Long tables: column names.
  std::string time_col = "time", series_col = "series", value_col = "value";
  std::string machine_col, gpu_col;  // optional
  std::string memory_col;            // optional: GPU memory in use, in memory_unit
  std::string memory_unit = "MiB";   // bytes, KiB, MiB or GiB
};

// A long table read for its utilisation (values must be percentages, or ratios with
// value_scale "ratio") or for GPU memory in use (values in the mapping's memory_unit), the
// second joined to the first by machine, GPU and instant.
enum class LongTableRole { kUtilisation, kMemory };

// When lines of a DCGM scrape carry no timestamp (as `curl node:9400/metrics` saves them): the
// instant the whole file stands for, and where it came from ("--scrape-time", "the file's
// modification time"), said in a note.
struct ScrapeTime {
  TimeMs t = 0;
  std::string origin;
};

// JSON rows are keyed series << kJsonLineShift | point; their reported position is the series.
inline constexpr int kJsonLineShift = 20;

// Prometheus `query_range` JSON (the API's response, or its "data" object): one series per GPU.
// Rows are the series' [time, "value"] pairs; a problem's position is "file:SERIES" (1-based).
// Rejected: bad_json (a value that is no pair, a series without metric and values, and one row
// for a document that is no query_range answer or breaks off — what came before the break
// stands), no_machine_label, no_gpu_label, util_not_a_number, util_out_of_range, no_value (DCGM
// blanks). Read by QueryRangeScanner, never as a whole document.
void ReadPrometheusMatrix(std::string_view json, const std::string& file, uint32_t file_index,
                          const SeriesMapping& mapping, TelemetryBuckets* out, SourceStats* stats);

class QueryRangeScanner;

// The same read piece by piece — a file a block at a time, an HTTP body as it arrives — so that
// an answer is never held whole, however large (or long its one line). Finish() after the last
// piece: "" for a whole answer, else why not (also rejected as bad_json); scanner() tells the
// answer's status and error (the live path checks them).
class PrometheusMatrixReader {
 public:
  PrometheusMatrixReader(const std::string& file, uint32_t file_index, const SeriesMapping& mapping,
                         TelemetryBuckets* out, SourceStats* stats);
  // The numbers of the answer (ReadPrometheusNumbers) to "on_number" instead.
  using OnNumber = std::function<void(const std::string&, int, TimeMs, double, uint64_t)>;
  PrometheusMatrixReader(const std::string& file, uint32_t file_index, const SeriesMapping& mapping,
                         SourceStats* stats, OnNumber on_number);
  ~PrometheusMatrixReader();
  void Feed(std::string_view piece);
  std::string Finish();
  const QueryRangeScanner& scanner() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True when "metric" holds a 0-1 ratio under the mapping's --value-scale.
bool MetricIsRatio(const SeriesMapping& mapping, std::string_view metric);

// A query_range matrix of non-negative numbers per machine and GPU (the server-side roll-ups'
// counts): on_point(machine, gpu, t, value, order) for each; series without machine or GPU
// labels are rejected as in ReadPrometheusMatrix, other values as bad_number.
void ReadPrometheusNumbers(
    std::string_view json, const std::string& file, uint32_t file_index,
    const SeriesMapping& mapping, SourceStats* stats,
    const std::function<void(const std::string&, int, TimeMs, double, uint64_t)>& on_point);

// DCGM exporter /metrics text: lines with a timestamp (as `promtool` backfill and Prometheus
// federation write it) or without (a plain scrape, read at "scrape_time" and noted as
// scrape_time; with no scrape_time such lines are rejected as no_timestamp). Utilisation comes
// from mapping.metric, memory in use from mapping.memory_metric (MiB); lines of other metrics are
// skipped. Rejected: malformed lines (bad_line, with the reason), blanks and sentinels
// (no_value), out-of-range values and lines without a gpu label. The machine is the Hostname
// label, else "file_machine".
void ReadDcgmScrape(std::string_view text, const std::string& file, uint32_t file_index,
                    const std::string& file_machine, const SeriesMapping& mapping,
                    const std::optional<ScrapeTime>& scrape_time, TelemetryBuckets* out,
                    SourceStats* stats);

// A long table: time, series, value (column names from the mapping). A series written as a
// Prometheus selector (`DCGM_FI_DEV_GPU_UTIL{gpu="0",Hostname="h1"}`) is read through the
// labels; otherwise the machine is machine_col (else the series) and the GPU gpu_col (else 0).
// Rejected: field_count, bad_time, bad_gpu_index, no_machine_label, util_not_a_number,
// util_out_of_range (memory: memory_not_a_number). Fails when the header lacks a named column,
// and (kParse) when a utilisation table's values are clearly not percentages — above 100 in
// more than one row and at least 5 % of its numeric rows — naming the file and the flag for
// memory tables.
// In UTC a table of over 32 MiB is read on up to "threads" cores, a stretch of whole lines each
// (when no field is quoted), with the same result as one reading.
Result<void> ReadLongTable(std::string_view text, const std::string& file, uint32_t file_index,
                           const SeriesMapping& mapping, const TimeZone& zone, LongTableRole role,
                           TelemetryBuckets* out, SourceStats* stats, int threads = 1);

// The same from the file at "path", never read whole: pieces of whole records of about
// "piece_bytes" (cut only at a newline outside quotes: a quoted field may span lines),
// "threads" of them at a time in UTC (each into buckets of its own, merged in order), one at a
// time through one time parser on a local clock — the result is what ReadLongTable over the
// whole text gives. A piece without '"' is split in place, a line at a time.
//
// "parts" lets a reading learn where records start, and a later reading of the same file take
// only some of them (the machines one feed core wants, ExportReplay).
struct TableCheckpoint {  // a record of the body starts at byte "offset", on "line"
  uint64_t offset = 0;
  uint64_t line = 1;
};
struct TableRange {  // bytes [from, to) of whole records, the first on "line"
  uint64_t from = 0, to = UINT64_MAX;
  uint64_t line = 1;
};
struct TableParts {
  // Out, when set: where records start, in order — the body's first record, then a record
  // about every kTableCheckpointBytes of the file (only a piece's first where it holds a '"').
  std::vector<TableCheckpoint>* learn = nullptr;
  // In, when set (in UTC only): only these ranges of the body are read, in order, the header
  // from bytes [0, header_end). Utilisation values are not checked (a reading of the whole
  // file was: a range alone may hold a larger share of stray values).
  const std::vector<TableRange>* only = nullptr;
  uint64_t header_end = 0;
};
inline constexpr uint64_t kTableCheckpointBytes = uint64_t{1} << 20;
// Pieces of 8 MiB: a batch is read while the next is cut, so two batches' pieces are held.
inline constexpr size_t kTablePieceBytes = size_t{8} << 20;
Result<void> ReadLongTableFile(const std::string& path, uint32_t file_index,
                               const SeriesMapping& mapping, const TimeZone& zone,
                               LongTableRole role, TelemetryBuckets* out, SourceStats* stats,
                               int threads = 1, size_t piece_bytes = kTablePieceBytes,
                               const TableParts& parts = {});

// The ranges of a table file that hold the records starting on the lines of "spans" ([first,
// last] lines, in any order), from the checkpoints a reading learnt ("at", in order, not
// empty): each span widened out to the checkpoints around it, ranges that meet joined. The
// last range of a span past the last checkpoint runs to the file's end.
std::vector<TableRange> RangesFor(const std::vector<TableCheckpoint>& at,
                                  std::vector<std::pair<uint64_t, uint64_t>> spans);

}  // namespace gpuledger
