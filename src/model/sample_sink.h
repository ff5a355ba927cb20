// Where telemetry readers put GPU samples.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/time.h"

namespace gpuledger {

enum class SampleVerdict {
  kAccepted,
  kDuplicate,       // same instant as the GPU's previous sample: it replaces that one
  kUnknownGpu,      // the machine has no GPU with this index
  kUnknownMachine,  // the machine is not part of the audit
  kOutOfOrder,      // earlier than the GPU's previous sample: the reader must stop
  kNeedsSamples,    // a roll-up span came to a sink that works on raw samples only
};

// A sample's GPU memory in use when the source does not say (NaN).
inline constexpr double kNoMemory = NAN;

// Receives one machine's valid samples in read order.
class SampleSink {
 public:
  virtual ~SampleSink() = default;
  // "util_pct" is a valid utilisation in [0, 100]; "order" is the row's InputOrder;
  // "memory_mib" the GPU memory in use at that instant, kNoMemory when unknown.
  virtual SampleVerdict Add(int gpu, TimeMs t, double util_pct, uint64_t order,
                            double memory_mib) = 0;

  // A server-side roll-up (--rollup): [from, to) of one GPU holds below_ms and above_ms of
  // monitored time, where inside it is not known. A GPU's spans come in time order, do not
  // overlap, and never mix with samples. Sinks that need raw samples refuse them (the default).
  virtual SampleVerdict AddSpan(int /*gpu*/, TimeMs /*from*/, TimeMs /*to*/,
                                DurationMs /*below_ms*/, DurationMs /*above_ms*/,
                                uint64_t /*order*/) {
    return SampleVerdict::kNeedsSamples;
  }
};

// A sink that can tell which GPU indices it takes, so a reader that holds samples back (to sort
// them) can refuse unknown GPUs while reading.
class GpuSampleTarget : public SampleSink {
 public:
  virtual bool KnowsGpu(int gpu) const = 0;
};

// What one machine's telemetry is streamed into by the fleet loader (audit/fleet_ingest.h): the
// audit's MachineAudit and the backtest's GpuStateRecorder.
class MachineSink : public GpuSampleTarget {
 public:
  // Called once, after the last sample.
  virtual void Finish() = 0;
  // The usual time between two samples of a GPU (the largest over its GPUs); 0 when unknown.
  virtual DurationMs TypicalIntervalMs() const = 0;
};

}  // namespace gpuledger
