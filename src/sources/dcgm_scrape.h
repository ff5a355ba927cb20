// The DCGM scrape reader behind ReadDcgmScrape, fed one line at a time so that a file is
// streamed from disk (load_fleet) rather than read whole. Internal to src/sources.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sources/exported_telemetry.h"
#include "sources/prom_text.h"

namespace gpuledger {

class DcgmScrapeReader {
 public:
  // As ReadDcgmScrape's arguments; "out" and "stats" must outlive the reader.
  DcgmScrapeReader(const std::string& file, uint32_t file_index, const std::string& file_machine,
                   const SeriesMapping& mapping, const std::optional<ScrapeTime>& scrape_time,
                   TelemetryBuckets* out, SourceStats* stats);

  // One line of the file (its 1-based number). Lines of a series met before cost no label
  // parsing: what the series is (utilisation or memory of which machine's which GPU, or
  // rejected, and why) is looked up by the line's text up to its value.
  void Line(std::string_view line, uint64_t no);

  // After the last line: the scrape_time note.
  void Finish();

 private:
  // What a series (metric name and labels, as written) is.
  struct Series {
    enum class Kind { kOther, kUtil, kMemory, kRejected } kind = Kind::kOther;
    const char* reason = nullptr;  // kRejected
    TelemetryBuckets::Machine* machine = nullptr;
    int gpu = 0;
    // A utilisation series names its workload and gives its machine labels with its first
    // accepted sample (as every sample did before), then drops what it kept for that.
    bool registered = false;
    int32_t workload = -1;
    std::string machine_name;
    std::vector<std::pair<std::string, std::string>> labels;
    // A scrape lists its series in the same order every time: the series read after this one
    // last time, and this one's text (the map's key), let the next line be matched by one
    // comparison, without hashing it.
    Series* next = nullptr;
    std::string_view key;
  };
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  // The line is of "series" ("remembered": one of series_, then linked after the previous
  // line's): taken unless it is another metric's.
  void Use(Series* series, bool remembered, std::string_view line, double value,
           const std::optional<int64_t>& ts, uint64_t no, uint64_t order);
  // What the series of a parsed sample line is.
  Series Describe(PromSample&& sample);
  void Take(Series& series, std::string_view line, double value,
            const std::optional<int64_t>& timestamp_ms, uint64_t no, uint64_t order);

  const std::string& file_;
  uint32_t file_index_;
  const std::string& file_machine_;
  const SeriesMapping& mapping_;
  const std::optional<ScrapeTime>& scrape_time_;
  TelemetryBuckets* out_;
  SourceStats* stats_;
  bool ratio_;
  uint64_t untimed_ = 0, first_untimed_ = 0;
  std::unordered_map<std::string, Series, KeyHash, std::equal_to<>> series_;
  Series* previous_ = nullptr;  // the series of the last line read, if remembered
};

}  // namespace gpuledger
