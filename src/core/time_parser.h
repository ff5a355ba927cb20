// Fast timestamp parsing for the telemetry hot path.
#pragma once

#include <string_view>

#include "core/time.h"
#include "core/time_zone.h"

namespace gpuledger {

// The note readers give a zone-less time of a repeated hour (TimeParser::ambiguous()).
inline constexpr const char* kAmbiguousLocalTime = "ambiguous_local_time";

// Reads the timestamps gpuledger accepts anywhere a time is read:
//   - nvidia-smi "2024/03/01 12:00:00.123" and ISO-like "2024-03-01 12:00:00" / "…T12:00:00",
//     optionally with fractional seconds and a zone suffix ("Z", "+02:00", "-0800", " UTC");
//     a date alone ("2024-03-01") is midnight;
//   - Unix epoch seconds, integer or fractional ("1764189075", "1764189075.25").
// Zone-less readings are local to the parser's zone. Precision is the millisecond: further
// fractional digits round half up. Surrounding spaces are ignored.
// A TimeParser caches the last date and zone offset, so keep one per thread and reuse it.
//
// Daylight saving: a parser reads one stream, in its order. A zone-less reading in the hour
// that happens twice (clocks set back) is the first pass's instant unless the stream has
// already gone past it — a local time that steps back across the change is the second pass
// (the later offset); ambiguous() says so for the reading just parsed. A reading in the gap
// when clocks are set forward never happened: Parse fails with failure() "nonexistent_local_time".
class TimeParser {
 public:
  // "zone" must outlive the parser.
  explicit TimeParser(const TimeZone* zone) : zone_(zone) {}

  // True and *out set when "text" is a time we accept; false otherwise.
  bool Parse(std::string_view text, TimeMs* out);

  // Whether the last successful Parse read a local time of a repeated hour.
  bool ambiguous() const { return ambiguous_; }
  // Why the last Parse failed: "bad_time", or "nonexistent_local_time" (a skipped local time).
  const char* failure() const { return failure_; }

 private:
  bool ParseEpoch(std::string_view text, TimeMs* out) const;
  bool ParseCalendar(std::string_view text, TimeMs* out);
  // "YYYY-MM-DDTHH:MM:SS[.mmm]Z" (the layout exporters write; on a UTC clock also without the
  // 'Z', as nvidia-smi writes) of the minute the last such time was in: only its seconds and
  // milliseconds are read. False for any other text.
  bool ParseKnownMinute(std::string_view text, TimeMs* out) const;
  // After ParseCalendar read "text" as *out: remembers its minute when it has that layout.
  void RememberMinute(std::string_view text, TimeMs t);
  int64_t DaysOf(std::string_view date, bool* ok);
  bool LocalToUtc(TimeMs local, TimeMs* out);

  const TimeZone* zone_;
  char cached_date_[10] = {};
  int64_t cached_days_ = 0;
  bool have_cached_date_ = false;
  int64_t cached_minute_ = kTimeMin;
  TimeZone::Instants cached_minute_at_;  // the minute's start, resolved
  char known_minute_[16] = {};           // "YYYY-MM-DDTHH:MM" of ParseKnownMinute, if any
  TimeMs known_minute_ms_ = kTimeMin;    // its instant (kTimeMin: none yet)
  TimeMs last_local_utc_ = kTimeMin;     // the last zone-less reading's instant
  bool ambiguous_ = false;
  const char* failure_ = "bad_time";
};

}  // namespace gpuledger
