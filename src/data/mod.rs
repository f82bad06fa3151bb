//! The processed default dataset in `data/`: its file format, reading it back with integrity
//! checks, and building it from the public sources in `../shared/data-src/`.
//!
//! Files (all written deterministically: sorted, gzip with mtime 0, no timestamps of the build):
//! - `manifest.json`        — format version, prefecture, sources with snapshot dates, per-file
//!   SHA-256 and record counts, build statistics.
//! - `facilities.jsonl.gz`  — one [`crate::domain::Facility`] per line, sorted by id.
//! - `areas.geojson`        — 二次医療圏 FeatureCollection; properties code, name, pref_code,
//!   prefecture, population.
//! - `municipalities.geojson` — 市区町村 FeatureCollection; properties code, name, pref_code,
//!   area_code. The region's municipalities (pref_code = the manifest's) carry their outline;
//!   those of the neighbouring prefectures are there for the geocoder and have no geometry.
//! - `towns.csv.gz`         — geocoder reference: muni_code,town,koaza,lat,lng, for the region
//!   and its neighbouring prefectures.
//! - `census.csv.gz`       — 2020 census small areas (町丁・字), the coverage report's weights:
//!   key_code,muni_code,name,population,households,lat,lng, sorted by key_code; areas without
//!   population kept with population 0. Optional: a dataset without it has no weights.
//! - `ATTRIBUTION.md`       — every source, its licence and its credit line.

pub mod build;
pub mod files;
pub mod geocode_eval;
pub mod synth;

use crate::domain::{Area, CensusArea, Facility, Municipality};
use crate::domain::{MuniRef, TownRef};
use crate::geocode::Gazetteer;

/// Everything in `data/`, parsed and verified.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub manifest: Manifest,
    pub facilities: Vec<Facility>,
    pub areas: Vec<Area>,
    pub municipalities: Vec<Municipality>,
    pub towns: Vec<TownRef>,
    /// 2020 census small areas (empty when the dataset has no `census.csv.gz`).
    pub census: Vec<CensusArea>,
}

impl Dataset {
    /// The stamp a store keeps to know which dataset it holds: prefecture and checksum.
    pub fn stamp(&self) -> String {
        stamp(&self.manifest)
    }

    /// The geocoder reference built from this dataset's municipalities and towns.
    pub fn gazetteer(&self) -> Gazetteer {
        let munis = self
            .municipalities
            .iter()
            .map(|m| MuniRef {
                code: m.code.clone(),
                // The reference spans several prefectures: each municipality names its own.
                prefecture: crate::domain::prefecture::name(&m.pref_code)
                    .map(str::to_string)
                    .unwrap_or_else(|| self.manifest.prefecture.clone()),
                name: m.name.clone(),
                area_code: Some(m.area_code.clone()),
            })
            .collect();
        Gazetteer::new(munis, self.towns.clone())
    }
}

pub use files::{DataError, Manifest, Reference};

/// A dataset's stamp: prefecture and the facilities file's checksum.
fn stamp(manifest: &Manifest) -> String {
    format!(
        "{}:{}",
        manifest.pref_code,
        manifest
            .files
            .get(files::FACILITIES)
            .map(|f| f.sha256.as_str())
            .unwrap_or("")
    )
}
