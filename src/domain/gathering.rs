//! Patient groups and salons (患者会・がんサロン・ピアサポート・遺族会・ボランティア): who hosts
//! them, where (or online), who may come, what it costs and when they meet. A group is a
//! facility of kind `patient_group` carrying a [`Gathering`]; it is placed at its own address,
//! else at its host's.

use serde::{Deserialize, Serialize};
use time::Date;

use super::consultation::codes;
use super::facility::Visibility;
use super::recurrence::Recurrence;

codes! {
    /// What kind of group.
    GatheringKind {
        PatientAssociation => "patient_association", "患者会";
        CancerSalon => "cancer_salon", "がんサロン";
        PeerSupport => "peer_support", "ピアサポート";
        Bereavement => "bereavement", "遺族会";
        Volunteer => "volunteer", "ボランティア";
    }
}

/// Who hosts a group: a facility of the directory, or an organization named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility_id: Option<String>,
    pub name: String,
}

/// A patient group's meetings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gathering {
    pub kind: GatheringKind,
    pub host: Host,
    /// Meets online (as well as, or instead of, at its place).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub online: bool,
    /// The online meeting's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// `professional` when the host gives the link only on request through a professional.
    #[serde(default)]
    pub link_visibility: Visibility,
    /// Who may join, e.g. がん患者さんとご家族（どなたでも）.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub who: Option<String>,
    /// e.g. 無料, 1回 100円（お茶代）.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<String>,
    /// e.g. 予約不要, 前日までに電話で.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking: Option<String>,
    pub schedule: Recurrence,
}

/// How many coming dates the detail lists.
pub const NEXT_DATES: usize = 3;

impl Gathering {
    /// Why this cannot be kept, naming the field under `gathering`.
    pub fn problem(&self) -> Option<(String, String)> {
        if self.host.name.trim().is_empty() || self.host.name.chars().count() > 200 {
            return Some((
                "gathering.host.name".into(),
                "主催の名前を 1〜200 文字で書いてください / Name the host (1–200 characters)."
                    .into(),
            ));
        }
        if let Some(link) = &self.link
            && !(link.starts_with("https://") || link.starts_with("http://"))
        {
            return Some((
                "gathering.link".into(),
                "オンラインの参加先は http(s):// で始まる URL です / The online link is an http(s) URL.".into(),
            ));
        }
        if self.link_visibility == Visibility::Internal {
            return Some((
                "gathering.link_visibility".into(),
                "public か professional です / public or professional.".into(),
            ));
        }
        for (name, v) in [
            ("who", &self.who),
            ("cost", &self.cost),
            ("booking", &self.booking),
        ] {
            if v.as_ref().is_some_and(|t| t.chars().count() > 500) {
                return Some((
                    format!("gathering.{name}"),
                    "500 文字までにしてください / At most 500 characters.".into(),
                ));
            }
        }
        self.schedule
            .problem()
            .map(|why| ("gathering.schedule".into(), why))
    }

    /// The next meeting dates on or after `today`.
    pub fn next_dates(&self, today: Date) -> Vec<Date> {
        self.schedule.next(today, NEXT_DATES)
    }
}
