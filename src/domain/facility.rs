//! A facility (one physical site) with its services, contacts, capacity and admission rules.
//! Every fact carries its provenance; every non-public field carries its visibility.

use serde::{Deserialize, Serialize};

use super::admission::{AdmissionRules, Capacity};
use super::formulary::FormularyEntry;
use super::schedule::Period;
use super::vocabulary::{FacilityKind, ServiceKind};

/// Who may see a field. Bed status, direct lines, referral FAX numbers, admission rules and the
/// exact formulary are `professional` unless a facility opts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    #[default]
    Public,
    Professional,
    Internal,
}

/// Where a fact came from. Only `dataset` facts may be overwritten by `pallimap data load`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// A public open dataset (ナビイ, 厚生局 届出, 介護サービス情報公表, …).
    Dataset,
    /// A coordinators' survey of facilities.
    Survey,
    /// A sample survey used for demos and tests; must be labelled sample wherever shown.
    SampleSurvey,
    /// Entered by the facility's own staff.
    Facility,
    /// Entered or corrected by a regional coordinator.
    Coordinator,
    /// Generated for benchmarks (`pallimap data synth`); never a real facility.
    Synthetic,
}

/// Provenance of one fact: which source, and the date of the source snapshot it was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub origin: Origin,
    /// Stable source name, e.g. `mhlw-navii-hospitals`.
    pub source: String,
    /// Date (YYYY-MM-DD) of the snapshot of the source, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
}

impl Provenance {
    pub fn dataset(source: &str, snapshot: &str) -> Self {
        Provenance {
            origin: Origin::Dataset,
            source: source.to_string(),
            snapshot: Some(snapshot.to_string()),
        }
    }
    pub fn is_dataset(&self) -> bool {
        self.origin == Origin::Dataset
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatLng {
    pub lat: f64,
    pub lng: f64,
}

/// How a facility's point was placed on the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// Coordinates published by the source itself.
    Source,
    /// Geocoded to the representative point of the 町丁目/大字.
    Town,
    /// Geocoded only to the municipality.
    City,
    /// Not placed.
    Unplaced,
}

impl Placement {
    pub fn code(self) -> &'static str {
        match self {
            Placement::Source => "source",
            Placement::Town => "town",
            Placement::City => "city",
            Placement::Unplaced => "unplaced",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        Some(match s {
            "source" => Placement::Source,
            "town" => Placement::Town,
            "city" => Placement::City,
            "unplaced" => Placement::Unplaced,
            _ => return None,
        })
    }
}

/// Identifiers in public registries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identifiers {
    /// ナビイ (医療情報ネット) ID, 13 digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub navii: Option<String>,
    /// 保険医療機関コード, 10 digits (prefecture 2 + point-table 1 + 7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hic: Option<String>,
    /// 介護保険事業所番号, 10 digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kaigo: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// 〒 as 7 digits, when published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// 都道府県名, e.g. 埼玉県.
    pub prefecture: String,
    /// 5-digit 市区町村コード (no check digit; 政令市 by ward).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub municipality_code: Option<String>,
    /// 市区町村名, e.g. さいたま市浦和区.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub municipality: Option<String>,
    /// The full address as published, including the prefecture.
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    Phone,
    Fax,
    Email,
    Web,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub kind: ContactKind,
    pub value: String,
    /// e.g. 代表, 地域連携室, 夜間
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default)]
    pub visibility: Visibility,
    pub provenance: Provenance,
}

/// Opening hours as far as sources publish them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hours {
    /// Weekdays closed every week: mon, tue, wed, thu, fri, sat, sun, holiday.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub closed_weekdays: Vec<String>,
    /// Free text (closed dates, hours), as published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Weekly openings in JST (see [`super::schedule`]); empty when not known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub open: Vec<Period>,
}

impl Hours {
    pub fn is_empty(&self) -> bool {
        self.closed_weekdays.is_empty() && self.note.is_none() && self.open.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ServiceStatus {
    #[default]
    Active,
    TemporarilyClosed,
    Inactive,
}

/// 在支診・在支病 tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HomeCareTier {
    /// 機能強化型（単独型）
    EnhancedSolo,
    /// 機能強化型（連携型）
    EnhancedLinked,
    /// 従来型
    Conventional,
}

impl HomeCareTier {
    pub fn label_ja(self) -> &'static str {
        match self {
            HomeCareTier::EnhancedSolo => "機能強化型（単独型）",
            HomeCareTier::EnhancedLinked => "機能強化型（連携型）",
            HomeCareTier::Conventional => "従来型",
        }
    }
}

/// 在宅療養支援歯科診療所 (歯援診) tier: 1 meets the stricter requirements (more home visits,
/// links with hospitals and care managers), 2 the basic ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DentalTier {
    #[serde(rename = "tier_1")]
    Tier1,
    #[serde(rename = "tier_2")]
    Tier2,
}

impl DentalTier {
    pub fn label_ja(self) -> &'static str {
        match self {
            DentalTier::Tier1 => "在宅療養支援歯科診療所１",
            DentalTier::Tier2 => "在宅療養支援歯科診療所２",
        }
    }
}

/// Typed attributes of a service. Unused ones stay empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceAttributes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<HomeCareTier>,
    /// 歯援診 tier of a `home_visit_dental` service, when notified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dental_tier: Option<DentalTier>,
    /// Beds dedicated to this service (e.g. PCU beds), when published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beds: Option<u32>,
    /// The 受理届出名称 (notified item) this service was derived from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notified_items: Vec<String>,
    /// 算定開始年月日 as YYYY-MM-DD (earliest, when several items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Published service radius for home visits; absent means the 16 km rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radius_km: Option<f64>,
    /// Opioid formulary of an `opioid_dispensing` service (professional unless opted in).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub formulary: Vec<FormularyEntry>,
    #[serde(default)]
    pub formulary_visibility: Visibility,
    /// Public notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// `aseptic_compounding`: in the pharmacy's own clean bench or a shared room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compounding: Option<Compounding>,
    /// `opioid_dispensing`: supports PCA pumps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pca_pump: Option<bool>,
    /// `opioid_dispensing`: supports continuous subcutaneous infusion (持続皮下注).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subcutaneous_infusion: Option<bool>,
    /// `opioid_dispensing`: takes back unused narcotics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub take_back: Option<bool>,
    /// `home_visits`: stays with patients dying at home (在宅看取り).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_of_life_care: Option<bool>,
    /// `home_visits`: provides palliative sedation at home.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub palliative_sedation: Option<bool>,
    /// `home_visits`: the clinic's specialty in its own words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specialty: Option<String>,
    /// Home-visit conditions (who, how to ask).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<String>,
    /// The survey answer set that last filled this service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey: Option<SurveyMark>,
}

impl ServiceAttributes {
    /// Forget what surveys fill, keeping what public sources give (tier, beds, 届出 items).
    pub fn clear_survey_fields(&mut self) {
        let keep = ServiceAttributes {
            tier: self.tier,
            dental_tier: self.dental_tier,
            beds: self.beds,
            notified_items: std::mem::take(&mut self.notified_items),
            since: self.since.take(),
            ..ServiceAttributes::default()
        };
        *self = keep;
    }
}

/// Where a pharmacy mixes injections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compounding {
    /// 自局のクリーンベンチ・安全キャビネット
    Own,
    /// 共同利用の無菌調剤室
    Shared,
}

/// Which answer set filled a service, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyMark {
    /// `pharmacy@1`
    pub survey: String,
    pub answered_at: String,
    /// A sample answer (demo data): labelled sample wherever shown.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sample: bool,
}

/// Whether a facility can be reached after hours (nights, holidays), as a survey answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AfterHours {
    pub available: bool,
    pub provenance: Provenance,
}

/// What a facility offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub kind: ServiceKind,
    #[serde(default)]
    pub status: ServiceStatus,
    #[serde(default)]
    pub attributes: ServiceAttributes,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Capacity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admission_rules: Option<AdmissionRules>,
    pub provenance: Provenance,
    /// Last edited (YYYY-MM-DD or RFC 3339).
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_by: Option<String>,
}

/// One physical site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facility {
    /// Stable id: `navii-<13>`, `kaigo-<10>`, `hic-<10>` or `gen-<hex>`; never changes once issued.
    pub id: String,
    pub kind: FacilityKind,
    pub name: String,
    /// Reading in katakana (フリガナ), when published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_kana: Option<String>,
    #[serde(default)]
    pub identifiers: Identifiers,
    pub address: Address,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<LatLng>,
    pub placement: Placement,
    /// 二次医療圏 code (4 digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area_code: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    #[serde(default, skip_serializing_if = "Hours::is_empty")]
    pub hours: Hours,
    /// Reachable after hours, as a survey answered (public; the number itself is a contact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_hours: Option<AfterHours>,
    /// Specialists as counts per qualification (public), and the names published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specialists: Option<super::specialist::Specialists>,
    /// Consultation windows (相談窓口): who may ask what, by which route, when.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consultations: Vec<super::consultation::Consultation>,
    /// A patient group's meetings (kind `patient_group` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gathering: Option<super::gathering::Gathering>,
    /// The providers the facility works with (連携先; professional, see
    /// [`super::partner::PARTNERS_VISIBILITY`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partners: Vec<super::partner::Partner>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Public free-text notes (e.g. 診療科).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Service>,
    /// Provenance of the facility's own core facts (name, address, location, contacts not listed separately).
    pub provenance: Provenance,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_by: Option<String>,
    /// `inactive`: closed or withdrawn; kept for history, gone from every list.
    #[serde(default, skip_serializing_if = "FacilityStatus::is_active")]
    pub status: FacilityStatus,
    /// Optimistic-concurrency version, kept by the store (1 on insert, +1 on every change);
    /// not part of the facility's facts, so not in its serialized form.
    #[serde(skip)]
    pub version: i64,
}

/// Whether a facility is still there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FacilityStatus {
    #[default]
    Active,
    Inactive,
    /// Kept, but shown in no list: it could not be re-verified (a coordinator's decision,
    /// undone by setting it active again).
    Withheld,
}

impl FacilityStatus {
    pub fn is_active(&self) -> bool {
        *self == FacilityStatus::Active
    }
}

impl Facility {
    /// Whether the facility currently offers the service (inactive ones are history, not offers).
    pub fn offers(&self, kind: ServiceKind) -> bool {
        self.services
            .iter()
            .any(|s| s.kind == kind && s.status != ServiceStatus::Inactive)
    }

    /// Services in their canonical order (by code), as the store returns them.
    pub fn canonicalize(&mut self) {
        self.services.sort_by_key(|s| s.kind.code());
    }

    /// Whether the facility can be reached after hours: as a survey answered, else yes for
    /// services that by their rules keep a 24-hour line (在支診・在支病, 定期巡回), else unknown.
    pub fn reachable_after_hours(&self) -> Option<bool> {
        if let Some(a) = &self.after_hours {
            return Some(a.available);
        }
        [
            ServiceKind::HomeCareSupport,
            ServiceKind::EnhancedHomePalliative,
            ServiceKind::RegularVisit24h,
        ]
        .into_iter()
        .any(|k| self.offers(k))
        .then_some(true)
    }

    pub fn has_service(&self, kind: ServiceKind) -> bool {
        self.services
            .iter()
            .any(|s| s.kind == kind && s.status != ServiceStatus::Inactive)
    }
}
