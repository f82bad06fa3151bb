//! 施設基準の届出 (notifications to the regional health bureau), 医科 and 歯科: institutions, the
//! mapping of 受理届出名称 to services, and the join of the institutions to the facilities.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use super::codes::CodeRow;
use super::facility::Ctx;
use super::input::{describe, non_empty, read_rows, read_xlsx_rows, src_err, tidy_address};
use super::matcher::Matcher;
use super::report::JoinStat;
use super::{norm, sources as src};
use crate::data::files::DataError;
use crate::domain::facility::DentalTier;
use crate::domain::{
    Contact, ContactKind, Facility, FacilityKind, HomeCareTier, Provenance, Service,
    ServiceAttributes, ServiceKind, ServiceStatus, Visibility,
};

/// One 届出 list: the 点数表 its 医療機関番号 belong to, its source and its join in the report.
pub(super) struct Register {
    /// What the list is called in the build report.
    pub title: &'static str,
    /// Source name (provenance of every fact taken from the list).
    pub source: &'static str,
    /// 点数表 digit of the 10-digit 保険医療機関コード: `1` 医科, `3` 歯科.
    pub table: char,
    /// Name of the join in the build report.
    pub join_name: &'static str,
}

/// 施設基準の届出受理医療機関名簿（医科）.
pub(super) const MEDICAL: Register = Register {
    title: "施設基準の届出（医科）",
    source: src::TODOKEDE,
    table: '1',
    join_name: "届出 institutions → facilities",
};

/// 施設基準の届出受理医療機関名簿（歯科）.
pub(super) const DENTAL: Register = Register {
    title: "施設基準の届出（歯科）",
    source: src::TODOKEDE_DENTAL,
    table: '3',
    join_name: "歯科 届出 institutions → facilities",
};

impl Register {
    fn is_dental(&self) -> bool {
        self.table == '3'
    }
}

/// Whether a facility's hic and an institution's code name two different institutions: both
/// are codes of the same 点数表 and differ. A clinic with 医科 and 歯科 has one code of each.
fn hic_conflicts(existing: &str, hic: &str) -> bool {
    existing.chars().nth(2) == hic.chars().nth(2) && existing != hic
}

/// A tier as the 届出 item names it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tier {
    HomeCare(HomeCareTier),
    Dental(DentalTier),
}

/// What a notified item (受理届出名称) says about a facility's services.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ItemRole {
    /// The item is the service (with its tier, for 在支診・在支病 and 歯援診).
    Establishes(ServiceKind, Option<Tier>),
    /// The item tells more about a service that another item establishes, and is listed with it
    /// (歯科訪問診療 items without 歯援診 do not make a clinic a home-visit dental clinic).
    Describes(ServiceKind),
}

/// The role of a notified item, if it is one of the services of the vocabulary.
pub fn map_item(item: &str) -> Option<ItemRole> {
    use ItemRole::{Describes, Establishes};
    let item = item.trim();
    let tier = |s: &str| -> Option<Tier> {
        let t = if s.contains("の(１)") || s.contains("の(1)") {
            HomeCareTier::EnhancedSolo
        } else if s.contains("の(２)") || s.contains("の(2)") {
            HomeCareTier::EnhancedLinked
        } else if s.contains("の(３)") || s.contains("の(3)") {
            HomeCareTier::Conventional
        } else {
            return None;
        };
        Some(Tier::HomeCare(t))
    };
    Some(match item {
        "緩和ケア病棟入院料１" | "緩和ケア病棟入院料２" => {
            Establishes(ServiceKind::Pcu, None)
        }
        "緩和ケア診療加算" | "有床診療所緩和ケア診療加算" | "小児緩和ケア診療加算" => {
            Establishes(ServiceKind::PalliativeTeam, None)
        }
        "外来緩和ケア管理料" => Establishes(ServiceKind::PalliativeOutpatient, None),
        "在宅療養後方支援病院" => Establishes(ServiceKind::BackupHospital, None),
        "がん性疼痛緩和指導管理料" => {
            Establishes(ServiceKind::CancerPainManagement, None)
        }
        "在宅がん医療総合診療料" => Establishes(ServiceKind::HomeCancerCare, None),
        "無菌製剤処理料" => Establishes(ServiceKind::AsepticCompounding, None),
        "在宅療養支援歯科診療所１" => Establishes(
            ServiceKind::HomeVisitDental,
            Some(Tier::Dental(DentalTier::Tier1)),
        ),
        "在宅療養支援歯科診療所２" => Establishes(
            ServiceKind::HomeVisitDental,
            Some(Tier::Dental(DentalTier::Tier2)),
        ),
        "在宅療養支援歯科病院" => Establishes(ServiceKind::HomeVisitDental, None),
        // 歯科訪問診療料の注15 (the visit standard), 在宅患者歯科治療時医療管理料, 在宅歯科医療推進加算
        // and 在宅歯科医療情報連携加算: what a home-visit dental clinic is equipped for.
        "在宅患者歯科治療時医療管理料" | "在宅歯科医療推進加算" => {
            Describes(ServiceKind::HomeVisitDental)
        }
        _ if item.starts_with("歯科訪問診療料")
            || item.ends_with("に規定する在宅歯科医療情報連携加算") =>
        {
            Describes(ServiceKind::HomeVisitDental)
        }
        _ if item.starts_with("別添１の「第９」の１の")
            && item.ends_with("に規定する在宅療養支援診療所") =>
        {
            Establishes(ServiceKind::HomeCareSupport, Some(tier(item)?))
        }
        _ if item.starts_with("別添１の「第14の２」の１の")
            && item.ends_with("に規定する在宅療養支援病院") =>
        {
            Establishes(ServiceKind::HomeCareSupport, Some(tier(item)?))
        }
        _ if item.starts_with("別添１の")
            && item.ends_with("に規定する在宅緩和ケア充実診療所・病院加算") =>
        {
            Establishes(ServiceKind::EnhancedHomePalliative, None)
        }
        _ => return None,
    })
}

/// One notified item of an institution.
#[derive(Debug, Clone)]
pub struct Item {
    pub name: String,
    /// 算定開始年月日 as ISO date.
    pub since: Option<String>,
}

/// One 医療機関 of the 届出 list with all its rows collapsed.
#[derive(Debug, Clone)]
pub struct Institution {
    /// 7-digit 医療機関番号.
    pub code7: String,
    pub name: String,
    pub postal_code: Option<String>,
    /// Address as published (no prefecture).
    pub address: String,
    pub phone: Option<String>,
    pub fax: Option<String>,
    /// 病床数 as published, with spaces tidied, e.g. `一般 395／療養 120`.
    pub beds: Option<String>,
    pub beds_total: u32,
    pub items: Vec<Item>,
}

impl Institution {
    /// 10-digit 保険医療機関コード: prefecture + 点数表 (1 医科, 3 歯科) + 7 digits.
    pub fn hic(&self, pref_code: &str, table: char) -> String {
        format!("{pref_code}{table}{}", self.code7)
    }

    /// The mapped services: kind → (tier, items, earliest since). Items that describe a service
    /// are listed with it when another item establishes it, and otherwise left out.
    pub fn services(&self) -> BTreeMap<ServiceKind, MappedService> {
        let mut out: BTreeMap<ServiceKind, MappedService> = BTreeMap::new();
        let mut describing: Vec<(ServiceKind, &str)> = Vec::new();
        for it in &self.items {
            let (kind, tier) = match map_item(&it.name) {
                Some(ItemRole::Establishes(kind, tier)) => (kind, tier),
                Some(ItemRole::Describes(kind)) => {
                    describing.push((kind, &it.name));
                    continue;
                }
                None => continue,
            };
            let e = out.entry(kind).or_default();
            if let Some(t) = tier {
                // Keep the strongest tier when several are notified.
                e.tier = Some(match e.tier {
                    Some(old) if tier_rank(old) <= tier_rank(t) => old,
                    _ => t,
                });
            }
            if !e.items.contains(&it.name) {
                e.items.push(it.name.clone());
            }
            if let Some(s) = &it.since
                && e.since.as_ref().is_none_or(|old| s < old)
            {
                e.since = Some(s.clone());
            }
        }
        for (kind, name) in describing {
            if let Some(e) = out.get_mut(&kind)
                && !e.items.iter().any(|i| i == name)
            {
                e.items.push(name.to_string());
            }
        }
        for e in out.values_mut() {
            e.items.sort();
        }
        out
    }

    pub fn looks_like_hospital(&self) -> bool {
        let n = norm::fold(&self.name);
        n.ends_with("病院") || self.beds_total >= 20
    }

    pub fn looks_like_dental(&self) -> bool {
        norm::fold(&self.name).contains("歯科") && !self.looks_like_hospital()
    }
}

/// Strength of a tier among those of its kind: lower is stronger.
fn tier_rank(t: Tier) -> u8 {
    match t {
        Tier::HomeCare(HomeCareTier::EnhancedSolo) | Tier::Dental(DentalTier::Tier1) => 0,
        Tier::HomeCare(HomeCareTier::EnhancedLinked) | Tier::Dental(DentalTier::Tier2) => 1,
        Tier::HomeCare(HomeCareTier::Conventional) => 2,
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MappedService {
    pub tier: Option<Tier>,
    pub items: Vec<String>,
    pub since: Option<String>,
}

/// Tidy `一般　　395／療養　　120` to `一般 395／療養 120` and sum the numbers.
fn parse_beds(raw: &str) -> (Option<String>, u32) {
    let raw = raw.trim();
    if raw.is_empty() {
        return (None, 0);
    }
    let mut total = 0;
    let parts: Vec<String> = raw
        .split('／')
        .map(|p| {
            let words: Vec<&str> = p
                .split(|c: char| c.is_whitespace())
                .filter(|w| !w.is_empty())
                .collect();
            if let Some(n) = words
                .last()
                .and_then(|w| norm::digits(w).parse::<u32>().ok())
            {
                total += n;
            }
            let mut dedup: Vec<&str> = Vec::new();
            for w in words {
                if dedup.last() != Some(&w) {
                    dedup.push(w);
                }
            }
            dedup.join(" ")
        })
        .collect();
    (Some(parts.join("／")), total)
}

/// One row of the 届出 list (CSV conversion or the published xlsx, the same columns): one
/// notified item (受理届出名称) of one institution.
#[derive(Deserialize)]
struct TodokedeRow {
    #[serde(rename = "医療機関番号")]
    code7: String,
    #[serde(rename = "医療機関名称")]
    name: String,
    #[serde(rename = "医療機関所在地（郵便番号）")]
    postal: String,
    #[serde(rename = "医療機関所在地（住所）")]
    address: String,
    #[serde(rename = "電話番号")]
    phone: String,
    #[serde(rename = "FAX番号")]
    fax: String,
    #[serde(rename = "病床数")]
    beds: String,
    #[serde(rename = "受理届出名称")]
    item: String,
    #[serde(rename = "算定開始年月日")]
    since: String,
}

/// Read a 届出 list (`.csv`, or the `.xlsx` as published, header row with 医療機関番号) and
/// collapse it into institutions, sorted by 医療機関番号.
pub fn read_institutions(path: &Path) -> Result<Vec<Institution>, DataError> {
    let xlsx = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    let rows: Vec<TodokedeRow> = if xlsx {
        read_xlsx_rows(path, "医療機関番号")?
    } else {
        read_rows(path)?
    };
    let mut by_code: BTreeMap<String, Institution> = BTreeMap::new();
    for (i, r) in rows.into_iter().enumerate() {
        let code = r.code7.clone();
        if code.len() != 7 || !code.chars().all(|c| c.is_ascii_digit()) {
            return Err(src_err(format!(
                "{} record {} after the header: bad 医療機関番号 {code:?}",
                path.display(),
                i + 1
            )));
        }
        let inst = by_code.entry(code.clone()).or_insert_with(|| {
            let (beds, beds_total) = parse_beds(&r.beds);
            let postal = norm::digits(&r.postal);
            Institution {
                code7: code.clone(),
                name: r.name.clone(),
                postal_code: (postal.len() == 7).then_some(postal),
                address: r.address.clone(),
                phone: non_empty(&r.phone),
                fax: non_empty(&r.fax),
                beds,
                beds_total,
                items: Vec::new(),
            }
        });
        inst.items.push(Item {
            name: r.item,
            since: norm::wareki_to_iso(&r.since),
        });
    }
    Ok(by_code.into_values().collect())
}

// ---------------------------------------------------------------------------------------------
// Joining the institutions to the facilities of the other sources.

/// Where the 届出 institutions of one list go: the facilities so far and the matcher over the
/// medical ones.
pub(super) struct JoinInput<'a> {
    pub ctx: &'a Ctx<'a>,
    pub register: &'a Register,
    pub codes: &'a [CodeRow],
    /// Indexes in the facilities of the medical facilities, in matcher order.
    pub medical: &'a [usize],
    pub med_matcher: &'a Matcher,
}

/// The facility kind an institution of the 届出 list most likely is.
fn kind_of(inst: &Institution, register: &Register) -> FacilityKind {
    if inst.looks_like_hospital() {
        FacilityKind::Hospital
    } else if register.is_dental() || inst.looks_like_dental() {
        FacilityKind::DentalClinic
    } else {
        FacilityKind::Clinic
    }
}

/// Phone (public) and FAX (professionals only) of an institution; `label` names the phone.
fn contacts(inst: &Institution, prov: &Provenance, label: &str) -> Vec<Contact> {
    let mut c = Vec::new();
    if let Some(p) = &inst.phone {
        c.push(Contact {
            kind: ContactKind::Phone,
            value: p.clone(),
            label: Some(label.into()),
            visibility: Visibility::Public,
            provenance: prov.clone(),
        });
    }
    if let Some(x) = &inst.fax {
        c.push(Contact {
            kind: ContactKind::Fax,
            value: x.clone(),
            label: (label != "代表").then(|| label.to_string()),
            visibility: Visibility::Professional,
            provenance: prov.clone(),
        });
    }
    c
}

fn make_services(
    services: &BTreeMap<ServiceKind, MappedService>,
    register: &Register,
) -> Vec<Service> {
    let info = src::info(register.source);
    let prov = Provenance::dataset(info.name, info.snapshot);
    services
        .iter()
        .map(|(kind, m)| Service {
            kind: *kind,
            status: ServiceStatus::Active,
            attributes: ServiceAttributes {
                tier: match m.tier {
                    Some(Tier::HomeCare(t)) => Some(t),
                    _ => None,
                },
                dental_tier: match m.tier {
                    Some(Tier::Dental(t)) => Some(t),
                    _ => None,
                },
                notified_items: m.items.clone(),
                since: m.since.clone(),
                ..Default::default()
            },
            capacity: None,
            admission_rules: None,
            provenance: prov.clone(),
            updated_at: info.snapshot.to_string(),
            verified_at: None,
            verified_by: None,
        })
        .collect()
}

/// How an institution found its facility.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Found {
    /// By code, or by name and address with no conflicting code.
    Joined(usize),
    /// Same name and address, but the facility had another hic of the same 点数表 (from the
    /// older 保険医療機関コード list, e.g. before a move or a change to 有床): the 届出 code
    /// replaces it.
    Recoded(usize),
}

/// The facility an institution certainly is: the one with its code, or the only one with
/// exactly its name and numbered address and no conflicting code.
fn strong_target(
    input: &JoinInput,
    inst: &Institution,
    hic: &str,
    facilities: &[Facility],
    by_hic: &BTreeMap<String, usize>,
    claimed: &BTreeSet<usize>,
) -> Option<usize> {
    if let Some(&i) = by_hic.get(hic).filter(|i| !claimed.contains(i)) {
        return Some(i);
    }
    let q = input.ctx.key(&inst.name, &inst.address, None);
    let medical = input.medical;
    let fi = medical[input
        .med_matcher
        .exact(&q, &|mi| !claimed.contains(&medical[mi]))?];
    let conflicting = facilities[fi]
        .identifiers
        .hic
        .as_deref()
        .is_some_and(|h| hic_conflicts(h, hic));
    (!conflicting).then_some(fi)
}

/// The facility an institution is: by code first, then by name and address, preferring the
/// pool of the institution's kind; last, the same name and address despite another code.
fn find_target(
    input: &JoinInput,
    inst: &Institution,
    hic: &str,
    facilities: &[Facility],
    by_hic: &BTreeMap<String, usize>,
    claimed: &BTreeSet<usize>,
) -> Option<Found> {
    if let Some(&i) = by_hic.get(hic).filter(|i| !claimed.contains(i)) {
        return Some(Found::Joined(i));
    }
    let q = input.ctx.key(&inst.name, &inst.address, None);
    let medical = input.medical;
    let by_name_and_address = || {
        let fi = medical[input
            .med_matcher
            .exact(&q, &|mi| !claimed.contains(&medical[mi]))?];
        let conflicting = facilities[fi]
            .identifiers
            .hic
            .as_deref()
            .is_some_and(|h| hic_conflicts(h, hic));
        Some(if conflicting {
            Found::Recoded(fi)
        } else {
            Found::Joined(fi)
        })
    };
    find_by_key(input, inst, hic, facilities, claimed)
        .map(Found::Joined)
        .or_else(by_name_and_address)
}

fn find_by_key(
    input: &JoinInput,
    inst: &Institution,
    hic: &str,
    facilities: &[Facility],
    claimed: &BTreeSet<usize>,
) -> Option<usize> {
    let q = input.ctx.key(&inst.name, &inst.address, None);
    let want = kind_of(inst, input.register);
    let medical = input.medical;
    let ok_base = |mi: usize| {
        let fi = medical[mi];
        !claimed.contains(&fi)
            && facilities[fi]
                .identifiers
                .hic
                .as_deref()
                .is_none_or(|h| !hic_conflicts(h, hic))
    };
    input
        .med_matcher
        .find(&q, &|mi| {
            ok_base(mi) && facilities[medical[mi]].kind == want
        })
        .or_else(|| input.med_matcher.find(&q, &ok_base))
        .map(|mi| medical[mi])
}

/// The label of the phone a list gives a facility: 代表, or 歯科 for the dental list's number
/// of a facility that has a phone already (a clinic with a dental department).
fn phone_label(f: &Facility, register: &Register) -> &'static str {
    if register.is_dental() && f.contacts.iter().any(|c| c.kind == ContactKind::Phone) {
        "歯科"
    } else {
        "代表"
    }
}

/// Add what the 届出 list knows (hic, postal code, phone, FAX, beds, services) to a facility.
fn merge_into(f: &mut Facility, inst: &Institution, hic: &str, input: &JoinInput) {
    let info = src::info(input.register.source);
    let prov = Provenance::dataset(info.name, info.snapshot);
    f.identifiers.hic.get_or_insert_with(|| hic.to_string());
    if f.address.postal_code.is_none() {
        f.address.postal_code = inst.postal_code.clone();
    }
    for c in contacts(inst, &prov, phone_label(f, input.register)) {
        if !f
            .contacts
            .iter()
            .any(|x| x.kind == c.kind && x.value == c.value)
        {
            f.contacts.push(c);
        }
    }
    if let Some(b) = &inst.beds
        && f.notes.as_deref().is_none_or(|n| !n.contains("病床"))
    {
        let line = format!("病床（届出）: {b}");
        f.notes = Some(match f.notes.take() {
            Some(n) => format!("{n}\n{line}"),
            None => line,
        });
    }
    // A list replaces what an older snapshot said about the same service (a clinic with 医科 and
    // 歯科 may be in both lists, its items under either code), and keeps what a newer one said.
    for s in make_services(&inst.services(), input.register) {
        if f.services
            .iter()
            .any(|x| x.kind == s.kind && x.updated_at > s.updated_at)
        {
            continue;
        }
        f.services.retain(|x| x.kind != s.kind);
        f.services.push(s);
    }
    if let Some(w) = cancer_window(f.kind, inst, input.register, &prov)
        && !f.consultations.iter().any(|c| c.kind == w.kind)
    {
        f.consultations.push(w);
    }
}

/// The 届出 item that only がん診療連携拠点病院, 地域がん診療病院, 小児がん拠点病院 and hospitals
/// the prefecture recognizes as central to cancer care in their area may notify.
const CANCER_CORE_ITEM: &str = "がん治療連携計画策定料";

/// The がん相談支援センター of a hospital that notified [`CANCER_CORE_ITEM`]: such hospitals
/// keep one by the designation rules. What the list does not say (the window's own name, its
/// direct line, its hours) is left for the coordinator to confirm; the route given is the
/// hospital's main number as the list publishes it.
fn cancer_window(
    kind: FacilityKind,
    inst: &Institution,
    register: &Register,
    prov: &Provenance,
) -> Option<crate::domain::Consultation> {
    use crate::domain::consultation::{Route, RouteKind, Topic, WindowFor, WindowKind};
    let notified = inst.items.iter().any(|i| i.name.trim() == CANCER_CORE_ITEM);
    if register.is_dental() || kind != FacilityKind::Hospital || !notified {
        return None;
    }
    Some(crate::domain::Consultation {
        kind: WindowKind::CancerSupportCenter,
        name: WindowKind::CancerSupportCenter.label_ja().into(),
        audience: WindowFor::Both,
        topics: vec![
            Topic::Treatment,
            Topic::SecondOpinion,
            Topic::Pain,
            Topic::HomeCare,
            Topic::Costs,
            Topic::Work,
            Topic::Family,
            Topic::PatientSalon,
        ],
        answers: Some(
            "がんの治療や療養生活、セカンドオピニオン、在宅療養、医療費や仕事のことを、この病院にかかっていない方も無料で相談できる窓口（がん診療の中核病院に置かれる相談支援センター）".into(),
        ),
        routes: inst
            .phone
            .iter()
            .map(|p| Route {
                kind: RouteKind::Phone,
                value: p.clone(),
                label: Some("病院の代表電話".into()),
                visibility: Visibility::Public,
                any_time: false,
            })
            .collect(),
        hours: Default::default(),
        languages: vec!["ja".into()],
        fee: None,
        note: Some(format!(
            "厚生局の届出名簿に「{CANCER_CORE_ITEM}」の届出があります（がん診療連携拠点病院などに限られる施設基準）。窓口の名前・直通電話・受付時間は病院にお確かめください。"
        )),
        verified: false,
        provenance: prov.clone(),
    })
}

/// A facility of its own for an institution with services that no other source has.
fn new_facility(input: &JoinInput, inst: &Institution, hic: &str) -> Facility {
    let ctx = input.ctx;
    let register = input.register;
    let info = src::info(register.source);
    let prov = Provenance::dataset(info.name, info.snapshot);
    let address = format!("{}{}", ctx.places.prefecture, tidy_address(&inst.address));
    let mut f = ctx.facility(
        format!("hic-{hic}"),
        kind_of(inst, register),
        &inst.name,
        address,
        None,
        None,
        register.source,
    );
    f.identifiers.hic = Some(hic.to_string());
    f.address.postal_code = inst.postal_code.clone().or_else(|| {
        input
            .codes
            .iter()
            .find(|c| c.hic == hic)
            .and_then(|c| c.postal.clone())
    });
    f.contacts = contacts(inst, &prov, phone_label(&f, register));
    f.notes = inst.beds.as_ref().map(|b| format!("病床（届出）: {b}"));
    f.services = make_services(&inst.services(), register);
    f
}

/// Join the institutions of one 届出 list to `facilities`: services, contacts and codes go to
/// the facility found; institutions with services and no facility become facilities
/// themselves (`hic-…`); the others are listed as left out. Also returns a report line for
/// every facility whose hic the 届出 code replaced.
pub(super) fn join(
    input: &JoinInput,
    insts: &[Institution],
    facilities: &mut Vec<Facility>,
) -> (JoinStat, Vec<String>) {
    let by_hic: BTreeMap<String, usize> = facilities
        .iter()
        .enumerate()
        .filter_map(|(i, f)| Some((f.identifiers.hic.clone()?, i)))
        .collect();
    let mut claimed: BTreeSet<usize> = BTreeSet::new();
    let mut stat = JoinStat {
        name: input.register.join_name.into(),
        ..Default::default()
    };
    let hics: Vec<String> = insts
        .iter()
        .map(|inst| inst.hic(input.ctx.pref_code, input.register.table))
        .collect();
    // Certain matches first, so that a looser match of another institution (the same name at
    // an older address) cannot take a facility that is plainly someone else's.
    let mut found: Vec<Option<Found>> = vec![None; insts.len()];
    for (i, inst) in insts.iter().enumerate() {
        if let Some(fi) = strong_target(input, inst, &hics[i], facilities, &by_hic, &claimed) {
            claimed.insert(fi);
            found[i] = Some(Found::Joined(fi));
        }
    }
    for (i, inst) in insts.iter().enumerate() {
        if found[i].is_some() {
            continue;
        }
        found[i] = find_target(input, inst, &hics[i], facilities, &by_hic, &claimed);
        if let Some(Found::Joined(fi) | Found::Recoded(fi)) = found[i] {
            claimed.insert(fi);
        }
    }
    let mut new_facilities = Vec::new();
    let mut recoded = Vec::new();
    for ((inst, hic), found) in insts.iter().zip(&hics).zip(found) {
        stat.total += 1;
        let hic = hic.clone();
        match found {
            Some(Found::Joined(fi)) => {
                stat.joined += 1;
                merge_into(&mut facilities[fi], inst, &hic, input);
            }
            Some(Found::Recoded(fi)) => {
                stat.joined += 1;
                let f = &mut facilities[fi];
                recoded.push(format!(
                    "{}: hic {} (保険医療機関コード) replaced by the 届出 code {hic} (same name and address)",
                    describe(f),
                    f.identifiers.hic.as_deref().unwrap_or("-"),
                ));
                f.identifiers.hic = Some(hic.clone());
                merge_into(f, inst, &hic, input);
            }
            None => {
                let services = inst.services();
                let kinds: Vec<&str> = services.keys().map(|k| k.code()).collect();
                let becomes = if services.is_empty() {
                    String::new()
                } else {
                    format!(" → hic-{hic} [{}]", kinds.join(","))
                };
                stat.unjoined
                    .push(format!("{} {} | {}{becomes}", hic, inst.name, inst.address));
                if !services.is_empty() {
                    new_facilities.push(new_facility(input, inst, &hic));
                }
            }
        }
    }
    stat.own = new_facilities.len();
    facilities.extend(new_facilities);
    (stat, recoded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ItemRole::{Describes, Establishes};

    #[test]
    fn mapping() {
        assert_eq!(
            map_item("緩和ケア病棟入院料１"),
            Some(Establishes(ServiceKind::Pcu, None))
        );
        assert_eq!(
            map_item("緩和ケア病棟入院料２"),
            Some(Establishes(ServiceKind::Pcu, None))
        );
        assert_eq!(
            map_item("有床診療所緩和ケア診療加算"),
            Some(Establishes(ServiceKind::PalliativeTeam, None))
        );
        assert_eq!(
            map_item("外来緩和ケア管理料"),
            Some(Establishes(ServiceKind::PalliativeOutpatient, None))
        );
        assert_eq!(
            map_item("別添１の「第９」の１の(１)に規定する在宅療養支援診療所"),
            Some(Establishes(
                ServiceKind::HomeCareSupport,
                Some(Tier::HomeCare(HomeCareTier::EnhancedSolo))
            ))
        );
        assert_eq!(
            map_item("別添１の「第９」の１の(２)に規定する在宅療養支援診療所"),
            Some(Establishes(
                ServiceKind::HomeCareSupport,
                Some(Tier::HomeCare(HomeCareTier::EnhancedLinked))
            ))
        );
        assert_eq!(
            map_item("別添１の「第14の２」の１の(３)に規定する在宅療養支援病院"),
            Some(Establishes(
                ServiceKind::HomeCareSupport,
                Some(Tier::HomeCare(HomeCareTier::Conventional))
            ))
        );
        assert_eq!(
            map_item("別添１の「第９」の２の(３)に規定する在宅緩和ケア充実診療所・病院加算"),
            Some(Establishes(ServiceKind::EnhancedHomePalliative, None))
        );
        assert_eq!(
            map_item("別添１の「第14の２」の２の(２)に規定する在宅緩和ケア充実診療所・病院加算"),
            Some(Establishes(ServiceKind::EnhancedHomePalliative, None))
        );
        assert_eq!(
            map_item("在宅療養後方支援病院"),
            Some(Establishes(ServiceKind::BackupHospital, None))
        );
        assert_eq!(
            map_item("がん性疼痛緩和指導管理料"),
            Some(Establishes(ServiceKind::CancerPainManagement, None))
        );
        assert_eq!(
            map_item("在宅療養支援歯科診療所１"),
            Some(Establishes(
                ServiceKind::HomeVisitDental,
                Some(Tier::Dental(DentalTier::Tier1))
            ))
        );
        assert_eq!(
            map_item("在宅療養支援歯科診療所２"),
            Some(Establishes(
                ServiceKind::HomeVisitDental,
                Some(Tier::Dental(DentalTier::Tier2))
            ))
        );
        assert_eq!(
            map_item("在宅療養支援歯科病院"),
            Some(Establishes(ServiceKind::HomeVisitDental, None))
        );
        // 歯科訪問診療 items and 在宅歯科医療推進加算 describe home-visit dental care, as printed.
        for item in [
            "歯科訪問診療料の注15に規定する基準",
            "在宅患者歯科治療時医療管理料",
            "在宅歯科医療推進加算",
            "歯科疾患在宅療養管理料の注７、在宅患者訪問口腔リハビリテーション指導管理料の注８及び小児在宅患者訪問口腔リハビリテーション指導管理料の注８に規定する在宅歯科医療情報連携加算",
        ] {
            assert_eq!(
                map_item(item),
                Some(Describes(ServiceKind::HomeVisitDental)),
                "{item}"
            );
        }
        // Shared with 医科 home visits; 地域医療連携体制加算 is about after-hours care, not visits.
        assert_eq!(
            map_item(
                "在宅患者訪問診療料（Ⅰ）の注13（在宅患者訪問診療料（Ⅱ）の注６の規定により準用する場合を含む。）、在宅がん医療総合診療料の注８及び歯科訪問診療料の注20 に規定する在宅医療ＤＸ情報活用加算"
            ),
            None
        );
        assert_eq!(map_item("地域医療連携体制加算"), None);
        // Not palliative services in this vocabulary.
        assert_eq!(
            map_item("別添１の「第９」の２の(４)に規定する在宅療養実績加算１"),
            None
        );
        assert_eq!(
            map_item("がん性疼痛緩和指導管理料の注２に規定する難治性がん性疼痛緩和指導管理加算"),
            None
        );
        assert_eq!(map_item("時間外対応加算３"), None);
    }

    #[test]
    fn collapse_services() {
        let inst = Institution {
            code7: "0101303".into(),
            name: "テスト病院".into(),
            postal_code: None,
            address: String::new(),
            phone: None,
            fax: None,
            beds: None,
            beds_total: 0,
            items: vec![
                Item {
                    name: "緩和ケア病棟入院料２".into(),
                    since: Some("2020-04-01".into()),
                },
                Item {
                    name: "緩和ケア病棟入院料１".into(),
                    since: Some("2019-04-01".into()),
                },
                Item {
                    name: "別添１の「第14の２」の１の(３)に規定する在宅療養支援病院".into(),
                    since: None,
                },
                Item {
                    name: "別添１の「第14の２」の１の(２)に規定する在宅療養支援病院".into(),
                    since: Some("2022-01-01".into()),
                },
            ],
        };
        let s = inst.services();
        let pcu = &s[&ServiceKind::Pcu];
        assert_eq!(
            pcu.items,
            vec!["緩和ケア病棟入院料１", "緩和ケア病棟入院料２"]
        );
        assert_eq!(pcu.since.as_deref(), Some("2019-04-01"));
        assert_eq!(
            s[&ServiceKind::HomeCareSupport].tier,
            Some(Tier::HomeCare(HomeCareTier::EnhancedLinked))
        );
        assert_eq!(inst.hic("11", '1'), "1110101303");
        assert_eq!(inst.hic("11", '3'), "1130101303");
        assert_eq!(
            parse_beds("一般　　395／療養　　120"),
            (Some("一般 395／療養 120".into()), 515)
        );
        assert_eq!(
            parse_beds("一般　一般　141"),
            (Some("一般 141".into()), 141)
        );
    }

    fn dental(items: &[(&str, &str)]) -> Institution {
        Institution {
            code7: "0101980".into(),
            name: "松本歯科クリニック".into(),
            postal_code: None,
            address: String::new(),
            phone: None,
            fax: None,
            beds: None,
            beds_total: 0,
            items: items
                .iter()
                .map(|(name, since)| Item {
                    name: name.to_string(),
                    since: Some(since.to_string()),
                })
                .collect(),
        }
    }

    #[test]
    fn dental_tier_and_the_items_that_describe_home_visits() {
        // Both 歯援診 tiers notified: the stronger one (1), both items listed; the 歯科訪問診療
        // items join the list but not the date the service started.
        let inst = dental(&[
            ("歯科訪問診療料の注15に規定する基準", "2017-02-01"),
            ("在宅療養支援歯科診療所２", "2020-04-01"),
            ("在宅歯科医療推進加算", "2016-04-01"),
            ("在宅療養支援歯科診療所１", "2024-06-01"),
            ("歯科外来診療感染対策加算１", "2025-04-01"),
        ]);
        let s = inst.services();
        assert_eq!(
            s.keys().copied().collect::<Vec<_>>(),
            vec![ServiceKind::HomeVisitDental]
        );
        let d = &s[&ServiceKind::HomeVisitDental];
        assert_eq!(d.tier, Some(Tier::Dental(DentalTier::Tier1)));
        assert_eq!(
            d.items,
            vec![
                "在宅歯科医療推進加算",
                "在宅療養支援歯科診療所１",
                "在宅療養支援歯科診療所２",
                "歯科訪問診療料の注15に規定する基準",
            ]
        );
        assert_eq!(d.since.as_deref(), Some("2020-04-01"));
        let svc = make_services(&s, &DENTAL);
        assert_eq!(svc[0].attributes.dental_tier, Some(DentalTier::Tier1));
        assert_eq!(svc[0].attributes.tier, None);
        assert_eq!(svc[0].provenance.source, "kouseikyoku-todokede-dental");
        // 歯科訪問診療 items without 歯援診: no home-visit dental service.
        let visits_only = dental(&[
            ("歯科訪問診療料の注15に規定する基準", "2017-02-01"),
            ("在宅患者歯科治療時医療管理料", "2018-04-01"),
        ]);
        assert!(visits_only.services().is_empty());
        assert_eq!(visits_only.hic("11", DENTAL.table), "1130101980");
    }

    #[test]
    fn codes_of_two_fee_tables_do_not_conflict() {
        // 大生水野クリニック: 医科 1112702082 (保険医療機関コード list), 歯科 1132712081 (届出).
        assert!(!hic_conflicts("1112702082", "1132712081"));
        assert!(hic_conflicts("1110414788", "1110414789"));
        assert!(!hic_conflicts("1110414789", "1110414789"));
    }
}
