#include "sources/exported_files.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "core/line_reader.h"
#include "core/parallel.h"
#include "sources/dcgm_scrape.h"
#include "sources/exported_telemetry.h"
#include "sources/telemetry_buckets.h"

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

// Reads one exported telemetry file (registered as "index") into "buckets" and "stats", never
// whole: DCGM scrapes a line at a time, JSON a block at a time, long tables in pieces (on up to
// "threads" cores; "parts" as ReadLongTableFile's).
Result<void> ReadExportedFile(const TelemetryFile& f, uint32_t index, const FleetPaths& paths,
                              const TimeZone& zone, TelemetryBuckets* buckets, SourceStats* stats,
                              int threads, const TableParts& parts = {}) {
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
                           stats, threads, kTablePieceBytes, parts);
}

// Reads "files" (registered in "out" as "indices") a batch at a time, one per worker, each into
// buckets of out's kind, merged in file order: the result is what reading them one after the
// other gives. With "learn" (one per file): where each long table's records start.
Result<void> ReadFiles(const std::vector<TelemetryFile>& files,
                       const std::vector<uint32_t>& indices, const FleetPaths& paths,
                       const TimeZone& zone, TelemetryBuckets* out, SourceStats* stats,
                       std::vector<std::vector<TableCheckpoint>>* learn = nullptr) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const size_t batch = paths.threads > 0 ? paths.threads : cores;
  for (size_t first = 0; first < files.size(); first += batch) {
    const size_t count = std::min(batch, files.size() - first);
    std::vector<TelemetryBuckets> read;
    for (size_t k = 0; k < count; ++k) read.push_back(out->Sibling());
    std::vector<SourceStats> read_stats(count);
    std::vector<Result<void>> results(count);
    ParallelFor(count, static_cast<int>(count), [&](size_t k) {
      // A batch of one file (one long table) is read on every core.
      TableParts parts;
      if (learn) parts.learn = &(*learn)[first + k];
      results[k] =
          ReadExportedFile(files[first + k], indices[first + k], paths, zone, &read[k],
                           &read_stats[k], count == 1 ? static_cast<int>(batch) : 1, parts);
    });
    for (size_t k = 0; k < count; ++k) {
      if (!results[k]) return std::unexpected(results[k].error());
      out->Merge(std::move(read[k]));
      stats->Merge(read_stats[k]);
    }
  }
  return {};
}

// What tells a file changed: its size and modification time (-1 when it cannot be read).
struct FileState {
  int64_t bytes = -1;
  int64_t mtime = -1;
  bool operator==(const FileState&) const = default;
};

FileState StateOf(const std::string& path) {
  std::error_code size_ec, time_ec;
  const auto bytes = std::filesystem::file_size(path, size_ec);
  const auto mtime = std::filesystem::last_write_time(path, time_ec);
  if (size_ec || time_ec) return {};
  return {static_cast<int64_t>(bytes), static_cast<int64_t>(mtime.time_since_epoch().count())};
}

// The files of a fleet read again, for the machines the audit's sinks ask for. A file that
// changed since the index read it is an error, not a different set of samples.
class ExportReplay : public SharedTelemetryFeed {
 public:
  // "files" as they were when the index read them, with where their records start (long
  // tables; empty for other formats).
  ExportReplay(std::vector<TelemetryFile> files, std::vector<FileState> states,
               std::vector<std::vector<TableCheckpoint>> checkpoints, FleetPaths paths,
               TimeZone zone)
      : files_(std::move(files)),
        states_(std::move(states)),
        checkpoints_(std::move(checkpoints)),
        paths_(std::move(paths)),
        zone_(std::move(zone)) {}

  // query_range JSON: its keys carry a point under the line, and a file is fed whole.
  bool json() const { return paths_.telemetry_format == "prometheus"; }

  // What the index learnt of "machine": where its samples are, whether its memory readings
  // come apart from them.
  void Learn(const std::string& machine, std::vector<TelemetryBuckets::OrderSpan> seen,
             bool separate_memory) {
    machines_[machine] = {std::move(seen), separate_memory};
  }

  Result<std::vector<std::string>> Feed(const std::map<std::string, Target>& targets) override {
    TelemetryBuckets stream(TelemetryBuckets::Kind::kStream);
    if (json()) stream.HoldEachFile();
    Register(&stream);
    Wanted wanted;
    for (const auto& [name, target] : targets) {
      const Learnt& l = machines_.at(name);
      stream.Bind(name, target, l.separate_memory);
      Want(l, &wanted);
    }
    if (auto r = ReadOneByOne(wanted, &stream); !r) return std::unexpected(r.error());
    return stream.EndStream();
  }

  // "machine"'s samples alone, held and sorted, fed into "sink".
  Result<bool> FeedSorted(const std::string& machine, DurationMs max_gap_ms, SampleSink* sink,
                          SourceStats* stats, std::atomic<uint64_t>* bytes_read) const {
    TelemetryBuckets held;
    held.HoldOnly(machine);
    Register(&held);
    Wanted wanted;
    Want(machines_.at(machine), &wanted);
    if (auto r = ReadOneByOne(wanted, &held); !r) {
      return std::unexpected(r.error());
    }
    for (TelemetrySource& src : held.Sources(max_gap_ms)) {
      if (src.machine == machine) return src.feed(sink, stats, bytes_read);
    }
    return true;
  }

 private:
  struct Learnt {
    std::vector<TelemetryBuckets::OrderSpan> seen;
    bool separate_memory = false;
  };
  // By file index: the [first, last] lines to read there.
  using Wanted = std::map<uint32_t, std::vector<std::pair<uint64_t, uint64_t>>>;
  static void Want(const Learnt& l, Wanted* wanted) {
    constexpr uint64_t kLine = (uint64_t{1} << 40) - 1;
    for (const TelemetryBuckets::OrderSpan& s : l.seen) {
      (*wanted)[static_cast<uint32_t>(s.first >> 40)].emplace_back(s.first & kLine, s.last & kLine);
    }
  }

  // The files, registered in the order (and so with the indices) of the index pass.
  void Register(TelemetryBuckets* out) const {
    for (const TelemetryFile& f : files_) out->AddFile(f.path, json() ? kJsonLineShift : 0);
  }

  // Reads the wanted files in file order on this thread (a stream feeds sinks in read order);
  // what reading finds was counted by the index pass. A long table in UTC is read only where
  // the wanted lines are (its checkpoints around them); a local clock's repeated hour is read
  // in the order of the whole file, so such a table is read whole.
  Result<void> ReadOneByOne(const Wanted& wanted, TelemetryBuckets* out) const {
    for (const auto& [i, lines] : wanted) {
      if (StateOf(files_[i].path) != states_[i]) {
        return MakeError(ErrorCode::kIo,
                         "changed while it was read (its size or modification time): the "
                         "audit reads exported telemetry twice; audit a copy, or a file no "
                         "longer written to",
                         files_[i].path);
      }
      SourceStats counted;
      TableParts parts;
      std::vector<TableRange> ranges;
      if (i < checkpoints_.size() && !checkpoints_[i].empty() && zone_.is_utc()) {
        ranges = RangesFor(checkpoints_[i], lines);
        parts.only = &ranges;
        parts.header_end = checkpoints_[i].front().offset;
      }
      if (auto r = ReadExportedFile(files_[i], i, paths_, zone_, out, &counted, 1, parts); !r) {
        return r;
      }
      out->EndFile();
    }
    return {};
  }

  std::vector<TelemetryFile> files_;
  std::vector<FileState> states_;
  std::vector<std::vector<TableCheckpoint>> checkpoints_;
  FleetPaths paths_;
  TimeZone zone_;
  std::map<std::string, Learnt> machines_;
};

// Indexed, then read again as they are fed (ExportReplay).
Result<std::vector<TelemetrySource>> IndexExportedTelemetry(const std::vector<TelemetryFile>& files,
                                                            const FleetPaths& paths,
                                                            const TimeZone& zone,
                                                            SourceStats* stats) {
  std::vector<FileState> states;
  for (const TelemetryFile& f : files) states.push_back(StateOf(f.path));
  std::vector<std::vector<TableCheckpoint>> checkpoints;
  auto index = [&](const std::vector<std::string>& keep_runs,
                   SourceStats* counted) -> Result<std::vector<TelemetryBuckets::Indexed>> {
    checkpoints.assign(files.size(), {});
    TelemetryBuckets buckets(TelemetryBuckets::Kind::kIndex);
    buckets.TrackRuns(paths.max_gap_ms);
    buckets.KeepRunsOf(keep_runs);
    const int shift = paths.telemetry_format == "prometheus" ? kJsonLineShift : 0;
    std::vector<uint32_t> indices;
    for (const TelemetryFile& f : files) indices.push_back(buckets.AddFile(f.path, shift));
    if (auto r = ReadFiles(files, indices, paths, zone, &buckets, counted, &checkpoints); !r) {
      return std::unexpected(r.error());
    }
    return buckets.Index(paths.max_gap_ms);
  };
  auto indexed = index({}, stats);
  if (!indexed) return std::unexpected(indexed.error());
  std::vector<std::string> untracked;  // machines whose runs could not be tracked
  for (const TelemetryBuckets::Indexed& x : *indexed) {
    if (!x.runs_known) untracked.push_back(x.source.machine);
  }
  if (!untracked.empty()) {  // their runs need the times of their samples: read again
    SourceStats counted_before;
    indexed = index(untracked, &counted_before);
    if (!indexed) return std::unexpected(indexed.error());
  }
  auto replay =
      std::make_shared<ExportReplay>(files, std::move(states), std::move(checkpoints), paths, zone);
  std::vector<TelemetrySource> out;
  for (TelemetryBuckets::Indexed& x : *indexed) {
    TelemetrySource& src = x.source;
    replay->Learn(src.machine, std::move(x.seen), x.separate_memory);
    src.shared = replay;
    src.feed = [replay, machine = src.machine, gap = paths.max_gap_ms](
                   SampleSink* sink, SourceStats* st, std::atomic<uint64_t>* bytes) {
      return replay->FeedSorted(machine, gap, sink, st, bytes);
    };
    out.push_back(std::move(src));
  }
  return out;
}

}  // namespace

Result<std::vector<TelemetrySource>> ReadExportedTelemetry(const std::vector<TelemetryFile>& files,
                                                           const FleetPaths& paths,
                                                           const TimeZone& zone,
                                                           SourceStats* stats) {
  if (paths.memory_telemetry.empty()) return IndexExportedTelemetry(files, paths, zone, stats);
  TelemetryBuckets buckets;
  std::vector<uint32_t> indices;
  for (const TelemetryFile& f : files) indices.push_back(buckets.AddFile(f.path));
  if (auto r = ReadFiles(files, indices, paths, zone, &buckets, stats); !r) {
    return std::unexpected(r.error());
  }
  SeriesMapping memory = paths.mapping;
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

}  // namespace gpuledger
