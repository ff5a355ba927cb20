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

}  // namespace gpuledger
