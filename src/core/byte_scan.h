// Scanning text sixteen bytes at a time on the hot path of the telemetry readers: a line's
// fields (CSV without quotes), a byte's occurrences.
#pragma once

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
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

// Splits the line that starts at "p" at commas as SplitFields does (the first N fields
// stored), the line ending at the first '\n' before "end", or at "end"; sets *eol there and
// *cr when the line holds a '\r' anywhere. One scan finds commas, newline and '\r' together.
// Returns the line's field count, however many.
template <size_t N>
size_t SplitLine(const char* p, const char* end, std::array<std::string_view, N>* fields,
                 const char** eol, bool* cr) {
  size_t n = 0;
  const char* start = p;  // of the field being read
  auto comma_at = [&](const char* comma) {
    if (n < N) (*fields)[n] = std::string_view(start, comma - start);
    ++n;
    start = comma + 1;
  };
  unsigned crs = 0;
#if defined(__SSE2__)
  const __m128i commas = _mm_set1_epi8(','), newlines = _mm_set1_epi8('\n'),
                returns = _mm_set1_epi8('\r');
  for (; p + 16 <= end; p += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, commas)));
    const unsigned nl = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, newlines)));
    unsigned r = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, returns)));
    if (nl != 0) {  // the line ends in these 16 bytes: only what comes before counts
      const unsigned before = (1u << __builtin_ctz(nl)) - 1;
      mask &= before, r &= before;
    }
    crs |= r;
    for (; mask != 0; mask &= mask - 1) comma_at(p + __builtin_ctz(mask));
    if (nl != 0) {
      p += __builtin_ctz(nl);
      break;
    }
  }
#endif
  for (; p < end && *p != '\n'; ++p) {
    if (*p == ',') comma_at(p);
    crs |= *p == '\r';
  }
  if (n < N) (*fields)[n] = std::string_view(start, p - start);
  *eol = p;
  *cr = crs != 0;
  return n + 1;
}

// How many times "c" occurs in "text" (a piece's lines, its quotes), sixteen bytes at a time:
// each match subtracts -1 from its byte lane, and the lanes are summed (SAD) before any can
// pass 255. No popcount: without -mpopcnt it is a libgcc call per 16 bytes.
inline size_t CountByte(std::string_view text, char c) {
  size_t n = 0;
  const char* p = text.data();
  const char* end = p + text.size();
#if defined(__SSE2__)
  const __m128i wanted = _mm_set1_epi8(c);
  const __m128i zero = _mm_setzero_si128();
  while (end - p >= 16) {
    __m128i lanes = zero;  // per byte lane: matches so far in this round (at most 255)
    const char* round_end = p + std::min<size_t>((end - p) / 16, 255) * 16;
    for (; p < round_end; p += 16) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      lanes = _mm_sub_epi8(lanes, _mm_cmpeq_epi8(bytes, wanted));
    }
    const __m128i sums = _mm_sad_epu8(lanes, zero);  // two 64-bit sums of eight lanes each
    n += static_cast<size_t>(_mm_cvtsi128_si64(sums)) +
         static_cast<size_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums)));
  }
#endif
  for (; p < end; ++p) n += *p == c;
  return n;
}

}  // namespace gpuledger
