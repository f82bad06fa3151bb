//! Who a facility works with (連携先): the backup hospital a home-care clinic has registered,
//! the nurse station or pharmacy it usually sends patients to. Professional, never public.

use serde::{Deserialize, Serialize};

use super::facility::Visibility;

/// Who may see a facility's partners.
pub const PARTNERS_VISIBILITY: Visibility = Visibility::Professional;

/// Most partners one facility lists.
pub const MAX_PARTNERS: usize = 100;

/// What the partner does for the facility's patients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartnerRole {
    /// 後方支援病院・緩和ケア病棟: admits the patient when home care fails.
    Backup,
    /// 訪問看護ステーション
    Nurse,
    /// 訪問薬剤管理指導を行う薬局
    Pharmacy,
    /// 訪問歯科
    Dental,
    /// 訪問診療の医療機関
    Physician,
}

impl PartnerRole {
    pub const ALL: &'static [PartnerRole] = &[
        PartnerRole::Backup,
        PartnerRole::Nurse,
        PartnerRole::Pharmacy,
        PartnerRole::Dental,
        PartnerRole::Physician,
    ];

    pub fn code(self) -> &'static str {
        match self {
            PartnerRole::Backup => "backup",
            PartnerRole::Nurse => "nurse",
            PartnerRole::Pharmacy => "pharmacy",
            PartnerRole::Dental => "dental",
            PartnerRole::Physician => "physician",
        }
    }

    pub fn from_code(code: &str) -> Option<PartnerRole> {
        PartnerRole::ALL.iter().copied().find(|r| r.code() == code)
    }

    pub fn codes() -> String {
        PartnerRole::ALL
            .iter()
            .map(|r| r.code())
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            PartnerRole::Backup => "後方支援",
            PartnerRole::Nurse => "訪問看護",
            PartnerRole::Pharmacy => "薬局",
            PartnerRole::Dental => "訪問歯科",
            PartnerRole::Physician => "訪問診療",
        }
    }
}

/// One provider a facility works with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partner {
    /// The partner's facility id.
    pub id: String,
    pub role: PartnerRole,
    /// How they work together (e.g. 夜間は当直医が対応), professional like the list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Whether `a` lists `b` or `b` lists `a` as a partner.
pub fn linked(a: &super::Facility, b: &super::Facility) -> bool {
    a.partners.iter().any(|p| p.id == b.id) || b.partners.iter().any(|p| p.id == a.id)
}
