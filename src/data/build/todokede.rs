//! 施設基準の届出 (notifications to the regional health bureau): institutions, the mapping of
//! 受理届出名称 to palliative services, and the join of the institutions to the facilities.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use super::codes::CodeRow;
use super::facility::Ctx;
use super::input::{describe, non_empty, read_rows, src_err, tidy_address};
use super::matcher::Matcher;
use super::report::JoinStat;
use super::{norm, sources as src};
use crate::data::files::DataError;
use crate::domain::{
    Contact, ContactKind, Facility, FacilityKind, HomeCareTier, Provenance, Service,
    ServiceAttributes, ServiceKind, ServiceStatus, Visibility,
};

/// The service (and tier) a notified item (受理届出名称) maps to, if it is a palliative one.
pub fn map_item(item: &str) -> Option<(ServiceKind, Option<HomeCareTier>)> {
    let item = item.trim();
    let tier = |s: &str| -> Option<HomeCareTier> {
        if s.contains("の(１)") || s.contains("の(1)") {
            Some(HomeCareTier::EnhancedSolo)
        } else if s.contains("の(２)") || s.contains("の(2)") {
            Some(HomeCareTier::EnhancedLinked)
        } else if s.contains("の(３)") || s.contains("の(3)") {
            Some(HomeCareTier::Conventional)
        } else {
            None
        }
    };
    Some(match item {
        "緩和ケア病棟入院料１" | "緩和ケア病棟入院料２" => {
            (ServiceKind::Pcu, None)
        }
        "緩和ケア診療加算" | "有床診療所緩和ケア診療加算" | "小児緩和ケア診療加算" => {
            (ServiceKind::PalliativeTeam, None)
        }
        "外来緩和ケア管理料" => (ServiceKind::PalliativeOutpatient, None),
        "在宅療養後方支援病院" => (ServiceKind::BackupHospital, None),
        "がん性疼痛緩和指導管理料" => (ServiceKind::CancerPainManagement, None),
        "在宅がん医療総合診療料" => (ServiceKind::HomeCancerCare, None),
        "無菌製剤処理料" => (ServiceKind::AsepticCompounding, None),
        "在宅療養支援歯科診療所１" | "在宅療養支援歯科診療所２" | "在宅療養支援歯科病院" => {
            (ServiceKind::HomeVisitDental, None)
        }
        _ if item.starts_with("別添１の「第９」の１の")
            && item.ends_with("に規定する在宅療養支援診療所") =>
        {
            (ServiceKind::HomeCareSupport, Some(tier(item)?))
        }
        _ if item.starts_with("別添１の「第14の２」の１の")
            && item.ends_with("に規定する在宅療養支援病院") =>
        {
            (ServiceKind::HomeCareSupport, Some(tier(item)?))
        }
        _ if item.starts_with("別添１の")
            && item.ends_with("に規定する在宅緩和ケア充実診療所・病院加算") =>
        {
            (ServiceKind::EnhancedHomePalliative, None)
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
    /// 10-digit 保険医療機関コード: prefecture + 1 (医科) + 7 digits.
    pub fn hic(&self, pref_code: &str) -> String {
        format!("{pref_code}1{}", self.code7)
    }

    /// The mapped palliative services: kind → (tier, items, earliest since).
    pub fn services(&self) -> BTreeMap<ServiceKind, MappedService> {
        let mut out: BTreeMap<ServiceKind, MappedService> = BTreeMap::new();
        for it in &self.items {
            let Some((kind, tier)) = map_item(&it.name) else {
                continue;
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

fn tier_rank(t: HomeCareTier) -> u8 {
    match t {
        HomeCareTier::EnhancedSolo => 0,
        HomeCareTier::EnhancedLinked => 1,
        HomeCareTier::Conventional => 2,
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MappedService {
    pub tier: Option<HomeCareTier>,
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

/// One row of the 届出 CSV: one notified item (受理届出名称) of one institution.
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

/// Read the 届出 CSV and collapse it into institutions, sorted by 医療機関番号.
pub fn read_institutions(path: &Path) -> Result<Vec<Institution>, DataError> {
    let rows: Vec<TodokedeRow> = read_rows(path)?;
    let mut by_code: BTreeMap<String, Institution> = BTreeMap::new();
    for (i, r) in rows.into_iter().enumerate() {
        let code = r.code7.clone();
        if code.len() != 7 || !code.chars().all(|c| c.is_ascii_digit()) {
            return Err(src_err(format!(
                "{} row {}: bad 医療機関番号 {code:?}",
                path.display(),
                i + 2
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

/// Where the 届出 institutions go: the facilities so far and the matcher over the medical ones.
pub(super) struct JoinInput<'a> {
    pub ctx: &'a Ctx<'a>,
    pub codes: &'a [CodeRow],
    /// Indexes in the facilities of the medical facilities, in matcher order.
    pub medical: &'a [usize],
    pub med_matcher: &'a Matcher,
}

/// The facility kind an institution of the 届出 list most likely is.
fn kind_of(inst: &Institution) -> FacilityKind {
    if inst.looks_like_hospital() {
        FacilityKind::Hospital
    } else if inst.looks_like_dental() {
        FacilityKind::DentalClinic
    } else {
        FacilityKind::Clinic
    }
}

/// Phone (public) and FAX (professionals only) of an institution.
fn contacts(inst: &Institution, prov: &Provenance) -> Vec<Contact> {
    let mut c = Vec::new();
    if let Some(p) = &inst.phone {
        c.push(Contact {
            kind: ContactKind::Phone,
            value: p.clone(),
            label: Some("代表".into()),
            visibility: Visibility::Public,
            provenance: prov.clone(),
        });
    }
    if let Some(x) = &inst.fax {
        c.push(Contact {
            kind: ContactKind::Fax,
            value: x.clone(),
            label: None,
            visibility: Visibility::Professional,
            provenance: prov.clone(),
        });
    }
    c
}

fn make_services(services: &BTreeMap<ServiceKind, MappedService>) -> Vec<Service> {
    let info = src::info(src::TODOKEDE);
    let prov = Provenance::dataset(info.name, info.snapshot);
    services
        .iter()
        .map(|(kind, m)| Service {
            kind: *kind,
            status: ServiceStatus::Active,
            attributes: ServiceAttributes {
                tier: m.tier,
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
    /// Same name and address, but the facility had another hic (from the older 保険医療機関コード
    /// list, e.g. before a move or a change to 有床): the 届出 code replaces it.
    Recoded(usize),
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
        input
            .med_matcher
            .exact(&q, &|mi| !claimed.contains(&medical[mi]))
            .map(|mi| Found::Recoded(medical[mi]))
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
    let want = kind_of(inst);
    let medical = input.medical;
    let ok_base = |mi: usize| {
        let fi = medical[mi];
        !claimed.contains(&fi)
            && facilities[fi]
                .identifiers
                .hic
                .as_ref()
                .is_none_or(|h| h == hic)
    };
    input
        .med_matcher
        .find(&q, &|mi| {
            ok_base(mi) && facilities[medical[mi]].kind == want
        })
        .or_else(|| input.med_matcher.find(&q, &ok_base))
        .map(|mi| medical[mi])
}

/// Add what the 届出 list knows (hic, postal code, phone, FAX, beds, services) to a facility.
fn merge_into(f: &mut Facility, inst: &Institution, hic: &str, prov: &Provenance) {
    f.identifiers.hic.get_or_insert_with(|| hic.to_string());
    if f.address.postal_code.is_none() {
        f.address.postal_code = inst.postal_code.clone();
    }
    for c in contacts(inst, prov) {
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
    for s in make_services(&inst.services()) {
        f.services.retain(|x| x.kind != s.kind);
        f.services.push(s);
    }
}

/// A facility of its own for an institution with palliative services that no other source has.
fn new_facility(input: &JoinInput, inst: &Institution, hic: &str, prov: &Provenance) -> Facility {
    let ctx = input.ctx;
    let address = format!("{}{}", ctx.places.prefecture, tidy_address(&inst.address));
    let mut f = ctx.facility(
        format!("hic-{hic}"),
        kind_of(inst),
        &inst.name,
        address,
        None,
        None,
        src::TODOKEDE,
    );
    f.identifiers.hic = Some(hic.to_string());
    f.address.postal_code = inst.postal_code.clone().or_else(|| {
        input
            .codes
            .iter()
            .find(|c| c.hic == hic)
            .and_then(|c| c.postal.clone())
    });
    f.contacts = contacts(inst, prov);
    f.notes = inst.beds.as_ref().map(|b| format!("病床（届出）: {b}"));
    f.services = make_services(&inst.services());
    f
}

/// Join the 届出 institutions to `facilities`: services, contacts and codes go to the facility
/// found; institutions with palliative services and no facility become facilities themselves.
/// Also returns a report line for every facility whose hic the 届出 code replaced.
pub(super) fn join(
    input: &JoinInput,
    insts: &[Institution],
    facilities: &mut Vec<Facility>,
) -> (JoinStat, Vec<String>) {
    let info = src::info(src::TODOKEDE);
    let prov = Provenance::dataset(info.name, info.snapshot);
    let by_hic: BTreeMap<String, usize> = facilities
        .iter()
        .enumerate()
        .filter_map(|(i, f)| Some((f.identifiers.hic.clone()?, i)))
        .collect();
    let mut claimed: BTreeSet<usize> = BTreeSet::new();
    let mut stat = JoinStat {
        name: "届出 institutions → facilities".into(),
        ..Default::default()
    };
    let mut new_facilities = Vec::new();
    let mut recoded = Vec::new();
    for inst in insts {
        stat.total += 1;
        let hic = inst.hic(input.ctx.pref_code);
        match find_target(input, inst, &hic, facilities, &by_hic, &claimed) {
            Some(Found::Joined(fi)) => {
                claimed.insert(fi);
                stat.joined += 1;
                merge_into(&mut facilities[fi], inst, &hic, &prov);
            }
            Some(Found::Recoded(fi)) => {
                claimed.insert(fi);
                stat.joined += 1;
                let f = &mut facilities[fi];
                recoded.push(format!(
                    "{}: hic {} (保険医療機関コード) replaced by the 届出 code {hic} (same name and address)",
                    describe(f),
                    f.identifiers.hic.as_deref().unwrap_or("-"),
                ));
                f.identifiers.hic = Some(hic.clone());
                merge_into(f, inst, &hic, &prov);
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
                    new_facilities.push(new_facility(input, inst, &hic, &prov));
                }
            }
        }
    }
    facilities.extend(new_facilities);
    (stat, recoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping() {
        assert_eq!(
            map_item("緩和ケア病棟入院料１"),
            Some((ServiceKind::Pcu, None))
        );
        assert_eq!(
            map_item("緩和ケア病棟入院料２"),
            Some((ServiceKind::Pcu, None))
        );
        assert_eq!(
            map_item("有床診療所緩和ケア診療加算"),
            Some((ServiceKind::PalliativeTeam, None))
        );
        assert_eq!(
            map_item("外来緩和ケア管理料"),
            Some((ServiceKind::PalliativeOutpatient, None))
        );
        assert_eq!(
            map_item("別添１の「第９」の１の(１)に規定する在宅療養支援診療所"),
            Some((
                ServiceKind::HomeCareSupport,
                Some(HomeCareTier::EnhancedSolo)
            ))
        );
        assert_eq!(
            map_item("別添１の「第９」の１の(２)に規定する在宅療養支援診療所"),
            Some((
                ServiceKind::HomeCareSupport,
                Some(HomeCareTier::EnhancedLinked)
            ))
        );
        assert_eq!(
            map_item("別添１の「第14の２」の１の(３)に規定する在宅療養支援病院"),
            Some((
                ServiceKind::HomeCareSupport,
                Some(HomeCareTier::Conventional)
            ))
        );
        assert_eq!(
            map_item("別添１の「第９」の２の(３)に規定する在宅緩和ケア充実診療所・病院加算"),
            Some((ServiceKind::EnhancedHomePalliative, None))
        );
        assert_eq!(
            map_item("別添１の「第14の２」の２の(２)に規定する在宅緩和ケア充実診療所・病院加算"),
            Some((ServiceKind::EnhancedHomePalliative, None))
        );
        assert_eq!(
            map_item("在宅療養後方支援病院"),
            Some((ServiceKind::BackupHospital, None))
        );
        assert_eq!(
            map_item("がん性疼痛緩和指導管理料"),
            Some((ServiceKind::CancerPainManagement, None))
        );
        assert_eq!(
            map_item("在宅療養支援歯科診療所２"),
            Some((ServiceKind::HomeVisitDental, None))
        );
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
            Some(HomeCareTier::EnhancedLinked)
        );
        assert_eq!(inst.hic("11"), "1110101303");
        assert_eq!(
            parse_beds("一般　　395／療養　　120"),
            (Some("一般 395／療養 120".into()), 515)
        );
        assert_eq!(
            parse_beds("一般　一般　141"),
            (Some("一般 141".into()), 141)
        );
    }
}
