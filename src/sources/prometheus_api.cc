#include "sources/prometheus_api.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <thread>

#include "sources/query_range_scanner.h"

namespace gpuledger {
namespace {

std::string Seconds(TimeMs t) { return fmt::format("{}.{:03}", t / 1000, t % 1000); }

// GETs "url" and reads the answer as it arrives (never held whole) with the reader
// fresh_reader() makes for each try, retrying transient failures; what a failed try read goes
// with its reader. An answer is the audit's only if it is whole JSON with status "success" and a
// matrix: anything else is an error quoting the server's own message, never an empty (all
// unmonitored) audit. kTooLarge when the answer passed q.max_response_bytes, so the caller can
// split.
Result<void> ReadAnswer(const PrometheusQuery& q, const std::string& url, std::FILE* log,
                        const std::function<PrometheusMatrixReader*()>& fresh_reader) {
  HttpAuth auth = q.auth;
  auth.origin = OriginOf(q.url);
  for (int attempt = 0;; ++attempt) {
    PrometheusMatrixReader* reader = fresh_reader();
    const HttpResponse r =
        HttpGetStreamed(url, auth, "application/json", q.max_response_bytes,
                        [&](std::string_view piece) { return reader->Feed(piece), true; });
    if (r.too_large) {
      return MakeError(ErrorCode::kTooLarge,
                       fmt::format("the answer is larger than {} bytes (--max-response-bytes)",
                                   q.max_response_bytes),
                       url);
    }
    const bool transient = r.status == 0 || r.status >= 500 || r.status == 429;
    if (transient && attempt < q.max_retries) {
      fmt::print(log, "prometheus: {} on {}, retrying\n",
                 r.status == 0 ? r.error : fmt::format("HTTP {}", r.status), url);
      std::this_thread::sleep_for(std::chrono::milliseconds(q.retry_base_ms << attempt));
      continue;
    }
    if (r.status != 200) {
      return MakeError(ErrorCode::kIo,
                       fmt::format("Prometheus query failed: {} {}",
                                   r.status == 0 ? r.error : fmt::format("HTTP {}", r.status),
                                   RedactedExcerpt(r.body, auth)),
                       url);
    }
    const std::string failure = reader->Finish();
    const QueryRangeScanner& answer = reader->scanner();
    if (failure.starts_with("not JSON")) {
      return MakeError(
          ErrorCode::kIo,
          "Prometheus answered with something that is not whole JSON (truncated?): " + failure,
          url);
    }
    if (answer.status() != "success") {
      return MakeError(ErrorCode::kIo,
                       fmt::format("Prometheus answered status '{}': {}{}{}", answer.status(),
                                   answer.error_type(), answer.error_type().empty() ? "" : ": ",
                                   RedactedExcerpt(answer.error(), HttpAuth{}, 300)),
                       url);
    }
    if (!failure.empty()) {
      return MakeError(ErrorCode::kIo,
                       fmt::format("Prometheus answered a '{}', not a matrix: is --metric a "
                                   "metric name?",
                                   answer.result_type()),
                       url);
    }
    return {};
  }
}

std::string BaseUrl(const PrometheusQuery& q) {
  std::string base = q.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

TimeMs FloorTo(TimeMs t, DurationMs unit) {
  return t >= 0 ? t / unit * unit : -((-t + unit - 1) / unit) * unit;
}

// Per (machine, GPU): bucket end -> the number the roll-up query gave, and where it was read.
struct BucketNumber {
  double value;
  uint64_t order;
};
using BucketNumbers = std::map<std::pair<std::string, int>, std::map<TimeMs, BucketNumber>>;

}  // namespace

Result<void> FetchPrometheusRaw(const PrometheusQuery& q, const SeriesMapping& mapping,
                                TelemetryBuckets* out, SourceStats* stats, std::FILE* log) {
  if (q.chunk_ms <= 1 || q.to <= q.from) {
    return MakeError(ErrorCode::kUsage, "a Prometheus query needs --from before --to");
  }
  const std::string base = BaseUrl(q);
  // One range [start, end); an answer too large to read whole is asked for again in halves.
  std::function<Result<void>(TimeMs, TimeMs)> range = [&](TimeMs start,
                                                          TimeMs end) -> Result<void> {
    // [start, end): evaluated at end - 1 ms, a range of the chunk's length covers (start - 1 ms,
    // end - 1 ms] on Prometheus 3's left-open selectors and [start - 1 ms, end - 1 ms] on 2.x's
    // closed ones; a sample exactly 1 ms before a chunk can then come twice, and collapses.
    const TimeMs at = end - 1;
    // Utilisation and memory in use (the held-idle lens) in one query; series keep __name__.
    const std::string selector = fmt::format("{{__name__=~\"{}|{}\"}}[{}ms]", mapping.metric,
                                             mapping.memory_metric, end - start);
    const std::string url =
        fmt::format("{}/api/v1/query?query={}&time={}", base, UrlEncode(selector), Seconds(at));
    const std::string label = fmt::format("prometheus[{}]", FormatIsoUtc(start));
    const uint32_t file = out->AddFile(label, kJsonLineShift);
    std::optional<PrometheusMatrixReader> reader;
    std::optional<TelemetryBuckets> got;  // what the try read, kept when its answer is whole
    SourceStats got_stats;
    auto read = ReadAnswer(q, url, log, [&] {
      reader.reset();
      got.emplace();
      got_stats = SourceStats();
      return &reader.emplace(label, file, mapping, &*got, &got_stats);
    });
    if (read) {
      out->Merge(std::move(*got));
      stats->Merge(got_stats);
    }
    if (!read && read.error().code == ErrorCode::kTooLarge && end - start >= 2 * kMsPerMinute) {
      const TimeMs mid = start + (end - start) / 2;
      fmt::print(log, "prometheus: the answer for {} is too large; asking for halves\n",
                 FormatIsoUtc(start));
      if (auto r = range(start, mid); !r) return r;
      return range(mid, end);
    }
    return read;
  };
  for (TimeMs start = q.from; start < q.to; start += q.chunk_ms) {
    if (auto r = range(start, std::min(q.to, start + q.chunk_ms)); !r) return r;
  }
  return {};
}

Result<void> FetchPrometheusRollup(const PrometheusQuery& q, const RollupSpec& spec,
                                   const SeriesMapping& mapping, TelemetryBuckets* out,
                                   SourceStats* stats, std::FILE* log) {
  const DurationMs bucket = spec.rollup_ms, step = spec.step_ms;
  if (step <= 0 || bucket < step || bucket % step != 0) {
    return MakeError(ErrorCode::kUsage, "must be a whole multiple of --step", "--rollup");
  }
  if (q.to <= q.from) return MakeError(ErrorCode::kUsage, "--rollup needs --from before --to");
  const double threshold =
      MetricIsRatio(mapping, mapping.metric) ? spec.threshold_pct / 100 : spec.threshold_pct;
  const std::string range = fmt::format("[{}ms:{}ms]", bucket, step);
  const std::string count_expr = fmt::format("count_over_time(({}){})", mapping.metric, range);
  const std::string below_expr =
      fmt::format("sum_over_time(({} < bool {}){})", mapping.metric, threshold, range);
  const DurationMs chunk = std::max<DurationMs>(1, (q.chunk_ms + bucket - 1) / bucket) * bucket;
  const std::string base = BaseUrl(q);
  auto fetch = [&](const std::string& expr, const char* what, TimeMs first_end, TimeMs last_end,
                   BucketNumbers* into) -> Result<void> {
    // Evaluated 1 ms before each bucket's end: the subquery's steps are then exactly the
    // bucket's, on Prometheus 2.x's closed ranges and 3.x's left-open ones alike.
    const std::string url =
        fmt::format("{}/api/v1/query_range?query={}&start={}&end={}&step={}", base, UrlEncode(expr),
                    Seconds(first_end - 1), Seconds(last_end - 1), Seconds(bucket));
    const std::string label = fmt::format("prometheus-{}[{}]", what, FormatIsoUtc(first_end));
    const uint32_t file = out->AddFile(label, kJsonLineShift);
    // A series' points come together: look its GPU up once, not once a point. Two series of one
    // GPU at one instant collapse to the last read, as samples do on the raw path.
    std::map<TimeMs, BucketNumber>* series = nullptr;
    std::pair<std::string, int> key;
    auto on_number = [&](const std::string& machine, int gpu, TimeMs t, double v, uint64_t order) {
      if (series == nullptr || gpu != key.second || machine != key.first) {
        key = {machine, gpu};
        series = &(*into)[key];
      }
      (*series)[t + 1] = {v, order};
    };
    std::optional<PrometheusMatrixReader> reader;
    SourceStats got_stats;  // the try's, kept when its answer is whole
    auto read = ReadAnswer(q, url, log, [&] {
      reader.reset();
      into->clear(), series = nullptr;
      got_stats = SourceStats();
      return &reader.emplace(label, file, mapping, &got_stats, on_number);
    });
    if (read) stats->Merge(got_stats);
    return read;
  };
  for (TimeMs start = FloorTo(q.from, bucket); start < q.to; start += chunk) {
    const TimeMs last_end = std::min(start + chunk, FloorTo(q.to - 1, bucket) + bucket);
    BucketNumbers counts, below;
    if (auto r = fetch(count_expr, "count", start + bucket, last_end, &counts); !r) return r;
    if (auto r = fetch(below_expr, "below", start + bucket, last_end, &below); !r) return r;
    for (const auto& [key, points] : counts) {
      const std::map<TimeMs, BucketNumber>& below_points = below[key];
      for (const auto& [end, count] : points) {
        auto b = below_points.find(end);
        const double n_below = b == below_points.end() ? 0 : std::min(b->second.value, count.value);
        const DurationMs below_ms = std::llround(n_below) * step;
        const DurationMs monitored_ms = std::llround(count.value) * step;
        out->AddSpan(key.first, key.second, end - bucket, end, below_ms, monitored_ms - below_ms,
                     count.order);
      }
    }
  }
  return {};
}

}  // namespace gpuledger
