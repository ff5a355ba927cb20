// Instants and durations. An instant is milliseconds since the Unix epoch, UTC.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "core/error.h"

namespace gpuledger {

using TimeMs = int64_t;
using DurationMs = int64_t;

// Sentinels for open-ended intervals. Far enough from the int64 limits that adding a
// duration of a few years to them cannot overflow.
inline constexpr TimeMs kTimeMin = std::numeric_limits<int64_t>::min() / 4;
inline constexpr TimeMs kTimeMax = std::numeric_limits<int64_t>::max() / 4;

inline constexpr DurationMs kMsPerSecond = 1000;
inline constexpr DurationMs kMsPerMinute = 60 * kMsPerSecond;
inline constexpr DurationMs kMsPerHour = 60 * kMsPerMinute;
inline constexpr DurationMs kMsPerDay = 24 * kMsPerHour;

// The UTC day of an instant: days since 1970-01-01 (negative before it).
// Times a reading may carry: years 0 to 9999 (the TimeParser's forms stay inside it; numbers in
// exports may not, and must be rejected before they reach arithmetic on times).
inline constexpr TimeMs kLatestPlausibleMs = 253402300800000;  // 10000-01-01T00:00:00Z
inline bool IsPlausibleTime(TimeMs t) { return t > -62167219200000 && t < kLatestPlausibleMs; }

// The wall clock, ms since the epoch.
TimeMs WallNow();

inline int64_t DayOf(TimeMs t) { return t >= 0 ? t / kMsPerDay : -((-t - 1) / kMsPerDay) - 1; }

// "2025-03-01": the date of a day since 1970-01-01.
std::string FormatDay(int64_t day);

// Days since 1970-01-01 of a proleptic Gregorian date (month 1-12, day 1-31).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);

// "2024-03-01T12:00:00.000Z". Open-ended sentinels print as "-inf" / "+inf".
std::string FormatIsoUtc(TimeMs t);

// "2025/01/01 00:05:00.000": how nvidia-smi writes a timestamp (read back as UTC).
std::string FormatNvidiaSmiTime(TimeMs t);

// Parses "20m", "1h30m", "90s", "250ms", "2d", or a bare number of seconds ("300").
Result<DurationMs> ParseDuration(std::string_view text);

// "1h30m", "5m", "0s": the shortest exact spelling of a duration.
std::string FormatDuration(DurationMs d);

}  // namespace gpuledger
