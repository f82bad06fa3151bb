//! The expertise a region can call on, as counts per facility (not private people): 緩和医療
//! 専門医, 認定看護師, 緩和薬物療法認定薬剤師 …, with source and date. A person is named only when
//! they opt in and the coordinator publishes the name; otherwise the name is internal.

use serde::{Deserialize, Serialize};

use super::facility::Visibility;

macro_rules! roles {
    ($($variant:ident => $code:literal, $ja:literal, $en:literal;)+) => {
        /// A qualification counted per facility.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum SpecialistRole { $($variant),+ }

        impl SpecialistRole {
            pub const ALL: &'static [SpecialistRole] = &[$(SpecialistRole::$variant),+];
            pub fn code(self) -> &'static str { match self { $(SpecialistRole::$variant => $code),+ } }
            pub fn label_ja(self) -> &'static str { match self { $(SpecialistRole::$variant => $ja),+ } }
            pub fn label_en(self) -> &'static str { match self { $(SpecialistRole::$variant => $en),+ } }
            pub fn from_code(s: &str) -> Option<Self> { match s { $($code => Some(SpecialistRole::$variant),)+ _ => None } }
            pub fn codes() -> String { Self::ALL.iter().map(|r| r.code()).collect::<Vec<_>>().join(", ") }
        }
    };
}

roles! {
    PalliativePhysician => "palliative_physician", "緩和医療専門医", "Palliative medicine specialist";
    PalliativeCertifiedPhysician => "palliative_certified_physician", "緩和医療認定医", "Palliative medicine certified physician";
    PalliativeCareNurse => "palliative_care_nurse", "緩和ケア・がん性疼痛看護認定看護師", "Certified nurse in palliative care / cancer pain";
    OncologyNurseSpecialist => "oncology_nurse_specialist", "がん看護専門看護師", "Oncology certified nurse specialist";
    PalliativePharmacist => "palliative_pharmacist", "緩和薬物療法認定薬剤師", "Palliative pharmacotherapy certified pharmacist";
    HomeCarePhysician => "home_care_physician", "在宅医療専門医", "Home medical care specialist";
}

/// How many of one qualification a facility has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialistCount {
    pub role: SpecialistRole,
    pub count: u32,
}

/// A named person, shown only when published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedSpecialist {
    pub name: String,
    pub role: SpecialistRole,
    /// `public` once the person opted in and the coordinator published it; `internal` else.
    #[serde(default = "internal")]
    pub visibility: Visibility,
}

fn internal() -> Visibility {
    Visibility::Internal
}

/// A facility's specialists, with where the counts come from and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Specialists {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub counts: Vec<SpecialistCount>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub named: Vec<NamedSpecialist>,
    /// e.g. 日本緩和医療学会 専門医一覧, 施設の回答.
    pub source: String,
    /// YYYY-MM-DD of the source.
    pub as_of: String,
}

impl Specialists {
    /// Whether at least one person of `role` is counted.
    pub fn has(&self, role: SpecialistRole) -> bool {
        self.counts.iter().any(|c| c.role == role && c.count > 0)
    }
}
