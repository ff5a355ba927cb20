// nvidia-smi --query-gpu=… --format=csv[,noheader][,nounits] logs (one machine per file).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/problems.h"
#include "core/time_parser.h"
#include "model/sample_sink.h"

namespace gpuledger {

// Where the columns the audit reads sit in a header line. Names are matched without their
// unit ("utilization.gpu [%]" and "utilization.gpu" alike), case-insensitively.
inline constexpr size_t kMaxFields = 64;  // of a row; more is a field_count rejection

struct NvidiaSmiColumns {
  int timestamp = -1;
  int index = -1;        // absent: a single-GPU machine, GPU 0
  int utilization = -1;  // utilization.gpu
  int memory_used = -1;  // optional: memory.used, for the held-idle lens
  int uuid = -1;
  size_t count = 0;   // fields per row
  size_t needed = 0;  // the fields a row is read up to: the last column above, plus one

  // True when "line" is a header naming at least timestamp and utilization.gpu.
  static bool Parse(std::string_view line, NvidiaSmiColumns* out);
};

// Reads one nvidia-smi CSV log, line by line, and hands valid samples to a sink.
// Rows are rejected, never guessed, and counted by reason with their first file:line:
//   no_header        a data row before any header line naming timestamp and utilization.gpu
//   field_count      the row's field count differs from its header's
//   bad_time         the timestamp does not parse
//   bad_gpu_index    the index is not a whole number in 0…1023
//   util_not_a_number  "[N/A]", "[Not Supported]", "NA", empty, …
//   util_out_of_range  below 0 or above 100
//   unknown_gpu      the sink's machine has no such GPU
//   unknown_machine  the sink's machine is not part of the audit
// Repeated header lines (loggers that print one before every poll) are skipped and noted;
// rows at an instant already seen for the GPU are noted as duplicate_time.
class NvidiaSmiReader {
 public:
  // "file" labels problems; "file_index" ranks them (InputOrder). Pointers must outlive this.
  NvidiaSmiReader(std::string file, uint32_t file_index, const TimeZone* zone, SampleSink* sink,
                  SourceStats* stats)
      : file_(std::move(file)),
        file_index_(file_index),
        parser_(zone),
        sink_(sink),
        stats_(stats) {}

  // Reads one line. Returns false when the sink refused a sample as out of order: the caller
  // must then re-read the machine's samples sorted (its stats are then no longer valid).
  bool Line(std::string_view line, uint64_t line_no);

 private:
  void Reject(std::string_view reason, uint64_t line_no, std::string_view detail);

  std::string file_;
  uint32_t file_index_;
  TimeParser parser_;
  SampleSink* sink_;
  SourceStats* stats_;
  NvidiaSmiColumns columns_;
  bool have_header_ = false;
  std::array<std::string_view, kMaxFields> fields_{};  // a row's fields, up to columns_.needed
};

// Parses a memory.used field (" 754 MiB", "754"); kNoMemory for "[N/A]" and anything that is
// not a non-negative number. A bad memory field never rejects the row: memory is optional.
double ParseMemoryMib(std::string_view field);

// Parses a utilisation field: " 16 %", "16", "16.5". Returns 1 for a valid percentage, 0 for
// no number at all, -1 for a number outside [0, 100].
int ParseUtilization(std::string_view field, double* out);

}  // namespace gpuledger
