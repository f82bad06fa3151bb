//! Weekly schedules — a facility's hours, the hours a hospital takes admission requests — and
//! the Japanese national holidays they turn on. Times are Japan Standard Time wall-clock times.
//!
//! A period `{days, from, to}` opens at `from` on each listed day and closes at `to`; `to` at or
//! before `from` means it runs past midnight into the next day (17:00–09:00 is the night). On a
//! national holiday (祝日・振替休日・国民の休日) only periods that list `holiday` apply: a
//! 地域連携室 open `mon`–`fri` is closed on a Monday holiday.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset, Weekday};

/// Japan Standard Time (no daylight saving).
pub const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(o) => o,
    Err(_) => panic!("JST"),
};

/// A day a period may list: the seven weekdays and national holidays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
    Holiday,
}

impl Day {
    pub const CODES: &'static str = "mon, tue, wed, thu, fri, sat, sun, holiday";

    pub fn of(w: Weekday) -> Day {
        match w {
            Weekday::Monday => Day::Mon,
            Weekday::Tuesday => Day::Tue,
            Weekday::Wednesday => Day::Wed,
            Weekday::Thursday => Day::Thu,
            Weekday::Friday => Day::Fri,
            Weekday::Saturday => Day::Sat,
            Weekday::Sunday => Day::Sun,
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Day::Mon => "月",
            Day::Tue => "火",
            Day::Wed => "水",
            Day::Thu => "木",
            Day::Fri => "金",
            Day::Sat => "土",
            Day::Sun => "日",
            Day::Holiday => "祝",
        }
    }
}

/// A wall-clock time of day in minutes after midnight, 0–1440 (`24:00` ends a day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime(u16);

impl ClockTime {
    pub fn minutes(self) -> u16 {
        self.0
    }

    pub fn parse(s: &str) -> Option<ClockTime> {
        let (h, m) = s.split_once(':')?;
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(ClockTime(h * 60 + m))
    }

    pub fn of(t: time::Time) -> ClockTime {
        ClockTime(u16::from(t.hour()) * 60 + u16::from(t.minute()))
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ClockTime::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("`{s}` is not a time HH:MM between 00:00 and 24:00"))
        })
    }
}

/// One weekly opening: on each of `days`, from `from` to `to` (past midnight when `to` ≤ `from`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    pub days: Vec<Day>,
    pub from: ClockTime,
    pub to: ClockTime,
}

impl Period {
    pub fn overnight(&self) -> bool {
        self.to <= self.from
    }

    /// Why the period is not a real opening, if it is not.
    pub fn problem(&self) -> Option<String> {
        if self.days.is_empty() {
            return Some("`days` lists at least one of mon … sun, holiday.".into());
        }
        if self.from == self.to {
            return Some(format!(
                "`from` and `to` are both {}: for all day write 00:00–24:00.",
                self.from
            ));
        }
        if self.from.minutes() == 1440 {
            return Some("`from` is before 24:00.".into());
        }
        None
    }

    /// "月–金 09:00–17:00", "毎日 17:00–翌09:00".
    pub fn label_ja(&self) -> String {
        let days = if self.days.len() == 8 {
            "毎日".to_string()
        } else {
            self.days
                .iter()
                .map(|d| d.label_ja())
                .collect::<Vec<_>>()
                .join("・")
        };
        let next = if self.overnight() { "翌" } else { "" };
        format!("{days} {}–{next}{}", self.from, self.to)
    }
}

/// Which kind of day a date is: a national holiday (with its name) or a weekday.
pub fn day_of(date: Date) -> (Day, Option<&'static str>) {
    match holiday_name(date) {
        Some(name) => (Day::Holiday, Some(name)),
        None => (Day::of(date.weekday()), None),
    }
}

/// Whether `periods` are open at the JST wall-clock time `at`.
pub fn open_at(periods: &[Period], at: PrimitiveDateTime) -> bool {
    let minute = ClockTime::of(at.time());
    let (today, _) = day_of(at.date());
    let yesterday = at
        .date()
        .previous_day()
        .map(|d| day_of(d).0)
        .unwrap_or(today);
    periods.iter().any(|p| {
        let started_today =
            p.days.contains(&today) && minute >= p.from && (p.overnight() || minute < p.to);
        let from_last_night = p.overnight() && p.days.contains(&yesterday) && minute < p.to;
        started_today || from_last_night
    })
}

/// `at` as JST wall-clock time.
pub fn jst(at: OffsetDateTime) -> PrimitiveDateTime {
    let local = at.to_offset(JST);
    PrimitiveDateTime::new(local.date(), local.time())
}

/// The name of the national holiday on `date` (祝日, 振替休日, 国民の休日), from the
/// `jpholiday` crate's rules of the 国民の祝日に関する法律, tabulated for 2000–2060.
pub fn holiday_name(date: Date) -> Option<&'static str> {
    HOLIDAYS.get(&date).copied()
}

static HOLIDAYS: LazyLock<HashMap<Date, &'static str>> = LazyLock::new(|| {
    let calendar = jpholiday::jpholiday::JPHoliday::new();
    let mut out = HashMap::new();
    for year in 2000..=2060 {
        for (d, name) in calendar.year_holidays(year) {
            use jpholiday::chrono::Datelike;
            let month = time::Month::try_from(d.month() as u8).expect("month 1–12");
            if let Ok(date) = Date::from_calendar_date(d.year(), month, d.day() as u8) {
                out.insert(date, &*Box::leak(name.into_boxed_str()));
            }
        }
    }
    out
});

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn p(days: &[Day], from: &str, to: &str) -> Period {
        Period {
            days: days.to_vec(),
            from: ClockTime::parse(from).unwrap(),
            to: ClockTime::parse(to).unwrap(),
        }
    }

    const WEEKDAYS: &[Day] = &[Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri];

    #[test]
    fn national_holidays_of_2026_and_2027() {
        assert_eq!(holiday_name(date!(2026 - 01 - 01)), Some("元日"));
        // 2026-05-06 is a 振替休日 (5/3 was a Sunday); 2026-09-22 a 国民の休日 between
        // 敬老の日 (9/21) and 秋分の日 (9/23).
        assert!(holiday_name(date!(2026 - 05 - 06)).is_some());
        assert!(holiday_name(date!(2026 - 09 - 22)).is_some());
        assert_eq!(holiday_name(date!(2026 - 11 - 23)), Some("勤労感謝の日"));
        assert_eq!(holiday_name(date!(2026 - 12 - 01)), None);
        assert_eq!(holiday_name(date!(2027 - 01 - 11)), Some("成人の日"));
        assert_eq!(day_of(date!(2026 - 11 - 23)).0, Day::Holiday);
        assert_eq!(day_of(date!(2026 - 11 - 24)).0, Day::Tue);
    }

    #[test]
    fn a_weekday_window_is_closed_on_a_monday_holiday() {
        let office = [p(WEEKDAYS, "09:00", "17:00")];
        // Mon 2026-11-30 10:00 is open; Mon 2026-11-23 (勤労感謝の日) is not.
        assert!(open_at(&office, datetime!(2026-11-30 10:00)));
        assert!(!open_at(&office, datetime!(2026-11-23 10:00)));
        assert!(!open_at(&office, datetime!(2026-11-30 17:00)));
        assert!(open_at(&office, datetime!(2026-11-30 09:00)));
        let with_holiday = [
            p(WEEKDAYS, "09:00", "17:00"),
            p(&[Day::Holiday], "09:00", "12:00"),
        ];
        assert!(open_at(&with_holiday, datetime!(2026-11-23 11:59)));
        assert!(!open_at(&with_holiday, datetime!(2026-11-23 12:00)));
    }

    #[test]
    fn an_overnight_window_runs_past_midnight_from_the_day_it_starts() {
        let night = [p(WEEKDAYS, "17:00", "09:00")];
        // Fri 2026-11-27 23:00 and Sat 03:00 belong to Friday's night; Sat 17:00 has none.
        assert!(open_at(&night, datetime!(2026-11-27 23:00)));
        assert!(open_at(&night, datetime!(2026-11-28 03:00)));
        assert!(!open_at(&night, datetime!(2026-11-28 09:00)));
        assert!(!open_at(&night, datetime!(2026-11-28 17:30)));
        // Sun night has none (no `sun`), so Mon 02:00 is closed.
        assert!(!open_at(&night, datetime!(2026-11-30 02:00)));
        // The night of Sun 11-22 → Mon 11-23 (holiday): a period listing `sun` covers the
        // holiday's early hours; the holiday's own evening needs `holiday`.
        let weekend = [p(&[Day::Sat, Day::Sun], "17:00", "09:00")];
        assert!(open_at(&weekend, datetime!(2026-11-23 08:00)));
        assert!(!open_at(&weekend, datetime!(2026-11-23 20:00)));
        let all = [p(
            &[
                Day::Mon,
                Day::Tue,
                Day::Wed,
                Day::Thu,
                Day::Fri,
                Day::Sat,
                Day::Sun,
                Day::Holiday,
            ],
            "00:00",
            "24:00",
        )];
        assert!(open_at(&all, datetime!(2026-11-23 20:00)));
        assert!(open_at(&all, datetime!(2026-12-01 00:00)));
        assert_eq!(all[0].label_ja(), "毎日 00:00–24:00");
        assert_eq!(night[0].label_ja(), "月・火・水・木・金 17:00–翌09:00");
    }

    #[test]
    fn clock_times_parse_strictly() {
        assert_eq!(ClockTime::parse("09:30").map(|t| t.minutes()), Some(570));
        assert_eq!(ClockTime::parse("24:00").map(|t| t.minutes()), Some(1440));
        for bad in ["9:30", "24:01", "12:60", "ab:cd", "0930", ""] {
            assert_eq!(ClockTime::parse(bad), None, "{bad}");
        }
        assert!(p(WEEKDAYS, "09:00", "09:00").problem().is_some());
        assert!(p(&[], "09:00", "10:00").problem().is_some());
        assert!(p(WEEKDAYS, "24:00", "09:00").problem().is_some());
        assert_eq!(
            jst(time::macros::datetime!(2026-12-01 13:00 UTC)),
            datetime!(2026-12-01 22:00)
        );
    }
}
