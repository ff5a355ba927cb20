// Long tables (time, series, value CSV): ReadLongTable.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <deque>
#include <memory>
#include <optional>
#include <thread>

#include "core/byte_scan.h"
#include "core/csv_table.h"
#include "core/line_reader.h"
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

// A GPU index column: a whole number in [0, 1023], nothing else.
bool ParseGpuIndex(std::string_view text, int* gpu) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *gpu);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size() && *gpu >= 0 &&
         *gpu <= 1023;
}

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
  if (!ParseGpuIndex(g, gpu)) {
    r.Reject("bad_gpu_index", "gpu '" + g + "'");
    return false;
  }
  return true;
}

// A memory field in "mib_per_unit" units → MiB (nvidia-smi's memory.used parser reads the
// number); kNoMemory when it is not a non-negative number.
double MemoryField(std::string_view text, double mib_per_unit) {
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
  const std::string& file;
  uint32_t file_index;
  const SeriesMapping& m;
  const TimeZone& zone;
  LongTableRole role;
  double mib_per_unit;
  std::optional<size_t> c_time, c_series, c_value, c_machine, c_gpu, c_memory;

  // "parser": one per stream, so that a local clock's repeated hour is read in the stream's
  // order across its pieces. A table without quotes in UTC takes the fast path (ReadPlain).
  void Read(const CsvTable& table, const CsvTable::Stretch& stretch, TimeParser& parser,
            TelemetryBuckets* out, SourceStats* stats, ValueCounts* counts) const {
    if (!table.quotes() && zone.is_utc() && role == LongTableRole::kUtilisation && c_machine &&
        c_gpu && table.header().size() <= kPlainColumns) {
      return ReadPlain(table, stretch, parser, out, stats, counts);
    }
    ReadRecords(table, stretch, parser, out, stats, counts);
  }

  // A line at a time, for a table with machine and GPU columns: a row as plain tables write
  // it — every field there, a machine (not a selector), a valid time, GPU and utilisation — is
  // split in place and taken; any other line goes through ReadRecords alone, which rejects or
  // takes it as it would have in the table (the same counts, problems and samples).
  static constexpr size_t kPlainColumns = 64;
  void ReadPlain(const CsvTable& table, const CsvTable::Stretch& stretch, TimeParser& parser,
                 TelemetryBuckets* out, SourceStats* stats, ValueCounts* counts) const {
    const std::string_view text = table.text();
    const size_t columns = table.header().size();
    const bool ratio = m.value_scale == "ratio";
    // An index keeps no memory reading: the column is not parsed.
    const bool memory = c_memory && out->kind() != TelemetryBuckets::Kind::kIndex;
    std::array<std::string_view, kPlainColumns> f;
    std::string last_machine;  // the machine of the last row taken, and its slot
    TelemetryBuckets::Machine* slot = nullptr;
    uint64_t line = stretch.line;
    for (size_t pos = stretch.from; pos < stretch.to; ++line) {
      const char* line_end = nullptr;
      bool cr = false;
      size_t fields = SplitLine(text.data() + pos, text.data() + stretch.to, &f, &line_end, &cr);
      const size_t eol = line_end - text.data();
      const size_t start = pos;
      pos = std::min(eol + 1, stretch.to);
      auto general = [&] {
        const CsvTable one(text.substr(start, pos - start), table.header(), line, ',', false);
        ReadRecords(one, one.Split(1).front(), parser, out, stats, counts);
      };
      if (cr) {  // a CRLF line (split again without its '\r'); a '\r' inside it is not plain
        std::string_view row = text.substr(start, eol - start);
        if (row.back() == '\r') row.remove_suffix(1);
        fields = row.find('\r') == std::string_view::npos ? SplitFields(row, &f) : 0;
      }
      if (fields != columns) {
        general();
        continue;
      }
      const std::string_view machine = Trim(f[*c_machine]);
      if (machine.empty() || Trim(f[*c_series]).find('{') != std::string_view::npos) {
        general();
        continue;
      }
      if (slot == nullptr || machine != last_machine) {
        last_machine.assign(machine);
        slot = out->Slot(last_machine);
      }
      if (slot->dropped) {  // another reader's machine
        ++stats->rows_read;
        continue;
      }
      int gpu = -1;
      double v = NAN, pct = 0;
      TimeMs t = 0;
      if (!ParseGpuIndex(Trim(f[*c_gpu]), &gpu) || ParseUtilization(f[*c_value], &v) != 1 ||
          v > (ratio ? 1 : 100) || CheckValue(v, ratio, &pct) != nullptr ||
          !parser.Parse(f[*c_time], &t) || parser.ambiguous()) {
        general();
        continue;
      }
      ++stats->rows_read;
      ++counts->numeric;
      out->Add(slot, gpu, t, pct, InputOrder(file_index, line),
               memory ? MemoryField(f[*c_memory], mib_per_unit) : kNoMemory);
    }
  }

  // A record at a time, through CsvTable.
  void ReadRecords(const CsvTable& table, const CsvTable::Stretch& stretch, TimeParser& parser,
                   TelemetryBuckets* out, SourceStats* stats, ValueCounts* counts) const {
    const bool ratio = m.value_scale == "ratio";
    ForEachTableRowIn(table, stretch, file, file_index, stats, [&](const TableRow& r) {
      if (c_machine && out->Drops(Trim(r[*c_machine]))) return;  // another reader's machine
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

// The columns of a long table's header, checked; the reader of its rows.
Result<LongTableRows> RowsOf(const CsvTable& table, const std::string& file, uint32_t file_index,
                             const SeriesMapping& m, const TimeZone& zone, LongTableRole role) {
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
  return LongTableRows{file,   file_index, m,       zone,      role,  *mib_per_unit,
                       c_time, c_series,   c_value, c_machine, c_gpu, c_memory};
}

// A stretch of a table: the whole body, one core's share of it, or a piece of a file.
struct TablePart {
  const CsvTable* table;
  CsvTable::Stretch stretch;
};

// Reads "parts" in order with "rows": one alone through the stream's parser; several at once,
// one per core, each into buckets of its own, merged in order (only in UTC, where nothing
// carries from one to the next). Adds to counts.
void ReadParts(const LongTableRows& rows, const std::vector<TablePart>& parts,
               TimeParser& stream_parser, TelemetryBuckets* out, SourceStats* stats,
               ValueCounts* counts) {
  if (parts.size() == 1) {
    rows.Read(*parts[0].table, parts[0].stretch, stream_parser, out, stats, counts);
    return;
  }
  std::vector<TelemetryBuckets> read;  // of out's kind (a stream is read one part at a time)
  for (size_t k = 0; k < parts.size(); ++k) read.push_back(out->Sibling());
  std::vector<SourceStats> read_stats(parts.size());
  std::vector<ValueCounts> read_counts(parts.size());
  ParallelFor(parts.size(), static_cast<int>(parts.size()), [&](size_t k) {
    TimeParser parser(&rows.zone);
    rows.Read(*parts[k].table, parts[k].stretch, parser, &read[k], &read_stats[k], &read_counts[k]);
  });
  for (size_t k = 0; k < parts.size(); ++k) {
    out->Merge(std::move(read[k]));
    stats->Merge(read_stats[k]);
    counts->Add(read_counts[k]);
  }
}

// One stray 101 is a bad row; many are another metric (memory in MiB, a clock, a count).
Result<void> CheckUtilisation(const ValueCounts& counts, const SeriesMapping& m,
                              const std::string& file) {
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

}  // namespace

Result<void> ReadLongTable(std::string_view text, const std::string& file, uint32_t file_index,
                           const SeriesMapping& m, const TimeZone& zone, LongTableRole role,
                           TelemetryBuckets* out, SourceStats* stats, int threads) {
  CsvTable table(text);
  auto rows = RowsOf(table, file, file_index, m, zone, role);
  if (!rows) return std::unexpected(rows.error());
  ++stats->files;
  // A table in UTC is read on several cores, a stretch each into buckets of its own, merged in
  // order; a local clock is read in one stream (a repeated hour is resolved by the stream's
  // order, docs/audit.md).
  std::vector<TablePart> parts;
  for (const CsvTable::Stretch& s : table.Split(zone.is_utc() ? threads : 1))
    parts.push_back({&table, s});
  ValueCounts counts;
  TimeParser parser(&zone);
  ReadParts(*rows, parts, parser, out, stats, &counts);
  return role == LongTableRole::kUtilisation ? CheckUtilisation(counts, m, file) : Result<void>();
}

namespace {

// The lines of "text", a piece of whole records at file offset "offset" whose first record is
// on "line". With "learn": records there where records start — the piece's start and, in a
// piece without quotes (where every line starts a record), a line about every
// kTableCheckpointBytes.
uint64_t PieceLines(std::string_view text, bool quoted, uint64_t offset, uint64_t line,
                    std::vector<TableCheckpoint>* learn) {
  if (learn == nullptr) return CountByte(text, '\n');
  learn->push_back({offset, line});
  uint64_t lines = 0;
  size_t from = 0;
  while (!quoted && text.size() - from > kTableCheckpointBytes) {
    const size_t nl = text.find('\n', from + kTableCheckpointBytes);
    if (nl == std::string_view::npos || nl + 1 == text.size()) break;
    lines += CountByte(text.substr(from, nl + 1 - from), '\n');
    from = nl + 1;
    learn->push_back({offset + from, line + lines});
  }
  return lines + CountByte(text.substr(from), '\n');
}

// Keeps the checkpoints of the body: "body" first, then those after it.
void StartAtBody(TableCheckpoint body, std::vector<TableCheckpoint>* learn) {
  std::erase_if(*learn, [&](const TableCheckpoint& c) { return c.offset <= body.offset; });
  learn->insert(learn->begin(), body);
}

}  // namespace

Result<void> ReadLongTableFile(const std::string& path, uint32_t file_index, const SeriesMapping& m,
                               const TimeZone& zone, LongTableRole role, TelemetryBuckets* out,
                               SourceStats* stats, int threads, size_t piece_bytes,
                               const TableParts& parts) {
  // Pieces of whole records, about piece_bytes each, read "cores" at a time (one per core,
  // merged in order; a local clock one at a time, through one parser).
  const size_t cores = zone.is_utc() ? static_cast<size_t>(std::max(1, threads)) : 1;
  // The header's table. After the first batch only its header() is used: the text it viewed
  // may be gone with that batch.
  std::optional<CsvTable> first;
  std::optional<LongTableRows> header_rows;
  std::optional<TableCheckpoint> body;  // where the body starts (learnt from the first piece)
  struct Piece {
    std::string_view text;
    uint64_t line;  // of its first record
    bool quoted;    // it holds a '"': read with quotes (else split in place)
  };
  struct Batch {  // pieces waiting to be read
    std::vector<Piece> pieces;
    std::deque<std::string> owned;  // their text, when they wait for others
    std::vector<CsvTable> tables;   // one per piece, made when the batch is read
    std::vector<TablePart> parts;
  };
  auto batch = std::make_unique<Batch>();
  uint64_t next_line = 1;
  std::string pending;
  uint64_t pending_at = 0;  // the file offset of pending's first byte
  ValueCounts counts;
  TimeParser stream_parser(&zone);
  Result<void> failed;
  auto read_header = [&](std::string_view text, bool quoted) -> Result<void> {
    first.emplace(text, ',', quoted);
    auto rows = RowsOf(*first, path, file_index, m, zone, role);
    if (!rows) return std::unexpected(rows.error());
    header_rows.emplace(*rows);
    ++stats->files;
    return {};
  };
  // On several cores a batch is read on a thread of its own while the next one is cut: it
  // alone touches out, stats and counts until it is joined, before the next starts (so batches
  // merge in order) and before this function returns, whichever way.
  struct Joined {
    std::thread thread;
    void Join() {
      if (thread.joinable()) thread.join();
    }
    ~Joined() { Join(); }
  } reading;
  auto read_batch = [&]() -> Result<void> {
    Batch& b = *batch;
    b.tables.reserve(b.pieces.size());  // parts point into it
    for (const Piece& p : b.pieces) {
      if (!first) {  // the file's first piece holds the header
        if (auto h = read_header(p.text, p.quoted); !h) return h;
        b.tables.push_back(*first);
        const CsvTable::Stretch rest = first->Split(1).front();
        body = {p.text.size() - first->text().size() + rest.from, rest.line};  // after a BOM
      } else {
        b.tables.emplace_back(p.text, first->header(), p.line, ',', p.quoted);
      }
      b.parts.push_back({&b.tables.back(), b.tables.back().Split(1).front()});
    }
    reading.Join();
    if (cores == 1) {
      ReadParts(*header_rows, b.parts, stream_parser, out, stats, &counts);
      batch = std::make_unique<Batch>();
      return {};
    }
    reading.thread = std::thread([&, work = std::move(batch)] {
      ReadParts(*header_rows, work->parts, stream_parser, out, stats, &counts);
    });
    batch = std::make_unique<Batch>();
    return {};
  };
  // A piece is read at once on one core (a view of "pending", no copy), else copied and read
  // with the batch.
  auto add_piece = [&](std::string_view text, bool quoted, uint64_t offset) -> Result<void> {
    const uint64_t lines = PieceLines(text, quoted, offset, next_line, parts.learn);
    if (cores > 1) text = batch->owned.emplace_back(text);
    batch->pieces.push_back({text, next_line, quoted});
    next_line += lines;
    return batch->pieces.size() >= cores ? read_batch() : Result<void>();
  };
  // One core needs no large pieces: smaller ones keep the buffer small.
  const size_t piece = cores == 1 ? std::min(piece_bytes, size_t{4} << 20) : piece_bytes;
  auto cut_pieces = [&](std::string_view block) {
    if (!failed) return;
    pending.append(block);
    const std::string_view text = pending;
    size_t from = 0;  // cut whole records of about "piece" bytes off the front
    while (text.size() - from >= piece) {
      // A record ends at a newline after an even number of quotes (each '"' opens or closes a
      // quoted field, and "" inside one does both): a quoted field may hold newlines.
      size_t search = from + piece - 1, nl;
      uint64_t quotes = CountByte(text.substr(from, search - from), '"');
      while ((nl = text.find('\n', search)) != std::string_view::npos) {
        quotes += CountByte(text.substr(search, nl + 1 - search), '"');
        if (quotes % 2 == 0) break;
        search = nl + 1;
      }
      if (nl == std::string_view::npos) break;  // the record goes on in the next block
      failed = add_piece(text.substr(from, nl + 1 - from), quotes > 0, pending_at + from);
      if (!failed) return;
      from = nl + 1;
    }
    pending.erase(0, from);
    pending_at += from;
  };
  // Reads bytes [from, to) of the file, their first record on "line", in pieces.
  auto read_range = [&](uint64_t from, uint64_t to, uint64_t line) -> Result<void> {
    pending.clear(), pending_at = from, next_line = line;
    if (auto r = ForEachBlockIn(path, from, to, cut_pieces); !r) return r;
    if (!failed) return failed;
    if (!pending.empty() || !first) {
      if (auto a = add_piece(pending, CountByte(pending, '"') > 0, pending_at); !a) return a;
    }
    return {};
  };
  if (parts.only) {  // the header, then the ranges
    std::string head;
    auto r = ForEachBlockIn(path, 0, parts.header_end, [&](std::string_view b) { head.append(b); });
    if (!r) return r;
    if (auto h = read_header(head, CountByte(head, '"') > 0); !h) return h;
    for (const TableRange& range : *parts.only) {
      if (auto rr = read_range(range.from, range.to, range.line); !rr) return rr;
    }
    if (auto b = batch->pieces.empty() ? Result<void>() : read_batch(); !b) return b;
    reading.Join();
    return {};
  }
  if (auto r = read_range(0, UINT64_MAX, 1); !r) return r;
  if (!batch->pieces.empty()) {
    if (auto b = read_batch(); !b) return b;
  }
  reading.Join();
  if (parts.learn && body) StartAtBody(*body, parts.learn);
  return role == LongTableRole::kUtilisation ? CheckUtilisation(counts, m, path) : Result<void>();
}

}  // namespace gpuledger
