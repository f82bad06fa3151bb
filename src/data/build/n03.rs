//! 市区町村 outlines of the region from 国土数値情報 N03: one MultiPolygon per municipality
//! (飛び地 merged), its display name, and its 二次医療圏 from the mapping.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::geo;
use super::input::read_json;
use super::iryoken2::{GeoCollection, prop};
use super::report::BuildReport;
use crate::data::files::DataError;
use crate::domain::Municipality;

/// The region's municipalities with geometry, and the names N03 gives them.
pub(super) struct N03Municipalities {
    pub municipalities: Vec<Municipality>,
    /// Code → display name (`さいたま市西区`, `越生町`).
    pub display: BTreeMap<String, String>,
    /// Code → 郡 or city + name as N03 spells it (`入間郡越生町`).
    pub full_names: BTreeMap<String, String>,
}

pub(super) fn load(
    srcdir: &Path,
    pref_code: &str,
    muni_area: &BTreeMap<String, String>,
    report: &mut BuildReport,
) -> Result<N03Municipalities, DataError> {
    let n03_path = srcdir.join(format!(
        "n03-municipality-boundaries/geojson/s0010/N03-21_{pref_code}_210101.json"
    ));
    let fc: GeoCollection = read_json(&n03_path)?;
    let mut parts: BTreeMap<String, (String, Option<String>, Vec<Value>)> = BTreeMap::new();
    for f in &fc.features {
        let Some(code) = prop(f, "N03_007") else {
            continue;
        };
        let gun = prop(f, "N03_003");
        let name = prop(f, "N03_004").unwrap_or_default();
        let e = parts.entry(code).or_insert_with(|| (name, gun, Vec::new()));
        if let Some(g) = &f.geometry {
            e.2.extend(geo::polygons(g));
        }
    }
    let mut out = N03Municipalities {
        municipalities: Vec::new(),
        display: BTreeMap::new(),
        full_names: BTreeMap::new(),
    };
    for (code, (name, gun, polys)) in parts {
        let display = match &gun {
            Some(g) if g.ends_with('市') => format!("{g}{name}"),
            _ => name.clone(),
        };
        out.full_names.insert(
            code.clone(),
            format!("{}{}", gun.clone().unwrap_or_default(), name),
        );
        out.display.insert(code.clone(), display.clone());
        let Some(area_code) = muni_area.get(&code) else {
            report.notes.push(format!(
                "municipality {code} {display}: no 二次医療圏 in the mapping; skipped"
            ));
            continue;
        };
        let mut geometry = geo::multipolygon(polys);
        if let Some(c) = geometry.get_mut("coordinates") {
            geo::round_coords(c);
        }
        out.municipalities.push(Municipality {
            code,
            name: display,
            pref_code: pref_code.to_string(),
            area_code: area_code.clone(),
            geometry: Some(geometry),
        });
    }
    Ok(out)
}
