#include "audit/ingest.h"

#include "audit/sorting_sink.h"

namespace gpuledger {
namespace {

constexpr uint64_t kLineMask = (uint64_t{1} << 40) - 1;

std::string FileOf(const TelemetrySource& src, uint64_t order) {
  const uint32_t index = static_cast<uint32_t>(order >> 40);
  for (size_t i = 0; i < src.file_indices.size(); ++i) {
    if (src.file_indices[i] == index) return src.files[i];
  }
  return src.machine;
}

}  // namespace

Result<void> IngestTelemetry(const TelemetrySource& src,
                             const std::function<GpuSampleTarget*()>& make_target,
                             SourceStats* stats, std::atomic<uint64_t>* bytes_read) {
  auto streamed = src.feed(make_target(), stats, bytes_read);
  if (!streamed) return std::unexpected(streamed.error());
  if (*streamed) return {};
  // Out of order: start again from nothing, holding and sorting this machine's samples.
  GpuSampleTarget* target = make_target();
  *stats = SourceStats{};
  SortingSink sorter(target);
  std::atomic<uint64_t> scratch{0};
  auto again = src.feed(&sorter, stats, &scratch);
  if (!again) return std::unexpected(again.error());
  auto reordered = sorter.Replay(target, [&](uint64_t order) {
    stats->notes.Add("duplicate_time", FileOf(src, order), order & kLineMask, order,
                     "a GPU already had a sample at this instant; the later row wins");
  });
  stats->notes.Add("out_of_order", FileOf(src, reordered.first_order),
                   reordered.first_order & kLineMask, reordered.first_order,
                   "rows earlier than a row read before them were sorted by time before use",
                   reordered.rows);
  return {};
}

}  // namespace gpuledger
