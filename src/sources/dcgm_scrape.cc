// DCGM exporter scrapes (Prometheus text format): ReadDcgmScrape.
#include "core/line_reader.h"
#include "sources/exported_telemetry.h"
#include "sources/prom_text.h"
#include "sources/series_labels.h"

namespace gpuledger {

using namespace series;

void ReadDcgmScrape(std::string_view text, const std::string& file, uint32_t file_index,
                    const std::string& file_machine, const SeriesMapping& mapping,
                    const std::optional<ScrapeTime>& scrape_time, TelemetryBuckets* out,
                    SourceStats* stats) {
  ++stats->files;
  const bool ratio = IsRatio(mapping, mapping.metric);
  uint64_t untimed = 0, first_untimed = 0;
  ForEachLineIn(text, [&](std::string_view line, uint64_t no) {
    const uint64_t order = InputOrder(file_index, no);
    auto parsed = ParsePromLine(line);
    if (!parsed) {
      ++stats->rows_read;
      stats->rejected.Add("bad_line", file, no, order, parsed.error().message);
      return true;
    }
    if (!*parsed) return true;  // comments, blank lines
    const PromSample& s = **parsed;
    const bool memory = s.name == mapping.memory_metric;
    if (s.name != mapping.metric && !memory) return true;  // other metrics
    ++stats->rows_read;
    auto label = [&](const std::string& k) { return std::string(s.Label(k)); };
    std::string machine;
    int gpu = 0;
    const char* reason = nullptr;
    if (!MachineAndGpu(mapping, label, file_machine, &machine, &gpu, &reason)) {
      stats->rejected.Add(reason, file, no, order, std::string(line.substr(0, 80)));
      return true;
    }
    if (!s.timestamp_ms && !scrape_time) {
      stats->rejected.Add("no_timestamp", file, no, order,
                          "a scrape line carries no timestamp: give --scrape-time");
      return true;
    }
    if (s.timestamp_ms && !IsPlausibleTime(*s.timestamp_ms)) {
      stats->rejected.Add("bad_time", file, no, order,
                          "timestamp " + std::to_string(*s.timestamp_ms) + " ms");
      return true;
    }
    if (!s.timestamp_ms && untimed++ == 0) first_untimed = no;
    const TimeMs t = s.timestamp_ms ? *s.timestamp_ms : scrape_time->t;
    if (memory) {
      if (std::isnan(s.value) || IsDcgmNoValue(s.value) || s.value < 0) {
        stats->rejected.Add("memory_not_a_number", file, no, order,
                            std::string(line.substr(0, 80)));
        return true;
      }
      out->AddMemory(machine, gpu, t, s.value, order);
      ++stats->rows_accepted;
      return true;
    }
    double pct = 0;
    if (const char* bad = CheckValue(s.value, ratio, &pct)) {
      stats->rejected.Add(bad, file, no, order, std::string(line.substr(0, 80)));
      return true;
    }
    out->Add(machine, gpu, t, pct, order, kNoMemory, out->WorkloadOf(machine, s.labels));
    out->AddLabels(machine, s.labels);
    return true;
  });
  if (untimed > 0) {
    stats->notes.Add("scrape_time", file, first_untimed, InputOrder(file_index, first_untimed),
                     "lines without a timestamp read as one scrape at " +
                         FormatIsoUtc(scrape_time->t) + " (" + scrape_time->origin + ")",
                     untimed);
  }
}

}  // namespace gpuledger
