//! Training and meetings (研修・会議): the region's 研修会, 症例検討会 and 連携会議 with their
//! organizer, areas, audience, schedule and place, and the one projection of an event by role.

use serde::{Deserialize, Serialize};

use super::{Audience, Recurrence, Visibility};

/// What kind of gathering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// 研修会
    Training,
    /// 症例検討会
    CaseConference,
    /// 多職種連携会議
    InterprofessionalMeeting,
    /// 緩和ケア連携推進会議
    NetworkMeeting,
    /// 市民公開講座
    PublicLecture,
}

impl EventKind {
    pub const ALL: &'static [EventKind] = &[
        EventKind::Training,
        EventKind::CaseConference,
        EventKind::InterprofessionalMeeting,
        EventKind::NetworkMeeting,
        EventKind::PublicLecture,
    ];
    pub const CODES: &'static str =
        "training, case_conference, interprofessional_meeting, network_meeting, public_lecture";

    pub fn code(self) -> &'static str {
        match self {
            EventKind::Training => "training",
            EventKind::CaseConference => "case_conference",
            EventKind::InterprofessionalMeeting => "interprofessional_meeting",
            EventKind::NetworkMeeting => "network_meeting",
            EventKind::PublicLecture => "public_lecture",
        }
    }

    pub fn from_code(s: &str) -> Option<EventKind> {
        EventKind::ALL.iter().copied().find(|k| k.code() == s)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            EventKind::Training => "研修会",
            EventKind::CaseConference => "症例検討会",
            EventKind::InterprofessionalMeeting => "多職種連携会議",
            EventKind::NetworkMeeting => "緩和ケア連携推進会議",
            EventKind::PublicLecture => "市民公開講座",
        }
    }
}

/// Who an event is meant for, by profession (職種).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profession {
    Physician,
    Nurse,
    Pharmacist,
    Dentist,
    DentalHygienist,
    CareManager,
    Therapist,
    SocialWorker,
    Dietitian,
    Citizen,
}

impl Profession {
    pub const ALL: &'static [Profession] = &[
        Profession::Physician,
        Profession::Nurse,
        Profession::Pharmacist,
        Profession::Dentist,
        Profession::DentalHygienist,
        Profession::CareManager,
        Profession::Therapist,
        Profession::SocialWorker,
        Profession::Dietitian,
        Profession::Citizen,
    ];
    pub const CODES: &'static str = "physician, nurse, pharmacist, dentist, dental_hygienist, care_manager, therapist, social_worker, dietitian, citizen";

    pub fn code(self) -> &'static str {
        match self {
            Profession::Physician => "physician",
            Profession::Nurse => "nurse",
            Profession::Pharmacist => "pharmacist",
            Profession::Dentist => "dentist",
            Profession::DentalHygienist => "dental_hygienist",
            Profession::CareManager => "care_manager",
            Profession::Therapist => "therapist",
            Profession::SocialWorker => "social_worker",
            Profession::Dietitian => "dietitian",
            Profession::Citizen => "citizen",
        }
    }

    pub fn from_code(s: &str) -> Option<Profession> {
        Profession::ALL.iter().copied().find(|p| p.code() == s)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Profession::Physician => "医師",
            Profession::Nurse => "看護師",
            Profession::Pharmacist => "薬剤師",
            Profession::Dentist => "歯科医師",
            Profession::DentalHygienist => "歯科衛生士",
            Profession::CareManager => "ケアマネジャー",
            Profession::Therapist => "リハビリ職",
            Profession::SocialWorker => "医療ソーシャルワーカー",
            Profession::Dietitian => "管理栄養士",
            Profession::Citizen => "市民",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    #[default]
    Scheduled,
    Cancelled,
}

/// Who holds it: a facility of the directory, or an organization named only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organizer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility_id: Option<String>,
    pub name: String,
}

/// Who may come, and who may see it at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventAudience {
    /// `public` (anyone) or `professional` (shown to signed-in accounts only).
    pub visibility: Visibility,
    #[serde(default)]
    pub professions: Vec<Profession>,
}

/// Where: a hall, online, or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPlace {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default)]
    pub online: bool,
    /// The meeting link (Zoom, Teams …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// `professional` keeps the link from the public even on a public event.
    pub link_visibility: Visibility,
}

/// A training session or meeting, one date or recurring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// `ev-<hex>`.
    pub id: String,
    pub kind: EventKind,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub organizer: Organizer,
    /// 二次医療圏 codes (at least one).
    pub areas: Vec<String>,
    pub audience: EventAudience,
    pub schedule: Recurrence,
    pub place: EventPlace,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    /// How to apply: a text or a URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply: Option<String>,
    /// Last day to apply, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    /// Continuing-education credits (単位), as the organizer states them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits: Option<String>,
    /// Materials (資料) URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub materials: Option<String>,
    #[serde(default)]
    pub status: EventStatus,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

/// The one projection of an event by role: `None` when `audience` may not know it exists
/// (a professional event to the public); otherwise the event with the link removed where the
/// audience may not see it, and the audit actor reduced to the role for non-internal eyes.
/// Every route (list, detail, feed, report) starts from this.
pub fn project_event(e: &Event, audience: Audience) -> Option<Event> {
    if !audience.may_see(e.audience.visibility) {
        return None;
    }
    let mut out = e.clone();
    if !audience.may_see(e.place.link_visibility) {
        out.place.link = None;
    }
    out.created_by = super::actor_as_seen(&e.created_by, audience);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(vis: Visibility, link_vis: Visibility) -> Event {
        serde_json::from_value(serde_json::json!({
            "id": "ev-1", "kind": "case_conference", "title": "症例検討会",
            "organizer": {"name": "テスト病院"}, "areas": ["1104"],
            "audience": {"visibility": vis, "professions": ["nurse"]},
            "schedule": {"start": "2026-12-08", "from": "18:30", "to": "20:00"},
            "place": {"online": true, "link": "https://example.jp/m", "link_visibility": link_vis},
            "created_by": "coordinator:c@example.jp", "created_at": "x", "updated_at": "x",
            "version": 1
        }))
        .unwrap()
    }

    #[test]
    fn projection_hides_professional_events_and_links() {
        let pro = event(Visibility::Professional, Visibility::Public);
        assert!(project_event(&pro, Audience::Public).is_none());
        assert!(project_event(&pro, Audience::Professional).is_some());
        let public = event(Visibility::Public, Visibility::Professional);
        let seen = project_event(&public, Audience::Public).unwrap();
        assert_eq!(seen.place.link, None);
        assert_eq!(seen.created_by, "coordinator");
        let seen = project_event(&public, Audience::Professional).unwrap();
        assert_eq!(seen.place.link.as_deref(), Some("https://example.jp/m"));
    }
}
