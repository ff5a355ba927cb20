#include "core/time_zone.h"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <filesystem>

namespace gpuledger {
namespace {

// "+05:30", "-0800", "+02": a fixed offset in ms, or false.
bool ParseFixedOffset(std::string_view s, DurationMs* out) {
  if (s.size() < 3 || (s[0] != '+' && s[0] != '-')) return false;
  const int sign = s[0] == '-' ? -1 : 1;
  std::string digits;
  for (char c : s.substr(1)) {
    if (c == ':') continue;
    if (c < '0' || c > '9') return false;
    digits += c;
  }
  if (digits.size() != 2 && digits.size() != 4) return false;
  const int hours = std::stoi(digits.substr(0, 2));
  const int minutes = digits.size() == 4 ? std::stoi(digits.substr(2)) : 0;
  if (hours > 18 || minutes > 59) return false;
  *out = sign * (hours * kMsPerHour + minutes * kMsPerMinute);
  return true;
}

bool ZoneFileExists(std::string_view name) {
  if (name.find("..") != std::string_view::npos || name.starts_with("/")) return false;
  const char* dir = std::getenv("TZDIR");
  std::filesystem::path path = std::filesystem::path(dir ? dir : "/usr/share/zoneinfo") / name;
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

}  // namespace

Result<TimeZone> TimeZone::Parse(std::string_view name) {
  TimeZone zone;
  zone.name_ = std::string(name);
  if (name.empty() || name == "UTC" || name == "Z" || name == "utc" || name == "GMT") {
    zone.name_ = "UTC";
    return zone;
  }
  if (ParseFixedOffset(name, &zone.fixed_offset_ms_)) return zone;
  if (!ZoneFileExists(name)) {
    return MakeError(ErrorCode::kUsage, "unknown time zone '" + std::string(name) +
                                            "' (use UTC, an offset like +02:00, or an IANA "
                                            "name like Europe/Berlin)");
  }
  zone.kind_ = Kind::kSystem;
  setenv("TZ", (":" + zone.name_).c_str(), 1);
  tzset();
  return zone;
}

DurationMs TimeZone::OffsetAt(TimeMs utc) const {
  if (kind_ == Kind::kFixed) return fixed_offset_ms_;
  time_t seconds = static_cast<time_t>(utc >= 0 ? utc / 1000 : (utc - 999) / 1000);
  struct tm local {};
  if (localtime_r(&seconds, &local) == nullptr) return 0;
  return static_cast<DurationMs>(local.tm_gmtoff) * 1000;
}

TimeZone::Instants TimeZone::Resolve(TimeMs local) const {
  if (kind_ == Kind::kFixed) return {Instants::kOne, local - fixed_offset_ms_, 0};
  // Try the offsets in force a day either side of the reading; keep those that map back to it.
  const DurationMs before = OffsetAt(local - kMsPerDay);
  const DurationMs after = OffsetAt(local + kMsPerDay);
  const bool with_before = OffsetAt(local - before) == before;
  const bool with_after = before != after && OffsetAt(local - after) == after;
  if (with_before && with_after) {
    return {Instants::kTwo, std::min(local - before, local - after),
            std::max(local - before, local - after)};
  }
  if (with_before) return {Instants::kOne, local - before, 0};
  if (with_after) return {Instants::kOne, local - after, 0};
  return {Instants::kNone, local - before, 0};
}

TimeMs TimeZone::LocalToUtc(TimeMs local) const { return Resolve(local).first; }

}  // namespace gpuledger
