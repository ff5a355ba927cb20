#include "sources/prometheus_api.h"

#include <fmt/format.h>

#include <chrono>
#include <thread>

namespace gpuledger {
namespace {

std::string Seconds(TimeMs t) { return fmt::format("{}.{:03}", t / 1000, t % 1000); }

}  // namespace

Result<void> FetchPrometheusRaw(const PrometheusQuery& q, const SeriesMapping& mapping,
                                TelemetryBuckets* out, SourceStats* stats, std::FILE* log) {
  if (q.chunk_ms <= 1 || q.to <= q.from) {
    return MakeError(ErrorCode::kUsage, "a Prometheus query needs --from before --to");
  }
  std::string base = q.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  for (TimeMs start = q.from; start < q.to; start += q.chunk_ms) {
    const TimeMs end = std::min(q.to, start + q.chunk_ms);
    // [start, end): evaluated at end - 1 ms, a range of the chunk's length covers (start - 1 ms,
    // end - 1 ms] on Prometheus 3's left-open selectors and [start - 1 ms, end - 1 ms] on 2.x's
    // closed ones; a sample exactly 1 ms before a chunk can then come twice, and collapses.
    const TimeMs at = end - 1;
    const std::string selector = fmt::format("{}[{}ms]", mapping.metric, end - start);
    const std::string url =
        fmt::format("{}/api/v1/query?query={}&time={}", base, UrlEncode(selector), Seconds(at));
    HttpResponse r;
    for (int attempt = 0;; ++attempt) {
      r = HttpGet(url, q.auth, "application/json");
      const bool transient = r.status == 0 || r.status >= 500 || r.status == 429;
      if (!transient || attempt >= q.max_retries) break;
      fmt::print(log, "prometheus: {} on {}, retrying\n",
                 r.status == 0 ? r.error : fmt::format("HTTP {}", r.status), url);
      std::this_thread::sleep_for(std::chrono::milliseconds(q.retry_base_ms << attempt));
    }
    if (r.status != 200) {
      return MakeError(ErrorCode::kIo,
                       fmt::format("Prometheus query failed: {} {}",
                                   r.status == 0 ? r.error : fmt::format("HTTP {}", r.status),
                                   r.body.substr(0, 300)),
                       url);
    }
    const std::string label = fmt::format("prometheus[{}]", FormatIsoUtc(start));
    ReadPrometheusMatrix(r.body, label, out->AddFile(label, kJsonLineShift), mapping, out, stats);
  }
  return {};
}

}  // namespace gpuledger
