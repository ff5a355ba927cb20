#include "sources/nvidia_smi_csv.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

#include "core/byte_scan.h"

namespace gpuledger {
namespace {

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// "utilization.gpu [%]" → "utilization.gpu", lower case.
std::string ColumnKey(std::string_view name) {
  name = TrimSpaces(name);
  if (name.starts_with("\xEF\xBB\xBF")) name.remove_prefix(3);  // UTF-8 BOM
  if (const size_t bracket = name.find('['); bracket != std::string_view::npos) {
    name = TrimSpaces(name.substr(0, bracket));
  }
  std::string key(name);
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

bool IsHeaderCandidate(std::string_view line) {
  line = TrimSpaces(line);
  if (line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
  return !line.empty() && (line[0] < '0' || line[0] > '9');
}

}  // namespace

bool NvidiaSmiColumns::Parse(std::string_view line, NvidiaSmiColumns* out) {
  std::array<std::string_view, kMaxFields> fields;
  const size_t n = SplitFields(line, &fields);
  if (n > kMaxFields) return false;
  NvidiaSmiColumns c;
  c.count = n;
  for (size_t i = 0; i < n; ++i) {
    const std::string key = ColumnKey(fields[i]);
    const int idx = static_cast<int>(i);
    if (key == "timestamp")
      c.timestamp = idx;
    else if (key == "index")
      c.index = idx;
    else if (key == "utilization.gpu")
      c.utilization = idx;
    else if (key == "memory.used")
      c.memory_used = idx;
    else if (key == "uuid" || key == "gpu_uuid")
      c.uuid = idx;
  }
  if (c.timestamp < 0 || c.utilization < 0) return false;
  c.needed =
      static_cast<size_t>(std::max({c.timestamp, c.index, c.utilization, c.memory_used, c.uuid})) +
      1;
  *out = c;
  return true;
}

// The fast path of the number parsers: "field" of at most "max_digits" decimal digits and
// nothing else, as nvidia-smi writes whole numbers, into *out; false for anything else.
bool ParseWholeNumber(std::string_view field, size_t max_digits, int64_t* out) {
  if (field.empty() || field.size() > max_digits) return false;
  int64_t v = 0;
  for (char c : field) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

int ParseUtilization(std::string_view field, double* out) {
  field = TrimSpaces(field);
  if (field.ends_with('%')) field = TrimSpaces(field.substr(0, field.size() - 1));
  if (field.empty()) return 0;
  if (int64_t whole = 0; ParseWholeNumber(field, 3, &whole)) {
    *out = static_cast<double>(whole);
    return whole <= 100 ? 1 : -1;
  }
  double v = 0;
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
  if (ec != std::errc() || end != field.data() + field.size() || !std::isfinite(v)) return 0;
  *out = v;
  return v >= 0 && v <= 100 ? 1 : -1;
}

double ParseMemoryMib(std::string_view field) {
  field = TrimSpaces(field);
  if (field.ends_with("MiB")) field = TrimSpaces(field.substr(0, field.size() - 3));
  if (int64_t whole = 0; ParseWholeNumber(field, 9, &whole)) return static_cast<double>(whole);
  double v = 0;
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
  if (field.empty() || ec != std::errc() || end != field.data() + field.size() ||
      !std::isfinite(v) || v < 0) {
    return kNoMemory;
  }
  return v;
}

void NvidiaSmiReader::Reject(std::string_view reason, uint64_t line_no, std::string_view detail) {
  stats_->rejected.Add(reason, file_, line_no, InputOrder(file_index_, line_no), detail);
}

bool NvidiaSmiReader::Line(std::string_view line, uint64_t line_no) {
  if (line.empty() || TrimSpaces(line).empty()) return true;
  if (IsHeaderCandidate(line)) {
    NvidiaSmiColumns columns;
    if (NvidiaSmiColumns::Parse(line, &columns)) {
      if (have_header_) {
        stats_->notes.Add("repeated_header", file_, line_no, InputOrder(file_index_, line_no));
      }
      columns_ = columns;
      have_header_ = true;
      return true;
    }
  }
  ++stats_->rows_read;
  if (!have_header_) {
    Reject("no_header", line_no, "no header line naming timestamp and utilization.gpu before it");
    return true;
  }
  std::array<std::string_view, kMaxFields>& f = fields_;  // reused: no per-row zeroing
  const size_t n = SplitFields(line, &f, columns_.needed);
  if (n != columns_.count) {
    Reject("field_count", line_no,
           std::to_string(n) + " fields where the header has " + std::to_string(columns_.count));
    return true;
  }
  TimeMs t = 0;
  if (!parser_.Parse(f[columns_.timestamp], &t)) {
    Reject(parser_.failure(), line_no,
           "time '" + std::string(TrimSpaces(f[columns_.timestamp])) + "'");
    return true;
  }
  if (parser_.ambiguous()) {
    stats_->notes.Add(kAmbiguousLocalTime, file_, line_no, InputOrder(file_index_, line_no),
                      "a local time of the repeated hour, read by the log's order");
  }
  int gpu = 0;
  if (columns_.index >= 0) {
    const std::string_view idx = TrimSpaces(f[columns_.index]);
    auto [end, ec] = std::from_chars(idx.data(), idx.data() + idx.size(), gpu);
    if (ec != std::errc() || end != idx.data() + idx.size() || gpu < 0 || gpu > 1023) {
      Reject("bad_gpu_index", line_no, "index '" + std::string(idx) + "'");
      return true;
    }
  }
  double util = 0;
  const int u = ParseUtilization(f[columns_.utilization], &util);
  if (u <= 0) {
    const std::string value(TrimSpaces(f[columns_.utilization]));
    Reject(u == 0 ? "util_not_a_number" : "util_out_of_range", line_no,
           "utilization '" + value + "'");
    return true;
  }
  const double memory_mib =
      columns_.memory_used >= 0 ? ParseMemoryMib(f[columns_.memory_used]) : kNoMemory;
  switch (sink_->Add(gpu, t, util, InputOrder(file_index_, line_no), memory_mib)) {
    case SampleVerdict::kAccepted:
      ++stats_->rows_accepted;
      return true;
    case SampleVerdict::kDuplicate:
      ++stats_->rows_accepted;
      stats_->notes.Add("duplicate_time", file_, line_no, InputOrder(file_index_, line_no),
                        "GPU " + std::to_string(gpu) +
                            " already had a sample at this instant; "
                            "the later row wins");
      return true;
    case SampleVerdict::kUnknownGpu:
      Reject("unknown_gpu", line_no, "GPU index " + std::to_string(gpu));
      return true;
    case SampleVerdict::kUnknownMachine:
      Reject("unknown_machine", line_no, "machine not in the inventory");
      return true;
    case SampleVerdict::kOutOfOrder:
    case SampleVerdict::kNeedsSamples:  // not an answer to a sample
      return false;
  }
  return true;
}

}  // namespace gpuledger
