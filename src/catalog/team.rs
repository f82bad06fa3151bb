//! The discharge nurse's question before 退院前カンファレンス: who can serve this patient's home —
//! per role (physician, nurse, pharmacy, dental, backup, PCU) the providers that reach it and meet
//! the constraints, ranked with their reasons, and a proposed team that prefers providers already
//! linked to the proposed physician. Pure over one snapshot: the home is an argument, never kept.
//!
//! Ranking, per role, by this key (smaller first); [`RANKING`] says the same to users:
//! 1. an id the caller asked to `include`;
//! 2. linked to the proposed physician (not for the physician itself): the physician's partners
//!    name the candidate, or the candidate's partners name the physician;
//! 3. the role's own order: physician with `prefer` — 充実加算 first when `enhanced` is asked,
//!    then 機能強化型 単独 > 連携 > 従来型 > others when `reinforced` is asked; pharmacy with
//!    `opioids` — every product in stock > through a partner of its group > on order; backup and
//!    PCU — the best bed status of the role's services as the caller may see it now (accepting >
//!    limited > unknown, a stale report counting as unknown > not accepting);
//! 4. reachable after hours known yes;
//! 5. distance (great-circle);
//! 6. id.
//!
//! The physician is ranked first and its top candidate not excluded is proposed; the other roles
//! are ranked with the links of that physician.

use std::cell::OnceCell;
use std::collections::HashSet;

use time::OffsetDateTime;

use super::query::{Availability, Bits, FormularyFilter, RARE_FACTOR, formulary_sets};
use super::records::{Entry, Offer};
use super::{Catalog, backup};
use crate::domain::{
    Audience, CapacityStatus, Facility, FacilityKind, HOME_VISIT_RADIUS_KM, HomeCareTier,
    ServiceKind, ServiceStatus, haversine_m,
};

/// How far (km) the nearest providers that almost qualify are looked for.
pub const ALMOST_KM: f64 = 50.0;
/// How many of them are shown per role.
pub const ALMOST_MAX: usize = 3;

/// What the distances are.
pub const DISTANCE_NOTE: &str = "直線距離です。道のりはこれより長くなります / Great-circle distance: the way by road is longer.";

/// The ranking, as the answer states it.
pub const RANKING: &str = "順位: ①指定した候補（include） ②提案した訪問診療医との連携（医師の連携先に登録されている、または医師を連携先に登録している） ③役割ごとの優先度 — 訪問診療: prefer に応じて 充実加算 ＞ 機能強化型（単独型）＞ 機能強化型（連携型）＞ 従来型 ＞ その他、薬局: 麻薬が全品在庫 ＞ 譲渡グループの薬局から ＞ 取り寄せ、後方支援病院・緩和ケア病棟: 空床あり ＞ 要相談 ＞ 不明（古い報告を含む）＞ 受入不可 ④時間外対応あり ⑤距離（直線） ⑥ID / Ranked by: ids you included; linked to the proposed physician (either lists the other as a partner); the role's order (physician as `prefer` asks: enhanced palliative care, then reinforced solo > linked > conventional > others; pharmacy: all opioids in stock > via a partner of its group > on order; backup and PCU: accepting > limited > unknown or stale > not accepting); reachable after hours; great-circle distance; id.";

/// A member of the home palliative-care team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TeamRole {
    /// 訪問診療医: 在宅療養支援診療所・病院, 在宅緩和ケア充実, 訪問診療.
    Physician,
    /// 訪問看護ステーション
    Nurse,
    /// 訪問薬剤管理指導を行う薬局
    Pharmacy,
    /// 訪問歯科
    Dental,
    /// 後方支援病院（緊急一時入院・レスパイト入院）
    Backup,
    /// 緩和ケア病棟
    Pcu,
    /// ケアマネジャー（居宅介護支援事業所）: no data in this dataset yet.
    CareManager,
}

impl TeamRole {
    pub const ALL: &'static [TeamRole] = &[
        TeamRole::Physician,
        TeamRole::Nurse,
        TeamRole::Pharmacy,
        TeamRole::Dental,
        TeamRole::Backup,
        TeamRole::Pcu,
        TeamRole::CareManager,
    ];

    pub fn code(self) -> &'static str {
        match self {
            TeamRole::Physician => "physician",
            TeamRole::Nurse => "nurse",
            TeamRole::Pharmacy => "pharmacy",
            TeamRole::Dental => "dental",
            TeamRole::Backup => "backup",
            TeamRole::Pcu => "pcu",
            TeamRole::CareManager => "care_manager",
        }
    }

    pub fn from_code(code: &str) -> Option<TeamRole> {
        TeamRole::ALL.iter().copied().find(|r| r.code() == code)
    }

    pub fn codes() -> String {
        TeamRole::ALL
            .iter()
            .map(|r| r.code())
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            TeamRole::Physician => "訪問診療医（在宅療養支援診療所など）",
            TeamRole::Nurse => "訪問看護ステーション",
            TeamRole::Pharmacy => "薬局（訪問薬剤管理）",
            TeamRole::Dental => "訪問歯科",
            TeamRole::Backup => "後方支援病院（緊急・レスパイト入院）",
            TeamRole::Pcu => "緩和ケア病棟",
            TeamRole::CareManager => "ケアマネジャー（居宅介護支援事業所）",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            TeamRole::Physician => "Home-visit physician",
            TeamRole::Nurse => "Visiting nurse station",
            TeamRole::Pharmacy => "Pharmacy (home medication management)",
            TeamRole::Dental => "Home-visit dentist",
            TeamRole::Backup => "Backup hospital (emergency or respite admission)",
            TeamRole::Pcu => "Palliative care unit",
            TeamRole::CareManager => "Care manager",
        }
    }

    /// What the role is called in a "none found" sentence.
    fn noun(self) -> &'static str {
        match self {
            TeamRole::Physician => "訪問診療の医療機関",
            TeamRole::Nurse => "訪問看護ステーション",
            TeamRole::Pharmacy => "薬局",
            TeamRole::Dental => "訪問歯科",
            TeamRole::Backup => "後方支援病院",
            TeamRole::Pcu => "緩和ケア病棟",
            TeamRole::CareManager => "居宅介護支援事業所",
        }
    }

    /// The services that make a facility a provider of the role (any one of them, active).
    pub fn services(self) -> &'static [ServiceKind] {
        match self {
            TeamRole::Physician => &[
                ServiceKind::HomeCareSupport,
                ServiceKind::EnhancedHomePalliative,
                ServiceKind::HomeVisits,
            ],
            TeamRole::Nurse => &[ServiceKind::VisitingNursing],
            TeamRole::Pharmacy => &[ServiceKind::HomeMedicationManagement],
            TeamRole::Dental => &[ServiceKind::HomeVisitDental],
            TeamRole::Backup => &[
                ServiceKind::BackupHospital,
                ServiceKind::EmergencyAdmission,
                ServiceKind::RespiteAdmission,
            ],
            TeamRole::Pcu => &[ServiceKind::Pcu],
            TeamRole::CareManager => &[],
        }
    }

    /// The facility kinds a provider of the role may be (`None`: any).
    pub fn kinds(self) -> Option<&'static [FacilityKind]> {
        match self {
            TeamRole::Physician => Some(&[FacilityKind::Clinic, FacilityKind::Hospital]),
            _ => None,
        }
    }

    /// Whether the role comes to the home (reach: the service's radius or 16 km) rather than
    /// admitting the patient (reach: `max_km` from the home).
    pub fn visits(self) -> bool {
        !matches!(self, TeamRole::Backup | TeamRole::Pcu)
    }
}

/// What a physician is preferred for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prefer {
    /// 機能強化型 在支診・在支病 (単独型 before 連携型).
    Reinforced,
    /// 在宅緩和ケア充実診療所・病院 (充実加算).
    Enhanced,
}

impl Prefer {
    pub fn from_code(code: &str) -> Option<Prefer> {
        match code {
            "reinforced" => Some(Prefer::Reinforced),
            "enhanced" => Some(Prefer::Enhanced),
            _ => None,
        }
    }
}

/// One role asked for, with its constraints.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleAsk {
    pub role: TeamRole,
    /// Pharmacy: the opioids to be covered at the filter's stock level (ranked by its tiers).
    pub formulary: Option<FormularyFilter>,
    /// Only providers reachable after hours (known yes).
    pub after_hours: bool,
    /// Physician: what to rank first.
    pub prefer: Vec<Prefer>,
    /// Ids ranked first when they qualify.
    pub include: Vec<String>,
    /// Ids never proposed (still listed where they rank, marked).
    pub exclude: Vec<String>,
}

impl RoleAsk {
    pub fn new(role: TeamRole) -> RoleAsk {
        RoleAsk {
            role,
            formulary: None,
            after_hours: false,
            prefer: Vec::new(),
            include: Vec::new(),
            exclude: Vec::new(),
        }
    }
}

/// The whole question.
#[derive(Debug, Clone)]
pub struct TeamAsk {
    /// The patient's home (lat, lng).
    pub home: (f64, f64),
    /// Each role at most once.
    pub roles: Vec<RoleAsk>,
    /// Candidates per role (more when more ids are included).
    pub limit: usize,
    /// Backup and PCU: how far from the home, km.
    pub max_km: f64,
    pub audience: Audience,
    pub now: OffsetDateTime,
    /// A bed status older than this counts as unknown.
    pub stale_hours: u32,
}

/// Where a candidate's reach comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReachRule {
    /// The service area the provider published.
    Published,
    /// The 16 km rule of insurance-covered home visits.
    Rule16km,
    /// The caller's `max_km` (backup, PCU).
    MaxKm,
}

impl ReachRule {
    pub fn code(self) -> &'static str {
        match self {
            ReachRule::Published => "published",
            ReachRule::Rule16km => "16km",
            ReachRule::MaxKm => "max_km",
        }
    }
}

/// A bed status as the caller sees it, with the report's age.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bed {
    /// The status to act on (unknown when hidden, never reported or stale).
    pub status: CapacityStatus,
    /// Hours since the report the status comes from, when one is visible.
    pub age_hours: Option<f64>,
}

/// One provider that can serve the home.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub ord: u32,
    pub distance_m: f64,
    pub reach_m: f64,
    pub reach_rule: ReachRule,
    pub included: bool,
    pub excluded: bool,
    pub linked: bool,
    /// Step 3 of the ranking (smaller first).
    pub tier: u8,
    pub after_hours: Option<bool>,
    /// Pharmacy with opioids asked: how it supplies them.
    pub availability: Option<Availability>,
    /// Backup and PCU.
    pub bed: Option<Bed>,
    /// Why it ranks where it does, in Japanese.
    pub reasons: Vec<String>,
}

/// A provider of the role that fails one check only (or an included id that fails).
#[derive(Debug, Clone, PartialEq)]
pub struct Almost {
    pub ord: u32,
    /// `None` for a facility without a location.
    pub distance_m: Option<f64>,
    pub why: String,
}

/// The answer for one role.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleAnswer {
    pub role: TeamRole,
    /// The ranked candidates shown: all of them up to the `limit`-th not excluded (more when
    /// more ids were included); excluded ones where they rank.
    pub candidates: Vec<Candidate>,
    /// How many qualify in all.
    pub total: usize,
    /// The first candidate not excluded.
    pub proposed: Option<u32>,
    /// Said plainly when nobody is proposed.
    pub none: Option<String>,
    /// Included ids that do not qualify (first, with every reason), then — when nobody is
    /// proposed — the nearest providers that fail only one check.
    pub almost: Vec<Almost>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TeamAnswer {
    /// In the order asked.
    pub roles: Vec<RoleAnswer>,
}

/// Answer `ask` over `c`.
pub fn assemble(c: &Catalog, ask: &TeamAsk) -> TeamAnswer {
    let near = Near {
        c,
        home: ask.home,
        visiting: OnceCell::new(),
    };
    let physician = ask
        .roles
        .iter()
        .find(|r| r.role == TeamRole::Physician)
        .map(|r| rank_role(&near, ask, r, None));
    let lead = physician.as_ref().and_then(|a| a.proposed).map(|o| c.at(o));
    let roles = ask
        .roles
        .iter()
        .map(|r| match (&physician, r.role) {
            (Some(p), TeamRole::Physician) => p.clone(),
            _ => rank_role(&near, ask, r, lead.as_deref()),
        })
        .collect();
    TeamAnswer { roles }
}

/// Whether a service makes its facility a provider of some role (the services a compact
/// record keeps as [`Offer`]s).
pub fn provides(kind: ServiceKind) -> bool {
    TeamRole::ALL.iter().any(|r| r.services().contains(&kind))
}

/// The role's active services at the facility of `e`, if it is a provider of the role: read
/// from the compact record, so ranking the providers near a home decodes none of them.
fn role_offers(e: &Entry, role: TeamRole) -> impl Iterator<Item = &Offer> + Clone {
    let of_kind = role.kinds().is_none_or(|k| k.contains(&e.kind));
    e.offers
        .iter()
        .filter(move |o| of_kind && role.services().contains(&o.kind))
}

/// How far the role's services at a facility reach: the largest published radius, else the
/// 16 km rule; `max_km` for backup and PCU.
pub fn reach<'o>(
    services: impl Iterator<Item = &'o Offer>,
    role: TeamRole,
    max_km: f64,
) -> (f64, ReachRule) {
    if !role.visits() {
        return (max_km * 1000.0, ReachRule::MaxKm);
    }
    services
        .map(|s| match s.radius_km {
            Some(r) => (r * 1000.0, ReachRule::Published),
            None => (HOME_VISIT_RADIUS_KM * 1000.0, ReachRule::Rule16km),
        })
        .reduce(|a, b| {
            if b.0 > a.0 || (b.0 == a.0 && b.1 == ReachRule::Published) {
                b
            } else {
                a
            }
        })
        .unwrap_or((HOME_VISIT_RADIUS_KM * 1000.0, ReachRule::Rule16km))
}

/// The facilities offering any of the role's services (of the role's kinds), located.
fn population(c: &Catalog, role: TeamRole) -> Bits {
    let n = c.len();
    let mut bits = Bits::empty(n);
    for s in role.services() {
        if let Some(b) = c.by_service.get(s) {
            bits.or(b);
        }
    }
    if let Some(kinds) = role.kinds() {
        let mut k = Bits::empty(n);
        for kind in kinds {
            if let Some(b) = c.by_kind.get(kind) {
                k.or(b);
            }
        }
        bits.and(&k);
    }
    bits.and(&c.located);
    bits
}

/// The members of `bits` within `radius_m` of `p` with their distances: a rare set is measured
/// directly, a common one through the R-tree.
fn around(c: &Catalog, bits: &Bits, p: (f64, f64), radius_m: f64) -> Vec<(u32, f64)> {
    let rare_max = (RARE_FACTOR * c.len() as f64).sqrt() as usize;
    if bits.count() <= rare_max {
        bits.iter()
            .filter_map(|ord| {
                let l = c.entry(ord).location?;
                let d = haversine_m(p, (l.lat, l.lng));
                (d <= radius_m).then_some((ord, d))
            })
            .collect()
    } else {
        c.spatial
            .within_unsorted(p.0, p.1, radius_m)
            .into_iter()
            .filter(|(ord, _)| bits.contains(*ord))
            .collect()
    }
}

/// The providers near the home, shared by the roles of one question: every located facility
/// within the largest home-visit reach is measured once, when a common role first needs it.
struct Near<'c> {
    c: &'c Catalog,
    home: (f64, f64),
    visiting: OnceCell<Vec<(u32, f64)>>,
}

impl Near<'_> {
    /// The members of `bits` within `radius_m` of the home, in no particular order.
    fn members(&self, bits: &Bits, radius_m: f64) -> Vec<(u32, f64)> {
        let c = self.c;
        let rare_max = (RARE_FACTOR * c.len() as f64).sqrt() as usize;
        if bits.count() <= rare_max {
            return around(c, bits, self.home, radius_m);
        }
        if radius_m <= c.max_reach_m {
            return self
                .visiting
                .get_or_init(|| {
                    c.spatial
                        .within_unsorted(self.home.0, self.home.1, c.max_reach_m)
                })
                .iter()
                .filter(|(ord, d)| *d <= radius_m && bits.contains(*ord))
                .copied()
                .collect();
        }
        c.spatial
            .within_unsorted(self.home.0, self.home.1, radius_m)
            .into_iter()
            .filter(|(ord, _)| bits.contains(*ord))
            .collect()
    }
}

/// What one role asks of a provider, with the sets computed once per question.
struct Checks<'a> {
    ask: &'a TeamAsk,
    role: &'a RoleAsk,
    /// Pharmacies covering the opioids, and their tiers.
    formulary: Option<(Bits, super::query::Tiers)>,
}

/// The checks a provider of the role can fail (bits of [`Checks::failed`]).
const FAR: u8 = 1;
const NOT_AFTER_HOURS: u8 = 2;
const NO_OPIOIDS: u8 = 4;

impl Checks<'_> {
    /// The checks a provider of the role at distance `d` fails, as bits: cheap, so every
    /// provider near the home is asked; [`Checks::why`] words them for the few shown.
    fn failed(&self, ord: u32, after_hours: Option<bool>, d: f64, reach_m: f64) -> u8 {
        let mut bits = 0;
        if d > reach_m {
            bits |= FAR;
        }
        if self.role.after_hours && after_hours != Some(true) {
            bits |= NOT_AFTER_HOURS;
        }
        if let Some((accepted, _)) = &self.formulary
            && !accepted.contains(ord)
        {
            bits |= NO_OPIOIDS;
        }
        bits
    }

    /// One sentence per failed check.
    fn why(&self, failed: u8, after_hours: Option<bool>, d: f64, reach_m: f64) -> String {
        let mut why = Vec::new();
        if failed & FAR != 0 {
            why.push(if self.role.role.visits() {
                format!("{}（訪問範囲 {} の外）", km(d), km(reach_m))
            } else {
                format!("{}（{} より遠い）", km(d), km(reach_m))
            });
        }
        if failed & NOT_AFTER_HOURS != 0 {
            why.push(match after_hours {
                Some(false) => "時間外対応なし".to_string(),
                _ => "時間外対応が確認できません".to_string(),
            });
        }
        if let (true, Some(ff)) = (failed & NO_OPIOIDS != 0, &self.role.formulary) {
            let products: Vec<String> = ff.products.iter().map(|p| p.label_ja()).collect();
            why.push(format!(
                "麻薬: {}が{}",
                products.join("・"),
                match ff.stock {
                    crate::domain::Stock::Always if !ff.partners => "在庫なし",
                    crate::domain::Stock::Always => "在庫なし（譲渡グループにもなし）",
                    _ => "在庫・取り寄せとも確認できません",
                }
            ));
        }
        why.join("、")
    }
}

/// A distance in km with one decimal.
fn km(m: f64) -> String {
    let k = m / 1000.0;
    if (k - k.round()).abs() < 1e-9 {
        format!("{} km", k.round())
    } else {
        format!("{k:.1} km")
    }
}

/// How long ago, in Japanese.
fn ago(hours: f64) -> String {
    if hours < 1.0 {
        format!("{}分前", (hours * 60.0).floor().max(0.0))
    } else if hours < 48.0 {
        format!("{}時間前", hours.floor())
    } else {
        format!("{}日前", (hours / 24.0).floor())
    }
}

/// The physician's order when `prefer` asks (see the module documentation).
fn physician_tier<'o>(services: impl Iterator<Item = &'o Offer> + Clone, prefer: &[Prefer]) -> u8 {
    let enhanced = services
        .clone()
        .any(|s| s.kind == ServiceKind::EnhancedHomePalliative);
    let a = if prefer.contains(&Prefer::Enhanced) && !enhanced {
        1
    } else {
        0
    };
    let b = if prefer.contains(&Prefer::Reinforced) {
        services
            .filter_map(|s| s.tier)
            .map(|t| match t {
                HomeCareTier::EnhancedSolo => 0,
                HomeCareTier::EnhancedLinked => 1,
                HomeCareTier::Conventional => 2,
            })
            .min()
            .unwrap_or(3)
    } else {
        0
    };
    a * 4 + b
}

/// The best bed status of `f`'s services of `kinds` as `ask.audience` sees it now, and its
/// report's age.
fn bed(f: &Facility, kinds: &[ServiceKind], ask: &TeamAsk) -> Bed {
    let assessed = backup::assess(f, kinds, ask.audience, ask.now, ask.stale_hours);
    let mut best: Option<Bed> = None;
    for b in &assessed {
        let age_hours = f
            .services
            .iter()
            .find(|s| s.kind == b.kind && s.status == ServiceStatus::Active)
            .and_then(|s| s.capacity.as_ref())
            .filter(|c| ask.audience.may_see(c.visibility))
            .and_then(|c| {
                time::OffsetDateTime::parse(
                    &c.updated_at,
                    &time::format_description::well_known::Rfc3339,
                )
                .ok()
            })
            .map(|at| (ask.now - at).as_seconds_f64() / 3600.0);
        let this = Bed {
            status: b.status,
            age_hours,
        };
        best = match best {
            None => Some(this),
            Some(o) if this.status.rank() < o.status.rank() => Some(this),
            Some(o)
                if this.status.rank() == o.status.rank()
                    && this.age_hours.unwrap_or(f64::INFINITY)
                        < o.age_hours.unwrap_or(f64::INFINITY) =>
            {
                Some(this)
            }
            keep => keep,
        };
    }
    best.unwrap_or(Bed {
        status: CapacityStatus::Unknown,
        age_hours: None,
    })
}

fn bed_reason(b: &Bed, stale_hours: u32) -> String {
    let age = b.age_hours.map(ago);
    match (b.status, age) {
        (CapacityStatus::Accepting, Some(a)) => format!("空床あり（{a}）"),
        (CapacityStatus::Limited, Some(a)) => format!("要相談（{a}）"),
        (CapacityStatus::NotAccepting, Some(a)) => format!("受入不可（{a}）"),
        (CapacityStatus::Unknown, Some(a))
            if b.age_hours.is_some_and(|h| h > f64::from(stale_hours)) =>
        {
            format!("空床情報が古い（最終報告 {a}）")
        }
        (s, Some(a)) => format!("{}（{a}）", s.label_ja()),
        (_, None) => "空床情報なし".to_string(),
    }
}

/// The sort key of a candidate (see the module documentation).
fn key(c: &Candidate) -> (bool, bool, u8, bool, f64) {
    (
        !c.included,
        !c.linked,
        c.tier,
        c.after_hours != Some(true),
        c.distance_m,
    )
}

fn rank_role(near: &Near<'_>, ask: &TeamAsk, r: &RoleAsk, lead: Option<&Facility>) -> RoleAnswer {
    let c = near.c;
    let role = r.role;
    if role == TeamRole::CareManager {
        return RoleAnswer {
            role,
            candidates: Vec::new(),
            total: 0,
            proposed: None,
            none: Some("この地域の居宅介護支援事業所のデータはまだありません".to_string()),
            almost: Vec::new(),
        };
    }
    let checks = Checks {
        ask,
        role: r,
        formulary: match (&r.formulary, role) {
            (Some(ff), TeamRole::Pharmacy) => Some(formulary_sets(c, ff)),
            _ => None,
        },
    };
    let bits = population(c, role);
    let bound = if role.visits() {
        c.max_reach_m
    } else {
        ask.max_km * 1000.0
    };
    let include: HashSet<&str> = r.include.iter().map(String::as_str).collect();
    let exclude: HashSet<&str> = r.exclude.iter().map(String::as_str).collect();
    let lead_partners: HashSet<&str> = lead
        .map(|l| l.partners.iter().map(|p| p.id.as_str()).collect())
        .unwrap_or_default();
    let mut found: Vec<Candidate> = Vec::new();
    let mut included_fails: Vec<(u32, Almost)> = Vec::new();
    let after_hours = c.by_trait.get(&super::Trait::AfterHours);
    for (ord, d) in near.members(&bits, bound) {
        // A provider that fails a check is only listed when it was asked for by id: rule out
        // the rest from the compact fields before decoding the record.
        let cheap_fail = (role.visits() && c.reach_m[ord as usize].is_some_and(|m| d > m))
            || (r.after_hours && !after_hours.is_some_and(|b| b.contains(ord)));
        let e = c.entry(ord);
        if cheap_fail && !include.contains(&*e.id) {
            continue;
        }
        let services = role_offers(e, role);
        if services.clone().next().is_none() {
            continue;
        }
        let (reach_m, reach_rule) = reach(services.clone(), role, ask.max_km);
        let failed = checks.failed(ord, e.after_hours, d, reach_m);
        let included = include.contains(&*e.id);
        if failed != 0 {
            if included {
                included_fails.push((
                    ord,
                    Almost {
                        ord,
                        distance_m: Some(d),
                        why: checks.why(failed, e.after_hours, d, reach_m),
                    },
                ));
            }
            continue;
        }
        // Only the partners and the bed status need the whole record.
        let linked = role != TeamRole::Physician
            && lead.is_some_and(|l| {
                lead_partners.contains(&*e.id)
                    || (e.has_partners && c.at(ord).partners.iter().any(|p| p.id == l.id))
            });
        let availability = checks.formulary.as_ref().map(|(_, t)| t.of(ord));
        let bed = (!role.visits()).then(|| {
            let kinds: Vec<ServiceKind> = services.clone().map(|s| s.kind).collect();
            bed(&c.at(ord), &kinds, ask)
        });
        let tier = match role {
            TeamRole::Physician if !r.prefer.is_empty() => physician_tier(services, &r.prefer),
            TeamRole::Pharmacy => availability.map_or(0, |a| a as u8),
            TeamRole::Backup | TeamRole::Pcu => bed.map_or(2, |b| b.status.rank()),
            _ => 0,
        };
        found.push(Candidate {
            ord,
            distance_m: d,
            reach_m,
            reach_rule,
            included,
            excluded: exclude.contains(&*e.id),
            linked,
            tier,
            after_hours: e.after_hours,
            availability,
            bed,
            reasons: Vec::new(),
        });
    }
    let order = |a: &Candidate, b: &Candidate| {
        let (ka, kb) = (key(a), key(b));
        (ka.0, ka.1, ka.2, ka.3)
            .cmp(&(kb.0, kb.1, kb.2, kb.3))
            .then(ka.4.total_cmp(&kb.4))
            .then_with(|| c.entry(a.ord).id.cmp(&c.entry(b.ord).id))
    };
    let total = found.len();
    let qualified: HashSet<u32> = found.iter().filter(|x| x.included).map(|x| x.ord).collect();
    // Only the head is shown: up to the `limit`-th (or last included) candidate not excluded,
    // with the excluded ones before it, so the rest need not be sorted.
    let head = ask.limit.max(qualified.len()).max(1) + exclude.len();
    if found.len() > head {
        found.select_nth_unstable_by(head, order);
        found.truncate(head);
    }
    found.sort_by(order);
    let proposed = found.iter().find(|x| !x.excluded).map(|x| x.ord);
    let shown = shown_len(&found, qualified.len(), ask.limit);
    found.truncate(shown);
    for cand in &mut found {
        cand.reasons = reasons(c, ask, r, cand, lead, &lead_partners);
    }

    // Included ids that do not qualify, in the order asked, with every reason.
    let mut almost: Vec<Almost> = Vec::new();
    for id in &r.include {
        let Some(ord) = c.ord_of(id) else { continue };
        if qualified.contains(&ord) || almost.iter().any(|a| a.ord == ord) {
            continue;
        }
        if let Some((_, a)) = included_fails.iter().find(|(o, _)| *o == ord) {
            almost.push(a.clone());
            continue;
        }
        let e = c.entry(ord);
        let services = role_offers(e, role);
        let distance_m = e.location.map(|l| haversine_m(ask.home, (l.lat, l.lng)));
        let why = match distance_m {
            _ if services.clone().next().is_none() => {
                format!("{}のサービスがありません", role.label_ja())
            }
            None => "所在地の座標がありません".to_string(),
            // Beyond the search bound: it fails reach, and maybe more.
            Some(d) => {
                let (reach_m, _) = reach(services, role, ask.max_km);
                let failed = checks.failed(ord, e.after_hours, d, reach_m);
                checks.why(failed, e.after_hours, d, reach_m)
            }
        };
        almost.push(Almost {
            ord,
            distance_m,
            why,
        });
    }

    let none = proposed.is_none().then(|| none_message(r, ask, total));
    if proposed.is_none() {
        let listed: HashSet<u32> = almost.iter().map(|a| a.ord).collect();
        almost.extend(near_misses(c, &checks, &bits, &listed));
    }
    RoleAnswer {
        role,
        candidates: found,
        total,
        proposed,
        none,
        almost,
    }
}

/// How many of the ranked `found` are shown: up to and including the `max(limit, included)`-th
/// not excluded, or all of them when fewer are not excluded.
pub fn shown_len(found: &[Candidate], included: usize, limit: usize) -> usize {
    let target = limit.max(included);
    let mut seen = 0;
    for (i, x) in found.iter().enumerate() {
        if !x.excluded {
            seen += 1;
            if seen == target {
                return i + 1;
            }
        }
    }
    found.len()
}

fn none_message(r: &RoleAsk, ask: &TeamAsk, total: usize) -> String {
    let noun = r.role.noun();
    if total > 0 {
        return format!("除外した候補のほかに、この住所に対応できる{noun}は見つかりません");
    }
    let mut conditions = Vec::new();
    if r.after_hours {
        conditions.push("時間外対応");
    }
    if r.formulary.is_some() && r.role == TeamRole::Pharmacy {
        conditions.push("麻薬の在庫");
    }
    let cond = if conditions.is_empty() {
        String::new()
    } else {
        format!("（条件: {}）", conditions.join("・"))
    };
    if r.role.visits() {
        format!("この住所に訪問できる{noun}は見つかりません — 16 km 以内に該当なし{cond}")
    } else {
        format!(
            "この住所の近くに{noun}は見つかりません — {} 以内に該当なし{cond}",
            km(ask.max_km * 1000.0)
        )
    }
}

/// The nearest providers of the role within [`ALMOST_KM`] that fail exactly one check, by
/// distance then id, at most [`ALMOST_MAX`], leaving out those already `listed`.
fn near_misses(
    c: &Catalog,
    checks: &Checks<'_>,
    bits: &Bits,
    listed: &HashSet<u32>,
) -> Vec<Almost> {
    let ask = checks.ask;
    let role = checks.role.role;
    let miss = |ord: u32, d: f64| -> Option<String> {
        if listed.contains(&ord) {
            return None;
        }
        let e = c.entry(ord);
        let services = role_offers(e, role);
        // Not a provider of the role: none of its services count.
        services.clone().next()?;
        let (reach_m, _) = reach(services, role, ask.max_km);
        let failed = checks.failed(ord, e.after_hours, d, reach_m);
        (failed.count_ones() == 1).then(|| checks.why(failed, e.after_hours, d, reach_m))
    };
    let rare_max = (RARE_FACTOR * c.len() as f64).sqrt() as usize;
    let limit_m = ALMOST_KM * 1000.0;
    let mut out: Vec<Almost> = if bits.count() <= rare_max {
        around(c, bits, ask.home, limit_m)
            .into_iter()
            .filter_map(|(ord, d)| {
                miss(ord, d).map(|why| Almost {
                    ord,
                    distance_m: Some(d),
                    why,
                })
            })
            .collect()
    } else {
        let mut whys: Vec<(u32, String)> = Vec::new();
        let hits = c
            .spatial
            .nearest(ask.home.0, ask.home.1, ALMOST_MAX, Some(limit_m), |ord| {
                if !bits.contains(ord) {
                    return false;
                }
                let Some(l) = c.entry(ord).location else {
                    return false;
                };
                match miss(ord, haversine_m(ask.home, (l.lat, l.lng))) {
                    Some(w) => {
                        whys.push((ord, w));
                        true
                    }
                    None => false,
                }
            });
        hits.into_iter()
            .filter_map(|(ord, d)| {
                let why = whys.iter().find(|(o, _)| *o == ord)?.1.clone();
                Some(Almost {
                    ord,
                    distance_m: Some(d),
                    why,
                })
            })
            .collect()
    };
    out.sort_by(|a, b| {
        a.distance_m
            .unwrap_or(f64::INFINITY)
            .total_cmp(&b.distance_m.unwrap_or(f64::INFINITY))
            .then_with(|| c.entry(a.ord).id.cmp(&c.entry(b.ord).id))
    });
    out.truncate(ALMOST_MAX);
    out
}

fn reasons(
    c: &Catalog,
    ask: &TeamAsk,
    r: &RoleAsk,
    cand: &Candidate,
    lead: Option<&Facility>,
    lead_partners: &HashSet<&str>,
) -> Vec<String> {
    let f = c.at(cand.ord);
    let mut out = Vec::new();
    if cand.included {
        out.push("指定した候補".to_string());
    }
    if cand.excluded {
        out.push("除外の指定あり（提案しません）".to_string());
    }
    out.push(match cand.reach_rule {
        ReachRule::Rule16km => format!("{}（訪問範囲 16 km 以内）", km(cand.distance_m)),
        ReachRule::Published => format!(
            "{}（公表の訪問範囲 {} 以内）",
            km(cand.distance_m),
            km(cand.reach_m)
        ),
        ReachRule::MaxKm => format!("{}（{} 以内）", km(cand.distance_m), km(cand.reach_m)),
    });
    if let (true, Some(l)) = (cand.linked, lead) {
        let name = crate::domain::ja::everyday_name(&l.name);
        if lead_partners.contains(f.id.as_str()) {
            out.push(format!("連携: {name}の登録先"));
        } else {
            out.push(format!("連携: {name}を連携先に登録"));
        }
    }
    let services = role_offers(c.entry(cand.ord), r.role);
    if r.role == TeamRole::Physician {
        if services
            .clone()
            .any(|s| s.kind == ServiceKind::EnhancedHomePalliative)
        {
            out.push("充実加算".to_string());
        }
        if let Some(t) = services.filter_map(|s| s.tier).min_by_key(|t| *t as u8) {
            out.push(t.label_ja().to_string());
        }
    }
    if let Some(a) = cand.availability {
        out.push(
            match a {
                Availability::Always => "麻薬: 全品在庫",
                Availability::Partner => "麻薬: 一部は譲渡グループの薬局から",
                Availability::Order => "麻薬: 一部取り寄せ",
            }
            .to_string(),
        );
    }
    match cand.after_hours {
        Some(true) => out.push("時間外対応あり".to_string()),
        Some(false) => out.push("時間外対応なし".to_string()),
        None => {}
    }
    if let Some(b) = &cand.bed {
        out.push(bed_reason(b, ask.stale_hours));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(ord: u32, excluded: bool) -> Candidate {
        Candidate {
            ord,
            distance_m: 0.0,
            reach_m: 16_000.0,
            reach_rule: ReachRule::Rule16km,
            included: false,
            excluded,
            linked: false,
            tier: 0,
            after_hours: None,
            availability: None,
            bed: None,
            reasons: Vec::new(),
        }
    }

    #[test]
    fn distances_and_ages_read_as_people_write_them() {
        assert_eq!(km(4_200.0), "4.2 km");
        assert_eq!(km(16_000.0), "16 km");
        assert_eq!(km(349.0), "0.3 km");
        assert_eq!(ago(0.5), "30分前");
        assert_eq!(ago(2.9), "2時間前");
        assert_eq!(ago(80.0), "3日前");
    }

    #[test]
    fn excluded_candidates_are_shown_where_they_rank_but_do_not_count() {
        let list = vec![cand(0, true), cand(1, false), cand(2, true), cand(3, false)];
        assert_eq!(shown_len(&list, 0, 1), 2);
        assert_eq!(shown_len(&list, 0, 2), 4);
        assert_eq!(shown_len(&list, 3, 1), 4);
        assert_eq!(shown_len(&[cand(0, true)], 0, 5), 1);
    }

    #[test]
    fn the_physician_order_follows_what_is_preferred() {
        let svc = |kind, tier| Offer {
            kind,
            tier,
            radius_km: None,
        };
        let enhanced = svc(ServiceKind::EnhancedHomePalliative, None);
        let solo = svc(
            ServiceKind::HomeCareSupport,
            Some(HomeCareTier::EnhancedSolo),
        );
        let conventional = svc(
            ServiceKind::HomeCareSupport,
            Some(HomeCareTier::Conventional),
        );
        let visits = svc(ServiceKind::HomeVisits, None);
        let both = [Prefer::Enhanced, Prefer::Reinforced];
        let order: Vec<u8> = [
            vec![enhanced, conventional],
            vec![solo],
            vec![conventional],
            vec![visits],
        ]
        .iter()
        .map(|s| physician_tier(s.iter(), &both))
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        assert_eq!(physician_tier([solo].iter(), &[Prefer::Enhanced]), 4);
        assert_eq!(physician_tier([enhanced].iter(), &[Prefer::Enhanced]), 0);
        assert_eq!(physician_tier([visits].iter(), &[]), 0);
    }
}
