//! Placing the region's facilities: municipality names and outlines, city-level points, and the
//! region-only gazetteer used to geocode addresses that come without coordinates.

use std::collections::BTreeMap;

use serde_json::Value;

use super::report::BuildReport;
use super::{geo, norm};
use crate::domain::{LatLng, Municipality, Placement};
use crate::domain::{MuniRef, TownRef};
use crate::geocode::Gazetteer;

pub(super) struct Places {
    pub prefecture: String,
    gazetteer: Gazetteer,
    /// Folded municipality names (with and without 郡) → code, longest first.
    muni_names: Vec<(String, String)>,
    pub muni_display: BTreeMap<String, String>,
    pub muni_area: BTreeMap<String, String>,
    /// A representative town point per municipality, for city-level placement.
    muni_center: BTreeMap<String, (f64, f64)>,
    /// Municipality outlines, to find the municipality of a source point.
    muni_outlines: Vec<(String, geo::Outline)>,
    pub outline: geo::Outline,
}

pub(super) struct Placed {
    pub location: Option<LatLng>,
    pub placement: Placement,
    pub muni_code: Option<String>,
}

/// What the places are made of: the region's municipalities and towns and their names.
pub(super) struct PlacesInput<'a> {
    pub prefecture: String,
    pub municipalities: &'a [Municipality],
    /// Region towns only, sorted.
    pub towns: &'a [TownRef],
    /// Code → name as Geolonia writes it (`入間郡越生町`).
    pub geolonia_names: &'a BTreeMap<String, String>,
    /// Code → name as N03 writes it.
    pub n03_full_names: &'a BTreeMap<String, String>,
    pub muni_display: BTreeMap<String, String>,
    pub muni_area: BTreeMap<String, String>,
    pub outline: geo::Outline,
}

impl Places {
    pub fn new(input: PlacesInput<'_>, report: &mut BuildReport) -> Places {
        let (munis, muni_names) = muni_refs(&input);
        let mut muni_center = town_centers(input.towns);
        outline_centers(input.municipalities, &mut muni_center, report);
        let muni_outlines = input
            .municipalities
            .iter()
            .map(|m| {
                let mut o = geo::Outline::default();
                if let Some(g) = &m.geometry {
                    o.add_geometry(g);
                }
                (m.code.clone(), o)
            })
            .collect();
        Places {
            prefecture: input.prefecture,
            gazetteer: Gazetteer::new(munis, input.towns.to_vec()),
            muni_names,
            muni_display: input.muni_display,
            muni_area: input.muni_area,
            muni_center,
            muni_outlines,
            outline: input.outline,
        }
    }

    pub fn muni_at(&self, lat: f64, lng: f64) -> Option<String> {
        self.muni_outlines
            .iter()
            .find(|(_, o)| o.contains(lat, lng))
            .map(|(c, _)| c.clone())
    }

    /// The municipality an address starts with (prefecture optional).
    pub fn muni_of(&self, address: &str) -> Option<String> {
        let f = norm::fold(address);
        let rest = f.strip_prefix(&self.prefecture).unwrap_or(&f);
        if let Some((_, c)) = self
            .muni_names
            .iter()
            .find(|(n, _)| rest.starts_with(n.as_str()))
        {
            return Some(c.clone());
        }
        // Island addresses name the island instead of the 支庁 (`東京都八丈島八丈町…`); also an
        // unexpected 郡 spelling. Accept a municipality name right after such a prefix.
        self.muni_names.iter().find_map(|(n, c)| {
            let i = rest.find(n.as_str())?;
            let head = &rest[..i];
            (i > 0 && head.chars().count() <= 6 && (head.ends_with('島') || head.ends_with('郡')))
                .then(|| c.clone())
        })
    }

    /// Geocode an address; fall back to the municipality's representative point.
    pub fn place(&self, address: &str, known_muni: Option<&str>) -> Placed {
        let full = if norm::fold(address).starts_with(&self.prefecture) {
            address.to_string()
        } else {
            format!("{}{}", self.prefecture, address)
        };
        if let Ok(m) = self.gazetteer.geocode(&full)
            && matches!(m.level, Placement::Town | Placement::City)
        {
            return Placed {
                location: Some(LatLng {
                    lat: geo::round6(m.lat),
                    lng: geo::round6(m.lng),
                }),
                placement: m.level,
                muni_code: Some(m.municipality_code),
            };
        }
        let muni = known_muni
            .map(str::to_string)
            .or_else(|| self.muni_of(address));
        if let Some(code) = &muni
            && let Some(&(lat, lng)) = self.muni_center.get(code)
        {
            return Placed {
                location: Some(LatLng { lat, lng }),
                placement: Placement::City,
                muni_code: muni,
            };
        }
        Placed {
            location: None,
            placement: Placement::Unplaced,
            muni_code: muni,
        }
    }
}

/// Gazetteer entries of the region's municipalities and every folded spelling of their names
/// (Geolonia, display, N03), longest first so that `さいたま市西区` wins over `さいたま市`.
fn muni_refs(input: &PlacesInput<'_>) -> (Vec<MuniRef>, Vec<(String, String)>) {
    let mut munis = Vec::new();
    let mut names: Vec<(String, String)> = Vec::new();
    for m in input.municipalities {
        let n03 = input.n03_full_names.get(&m.code);
        let full = input
            .geolonia_names
            .get(&m.code)
            .or(n03)
            .cloned()
            .unwrap_or_else(|| m.name.clone());
        munis.push(MuniRef {
            code: m.code.clone(),
            prefecture: input.prefecture.clone(),
            name: full.clone(),
            area_code: Some(m.area_code.clone()),
        });
        for n in [full, m.name.clone(), n03.cloned().unwrap_or_default()] {
            let n = norm::fold(&n);
            if !n.is_empty() && !names.iter().any(|(x, c)| *x == n && *c == m.code) {
                names.push((n, m.code.clone()));
            }
        }
    }
    names.sort_by(|a, b| b.0.chars().count().cmp(&a.0.chars().count()).then(a.cmp(b)));
    (munis, names)
}

/// City-level point: the town nearest to the mean of the municipality's towns.
fn town_centers(towns: &[TownRef]) -> BTreeMap<String, (f64, f64)> {
    let mut muni_center = BTreeMap::new();
    let mut by_muni: BTreeMap<&str, Vec<&TownRef>> = BTreeMap::new();
    for t in towns {
        by_muni.entry(t.muni_code.as_str()).or_default().push(t);
    }
    for (code, ts) in by_muni {
        let n = ts.len() as f64;
        let (mlat, mlng) = (
            ts.iter().map(|t| t.lat).sum::<f64>() / n,
            ts.iter().map(|t| t.lng).sum::<f64>() / n,
        );
        let best = ts.iter().min_by(|a, b| {
            let da = (a.lat - mlat).powi(2) + (a.lng - mlng).powi(2);
            let db = (b.lat - mlat).powi(2) + (b.lng - mlng).powi(2);
            da.total_cmp(&db)
        });
        if let Some(best) = best {
            muni_center.insert(code.to_string(), (best.lat, best.lng));
        }
    }
    muni_center
}

/// No towns (e.g. 利島村): use the mean vertex of the largest outer ring instead.
fn outline_centers(
    municipalities: &[Municipality],
    muni_center: &mut BTreeMap<String, (f64, f64)>,
    report: &mut BuildReport,
) {
    for m in municipalities {
        if muni_center.contains_key(&m.code) {
            continue;
        }
        let ring = m
            .geometry
            .as_ref()
            .map(geo::polygons)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| p.get(0).and_then(Value::as_array).cloned())
            .max_by_key(|r| r.len());
        let pts: Vec<(f64, f64)> = ring
            .unwrap_or_default()
            .iter()
            .filter_map(|p| Some((p.get(1)?.as_f64()?, p.get(0)?.as_f64()?)))
            .collect();
        if !pts.is_empty() {
            let n = pts.len() as f64;
            let c = (
                geo::round6(pts.iter().map(|p| p.0).sum::<f64>() / n),
                geo::round6(pts.iter().map(|p| p.1).sum::<f64>() / n),
            );
            muni_center.insert(m.code.clone(), c);
        }
        report.notes.push(format!(
            "municipality {} {} has no towns in the reference; city-level point from its outline",
            m.code, m.name
        ));
    }
}
