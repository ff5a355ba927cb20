#include "sources/exported_telemetry.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>

#include "core/csv_table.h"
#include "core/line_reader.h"
#include "core/memory_size.h"
#include "core/time_parser.h"
#include "model/mig.h"
#include "sources/nvidia_smi_csv.h"
#include "sources/prom_text.h"
#include "sources/table_rows.h"

namespace gpuledger {
namespace {

bool IsRatio(const SeriesMapping& m, std::string_view metric) {
  if (m.value_scale == "ratio") return true;
  if (m.value_scale == "percent") return false;
  return metric.starts_with("DCGM_FI_PROF_") || metric.ends_with("_RATIO");
}

// The machine a label set names (the first machine label present), or "".
template <typename LabelFn>
std::string MachineOf(const SeriesMapping& m, LabelFn&& label) {
  for (const std::string& l : m.machine_labels) {
    if (std::string v = label(l); !v.empty()) return v;
  }
  return "";
}

// The GPU index a label set names; false when absent or malformed.
template <typename LabelFn>
bool GpuOf(const SeriesMapping& m, LabelFn&& label, int* gpu) {
  const std::string g = label(m.gpu_label);
  auto [end, ec] = std::from_chars(g.data(), g.data() + g.size(), *gpu);
  return !g.empty() && ec == std::errc() && end == g.data() + g.size() && *gpu >= 0 && *gpu <= 1023;
}

// Machine and GPU of a label set; false (and *reason) when one is missing.
template <typename LabelFn>
bool MachineAndGpu(const SeriesMapping& m, LabelFn&& label, const std::string& fallback,
                   std::string* machine, int* gpu, const char** reason) {
  *machine = MachineOf(m, label);
  if (machine->empty()) *machine = fallback;
  if (machine->empty()) return *reason = "no_machine_label", false;
  if (!GpuOf(m, label, gpu)) return *reason = "no_gpu_label", false;
  if (const std::string id = label("GPU_I_ID"); !id.empty()) {  // a MIG instance
    auto mig = ParseMigInstance(*gpu, id, label("GPU_I_PROFILE"), label("modelName"));
    if (!mig) return *reason = "bad_mig_instance", false;
    *gpu = MigIndex(*mig);
  }
  return true;
}

// Checks and scales a value; nullptr when good, else the reason.
const char* CheckValue(double v, bool ratio, double* pct) {
  if (std::isnan(v)) return "util_not_a_number";
  if (IsDcgmNoValue(v)) return "no_value";
  *pct = ratio ? v * 100 : v;
  return *pct < 0 || *pct > 100 ? "util_out_of_range" : nullptr;
}

}  // namespace

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
  int32_t workload = -1;  // of the series whose points come next
  ForEachMatrixPoint(
      json, file, file_index, mapping, stats,
      [&](const std::string& machine, int gpu, TimeMs t, std::string_view text, bool ratio,
          bool memory, uint64_t series, uint64_t order) {
        if (memory) {
          const double mib = ParseValue(text);
          if (!std::isfinite(mib) || mib < 0 || IsDcgmNoValue(mib)) {
            stats->rejected.Add("memory_not_a_number", file, series, order,
                                "value '" + std::string(text) + "'");
            return;
          }
          ++stats->rows_accepted;
          out->AddMemory(machine, gpu, t, mib, order);
          return;
        }
        double pct = 0;
        if (const char* bad = CheckValue(ParseValue(text), ratio, &pct)) {
          stats->rejected.Add(bad, file, series, order, "value '" + std::string(text) + "'");
          return;
        }
        out->Add(machine, gpu, t, pct, order, kNoMemory, workload);
      },
      [&](const std::string& machine,
          const std::vector<std::pair<std::string, std::string>>& labels) {
        out->AddLabels(machine, labels);
        workload = out->WorkloadOf(machine, labels);
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

}  // namespace

Result<void> ReadLongTable(std::string_view text, const std::string& file, uint32_t file_index,
                           const SeriesMapping& m, const TimeZone& zone, LongTableRole role,
                           TelemetryBuckets* out, SourceStats* stats) {
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
  TimeParser parser(&zone);
  const bool ratio = m.value_scale == "ratio";
  uint64_t numeric = 0, above_100 = 0, first_above = 0;
  std::string first_above_value;
  ForEachTableRow(table, file, file_index, stats, [&](const TableRow& r) {
    TimeMs t = 0;
    if (!parser.Parse(r[*c_time], &t)) {
      r.Reject("bad_time", "time '" + r[*c_time] + "'");
      return;
    }
    std::string machine;
    int gpu = 0;
    std::vector<std::pair<std::string, std::string>> labels;
    if (!RowMachineAndGpu(r, m, c_series, c_machine, c_gpu, &machine, &gpu, &labels)) return;
    if (!labels.empty()) out->AddLabels(machine, labels);
    if (role == LongTableRole::kMemory) {
      const double mib = MemoryField(r[*c_value], *mib_per_unit);
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
    if (!std::isnan(v)) ++numeric;
    if (v > (ratio ? 1 : 100) && above_100++ == 0) {
      first_above = r.line(), first_above_value = r[*c_value];
    }
    if (const char* bad = CheckValue(v, ratio, &pct)) {
      r.Reject(bad, "value '" + r[*c_value] + "'");
      return;
    }
    out->Add(machine, gpu, t, pct, r.order(),
             c_memory ? MemoryField(r[*c_memory], *mib_per_unit) : kNoMemory,
             labels.empty() ? -1 : out->WorkloadOf(machine, labels));
  });
  // One stray 101 is a bad row; many are another metric (memory in MiB, a clock, a count).
  if (above_100 > 1 && above_100 * 20 >= numeric) {
    return MakeError(ErrorCode::kParse,
                     std::to_string(above_100) + " of " + std::to_string(numeric) +
                         " values of --value-col '" + m.value_col + "' are above " +
                         (ratio ? "1" : "100") + " (first '" + first_above_value +
                         "'): this is not a utilisation. A table of GPU memory goes in "
                         "--memory-telemetry FILE (with --memory-value-col and --memory-unit); "
                         "otherwise name the utilisation column with --value-col",
                     file + ":" + std::to_string(first_above));
  }
  return {};
}

}  // namespace gpuledger
