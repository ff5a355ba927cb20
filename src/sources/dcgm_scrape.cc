// DCGM exporter scrapes (Prometheus text format): ReadDcgmScrape, DcgmScrapeReader.
#include "sources/dcgm_scrape.h"

#include <charconv>

#include "core/csv_table.h"
#include "core/line_reader.h"
#include "sources/prom_text.h"
#include "sources/series_labels.h"

namespace gpuledger {

using namespace series;

namespace {

// The end of a sample line's series (its name and "{labels}", quotes and escapes honoured);
// npos when the line is no well-formed series, which the full parser then rejects.
size_t SeriesEnd(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ' && line[i] != '\t') ++i;
  if (i == line.size() || line[i] != '{') return i;
  bool quoted = false;
  for (++i; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == '}') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// " VALUE [TIMESTAMP]" after the series, as ParsePromLine reads it; false when it is not that
// plainly (the full parser then decides).
bool ParseValueAndTime(std::string_view rest, double* value, std::optional<int64_t>* ts) {
  rest = Trim(rest);
  const size_t space = rest.find(' ');
  const std::string_view v = rest.substr(0, space);
  auto [vend, vec] = std::from_chars(v.data(), v.data() + v.size(), *value);
  if (vec != std::errc() || vend != v.data() + v.size()) return false;
  if (space == std::string_view::npos) return ts->reset(), true;
  const std::string_view t = Trim(rest.substr(space));
  int64_t ms = 0;
  auto [tend, tec] = std::from_chars(t.data(), t.data() + t.size(), ms);
  if (tec != std::errc() || tend != t.data() + t.size()) return false;
  *ts = ms;
  return true;
}

}  // namespace

DcgmScrapeReader::DcgmScrapeReader(const std::string& file, uint32_t file_index,
                                   const std::string& file_machine, const SeriesMapping& mapping,
                                   const std::optional<ScrapeTime>& scrape_time,
                                   TelemetryBuckets* out, SourceStats* stats)
    : file_(file),
      file_index_(file_index),
      file_machine_(file_machine),
      mapping_(mapping),
      scrape_time_(scrape_time),
      out_(out),
      stats_(stats),
      ratio_(IsRatio(mapping, mapping.metric)) {
  ++stats->files;
}

void DcgmScrapeReader::Line(std::string_view line, uint64_t no) {
  const uint64_t order = InputOrder(file_index_, no);
  line = Trim(line);
  if (line.empty() || line.front() == '#') return;
  double value = 0;
  std::optional<int64_t> ts;
  // The series that followed the last one last time, if this line is of it.
  if (Series* guess = previous_ ? previous_->next : nullptr;
      guess && line.starts_with(guess->key) && line.size() > guess->key.size() &&
      (guess->key.back() == '}' || line[guess->key.size()] == ' ') &&
      ParseValueAndTime(line.substr(guess->key.size()), &value, &ts)) {
    Use(guess, true, line, value, ts, no, order);
    return;
  }
  const size_t end = SeriesEnd(line);
  if (end != std::string_view::npos) {
    if (auto it = series_.find(line.substr(0, end));
        it != series_.end() && ParseValueAndTime(line.substr(end), &value, &ts)) {
      Use(&it->second, true, line, value, ts, no, order);
      return;
    }
  }
  auto parsed = ParsePromLine(line);
  if (!parsed) {
    ++stats_->rows_read;
    stats_->rejected.Add("bad_line", file_, no, order, parsed.error().message);
    return;
  }
  if (!*parsed) return;
  value = (*parsed)->value;
  ts = (*parsed)->timestamp_ms;
  Series fresh = Describe(std::move(**parsed));
  // Remembered by the series as written; a line whose series cannot be told apart from its
  // value is read in full each time.
  if (end == std::string_view::npos) {
    Use(&fresh, false, line, value, ts, no, order);
    return;
  }
  auto [it, added] = series_.try_emplace(std::string(line.substr(0, end)), std::move(fresh));
  if (added) it->second.key = it->first;
  Use(&it->second, true, line, value, ts, no, order);
}

void DcgmScrapeReader::Use(Series* series, bool remembered, std::string_view line, double value,
                           const std::optional<int64_t>& ts, uint64_t no, uint64_t order) {
  if (remembered && previous_) previous_->next = series;
  previous_ = remembered ? series : nullptr;
  if (series->kind != Series::Kind::kOther) Take(*series, line, value, ts, no, order);
}

DcgmScrapeReader::Series DcgmScrapeReader::Describe(PromSample&& s) {
  Series series;
  const bool memory = s.name == mapping_.memory_metric;
  if (s.name != mapping_.metric && !memory) return series;  // other metrics
  auto label = [&](const std::string& k) { return std::string(s.Label(k)); };
  const char* reason = nullptr;
  if (!MachineAndGpu(mapping_, label, file_machine_, &series.machine_name, &series.gpu, &reason)) {
    series.kind = Series::Kind::kRejected;
    series.reason = reason;
    return series;
  }
  series.kind = memory ? Series::Kind::kMemory : Series::Kind::kUtil;
  series.machine = out_->Slot(series.machine_name);
  if (!memory) series.labels = std::move(s.labels);
  return series;
}

void DcgmScrapeReader::Take(Series& series, std::string_view line, double value,
                            const std::optional<int64_t>& timestamp_ms, uint64_t no,
                            uint64_t order) {
  ++stats_->rows_read;
  if (series.kind == Series::Kind::kRejected) {
    stats_->rejected.Add(series.reason, file_, no, order, std::string(line.substr(0, 80)));
    return;
  }
  if (!timestamp_ms && !scrape_time_) {
    stats_->rejected.Add("no_timestamp", file_, no, order,
                         "a scrape line carries no timestamp: give --scrape-time");
    return;
  }
  if (timestamp_ms && !IsPlausibleTime(*timestamp_ms)) {
    stats_->rejected.Add("bad_time", file_, no, order,
                         "timestamp " + std::to_string(*timestamp_ms) + " ms");
    return;
  }
  if (!timestamp_ms && untimed_++ == 0) first_untimed_ = no;
  const TimeMs t = timestamp_ms ? *timestamp_ms : scrape_time_->t;
  if (series.kind == Series::Kind::kMemory) {
    if (std::isnan(value) || IsDcgmNoValue(value) || value < 0) {
      stats_->rejected.Add("memory_not_a_number", file_, no, order,
                           std::string(line.substr(0, 80)));
      return;
    }
    out_->AddMemory(series.machine, series.gpu, t, value, order);
    ++stats_->rows_accepted;
    return;
  }
  double pct = 0;
  if (const char* bad = CheckValue(value, ratio_, &pct)) {
    stats_->rejected.Add(bad, file_, no, order, std::string(line.substr(0, 80)));
    return;
  }
  if (!series.registered) {
    series.workload = out_->WorkloadOf(series.machine_name, series.labels);
    out_->AddLabels(series.machine_name, series.labels);
    series.registered = true;
    series.labels = {};
  }
  out_->Add(series.machine, series.gpu, t, pct, order, kNoMemory, series.workload);
}

void DcgmScrapeReader::Finish() {
  if (untimed_ == 0) return;
  stats_->notes.Add("scrape_time", file_, first_untimed_, InputOrder(file_index_, first_untimed_),
                    "lines without a timestamp read as one scrape at " +
                        FormatIsoUtc(scrape_time_->t) + " (" + scrape_time_->origin + ")",
                    untimed_);
}

void ReadDcgmScrape(std::string_view text, const std::string& file, uint32_t file_index,
                    const std::string& file_machine, const SeriesMapping& mapping,
                    const std::optional<ScrapeTime>& scrape_time, TelemetryBuckets* out,
                    SourceStats* stats) {
  DcgmScrapeReader reader(file, file_index, file_machine, mapping, scrape_time, out, stats);
  ForEachLineIn(text, [&](std::string_view line, uint64_t no) {
    reader.Line(line, no);
    return true;
  });
  reader.Finish();
}

}  // namespace gpuledger
