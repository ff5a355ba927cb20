#include "core/time.h"

#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cstdio>

namespace gpuledger {

// Howard Hinnant's days_from_civil: exact for every proleptic Gregorian date.
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(year - era * 400);
  const unsigned doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

namespace {

struct Civil {
  int64_t year;
  unsigned month, day;
};

Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int64_t>(yoe) + era * 400 + (month <= 2), month, day};
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

std::string FormatNvidiaSmiTime(TimeMs t) {
  std::string iso = FormatIsoUtc(t);  // 2025-01-01T00:05:00.000Z
  iso[4] = iso[7] = '/';
  iso[10] = ' ';
  iso.pop_back();
  return iso;
}

std::string FormatIsoUtc(TimeMs t) {
  if (t <= kTimeMin) return "-inf";
  if (t >= kTimeMax) return "+inf";
  const int64_t days = FloorDiv(t, kMsPerDay);
  const int64_t ms_of_day = t - days * kMsPerDay;
  const Civil c = CivilFromDays(days);
  char buf[40];
  std::snprintf(
      buf, sizeof buf, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02d.%03dZ", c.year, c.month, c.day,
      static_cast<int>(ms_of_day / kMsPerHour), static_cast<int>(ms_of_day / kMsPerMinute % 60),
      static_cast<int>(ms_of_day / kMsPerSecond % 60), static_cast<int>(ms_of_day % 1000));
  return buf;
}

std::string FormatDay(int64_t day) {
  const Civil c = CivilFromDays(day);
  char buf[24];
  std::snprintf(buf, sizeof buf, "%04" PRId64 "-%02u-%02u", c.year, c.month, c.day);
  return buf;
}

Result<DurationMs> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return MakeError(ErrorCode::kUsage,
                     "'" + std::string(text) + "' is not a duration (use e.g. 90s, 5m, 1h30m)");
  };
  if (text.empty()) return bad();
  DurationMs total = 0;
  size_t i = 0;
  while (i < text.size()) {
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), value);
    if (ec != std::errc() || value < 0) return bad();
    i = static_cast<size_t>(end - text.data());
    std::string_view rest = text.substr(i);
    DurationMs unit = 0;
    size_t unit_len = 0;
    if (rest.starts_with("ms"))
      unit = 1, unit_len = 2;
    else if (rest.starts_with("s"))
      unit = kMsPerSecond, unit_len = 1;
    else if (rest.starts_with("m"))
      unit = kMsPerMinute, unit_len = 1;
    else if (rest.starts_with("h"))
      unit = kMsPerHour, unit_len = 1;
    else if (rest.starts_with("d"))
      unit = kMsPerDay, unit_len = 1;
    else if (rest.empty() && i == static_cast<size_t>(end - text.data()) && total == 0)
      unit = kMsPerSecond;  // a bare number means seconds
    else
      return bad();
    if (value > kTimeMax / unit) return bad();
    total += value * unit;
    i += unit_len;
  }
  return total;
}

std::string FormatDuration(DurationMs d) {
  if (d == 0) return "0s";
  std::string out;
  const struct {
    DurationMs unit;
    const char* name;
  } units[] = {
      {kMsPerDay, "d"}, {kMsPerHour, "h"}, {kMsPerMinute, "m"}, {kMsPerSecond, "s"}, {1, "ms"}};
  for (const auto& u : units) {
    if (d >= u.unit) {
      out += std::to_string(d / u.unit) + u.name;
      d %= u.unit;
    }
  }
  return out;
}

TimeMs WallNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace gpuledger
