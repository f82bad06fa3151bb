//! Tonight's bed: the bed status (空床状況) of the services that admit patients — PCU, backup
//! hospital (在宅療養後方支援病院), emergency (緊急一時入院) and respite (レスパイト入院)
//! admission — and the rules of asking for one. Both are professional unless a facility opts
//! in. A status carries its age: older than the stale threshold it reads as unknown.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Visibility;
use super::schedule::{self, Period};
use super::vocabulary::ServiceKind;

/// The services that have a bed status and admission rules.
pub const CAPACITY_SERVICES: [ServiceKind; 4] = [
    ServiceKind::Pcu,
    ServiceKind::BackupHospital,
    ServiceKind::EmergencyAdmission,
    ServiceKind::RespiteAdmission,
];

/// Whether `kind` has a bed status and admission rules.
pub fn takes_admissions(kind: ServiceKind) -> bool {
    CAPACITY_SERVICES.contains(&kind)
}

/// A status older than this many hours is shown as unknown (`--capacity-stale-hours`).
pub const DEFAULT_STALE_HOURS: u32 = 72;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapacityStatus {
    Accepting,
    Limited,
    NotAccepting,
    Unknown,
}

impl CapacityStatus {
    pub const CODES: &'static str = "accepting, limited, not_accepting, unknown";

    /// Order of the physician's list: accepting first, then limited, unknown, not accepting.
    pub fn rank(self) -> u8 {
        match self {
            CapacityStatus::Accepting => 0,
            CapacityStatus::Limited => 1,
            CapacityStatus::Unknown => 2,
            CapacityStatus::NotAccepting => 3,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            CapacityStatus::Accepting => "accepting",
            CapacityStatus::Limited => "limited",
            CapacityStatus::NotAccepting => "not_accepting",
            CapacityStatus::Unknown => "unknown",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            CapacityStatus::Accepting => "受入可",
            CapacityStatus::Limited => "要相談",
            CapacityStatus::NotAccepting => "受入不可",
            CapacityStatus::Unknown => "不明",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            CapacityStatus::Accepting => "Accepting",
            CapacityStatus::Limited => "Limited — call first",
            CapacityStatus::NotAccepting => "Not accepting",
            CapacityStatus::Unknown => "Unknown",
        }
    }
}

/// The bed status of one service as last reported. A number with no timestamp is worthless,
/// so `updated_at` is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capacity {
    pub status: CapacityStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_beds: Option<u32>,
    /// Typical waiting time in days (PCU waiting lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The actor of the change (`role:account`, `update_link:<id>`, `sample`).
    #[serde(alias = "reported_by")]
    pub updated_by: String,
    /// RFC 3339 timestamp.
    #[serde(alias = "reported_at")]
    pub updated_at: String,
    /// `update_link` when reported through a facility update link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// Demo data from `data/sample/`, never a real report.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sample: bool,
    #[serde(default = "professional")]
    pub visibility: Visibility,
}

fn professional() -> Visibility {
    Visibility::Professional
}

impl Capacity {
    /// Whether the report is older than `stale_hours` at `now` (an unreadable time is stale).
    pub fn is_stale(&self, now: OffsetDateTime, stale_hours: u32) -> bool {
        match OffsetDateTime::parse(&self.updated_at, &Rfc3339) {
            Ok(at) => now - at > time::Duration::hours(i64::from(stale_hours)),
            Err(_) => true,
        }
    }

    /// The status to act on: the reported one while fresh, `unknown` once stale.
    pub fn effective(&self, now: OffsetDateTime, stale_hours: u32) -> CapacityStatus {
        if self.is_stale(now, stale_hours) {
            CapacityStatus::Unknown
        } else {
            self.status
        }
    }
}

/// How a request for admission is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteKind {
    Phone,
    Fax,
    /// A regional ICT network (地域医療連携ネットワーク), named in `value`.
    Ict,
    /// A web form, its URL in `value`.
    Web,
}

impl RouteKind {
    pub const CODES: &'static str = "phone, fax, ict, web";

    pub fn label_ja(self) -> &'static str {
        match self {
            RouteKind::Phone => "電話",
            RouteKind::Fax => "FAX",
            RouteKind::Ict => "ICT",
            RouteKind::Web => "Web",
        }
    }
}

/// One way to ask, with its own hours when they differ from the rules' hours (a day line at
/// the 地域連携室, a night line at the ward).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRoute {
    pub kind: RouteKind,
    /// The number, network name or URL.
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hours: Vec<Period>,
}

/// Who brings the patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// The hospital sends a car or staff.
    Hospital,
    Family,
    Ambulance,
}

impl Transport {
    pub const CODES: &'static str = "hospital, family, ambulance";

    pub fn label_ja(self) -> &'static str {
        match self {
            Transport::Hospital => "病院が迎え",
            Transport::Family => "家族",
            Transport::Ambulance => "救急車",
        }
    }
}

/// Who may be admitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eligibility {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cancer_only: bool,
    /// Only patients the home physician registered beforehand (事前登録).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub registered_in_advance: bool,
    /// How to register in advance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_age: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// How to request a backup, emergency or respite admission.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdmissionRules {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RequestRoute>,
    /// When requests are taken, for routes without hours of their own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hours: Vec<Period>,
    /// Referral documents needed (紹介状, 診療情報提供書, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transport: Vec<Transport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_stay_days: Option<u32>,
    #[serde(default)]
    pub eligibility: Eligibility,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_full: Option<String>,
    /// The information-sharing tool used with home-care teams.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info_sharing_tool: Option<String>,
    /// YYYY-MM-DD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reviewed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sample: bool,
    #[serde(default = "professional")]
    pub visibility: Visibility,
}

impl AdmissionRules {
    /// The hours of `route`: its own, else the rules'.
    fn hours_of<'a>(&'a self, route: &'a RequestRoute) -> &'a [Period] {
        if route.hours.is_empty() {
            &self.hours
        } else {
            &route.hours
        }
    }

    /// Whether requests are taken at `at` by some route: `None` when no hours are known.
    pub fn requests_open(&self, at: OffsetDateTime) -> Option<bool> {
        let local = schedule::jst(at);
        let mut known = !self.hours.is_empty();
        let mut open = schedule::open_at(&self.hours, local);
        for r in &self.routes {
            if !r.hours.is_empty() {
                known = true;
                open |= schedule::open_at(&r.hours, local);
            }
        }
        known.then_some(open)
    }

    /// The route to use at `at`: the first listed whose hours are open then; when no hours
    /// are known at all, the first route.
    pub fn route_now(&self, at: OffsetDateTime) -> Option<&RequestRoute> {
        let local = schedule::jst(at);
        match self.requests_open(at) {
            None => self.routes.first(),
            Some(_) => self
                .routes
                .iter()
                .find(|r| schedule::open_at(self.hours_of(r), local)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::schedule::{ClockTime, Day};
    use time::macros::datetime;

    fn cap(status: CapacityStatus, at: &str) -> Capacity {
        Capacity {
            status,
            free_beds: None,
            waiting_days: None,
            note: None,
            updated_by: "facility_editor:a@example.jp".into(),
            updated_at: at.into(),
            via: None,
            sample: false,
            visibility: Visibility::Professional,
        }
    }

    #[test]
    fn a_status_older_than_the_threshold_reads_unknown() {
        let c = cap(CapacityStatus::Accepting, "2026-11-28T12:00:00+09:00");
        // 72 h later exactly is still fresh; a minute more is stale.
        let fresh = datetime!(2026-12-01 12:00 +09:00);
        assert!(!c.is_stale(fresh, 72));
        assert_eq!(c.effective(fresh, 72), CapacityStatus::Accepting);
        let later = datetime!(2026-12-01 12:01 +09:00);
        assert!(c.is_stale(later, 72));
        assert_eq!(c.effective(later, 72), CapacityStatus::Unknown);
        assert_eq!(c.effective(later, 96), CapacityStatus::Accepting);
        assert!(cap(CapacityStatus::Accepting, "yesterday").is_stale(fresh, 72));
    }

    #[test]
    fn statuses_rank_accepting_limited_unknown_not_accepting() {
        let mut v = [
            CapacityStatus::NotAccepting,
            CapacityStatus::Unknown,
            CapacityStatus::Accepting,
            CapacityStatus::Limited,
        ];
        v.sort_by_key(|s| s.rank());
        assert_eq!(
            v.map(CapacityStatus::code),
            ["accepting", "limited", "unknown", "not_accepting"]
        );
    }

    #[test]
    fn the_route_now_follows_day_and_night_lines_across_a_holiday() {
        let weekdays = vec![Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri];
        let every = vec![
            Day::Mon,
            Day::Tue,
            Day::Wed,
            Day::Thu,
            Day::Fri,
            Day::Sat,
            Day::Sun,
            Day::Holiday,
        ];
        let t = |s| ClockTime::parse(s).unwrap();
        let rules = AdmissionRules {
            routes: vec![
                RequestRoute {
                    kind: RouteKind::Fax,
                    value: "048-000-0001".into(),
                    label: Some("地域連携室".into()),
                    hours: vec![Period {
                        days: weekdays,
                        from: t("09:00"),
                        to: t("17:00"),
                    }],
                },
                RequestRoute {
                    kind: RouteKind::Phone,
                    value: "048-000-0002".into(),
                    label: Some("夜間当直".into()),
                    hours: vec![Period {
                        days: every,
                        from: t("17:00"),
                        to: t("09:00"),
                    }],
                },
            ],
            ..Default::default()
        };
        let label = |at| rules.route_now(at).and_then(|r| r.label.as_deref());
        // Tue 10:00 → the FAX; Tue 22:00 and Wed 03:00 → the night line.
        assert_eq!(
            label(datetime!(2026-12-01 10:00 +09:00)),
            Some("地域連携室")
        );
        assert_eq!(label(datetime!(2026-12-01 22:00 +09:00)), Some("夜間当直"));
        assert_eq!(label(datetime!(2026-12-01 18:00 UTC)), Some("夜間当直"));
        // Mon 2026-11-23 is 勤労感謝の日: 10:00 has no route (the office is closed, the night
        // line opens at 17:00).
        assert_eq!(label(datetime!(2026-11-23 10:00 +09:00)), None);
        assert_eq!(
            rules.requests_open(datetime!(2026-11-23 10:00 +09:00)),
            Some(false)
        );
        assert_eq!(label(datetime!(2026-11-23 17:00 +09:00)), Some("夜間当直"));
        // No hours at all: the first route, and "unknown" for open.
        let plain = AdmissionRules {
            routes: vec![RequestRoute {
                hours: vec![],
                ..rules.routes[0].clone()
            }],
            ..Default::default()
        };
        assert_eq!(
            plain.requests_open(datetime!(2026-11-23 10:00 +09:00)),
            None
        );
        assert!(
            plain
                .route_now(datetime!(2026-11-23 10:00 +09:00))
                .is_some()
        );
    }
}
