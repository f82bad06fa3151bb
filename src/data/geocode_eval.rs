//! Evaluation of the offline geocoder against published coordinates.
//!
//! - Nationwide: every hospital of the MHLW ナビイ facility list, geocoded against a gazetteer
//!   built from Geolonia japanese-addresses (`api/ja/<都道府県>/<市区町村>.json`) joined to
//!   5-digit codes via `iryoken2-mapping/municipality_to_iryoken2.csv`; distances to the
//!   published coordinates.
//! - Saitama: town-level rates for the addresses of the ナビイ lists (clinic/dental/pharmacy) and
//!   the 関東信越厚生局 届出 list, against the Saitama part of `derived/towns_saitama_tokyo.csv`.
//!
//! `src` is the data-source root (`/work/shared/data-src` in development).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::domain::Placement;
use crate::domain::{MuniRef, TownRef};
use crate::geocode::{Gazetteer, normalize, strip_gun};

/// Nationwide evaluation result.
#[derive(Debug, Clone, Default)]
pub struct EvalReport {
    pub total: usize,
    /// Hospitals with published (non-zero) coordinates.
    pub with_coordinates: usize,
    pub town: usize,
    pub city: usize,
    pub unmatched: usize,
    /// Over geocoded hospitals with published coordinates.
    pub median_error_m: f64,
    pub p90_error_m: f64,
    /// Over town-level matches with published coordinates.
    pub p90_error_town_m: f64,
    /// Share of all hospitals whose matched municipality code equals the published one.
    pub municipality_code_agreement: f64,
    /// The ten largest errors: (ID, 所在地, metres).
    pub worst: Vec<(String, String, f64)>,
    /// Gazetteer size: municipalities, towns, Geolonia municipalities without a code.
    pub gazetteer_munis: usize,
    pub gazetteer_towns: usize,
    pub unjoined_munis: Vec<String>,
    /// Addresses not matched at town level (ID, 所在地, level), for inspection.
    pub misses: Vec<(String, String, &'static str)>,
}

fn pct(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        100.0 * n as f64 / d as f64
    }
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.total;
        writeln!(f, "| Measure | Value |")?;
        writeln!(f, "|---|---:|")?;
        writeln!(f, "| Hospitals (ナビイ 2025-06-01) | {t} |")?;
        writeln!(
            f,
            "| … with published coordinates | {} |",
            self.with_coordinates
        )?;
        writeln!(
            f,
            "| Town level (町丁目/大字) | {} ({:.2}%) |",
            self.town,
            pct(self.town, t)
        )?;
        writeln!(
            f,
            "| Municipality level | {} ({:.2}%) |",
            self.city,
            pct(self.city, t)
        )?;
        writeln!(
            f,
            "| Unmatched | {} ({:.2}%) |",
            self.unmatched,
            pct(self.unmatched, t)
        )?;
        writeln!(f, "| Median error | {:.0} m |", self.median_error_m)?;
        writeln!(f, "| 90th percentile error | {:.0} m |", self.p90_error_m)?;
        writeln!(
            f,
            "| 90th percentile error, town level | {:.0} m |",
            self.p90_error_town_m
        )?;
        writeln!(
            f,
            "| Municipality code agreement | {:.2}% |",
            100.0 * self.municipality_code_agreement
        )?;
        writeln!(f)?;
        writeln!(f, "| Worst | Address | Error |")?;
        writeln!(f, "|---|---|---:|")?;
        for (id, address, err) in &self.worst {
            writeln!(f, "| {id} | {address} | {:.1} km |", err / 1000.0)?;
        }
        Ok(())
    }
}

/// One record of Geolonia's `api/ja/<都道府県>/<市区町村>.json` (coordinates may be null).
#[derive(serde::Deserialize)]
pub(crate) struct GeoloniaTown {
    pub town: String,
    #[serde(default)]
    pub koaza: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
}

/// Key joining municipality names of the mapping CSV and Geolonia (郡 dropped, ケ/ヶ folded).
pub(crate) fn muni_join_key(pref: &str, name: &str) -> String {
    format!("{}{}", normalize(pref), normalize(strip_gun(name)))
}

/// Build the nationwide gazetteer from Geolonia `api/ja` + the iryoken2 mapping.
pub fn nationwide_gazetteer(src: &Path) -> Result<(Gazetteer, Vec<String>)> {
    let mapping = src.join("iryoken2-mapping/municipality_to_iryoken2.csv");
    let mut codes: HashMap<String, (String, String)> = HashMap::new();
    let mut rdr =
        csv::Reader::from_path(&mapping).with_context(|| mapping.display().to_string())?;
    let headers = rdr.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .context(name.to_string())
    };
    let (c_code, c_name, c_area, c_pref) = (
        col("muni_code")?,
        col("muni_name")?,
        col("area_code")?,
        col("pref_name")?,
    );
    for rec in rdr.records() {
        let rec = rec?;
        codes.insert(
            muni_join_key(&rec[c_pref], &rec[c_name]),
            (rec[c_code].to_string(), rec[c_area].to_string()),
        );
    }

    let api = src.join("geolonia-japanese-addresses/api/ja");
    let list: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(api.with_extension("json"))?)?;
    let mut munis = Vec::new();
    let mut towns = Vec::new();
    let mut unjoined = Vec::new();
    for (pref, names) in &list {
        for name in names
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
        {
            let Some((code, area)) = codes.get(&muni_join_key(pref, name)) else {
                unjoined.push(format!("{pref}{name}"));
                continue;
            };
            let path = api.join(pref).join(format!("{name}.json"));
            let entries: Vec<GeoloniaTown> = serde_json::from_slice(
                &std::fs::read(&path).with_context(|| path.display().to_string())?,
            )?;
            // A few records carry no coordinates; they cannot place anything.
            towns.extend(entries.into_iter().filter_map(|t| {
                Some(TownRef {
                    muni_code: code.clone(),
                    town: t.town,
                    koaza: t.koaza.unwrap_or_default(),
                    lat: t.lat?,
                    lng: t.lng?,
                })
            }));
            munis.push(MuniRef {
                code: code.clone(),
                prefecture: pref.clone(),
                name: name.to_string(),
                area_code: (!area.is_empty()).then(|| area.clone()),
            });
        }
    }
    Ok((Gazetteer::new(munis, towns), unjoined))
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Nationwide evaluation against the ナビイ hospital list.
pub fn evaluate(src: &Path) -> Result<EvalReport> {
    let (gaz, unjoined) = nationwide_gazetteer(src)?;
    let path = src.join("mhlw-navii-hospitals/01-1_hospital_facility_info_20250601.csv");
    let bytes = std::fs::read(&path).with_context(|| path.display().to_string())?;
    let bytes = bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(&bytes);
    let mut rdr = csv::Reader::from_reader(bytes);
    let headers = rdr.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .context(name.to_string())
    };
    let (c_id, c_addr, c_lat, c_lng, c_pref, c_muni) = (
        col("ID")?,
        col("所在地")?,
        col("所在地座標（緯度）")?,
        col("所在地座標（経度）")?,
        col("都道府県コード")?,
        col("市区町村コード")?,
    );

    let mut report = EvalReport {
        gazetteer_munis: gaz.municipalities().len(),
        gazetteer_towns: gaz.town_count(),
        unjoined_munis: unjoined,
        ..EvalReport::default()
    };
    let mut errors = Vec::new();
    let mut town_errors = Vec::new();
    let mut worst = Vec::new();
    let mut agree = 0usize;
    for rec in rdr.records() {
        let rec = rec?;
        report.total += 1;
        let (id, address) = (&rec[c_id], &rec[c_addr]);
        let lat: f64 = rec[c_lat].trim().parse().unwrap_or(0.0);
        let lng: f64 = rec[c_lng].trim().parse().unwrap_or(0.0);
        let has_coords = lat != 0.0 && lng != 0.0;
        if has_coords {
            report.with_coordinates += 1;
        }
        let code = format!("{}{}", &rec[c_pref], &rec[c_muni]);
        match gaz.geocode(address) {
            Ok(m) => {
                let level = m.level;
                if level == Placement::Town {
                    report.town += 1;
                } else {
                    report.city += 1;
                    report
                        .misses
                        .push((id.to_string(), address.to_string(), "city"));
                }
                if m.municipality_code == code {
                    agree += 1;
                }
                if has_coords {
                    let err = crate::domain::haversine_m((lat, lng), (m.lat, m.lng));
                    errors.push(err);
                    if level == Placement::Town {
                        town_errors.push(err);
                    }
                    worst.push((id.to_string(), address.to_string(), err));
                }
            }
            Err(_) => {
                report.unmatched += 1;
                report
                    .misses
                    .push((id.to_string(), address.to_string(), "none"));
            }
        }
    }
    if report.total == 0 {
        bail!("no hospitals read from {}", path.display());
    }
    errors.sort_by(f64::total_cmp);
    town_errors.sort_by(f64::total_cmp);
    worst.sort_by(|a, b| b.2.total_cmp(&a.2));
    worst.truncate(10);
    report.median_error_m = quantile(&errors, 0.5);
    report.p90_error_m = quantile(&errors, 0.9);
    report.p90_error_town_m = quantile(&town_errors, 0.9);
    report.municipality_code_agreement = agree as f64 / report.total as f64;
    report.worst = worst;
    Ok(report)
}

/// Town-level rate of one Saitama address source.
#[derive(Debug, Clone, Default)]
pub struct SourceRate {
    pub source: String,
    /// Distinct addresses.
    pub addresses: usize,
    pub town: usize,
    pub city: usize,
    pub unmatched: usize,
    /// Addresses not matched at town level.
    pub misses: Vec<String>,
}

/// Saitama evaluation: one row per source.
#[derive(Debug, Clone, Default)]
pub struct SaitamaReport {
    pub sources: Vec<SourceRate>,
}

impl fmt::Display for SaitamaReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "| Source (埼玉県) | Addresses | Town level | Municipality | Unmatched |"
        )?;
        writeln!(f, "|---|---:|---:|---:|---:|")?;
        for s in &self.sources {
            writeln!(
                f,
                "| {} | {} | {} ({:.2}%) | {} | {} |",
                s.source,
                s.addresses,
                s.town,
                pct(s.town, s.addresses),
                s.city,
                s.unmatched
            )?;
        }
        Ok(())
    }
}

/// Saitama-only gazetteer from `derived/towns_saitama_tokyo.csv`.
pub fn saitama_gazetteer(src: &Path) -> Result<Gazetteer> {
    let path = src.join("geolonia-japanese-addresses/derived/towns_saitama_tokyo.csv");
    let mut rdr = csv::Reader::from_path(&path).with_context(|| path.display().to_string())?;
    let headers = rdr.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .context(name.to_string())
    };
    let (c_pref, c_code, c_city, c_town, c_koaza, c_lat, c_lng, c_area) = (
        col("pref_name")?,
        col("muni_code")?,
        col("city_name_geolonia")?,
        col("town")?,
        col("koaza")?,
        col("lat")?,
        col("lng")?,
        col("iryoken2_code")?,
    );
    let mut munis: Vec<MuniRef> = Vec::new();
    let mut seen = HashSet::new();
    let mut towns = Vec::new();
    for rec in rdr.records() {
        let rec = rec?;
        if &rec[c_pref] != "埼玉県" {
            continue;
        }
        if seen.insert(rec[c_code].to_string()) {
            munis.push(MuniRef {
                code: rec[c_code].to_string(),
                prefecture: rec[c_pref].to_string(),
                name: rec[c_city].to_string(),
                area_code: (!rec[c_area].is_empty()).then(|| rec[c_area].to_string()),
            });
        }
        // A few records carry no coordinates; they cannot place anything.
        let (Ok(lat), Ok(lng)) = (rec[c_lat].parse(), rec[c_lng].parse()) else {
            continue;
        };
        towns.push(TownRef {
            muni_code: rec[c_code].to_string(),
            town: rec[c_town].to_string(),
            koaza: rec[c_koaza].to_string(),
            lat,
            lng,
        });
    }
    Ok(Gazetteer::new(munis, towns))
}

fn rate(gaz: &Gazetteer, source: &str, addresses: impl IntoIterator<Item = String>) -> SourceRate {
    let mut r = SourceRate {
        source: source.to_string(),
        ..SourceRate::default()
    };
    let distinct: HashSet<String> = addresses
        .into_iter()
        .filter(|a| !a.trim().is_empty())
        .collect();
    let mut distinct: Vec<String> = distinct.into_iter().collect();
    distinct.sort();
    for a in distinct {
        r.addresses += 1;
        match gaz.geocode(&a) {
            Ok(m) if m.level == Placement::Town => r.town += 1,
            Ok(_) => {
                r.city += 1;
                r.misses.push(a);
            }
            Err(_) => {
                r.unmatched += 1;
                r.misses.push(a);
            }
        }
    }
    r
}

/// Saitama evaluation over the ナビイ lists and the 届出 list.
pub fn evaluate_saitama(src: &Path) -> Result<SaitamaReport> {
    let gaz = saitama_gazetteer(src)?;
    let mut report = SaitamaReport::default();
    for kind in ["clinic", "dental", "pharmacy"] {
        let path = src.join(format!("navii-lists-helpmesearch/{kind}_埼玉県.json"));
        let rows: Vec<serde_json::Value> = serde_json::from_slice(
            &std::fs::read(&path).with_context(|| path.display().to_string())?,
        )?;
        let addresses = rows.iter().filter_map(|r| {
            r.get("address")
                .and_then(|a| a.as_str())
                .map(str::to_string)
        });
        report
            .sources
            .push(rate(&gaz, &format!("ナビイ {kind}"), addresses));
    }
    let path = src.join("kouseikyoku-todokede-saitama/todokede_saitama_r0710_all.csv");
    let bytes = std::fs::read(&path).with_context(|| path.display().to_string())?;
    let bytes = bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(&bytes);
    let mut rdr = csv::Reader::from_reader(bytes);
    let headers = rdr.headers()?.clone();
    let c = headers
        .iter()
        .position(|h| h == "医療機関所在地（住所）")
        .context("医療機関所在地（住所）")?;
    let mut addresses = Vec::new();
    for rec in rdr.records() {
        addresses.push(rec?[c].to_string());
    }
    report
        .sources
        .push(rate(&gaz, "厚生局 届出 (r0710)", addresses));
    Ok(report)
}
