// Scanning text sixteen bytes at a time on the hot path of the telemetry readers: a line's
// fields (CSV without quotes), a byte's occurrences.
#pragma once

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <array>
#include <cstddef>
#include <string_view>

namespace gpuledger {

// Splits "line" at commas, storing the first "keep" fields (at most N) in "fields" and only
// counting the rest; returns the field count (N + 1 if more). The commas of 16 bytes are found
// at once (SSE2, which every x86-64 has): a row's fields are short, so a call to memchr per
// field cost more than the search.
template <size_t N>
size_t SplitFields(std::string_view line, std::array<std::string_view, N>* fields,
                   size_t keep = N) {
  size_t n = 0;
  const char* start = line.data();  // of the field being read
  const char* p = start;
  const char* end = p + line.size();
  auto comma_at = [&](const char* comma) {
    if (n < keep) (*fields)[n] = std::string_view(start, comma - start);
    ++n;
    start = comma + 1;
    return n < N;
  };
#if defined(__SSE2__)
  const __m128i commas = _mm_set1_epi8(',');
  for (; p + 16 <= end; p += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    for (unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, commas)));
         mask != 0; mask &= mask - 1) {
      if (!comma_at(p + __builtin_ctz(mask))) return N + 1;
    }
  }
#endif
  for (; p < end; ++p) {
    if (*p == ',' && !comma_at(p)) return N + 1;
  }
  if (n < keep) (*fields)[n] = std::string_view(start, end - start);
  return n + 1;
}

// How many times "c" occurs in "text" (a piece's lines, its quotes), sixteen bytes at a time.
inline size_t CountByte(std::string_view text, char c) {
  size_t n = 0;
  const char* p = text.data();
  const char* end = p + text.size();
#if defined(__SSE2__)
  const __m128i wanted = _mm_set1_epi8(c);
  for (; p + 16 <= end; p += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    n += static_cast<size_t>(__builtin_popcount(
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, wanted)))));
  }
#endif
  for (; p < end; ++p) n += *p == c;
  return n;
}

}  // namespace gpuledger
