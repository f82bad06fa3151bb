//! Building `data/` from the public sources in `../shared/data-src/`.
//!
//! Facilities come from ナビイ (hospitals with coordinates; clinic, dental and pharmacy lists
//! without), 介護サービス情報公表 (visiting nurse stations) and the 厚生局 届出 list (services, and
//! facilities for institutions no other source has). Areas, municipalities and the geocoding
//! reference come from 国土数値情報 and Geolonia. Everything is sorted and written
//! deterministically: building twice gives identical bytes.

mod geo;
mod norm;
mod sources;
mod todokede;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::Dataset;
use super::files::{self, DataError, FileEntry, Manifest};
use crate::domain::{
    Address, Area, Contact, ContactKind, Facility, FacilityKind, Hours, Identifiers, LatLng,
    Municipality, Placement, Provenance, Service, ServiceAttributes, ServiceKind, ServiceStatus,
    Visibility,
};
use crate::geocode::{Gazetteer, MuniRef, TownRef};
use sources as src;

/// One join between two sources: how many rows found their partner, and every row that did not.
#[derive(Debug, Clone, Default)]
pub struct JoinStat {
    pub name: String,
    pub joined: usize,
    pub total: usize,
    pub unjoined: Vec<String>,
}

impl JoinStat {
    pub fn rate(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.joined as f64 / self.total as f64
        }
    }
}

/// What a build did: counts, join rates, placement, and everything that needs a human look.
#[derive(Debug, Clone, Default)]
pub struct BuildReport {
    pub pref_code: String,
    pub prefecture: String,
    pub notes: Vec<String>,
    pub joins: Vec<JoinStat>,
    pub kinds: BTreeMap<String, usize>,
    pub services: BTreeMap<String, usize>,
    pub tiers: BTreeMap<String, usize>,
    pub placement: BTreeMap<String, usize>,
    /// Facilities that could not be placed.
    pub unplaced: Vec<String>,
    /// Placed points outside the prefecture outline.
    pub outside: Vec<String>,
    pub areas: usize,
    pub municipalities: usize,
    pub towns: usize,
    pub files: BTreeMap<String, FileEntry>,
    pub total_bytes: u64,
}

impl fmt::Display for BuildReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "pallimap data build: {} ({})",
            self.prefecture, self.pref_code
        )?;
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        for j in &self.joins {
            writeln!(
                f,
                "join {}: {}/{} ({:.1}%), {} unjoined",
                j.name,
                j.joined,
                j.total,
                j.rate() * 100.0,
                j.unjoined.len()
            )?;
            for u in &j.unjoined {
                writeln!(f, "  unjoined [{}] {u}", j.name)?;
            }
        }
        let total: usize = self.kinds.values().sum();
        writeln!(f, "facilities: {total}")?;
        for (k, n) in &self.kinds {
            writeln!(f, "  kind {k}: {n}")?;
        }
        for (k, n) in &self.services {
            writeln!(f, "  service {k}: {n}")?;
        }
        for (k, n) in &self.tiers {
            writeln!(f, "  home_care_support tier {k}: {n}")?;
        }
        for (k, n) in &self.placement {
            writeln!(
                f,
                "  placement {k}: {n} ({:.1}%)",
                *n as f64 * 100.0 / total.max(1) as f64
            )?;
        }
        for u in &self.unplaced {
            writeln!(f, "  unplaced {u}")?;
        }
        writeln!(
            f,
            "placed points outside the prefecture outline: {}",
            self.outside.len()
        )?;
        for o in &self.outside {
            writeln!(f, "  outside {o}")?;
        }
        writeln!(
            f,
            "areas: {}, municipalities: {}, towns: {}",
            self.areas, self.municipalities, self.towns
        )?;
        for (name, e) in &self.files {
            writeln!(
                f,
                "  file {name}: {} records, sha256 {}",
                e.records, e.sha256
            )?;
        }
        writeln!(f, "total size: {} bytes", self.total_bytes)
    }
}

fn src_err(msg: impl fmt::Display) -> DataError {
    DataError::Source(msg.to_string())
}

fn read_text(path: &Path) -> Result<String, DataError> {
    let s = std::fs::read_to_string(path).map_err(|e| DataError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    Ok(s.trim_start_matches('\u{feff}').to_string())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, DataError> {
    serde_json::from_str(&read_text(path)?).map_err(|e| src_err(format!("{}: {e}", path.display())))
}

/// Rows of a CSV file with a header, as header → value maps.
fn read_csv(path: &Path) -> Result<Vec<HashMap<String, String>>, DataError> {
    let text = read_text(path)?;
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| src_err(format!("{}: {e}", path.display())))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| src_err(format!("{} row {}: {e}", path.display(), i + 2)))?;
        out.push(
            headers
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_string))
                .collect(),
        );
    }
    Ok(out)
}

fn col<'a>(row: &'a HashMap<String, String>, name: &str) -> &'a str {
    row.get(name).map(|s| s.trim()).unwrap_or("")
}

fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    if t.is_empty() {
        None
    } else {
        Some(t.to_string())
    }
}

/// Remove all whitespace from a published address (the lists put full-width spaces between parts).
fn tidy_address(a: &str) -> String {
    a.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Drop a building name repeated at the end (`…1階 シティホーム山鼻1階`), then tidy.
fn tidy_station_address(a: &str) -> String {
    let t = a.trim();
    if let Some(i) = t.rfind(|c: char| c.is_whitespace()) {
        let (head, tail) = (t[..i].trim_end(), t[i..].trim());
        if !tail.is_empty() && head.ends_with(tail) {
            return tidy_address(head);
        }
    }
    tidy_address(t)
}

// ---------------------------------------------------------------------------------------------
// Places: municipalities, towns, geocoding and the prefecture outline.

struct Places {
    prefecture: String,
    gazetteer: Gazetteer,
    /// Folded municipality names (with and without 郡) → code, longest first.
    muni_names: Vec<(String, String)>,
    muni_display: BTreeMap<String, String>,
    muni_area: BTreeMap<String, String>,
    /// A representative town point per municipality, for city-level placement.
    muni_center: BTreeMap<String, (f64, f64)>,
    /// Municipality outlines, to find the municipality of a source point.
    muni_outlines: Vec<(String, geo::Outline)>,
    outline: geo::Outline,
}

struct Placed {
    location: Option<LatLng>,
    placement: Placement,
    muni_code: Option<String>,
}

impl Places {
    fn muni_at(&self, lat: f64, lng: f64) -> Option<String> {
        self.muni_outlines
            .iter()
            .find(|(_, o)| o.contains(lat, lng))
            .map(|(c, _)| c.clone())
    }

    /// The municipality an address starts with (prefecture optional).
    fn muni_of(&self, address: &str) -> Option<String> {
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
    fn place(&self, address: &str, known_muni: Option<&str>) -> Placed {
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

#[derive(Deserialize)]
struct GeoFeature {
    properties: BTreeMap<String, Value>,
    geometry: Option<Value>,
}

#[derive(Deserialize)]
struct GeoCollection {
    features: Vec<GeoFeature>,
}

fn prop(f: &GeoFeature, k: &str) -> Option<String> {
    match f.properties.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

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
    // 市区町村 → 二次医療圏.
    let mapping = read_csv(&srcdir.join("iryoken2-mapping/municipality_to_iryoken2.csv"))?;
    let mut muni_area = BTreeMap::new();
    let mut prefecture = None;
    for r in mapping.iter().filter(|r| col(r, "pref_code") == pref_code) {
        prefecture = Some(col(r, "pref_name").to_string());
        muni_area.insert(
            col(r, "muni_code").to_string(),
            col(r, "area_code").to_string(),
        );
    }
    let prefecture =
        prefecture.ok_or_else(|| src_err(format!("unknown prefecture code {pref_code}")))?;
    report.prefecture = prefecture.clone();

    // Areas with population.
    let pop: BTreeMap<String, u64> =
        read_csv(&srcdir.join("iryoken2-mapping/population_iryoken2.csv"))?
            .iter()
            .filter_map(|r| {
                Some((
                    col(r, "area_code").to_string(),
                    col(r, "population_2020").parse().ok()?,
                ))
            })
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
            prefecture: prefecture.clone(),
            code,
            geometry,
        });
    }
    areas.sort_by(|a, b| a.code.cmp(&b.code));

    // Municipalities, 飛び地 merged into one MultiPolygon.
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
    let mut municipalities = Vec::new();
    let mut muni_display = BTreeMap::new();
    let mut n03_full_names = BTreeMap::new();
    for (code, (name, gun, polys)) in parts {
        let display = match &gun {
            Some(g) if g.ends_with('市') => format!("{g}{name}"),
            _ => name.clone(),
        };
        n03_full_names.insert(
            code.clone(),
            format!("{}{}", gun.clone().unwrap_or_default(), name),
        );
        muni_display.insert(code.clone(), display.clone());
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
        municipalities.push(Municipality {
            code,
            name: display,
            pref_code: pref_code.to_string(),
            area_code: area_code.clone(),
            geometry: Some(geometry),
        });
    }

    // Towns and the gazetteer.
    let towns_rows =
        read_csv(&srcdir.join("geolonia-japanese-addresses/derived/towns_saitama_tokyo.csv"))?;
    let mut towns = Vec::new();
    let mut no_coords = Vec::new();
    let mut geolonia_names: BTreeMap<String, String> = BTreeMap::new();
    for r in towns_rows
        .iter()
        .filter(|r| col(r, "pref_code") == pref_code)
    {
        let (Ok(lat), Ok(lng)) = (col(r, "lat").parse::<f64>(), col(r, "lng").parse::<f64>())
        else {
            no_coords.push(format!("{} {}", col(r, "muni_code"), col(r, "town")));
            continue;
        };
        geolonia_names.insert(
            col(r, "muni_code").to_string(),
            col(r, "city_name_geolonia").to_string(),
        );
        towns.push(TownRef {
            muni_code: col(r, "muni_code").to_string(),
            town: col(r, "town").to_string(),
            koaza: col(r, "koaza").to_string(),
            lat: geo::round6(lat),
            lng: geo::round6(lng),
        });
    }
    if !no_coords.is_empty() {
        report.notes.push(format!(
            "{} towns without coordinates skipped: {}",
            no_coords.len(),
            no_coords.join(", ")
        ));
    }
    towns.sort_by(|a, b| {
        (&a.muni_code, &a.town, &a.koaza)
            .cmp(&(&b.muni_code, &b.town, &b.koaza))
            .then(a.lat.total_cmp(&b.lat))
            .then(a.lng.total_cmp(&b.lng))
    });
    towns.dedup();

    let mut munis = Vec::new();
    let mut names: Vec<(String, String)> = Vec::new();
    for m in &municipalities {
        let full = geolonia_names.get(&m.code).cloned().unwrap_or_else(|| {
            n03_full_names
                .get(&m.code)
                .cloned()
                .unwrap_or_else(|| m.name.clone())
        });
        munis.push(MuniRef {
            code: m.code.clone(),
            prefecture: prefecture.clone(),
            name: full.clone(),
            area_code: Some(m.area_code.clone()),
        });
        for n in [
            full,
            m.name.clone(),
            n03_full_names.get(&m.code).cloned().unwrap_or_default(),
        ] {
            let n = norm::fold(&n);
            if !n.is_empty() && !names.iter().any(|(x, c)| *x == n && *c == m.code) {
                names.push((n, m.code.clone()));
            }
        }
    }
    names.sort_by(|a, b| b.0.chars().count().cmp(&a.0.chars().count()).then(a.cmp(b)));

    // City-level point: the town nearest to the mean of the municipality's towns.
    let mut muni_center = BTreeMap::new();
    let mut by_muni: BTreeMap<&str, Vec<&TownRef>> = BTreeMap::new();
    for t in &towns {
        by_muni.entry(t.muni_code.as_str()).or_default().push(t);
    }
    for (code, ts) in by_muni {
        let n = ts.len() as f64;
        let (mlat, mlng) = (
            ts.iter().map(|t| t.lat).sum::<f64>() / n,
            ts.iter().map(|t| t.lng).sum::<f64>() / n,
        );
        let best = ts
            .iter()
            .min_by(|a, b| {
                let da = (a.lat - mlat).powi(2) + (a.lng - mlng).powi(2);
                let db = (b.lat - mlat).powi(2) + (b.lng - mlng).powi(2);
                da.total_cmp(&db)
            })
            .expect("non-empty");
        muni_center.insert(code.to_string(), (best.lat, best.lng));
    }
    for m in &municipalities {
        if !muni_center.contains_key(&m.code) {
            // No towns (e.g. 利島村): use the mean vertex of the largest outer ring instead.
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

    let muni_outlines = municipalities
        .iter()
        .map(|m| {
            let mut o = geo::Outline::default();
            if let Some(g) = &m.geometry {
                o.add_geometry(g);
            }
            (m.code.clone(), o)
        })
        .collect();
    let gazetteer = Gazetteer::new(munis, towns.clone());
    Ok(Geography {
        areas,
        municipalities,
        towns,
        places: Places {
            prefecture,
            gazetteer,
            muni_names: names,
            muni_display,
            muni_area,
            muni_center,
            muni_outlines,
            outline,
        },
    })
}

// ---------------------------------------------------------------------------------------------
// Joining by name and address.

#[derive(Debug, Clone)]
struct JoinKey {
    name: String,
    addr: String,
    muni: Option<String>,
}

/// Candidates of one join, indexed by folded name and address key.
struct Matcher {
    keys: Vec<JoinKey>,
    by_name: HashMap<String, Vec<usize>>,
    by_addr: HashMap<String, Vec<usize>>,
    by_muni: HashMap<String, Vec<usize>>,
}

impl Matcher {
    fn new(keys: Vec<JoinKey>) -> Self {
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_addr: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_muni: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, k) in keys.iter().enumerate() {
            by_name.entry(k.name.clone()).or_default().push(i);
            if k.addr.chars().any(|c| c.is_ascii_digit()) {
                by_addr.entry(k.addr.clone()).or_default().push(i);
            }
            if let Some(m) = &k.muni {
                by_muni.entry(m.clone()).or_default().push(i);
            }
        }
        Matcher {
            keys,
            by_name,
            by_addr,
            by_muni,
        }
    }

    /// The one candidate that matches `q`, trying stricter rules first; `ok` filters candidates
    /// (already taken, conflicting codes).
    fn find(&self, q: &JoinKey, ok: &dyn Fn(usize) -> bool) -> Option<usize> {
        let same_muni = |i: usize| q.muni.is_some() && self.keys[i].muni == q.muni;
        let unique =
            |c: Vec<usize>| -> Option<usize> { if c.len() == 1 { Some(c[0]) } else { None } };
        let empty = Vec::new();
        let named = self.by_name.get(&q.name).unwrap_or(&empty);
        // 1. Same name, compatible address.
        let c: Vec<usize> = named
            .iter()
            .copied()
            .filter(|&i| ok(i) && norm::addresses_compatible(&self.keys[i].addr, &q.addr))
            .collect();
        if let Some(i) = unique(c) {
            return Some(i);
        }
        // 2. Same address (with a number), compatible names.
        let c: Vec<usize> = self
            .by_addr
            .get(&q.addr)
            .unwrap_or(&empty)
            .iter()
            .copied()
            .filter(|&i| ok(i) && norm::names_compatible(&self.keys[i].name, &q.name))
            .collect();
        if let Some(i) = unique(c) {
            return Some(i);
        }
        // 3. Same name in the same municipality.
        let c: Vec<usize> = named
            .iter()
            .copied()
            .filter(|&i| ok(i) && same_muni(i))
            .collect();
        if let Some(i) = unique(c) {
            return Some(i);
        }
        // 4. Compatible names and addresses in the same municipality.
        let c: Vec<usize> = q
            .muni
            .as_ref()
            .and_then(|m| self.by_muni.get(m))
            .unwrap_or(&empty)
            .iter()
            .copied()
            .filter(|&i| {
                ok(i)
                    && norm::names_compatible(&self.keys[i].name, &q.name)
                    && norm::addresses_compatible(&self.keys[i].addr, &q.addr)
            })
            .collect();
        unique(c)
    }
}

// ---------------------------------------------------------------------------------------------
// Facilities.

struct Ctx<'a> {
    pref_code: &'a str,
    places: &'a Places,
}

impl Ctx<'_> {
    fn key(&self, name: &str, address: &str, muni: Option<String>) -> JoinKey {
        JoinKey {
            name: norm::facility_name(name),
            addr: norm::address_key(address, &self.places.prefecture),
            muni: muni.or_else(|| self.places.muni_of(address)),
        }
    }

    /// A facility with its address and placement filled in.
    #[allow(clippy::too_many_arguments)]
    fn facility(
        &self,
        id: String,
        kind: FacilityKind,
        name: &str,
        address_text: String,
        known_muni: Option<String>,
        source_point: Option<(f64, f64)>,
        source: &str,
    ) -> Facility {
        let info = src::info(source);
        let mut source_point = source_point.filter(|&(lat, lng)| geo::in_japan(lat, lng));
        let mut geocoded = None;
        if let Some((lat, lng)) = source_point {
            // A source point outside the prefecture is usually wrong (another prefecture's
            // coordinates); prefer the geocoded point when that one lies inside.
            if !self.places.outline.is_empty() && !self.places.outline.contains(lat, lng) {
                let p = self.places.place(&address_text, known_muni.as_deref());
                if let Some(l) = p
                    .location
                    .filter(|l| self.places.outline.contains(l.lat, l.lng))
                    && (l.lat - lat).abs() + (l.lng - lng).abs() > 0.03
                {
                    source_point = None;
                }
                geocoded = Some(p);
            }
        }
        let (location, placement, muni) = match source_point {
            Some((lat, lng)) => {
                let muni = known_muni
                    .clone()
                    .or_else(|| self.places.muni_at(lat, lng))
                    .or_else(|| self.places.place(&address_text, None).muni_code);
                (
                    Some(LatLng {
                        lat: geo::round6(lat),
                        lng: geo::round6(lng),
                    }),
                    Placement::Source,
                    muni,
                )
            }
            None => {
                let p = geocoded
                    .unwrap_or_else(|| self.places.place(&address_text, known_muni.as_deref()));
                let muni = known_muni.or(p.muni_code).or_else(|| {
                    let l = p.location?;
                    self.places.muni_at(l.lat, l.lng)
                });
                (p.location, p.placement, muni)
            }
        };
        let area_code = muni
            .as_ref()
            .and_then(|m| self.places.muni_area.get(m).cloned());
        Facility {
            id,
            kind,
            name: name.trim().to_string(),
            name_kana: None,
            identifiers: Identifiers::default(),
            address: Address {
                postal_code: None,
                prefecture: self.places.prefecture.clone(),
                municipality: muni
                    .as_ref()
                    .and_then(|m| self.places.muni_display.get(m).cloned()),
                municipality_code: muni,
                text: address_text,
            },
            location,
            placement,
            area_code,
            contacts: Vec::new(),
            hours: Hours::default(),
            url: None,
            notes: None,
            services: Vec::new(),
            provenance: Provenance::dataset(info.name, info.snapshot),
            updated_at: info.snapshot.to_string(),
            verified_at: None,
            verified_by: None,
        }
    }
}

fn load_hospitals(srcdir: &Path, ctx: &Ctx) -> Result<Vec<Facility>, DataError> {
    let rows =
        read_csv(&srcdir.join("mhlw-navii-hospitals/01-1_hospital_facility_info_20250601.csv"))?;
    let days = [
        ("月", "mon"),
        ("火", "tue"),
        ("水", "wed"),
        ("木", "thu"),
        ("金", "fri"),
        ("土", "sat"),
        ("日", "sun"),
    ];
    let bed_cols = ["一般病床", "療養病床", "精神病床", "結核病床", "感染症病床"];
    let mut out = Vec::new();
    for r in rows
        .iter()
        .filter(|r| col(r, "都道府県コード") == ctx.pref_code)
    {
        let id = col(r, "ID");
        let muni = format!("{}{}", col(r, "都道府県コード"), col(r, "市区町村コード"));
        let point = match (
            col(r, "所在地座標（緯度）").parse::<f64>(),
            col(r, "所在地座標（経度）").parse::<f64>(),
        ) {
            (Ok(a), Ok(b)) => Some((a, b)),
            _ => None,
        };
        let mut f = ctx.facility(
            format!("navii-{id}"),
            FacilityKind::Hospital,
            col(r, "正式名称"),
            tidy_address(col(r, "所在地")),
            (muni.len() == 5).then_some(muni),
            point,
            src::NAVII_HOSPITALS,
        );
        f.identifiers.navii = Some(id.to_string());
        f.name_kana = non_empty(col(r, "正式名称（フリガナ）"));
        f.url = non_empty(col(r, "案内用ホームページアドレス"));
        // Per the ナビイ definition (定義書): 0 = 休診, 1 = 診療, despite the column names.
        for (ja, en) in days {
            if col(r, &format!("毎週決まった曜日に休診（{ja}）")) == "0" {
                f.hours.closed_weekdays.push(en.to_string());
            }
        }
        if col(r, "祝日に休診") == "0" {
            f.hours.closed_weekdays.push("holiday".to_string());
        }
        f.hours.note = non_empty(&col(r, "その他の休診日（gw、お盆等）").replace("（改行）", "\n"));
        let beds: Vec<String> = bed_cols
            .iter()
            .filter_map(|c| {
                let n: u32 = col(r, c).parse().ok()?;
                (n > 0).then(|| format!("{} {n}", c.trim_end_matches("病床")))
            })
            .collect();
        if !beds.is_empty() {
            let total = col(r, "合計病床数");
            f.notes = Some(format!("病床: {}（合計 {total}）", beds.join("／")));
        }
        out.push(f);
    }
    Ok(out)
}

#[derive(Deserialize)]
struct ListEntry {
    id: String,
    name: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    address: String,
    #[serde(default)]
    pref: Option<String>,
    #[serde(default)]
    departments: Option<Vec<String>>,
}

fn load_list(
    srcdir: &Path,
    ctx: &Ctx,
    file: &str,
    kind: FacilityKind,
    report: &mut BuildReport,
) -> Result<Vec<Facility>, DataError> {
    let path = srcdir.join(format!(
        "navii-lists-helpmesearch/{file}_{}.json",
        ctx.places.prefecture
    ));
    if !path.exists() {
        report.notes.push(format!(
            "no {file} list for {} ({} missing); skipped",
            ctx.places.prefecture,
            path.display()
        ));
        return Ok(Vec::new());
    }
    let entries: Vec<ListEntry> = read_json(&path)?;
    let mut out = Vec::new();
    for e in entries {
        if e.pref
            .as_deref()
            .is_some_and(|p| p != ctx.places.prefecture)
        {
            continue;
        }
        let mut f = ctx.facility(
            format!("navii-{}", e.id),
            kind,
            &e.name,
            tidy_address(&e.address),
            None,
            None,
            src::NAVII_LISTS,
        );
        f.identifiers.navii = Some(e.id.clone());
        f.url = e.url.as_deref().and_then(non_empty);
        if let Some(d) = e.departments.filter(|d| !d.is_empty()) {
            let d: Vec<String> = d
                .iter()
                .map(|x| x.replace("（改行）", " ").trim().to_string())
                .filter(|x| !x.is_empty())
                .collect();
            if !d.is_empty() {
                f.notes = Some(format!("診療科: {}", d.join("、")));
            }
        }
        out.push(f);
    }
    Ok(out)
}

#[derive(Deserialize)]
struct Station {
    id: String,
    n: String,
    a: String,
    #[serde(default)]
    lt: Option<f64>,
    #[serde(default)]
    lg: Option<f64>,
}

fn load_stations(srcdir: &Path, ctx: &Ctx) -> Result<Vec<Facility>, DataError> {
    let stations: Vec<Station> =
        read_json(&srcdir.join("kaigo-houmonkango-stations/houmonkango_stations_geo.json"))?;
    let info = src::info(src::KAIGO);
    let mut out = Vec::new();
    for s in stations
        .into_iter()
        .filter(|s| s.a.trim_start().starts_with(&ctx.places.prefecture))
    {
        let point = s.lt.zip(s.lg);
        let mut f = ctx.facility(
            format!("kaigo-{}", s.id),
            FacilityKind::VisitingNurseStation,
            &s.n,
            tidy_station_address(&s.a),
            None,
            point,
            src::KAIGO,
        );
        f.identifiers.kaigo = Some(s.id.clone());
        f.services.push(Service {
            kind: ServiceKind::VisitingNursing,
            status: ServiceStatus::Active,
            attributes: ServiceAttributes::default(),
            capacity: None,
            admission_rules: None,
            provenance: Provenance::dataset(info.name, info.snapshot),
            updated_at: info.snapshot.to_string(),
            verified_at: None,
            verified_by: None,
        });
        out.push(f);
    }
    Ok(out)
}

struct CodeRow {
    hic: String,
    name: String,
    postal: Option<String>,
    address: String,
}

fn load_codes(srcdir: &Path, pref_code: &str) -> Result<Vec<CodeRow>, DataError> {
    let rows = read_csv(
        &srcdir.join("kouseikyoku-hoken-iryokikan-codes/med_inst_cd_202508_saitama_tokyo.csv"),
    )?;
    let mut out: Vec<CodeRow> = rows
        .iter()
        .filter(|r| col(r, "医療機関コード9").starts_with(pref_code))
        .map(|r| {
            let postal = norm::digits(col(r, "郵便番号"));
            CodeRow {
                hic: format!("{pref_code}1{}", col(r, "医療機関コード7")),
                name: col(r, "医療機関名称").to_string(),
                postal: (postal.len() == 7).then_some(postal),
                address: col(r, "住所").to_string(),
            }
        })
        .collect();
    // The collected list repeats some rows verbatim; keep one per code.
    out.sort_by(|a, b| a.hic.cmp(&b.hic));
    out.dedup_by(|a, b| a.hic == b.hic);
    Ok(out)
}

fn describe(f: &Facility) -> String {
    format!("{} {} | {}", f.id, f.name, f.address.text)
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
    let mut used: BTreeSet<&str> = [src::GEOLONIA, src::IRYOKEN2, src::N03]
        .into_iter()
        .collect();

    // Facilities of the ナビイ and 介護 sources.
    let mut facilities: Vec<Facility> = Vec::new();
    facilities.extend(load_hospitals(src, &ctx)?);
    used.insert(src::NAVII_HOSPITALS);
    for (file, kind) in [
        ("clinic", FacilityKind::Clinic),
        ("dental", FacilityKind::DentalClinic),
        ("pharmacy", FacilityKind::Pharmacy),
    ] {
        let list = load_list(src, &ctx, file, kind, &mut report)?;
        if !list.is_empty() {
            used.insert(src::NAVII_LISTS);
        }
        facilities.extend(list);
    }
    let stations = load_stations(src, &ctx)?;
    if !stations.is_empty() {
        used.insert(src::KAIGO);
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

    // Keys of the medical facilities for joining.
    let medical: Vec<usize> = (0..facilities.len())
        .filter(|&i| {
            matches!(
                facilities[i].kind,
                FacilityKind::Hospital | FacilityKind::Clinic | FacilityKind::DentalClinic
            )
        })
        .collect();
    let medical_keys: Vec<JoinKey> = medical
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
    let med_matcher = Matcher::new(medical_keys);

    // 1. 保険医療機関コード → ナビイ hospitals and clinics (hic + postal code).
    let codes = load_codes(src, pref_code)?;
    if !codes.is_empty() {
        used.insert(src::CODES);
        let code_matcher = Matcher::new(
            codes
                .iter()
                .map(|c| ctx.key(&c.name, &c.address, None))
                .collect(),
        );
        let mut taken = BTreeSet::new();
        let mut stat = JoinStat {
            name: "ナビイ hospitals+clinics → 保険医療機関コード".into(),
            ..Default::default()
        };
        for (mi, &fi) in medical.iter().enumerate() {
            if !matches!(
                facilities[fi].kind,
                FacilityKind::Hospital | FacilityKind::Clinic
            ) {
                continue;
            }
            stat.total += 1;
            let q = &med_matcher.keys[mi];
            match code_matcher.find(q, &|i| !taken.contains(&i)) {
                Some(ci) => {
                    taken.insert(ci);
                    stat.joined += 1;
                    let f = &mut facilities[fi];
                    f.identifiers.hic = Some(codes[ci].hic.clone());
                    if f.address.postal_code.is_none() {
                        f.address.postal_code = codes[ci].postal.clone();
                    }
                }
                None => stat.unjoined.push(describe(&facilities[fi])),
            }
        }
        report.joins.push(stat);
    } else {
        report.notes.push(format!(
            "no 保険医療機関コード rows for {pref_code}; skipped"
        ));
    }

    // 2. 届出 institutions → facilities; services.
    let todokede_path = match pref_code {
        "11" => Some(src.join("kouseikyoku-todokede-saitama/todokede_saitama_r0710_all.csv")),
        _ => None,
    };
    match todokede_path {
        None => report.notes.push(format!(
            "no 施設基準の届出 list for {} in the sources; services skipped",
            places.prefecture
        )),
        Some(path) => {
            used.insert(src::TODOKEDE);
            let insts = todokede::read_institutions(&path).map_err(src_err)?;
            join_todokede(
                &ctx,
                &insts,
                &codes,
                &mut facilities,
                &medical,
                &med_matcher,
                &mut report,
            );
        }
    }

    facilities.sort_by(|a, b| a.id.cmp(&b.id));
    for f in &mut facilities {
        f.services.sort_by(|a, b| a.kind.code().cmp(b.kind.code()));
    }

    // Statistics and checks.
    for f in &facilities {
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
    report.areas = geo_data.areas.len();
    report.municipalities = geo_data.municipalities.len();
    report.towns = geo_data.towns.len();

    let mut stats: BTreeMap<String, Value> = BTreeMap::new();
    stats.insert("facilities".into(), facilities.len().into());
    stats.insert(
        "counts_by_kind".into(),
        serde_json::to_value(&report.kinds).unwrap_or_default(),
    );
    stats.insert(
        "counts_by_service".into(),
        serde_json::to_value(&report.services).unwrap_or_default(),
    );
    stats.insert(
        "home_care_support_tiers".into(),
        serde_json::to_value(&report.tiers).unwrap_or_default(),
    );
    stats.insert(
        "placement".into(),
        serde_json::to_value(&report.placement).unwrap_or_default(),
    );
    stats.insert("outside_prefecture".into(), report.outside.len().into());
    let joins: BTreeMap<String, Value> = report
        .joins
        .iter()
        .map(|j| {
            (
                j.name.clone(),
                serde_json::json!({"joined": j.joined, "total": j.total, "rate": (j.rate() * 10000.0).round() / 10000.0}),
            )
        })
        .collect();
    stats.insert(
        "joins".into(),
        serde_json::to_value(joins).unwrap_or_default(),
    );

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
        stats,
    };
    let attribution = src::attribution(&places.prefecture, &used);
    let dataset = Dataset {
        manifest,
        facilities,
        areas: geo_data.areas,
        municipalities: geo_data.municipalities,
        towns: geo_data.towns,
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

#[allow(clippy::too_many_arguments)]
fn join_todokede(
    ctx: &Ctx,
    insts: &[todokede::Institution],
    codes: &[CodeRow],
    facilities: &mut Vec<Facility>,
    medical: &[usize],
    med_matcher: &Matcher,
    report: &mut BuildReport,
) {
    let info = src::info(src::TODOKEDE);
    let prov = Provenance::dataset(info.name, info.snapshot);
    let code_of: BTreeMap<&str, &CodeRow> = codes.iter().map(|c| (c.hic.as_str(), c)).collect();
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
    for inst in insts {
        stat.total += 1;
        let hic = inst.hic(ctx.pref_code);
        let services = inst.services();
        // Code first, then name + address, preferring the pool of the institution's kind.
        let mut target = by_hic.get(&hic).copied().filter(|i| !claimed.contains(i));
        if target.is_none() {
            let q = ctx.key(&inst.name, &inst.address, None);
            let want = if inst.looks_like_hospital() {
                FacilityKind::Hospital
            } else if inst.looks_like_dental() {
                FacilityKind::DentalClinic
            } else {
                FacilityKind::Clinic
            };
            let facs: &Vec<Facility> = facilities;
            let ok_base = |mi: usize| {
                let fi = medical[mi];
                !claimed.contains(&fi)
                    && facs[fi].identifiers.hic.as_ref().is_none_or(|h| *h == hic)
            };
            target = med_matcher
                .find(&q, &|mi| ok_base(mi) && facs[medical[mi]].kind == want)
                .or_else(|| med_matcher.find(&q, &ok_base))
                .map(|mi| medical[mi]);
        }
        let phone_contacts = || {
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
        };
        let make_services = || -> Vec<Service> {
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
        };
        match target {
            Some(fi) => {
                claimed.insert(fi);
                stat.joined += 1;
                let f = &mut facilities[fi];
                f.identifiers.hic.get_or_insert_with(|| hic.clone());
                if f.address.postal_code.is_none() {
                    f.address.postal_code = inst.postal_code.clone();
                }
                for c in phone_contacts() {
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
                for s in make_services() {
                    f.services.retain(|x| x.kind != s.kind);
                    f.services.push(s);
                }
            }
            None => {
                let kinds: Vec<&str> = services.keys().map(|k| k.code()).collect();
                let becomes = if services.is_empty() {
                    String::new()
                } else {
                    format!(" → hic-{hic} [{}]", kinds.join(","))
                };
                stat.unjoined
                    .push(format!("{} {} | {}{becomes}", hic, inst.name, inst.address));
                if services.is_empty() {
                    continue;
                }
                let kind = if inst.looks_like_hospital() {
                    FacilityKind::Hospital
                } else if inst.looks_like_dental() {
                    FacilityKind::DentalClinic
                } else {
                    FacilityKind::Clinic
                };
                let address = format!("{}{}", ctx.places.prefecture, tidy_address(&inst.address));
                let mut f = ctx.facility(
                    format!("hic-{hic}"),
                    kind,
                    &inst.name,
                    address,
                    None,
                    None,
                    src::TODOKEDE,
                );
                f.identifiers.hic = Some(hic.clone());
                f.address.postal_code = inst
                    .postal_code
                    .clone()
                    .or_else(|| code_of.get(hic.as_str()).and_then(|c| c.postal.clone()));
                f.contacts = phone_contacts();
                f.notes = inst.beds.as_ref().map(|b| format!("病床（届出）: {b}"));
                f.services = make_services();
                new_facilities.push(f);
            }
        }
    }
    report.joins.push(stat);
    facilities.extend(new_facilities);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn station_address_tidy() {
        assert_eq!(
            tidy_station_address(
                "北海道札幌市中央区南16条西19丁目1－32シティホーム山鼻1階 シティホーム山鼻1階"
            ),
            "北海道札幌市中央区南16条西19丁目1－32シティホーム山鼻1階"
        );
        assert_eq!(
            tidy_station_address("埼玉県　川口市　本町1-2"),
            "埼玉県川口市本町1-2"
        );
    }

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
            url: None,
            notes: None,
            services: vec![],
            provenance: Provenance::dataset("x", "2025-01-01"),
            updated_at: "2025-01-01".into(),
            verified_at: None,
            verified_by: None,
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
        // Corrupt one file: the whole read fails.
        std::fs::write(dir.join(files::AREAS), b"{}").unwrap();
        assert!(matches!(files::read(&dir), Err(DataError::Checksum { .. })));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
