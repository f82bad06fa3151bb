//! 定期巡回・随時対応型訪問介護看護 (24-hour regular and on-call home care and nursing;
//! 介護サービス情報公表 service 760, `kaigo-teikijunkai-760-saitama/`): the service goes on the
//! visiting nurse station that is the same 事業所, or becomes a facility of its own.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::facility::Ctx;
use super::input::{describe, non_empty, read_rows, tidy_address};
use super::matcher::JoinKey;
use super::report::JoinStat;
use super::{norm, sources as src};
use crate::data::files::DataError;
use crate::domain::{
    Contact, ContactKind, Facility, FacilityKind, Provenance, Service, ServiceAttributes,
    ServiceKind, ServiceStatus, Visibility, haversine_m,
};

/// One row of `jigyosho_760_saitama_20250601.csv` (only the columns used).
#[derive(Deserialize)]
struct Row {
    /// 市区町村コード with its check digit (6 digits).
    #[serde(rename = "都道府県コード又は市町村コード")]
    muni6: String,
    #[serde(rename = "市区町村名")]
    city: String,
    #[serde(rename = "事業所名")]
    name: String,
    #[serde(rename = "事業所名カナ")]
    kana: String,
    /// Sometimes without the prefecture or the municipality, with the 方書 glued on.
    #[serde(rename = "住所")]
    address: String,
    #[serde(rename = "方書（ビル名等）")]
    building: String,
    #[serde(rename = "緯度")]
    lat: String,
    #[serde(rename = "経度")]
    lng: String,
    #[serde(rename = "電話番号")]
    phone: String,
    /// 介護保険事業所番号 (10 digits).
    #[serde(rename = "事業所番号")]
    number: String,
    #[serde(rename = "利用可能曜日")]
    days: String,
    #[serde(rename = "利用可能曜日特記事項")]
    days_note: String,
    /// 0 or empty when not stated.
    #[serde(rename = "定員")]
    capacity: String,
    #[serde(rename = "URL")]
    url: String,
}

/// One 定期巡回・随時対応型訪問介護看護 事業所 as read.
struct Office {
    number: String,
    name: String,
    kana: Option<String>,
    /// Full address with the prefecture, building kept after a space.
    address: String,
    /// The join key: name without the service words, address without the building.
    key: JoinKey,
    point: Option<(f64, f64)>,
    muni: Option<String>,
    phone: Option<String>,
    url: Option<String>,
    /// 利用可能曜日 and 定員 as a public note, when published.
    details: Vec<String>,
}

/// The words that name the service rather than the 事業所, longest first: a station and a
/// 定期巡回 office of one 事業所 differ only in them (ヘルパーステーションさきたま /
/// 訪問看護ステーションさきたま).
const SERVICE_WORDS: &[&str] = &[
    "定期巡回・随時対応型訪問介護看護事業所",
    "定期巡回・随時対応型訪問介護看護サービス",
    "定期巡回・随時対応型訪問介護看護",
    "定期巡回・随時対応サービス",
    "訪問看護リハビリステーション",
    "訪問看護ステーション",
    "訪問介護ステーション",
    "ヘルパーステーション",
    "定期巡回サービス",
    "(訪問看護)",
    "ケアセンター",
    "定期巡回",
    "随時対応",
    "訪問看護",
    "事業所",
    "サービス",
];

/// The name of the 事業所 without the service words, from a folded facility name.
fn site_name(folded: &str) -> String {
    let mut s = folded.to_string();
    for w in SERVICE_WORDS {
        s = s.replace(w, "");
    }
    if s.chars().count() < 2 {
        folded.to_string()
    } else {
        s
    }
}

/// A station and an office this close (metres) with the same name are one site: a station's
/// address sometimes has its floor glued to the number (谷原2-4-122階).
const SAME_POINT_M: f64 = 100.0;

fn the_file(srcdir: &Path, pref_code: &str) -> Option<PathBuf> {
    match pref_code {
        "11" => {
            Some(srcdir.join("kaigo-teikijunkai-760-saitama/jigyosho_760_saitama_20250601.csv"))
        }
        _ => None,
    }
}

/// A row that stands for no office: the 2025-06-01 list has one, named and addressed 〇〇 with
/// the phone 000-000-0000.
fn is_placeholder(r: &Row) -> bool {
    let blank = |s: &str| {
        let t = tidy_address(s);
        !t.chars().any(|c| !matches!(c, '〇' | '○' | '◯'))
    };
    let phone = norm::digits(&r.phone);
    blank(&r.name) || (!phone.is_empty() && phone.chars().all(|c| c == '0'))
}

/// Whether an address (without the prefecture) starts with its municipality, after the 郡 of
/// a town or village (`南埼玉郡宮代町…` for 宮代町).
fn names_municipality(address: &str, city: &str) -> bool {
    address.starts_with(city)
        || address
            .split_once('郡')
            .is_some_and(|(_, after)| after.starts_with(city))
}

/// The offices of the list, sorted by 事業所番号; `skipped` gets the rows that are none.
fn read(path: &Path, ctx: &Ctx, skipped: &mut Vec<String>) -> Result<Vec<Office>, DataError> {
    let prefecture = &ctx.places.prefecture;
    let mut out = Vec::new();
    for r in read_rows::<Row>(path)? {
        if is_placeholder(&r) {
            skipped.push(format!(
                "{} {} | {} (tel {}): a placeholder row, not an office",
                r.number.trim(),
                r.name.trim(),
                r.address.trim(),
                r.phone.trim()
            ));
            continue;
        }
        let city = tidy_address(&r.city);
        let mut base = tidy_address(&r.address);
        let building = tidy_address(&r.building);
        if !building.is_empty()
            && let Some(b) = base.strip_suffix(building.as_str())
        {
            base = b.to_string();
        }
        let mut rest = base
            .strip_prefix(prefecture.as_str())
            .unwrap_or(&base)
            .to_string();
        if !names_municipality(&rest, &city) {
            rest = format!("{city}{rest}");
        }
        let street = format!("{prefecture}{rest}");
        let address = if building.is_empty() {
            street.clone()
        } else {
            format!("{street} {building}")
        };
        let muni = r.muni6.get(..5).map(str::to_string);
        let mut key = ctx.key(&r.name, &street, muni.clone());
        key.name = site_name(&key.name);
        let point = r
            .lat
            .trim()
            .parse::<f64>()
            .ok()
            .zip(r.lng.trim().parse::<f64>().ok());
        let mut details = Vec::new();
        if let Some(d) = non_empty(&r.days) {
            details.push(match non_empty(&r.days_note) {
                Some(n) => format!("利用可能曜日: {d}（{n}）"),
                None => format!("利用可能曜日: {d}"),
            });
        }
        if let Some(n) = norm::digits(&r.capacity)
            .parse::<u32>()
            .ok()
            .filter(|&n| n > 0)
        {
            details.push(format!("定員 {n}人"));
        }
        let url =
            non_empty(&r.url).filter(|u| u.starts_with("http://") || u.starts_with("https://"));
        out.push(Office {
            number: r.number.trim().to_string(),
            name: r.name.trim().to_string(),
            kana: non_empty(&r.kana),
            address,
            key,
            point,
            muni,
            phone: non_empty(&r.phone),
            url,
            details,
        });
    }
    out.sort_by(|a, b| a.number.cmp(&b.number));
    Ok(out)
}

/// The one station that is the same 事業所 as `office`: the same 事業所番号; or the same numbered
/// address and compatible names; or the same name at a compatible address or the same point.
fn same_site(
    office: &Office,
    stations: &[(usize, JoinKey)],
    facilities: &[Facility],
) -> Option<usize> {
    let by_number: Vec<usize> = stations
        .iter()
        .filter(|(fi, _)| facilities[*fi].identifiers.kaigo.as_deref() == Some(&office.number))
        .map(|(fi, _)| *fi)
        .collect();
    if let [fi] = by_number[..] {
        return Some(fi);
    }
    let q = &office.key;
    let numbered = q.addr.chars().any(|c| c.is_ascii_digit());
    let near = |fi: usize| {
        let (Some((lat, lng)), Some(p)) = (office.point, facilities[fi].location) else {
            return false;
        };
        haversine_m((lat, lng), (p.lat, p.lng)) <= SAME_POINT_M
    };
    let c: Vec<usize> = stations
        .iter()
        .filter(|(fi, k)| {
            (numbered && k.addr == q.addr && norm::names_compatible(&k.name, &q.name))
                || (k.name == q.name && (norm::addresses_compatible(&k.addr, &q.addr) || near(*fi)))
        })
        .map(|(fi, _)| *fi)
        .collect();
    match c[..] {
        [fi] => Some(fi),
        _ => None,
    }
}

fn service(office: &Office, on_station: bool) -> Service {
    let info = src::info(src::KAIGO_TEIKIJUNKAI);
    let mut notes = Vec::new();
    if on_station {
        notes.push(format!(
            "事業所: {}（介護保険事業所番号 {}）",
            office.name, office.number
        ));
    }
    notes.extend(office.details.iter().cloned());
    Service {
        kind: ServiceKind::RegularVisit24h,
        status: ServiceStatus::Active,
        attributes: ServiceAttributes {
            notes: (!notes.is_empty()).then(|| notes.join("、")),
            ..Default::default()
        },
        capacity: None,
        admission_rules: None,
        provenance: Provenance::dataset(info.name, info.snapshot),
        updated_at: info.snapshot.to_string(),
        verified_at: None,
        verified_by: None,
    }
}

fn phone(value: &str, label: &str) -> Contact {
    let info = src::info(src::KAIGO_TEIKIJUNKAI);
    Contact {
        kind: ContactKind::Phone,
        value: value.to_string(),
        label: Some(label.to_string()),
        visibility: Visibility::Public,
        provenance: Provenance::dataset(info.name, info.snapshot),
    }
}

/// What the 定期巡回 list added: the join (offices → stations), the offices that became
/// facilities of their own, and one line per office put on a station.
pub(super) struct Attached {
    pub stat: JoinStat,
    pub own: Vec<Facility>,
    pub on_stations: Vec<String>,
}

/// Put the region's 定期巡回・随時対応型訪問介護看護 offices on `stations` (the visiting nurse
/// stations) where they are the same 事業所, and make facilities of the others. `None` when
/// the sources have no such list for the region.
pub(super) fn attach(
    srcdir: &Path,
    ctx: &Ctx,
    stations: &mut [Facility],
) -> Result<Option<Attached>, DataError> {
    let Some(path) = the_file(srcdir, ctx.pref_code) else {
        return Ok(None);
    };
    let mut skipped = Vec::new();
    let offices = read(&path, ctx, &mut skipped)?;
    let mut keys: Vec<(usize, JoinKey)> = stations
        .iter()
        .enumerate()
        .filter(|(_, f)| f.kind == FacilityKind::VisitingNurseStation)
        .map(|(i, f)| {
            let mut k = ctx.key(
                &f.name,
                &f.address.text,
                f.address.municipality_code.clone(),
            );
            k.name = site_name(&k.name);
            (i, k)
        })
        .collect();
    let mut out = Attached {
        stat: JoinStat {
            name: "定期巡回・随時対応 offices → visiting nurse stations".into(),
            ..Default::default()
        },
        own: Vec::new(),
        on_stations: Vec::new(),
    };
    out.stat.total = skipped.len();
    out.stat.unjoined = skipped;
    for office in &offices {
        out.stat.total += 1;
        match same_site(office, &keys, stations) {
            Some(fi) => {
                out.stat.joined += 1;
                keys.retain(|(i, _)| *i != fi);
                let f = &mut stations[fi];
                out.on_stations.push(format!(
                    "定期巡回・随時対応 {} {} on {}",
                    office.number,
                    office.name,
                    describe(f)
                ));
                f.services.push(service(office, true));
                // The same number may be written differently (0480ー29ー3501).
                if let Some(p) = &office.phone
                    && !f.contacts.iter().any(|c| {
                        c.kind == ContactKind::Phone && norm::digits(&c.value) == norm::digits(p)
                    })
                {
                    f.contacts.push(phone(p, "定期巡回・随時対応"));
                }
            }
            None => {
                let id = format!("kaigo-{}", office.number);
                out.stat.unjoined.push(format!(
                    "{} {} | {} → {id}",
                    office.number, office.name, office.address
                ));
                let mut f = ctx.facility(
                    id,
                    FacilityKind::Other,
                    &office.name,
                    office.address.clone(),
                    office.muni.clone(),
                    office.point,
                    src::KAIGO_TEIKIJUNKAI,
                );
                f.identifiers.kaigo = Some(office.number.clone());
                f.name_kana = office.kana.clone();
                f.url = office.url.clone();
                f.contacts = office.phone.iter().map(|p| phone(p, "代表")).collect();
                f.services.push(service(office, false));
                out.own.push(f);
            }
        }
    }
    out.stat.own = out.own.len();
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_station_and_an_office_of_one_site_have_one_name() {
        let site = |raw: &str| site_name(&norm::facility_name(raw));
        assert_eq!(
            site("ヘルパーステーションさきたま"),
            site("訪問看護ステーションさきたま")
        );
        assert_eq!(
            site("ＳＯＭＰＯケア　大宮　定期巡回"),
            site("SOMPOケア大宮訪問看護")
        );
        assert_eq!(
            site("定期巡回・随時対応型訪問介護看護事業所森林"),
            site("医療法人　昭友会　訪問看護ステーション森林")
        );
        assert_eq!(
            site("ケアセンタ－かがやき"),
            site("ケアセンターかがやき（訪問看護）")
        );
        assert_eq!(
            site("よしかわ訪問介護ステーション歩"),
            site("社会医療法人至仁会よしかわ訪問看護ステーション歩")
        );
        // Names of other 事業所 stay apart.
        assert_ne!(
            site("ヘルパーステーション　いぶき"),
            site("訪問看護ステーション虹")
        );
        // A name that is nothing but service words keeps them.
        assert_eq!(site("定期巡回サービス"), "定期巡回サービス");
    }

    #[test]
    fn addresses_without_their_municipality_get_it() {
        assert!(names_municipality(
            "南埼玉郡宮代町川端3丁目3番5号",
            "宮代町"
        ));
        assert!(names_municipality("川越市安比奈新田259-2", "川越市"));
        assert!(!names_municipality("谷塚町1998", "草加市"));
        assert!(!names_municipality("櫛引町2-870", "さいたま市北区"));
    }
}
