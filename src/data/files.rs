//! Reading and writing the files of `data/` (see the module docs of `crate::data`).
//! Reading verifies every file against the manifest, so a corrupt file fails the whole load.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Dataset;

pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("data file {path} is missing or unreadable: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "data file {path} does not match the manifest (expected SHA-256 {expected}, found {found}); rebuild with `pallimap data build`"
    )]
    Checksum {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("data file {path} is malformed at record {record}: {message}")]
    Malformed {
        path: PathBuf,
        record: usize,
        message: String,
    },
    #[error(
        "unsupported data format version {found} in {path} (this build reads {FORMAT_VERSION})"
    )]
    Version { path: PathBuf, found: u32 },
    #[error("source data problem: {0}")]
    Source(String),
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// 2-digit prefecture code, e.g. `11`.
    pub pref_code: String,
    pub prefecture: String,
    /// Source name → snapshot date (YYYY-MM-DD).
    pub sources: BTreeMap<String, String>,
    /// File name → its SHA-256 (hex) and record count.
    pub files: BTreeMap<String, FileEntry>,
    /// Build statistics (counts, join rates, placement rates), for the README.
    #[serde(default)]
    pub stats: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    pub sha256: String,
    pub records: usize,
}

pub const MANIFEST: &str = "manifest.json";
pub const FACILITIES: &str = "facilities.jsonl.gz";
pub const AREAS: &str = "areas.geojson";
pub const MUNICIPALITIES: &str = "municipalities.geojson";
pub const TOWNS: &str = "towns.csv.gz";
pub const CENSUS: &str = "census.csv.gz";
pub const ATTRIBUTION: &str = "ATTRIBUTION.md";

/// The data files every dataset must have (besides the manifest).
const REQUIRED: &[&str] = &[FACILITIES, AREAS, MUNICIPALITIES, TOWNS];

#[derive(Debug, Serialize, Deserialize)]
struct FeatureCollection<P> {
    #[serde(rename = "type")]
    kind: String,
    features: Vec<Feature<P>>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Feature<P> {
    #[serde(rename = "type")]
    kind: String,
    properties: P,
    geometry: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, Deserialize)]
struct AreaProps {
    code: String,
    name: String,
    pref_code: String,
    prefecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    population: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct MuniProps {
    code: String,
    name: String,
    pref_code: String,
    area_code: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct TownRow {
    muni_code: String,
    town: String,
    koaza: String,
    lat: f64,
    lng: f64,
}

pub(crate) fn io_err(path: &Path, source: std::io::Error) -> DataError {
    DataError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub(crate) fn malformed(path: &Path, record: usize, message: impl std::fmt::Display) -> DataError {
    DataError::Malformed {
        path: path.to_path_buf(),
        record,
        message: message.to_string(),
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Gzip with a fixed header (mtime 0, no file name) so equal input gives equal bytes.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).expect("writing to memory");
    enc.finish().expect("writing to memory")
}

fn gunzip(path: &Path, bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| malformed(path, 0, format!("not valid gzip: {e}")))?;
    Ok(out)
}

/// Serialize the dataset's files: name → (bytes, record count). Pure, deterministic.
pub fn encode(
    dataset: &Dataset,
    attribution: &str,
) -> Result<BTreeMap<String, (Vec<u8>, usize)>, DataError> {
    let ser = |what: &str, e: serde_json::Error| {
        DataError::Source(format!("cannot serialize {what}: {e}"))
    };
    let mut files = BTreeMap::new();

    let mut fac = Vec::new();
    for f in &dataset.facilities {
        fac.extend(serde_json::to_vec(f).map_err(|e| ser(&f.id, e))?);
        fac.push(b'\n');
    }
    files.insert(
        FACILITIES.to_string(),
        (gzip(&fac), dataset.facilities.len()),
    );

    let areas = FeatureCollection {
        kind: "FeatureCollection".into(),
        features: dataset
            .areas
            .iter()
            .map(|a| Feature {
                kind: "Feature".into(),
                properties: AreaProps {
                    code: a.code.clone(),
                    name: a.name.clone(),
                    pref_code: a.pref_code.clone(),
                    prefecture: a.prefecture.clone(),
                    population: a.population,
                },
                geometry: a.geometry.clone(),
            })
            .collect(),
    };
    let mut bytes = serde_json::to_vec(&areas).map_err(|e| ser(AREAS, e))?;
    bytes.push(b'\n');
    files.insert(AREAS.to_string(), (bytes, dataset.areas.len()));

    let munis = FeatureCollection {
        kind: "FeatureCollection".into(),
        features: dataset
            .municipalities
            .iter()
            .map(|m| Feature {
                kind: "Feature".into(),
                properties: MuniProps {
                    code: m.code.clone(),
                    name: m.name.clone(),
                    pref_code: m.pref_code.clone(),
                    area_code: m.area_code.clone(),
                },
                geometry: m.geometry.clone(),
            })
            .collect(),
    };
    let mut bytes = serde_json::to_vec(&munis).map_err(|e| ser(MUNICIPALITIES, e))?;
    bytes.push(b'\n');
    files.insert(
        MUNICIPALITIES.to_string(),
        (bytes, dataset.municipalities.len()),
    );

    let mut w = csv::Writer::from_writer(Vec::new());
    for t in &dataset.towns {
        w.serialize(TownRow {
            muni_code: t.muni_code.clone(),
            town: t.town.clone(),
            koaza: t.koaza.clone(),
            lat: t.lat,
            lng: t.lng,
        })
        .map_err(|e| DataError::Source(format!("cannot serialize towns: {e}")))?;
    }
    let csv_bytes = w
        .into_inner()
        .map_err(|e| DataError::Source(format!("cannot serialize towns: {e}")))?;
    files.insert(TOWNS.to_string(), (gzip(&csv_bytes), dataset.towns.len()));

    // Optional: only a dataset with census weights writes it (a synthetic one has none).
    if !dataset.census.is_empty() {
        let mut w = csv::Writer::from_writer(Vec::new());
        for c in &dataset.census {
            w.serialize(c)
                .map_err(|e| DataError::Source(format!("cannot serialize census: {e}")))?;
        }
        let csv_bytes = w
            .into_inner()
            .map_err(|e| DataError::Source(format!("cannot serialize census: {e}")))?;
        files.insert(CENSUS.to_string(), (gzip(&csv_bytes), dataset.census.len()));
    }

    files.insert(
        ATTRIBUTION.to_string(),
        (attribution.as_bytes().to_vec(), attribution.lines().count()),
    );
    Ok(files)
}

/// Write `dataset` (and the attribution text) into `dir`, with a manifest listing every file's
/// SHA-256 and record count. `dataset.manifest.files` is ignored and recomputed. Each file is
/// written to a temporary name and renamed, the manifest last.
pub fn write(dir: &Path, dataset: &Dataset, attribution: &str) -> Result<Manifest, DataError> {
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let files = encode(dataset, attribution)?;
    let mut manifest = dataset.manifest.clone();
    manifest.format = FORMAT_VERSION;
    manifest.files = files
        .iter()
        .map(|(name, (bytes, records))| {
            (
                name.clone(),
                FileEntry {
                    sha256: sha256_hex(bytes),
                    records: *records,
                },
            )
        })
        .collect();
    let mut mbytes = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| DataError::Source(format!("cannot serialize manifest: {e}")))?;
    mbytes.push(b'\n');
    for (name, (bytes, _)) in files
        .iter()
        .chain(std::iter::once((&MANIFEST.to_string(), &(mbytes, 0))))
    {
        let path = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, bytes).map_err(|e| io_err(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| io_err(&path, e))?;
    }
    Ok(manifest)
}

/// Read and verify `dir`. Any missing, corrupt or malformed file fails the whole read.
pub fn read(dir: &Path) -> Result<Dataset, DataError> {
    let reference = read_reference(dir)?;
    let facilities = facilities(dir, &reference.manifest)?.collect::<Result<Vec<_>, _>>()?;
    let Reference {
        manifest,
        areas,
        municipalities,
        towns,
        census,
    } = reference;
    Ok(Dataset {
        manifest,
        facilities,
        areas,
        municipalities,
        towns,
        census,
    })
}

/// A verified dataset directory without its facilities, which [`facilities`] streams.
#[derive(Debug, Clone)]
pub struct Reference {
    pub manifest: Manifest,
    pub areas: Vec<crate::domain::Area>,
    pub municipalities: Vec<crate::domain::Municipality>,
    pub towns: Vec<crate::domain::TownRef>,
    pub census: Vec<crate::domain::CensusArea>,
}

impl Reference {
    /// The stamp a store keeps to know which dataset it holds (see [`Dataset::stamp`]).
    pub fn stamp(&self) -> String {
        super::stamp(&self.manifest)
    }
}

/// The manifest of `dir`, after checking every file it lists against its SHA-256 (read in
/// pieces: the facilities of a nationwide dataset are never held whole).
fn verify(dir: &Path) -> Result<Manifest, DataError> {
    use sha2::{Digest, Sha256};
    let mpath = dir.join(MANIFEST);
    let mbytes = std::fs::read(&mpath).map_err(|e| io_err(&mpath, e))?;
    let manifest: Manifest =
        serde_json::from_slice(&mbytes).map_err(|e| malformed(&mpath, 0, e))?;
    if manifest.format != FORMAT_VERSION {
        return Err(DataError::Version {
            path: mpath,
            found: manifest.format,
        });
    }
    for name in REQUIRED {
        if !manifest.files.contains_key(*name) {
            return Err(malformed(
                &mpath,
                0,
                format!("manifest does not list {name}"),
            ));
        }
    }
    for (name, entry) in &manifest.files {
        if name.contains('/') || name.contains('\\') || name.starts_with('.') {
            return Err(malformed(&mpath, 0, format!("bad file name {name:?}")));
        }
        let path = dir.join(name);
        let mut file = std::fs::File::open(&path).map_err(|e| io_err(&path, e))?;
        let mut hasher = Sha256::new();
        std::io::copy(&mut file, &mut hasher).map_err(|e| io_err(&path, e))?;
        let found: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if !found.eq_ignore_ascii_case(&entry.sha256) {
            return Err(DataError::Checksum {
                path,
                expected: entry.sha256.clone(),
                found,
            });
        }
    }
    Ok(manifest)
}

fn check_count(
    manifest: &Manifest,
    path: &Path,
    found: usize,
    name: &str,
) -> Result<(), DataError> {
    let expected = manifest.files[name].records;
    if found != expected {
        return Err(malformed(
            path,
            found,
            format!("{found} records, manifest says {expected}"),
        ));
    }
    Ok(())
}

/// Verify every file of `dir` and parse all but the facilities.
pub fn read_reference(dir: &Path) -> Result<Reference, DataError> {
    let manifest = verify(dir)?;
    let bytes = |name: &str| -> Result<Vec<u8>, DataError> {
        let path = dir.join(name);
        std::fs::read(&path).map_err(|e| io_err(&path, e))
    };

    let path = dir.join(AREAS);
    let fc: FeatureCollection<AreaProps> =
        serde_json::from_slice(&bytes(AREAS)?).map_err(|e| malformed(&path, 0, e))?;
    let areas: Vec<crate::domain::Area> = fc
        .features
        .into_iter()
        .map(|f| crate::domain::Area {
            code: f.properties.code,
            name: f.properties.name,
            pref_code: f.properties.pref_code,
            prefecture: f.properties.prefecture,
            population: f.properties.population,
            geometry: f.geometry,
        })
        .collect();
    check_count(&manifest, &path, areas.len(), AREAS)?;

    let path = dir.join(MUNICIPALITIES);
    let fc: FeatureCollection<MuniProps> =
        serde_json::from_slice(&bytes(MUNICIPALITIES)?).map_err(|e| malformed(&path, 0, e))?;
    let municipalities: Vec<crate::domain::Municipality> = fc
        .features
        .into_iter()
        .map(|f| crate::domain::Municipality {
            code: f.properties.code,
            name: f.properties.name,
            pref_code: f.properties.pref_code,
            area_code: f.properties.area_code,
            geometry: f.geometry,
        })
        .collect();
    check_count(&manifest, &path, municipalities.len(), MUNICIPALITIES)?;

    let path = dir.join(TOWNS);
    let raw = gunzip(&path, &bytes(TOWNS)?)?;
    let mut rdr = csv::Reader::from_reader(raw.as_slice());
    let mut towns = Vec::new();
    for (i, row) in rdr.deserialize::<TownRow>().enumerate() {
        let r = row.map_err(|e| malformed(&path, i + 1, e))?;
        towns.push(crate::domain::TownRef {
            muni_code: r.muni_code,
            town: r.town,
            koaza: r.koaza,
            lat: r.lat,
            lng: r.lng,
        });
    }
    check_count(&manifest, &path, towns.len(), TOWNS)?;

    let census = match manifest.files.get(CENSUS) {
        Some(entry) => parse_census(&dir.join(CENSUS), &bytes(CENSUS)?, entry.records)?,
        None => Vec::new(),
    };

    Ok(Reference {
        manifest,
        areas,
        municipalities,
        towns,
        census,
    })
}

/// The facilities of a verified `dir`, one line at a time. A malformed line is an error in its
/// place; a count other than the manifest's is an error after the last line.
pub fn facilities(dir: &Path, manifest: &Manifest) -> Result<Facilities, DataError> {
    use std::io::BufRead;
    let path = dir.join(FACILITIES);
    let file = std::fs::File::open(&path).map_err(|e| io_err(&path, e))?;
    let lines = std::io::BufReader::with_capacity(
        1 << 16,
        flate2::read::GzDecoder::new(std::io::BufReader::new(file)),
    )
    .lines();
    Ok(Facilities {
        expected: manifest.files[FACILITIES].records,
        path,
        lines,
        line: 0,
        count: 0,
        done: false,
    })
}

/// The stream [`facilities`] gives.
pub struct Facilities {
    path: PathBuf,
    lines: std::io::Lines<
        std::io::BufReader<flate2::read::GzDecoder<std::io::BufReader<std::fs::File>>>,
    >,
    expected: usize,
    line: usize,
    count: usize,
    done: bool,
}

impl Iterator for Facilities {
    type Item = Result<crate::domain::Facility, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            self.line += 1;
            let text = match self.lines.next() {
                None => {
                    self.done = true;
                    if self.count != self.expected {
                        return Some(Err(malformed(
                            &self.path,
                            self.count,
                            format!("{} records, manifest says {}", self.count, self.expected),
                        )));
                    }
                    return None;
                }
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(malformed(
                        &self.path,
                        self.line,
                        format!("not valid gzip or UTF-8: {e}"),
                    )));
                }
                Some(Ok(t)) => t,
            };
            if text.trim().is_empty() {
                continue;
            }
            self.count += 1;
            return Some(serde_json::from_str(&text).map_err(|e| {
                self.done = true;
                malformed(&self.path, self.line, e)
            }));
        }
    }
}

fn parse_census(
    path: &Path,
    gz: &[u8],
    records: usize,
) -> Result<Vec<crate::domain::CensusArea>, DataError> {
    let raw = gunzip(path, gz)?;
    let mut rdr = csv::Reader::from_reader(raw.as_slice());
    let mut census = Vec::new();
    for (i, row) in rdr.deserialize::<crate::domain::CensusArea>().enumerate() {
        census.push(row.map_err(|e| malformed(path, i + 1, e))?);
    }
    if census.len() != records {
        return Err(malformed(
            path,
            census.len(),
            format!("{} records, manifest says {records}", census.len()),
        ));
    }
    Ok(census)
}

/// Only the census small areas of `dir`, verified against the manifest; empty when the
/// dataset has none. For a database loaded before the census was part of the dataset.
pub fn read_census(dir: &Path) -> Result<Vec<crate::domain::CensusArea>, DataError> {
    let mpath = dir.join(MANIFEST);
    let mbytes = std::fs::read(&mpath).map_err(|e| io_err(&mpath, e))?;
    let manifest: Manifest =
        serde_json::from_slice(&mbytes).map_err(|e| malformed(&mpath, 0, e))?;
    let Some(entry) = manifest.files.get(CENSUS) else {
        return Ok(Vec::new());
    };
    let path = dir.join(CENSUS);
    let bytes = std::fs::read(&path).map_err(|e| io_err(&path, e))?;
    let found = sha256_hex(&bytes);
    if !found.eq_ignore_ascii_case(&entry.sha256) {
        return Err(DataError::Checksum {
            path,
            expected: entry.sha256.clone(),
            found,
        });
    }
    parse_census(&path, &bytes, entry.records)
}
