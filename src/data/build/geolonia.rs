//! The town-level geocoder reference from Geolonia `api/ja/<都道府県>/<市区町村>.json`: towns of
//! the region and its neighbouring prefectures, joined to 5-digit codes by municipality name.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::geo;
use super::input::{read_json, src_err};
use super::iryoken2::MappingRow;
use crate::data::files::DataError;
use crate::data::geocode_eval::{GeoloniaTown, muni_join_key};
use crate::domain::TownRef;

/// One municipality of the reference.
#[derive(Debug, Clone)]
pub(super) struct RefMunicipality {
    pub code: String,
    pub pref_code: String,
    /// As Geolonia writes it (`入間郡越生町`).
    pub geolonia_name: String,
    pub area_code: String,
}

pub(super) struct Reference {
    pub municipalities: Vec<RefMunicipality>,
    /// Sorted by (municipality, town, 小字), duplicates removed.
    pub towns: Vec<TownRef>,
    /// Geolonia municipalities without a code in the mapping.
    pub unjoined: Vec<String>,
    /// Towns without coordinates (cannot place anything), `code town`.
    pub no_coords: Vec<String>,
}

/// The reference for `prefectures` (names as in `api/ja.json`). Names join to codes as in the
/// nationwide evaluation: 郡 stripped, ケ/ヶ folded.
pub(super) fn load(
    srcdir: &Path,
    prefectures: &[&str],
    mapping: &[MappingRow],
) -> Result<Reference, DataError> {
    let codes: HashMap<String, &MappingRow> = mapping
        .iter()
        .map(|r| (muni_join_key(&r.pref_name, &r.muni_name), r))
        .collect();
    let api = srcdir.join("geolonia-japanese-addresses/api/ja");
    let list: BTreeMap<String, Vec<String>> = read_json(&api.with_extension("json"))?;
    let mut out = Reference {
        municipalities: Vec::new(),
        towns: Vec::new(),
        unjoined: Vec::new(),
        no_coords: Vec::new(),
    };
    for pref in prefectures {
        let names = list
            .get(*pref)
            .ok_or_else(|| src_err(format!("{}: no prefecture {pref}", api.display())))?;
        for name in names {
            let Some(row) = codes.get(&muni_join_key(pref, name)) else {
                out.unjoined.push(format!("{pref}{name}"));
                continue;
            };
            let entries: Vec<GeoloniaTown> =
                read_json(&api.join(pref).join(format!("{name}.json")))?;
            for t in entries {
                let (Some(lat), Some(lng)) = (t.lat, t.lng) else {
                    out.no_coords.push(format!("{} {}", row.muni_code, t.town));
                    continue;
                };
                out.towns.push(TownRef {
                    muni_code: row.muni_code.clone(),
                    town: t.town,
                    koaza: t.koaza.unwrap_or_default(),
                    lat: geo::round6(lat),
                    lng: geo::round6(lng),
                });
            }
            out.municipalities.push(RefMunicipality {
                code: row.muni_code.clone(),
                pref_code: row.pref_code.clone(),
                geolonia_name: name.clone(),
                area_code: row.area_code.clone(),
            });
        }
    }
    out.towns.sort_by(|a, b| {
        (&a.muni_code, &a.town, &a.koaza)
            .cmp(&(&b.muni_code, &b.town, &b.koaza))
            .then(a.lat.total_cmp(&b.lat))
            .then(a.lng.total_cmp(&b.lng))
    });
    out.towns.dedup();
    out.municipalities.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(out)
}
