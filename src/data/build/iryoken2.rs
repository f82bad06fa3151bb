//! 二次医療圏 (secondary medical areas) from `iryoken2-mapping/`: the nationwide 市区町村 → 圏
//! mapping, the 2020 population per 圏, and the region's dissolved area polygons.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::geo;
use super::input::{read_json, read_rows, src_err};
use super::report::BuildReport;
use crate::data::files::DataError;
use crate::domain::Area;

/// One row of `municipality_to_iryoken2.csv`.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct MappingRow {
    pub muni_code: String,
    /// Without 郡 (`越生町`); 政令市 wards with the city (`さいたま市西区`).
    pub muni_name: String,
    pub area_code: String,
    pub pref_code: String,
    pub pref_name: String,
}

/// One row of `population_iryoken2.csv` (only the columns used).
#[derive(Deserialize)]
struct PopulationRow {
    area_code: String,
    population_2020: String,
}

/// The nationwide mapping, in file order.
pub(super) fn read_mapping(srcdir: &Path) -> Result<Vec<MappingRow>, DataError> {
    read_rows(&srcdir.join("iryoken2-mapping/municipality_to_iryoken2.csv"))
}

#[derive(Deserialize)]
pub(super) struct GeoFeature {
    pub properties: BTreeMap<String, Value>,
    pub geometry: Option<Value>,
}

#[derive(Deserialize)]
pub(super) struct GeoCollection {
    pub features: Vec<GeoFeature>,
}

/// A property as text (codes are sometimes numbers).
pub(super) fn prop(f: &GeoFeature, k: &str) -> Option<String> {
    match f.properties.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The region's areas with population, sorted by code, and the region outline they make.
pub(super) fn load_areas(
    srcdir: &Path,
    pref_code: &str,
    prefecture: &str,
    report: &mut BuildReport,
) -> Result<(Vec<Area>, geo::Outline), DataError> {
    let pop: BTreeMap<String, u64> =
        read_rows::<PopulationRow>(&srcdir.join("iryoken2-mapping/population_iryoken2.csv"))?
            .into_iter()
            .filter_map(|r| Some((r.area_code, r.population_2020.parse().ok()?)))
            .collect();
    let area_path = srcdir.join(format!(
        "iryoken2-mapping/derived/iryoken2_{pref_code}.geojson"
    ));
    let fc: GeoCollection = read_json(&area_path)?;
    let mut outline = geo::Outline::default();
    let mut areas = Vec::new();
    for f in &fc.features {
        let code = prop(f, "area_code")
            .ok_or_else(|| src_err(format!("{}: area without code", area_path.display())))?;
        let mut geometry = f.geometry.clone();
        if let Some(g) = geometry.as_mut() {
            if let Some(c) = g.get_mut("coordinates") {
                geo::round_coords(c);
            }
            outline.add_geometry(g);
        }
        if !pop.contains_key(&code) {
            report.notes.push(format!("area {code}: no population"));
        }
        areas.push(Area {
            population: pop.get(&code).copied(),
            name: prop(f, "area_name").unwrap_or_default(),
            pref_code: pref_code.to_string(),
            prefecture: prefecture.to_string(),
            code,
            geometry,
        });
    }
    areas.sort_by(|a, b| a.code.cmp(&b.code));
    Ok((areas, outline))
}
