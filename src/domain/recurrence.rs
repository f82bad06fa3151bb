//! Recurring meetings — a がんサロン's 毎月第2火曜 14:00–16:00, a 症例検討会 every other
//! Thursday — as RFC 5545 recurrence rules, with the exceptions people actually have: national
//! holidays skipped, single dates cancelled or added. Dates and times are JST wall-clock.
//!
//! (Interface fixed first so patient groups and events can use it; the expansion and the
//! Japanese wording are filled in with their tests.)

use serde::{Deserialize, Serialize};
use time::Date;

use super::schedule::ClockTime;

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
        None
    }

    /// In Japanese, e.g. `毎月第2火曜日 14:00–16:00（祝日は休み）`.
    pub fn label_ja(&self) -> String {
        self.rrule.clone().unwrap_or_default()
    }

    /// The dates on which it happens between `from` and `to` inclusive, at most `limit`.
    pub fn between(&self, from: Date, to: Date, limit: usize) -> Vec<Date> {
        let _ = (from, to, limit);
        vec![self.start]
    }

    /// The next `n` dates on or after `today`.
    pub fn next(&self, today: Date, n: usize) -> Vec<Date> {
        let _ = (today, n);
        vec![self.start]
    }
}
