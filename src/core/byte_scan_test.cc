#include "core/byte_scan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace gpuledger {
namespace {

size_t NaiveCount(std::string_view text, char c) {
  size_t n = 0;
  for (char b : text) n += b == c;
  return n;
}

// Every lane may match in every one of more than 255 rounds of 16 bytes: a count kept in a
// byte lane past 255 would wrap.
TEST(ByteScan, CountByteCountsLongRunsOfTheByte) {
  for (size_t size : {0, 1, 15, 16, 17, 4079, 4080, 4081, 4096, 100000}) {
    const std::string all(size, '\n');
    EXPECT_EQ(CountByte(all, '\n'), size) << size;
    EXPECT_EQ(CountByte(all, '"'), 0u) << size;
  }
}

TEST(ByteScan, CountByteEqualsANaiveLoopAtEveryOffset) {
  std::mt19937 rng(7);
  std::string text(20000, 'a');
  for (char& c : text) c = "\n\",a\xff"[rng() % 5];
  for (size_t from = 0; from < 40; ++from) {
    for (size_t size : {0, 5, 16, 33, 4095, 8191, 19000}) {
      const std::string_view part = std::string_view(text).substr(from, size);
      for (char c : {'\n', '"', ',', '\xff'}) {
        ASSERT_EQ(CountByte(part, c), NaiveCount(part, c)) << from << " " << size;
      }
    }
  }
}

TEST(ByteScan, SplitFieldsKeepsTheFirstFieldsAndCountsTheRest) {
  std::array<std::string_view, 4> f;
  EXPECT_EQ(SplitFields("a,bb,,dddd", &f), 4u);
  EXPECT_EQ(f[0], "a");
  EXPECT_EQ(f[1], "bb");
  EXPECT_EQ(f[2], "");
  EXPECT_EQ(f[3], "dddd");
  EXPECT_EQ(SplitFields("1,2,3,4,5", &f), 5u);  // more than N: N + 1
  const std::string wide = "2025-01-01T00:00:00.034Z,node-000,7,100,81920,extra";
  EXPECT_EQ(SplitFields(wide, &f, 2), 5u);  // past N fields: N + 1
  EXPECT_EQ(f[0], "2025-01-01T00:00:00.034Z");
  EXPECT_EQ(f[1], "node-000");
}

// SplitLine against a naive split of the text up to its first newline, over random text of
// commas, newlines and '\r', from every start and to many ends (lines longer and shorter than
// 16 bytes, a newline at each position of a 16-byte block).
TEST(ByteScan, SplitLineEqualsANaiveSplit) {
  std::mt19937 rng(11);
  std::string text(3000, 'x');
  for (char& c : text) {  // lines of about 40 bytes, some with a '\r'
    const unsigned roll = rng() % 120;
    c = roll < 3 ? '\n' : roll < 5 ? '\r' : roll < 30 ? ',' : 'x';
  }
  for (size_t from = 0; from < 300; ++from) {
    for (size_t to : {from, from + 1, from + 15, from + 16, from + 17, from + 40, size_t{3000}}) {
      const std::string_view rest = std::string_view(text).substr(from, to - from);
      const std::string_view line = rest.substr(0, std::min(rest.find('\n'), rest.size()));
      std::vector<std::string_view> want;
      for (size_t start = 0;;) {
        const size_t comma = line.find(',', start);
        want.push_back(line.substr(start, comma == std::string_view::npos ? comma : comma - start));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
      }
      std::array<std::string_view, 5> f;
      const char* eol = nullptr;
      bool cr = false;
      const size_t n = SplitLine(rest.data(), rest.data() + rest.size(), &f, &eol, &cr);
      ASSERT_EQ(n, want.size()) << from << " " << to;
      ASSERT_EQ(eol, line.data() + line.size()) << from << " " << to;
      ASSERT_EQ(cr, line.find('\r') != std::string_view::npos) << from << " " << to;
      for (size_t k = 0; k < std::min(n, f.size()); ++k) ASSERT_EQ(f[k], want[k]) << k;
    }
  }
}

}  // namespace
}  // namespace gpuledger
