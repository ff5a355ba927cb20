// JSON of what the inputs yielded ("input" in every gpuledger JSON document).
#pragma once

#include "core/json_writer.h"
#include "core/problems.h"
#include "core/time.h"

namespace gpuledger {

// {"files", "rows_read", "rows_accepted", "rows_rejected", "rejected": {reason: {"count",
// "first", "detail"}}, "notes": {…}}
void WriteSourceStats(JsonWriter& w, const SourceStats& stats);

// "input": {"telemetry": …, "inventory": …, "jobs": …}, each as WriteSourceStats.
void WriteInputSection(JsonWriter& w, const SourceStats& telemetry, const SourceStats& inventory,
                       const SourceStats& jobs);

// A time as ISO-8601 UTC with milliseconds, or null for an open end.
void WriteTime(JsonWriter& w, TimeMs t);

}  // namespace gpuledger
