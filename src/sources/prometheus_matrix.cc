// Prometheus query_range answers (JSON matrices): ReadPrometheusMatrix, ReadPrometheusNumbers.
#include <charconv>
#include <cmath>

#include "core/decimal.h"
#include "sources/exported_telemetry.h"
#include "sources/query_range_scanner.h"
#include "sources/series_labels.h"

namespace gpuledger {

using namespace series;

namespace {

// Reads one query_range answer, piece by piece, checking each series' labels and each point:
// points of a series whose labels name a machine and a GPU go to Accept() (value text
// unchecked), the rest is rejected. Every value read is counted: accepted or rejected here or
// by Accept; a series without metric and values, and a broken document, count as one row each.
class MatrixPoints : public QueryRangeHandler {
 public:
  MatrixPoints(const std::string& file, uint32_t file_index, const SeriesMapping& mapping,
               SourceStats* stats)
      : file_(file), stats_(stats), file_index_(file_index), mapping_(mapping), scanner_(this) {
    ++stats_->files;
  }

  void Feed(std::string_view piece) { scanner_.Feed(piece); }

  std::string Finish() {
    std::string failure = scanner_.Finish();
    if (failure.empty()) return failure;
    ++stats_->rows_read;
    stats_->rejected.Add("bad_json", file_, last_series_,
                         InputOrder(file_index_, last_series_ << kJsonLineShift), failure);
    return failure;
  }

  const QueryRangeScanner& scanner() const { return scanner_; }

 protected:
  // The series whose points come next: its machine and labels.
  virtual void BeginSeries(const std::string& machine, const Labels& labels) = 0;
  // True when the series begun last is of no use to the reader (SkipsPoints).
  virtual bool Unwanted() const { return false; }
  // A point of that series: its GPU, time, value text, and where it was read.
  virtual void Accept(int gpu, TimeMs t, std::string_view text, uint64_t series,
                      uint64_t order) = 0;

  MatrixPoints(const MatrixPoints&) = delete;  // the scanner points at it
  MatrixPoints& operator=(const MatrixPoints&) = delete;

  const std::string file_;
  SourceStats* stats_;
  bool ratio_ = false, memory_ = false;  // of the series being read

 private:
  void OnSeries(uint64_t series, const Labels& labels) override {
    auto label = [&](const std::string& k) {
      for (const auto& [key, value] : labels) {
        if (key == k) return value;
      }
      return std::string();
    };
    std::string machine;
    reject_ = nullptr;
    if (!MachineAndGpu(mapping_, label, "", &machine, &gpu_, &reject_)) return;
    const std::string name = label("__name__");
    ratio_ = IsRatio(mapping_, name);
    memory_ = name == mapping_.memory_metric;
    accepted_series_ = series;
    BeginSeries(machine, labels);
  }

  bool SkipsPoints(uint64_t series) const override {
    return accepted_series_ == series && Unwanted();
  }

  void OnPoint(uint64_t series, uint64_t point, double time_s, std::string_view text) override {
    if (accepted_series_ != series) return;  // counted at its end
    ++stats_->rows_read;
    const uint64_t order = InputOrder(file_index_, series << kJsonLineShift) + point;
    // Compared as a double: casting an out-of-range double to an integer is undefined.
    if (!(time_s > -62167219200.0 && time_s < static_cast<double>(kLatestPlausibleMs) / 1000)) {
      stats_->rejected.Add("bad_time", file_, series, order, "time " + std::to_string(time_s));
      return;
    }
    Accept(gpu_, static_cast<TimeMs>(std::llround(time_s * 1000)), text, series, order);
  }

  void OnBadPoint(uint64_t series, uint64_t point) override {
    if (accepted_series_ != series) return;
    ++stats_->rows_read;
    stats_->rejected.Add("bad_json", file_, series,
                         InputOrder(file_index_, series << kJsonLineShift) + point,
                         "a value is not [time, \"value\"]");
  }

  void OnSeriesEnd(uint64_t series, uint64_t points, bool had_metric, bool had_values) override {
    last_series_ = series;
    const uint64_t order = InputOrder(file_index_, series << kJsonLineShift);
    if (!had_metric || !had_values) {
      ++stats_->rows_read;
      stats_->rejected.Add("bad_json", file_, series, order, "a series without metric and values");
    } else if (accepted_series_ != series && points > 0) {
      stats_->rows_read += points;
      stats_->rejected.Add(reject_ ? reject_ : "bad_json", file_, series, order,
                           "series " + std::to_string(series), points);
    }
    accepted_series_ = 0;
  }

  uint32_t file_index_;
  const SeriesMapping& mapping_;
  QueryRangeScanner scanner_;
  uint64_t accepted_series_ = 0, last_series_ = 0;
  int gpu_ = 0;
  const char* reject_ = nullptr;
};

double ParseValue(std::string_view text) {
  double v = NAN;
  if (text != "NaN" && !ParseDecimal(text, &v)) v = NAN;
  return v;
}

// Points into buckets: utilisation as samples, the memory metric as memory readings.
class BucketPoints : public MatrixPoints {
 public:
  BucketPoints(const std::string& file, uint32_t file_index, const SeriesMapping& mapping,
               TelemetryBuckets* out, SourceStats* stats)
      : MatrixPoints(file, file_index, mapping, stats), out_(out) {}

 private:
  void BeginSeries(const std::string& machine, const Labels& labels) override {
    out_->AddLabels(machine, labels);
    workload_ = out_->WorkloadOf(machine, labels);
    slot_ = out_->Slot(machine);
  }

  bool Unwanted() const override { return slot_->dropped; }

  void Accept(int gpu, TimeMs t, std::string_view text, uint64_t series, uint64_t order) override {
    if (slot_->dropped) return;  // another reader's machine
    if (memory_) {
      const double mib = ParseValue(text);
      if (!std::isfinite(mib) || mib < 0 || IsDcgmNoValue(mib)) {
        stats_->rejected.Add("memory_not_a_number", file_, series, order,
                             "value '" + std::string(text) + "'");
        return;
      }
      ++stats_->rows_accepted;
      out_->AddMemory(slot_, gpu, t, mib, order);
      return;
    }
    double pct = 0;
    if (const char* bad = CheckValue(ParseValue(text), ratio_, &pct)) {
      stats_->rejected.Add(bad, file_, series, order, "value '" + std::string(text) + "'");
      return;
    }
    out_->Add(slot_, gpu, t, pct, order, kNoMemory, workload_);
  }

  TelemetryBuckets* out_;
  TelemetryBuckets::Machine* slot_ = nullptr;
  int32_t workload_ = -1;
};

// Non-negative numbers to a callback (the roll-ups' counts).
class NumberPoints : public MatrixPoints {
 public:
  using OnNumber = std::function<void(const std::string&, int, TimeMs, double, uint64_t)>;
  NumberPoints(const std::string& file, uint32_t file_index, const SeriesMapping& mapping,
               SourceStats* stats, OnNumber on_number)
      : MatrixPoints(file, file_index, mapping, stats), on_number_(std::move(on_number)) {}

 private:
  void BeginSeries(const std::string& machine, const Labels&) override { machine_ = machine; }

  void Accept(int gpu, TimeMs t, std::string_view text, uint64_t series, uint64_t order) override {
    const double v = ParseValue(text);
    if (!std::isfinite(v) || v < 0) {
      stats_->rejected.Add("bad_number", file_, series, order, "value '" + std::string(text) + "'");
      return;
    }
    on_number_(machine_, gpu, t, v, order);
  }

  OnNumber on_number_;
  std::string machine_;
};

}  // namespace

struct PrometheusMatrixReader::Impl {
  std::unique_ptr<MatrixPoints> points;
};

PrometheusMatrixReader::PrometheusMatrixReader(const std::string& file, uint32_t file_index,
                                               const SeriesMapping& mapping, TelemetryBuckets* out,
                                               SourceStats* stats)
    : impl_(new Impl{std::make_unique<BucketPoints>(file, file_index, mapping, out, stats)}) {}

PrometheusMatrixReader::PrometheusMatrixReader(const std::string& file, uint32_t file_index,
                                               const SeriesMapping& mapping, SourceStats* stats,
                                               OnNumber on_number)
    : impl_(new Impl{std::make_unique<NumberPoints>(file, file_index, mapping, stats,
                                                    std::move(on_number))}) {}

PrometheusMatrixReader::~PrometheusMatrixReader() = default;

void PrometheusMatrixReader::Feed(std::string_view piece) { impl_->points->Feed(piece); }

std::string PrometheusMatrixReader::Finish() { return impl_->points->Finish(); }

const QueryRangeScanner& PrometheusMatrixReader::scanner() const {
  return impl_->points->scanner();
}

bool MetricIsRatio(const SeriesMapping& mapping, std::string_view metric) {
  return IsRatio(mapping, metric);
}

void ReadPrometheusMatrix(std::string_view json, const std::string& file, uint32_t file_index,
                          const SeriesMapping& mapping, TelemetryBuckets* out, SourceStats* stats) {
  BucketPoints points(file, file_index, mapping, out, stats);
  points.Feed(json);
  points.Finish();
}

void ReadPrometheusNumbers(
    std::string_view json, const std::string& file, uint32_t file_index,
    const SeriesMapping& mapping, SourceStats* stats,
    const std::function<void(const std::string&, int, TimeMs, double, uint64_t)>& on_point) {
  NumberPoints points(file, file_index, mapping, stats, on_point);
  points.Feed(json);
  points.Finish();  // a broken answer is counted as rejected
}

}  // namespace gpuledger
