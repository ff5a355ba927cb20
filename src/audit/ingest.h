// Reading one machine's telemetry into a sink: streamed once, or sorted when it goes backwards.
#pragma once

#include <atomic>
#include <functional>

#include "core/error.h"
#include "core/problems.h"
#include "model/telemetry_source.h"

namespace gpuledger {

// Streams "source" into the target make_target() returns. If a GPU's samples go backwards in
// time, calls make_target() again for a fresh target, holds and sorts every sample of the
// machine, replays them into it, and notes out_of_order (and duplicate_time) in "stats", which
// then describes the second reading alone. The caller owns the targets.
Result<void> IngestTelemetry(const TelemetrySource& source,
                             const std::function<GpuSampleTarget*()>& make_target,
                             SourceStats* stats, std::atomic<uint64_t>* bytes_read);

// Fails (kParse) when telemetry was given ("files": what was listed, empty for a server) but
// "stats" accepted no sample: the message names the files and the main rejection reason, or
// says the inputs hold no data rows. "given" false (no telemetry flag, e.g. a bill alone) passes.
Result<void> RequireAcceptedSamples(bool given, const std::vector<std::string>& files,
                                    const SourceStats& stats);

}  // namespace gpuledger
