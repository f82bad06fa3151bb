//! Building `data/` from the public sources in `../shared/data-src/`.
//!
//! Facilities come from ナビイ (hospitals with coordinates; clinic, dental and pharmacy lists
//! without), 介護サービス情報公表 (visiting nurse stations, 定期巡回・随時対応 offices) and the 厚生局
//! 届出 lists, 医科 and 歯科 (services, and facilities for institutions no other source has). Areas, municipalities and the geocoding
//! reference come from 国土数値情報 and Geolonia. One module per source; `build` orchestrates.
//! Everything is sorted and written deterministically: building twice gives identical bytes.

mod address;
mod census;
mod codes;
mod duplicates;
mod facility;
mod geo;
mod geolonia;
mod input;
mod iryoken2;
mod kaigo;
mod matcher;
mod n03;
mod navii_hospitals;
mod navii_lists;
mod norm;
mod places;
mod report;
mod sources;
mod teikijunkai;
mod todokede;
pub mod xlsx;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::Dataset;
use super::files::{self, DataError, Manifest};
use crate::domain::TownRef;
use crate::domain::{Area, Facility, FacilityKind, Municipality, prefecture};
use crate::geocode::strip_gun;
use facility::Ctx;
use input::{describe, src_err};
use matcher::{JoinKey, Matcher};
use places::{Places, PlacesInput};
pub use report::{BuildReport, CensusStat, Coverage, JoinStat, NearDuplicate};
use sources as src;

/// Areas, municipalities and towns of the dataset, and the places of the region.
struct Geography {
    areas: Vec<Area>,
    municipalities: Vec<Municipality>,
    towns: Vec<TownRef>,
    places: Places,
}

fn load_geography(
    srcdir: &Path,
    pref_code: &str,
    report: &mut BuildReport,
) -> Result<Geography, DataError> {
    let mapping = iryoken2::read_mapping(srcdir)?;
    let region: Vec<&iryoken2::MappingRow> = mapping
        .iter()
        .filter(|r| r.pref_code == pref_code)
        .collect();
    let prefecture = region
        .first()
        .map(|r| r.pref_name.clone())
        .ok_or_else(|| src_err(format!("unknown prefecture code {pref_code}")))?;
    report.prefecture = prefecture.clone();
    let muni_area: BTreeMap<String, String> = region
        .iter()
        .map(|r| (r.muni_code.clone(), r.area_code.clone()))
        .collect();

    let (areas, outline) = iryoken2::load_areas(srcdir, pref_code, &prefecture, report)?;
    let n03 = n03::load(srcdir, pref_code, &muni_area, report)?;
    let mut served = vec![pref_code];
    served.extend(neighbours(pref_code));
    let served_names: Vec<&str> = served
        .iter()
        .map(|c| prefecture::name(c).ok_or_else(|| src_err(format!("no prefecture {c}"))))
        .collect::<Result<_, _>>()?;
    let reference = geolonia::load(srcdir, &served_names, &mapping)?;
    if !reference.no_coords.is_empty() {
        report.notes.push(format!(
            "{} towns without coordinates skipped: {}",
            reference.no_coords.len(),
            reference.no_coords.join(", ")
        ));
    }
    for u in &reference.unjoined {
        report.notes.push(format!(
            "Geolonia municipality {u}: no code in the mapping; skipped"
        ));
    }
    let geolonia_names: BTreeMap<String, String> = reference
        .municipalities
        .iter()
        .map(|m| (m.code.clone(), m.geolonia_name.clone()))
        .collect();
    let region_towns: Vec<TownRef> = reference
        .towns
        .iter()
        .filter(|t| t.muni_code.starts_with(pref_code))
        .cloned()
        .collect();
    let places = Places::new(
        PlacesInput {
            prefecture,
            municipalities: &n03.municipalities,
            towns: &region_towns,
            geolonia_names: &geolonia_names,
            n03_full_names: &n03.full_names,
            muni_display: n03.display,
            muni_area,
            outline,
        },
        report,
    );
    let mut municipalities = n03.municipalities;
    // The neighbours' municipalities: codes and areas for the geocoder, no outline.
    municipalities.extend(
        reference
            .municipalities
            .iter()
            .filter(|m| m.pref_code != pref_code)
            .map(|m| Municipality {
                code: m.code.clone(),
                name: strip_gun(&m.geolonia_name).to_string(),
                pref_code: m.pref_code.clone(),
                area_code: m.area_code.clone(),
                geometry: None,
            }),
    );
    municipalities.sort_by(|a, b| a.code.cmp(&b.code));
    report.coverage = coverage(&served, &municipalities, &reference.towns);
    Ok(Geography {
        areas,
        municipalities,
        towns: reference.towns,
        places,
    })
}

/// The prefectures whose towns the served geocoder knows besides the region's: its neighbours,
/// so that a patient's address just across the border can be placed.
fn neighbours(pref_code: &str) -> &'static [&'static str] {
    match pref_code {
        // 茨城県, 栃木県, 群馬県, 千葉県, 東京都, 山梨県, 長野県.
        "11" => &["08", "09", "10", "12", "13", "19", "20"],
        _ => &[],
    }
}

/// Municipalities and towns of the served reference, per prefecture.
fn coverage(served: &[&str], municipalities: &[Municipality], towns: &[TownRef]) -> Vec<Coverage> {
    let mut out: Vec<Coverage> = served
        .iter()
        .map(|c| Coverage {
            pref_code: c.to_string(),
            prefecture: prefecture::name(c).unwrap_or_default().to_string(),
            municipalities: municipalities.iter().filter(|m| m.pref_code == *c).count(),
            towns: towns.iter().filter(|t| t.muni_code.starts_with(c)).count(),
        })
        .collect();
    out.sort_by(|a, b| a.pref_code.cmp(&b.pref_code));
    out
}

/// The facilities of the ナビイ and 介護 sources, sorted by id, one per id.
fn load_facilities(
    srcdir: &Path,
    ctx: &Ctx,
    used: &mut BTreeSet<&'static str>,
    report: &mut BuildReport,
) -> Result<Vec<Facility>, DataError> {
    let mut facilities: Vec<Facility> = Vec::new();
    facilities.extend(navii_hospitals::load(srcdir, ctx)?);
    used.insert(src::NAVII_HOSPITALS);
    for &(file, kind) in navii_lists::LISTS {
        let list = navii_lists::load(srcdir, ctx, file, kind, report)?;
        if !list.is_empty() {
            used.insert(src::NAVII_LISTS);
        }
        facilities.extend(list);
    }
    let mut stations = kaigo::load(srcdir, ctx)?;
    if !stations.is_empty() {
        used.insert(src::KAIGO);
    }
    if let Some(stat) = kaigo::add_phones(srcdir, ctx.pref_code, &mut stations)? {
        used.insert(src::KAIGO_PHONES);
        report.joins.push(stat);
    }
    if let Some(t) = teikijunkai::attach(srcdir, ctx, &mut stations)? {
        used.insert(src::KAIGO_TEIKIJUNKAI);
        report.joins.push(t.stat);
        report.notes.extend(t.on_stations);
        facilities.extend(t.own);
    }
    facilities.extend(stations);
    facilities.sort_by(|a, b| a.id.cmp(&b.id));
    let before = facilities.len();
    facilities.dedup_by(|a, b| a.id == b.id);
    if facilities.len() != before {
        report.notes.push(format!(
            "{} duplicate facility ids dropped",
            before - facilities.len()
        ));
    }
    Ok(facilities)
}

/// The medical facilities (indexes into `facilities`) and a matcher over their keys.
fn medical_matcher(ctx: &Ctx, facilities: &[Facility]) -> (Vec<usize>, Matcher) {
    let medical: Vec<usize> = (0..facilities.len())
        .filter(|&i| {
            matches!(
                facilities[i].kind,
                FacilityKind::Hospital | FacilityKind::Clinic | FacilityKind::DentalClinic
            )
        })
        .collect();
    let keys: Vec<JoinKey> = medical
        .iter()
        .map(|&i| {
            let f = &facilities[i];
            ctx.key(
                &f.name,
                &f.address.text,
                f.address.municipality_code.clone(),
            )
        })
        .collect();
    (medical, Matcher::new(keys))
}

/// The 届出 list of a region, 医科 or 歯科, if the sources have one.
fn todokede_file(srcdir: &Path, pref_code: &str, register: &todokede::Register) -> Option<PathBuf> {
    match (pref_code, register.table) {
        ("11", '1') => {
            Some(srcdir.join("kouseikyoku-todokede-saitama/todokede_saitama_r0710_all.csv"))
        }
        ("11", '3') => {
            Some(srcdir.join("kouseikyoku-todokede-saitama-dental/11_saitama_shika.xlsx"))
        }
        _ => None,
    }
}

/// The join of one 届出 list, when the sources have it for the region.
fn join_todokede(
    srcdir: &Path,
    input: &todokede::JoinInput,
    facilities: &mut Vec<Facility>,
    used: &mut BTreeSet<&'static str>,
    report: &mut BuildReport,
) -> Result<(), DataError> {
    let Some(path) = todokede_file(srcdir, input.ctx.pref_code, input.register) else {
        report.notes.push(format!(
            "no {} list for {} in the sources; its services skipped",
            input.register.title, input.ctx.places.prefecture
        ));
        return Ok(());
    };
    used.insert(input.register.source);
    let insts = todokede::read_institutions(&path)?;
    let (stat, recoded) = todokede::join(input, &insts, facilities);
    report.joins.push(stat);
    report.notes.extend(recoded);
    Ok(())
}

/// The 保険医療機関コード and 届出 joins.
fn join_sources(
    srcdir: &Path,
    ctx: &Ctx,
    facilities: &mut Vec<Facility>,
    used: &mut BTreeSet<&'static str>,
    report: &mut BuildReport,
) -> Result<(), DataError> {
    let (medical, med_matcher) = medical_matcher(ctx, facilities);
    // 1. 保険医療機関コード → ナビイ hospitals and clinics (hic + postal code).
    let codes = codes::load(srcdir, ctx.pref_code)?;
    if codes.is_empty() {
        report.notes.push(format!(
            "no 保険医療機関コード rows for {}; skipped",
            ctx.pref_code
        ));
    } else {
        used.insert(src::CODES);
        report
            .joins
            .push(codes::join(ctx, &codes, facilities, &medical, &med_matcher));
    }
    // 2. 届出 institutions → facilities; services. 医科 first, then 歯科 against the facilities
    // as the 医科 list left them (its own `hic-` facilities included).
    let input = todokede::JoinInput {
        ctx,
        register: &todokede::MEDICAL,
        codes: &codes,
        medical: &medical,
        med_matcher: &med_matcher,
    };
    join_todokede(srcdir, &input, facilities, used, report)?;
    let (medical, med_matcher) = medical_matcher(ctx, facilities);
    let input = todokede::JoinInput {
        register: &todokede::DENTAL,
        medical: &medical,
        med_matcher: &med_matcher,
        ..input
    };
    join_todokede(srcdir, &input, facilities, used, report)?;
    facilities.sort_by(|a, b| a.id.cmp(&b.id));
    for f in facilities.iter_mut() {
        f.services.sort_by(|a, b| a.kind.code().cmp(b.kind.code()));
    }
    Ok(())
}

/// Counts by kind, service, tier and placement; unplaced facilities and points outside.
fn count(facilities: &[Facility], places: &Places, report: &mut BuildReport) {
    for f in facilities {
        *report.kinds.entry(f.kind.code().to_string()).or_default() += 1;
        *report
            .placement
            .entry(f.placement.code().to_string())
            .or_default() += 1;
        for s in &f.services {
            *report
                .services
                .entry(s.kind.code().to_string())
                .or_default() += 1;
            if let Some(t) = s.attributes.tier {
                let t = serde_json::to_value(t)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                *report.tiers.entry(t).or_default() += 1;
            }
        }
        match &f.location {
            None => report.unplaced.push(describe(f)),
            Some(p) => {
                if !places.outline.is_empty() && !places.outline.contains(p.lat, p.lng) {
                    report.outside.push(format!(
                        "{} ({:.6},{:.6}, {})",
                        describe(f),
                        p.lat,
                        p.lng,
                        f.placement.code()
                    ));
                }
            }
        }
        if f.area_code.is_none() {
            report.notes.push(format!("no area: {}", describe(f)));
        }
    }
}

/// Build the dataset for `pref_code` from the sources in `src`, write it to `out`.
pub fn build(src: &Path, pref_code: &str, out: &Path) -> Result<BuildReport, DataError> {
    let mut report = BuildReport {
        pref_code: pref_code.to_string(),
        ..Default::default()
    };
    if pref_code.len() != 2 || !pref_code.chars().all(|c| c.is_ascii_digit()) {
        return Err(src_err(format!(
            "prefecture code must be 2 digits, got {pref_code:?}"
        )));
    }
    let geo_data = load_geography(src, pref_code, &mut report)?;
    let places = &geo_data.places;
    let ctx = Ctx { pref_code, places };
    let mut used: BTreeSet<&'static str> = [src::GEOLONIA, src::IRYOKEN2, src::N03]
        .into_iter()
        .collect();
    let mut facilities = load_facilities(src, &ctx, &mut used, &mut report)?;
    let mut census_areas = Vec::new();
    join_sources(src, &ctx, &mut facilities, &mut used, &mut report)?;

    if let Some((census, stat)) = census::load(
        src,
        pref_code,
        &geo_data.municipalities,
        &geo_data.areas,
        &mut report.notes,
    )? {
        used.insert(src::CENSUS);
        report.census = Some(stat);
        census_areas = census;
    } else {
        report.notes.push(format!(
            "no census small-area table for {}; coverage has no population weights",
            places.prefecture
        ));
    }

    count(&facilities, places, &mut report);
    report.near_duplicates = duplicates::near_duplicates(&facilities, &places.prefecture);
    report.areas = geo_data.areas.len();
    report.municipalities = geo_data
        .municipalities
        .iter()
        .filter(|m| m.pref_code == pref_code && m.geometry.is_some())
        .count();
    report.towns = geo_data
        .towns
        .iter()
        .filter(|t| t.muni_code.starts_with(pref_code))
        .count();

    let used: Vec<&str> = used.into_iter().collect();
    let manifest = Manifest {
        format: files::FORMAT_VERSION,
        pref_code: pref_code.to_string(),
        prefecture: places.prefecture.clone(),
        sources: used
            .iter()
            .map(|n| (n.to_string(), src::info(n).snapshot.to_string()))
            .collect(),
        files: BTreeMap::new(),
        stats: report.manifest_stats(facilities.len()),
    };
    let attribution = src::attribution(&places.prefecture, &used);
    let dataset = Dataset {
        manifest,
        facilities,
        areas: geo_data.areas,
        municipalities: geo_data.municipalities,
        towns: geo_data.towns,
        census: census_areas,
    };
    let manifest = files::write(out, &dataset, &attribution)?;
    report.files = manifest.files.clone();
    report.total_bytes = manifest
        .files
        .keys()
        .chain(std::iter::once(&files::MANIFEST.to_string()))
        .filter_map(|n| std::fs::metadata(out.join(n)).ok())
        .map(|m| m.len())
        .sum();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Address, Hours, Identifiers, LatLng, Placement, Provenance};

    fn sample_dataset() -> Dataset {
        let f = Facility {
            id: "navii-1".into(),
            kind: FacilityKind::Hospital,
            name: "テスト病院".into(),
            name_kana: None,
            identifiers: Identifiers::default(),
            address: Address {
                prefecture: "埼玉県".into(),
                text: "埼玉県さいたま市".into(),
                ..Default::default()
            },
            location: Some(LatLng {
                lat: 35.9,
                lng: 139.6,
            }),
            placement: Placement::Source,
            area_code: Some("1104".into()),
            contacts: vec![],
            hours: Hours::default(),
            after_hours: None,
            specialists: None,
            partners: Vec::new(),
            consultations: Vec::new(),
            gathering: None,
            url: None,
            notes: None,
            services: vec![],
            provenance: Provenance::dataset("x", "2025-01-01"),
            updated_at: "2025-01-01".into(),
            verified_at: None,
            verified_by: None,
            status: Default::default(),
            version: 0,
        };
        Dataset {
            manifest: Manifest {
                format: files::FORMAT_VERSION,
                pref_code: "11".into(),
                prefecture: "埼玉県".into(),
                sources: BTreeMap::new(),
                files: BTreeMap::new(),
                stats: BTreeMap::new(),
            },
            facilities: vec![f],
            areas: vec![Area {
                code: "1104".into(),
                name: "さいたま".into(),
                pref_code: "11".into(),
                prefecture: "埼玉県".into(),
                population: Some(1),
                geometry: None,
            }],
            municipalities: vec![],
            towns: vec![TownRef {
                muni_code: "11101".into(),
                town: "大字三条町".into(),
                koaza: String::new(),
                lat: 35.887092,
                lng: 139.586951,
            }],
            census: vec![crate::domain::CensusArea {
                key_code: "11101002005".into(),
                muni_code: "11101".into(),
                name: "三橋五丁目".into(),
                population: 3643,
                households: 1550,
                lat: 35.907623,
                lng: 139.594404,
            }],
        }
    }

    #[test]
    fn deterministic_write_and_verified_read() {
        let ds = sample_dataset();
        let a = files::encode(&ds, "# A\n").unwrap();
        let b = files::encode(&ds, "# A\n").unwrap();
        assert_eq!(a, b);
        let dir = std::env::temp_dir().join(format!("pallimap-build-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let m1 = files::write(&dir, &ds, "# A\n").unwrap();
        let bytes1 = std::fs::read(dir.join("manifest.json")).unwrap();
        let m2 = files::write(&dir, &ds, "# A\n").unwrap();
        assert_eq!(m1, m2);
        assert_eq!(bytes1, std::fs::read(dir.join("manifest.json")).unwrap());
        let back = files::read(&dir).unwrap();
        assert_eq!(back.facilities, ds.facilities);
        assert_eq!(back.areas, ds.areas);
        assert_eq!(back.towns, ds.towns);
        assert_eq!(back.census, ds.census);
        // Corrupt one file: the whole read fails.
        std::fs::write(dir.join(files::AREAS), b"{}").unwrap();
        assert!(matches!(files::read(&dir), Err(DataError::Checksum { .. })));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
