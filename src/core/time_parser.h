// Fast timestamp parsing for the telemetry hot path.
#pragma once

#include <string_view>

#include "core/time.h"
#include "core/time_zone.h"

namespace gpuledger {

// Reads the timestamps gpuledger accepts anywhere a time is read:
//   - nvidia-smi "2024/03/01 12:00:00.123" and ISO-like "2024-03-01 12:00:00" / "…T12:00:00",
//     optionally with fractional seconds and a zone suffix ("Z", "+02:00", "-0800", " UTC");
//     a date alone ("2024-03-01") is midnight;
//   - Unix epoch seconds, integer or fractional ("1764189075", "1764189075.25").
// Zone-less readings are local to the parser's zone. Precision is the millisecond: further
// fractional digits round half up. Surrounding spaces are ignored.
// A TimeParser caches the last date and zone offset, so keep one per thread and reuse it.
class TimeParser {
 public:
  // "zone" must outlive the parser.
  explicit TimeParser(const TimeZone* zone) : zone_(zone) {}

  // True and *out set when "text" is a time we accept; false otherwise.
  bool Parse(std::string_view text, TimeMs* out);

 private:
  bool ParseEpoch(std::string_view text, TimeMs* out) const;
  bool ParseCalendar(std::string_view text, TimeMs* out);
  int64_t DaysOf(std::string_view date, bool* ok);
  TimeMs LocalToUtc(TimeMs local);

  const TimeZone* zone_;
  char cached_date_[10] = {};
  int64_t cached_days_ = 0;
  bool have_cached_date_ = false;
  int64_t cached_minute_ = kTimeMin;
  DurationMs cached_offset_ms_ = 0;
};

}  // namespace gpuledger
