#include "core/time.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "core/time_parser.h"
#include "core/time_zone.h"

namespace gpuledger {
namespace {

TimeMs P(std::string_view s, const TimeZone& zone = TimeZone::Utc()) {
  TimeParser parser(&zone);
  TimeMs t = 0;
  EXPECT_TRUE(parser.Parse(s, &t)) << s;
  return t;
}

bool Rejects(std::string_view s) {
  const TimeZone utc = TimeZone::Utc();
  TimeParser parser(&utc);
  TimeMs t = 0;
  return !parser.Parse(s, &t);
}

TEST(TimeParser, RejectsWhatIsNoTime) {
  for (const char* s :
       {"", "yesterday", "2023-13-01", "2023-02-29", "2023/06/22 24:00:00", "2023-06-22T12:60",
        "2023-06-22 12:00:61", "2023-06-22T12:00:00+25:00", "2023-06/22", "1764189075123",
        "17641.89.075", "-5", "2023-06-22 12", "2023-06-22T12:00:00 PST", "0x10",
        // 24 digits: once overflowed int64 while being read (UBSan), now refused at the 12th.
        "999999999999999999999999", "99999999999999999999.5"}) {
    EXPECT_TRUE(Rejects(s)) << s;
  }
}

TEST(TimeParser, NvidiaSmiAndIsoForms) {
  EXPECT_EQ(P("2023/06/22 18:53:36.635"), 1687460016635);
  EXPECT_EQ(P("2023-06-22T18:53:36.635Z"), 1687460016635);
  EXPECT_EQ(P("2023-06-22 18:53:36"), 1687460016000);
  EXPECT_EQ(P("2023-06-22T20:53:36.635+02:00"), 1687460016635);
  EXPECT_EQ(P("2023-06-22T10:53:36.635-0800"), 1687460016635);
  EXPECT_EQ(P("  2023-06-22T18:53Z "), 1687459980000);
  EXPECT_EQ(P("2023-06-22"), 1687392000000);
  EXPECT_EQ(P("2024-02-29T00:00:00 UTC"), 1709164800000);
}

// One parser reading many times takes the known-minute path; a fresh parser per time never
// does. Both must agree on every time, and refuse the same ones.
// One parser reading many times takes the known-minute path; a fresh parser per time never
// does. Both must agree on every time, and refuse the same ones, on a UTC clock and on one
// where a zone-less time is not UTC (it must not reuse a minute learnt from a 'Z' time).
TEST(TimeParser, AKnownMinuteReadsAsAFreshParserDoes) {
  std::vector<std::string> times = {
      "2025-01-01T00:00:00.034Z", "2025-01-01T00:00:59.999Z", "2025-01-01T00:00:07Z",
      "2025-01-01T00:00:60.000Z",  // a leap second: refused, minute known or not
      "2025-01-01T00:00:5x.000Z", "2025-01-01T00:00:05,500Z", "2025-01-01T00:00:05.5Z",
      "2025-01-01T00:00:06.000",  "2025-01-01T00:00:06",      "2025-01-01T00:00:61",
      "2025-01-01T00:01:00.000Z", "2025-01-02T00:01:00.000Z", "2024-12-31T23:59:30.001Z",
      "2025-01-01T00:01:00.000z", "2025-01-01 00:01:00.000Z", "2025-01-01T00:01:00.000+01:00",
      "2025-01-01T00:01:17.25aZ", "2025-01-01T00:01:17.250Z", "2025/01/01 00:01:17.250",
      "2025/01/01 00:01:18.251",  "2025/01/01 00:01:19",      "2025/01/01 00:01:1.250",
      "2025/01/01 00:01:19.25 "};
  for (int day = 1; day <= 28; day += 9) {
    for (int minute = 0; minute < 120; minute += 37) {
      for (int ms : {0, 1, 999, 59999}) {
        char text[32];
        std::snprintf(text, sizeof text, "2025-02-%02dT%02d:%02d:%02d.%03dZ", day, minute / 60,
                      minute % 60, ms / 1000, ms % 1000);
        times.push_back(text);
        std::snprintf(text, sizeof text, "2025/02/%02d %02d:%02d:%02d.%03d", day, minute / 60,
                      minute % 60, ms / 1000, ms % 1000);
        times.push_back(text);
      }
    }
  }
  for (const std::string zone_name : {"UTC", "+02:00"}) {
    const TimeZone zone = *TimeZone::Parse(zone_name);
    TimeParser reused(&zone);
    for (const std::string& text : times) {
      TimeParser fresh(&zone);
      TimeMs want = -1, got = -1;
      const bool fresh_ok = fresh.Parse(text, &want);
      ASSERT_EQ(reused.Parse(text, &got), fresh_ok) << text << " " << zone_name;
      if (fresh_ok) {
        EXPECT_EQ(got, want) << text << " " << zone_name;
      }
    }
  }
  const TimeZone utc = TimeZone::Utc();
  TimeParser reused(&utc);
  TimeMs t = 0;  // the minute is 00:01 of 2025-01-01, then a time of another day
  ASSERT_TRUE(reused.Parse("2025-01-01T00:01:00.000Z", &t));
  ASSERT_TRUE(reused.Parse("2025-01-02T00:01:02.003Z", &t));
  EXPECT_EQ(t, 1735776062003);  // worked out: 2025-01-02 is day 20090 since 1970
  EXPECT_FALSE(reused.Parse("2025-01-02T00:01:61.000Z", &t));
  ASSERT_TRUE(reused.Parse("2025/01/02 00:01:02.004", &t));  // nvidia-smi's, on a UTC clock
  EXPECT_EQ(t, 1735776062004);
}

TEST(TimeParser, EpochSecondsWholeAndFractional) {
  EXPECT_EQ(P("1764189075"), 1764189075000);
  EXPECT_EQ(P("1764189075.25"), 1764189075250);
  EXPECT_EQ(P("0"), 0);
}

TEST(TimeParser, MillisecondPrecisionRoundsHalfUp) {
  EXPECT_EQ(P("1764189075.1234"), 1764189075123);
  EXPECT_EQ(P("1764189075.1235"), 1764189075124);
  EXPECT_EQ(P("2023-06-22T18:53:36.9999Z"), 1687460017000);
}

TEST(TimeParser, ZoneLessTimesUseTheGivenZone) {
  auto plus2 = TimeZone::Parse("+02:00");
  ASSERT_TRUE(plus2);
  EXPECT_EQ(P("2023/06/22 20:53:36.635", *plus2), 1687460016635);
  // An explicit suffix wins over the zone.
  EXPECT_EQ(P("2023-06-22T18:53:36.635Z", *plus2), 1687460016635);
  // Epoch seconds have no zone.
  EXPECT_EQ(P("1764189075", *plus2), 1764189075000);
}

TEST(TimeZone, IanaZonesFollowDaylightSaving) {
  auto berlin = TimeZone::Parse("Europe/Berlin");
  ASSERT_TRUE(berlin) << berlin.error().ToString();
  EXPECT_EQ(P("2023-01-15 12:00:00", *berlin), P("2023-01-15T11:00:00Z"));  // CET
  EXPECT_EQ(P("2023-07-15 12:00:00", *berlin), P("2023-07-15T10:00:00Z"));  // CEST
  EXPECT_FALSE(TimeZone::Parse("Mars/Olympus_Mons"));
  EXPECT_FALSE(TimeZone::Parse("../etc/passwd"));
}

// Europe/Berlin, 2024-10-27: 03:00 CEST becomes 02:00 CET at 01:00Z, so 02:00–02:59 local
// happens twice. A stream read in order takes the first pass until the clock steps back, then
// the second; 2024-03-31 02:00–02:59 local never happened.
TEST(TimeParser, ARepeatedHourFollowsTheStreamAndASkippedOneIsRefused) {
  auto berlin = TimeZone::Parse("Europe/Berlin");
  ASSERT_TRUE(berlin) << berlin.error().ToString();
  TimeParser parser(&*berlin);
  const TimeMs start = P("2024-10-26T23:00:00Z");  // 01:00 CEST
  int ambiguous = 0;
  for (int i = 0; i < 240; ++i) {
    const TimeMs want = start + i * kMsPerMinute;
    // The wall clock, by a naive rule: +2 h before 01:00Z, +1 h from then on.
    const TimeMs wall = want + (want < P("2024-10-27T01:00:00Z") ? 2 : 1) * kMsPerHour;
    std::string text = FormatIsoUtc(wall).substr(0, 19);
    TimeMs got = 0;
    ASSERT_TRUE(parser.Parse(text, &got)) << text;
    EXPECT_EQ(got, want) << text;
    ambiguous += parser.ambiguous();
  }
  EXPECT_EQ(ambiguous, 120);  // 02:00–02:59, twice
  // Out of context, the first pass.
  EXPECT_EQ(berlin->LocalToUtc(P("2024-10-27T02:30:00Z")), P("2024-10-27T00:30:00Z"));
  TimeMs got = 0;
  TimeParser spring(&*berlin);
  EXPECT_TRUE(spring.Parse("2024-03-31 01:59:00", &got));
  EXPECT_FALSE(spring.Parse("2024-03-31 02:30:00", &got));
  EXPECT_STREQ(spring.failure(), "nonexistent_local_time");
  EXPECT_TRUE(spring.Parse("2024-03-31 03:00:00", &got));
  EXPECT_EQ(got, P("2024-03-31T01:00:00Z"));
  EXPECT_FALSE(spring.Parse("2024-03-31 25:00:00", &got));
  EXPECT_STREQ(spring.failure(), "bad_time");
}

TEST(Duration, ParsesUnitsAndBareSeconds) {
  EXPECT_EQ(*ParseDuration("5m"), 5 * kMsPerMinute);
  EXPECT_EQ(*ParseDuration("1h30m"), 90 * kMsPerMinute);
  EXPECT_EQ(*ParseDuration("90s"), 90 * kMsPerSecond);
  EXPECT_EQ(*ParseDuration("250ms"), 250);
  EXPECT_EQ(*ParseDuration("2d"), 2 * kMsPerDay);
  EXPECT_EQ(*ParseDuration("300"), 300 * kMsPerSecond);
  for (const char* bad : {"", "m", "5x", "-5m", "5m3", "1.5h"})
    EXPECT_FALSE(ParseDuration(bad)) << bad;
  EXPECT_EQ(FormatDuration(90 * kMsPerMinute), "1h30m");
  EXPECT_EQ(FormatDuration(0), "0s");
}

TEST(Time, FormatIsoUtc) {
  EXPECT_EQ(FormatIsoUtc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIsoUtc(1687460016635), "2023-06-22T18:53:36.635Z");
  EXPECT_EQ(FormatIsoUtc(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatIsoUtc(kTimeMax), "+inf");
}

}  // namespace
}  // namespace gpuledger
