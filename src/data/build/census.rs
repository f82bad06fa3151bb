//! The 2020 census small areas (令和2年国勢調査 小地域) from
//! `estat-census-2020-saitama-small-areas/r2ka11_attributes.csv`: population, households and a
//! representative point per 町丁・字, the weights of the coverage report.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::input::{read_rows, src_err};
use super::report::CensusStat;
use crate::data::files::DataError;
use crate::domain::{Area, CensusArea, Municipality};

/// The folder and file of the census table, per prefecture code.
fn file(srcdir: &Path, pref_code: &str) -> Option<std::path::PathBuf> {
    match pref_code {
        "11" => Some(srcdir.join("estat-census-2020-saitama-small-areas/r2ka11_attributes.csv")),
        _ => None,
    }
}

/// e-Stat HCODE of a populated small area (8154 is water).
const HCODE_SMALL_AREA: &str = "8101";

/// One row of the attribute table (only the columns used). A small area split in several
/// parts (KIGO_E = E1, E2, …) has one row per part; the census puts its population on one.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
struct Row {
    key_code: String,
    pref: String,
    city: String,
    city_name: String,
    s_name: String,
    hcode: String,
    jinko: u64,
    setai: u64,
    x_code: f64,
    y_code: f64,
    area_max_f: String,
}

/// The census small areas of `pref_code`, one per KEY_CODE, sorted by it; `None` when the
/// sources have no census table for the prefecture.
pub(super) fn load(
    srcdir: &Path,
    pref_code: &str,
    municipalities: &[Municipality],
    areas: &[Area],
    notes: &mut Vec<String>,
) -> Result<Option<(Vec<CensusArea>, CensusStat)>, DataError> {
    let Some(path) = file(srcdir, pref_code) else {
        return Ok(None);
    };
    let rows: Vec<Row> = read_rows(&path)?;
    let mut stat = CensusStat {
        rows: rows.len(),
        ..Default::default()
    };
    let mut parts: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for r in rows {
        if r.pref != pref_code {
            return Err(src_err(format!(
                "{}: KEY_CODE {} is in prefecture {}, not {pref_code}",
                path.display(),
                r.key_code,
                r.pref
            )));
        }
        if r.hcode != HCODE_SMALL_AREA {
            stat.other_hcode += 1;
            continue;
        }
        parts.entry(r.key_code.clone()).or_default().push(r);
    }
    let mut out = Vec::with_capacity(parts.len());
    for (key, rows) in parts {
        let populated: Vec<&Row> = rows.iter().filter(|r| r.jinko > 0).collect();
        if populated.len() > 1 {
            notes.push(format!(
                "census {key}: population on {} parts; the point of the largest kept",
                populated.len()
            ));
        }
        // The point where the people live; for an area without population, its largest part.
        let point = populated
            .iter()
            .copied()
            .max_by_key(|r| r.jinko)
            .or_else(|| rows.iter().find(|r| r.area_max_f == "M"))
            .unwrap_or(&rows[0]);
        let muni_code = format!("{}{}", point.pref, point.city);
        let name = if point.s_name.is_empty() {
            point.city_name.clone()
        } else {
            point.s_name.clone()
        };
        let area = CensusArea {
            key_code: key.clone(),
            muni_code,
            name,
            population: rows.iter().map(|r| r.jinko).sum(),
            households: rows.iter().map(|r| r.setai).sum(),
            lat: point.y_code,
            lng: point.x_code,
        };
        if !area.has_population() {
            stat.without_population.push(format!(
                "{} {} ({})",
                area.key_code, area.name, point.city_name
            ));
        }
        out.push(area);
    }
    stat.areas = out.len();
    stat.populated = out.iter().filter(|a| a.has_population()).count();
    stat.population = out.iter().map(|a| a.population).sum();
    stat.households = out.iter().map(|a| a.households).sum();

    // Checks against the geography: every small area in a municipality of an area, and the
    // population per area equal to the area's published 2020 population.
    let muni_area: BTreeMap<&str, &str> = municipalities
        .iter()
        .map(|m| (m.code.as_str(), m.area_code.as_str()))
        .collect();
    let mut per_area: BTreeMap<&str, u64> = BTreeMap::new();
    for a in &out {
        match muni_area.get(a.muni_code.as_str()) {
            Some(code) => *per_area.entry(code).or_default() += a.population,
            None => notes.push(format!(
                "census {} {}: municipality {} is not in the dataset",
                a.key_code, a.name, a.muni_code
            )),
        }
    }
    for area in areas {
        let sum = per_area.get(area.code.as_str()).copied().unwrap_or(0);
        if area.population.is_some_and(|p| p != sum) {
            notes.push(format!(
                "census population of area {} {}: {sum}, the area's published population {}",
                area.code,
                area.name,
                area.population.unwrap_or(0)
            ));
        }
    }
    Ok(Some((out, stat)))
}
