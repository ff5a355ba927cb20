// Prometheus query_range answers (JSON matrices): ReadPrometheusMatrix, ReadPrometheusNumbers.
#include <simdjson.h>

#include <charconv>
#include <cmath>

#include "sources/exported_telemetry.h"
#include "sources/series_labels.h"

namespace gpuledger {

using namespace series;

namespace {

// Walks a query_range matrix: each point of each series whose labels name a machine and a GPU
// goes to on_point(machine, gpu, t, value_text, ratio, memory, series, order), "memory" true
// for the memory metric's series; the rest is rejected. on_series(machine, labels) gets each
// accepted series' labels.
template <typename OnPoint, typename OnSeries>
void ForEachMatrixPoint(std::string_view json, const std::string& file, uint32_t file_index,
                        const SeriesMapping& mapping, SourceStats* stats, OnPoint&& on_point,
                        OnSeries&& on_series) {
  using namespace simdjson;
  ++stats->files;
  dom::parser parser;
  dom::element doc;
  dom::array result;
  // A document that is not a query_range answer counts as one row read and rejected, so that
  // every row read is accepted or rejected (as a series without values counts as one).
  if (parser.parse(padded_string(json)).get(doc) != SUCCESS) {
    ++stats->rows_read;
    stats->rejected.Add("bad_json", file, 0, InputOrder(file_index, 0), "not JSON");
    return;
  }
  dom::element data = doc;
  if (dom::element d; doc["data"].get(d) == SUCCESS) data = d;
  std::string_view type;
  if (data["result"].get(result) != SUCCESS ||
      (data["resultType"].get(type) == SUCCESS && type != "matrix")) {
    ++stats->rows_read;
    stats->rejected.Add("bad_json", file, 0, InputOrder(file_index, 0),
                        "expected a query_range response: data.resultType \"matrix\"");
    return;
  }
  uint64_t series = 0;
  for (dom::element s : result) {
    ++series;
    dom::object metric;
    dom::array values;
    const bool ok = s["metric"].get(metric) == SUCCESS && s["values"].get(values) == SUCCESS;
    const uint64_t n = ok ? values.size() : 1;
    stats->rows_read += n;
    const uint64_t order = InputOrder(file_index, series << kJsonLineShift);
    if (!ok) {
      stats->rejected.Add("bad_json", file, series, order, "a series without metric and values");
      continue;
    }
    auto label = [&](const std::string& k) {
      std::string_view v;
      return metric[k].get(v) == SUCCESS ? std::string(v) : std::string();
    };
    std::string machine;
    int gpu = 0;
    const char* reason = nullptr;
    if (!MachineAndGpu(mapping, label, "", &machine, &gpu, &reason)) {
      stats->rejected.Add(reason, file, series, order, "series " + std::to_string(series), n);
      continue;
    }
    const bool ratio = IsRatio(mapping, label("__name__"));
    const bool memory = label("__name__") == mapping.memory_metric;
    std::vector<std::pair<std::string, std::string>> labels;
    for (auto [key, value] : metric) {
      std::string_view v;
      if (value.get(v) == SUCCESS) labels.emplace_back(std::string(key), std::string(v));
    }
    on_series(machine, labels);
    uint64_t k = 0;
    for (dom::element pair : values) {
      ++k;
      double ts = 0;
      std::string_view text;
      dom::array p;
      if (pair.get(p) != SUCCESS || p.size() != 2 || p.at(0).get(ts) != SUCCESS ||
          p.at(1).get(text) != SUCCESS) {
        stats->rejected.Add("bad_json", file, series, order + k,
                            "a value is not [time, \"value\"]");
        continue;
      }
      // Compared as a double: casting an out-of-range double to an integer is undefined.
      if (!(ts > -62167219200.0 && ts < static_cast<double>(kLatestPlausibleMs) / 1000)) {
        stats->rejected.Add("bad_time", file, series, order + k, "time " + std::to_string(ts));
        continue;
      }
      on_point(machine, gpu, static_cast<TimeMs>(std::llround(ts * 1000)), text, ratio, memory,
               series, order + k);
    }
  }
}

double ParseValue(std::string_view text) {
  double v = NAN;
  if (text != "NaN") std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

}  // namespace

bool MetricIsRatio(const SeriesMapping& mapping, std::string_view metric) {
  return IsRatio(mapping, metric);
}

void ReadPrometheusMatrix(std::string_view json, const std::string& file, uint32_t file_index,
                          const SeriesMapping& mapping, TelemetryBuckets* out, SourceStats* stats) {
  int32_t workload = -1;                      // of the series whose points come next
  TelemetryBuckets::Machine* slot = nullptr;  // its machine's
  ForEachMatrixPoint(
      json, file, file_index, mapping, stats,
      [&](const std::string&, int gpu, TimeMs t, std::string_view text, bool ratio, bool memory,
          uint64_t series, uint64_t order) {
        if (memory) {
          const double mib = ParseValue(text);
          if (!std::isfinite(mib) || mib < 0 || IsDcgmNoValue(mib)) {
            stats->rejected.Add("memory_not_a_number", file, series, order,
                                "value '" + std::string(text) + "'");
            return;
          }
          ++stats->rows_accepted;
          out->AddMemory(slot, gpu, t, mib, order);
          return;
        }
        double pct = 0;
        if (const char* bad = CheckValue(ParseValue(text), ratio, &pct)) {
          stats->rejected.Add(bad, file, series, order, "value '" + std::string(text) + "'");
          return;
        }
        out->Add(slot, gpu, t, pct, order, kNoMemory, workload);
      },
      [&](const std::string& machine,
          const std::vector<std::pair<std::string, std::string>>& labels) {
        out->AddLabels(machine, labels);
        workload = out->WorkloadOf(machine, labels);
        slot = out->Slot(machine);
      });
}

void ReadPrometheusNumbers(
    std::string_view json, const std::string& file, uint32_t file_index,
    const SeriesMapping& mapping, SourceStats* stats,
    const std::function<void(const std::string&, int, TimeMs, double, uint64_t)>& on_point) {
  ForEachMatrixPoint(
      json, file, file_index, mapping, stats,
      [&](const std::string& machine, int gpu, TimeMs t, std::string_view text, bool, bool,
          uint64_t series, uint64_t order) {
        const double v = ParseValue(text);
        if (!std::isfinite(v) || v < 0) {
          stats->rejected.Add("bad_number", file, series, order,
                              "value '" + std::string(text) + "'");
          return;
        }
        on_point(machine, gpu, t, v, order);
      },
      [](const std::string&, const auto&) {});
}

}  // namespace gpuledger
