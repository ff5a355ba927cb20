// The zone in which zone-less timestamps (nvidia-smi's "YYYY/MM/DD HH:MM:SS.mmm") are read.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "core/time.h"

namespace gpuledger {

class TimeZone {
 public:
  static TimeZone Utc() { return TimeZone(); }

  // "UTC", "Z", a fixed offset ("+05:30", "-0800"), or an IANA name ("Europe/Berlin") found
  // under /usr/share/zoneinfo (or $TZDIR). An IANA zone becomes the process's libc zone (TZ),
  // so call this once at start-up, before threads start; one IANA zone per process.
  static Result<TimeZone> Parse(std::string_view name);

  bool is_utc() const { return kind_ == Kind::kFixed && fixed_offset_ms_ == 0; }
  const std::string& name() const { return name_; }

  // Offset (local minus UTC) in force at a UTC instant.
  DurationMs OffsetAt(TimeMs utc) const;

  // The UTC instants a local wall-clock reading ("ms since epoch as if UTC") may stand for.
  struct Instants {
    enum Kind { kOne, kTwo, kNone } kind = kOne;
    TimeMs first = 0;   // kOne: the instant; kTwo: the earlier (the offset before the change)
    TimeMs second = 0;  // kTwo: the later, an hour (the change) after "first"
  };
  // kTwo for a reading in the hour that happens twice when clocks are set back; kNone for one
  // in the gap when they are set forward (such a time never happened).
  Instants Resolve(TimeMs local) const;

  // The UTC instant of a local wall-clock reading out of context: a repeated reading takes the
  // earlier instant, a skipped one the offset before the change. Streams use TimeParser, which
  // resolves a repeated hour by the stream's order and refuses skipped times.
  TimeMs LocalToUtc(TimeMs local) const;

 private:
  enum class Kind { kFixed, kSystem };
  TimeZone() = default;

  Kind kind_ = Kind::kFixed;
  DurationMs fixed_offset_ms_ = 0;
  std::string name_ = "UTC";
};

}  // namespace gpuledger
