//! Recurring meetings — a がんサロン's 毎月第2火曜 14:00–16:00, a 症例検討会 every other
//! Thursday — as RFC 5545 recurrence rules, with the exceptions people actually have: national
//! holidays skipped, single dates cancelled or added. Dates and times are JST wall-clock.
//!
//! A rule yields the dates it matches from `start` on (as the `rrule` crate expands it; `start`
//! itself only when it matches), then `extra` dates are added and `cancelled` dates and, with
//! `skip_holidays`, national holidays are taken away.

use chrono::{DateTime, Datelike as _, TimeZone as _};
use rrule::{Frequency, NWeekday, RRule, RRuleSet, Tz, Unvalidated, Validated};
use serde::{Deserialize, Serialize};
use time::Date;

use super::schedule::{ClockTime, holiday_name};

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// When something happens: one date, or a rule from a first date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recurrence {
    /// The first (or only) date, `YYYY-MM-DD` (DTSTART's date).
    #[serde(with = "iso_date")]
    pub start: Date,
    /// Start time of each occurrence, `HH:MM`; absent for an all-day entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<ClockTime>,
    /// End time, `HH:MM`, after `from`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<ClockTime>,
    /// An RFC 5545 RRULE value without `DTSTART`, e.g. `FREQ=MONTHLY;BYDAY=2TU`; absent: one date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rrule: Option<String>,
    /// Occurrences falling on a national holiday (祝日・振替休日・国民の休日) do not happen.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skip_holidays: bool,
    /// Dates called off (EXDATE).
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "dates")]
    pub cancelled: Vec<Date>,
    /// Dates added outside the rule (RDATE).
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "dates")]
    pub extra: Vec<Date>,
}

mod dates {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;

    use super::iso_date;

    pub fn serialize<S: Serializer>(v: &[Date], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|d| {
            d.format(&time::macros::format_description!("[year]-[month]-[day]"))
                .unwrap_or_default()
        }))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Date>, D::Error> {
        #[derive(Deserialize)]
        struct One(#[serde(with = "iso_date")] Date);
        Ok(Vec::<One>::deserialize(d)?
            .into_iter()
            .map(|o| o.0)
            .collect())
    }
}

impl Recurrence {
    /// Why this is not a usable schedule (Japanese first), naming the field.
    pub fn problem(&self) -> Option<String> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&self.start.year()) {
            return Some(format!(
                "schedule.start: 日付は{MIN_YEAR}年から{MAX_YEAR}年までです / `start` must be a date in the years {MIN_YEAR}–{MAX_YEAR}."
            ));
        }
        match (self.from, self.to) {
            (None, Some(_)) => {
                return Some(
                    "schedule.to: 終了時刻には開始時刻（from）も必要です / `to` needs `from` (an all-day entry has neither)."
                        .into(),
                );
            }
            (Some(f), Some(t)) if t <= f => {
                return Some(format!(
                    "schedule.to: 終了時刻は開始時刻より後にしてください / `to` ({t}) must be after `from` ({f})."
                ));
            }
            _ => {}
        }
        for (field, dates) in [("cancelled", &self.cancelled), ("extra", &self.extra)] {
            if dates.len() > MAX_EXCEPTIONS {
                return Some(format!(
                    "schedule.{field}: 日付は{MAX_EXCEPTIONS}件までです / `{field}` holds at most {MAX_EXCEPTIONS} dates."
                ));
            }
            if let Some(d) = dates
                .iter()
                .find(|d| !(MIN_YEAR..=MAX_YEAR).contains(&d.year()))
            {
                return Some(format!(
                    "schedule.{field}: 日付 {d} は{MIN_YEAR}年から{MAX_YEAR}年までにしてください / `{field}` dates must be in the years {MIN_YEAR}–{MAX_YEAR}; got {d}."
                ));
            }
        }
        if let Some(d) = self.cancelled.iter().find(|d| **d < self.start) {
            return Some(format!(
                "schedule.cancelled: 中止日 {d} が初回（start）より前です / The cancelled date {d} is before `start` ({}).",
                self.start
            ));
        }
        self.rule().err()
    }

    /// The rule validated against `start` (JST), `None` for a single date; the message names
    /// `schedule.rrule` when it cannot be used.
    fn rule(&self) -> Result<Option<RRule<Validated>>, String> {
        let Some(raw) = self.rrule.as_deref() else {
            return Ok(None);
        };
        let unreadable = |why: &str| {
            format!(
                "schedule.rrule: 繰り返しの規則が読めません（{raw}）/ The recurrence rule `{raw}` cannot be read: {why}"
            )
        };
        let value = raw.trim();
        if value.is_empty() {
            return Err(unreadable(
                "it is empty; leave `rrule` out for a single date.",
            ));
        }
        if value.contains([':', '\n', '\r']) {
            return Err(unreadable(
                "give the RRULE value alone (e.g. FREQ=MONTHLY;BYDAY=2TU), without `RRULE:`, DTSTART or RDATE lines.",
            ));
        }
        let upper = value.to_ascii_uppercase();
        if ["BYHOUR", "BYMINUTE", "BYSECOND"]
            .iter()
            .any(|p| upper.contains(p))
        {
            return Err(unreadable(
                "times of day come from `from` and `to`, not BYHOUR/BYMINUTE/BYSECOND.",
            ));
        }
        let normalized = normalize_until(&upper).map_err(|e| unreadable(&e))?;
        let parsed: RRule<Unvalidated> = normalized
            .parse()
            .map_err(|e: rrule::RRuleError| unreadable(&e.to_string()))?;
        if !matches!(
            parsed.get_freq(),
            Frequency::Daily | Frequency::Weekly | Frequency::Monthly | Frequency::Yearly
        ) {
            return Err(format!(
                "schedule.rrule: 繰り返しは毎日・毎週・毎月・毎年（FREQ=DAILY/WEEKLY/MONTHLY/YEARLY）のいずれかです / FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY; got {}.",
                parsed.get_freq()
            ));
        }
        let start = self
            .dtstart()
            .ok_or_else(|| unreadable("`start` is out of range."))?;
        let rule = parsed
            .validate(start)
            .map_err(|e| unreadable(&e.to_string()))?;
        // The crate (like dateutil) intersects plain and numbered weekdays where RFC 5545
        // means their union; nobody writes such a rule, so it is refused rather than misread.
        let days = rule.get_by_weekday();
        if days.iter().any(|d| matches!(d, NWeekday::Every(_)))
            && days.iter().any(|d| matches!(d, NWeekday::Nth(..)))
        {
            return Err(unreadable(
                "BYDAY mixes every-week days (TU) with numbered ones (2TU); write one kind.",
            ));
        }
        Ok(Some(rule))
    }

    /// DTSTART: the first date at the start time (midnight for an all-day entry), JST.
    fn dtstart(&self) -> Option<DateTime<Tz>> {
        let m = self.from.map_or(0, |t| t.minutes().min(23 * 60 + 59));
        at_jst(self.start, u32::from(m / 60), u32::from(m % 60), 0)
    }

    /// The RRULE value as written in an iCalendar file: UNTIL in UTC (RFC 5545 requires it
    /// when DTSTART has a time zone). `None` for a single date or an unusable rule.
    pub fn rrule_value(&self) -> Option<String> {
        self.rule().ok()??;
        normalize_until(&self.rrule.as_deref()?.trim().to_ascii_uppercase()).ok()
    }

    /// The dates the rule itself yields from `start`, in order, without exceptions; a single
    /// date yields `start`. Bounded: the rule iterator gives up on a rule that matches nothing
    /// for a long stretch, and no date past `MAX_YEAR` is taken.
    fn rule_dates(&self) -> Box<dyn Iterator<Item = Date>> {
        match (self.rule(), self.dtstart()) {
            (Ok(Some(rule)), Some(start)) => Box::new(
                RRuleSet::new(start)
                    .rrule(rule)
                    .limit()
                    .into_iter()
                    .map(|dt| date_of(dt.date_naive()))
                    .map_while(|d| d.filter(|d| d.year() <= MAX_YEAR))
                    .take(MAX_RULE_DATES),
            ),
            (Ok(None), _) => Box::new(std::iter::once(self.start)),
            _ => Box::new(std::iter::empty()),
        }
    }

    /// Whether `d` is kept: not cancelled, not a holiday skipped.
    fn kept(&self, d: Date) -> bool {
        let holiday = self.skip_holidays && holiday_name(d).is_some();
        !(holiday || self.cancelled.contains(&d))
    }

    /// The dates on which it happens between `from` and `to` inclusive, at most `limit`.
    pub fn between(&self, from: Date, to: Date, limit: usize) -> Vec<Date> {
        if to < from || limit == 0 {
            return Vec::new();
        }
        let mut out: Vec<Date> = self
            .rule_dates()
            .skip_while(|d| *d < from)
            .take_while(|d| *d <= to)
            .filter(|d| self.kept(*d))
            .take(limit)
            .collect();
        out.extend(
            self.extra
                .iter()
                .copied()
                .filter(|d| (from..=to).contains(d) && self.kept(*d)),
        );
        out.sort();
        out.dedup();
        out.truncate(limit);
        out
    }

    /// The next `n` dates on or after `today`.
    pub fn next(&self, today: Date, n: usize) -> Vec<Date> {
        if n == 0 {
            return Vec::new();
        }
        let mut out: Vec<Date> = self
            .rule_dates()
            .skip_while(|d| *d < today)
            .filter(|d| self.kept(*d))
            .take(n)
            .collect();
        out.extend(
            self.extra
                .iter()
                .copied()
                .filter(|d| *d >= today && self.kept(*d)),
        );
        out.sort();
        out.dedup();
        out.truncate(n);
        out
    }

    /// The rule's dates between `from` and `to` that a holiday takes away (for EXDATEs).
    pub fn holiday_skips(&self, from: Date, to: Date) -> Vec<Date> {
        if !self.skip_holidays {
            return Vec::new();
        }
        self.rule_dates()
            .skip_while(|d| *d < from)
            .take_while(|d| *d <= to)
            .chain(self.extra.iter().copied())
            .filter(|d| (from..=to).contains(d) && holiday_name(*d).is_some())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// The first date the rule itself yields (DTSTART of an iCalendar entry: RFC 5545 counts
    /// DTSTART as an occurrence, so it must be one); `start` for a single date.
    pub fn first_rule_date(&self) -> Option<Date> {
        self.rule_dates().next()
    }

    /// In Japanese, e.g. `毎月第2火曜日 14:00–16:00（祝日は休み）`.
    pub fn label_ja(&self) -> String {
        let mut out = match self.rule() {
            Ok(None) => date_ja(self.start),
            Ok(Some(r)) => {
                phrase(&r, self.rrule.as_deref().unwrap_or_default()).unwrap_or_else(|| {
                    format!(
                        "繰り返し: {}",
                        self.rrule.as_deref().unwrap_or_default().trim()
                    )
                })
            }
            Err(_) => format!(
                "繰り返し: {}",
                self.rrule.as_deref().unwrap_or_default().trim()
            ),
        };
        match (self.from, self.to) {
            (Some(f), Some(t)) => out.push_str(&format!(" {f}–{t}")),
            (Some(f), None) => out.push_str(&format!(" {f}–")),
            _ => {}
        }
        if self.skip_holidays {
            out.push_str("（祝日は休み）");
        }
        out
    }
}

/// Years a schedule may use.
const MIN_YEAR: i32 = 2000;
const MAX_YEAR: i32 = 2100;
/// Cancelled or added dates one schedule may list.
const MAX_EXCEPTIONS: usize = 500;
/// The most dates one expansion walks through (a daily rule over the whole century is ~37k).
const MAX_RULE_DATES: usize = 40_000;

fn at_jst(d: Date, h: u32, m: u32, s: u32) -> Option<DateTime<Tz>> {
    Tz::Asia__Tokyo
        .with_ymd_and_hms(
            d.year(),
            u32::from(u8::from(d.month())),
            u32::from(d.day()),
            h,
            m,
            s,
        )
        .single()
}

fn date_of(d: chrono::NaiveDate) -> Option<Date> {
    let month = time::Month::try_from(u8::try_from(d.month()).ok()?).ok()?;
    Date::from_calendar_date(d.year(), month, u8::try_from(d.day()).ok()?).ok()
}

/// `UNTIL` as people write it (a date, or a JST wall-clock time) into UTC, as the rule
/// crate and RFC 5545 want when DTSTART has a time zone. A date means "through that day".
fn normalize_until(rule: &str) -> Result<String, String> {
    let parts: Vec<String> = rule
        .split(';')
        .map(|part| {
            let Some(v) = part.strip_prefix("UNTIL=") else {
                return Ok(part.to_string());
            };
            let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
            let (date, time) = match v.split_once('T') {
                None if v.len() == 8 && digits(v) => (v, "235959"),
                Some((d, t)) if d.len() == 8 && digits(d) && t.len() == 6 && digits(t) => (d, t),
                Some((_, t)) if t.ends_with('Z') => return Ok(part.to_string()),
                _ => {
                    return Err(format!(
                        "UNTIL `{v}` is not a date (YYYYMMDD) or date-time."
                    ));
                }
            };
            let num = |s: &str| s.parse::<u32>().unwrap_or(0);
            let local = Tz::Asia__Tokyo
                .with_ymd_and_hms(
                    num(&date[..4]) as i32,
                    num(&date[4..6]),
                    num(&date[6..8]),
                    num(&time[..2]),
                    num(&time[2..4]),
                    num(&time[4..6]),
                )
                .single()
                .ok_or_else(|| format!("UNTIL `{v}` is not a real date."))?;
            Ok(format!(
                "UNTIL={}",
                local.with_timezone(&chrono::Utc).format("%Y%m%dT%H%M%SZ")
            ))
        })
        .collect::<Result<_, String>>()?;
    Ok(parts.join(";"))
}

const WEEKDAYS_JA: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];

fn weekday_ja(w: rrule::Weekday) -> &'static str {
    WEEKDAYS_JA[w.num_days_from_monday() as usize]
}

/// `2026年12月8日（火）`.
pub fn date_ja(d: Date) -> String {
    format!(
        "{}年{}月{}日（{}）",
        d.year(),
        u8::from(d.month()),
        d.day(),
        WEEKDAYS_JA[d.weekday().number_days_from_monday() as usize]
    )
}

/// The rule in Japanese, or `None` when it is not one of the patterns people use.
fn phrase(r: &RRule<Validated>, raw: &str) -> Option<String> {
    if !r.get_by_set_pos().is_empty()
        || !r.get_by_year_day().is_empty()
        || !r.get_by_week_no().is_empty()
    {
        return None;
    }
    let n = r.get_interval();
    let days = r.get_by_weekday();
    let month_days = r.get_by_month_day();
    let mut out = match r.get_freq() {
        Frequency::Daily => {
            if !days.is_empty() || !month_days.is_empty() || !r.get_by_month().is_empty() {
                return None;
            }
            if n == 1 {
                "毎日".into()
            } else {
                format!("{n}日ごと")
            }
        }
        Frequency::Weekly => {
            if !r.get_by_month().is_empty() || !month_days.is_empty() {
                return None;
            }
            let mut names = Vec::new();
            for d in days {
                match d {
                    NWeekday::Every(w) => names.push(weekday_ja(*w)),
                    NWeekday::Nth(..) => return None,
                }
            }
            let every = match n {
                1 => "毎週".to_string(),
                2 => "隔週".to_string(),
                n => format!("{n}週ごとの"),
            };
            format!("{every}{}曜日", names.join("・"))
        }
        Frequency::Monthly => {
            if !r.get_by_month().is_empty() {
                return None;
            }
            let every = match n {
                1 => "毎月".to_string(),
                2 => "隔月".to_string(),
                n => format!("{n}か月ごと"),
            };
            let what = if !days.is_empty() {
                if !month_days.is_empty() {
                    return None;
                }
                monthly_weekdays(days)?
            } else {
                // Negative month days are kept apart by the crate: read them from the text.
                let negative = raw.to_ascii_uppercase().split(';').any(|p| {
                    p.strip_prefix("BYMONTHDAY=")
                        .is_some_and(|v| v.contains('-'))
                });
                let only_last = raw
                    .to_ascii_uppercase()
                    .split(';')
                    .any(|p| p == "BYMONTHDAY=-1");
                if only_last && month_days.is_empty() {
                    "末日".to_string()
                } else if negative || month_days.is_empty() {
                    return None;
                } else {
                    let parts: Vec<String> = month_days.iter().map(|d| format!("{d}日")).collect();
                    parts.join("・")
                }
            };
            if n > 2 {
                format!("{every} {what}")
            } else {
                format!("{every}{what}")
            }
        }
        Frequency::Yearly => {
            let every = if n == 1 {
                "毎年".to_string()
            } else {
                format!("{n}年ごと")
            };
            match (r.get_by_month(), month_days, days.is_empty()) {
                ([m], [d], true) if *d > 0 => format!("{every}{m}月{d}日"),
                ([m], [], false) => format!("{every}{m}月の{}", monthly_weekdays(days)?),
                _ => return None,
            }
        }
        _ => return None,
    };
    if let Some(c) = r.get_count() {
        out.push_str(&format!("（全{c}回）"));
    }
    if let Some(u) = r.get_until() {
        let local = u.with_timezone(&Tz::Asia__Tokyo).date_naive();
        out.push_str(&format!(
            "（{}年{}月{}日まで）",
            local.year(),
            local.month(),
            local.day()
        ));
    }
    Some(out)
}

/// `第2・第4土曜日`, `最終金曜日`, `第1月曜日・第3水曜日`, `毎週火曜日`.
fn monthly_weekdays(days: &[NWeekday]) -> Option<String> {
    let ordinal = |k: i16| match k {
        -1 => Some("最終".to_string()),
        -2 => Some("最後から2番目の".to_string()),
        1..=5 => Some(format!("第{k}")),
        _ => None,
    };
    let mut by_day: Vec<(rrule::Weekday, Vec<i16>)> = Vec::new();
    for d in days {
        let (k, w) = match d {
            NWeekday::Nth(k, w) => (*k, *w),
            NWeekday::Every(w) => (0, *w),
        };
        match by_day.iter_mut().find(|(x, _)| *x == w) {
            Some((_, ks)) => ks.push(k),
            None => by_day.push((w, vec![k])),
        }
    }
    by_day.sort_by_key(|(w, ks)| {
        (
            ks.iter().copied().filter(|k| *k > 0).min(),
            w.num_days_from_monday(),
        )
    });
    let mut parts = Vec::new();
    for (w, mut ks) in by_day {
        if ks.contains(&0) {
            if ks.len() > 1 {
                return None;
            }
            parts.push(format!("毎週{}曜日", weekday_ja(w)));
            continue;
        }
        // Positive ordinals first, in order, then the ones counted from the end.
        ks.sort_by_key(|k| if *k > 0 { *k } else { 100 - *k });
        let names = ks.into_iter().map(ordinal).collect::<Option<Vec<_>>>()?;
        parts.push(format!("{}{}曜日", names.join("・"), weekday_ja(w)));
    }
    Some(parts.join("・"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn rule(start: Date, rrule: &str) -> Recurrence {
        Recurrence {
            start,
            from: None,
            to: None,
            rrule: Some(rrule.into()),
            skip_holidays: false,
            cancelled: Vec::new(),
            extra: Vec::new(),
        }
    }

    fn timed(mut r: Recurrence, from: &str, to: &str) -> Recurrence {
        r.from = ClockTime::parse(from);
        r.to = ClockTime::parse(to);
        r
    }

    #[test]
    fn month_ends_skip_short_months() {
        let r = rule(date!(2026 - 01 - 31), "FREQ=MONTHLY;BYMONTHDAY=31");
        assert_eq!(r.problem(), None);
        assert_eq!(
            r.between(date!(2026 - 01 - 01), date!(2026 - 08 - 31), 100),
            vec![
                date!(2026 - 01 - 31),
                date!(2026 - 03 - 31),
                date!(2026 - 05 - 31),
                date!(2026 - 07 - 31),
                date!(2026 - 08 - 31),
            ]
        );
        // The last day of the month, 2026-02 included.
        let r = rule(date!(2026 - 01 - 01), "FREQ=MONTHLY;BYMONTHDAY=-1");
        assert_eq!(
            r.between(date!(2026 - 01 - 15), date!(2026 - 03 - 31), 100),
            vec![
                date!(2026 - 01 - 31),
                date!(2026 - 02 - 28),
                date!(2026 - 03 - 31)
            ]
        );
        assert_eq!(r.label_ja(), "毎月末日");
    }

    #[test]
    fn a_fifth_tuesday_only_in_months_that_have_one() {
        let r = rule(date!(2026 - 01 - 01), "FREQ=MONTHLY;BYDAY=5TU");
        let got = r.between(date!(2026 - 01 - 01), date!(2027 - 12 - 31), 100);
        let mut want = Vec::new();
        let mut d = date!(2026 - 01 - 01);
        while d <= date!(2027 - 12 - 31) {
            if d.weekday() == time::Weekday::Tuesday && d.day() > 28 {
                want.push(d);
            }
            d = d.next_day().unwrap();
        }
        assert_eq!(got, want);
        assert!(got.contains(&date!(2026 - 03 - 31)));
        assert!(!got.iter().any(|d| d.month() == time::Month::February));
        assert_eq!(r.label_ja(), "毎月第5火曜日");
    }

    #[test]
    fn national_holidays_are_skipped_when_asked() {
        // 第2月曜 in January is 成人の日.
        let mut r = rule(date!(2026 - 12 - 01), "FREQ=MONTHLY;BYDAY=2MO");
        let range = (date!(2026 - 12 - 01), date!(2027 - 02 - 28));
        assert!(
            r.between(range.0, range.1, 10)
                .contains(&date!(2027 - 01 - 11))
        );
        r.skip_holidays = true;
        assert_eq!(
            r.between(range.0, range.1, 10),
            vec![date!(2026 - 12 - 14), date!(2027 - 02 - 08)]
        );
        assert_eq!(
            r.holiday_skips(range.0, range.1),
            vec![date!(2027 - 01 - 11)]
        );
        assert_eq!(r.label_ja(), "毎月第2月曜日（祝日は休み）");
    }

    #[test]
    fn cancellations_and_extra_dates() {
        let mut r = rule(date!(2026 - 12 - 02), "FREQ=WEEKLY;BYDAY=WE");
        r.cancelled = vec![date!(2026 - 12 - 16), date!(2026 - 12 - 30)];
        r.extra = vec![date!(2026 - 12 - 26), date!(2026 - 12 - 09)];
        assert_eq!(r.problem(), None);
        assert_eq!(
            r.between(date!(2026 - 12 - 01), date!(2027 - 01 - 06), 100),
            vec![
                date!(2026 - 12 - 02),
                date!(2026 - 12 - 09),
                date!(2026 - 12 - 23),
                date!(2026 - 12 - 26),
                date!(2027 - 01 - 06),
            ]
        );
        assert_eq!(
            r.next(date!(2026 - 12 - 10), 3),
            vec![
                date!(2026 - 12 - 23),
                date!(2026 - 12 - 26),
                date!(2027 - 01 - 06)
            ]
        );
        assert_eq!(
            r.between(date!(2026 - 12 - 01), date!(2027 - 01 - 06), 2)
                .len(),
            2
        );
        // A single date with an extra one.
        let one = Recurrence {
            rrule: None,
            ..r.clone()
        };
        assert_eq!(
            one.between(date!(2026 - 12 - 01), date!(2026 - 12 - 31), 10),
            vec![
                date!(2026 - 12 - 02),
                date!(2026 - 12 - 09),
                date!(2026 - 12 - 26)
            ]
        );
    }

    #[test]
    fn every_other_week_keeps_the_phase_of_start() {
        let r = rule(date!(2026 - 12 - 10), "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH");
        assert_eq!(
            r.between(date!(2026 - 12 - 01), date!(2027 - 01 - 31), 10),
            vec![
                date!(2026 - 12 - 10),
                date!(2026 - 12 - 24),
                date!(2027 - 01 - 07),
                date!(2027 - 01 - 21)
            ]
        );
        let r = rule(date!(2026 - 12 - 17), "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH");
        assert_eq!(
            r.between(date!(2026 - 12 - 01), date!(2027 - 01 - 15), 10),
            vec![
                date!(2026 - 12 - 17),
                date!(2026 - 12 - 31),
                date!(2027 - 01 - 14)
            ]
        );
        assert_eq!(r.label_ja(), "隔週木曜日");
    }

    #[test]
    fn labels() {
        let s = date!(2026 - 12 - 01);
        let cases = [
            ("FREQ=WEEKLY;BYDAY=WE", "毎週水曜日"),
            ("FREQ=WEEKLY;BYDAY=MO,TH", "毎週月・木曜日"),
            ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", "隔週木曜日"),
            ("FREQ=MONTHLY;BYDAY=2TU", "毎月第2火曜日"),
            ("FREQ=MONTHLY;BYDAY=2SA,4SA", "毎月第2・第4土曜日"),
            ("FREQ=MONTHLY;BYDAY=-1FR", "毎月最終金曜日"),
            ("FREQ=MONTHLY;BYMONTHDAY=15", "毎月15日"),
            ("FREQ=MONTHLY;INTERVAL=3;BYDAY=1WE", "3か月ごと 第1水曜日"),
            ("FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=10", "隔月10日"),
            ("FREQ=DAILY", "毎日"),
            ("FREQ=YEARLY", "毎年12月1日"),
            ("FREQ=MONTHLY;BYDAY=2TU;COUNT=6", "毎月第2火曜日（全6回）"),
            (
                "FREQ=MONTHLY;BYDAY=2TU;UNTIL=20270331",
                "毎月第2火曜日（2027年3月31日まで）",
            ),
            (
                "FREQ=MONTHLY;BYDAY=2TU;BYSETPOS=1",
                "繰り返し: FREQ=MONTHLY;BYDAY=2TU;BYSETPOS=1",
            ),
        ];
        for (rrule, want) in cases {
            let r = rule(s, rrule);
            assert_eq!(r.problem(), None, "{rrule}");
            assert_eq!(r.label_ja(), want, "{rrule}");
        }
        let mut r = timed(rule(s, "FREQ=MONTHLY;BYDAY=2TU"), "14:00", "16:00");
        r.skip_holidays = true;
        assert_eq!(r.label_ja(), "毎月第2火曜日 14:00–16:00（祝日は休み）");
        let one = timed(
            Recurrence {
                rrule: None,
                ..rule(date!(2026 - 12 - 08), "")
            },
            "14:00",
            "16:00",
        );
        assert_eq!(one.label_ja(), "2026年12月8日（火） 14:00–16:00");
    }

    #[test]
    fn problems_name_the_field() {
        let s = date!(2026 - 12 - 01);
        let bad = |r: Recurrence| r.problem().unwrap_or_default();
        assert!(
            bad(rule(s, "FREQ=SOMETIMES"))
                .starts_with("schedule.rrule: 繰り返しの規則が読めません")
        );
        assert!(
            bad(rule(s, "DTSTART:20261201T000000\nRRULE:FREQ=DAILY"))
                .starts_with("schedule.rrule:")
        );
        assert!(bad(rule(s, "RRULE:FREQ=DAILY")).starts_with("schedule.rrule:"));
        assert!(bad(rule(s, "FREQ=HOURLY;BYMINUTE=0")).starts_with("schedule.rrule:"));
        assert!(bad(rule(s, "FREQ=MINUTELY")).starts_with("schedule.rrule:"));
        assert!(bad(rule(s, "FREQ=MONTHLY;BYDAY=9TU")).starts_with("schedule.rrule:"));
        assert!(bad(rule(s, "FREQ=WEEKLY;UNTIL=20261101")).starts_with("schedule.rrule:"));
        assert!(bad(rule(s, "FREQ=MONTHLY;BYDAY=MO,1MO")).starts_with("schedule.rrule:"));
        assert!(bad(timed(rule(s, "FREQ=DAILY"), "16:00", "14:00")).starts_with("schedule.to:"));
        let mut r = rule(s, "FREQ=DAILY");
        r.to = ClockTime::parse("10:00");
        assert!(bad(r).starts_with("schedule.to:"));
        assert!(bad(rule(date!(1999 - 12 - 31), "FREQ=DAILY")).starts_with("schedule.start:"));
        let mut r = rule(s, "FREQ=DAILY");
        r.cancelled = vec![date!(2026 - 11 - 30)];
        assert!(bad(r).starts_with("schedule.cancelled:"));
        let mut r = rule(s, "FREQ=DAILY");
        r.extra = vec![date!(2101 - 01 - 01)];
        assert!(bad(r).starts_with("schedule.extra:"));
        // Open-ended and COUNT/UNTIL rules are all fine.
        assert_eq!(rule(s, "FREQ=WEEKLY;BYDAY=WE;COUNT=3").problem(), None);
        let r = rule(s, "freq=weekly;byday=we;until=20270101T000000");
        assert_eq!(r.problem(), None);
        // UNTIL in JST wall-clock becomes UTC, as RFC 5545 wants beside a TZID'd DTSTART.
        assert_eq!(
            r.rrule_value().as_deref(),
            Some("FREQ=WEEKLY;BYDAY=WE;UNTIL=20261231T150000Z")
        );
        assert_eq!(
            rule(s, "FREQ=WEEKLY;BYDAY=WE;UNTIL=20261216").between(s, date!(2026 - 12 - 31), 10),
            vec![
                date!(2026 - 12 - 02),
                date!(2026 - 12 - 09),
                date!(2026 - 12 - 16)
            ]
        );
    }

    #[test]
    fn a_rule_that_almost_never_matches_returns_quickly() {
        // 2月30日 never comes; 2月29日 on a Monday comes rarely.
        let r = rule(date!(2026 - 01 - 01), "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30");
        assert_eq!(r.next(date!(2026 - 01 - 01), 3), Vec::<Date>::new());
        let r = rule(
            date!(2000 - 01 - 01),
            "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
        );
        assert_eq!(
            r.next(date!(2000 - 01 - 01), 2),
            vec![date!(2016 - 02 - 29), date!(2044 - 02 - 29)]
        );
        assert_eq!(
            r.between(date!(2090 - 01 - 01), date!(2100 - 12 - 31), 5),
            Vec::<Date>::new()
        );
    }

    /// Whether `d` matches a WEEKLY or MONTHLY BYDAY rule from `start`, day by day.
    fn brute_matches(
        start: Date,
        monthly: bool,
        interval: i64,
        days: &[(i16, u8)],
        d: Date,
    ) -> bool {
        if d < start {
            return false;
        }
        let wd = d.weekday().number_days_from_monday();
        if monthly {
            let months = |x: Date| i64::from(x.year()) * 12 + i64::from(u8::from(x.month()));
            if (months(d) - months(start)) % interval != 0 {
                return false;
            }
            let len = time::util::days_in_month(d.month(), d.year());
            days.iter().any(|&(k, w)| {
                w == wd
                    && match k {
                        0 => true,
                        k if k > 0 => (i16::from(d.day()) - 1) / 7 + 1 == k,
                        k => (i16::from(len) - i16::from(d.day())) / 7 + 1 == -k,
                    }
            })
        } else {
            let monday =
                |x: Date| x.to_julian_day() - i32::from(x.weekday().number_days_from_monday());
            let weeks = i64::from(monday(d) - monday(start)) / 7;
            weeks % interval == 0 && days.iter().any(|&(_, w)| w == wd)
        }
    }

    proptest! {
        #[test]
        fn between_equals_a_day_by_day_evaluation(
            start_offset in 0i32..1500,
            monthly in any::<bool>(),
            interval in 1i64..4,
            raw_days in proptest::collection::vec((-2i16..=5, 0u8..7), 1..4),
            from_offset in 0i32..1500,
            span in 0i32..400,
            skip in any::<bool>(),
        ) {
            let base = date!(2024 - 01 - 01).to_julian_day();
            let start = Date::from_julian_day(base + start_offset).unwrap();
            let from = Date::from_julian_day(base + from_offset).unwrap();
            let to = Date::from_julian_day(base + from_offset + span).unwrap();
            let codes = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
            // Plain weekdays, or numbered ones (monthly): never both (refused by problem()).
            let numbered = monthly && raw_days[0].0 != 0;
            let days: Vec<(i16, u8)> = raw_days
                .into_iter()
                .map(|(k, w)| match (numbered, k) {
                    (false, _) => (0, w),
                    (true, 0) => (1, w),
                    (true, k) => (k, w),
                })
                .collect();
            let byday: Vec<String> = days
                .iter()
                .map(|&(k, w)| if k == 0 { codes[w as usize].to_string() } else { format!("{k}{}", codes[w as usize]) })
                .collect();
            let freq = if monthly { "MONTHLY" } else { "WEEKLY" };
            let mut r = rule(start, &format!("FREQ={freq};INTERVAL={interval};BYDAY={}", byday.join(",")));
            r.skip_holidays = skip;
            prop_assert_eq!(r.problem(), None);
            let mut want = Vec::new();
            let mut d = from;
            while d <= to {
                if brute_matches(start, monthly, interval, &days, d) && !(skip && holiday_name(d).is_some()) {
                    want.push(d);
                }
                d = d.next_day().unwrap();
            }
            prop_assert_eq!(r.between(from, to, 1000), want);
        }
    }
}
