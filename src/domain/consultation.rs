//! Consultation windows (相談窓口): where a patient, a family or a clinic asks — a hospital's
//! がん相談支援センター, its 地域医療連携室, the booking line of a 緩和ケア外来, a municipality's
//! 在宅医療・介護連携 相談窓口. A window belongs to a facility; it says who it is for, what it
//! answers, how to reach it (each route with its own visibility) and when.

use serde::{Deserialize, Serialize};
use time::PrimitiveDateTime;

use super::Audience;
use super::facility::{Hours, Provenance, Visibility};
use super::schedule::{self, Period};

macro_rules! codes {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $code:literal, $ja:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
            pub fn label_ja(self) -> &'static str {
                match self { $($name::$variant => $ja),+ }
            }
            pub fn codes() -> String {
                Self::ALL.iter().map(|k| k.code()).collect::<Vec<_>>().join(", ")
            }
        }
    };
}
pub(crate) use codes;

codes! {
    /// Which window.
    WindowKind {
        CancerSupportCenter => "cancer_support_center", "がん相談支援センター";
        RegionalLiaison => "regional_liaison", "地域医療連携室・入退院支援";
        PalliativeOutpatientBooking => "palliative_outpatient_booking", "緩和ケア外来の予約";
        HomeCareLiaison => "home_care_liaison", "在宅医療・介護連携 相談窓口";
    }
}

codes! {
    /// Who may ask.
    WindowFor {
        Patients => "patients", "患者さん・ご家族";
        Professionals => "professionals", "医療・介護の専門職";
        Both => "both", "患者さん・ご家族と専門職";
    }
}

codes! {
    /// What a window answers; each label is also what public search finds it by.
    Topic {
        Treatment => "treatment", "がんの治療・検査の相談";
        SecondOpinion => "second_opinion", "セカンドオピニオン";
        Pain => "pain", "痛み・つらさ・緩和ケアの相談";
        HomeCare => "home_care", "在宅療養の相談";
        Admission => "admission", "入院・転院・退院の相談";
        Costs => "costs", "医療費・生活費・制度の相談";
        Work => "work", "仕事と治療の両立";
        Family => "family", "家族・心のケアの相談";
        Hospice => "hospice", "緩和ケア病棟の相談";
        PatientSalon => "patient_salon", "患者会・がんサロンの案内";
        CareInsurance => "care_insurance", "介護保険・介護サービスの相談";
    }
}

codes! {
    /// How to reach a window.
    RouteKind {
        Phone => "phone", "電話";
        Fax => "fax", "FAX";
        Email => "email", "メール";
        Web => "web", "ウェブフォーム";
        Ict => "ict", "ICT（地域連携ネットワーク）";
        Visit => "visit", "窓口に来所";
    }
}

/// One way to reach a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub kind: RouteKind,
    /// The number, address, URL or network name.
    pub value: String,
    /// e.g. 代表電話から「がん相談」と, 直通, 医療機関専用
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Routes only for professionals (a clinics-only line, an ICT network) are `professional`.
    #[serde(default)]
    pub visibility: Visibility,
    /// Answered at any hour it is open (a web form, an ICT message) rather than only in the
    /// window's hours.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub any_time: bool,
}

/// A consultation window of a facility.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consultation {
    pub kind: WindowKind,
    /// As the facility calls it, e.g. がん相談支援センター.
    pub name: String,
    #[serde(rename = "for")]
    pub audience: WindowFor,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<Topic>,
    /// What it answers, in the facility's words (public, searchable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
    /// When it answers, in the facility schedule format.
    #[serde(default, skip_serializing_if = "Hours::is_empty")]
    pub hours: Hours,
    /// BCP 47 codes, e.g. ja, en; 通訳 in `answers`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// e.g. 無料.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<String>,
    /// A public remark, e.g. how the window is known and what to confirm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Confirmed with the facility (its name, routes and hours), not only derived from a list.
    #[serde(default)]
    pub verified: bool,
    /// Where it is known from, and the snapshot date (`as_of`).
    pub provenance: Provenance,
}

/// Which route to use at `at` (JST wall clock): the first route the audience may see whose
/// window is open now, or one answered any time.
pub fn route_now(
    c: &Consultation,
    audience: Audience,
    at: PrimitiveDateTime,
) -> (Option<bool>, Option<&Route>) {
    let open = (!c.hours.open.is_empty()).then(|| schedule::open_at(&c.hours.open, at));
    let visible = || c.routes.iter().filter(|r| audience.may_see(r.visibility));
    let route = match open {
        Some(false) => visible().find(|r| r.any_time),
        _ => visible()
            .find(|r| r.kind == RouteKind::Phone)
            .or_else(|| visible().next()),
    };
    (open, route)
}

/// When the window opens next after `at`, as `12月2日（水） 08:30`, when it is closed now.
pub fn next_open(periods: &[Period], at: PrimitiveDateTime) -> Option<String> {
    if periods.is_empty() || schedule::open_at(periods, at) {
        return None;
    }
    let mut date = at.date();
    for _ in 0..15 {
        let (day, _) = schedule::day_of(date);
        let start = periods
            .iter()
            .filter(|p| p.days.contains(&day))
            .map(|p| p.from)
            .filter(|from| date != at.date() || *from > schedule::ClockTime::of(at.time()))
            .min();
        if let Some(from) = start {
            return Some(format!(
                "{}月{}日（{}） {from}",
                u8::from(date.month()),
                date.day(),
                schedule::Day::of(date.weekday()).label_ja()
            ));
        }
        date = date.next_day()?;
    }
    None
}

impl Consultation {
    /// Why this window cannot be kept, naming the field under `at` (e.g. `consultations[0]`).
    pub fn problem(&self, at: &str) -> Option<(String, String)> {
        let field = |f: &str| format!("{at}.{f}");
        if self.name.trim().is_empty() || self.name.chars().count() > 100 {
            return Some((
                field("name"),
                "窓口の名前を 1〜100 文字で書いてください / Name the window (1–100 characters)."
                    .into(),
            ));
        }
        if self.routes.is_empty() {
            return Some((
                field("routes"),
                "連絡方法を 1 つ以上書いてください / Give at least one route (phone, fax, web, ict, email, visit).".into(),
            ));
        }
        for (i, r) in self.routes.iter().enumerate() {
            let bad = r.value.trim().is_empty()
                || r.value.chars().count() > 300
                || (r.kind == RouteKind::Web
                    && !(r.value.starts_with("https://") || r.value.starts_with("http://")));
            if bad {
                return Some((
                    field(&format!("routes[{i}].value")),
                    "連絡先を書いてください（ウェブは http(s):// で始まる URL） / Give the value (a web route is an http(s) URL).".into(),
                ));
            }
            if r.visibility == Visibility::Internal {
                return Some((
                    field(&format!("routes[{i}].visibility")),
                    "連絡方法は public か professional です / A route is public or professional."
                        .into(),
                ));
            }
        }
        for (i, p) in self.hours.open.iter().enumerate() {
            if let Some(why) = p.problem() {
                return Some((field(&format!("hours.open[{i}]")), why));
            }
        }
        if let Some((name, _)) = [
            ("answers", &self.answers),
            ("note", &self.note),
            ("fee", &self.fee),
        ]
        .into_iter()
        .find(|(_, v)| v.as_ref().is_some_and(|t| t.chars().count() > 1000))
        {
            return Some((
                field(name),
                "1000 文字までにしてください / At most 1000 characters.".into(),
            ));
        }
        if self.languages.iter().any(|l| {
            l.is_empty()
                || l.len() > 12
                || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        }) {
            return Some((
                field("languages"),
                "言語は ja, en, zh-CN のような BCP 47 の符号で書いてください / Languages are BCP 47 codes such as ja, en, zh-CN.".into(),
            ));
        }
        None
    }

    /// The public words it is found by: its name, kind, topics and what it answers.
    pub fn search_text(&self) -> String {
        let mut out = vec![self.name.as_str(), self.kind.label_ja()];
        out.extend(self.topics.iter().map(|t| t.label_ja()));
        out.extend(self.answers.as_deref());
        out.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::schedule::{ClockTime, Day};
    use time::macros::datetime;

    fn window() -> Consultation {
        Consultation {
            kind: WindowKind::CancerSupportCenter,
            name: "がん相談支援センター".into(),
            audience: WindowFor::Both,
            topics: vec![Topic::SecondOpinion],
            answers: None,
            routes: vec![
                Route {
                    kind: RouteKind::Ict,
                    value: "とねっと".into(),
                    label: None,
                    visibility: Visibility::Professional,
                    any_time: true,
                },
                Route {
                    kind: RouteKind::Phone,
                    value: "048-000-0000".into(),
                    label: Some("代表".into()),
                    visibility: Visibility::Public,
                    any_time: false,
                },
            ],
            hours: Hours {
                open: vec![Period {
                    days: vec![Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri],
                    from: ClockTime::parse("08:30").unwrap(),
                    to: ClockTime::parse("17:00").unwrap(),
                }],
                ..Hours::default()
            },
            languages: vec!["ja".into()],
            fee: None,
            note: None,
            verified: false,
            provenance: Provenance::dataset("test", "2025-09-01"),
        }
    }

    #[test]
    fn the_route_to_use_now_follows_the_hours_and_the_audience() {
        let w = window();
        // Tuesday 2026-12-01 10:00: open, the phone.
        let (open, r) = route_now(&w, Audience::Public, datetime!(2026-12-01 10:00));
        assert_eq!(
            (open, r.map(|r| r.kind)),
            (Some(true), Some(RouteKind::Phone))
        );
        // 20:00: closed; a professional may still write through the ICT network, the public has
        // nothing to use now and is told when it opens.
        let night = datetime!(2026-12-01 20:00);
        assert_eq!(route_now(&w, Audience::Public, night), (Some(false), None));
        assert_eq!(
            route_now(&w, Audience::Professional, night)
                .1
                .map(|r| r.kind),
            Some(RouteKind::Ict)
        );
        assert_eq!(
            next_open(&w.hours.open, night).as_deref(),
            Some("12月2日（水） 08:30")
        );
        // Friday evening → Monday; 2026-11-20 (Fri) 18:00 → 11-24 (Tue), since 11-23 is 勤労感謝の日.
        assert_eq!(
            next_open(&w.hours.open, datetime!(2026-11-20 18:00)).as_deref(),
            Some("11月24日（火） 08:30")
        );
        // Early morning of a weekday: later the same day.
        assert_eq!(
            next_open(&w.hours.open, datetime!(2026-12-01 07:00)).as_deref(),
            Some("12月1日（火） 08:30")
        );
        assert_eq!(next_open(&w.hours.open, datetime!(2026-12-01 10:00)), None);
    }

    #[test]
    fn problems_name_the_field() {
        let mut w = window();
        assert_eq!(w.problem("consultations[0]"), None);
        w.routes[1].value = " ".into();
        assert_eq!(
            w.problem("consultations[0]").unwrap().0,
            "consultations[0].routes[1].value"
        );
        w.routes.clear();
        assert_eq!(
            w.problem("consultations[0]").unwrap().0,
            "consultations[0].routes"
        );
    }
}
