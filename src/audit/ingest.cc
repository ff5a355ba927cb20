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

Result<void> RequireAcceptedSamples(bool given, const std::vector<std::string>& files,
                                    const SourceStats& stats) {
  if (!given || stats.rows_accepted > 0) return {};
  std::string names;
  for (size_t i = 0; i < files.size() && i < 5; ++i) names += (i ? ", " : "") + files[i];
  if (files.size() > 5) names += ", … (" + std::to_string(files.size()) + " files)";
  if (files.empty()) names = "the server";
  const ProblemEntry* main = nullptr;
  std::string reason;
  for (const auto& [r, e] : stats.rejected.entries()) {
    if (main == nullptr || e.count > main->count) main = &e, reason = r;
  }
  if (main == nullptr) {
    return MakeError(ErrorCode::kParse,
                     "no GPU sample in the telemetry: " + std::to_string(stats.rows_read) +
                         " data rows read from " + names +
                         " (empty, header only, or no utilisation series)");
  }
  return MakeError(ErrorCode::kParse, "no GPU sample accepted from " + names + ": all " +
                                          std::to_string(stats.rows_read) + " rows rejected, " +
                                          std::to_string(main->count) + " as " + reason +
                                          " (first at " + main->Where() +
                                          (main->detail.empty() ? "" : ": " + main->detail) + ")");
}

}  // namespace gpuledger
