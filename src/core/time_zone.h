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

  // The UTC instant of a local wall-clock reading expressed as "ms since epoch as if UTC".
  // A reading that occurs twice (clocks set back) takes the earlier offset in force; one
  // that never occurs (clocks set forward) is read with the offset before the change.
  TimeMs LocalToUtc(TimeMs local) const;

 private:
  enum class Kind { kFixed, kSystem };
  TimeZone() = default;

  Kind kind_ = Kind::kFixed;
  DurationMs fixed_offset_ms_ = 0;
  std::string name_ = "UTC";
};

}  // namespace gpuledger
