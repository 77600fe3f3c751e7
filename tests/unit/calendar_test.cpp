#include "core/calendar.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

#include "test_support.hpp"

namespace pvc {
namespace {

using namespace std::chrono_literals;
using test::utc;
using time_point = calendar::time_point;

std::string iso(time_point t) {
  const auto s = std::chrono::floor<std::chrono::seconds>(t);
  const auto d = std::chrono::floor<std::chrono::days>(s);
  const std::chrono::hh_mm_ss hms{s - d};
  const civil_date c = to_civil(static_cast<day_number>(d.time_since_epoch().count()));
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", c.year, c.month, c.day,
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

// Ho Chi Minh City: UTC+7 all year, no DST; local midnight is 17:00 UTC.
class CalendarHcm : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(calendar::use_zone("Asia/Ho_Chi_Minh"), ""); }
};

TEST(CivilDays, NumberingAndKeys) {
  struct row {
    civil_date date;
    day_number number;
    std::string day;
    std::string month;
  };
  const row table[] = {
      {{1970, 1, 1}, 0, "19700101", "197001"},      {{2000, 3, 1}, 11017, "20000301", "200003"},
      {{2026, 12, 1}, 20788, "20261201", "202612"}, {{2027, 1, 1}, 20819, "20270101", "202701"},
      {{2028, 2, 29}, 21243, "20280229", "202802"},
  };
  for (const row& r : table) {
    SCOPED_TRACE(r.day);
    EXPECT_EQ(from_civil(r.date), r.number);
    const civil_date back = to_civil(r.number);
    EXPECT_EQ(back.year, r.date.year);
    EXPECT_EQ(back.month, r.date.month);
    EXPECT_EQ(back.day, r.date.day);
    EXPECT_EQ(day_key(r.number), r.day);
    EXPECT_EQ(month_key(r.number), r.month);
  }
}

TEST(CivilDays, ParseDayKeyTakesOnlyRealDatesFrom1970) {
  struct row {
    std::string_view text;
    std::optional<civil_date> date;  // nullopt: refused
  };
  const row table[] = {
      {"19700101", civil_date{1970, 1, 1}},
      {"20261231", civil_date{2026, 12, 31}},
      {"20280229", civil_date{2028, 2, 29}},  // leap year
      {"20000229", civil_date{2000, 2, 29}},  // divisible by 400
      {"99991231", civil_date{9999, 12, 31}},
      {"20260230", std::nullopt},  // would roll into March
      {"20270229", std::nullopt},  // not a leap year
      {"21000229", std::nullopt},  // divisible by 100
      {"20260431", std::nullopt},
      {"20260132", std::nullopt},
      {"20260100", std::nullopt},
      {"20260001", std::nullopt},
      {"20261301", std::nullopt},
      {"19691231", std::nullopt},  // before day 0
      {"00000101", std::nullopt},
      {"2026011", std::nullopt},
      {"202601011", std::nullopt},
      {"", std::nullopt},
      {"2026-1-1", std::nullopt},
      {"2026 101", std::nullopt},
      {"+2026101", std::nullopt},
      {"2026010a", std::nullopt},
  };
  for (const row& r : table) {
    SCOPED_TRACE(std::string(r.text));
    const std::optional<day_number> got = parse_day_key(r.text);
    ASSERT_EQ(got.has_value(), r.date.has_value());
    if (!got) continue;
    EXPECT_EQ(*got, from_civil(*r.date));
    EXPECT_EQ(day_key(*got), r.text);
  }
}

TEST(CivilDays, ParseMonthKeyTakesOnlyRealMonthsFrom1970) {
  struct row {
    std::string_view text;
    std::optional<civil_date> first_day;  // nullopt: refused
  };
  const row table[] = {
      {"197001", civil_date{1970, 1, 1}},
      {"202612", civil_date{2026, 12, 1}},
      {"202602", civil_date{2026, 2, 1}},
      {"999912", civil_date{9999, 12, 1}},
      {"202600", std::nullopt},
      {"202613", std::nullopt},
      {"196912", std::nullopt},
      {"20261", std::nullopt},
      {"2026011", std::nullopt},
      {"20260101", std::nullopt},
      {"", std::nullopt},
      {"2026-1", std::nullopt},
      {"20261a", std::nullopt},
  };
  for (const row& r : table) {
    SCOPED_TRACE(std::string(r.text));
    const std::optional<month_number> got = parse_month_key(r.text);
    ASSERT_EQ(got.has_value(), r.first_day.has_value());
    if (!got) continue;
    EXPECT_EQ(*got, month_of(from_civil(*r.first_day)));
    EXPECT_EQ(month_number_key(*got), r.text);
    EXPECT_EQ(month_key(from_civil(*r.first_day)), r.text);
  }
}

TEST(CivilDays, NextDayRollsMonthAndYear) {
  struct row {
    civil_date date;
    std::string next_day;
    std::string next_month;
  };
  const row table[] = {
      {{2026, 11, 30}, "20261201", "202612"},
      {{2026, 12, 31}, "20270101", "202701"},  // year change
      {{2026, 2, 28}, "20260301", "202603"},   // not a leap year
      {{2028, 2, 28}, "20280229", "202802"},   // leap year
      {{2026, 4, 30}, "20260501", "202605"},
      {{2026, 1, 31}, "20260201", "202602"},
  };
  for (const row& r : table) {
    SCOPED_TRACE(r.next_day);
    const day_number next = from_civil(r.date) + 1;
    EXPECT_EQ(day_key(next), r.next_day);
    EXPECT_EQ(month_key(next), r.next_month);
    EXPECT_EQ(day_key(next - 1), day_key(from_civil(r.date)));
  }
}

TEST(CivilDays, FirstOfMonth) {
  struct row {
    civil_date date;
    std::string first;
  };
  const row table[] = {
      {{2026, 12, 17}, "20261201"}, {{2026, 12, 1}, "20261201"}, {{2026, 12, 31}, "20261201"},
      {{2027, 1, 1}, "20270101"},   {{2028, 2, 29}, "20280201"}, {{1970, 1, 1}, "19700101"},
  };
  for (const row& r : table) {
    SCOPED_TRACE(r.first);
    EXPECT_EQ(day_key(first_of_month(from_civil(r.date))), r.first);
  }
}

TEST(CivilDays, RoundTripEveryDayFor60Years) {
  const day_number from = from_civil({1990, 1, 1});
  const day_number to = from_civil({2050, 1, 1});
  for (day_number d = from; d < to; ++d) {
    const civil_date c = to_civil(d);
    ASSERT_EQ(from_civil(c), d) << day_key(d);
    ASSERT_EQ(first_of_month(d), d - static_cast<day_number>(c.day - 1)) << day_key(d);
  }
}

TEST_F(CalendarHcm, DayOfFollowsLocalMidnight) {
  struct row {
    time_point instant;
    std::string local_day;
  };
  const row table[] = {
      {utc(2026, 11, 30, 16, 59, 59), "20261130"},
      {utc(2026, 11, 30, 16, 59, 59) + 999ms, "20261130"},
      {utc(2026, 11, 30, 17, 0, 0), "20261201"},
      {utc(2026, 11, 30, 0, 0, 0), "20261130"},
      {utc(2026, 11, 29, 17, 0, 0), "20261130"},
      {utc(2026, 12, 31, 16, 59, 59), "20261231"},
      {utc(2026, 12, 31, 17, 0, 0), "20270101"},  // year change
      {utc(2026, 2, 28, 17, 0, 0), "20260301"},
      {utc(2028, 2, 28, 17, 0, 0), "20280229"},
      {utc(1970, 1, 1, 0, 0, 0), "19700101"},
  };
  for (const row& r : table) {
    SCOPED_TRACE(iso(r.instant));
    EXPECT_EQ(day_key(calendar::day_of(r.instant)), r.local_day);
  }
}

TEST_F(CalendarHcm, MonthOfTheLocalDay) {
  EXPECT_EQ(month_key(calendar::day_of(utc(2026, 11, 30, 16, 59, 59))), "202611");
  EXPECT_EQ(month_key(calendar::day_of(utc(2026, 11, 30, 17, 0, 0))), "202612");
  EXPECT_EQ(day_key(first_of_month(calendar::day_of(utc(2026, 12, 31, 16, 0, 0)))), "20261201");
  EXPECT_EQ(month_key(calendar::day_of(utc(2026, 12, 31, 17, 0, 0))), "202701");
}

TEST_F(CalendarHcm, NextMidnight) {
  struct row {
    time_point instant;
    time_point midnight;
  };
  const row table[] = {
      {utc(2026, 11, 30, 10, 0, 0), utc(2026, 11, 30, 17, 0, 0)},
      {utc(2026, 11, 30, 16, 59, 59), utc(2026, 11, 30, 17, 0, 0)},
      {utc(2026, 11, 30, 16, 59, 59) + 999ms, utc(2026, 11, 30, 17, 0, 0)},
      {utc(2026, 11, 30, 17, 0, 0), utc(2026, 12, 1, 17, 0, 0)},  // at midnight: the next one
      {utc(2026, 12, 31, 12, 0, 0), utc(2026, 12, 31, 17, 0, 0)},
      {utc(2026, 12, 31, 17, 0, 1), utc(2027, 1, 1, 17, 0, 0)},
  };
  for (const row& r : table) {
    SCOPED_TRACE(iso(r.instant));
    EXPECT_EQ(iso(calendar::next_midnight(r.instant)), iso(r.midnight));
  }
}

TEST_F(CalendarHcm, UseZoneRejectsUnknownAndEscapingNames) {
  const std::string table[] = {
      "Nowhere/City",
      "../etc/passwd",
      "Asia/../../etc/passwd",
      "/etc/localtime",
      "",
      "Asia",  // a directory, not a zone
      "Asia/Ho_Chi_Minh/x",
      // ".." is refused even where it would land on a real zone file.
      "../zoneinfo/Europe/Berlin",
      "Asia/../Europe/Berlin",
  };
  for (const std::string& zone : table) {
    SCOPED_TRACE(zone);
    const std::string err = calendar::use_zone(zone);
    EXPECT_NE(err, "");
    if (!zone.empty()) {
      EXPECT_NE(err.find(zone), std::string::npos) << err;
    }
    // A refused zone leaves the process zone alone (glibc would fall back to UTC).
    EXPECT_EQ(day_key(calendar::day_of(utc(2026, 11, 30, 17, 0, 0))), "20261201");
  }
}

// Returns false (and the test skips) when the zone is not installed.
bool try_zone(const char* zone) {
  return calendar::use_zone(zone).empty();
}

TEST_F(CalendarHcm, NextMidnightAcrossDstInBerlin) {
  if (!try_zone("Europe/Berlin")) GTEST_SKIP() << "tzdata has no Europe/Berlin";
  struct row {
    time_point instant;
    time_point midnight;
  };
  const row table[] = {
      // 2026-03-29 02:00 CET -> 03:00 CEST: that day has 23 hours.
      {utc(2026, 3, 28, 12, 0, 0), utc(2026, 3, 28, 23, 0, 0)},
      {utc(2026, 3, 29, 12, 0, 0), utc(2026, 3, 29, 22, 0, 0)},
      // 2026-10-25 03:00 CEST -> 02:00 CET: that day has 25 hours.
      {utc(2026, 10, 24, 12, 0, 0), utc(2026, 10, 24, 22, 0, 0)},
      {utc(2026, 10, 25, 12, 0, 0), utc(2026, 10, 25, 23, 0, 0)},
  };
  for (const row& r : table) {
    SCOPED_TRACE(iso(r.instant));
    EXPECT_EQ(iso(calendar::next_midnight(r.instant)), iso(r.midnight));
  }
  EXPECT_EQ(day_key(calendar::day_of(utc(2026, 3, 28, 22, 59, 59))), "20260328");
  EXPECT_EQ(day_key(calendar::day_of(utc(2026, 3, 28, 23, 0, 0))), "20260329");
  EXPECT_EQ(day_key(calendar::day_of(utc(2026, 3, 29, 21, 59, 59))), "20260329");
  EXPECT_EQ(day_key(calendar::day_of(utc(2026, 3, 29, 22, 0, 0))), "20260330");

  // Back to the fixture's zone: it is process-wide.
  ASSERT_EQ(calendar::use_zone("Asia/Ho_Chi_Minh"), "");
  EXPECT_EQ(day_key(calendar::day_of(utc(2026, 11, 30, 17, 0, 0))), "20261201");
}

// For every sampled instant: the next midnight is later, starts the next local
// day, and the second before it is still the same day. Checked in zones whose
// DST change happens at midnight itself (that local midnight does not exist).
TEST_F(CalendarHcm, NextMidnightStartsTheNextDayEvenWhenMidnightIsSkipped) {
  for (const char* zone : {"Europe/Berlin", "America/Santiago", "America/Havana",
                           "America/Asuncion", "Asia/Ho_Chi_Minh"}) {
    if (!try_zone(zone)) continue;
    SCOPED_TRACE(zone);
    for (time_point t = utc(2026, 1, 1); t < utc(2027, 1, 1); t += 5h + 13min) {
      const day_number d = calendar::day_of(t);
      const time_point m = calendar::next_midnight(t);
      ASSERT_GT(m, t) << iso(t);
      ASSERT_EQ(calendar::day_of(m), d + 1) << iso(t) << " -> " << iso(m);
      ASSERT_EQ(calendar::day_of(m - 1s), d) << iso(t) << " -> " << iso(m);
    }
  }
}

}  // namespace
}  // namespace pvc
