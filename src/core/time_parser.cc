#include "core/time_parser.h"

#include <cstring>

namespace gpuledger {
namespace {

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly n digits at s[pos]; false if any is not a digit.
inline bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Fractional digits after a '.', rounded half up to milliseconds. Advances *pos.
bool Fraction(std::string_view s, size_t* pos, int64_t* ms) {
  size_t i = *pos;
  int64_t value = 0;
  int digits = 0;
  bool round_up = false;
  while (i < s.size() && IsDigit(s[i])) {
    if (digits < 3)
      value = value * 10 + (s[i] - '0');
    else if (digits == 3)
      round_up = s[i] >= '5';
    ++digits;
    ++i;
  }
  if (digits == 0) return false;
  for (int d = digits; d < 3; ++d) value *= 10;
  *ms = value + (round_up ? 1 : 0);
  *pos = i;
  return true;
}

// A zone suffix: "Z", "UTC", "+02:00", "-0800", "+02". Sets *offset_ms (local − UTC).
bool ZoneSuffix(std::string_view s, DurationMs* offset_ms) {
  if (s == "Z" || s == "z" || s == "UTC" || s == "GMT") return *offset_ms = 0, true;
  if (s.size() < 3 || (s[0] != '+' && s[0] != '-')) return false;
  int h = 0, m = 0;
  if (!Digits(s, 1, 2, &h)) return false;
  if (s.size() == 6 && s[3] == ':') {
    if (!Digits(s, 4, 2, &m)) return false;
  } else if (s.size() == 5) {
    if (!Digits(s, 3, 2, &m)) return false;
  } else if (s.size() != 3) {
    return false;
  }
  if (h > 18 || m > 59) return false;
  *offset_ms = (s[0] == '-' ? -1 : 1) * (h * kMsPerHour + m * kMsPerMinute);
  return true;
}

}  // namespace

bool TimeParser::Parse(std::string_view text, TimeMs* out) {
  ambiguous_ = false;
  failure_ = "bad_time";
  text = Trim(text);
  if (ParseKnownMinute(text, out)) return true;
  if (text.size() < 10 || (text[4] != '-' && text[4] != '/')) return ParseEpoch(text, out);
  if (!ParseCalendar(text, out)) return false;
  RememberMinute(text, *out);
  return true;
}

namespace {
// The fixed layouts of ParseKnownMinute: "YYYY-MM-DDTHH:MM:SS" (any date separator, 'T' or
// ' '), then ".mmm" or not, then 'Z' — or, on a UTC clock, no zone at all (nvidia-smi's
// "2025/01/01 00:00:00.034"), which reads the same there.
bool HasMinuteLayout(std::string_view s, bool utc) {
  if (s.size() < 19) return false;
  const bool z = s.back() == 'Z';
  const size_t n = s.size() - (z ? 1 : 0);
  return (z || utc) && (n == 19 || (n == 23 && s[19] == '.')) && s[13] == ':' && s[16] == ':' &&
         (s[10] == 'T' || s[10] == ' ');
}
}  // namespace

bool TimeParser::ParseKnownMinute(std::string_view s, TimeMs* out) const {
  if (known_minute_ms_ == kTimeMin || !HasMinuteLayout(s, zone_->is_utc()) ||
      std::memcmp(s.data(), known_minute_, sizeof known_minute_) != 0) {
    return false;
  }
  int sec = 0, ms = 0;
  if (!Digits(s, 17, 2, &sec) || sec > 59 || (s.size() >= 23 && !Digits(s, 20, 3, &ms))) {
    return false;
  }
  *out = known_minute_ms_ + sec * kMsPerSecond + ms;
  return true;
}

void TimeParser::RememberMinute(std::string_view s, TimeMs t) {
  if (!HasMinuteLayout(s, zone_->is_utc())) return;
  int sec = 0, ms = 0;
  if (!Digits(s, 17, 2, &sec) || (s.size() >= 23 && !Digits(s, 20, 3, &ms))) return;
  std::memcpy(known_minute_, s.data(), sizeof known_minute_);
  known_minute_ms_ = t - sec * kMsPerSecond - ms;
}

bool TimeParser::ParseEpoch(std::string_view s, TimeMs* out) const {
  if (s.empty() || s.size() > 24) return false;
  size_t i = 0;
  int64_t seconds = 0;
  // At most 11 digits (beyond year 5000 is no epoch-seconds reading): checked before the digit
  // is added, so a long run of digits cannot overflow.
  while (i < s.size() && IsDigit(s[i])) {
    if (i == 11) return false;
    seconds = seconds * 10 + (s[i++] - '0');
  }
  if (i == 0) return false;
  int64_t ms = 0;
  if (i < s.size()) {
    if (s[i] != '.') return false;
    ++i;
    if (!Fraction(s, &i, &ms) || i != s.size()) return false;
  }
  *out = seconds * 1000 + ms;
  return true;
}

int64_t TimeParser::DaysOf(std::string_view date, bool* ok) {
  if (have_cached_date_ && std::memcmp(cached_date_, date.data(), 10) == 0) return cached_days_;
  int y = 0, m = 0, d = 0;
  *ok = Digits(date, 0, 4, &y) && Digits(date, 5, 2, &m) && Digits(date, 8, 2, &d) &&
        date[7] == date[4] && y >= 1900 && m >= 1 && m <= 12 && d >= 1 && d <= DaysInMonth(y, m);
  if (!*ok) return 0;
  std::memcpy(cached_date_, date.data(), 10);
  cached_days_ = DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  have_cached_date_ = true;
  return cached_days_;
}

bool TimeParser::ParseCalendar(std::string_view s, TimeMs* out) {
  bool ok = true;
  const int64_t days = DaysOf(s.substr(0, 10), &ok);
  if (!ok) return false;
  int64_t ms_of_day = 0;
  size_t i = 10;
  if (i < s.size() && (s[i] == 'T' || s[i] == ' ') && i + 1 < s.size() && IsDigit(s[i + 1])) {
    int h = 0, m = 0, sec = 0;
    if (!Digits(s, i + 1, 2, &h) || s.size() < i + 6 || s[i + 3] != ':' ||
        !Digits(s, i + 4, 2, &m) || h > 23 || m > 59) {
      return false;
    }
    i += 6;
    int64_t frac_ms = 0;
    if (i < s.size() && s[i] == ':') {
      if (!Digits(s, i + 1, 2, &sec) || sec > 59) return false;
      i += 3;
      if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
        ++i;
        if (!Fraction(s, &i, &frac_ms)) return false;
      }
    }
    ms_of_day = h * kMsPerHour + m * kMsPerMinute + sec * kMsPerSecond + frac_ms;
  }
  const TimeMs local = days * kMsPerDay + ms_of_day;
  std::string_view rest = Trim(s.substr(i));
  if (rest.empty()) return LocalToUtc(local, out);
  DurationMs offset = 0;
  if (!ZoneSuffix(rest, &offset)) return false;
  *out = local - offset;
  return true;
}

bool TimeParser::LocalToUtc(TimeMs local, TimeMs* out) {
  if (zone_->is_utc()) return *out = local, true;
  const int64_t minute =
      local >= 0 ? local / kMsPerMinute : (local - kMsPerMinute + 1) / kMsPerMinute;
  const TimeMs start = minute * kMsPerMinute;
  if (minute != cached_minute_) {
    cached_minute_at_ = zone_->Resolve(start);  // zones change offset on whole minutes
    cached_minute_ = minute;
  }
  const TimeZone::Instants& at = cached_minute_at_;
  if (at.kind == TimeZone::Instants::kNone) return failure_ = "nonexistent_local_time", false;
  TimeMs utc = at.first + (local - start);
  if (at.kind == TimeZone::Instants::kTwo) {
    ambiguous_ = true;
    // The first pass, unless the stream is already past it: then the clock stepped back.
    if (last_local_utc_ != kTimeMin && last_local_utc_ > utc) utc = at.second + (local - start);
  }
  last_local_utc_ = utc;
  return *out = utc, true;
}

}  // namespace gpuledger
