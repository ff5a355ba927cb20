// Decimal numbers as telemetry writes them ("45", "12.5", "1735689600.123"), parsed fast and
// exactly as std::from_chars parses them. With at most 15 significant digits the digits form an
// exact integer and 10^k is exact, so one division gives the correctly rounded double that
// from_chars gives; anything else (exponents, more digits, "inf") goes to from_chars itself.
#pragma once

#include <charconv>
#include <cstdint>
#include <string_view>

namespace gpuledger {

// A whole decimal number, or false.
inline bool ParseDecimal(std::string_view text, double* out) {
  static constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  const char* p = text.data();
  const char* end = p + text.size();
  const bool negative = p < end && *p == '-';
  if (negative) ++p;
  uint64_t digits = 0;
  int count = 0, fraction = -1;
  for (; p < end; ++p) {
    if (*p >= '0' && *p <= '9') {
      digits = digits * 10 + static_cast<uint64_t>(*p - '0');
      ++count;
      if (fraction >= 0) ++fraction;
    } else if (*p == '.' && fraction < 0) {
      fraction = 0;
    } else {
      break;
    }
  }
  if (p == end && count > 0 && count <= 15 && fraction != 0) {
    double v = static_cast<double>(digits);
    if (fraction > 0) v /= kPow10[fraction];
    *out = negative ? -v : v;
    return true;
  }
  auto [stop, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && stop == end && !text.empty();
}

}  // namespace gpuledger
