// Reading GPU utilisation from a live Prometheus-compatible server (Prometheus, Thanos, Mimir,
// VictoriaMetrics) over its HTTP API: the fetch step; ReadPrometheusMatrix parses.
#pragma once

#include <cstdio>
#include <string>

#include "core/error.h"
#include "sources/exported_telemetry.h"
#include "sources/http_get.h"

namespace gpuledger {

struct PrometheusQuery {
  std::string url;                   // http://host:9090 (a path prefix is kept)
  TimeMs from = 0, to = 0;           // [from, to)
  DurationMs chunk_ms = kMsPerHour;  // one request per chunk
  HttpAuth auth;
  int max_retries = 3;  // transient errors (connection, 5xx, 429)
  // A response larger than this is not read whole: the raw path splits its time range in two
  // and asks again (down to a minute); --max-response-bytes.
  uint64_t max_response_bytes = uint64_t{256} << 20;
  DurationMs retry_base_ms = 500;
};

// The raw path: every stored sample of mapping.metric in [from, to), exactly as the server holds
// it, read with one instant query of a range selector per chunk — `metric[CHUNK]` evaluated at
// the chunk's end — so no point is interpolated or repeated (query_range would repeat the last
// sample for its lookback after a series stops). Samples land in "out"; problems in "stats"
// (positions "prometheus[START]:SERIES"). Fails naming the URL on an error that retries do not
// cure, or when the server answers with status "error".
Result<void> FetchPrometheusRaw(const PrometheusQuery& query, const SeriesMapping& mapping,
                                TelemetryBuckets* out, SourceStats* stats, std::FILE* log);

// Server-side roll-ups (--rollup): the engine counts, per GPU and per bucket of "rollup_ms"
// (aligned to the epoch), the steps of "step_ms" at which the metric has a value and those at
// which it is below "threshold_pct", with PromQL subqueries:
//   count_over_time((M)[R:S])   and   sum_over_time((M < bool THRESHOLD)[R:S])
// evaluated 1 ms before each bucket's end, so each bucket owns exactly R/S steps. Each bucket
// becomes one span (TelemetryBuckets::AddSpan): monitored = count x S, below = below-count x S.
// How this differs from the raw path is in docs/sources/prometheus-and-dcgm.md. One
// query_range per expression per chunk of query.chunk_ms (rounded up to whole buckets).
struct RollupSpec {
  DurationMs rollup_ms = kMsPerHour;
  DurationMs step_ms = 30 * kMsPerSecond;  // the scrape interval, ideally
  double threshold_pct = 5;
};
Result<void> FetchPrometheusRollup(const PrometheusQuery& query, const RollupSpec& spec,
                                   const SeriesMapping& mapping, TelemetryBuckets* out,
                                   SourceStats* stats, std::FILE* log);

}  // namespace gpuledger
