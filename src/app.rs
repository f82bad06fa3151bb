//! Wiring: open the store, load the default dataset into an empty database, build the catalog
//! from the store, and follow the change log. `main` and the tests both use it, so both run
//! the same application. The only module that knows store, catalog, geocoder and dataset at once.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::catalog::{
    Catalog, CatalogBuilder, CatalogError, CatalogHandle, CatalogParts, Prepared, text::TextIndex,
};
use crate::data::{DataError, Dataset};
use crate::domain::Facility;
use crate::domain::MuniRef;
use crate::geocode::Gazetteer;
use crate::store::{DatasetLoad, LoadSummary, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error("cannot load the default dataset from {dir}: {source}")]
    Data { dir: String, source: DataError },
    #[error("cannot apply the sample set {path}: {detail}")]
    Sample { path: String, detail: String },
}

/// One sample bed status and rule set of `data/sample/admissions.json`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SampleEntry {
    facility: String,
    service: crate::domain::ServiceKind,
    capacity: Option<SampleCapacity>,
    admission_rules: Option<crate::domain::AdmissionRules>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SampleCapacity {
    status: crate::domain::CapacityStatus,
    free_beds: Option<u32>,
    waiting_days: Option<u32>,
    note: Option<String>,
    /// Reported this many hours before loading, so a demo shows fresh and stale statuses.
    hours_ago: u32,
}

#[derive(Debug, serde::Deserialize)]
struct SampleFile {
    #[allow(dead_code)]
    about: String,
    entries: Vec<SampleEntry>,
}

/// One sample answer set of `data/sample/surveys.json`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SampleResponse {
    facility: String,
    survey: String,
    version: u32,
    respondent: Option<String>,
    /// Answered this many days before loading.
    days_ago: u32,
    answers: serde_json::Value,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SampleGroup {
    name: String,
    members: Vec<String>,
    licence_valid_until: String,
    transfer_hours: Option<u32>,
    note: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SampleSurveys {
    #[allow(dead_code)]
    about: String,
    responses: Vec<SampleResponse>,
    #[serde(default)]
    pharmacy_groups: Vec<SampleGroup>,
}

/// The sample survey answers' file under the dataset directory.
pub fn sample_surveys_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("sample").join("surveys.json")
}

/// Remove every sample survey fact, answer set and pharmacy group; then, with `enabled`, file
/// the answer sets of `data/sample/surveys.json` (decided, `via = sample`) and apply them as
/// `SampleSurvey` facts, and record its groups marked sample. Returns the facilities changed.
fn apply_sample_surveys(
    store: &Store,
    data_dir: &Path,
    enabled: bool,
    edit: &crate::store::Edit<'_>,
) -> Result<usize, AppError> {
    use crate::domain::survey::{self, Survey, SurveyCode};
    let path = sample_surveys_path(data_dir);
    let bad = |detail: String| AppError::Sample {
        path: path.display().to_string(),
        detail,
    };
    let mut changed = 0;
    for id in store.sample_facility_ids()? {
        let Some(f) = store.facility(&id)? else {
            continue;
        };
        let mut next = f.clone();
        if survey::remove_sample(&mut next) {
            store
                .edit_facility(&id, f.version, edit, move |f| {
                    survey::remove_sample(f);
                    Ok(())
                })
                .map_err(|e| bad(e.to_string()))?;
            changed += 1;
        }
    }
    store.delete_sample_answers()?;
    for g in store.pharmacy_groups()?.into_iter().filter(|g| g.sample) {
        store.delete_pharmacy_group(g.id, edit)?;
    }
    if !enabled || !path.exists() {
        return Ok(changed);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
    let file: SampleSurveys = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let now = crate::auth::now();
    for (i, r) in file.responses.into_iter().enumerate() {
        let at_fault = |e: String| bad(format!("responses[{i}] ({}): {e}", r.facility));
        let f = store
            .facility(&r.facility)?
            .ok_or_else(|| at_fault("no such facility".into()))?;
        let code =
            SurveyCode::from_code(&r.survey).ok_or_else(|| at_fault("unknown survey".into()))?;
        let s = Survey::get(code, r.version).ok_or_else(|| at_fault("unknown version".into()))?;
        if !s.kinds.contains(&f.kind) {
            return Err(at_fault(format!(
                "the {} survey is not for a {}",
                r.survey, f.kind
            )));
        }
        let answers = survey::validate(s, &r.answers).map_err(|e| at_fault(e.to_string()))?;
        let at = crate::auth::timestamp(now - time::Duration::days(i64::from(r.days_ago)));
        let proposal = crate::store::NewProposal {
            changes: answers.to_value().to_string(),
            note: Some("サンプル / sample".into()),
            survey: Some((s.code.code().to_string(), s.version as i32)),
            respondent: r.respondent,
        };
        store
            .record_answers(
                &f.id,
                f.version,
                edit,
                |f| {
                    let by = survey::Answered {
                        at: &at,
                        origin: crate::domain::Origin::SampleSurvey,
                    };
                    survey::apply(s, &answers, f, by);
                    Ok(())
                },
                proposal,
                "sample",
            )
            .map_err(|e| at_fault(e.to_string()))?;
        changed += 1;
    }
    for (i, g) in file.pharmacy_groups.into_iter().enumerate() {
        for m in &g.members {
            if store
                .facility(m)?
                .is_none_or(|f| f.kind != crate::domain::FacilityKind::Pharmacy)
            {
                return Err(bad(format!(
                    "pharmacy_groups[{i}]: {m} is not a pharmacy here"
                )));
            }
        }
        let group = crate::domain::PharmacyGroup {
            id: 0,
            name: g.name,
            members: g.members,
            licence_valid_until: g.licence_valid_until,
            transfer_hours: g.transfer_hours,
            note: g.note,
            sample: true,
            updated_by: String::new(),
            updated_at: String::new(),
        };
        store.put_pharmacy_group(None, &group, edit)?;
    }
    Ok(changed)
}

/// The sample set's file under the dataset directory.
pub fn sample_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("sample").join("admissions.json")
}

/// With `enabled`, put the sample bed statuses and admission rules of `data/sample/` on their
/// (real) facilities, marked sample, where no real report or rules exist; without it, remove
/// every sample one, so a service started without `--with-sample` shows none. Logged as
/// edits by `sample`. Returns how many facilities changed.
pub fn apply_sample(store: &Store, data_dir: &Path, enabled: bool) -> Result<usize, AppError> {
    let edit = crate::store::Edit {
        actor: "sample",
        source: "sample",
        at: &crate::auth::timestamp(crate::auth::now()),
    };
    let bad = |detail: String| AppError::Sample {
        path: sample_path(data_dir).display().to_string(),
        detail,
    };
    let mut changed = apply_sample_surveys(store, data_dir, enabled, &edit)?;
    if !enabled {
        for id in store.sample_facility_ids()? {
            let Some(f) = store.facility(&id)? else {
                continue;
            };
            store
                .edit_facility(&id, f.version, &edit, |f| {
                    for s in &mut f.services {
                        if s.capacity.as_ref().is_some_and(|c| c.sample) {
                            s.capacity = None;
                        }
                        if s.admission_rules.as_ref().is_some_and(|r| r.sample) {
                            s.admission_rules = None;
                        }
                    }
                    Ok(())
                })
                .map_err(|e| bad(e.to_string()))?;
            changed += 1;
        }
        return Ok(changed);
    }
    let text = std::fs::read_to_string(sample_path(data_dir)).map_err(|e| bad(e.to_string()))?;
    let file: SampleFile = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let now = crate::auth::now();
    for e in file.entries {
        let f = store
            .facility(&e.facility)?
            .ok_or_else(|| bad(format!("no facility {}", e.facility)))?;
        if !f.offers(e.service) || !crate::domain::takes_admissions(e.service) {
            return Err(bad(format!(
                "{} does not offer {} with a bed status",
                e.facility,
                e.service.code()
            )));
        }
        let capacity = e.capacity.map(|c| crate::domain::Capacity {
            status: c.status,
            free_beds: c.free_beds,
            waiting_days: c.waiting_days,
            note: c.note,
            updated_by: "sample".into(),
            updated_at: crate::auth::timestamp(now - time::Duration::hours(i64::from(c.hours_ago))),
            via: None,
            sample: true,
            visibility: crate::domain::Visibility::Professional,
        });
        let rules = e.admission_rules.map(|mut r| {
            r.sample = true;
            r
        });
        let kind = e.service;
        store
            .edit_facility(&f.id, f.version, &edit, move |f| {
                let s = f
                    .services
                    .iter_mut()
                    .find(|s| s.kind == kind)
                    .ok_or("service gone")?;
                if s.capacity.as_ref().is_none_or(|c| c.sample) && capacity.is_some() {
                    s.capacity = capacity;
                }
                if s.admission_rules.as_ref().is_none_or(|r| r.sample) && rules.is_some() {
                    s.admission_rules = rules;
                }
                Ok(())
            })
            .map_err(|e| bad(e.to_string()))?;
        changed += 1;
    }
    Ok(changed)
}

/// Check a file of facilities (`apply`: then apply it, all-or-nothing, when every row passes)
/// against the store and the catalog's geocoder; `open` opens the file afresh for each pass.
/// The caller refreshes the catalog after an apply.
#[allow(clippy::too_many_arguments)]
pub fn import<R: std::io::Read + std::io::Seek + 'static>(
    store: &Store,
    catalog: &Catalog,
    open: impl Fn() -> std::io::Result<R>,
    file_name: &str,
    encoding: Option<crate::import::Encoding>,
    importer: crate::import::Importer<'_>,
    apply: bool,
    mut progress: impl FnMut(usize),
) -> Result<crate::import::Preview, crate::import::ImportError> {
    use crate::import::{self, ImportError};
    let mut r = open().map_err(|e| ImportError::Read(e.into()))?;
    let mut head = [0u8; 4];
    let n = std::io::Read::read(&mut r, &mut head).map_err(|e| ImportError::Read(e.into()))?;
    let format = import::read::sniff(&head[..n]);
    std::io::Seek::rewind(&mut r).map_err(|e| ImportError::Read(e.into()))?;
    let checksum = import::checksum(&mut r).map_err(|e| ImportError::Read(e.into()))?;
    let at = crate::auth::timestamp(crate::auth::now());
    let ctx = import::Context::new(
        catalog,
        store.facilities()?,
        importer,
        file_name,
        &checksum,
        &at,
    );
    let preview = import::run(r, format, encoding, &ctx, &checksum, None, &mut progress)?;
    if !apply {
        return Ok(preview);
    }
    if !preview.acceptable() {
        return Err(ImportError::Rejected(Box::new(preview)));
    }
    if preview.created + preview.updated == 0 {
        return Ok(crate::import::Preview {
            applied: true,
            ..preview
        });
    }
    let r = open().map_err(|e| ImportError::Read(e.into()))?;
    import::run(r, format, encoding, &ctx, &checksum, Some(store), progress)
}

/// Apply a dataset to the store in one transaction (see [`Store::load_dataset`]).
pub fn load_dataset(
    store: &Store,
    dataset: &Dataset,
    actor: &str,
) -> Result<LoadSummary, StoreError> {
    let stamp = dataset.stamp();
    store.load_dataset(
        &DatasetLoad {
            stamp: &stamp,
            areas: &dataset.areas,
            municipalities: &dataset.municipalities,
            towns: &dataset.towns,
            census: &dataset.census,
        },
        dataset
            .facilities
            .iter()
            .cloned()
            .map(Ok::<_, std::convert::Infallible>),
        actor,
        None,
    )
}

/// Apply the dataset in `data_dir` to the store in one transaction, its facilities streamed
/// from the file in batches: the first load of a nationwide dataset holds a few thousand
/// facilities at a time, not all of them. What it writes goes to `written` too (see
/// [`Store::load_dataset`]).
pub fn load_dataset_dir(
    store: &Store,
    data_dir: &Path,
    actor: &str,
    written: Option<crate::store::Written<'_>>,
) -> Result<LoadSummary, AppError> {
    let data_err = |source| AppError::Data {
        dir: data_dir.display().to_string(),
        source,
    };
    let reference = crate::data::files::read_reference(data_dir).map_err(data_err)?;
    let facilities =
        crate::data::files::facilities(data_dir, &reference.manifest).map_err(data_err)?;
    let stamp = reference.stamp();
    // The file is unpacked and parsed on a thread of its own, a few hundred facilities ahead
    // of the load, whose one connection is the slowest stage.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<_>>(4);
    Ok(std::thread::scope(|s| {
        s.spawn(move || {
            let mut batch = Vec::with_capacity(READ_AHEAD);
            for f in facilities {
                batch.push(f);
                // A failed send means the load stopped: stop reading.
                if batch.len() == READ_AHEAD
                    && tx
                        .send(std::mem::replace(
                            &mut batch,
                            Vec::with_capacity(READ_AHEAD),
                        ))
                        .is_err()
                {
                    return;
                }
            }
            let _ = tx.send(batch);
        });
        store.load_dataset(
            &DatasetLoad {
                stamp: &stamp,
                areas: &reference.areas,
                municipalities: &reference.municipalities,
                towns: &reference.towns,
                census: &reference.census,
            },
            rx.into_iter().flatten(),
            actor,
            written,
        )
    })?)
}

/// Facilities parsed at a time ahead of a load.
const READ_AHEAD: usize = 256;

/// Read `data_dir` as a dataset.
pub fn read_dataset(data_dir: &Path) -> Result<Dataset, AppError> {
    crate::data::files::read(data_dir).map_err(|source| AppError::Data {
        dir: data_dir.display().to_string(),
        source,
    })
}

/// Return freed heap memory to the system. glibc's allocator keeps what a large, short-lived
/// structure (the dataset of a first load, the rows of a rebuild) freed, and the process would
/// stay at its peak; elsewhere this does nothing.
#[allow(unsafe_code)] // FFI calls; see the SAFETY notes.
pub fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages of the allocator's own arenas.
    unsafe {
        libc::malloc_trim(0);
    }
    // The binary's Rust heap is mimalloc's (SQLite's is the C library's, above): it returns
    // freed pages lazily, as each thread allocates again; the load's threads are gone, so
    // collect their abandoned pages now.
    // SAFETY: mi_collect only frees and returns pages that hold no live allocation.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
}

/// Open (and migrate) the store; an empty database first gets the dataset in `data_dir`.
pub fn open_store(database_url: &str, data_dir: &Path) -> Result<Store, AppError> {
    Ok(open(database_url, data_dir, false)?.0)
}

/// [`open_store`], and when it loads the dataset into an empty database, the catalog built
/// from what the load writes while it writes it (on another thread), at the load's position.
/// A first start then never reads the facilities back.
pub fn open_store_building(
    database_url: &str,
    data_dir: &Path,
) -> Result<(Store, Option<Catalog>), AppError> {
    open(database_url, data_dir, true)
}

fn open(
    database_url: &str,
    data_dir: &Path,
    build: bool,
) -> Result<(Store, Option<Catalog>), AppError> {
    let store = Store::open(database_url)?;
    let mut built = None;
    if !store.has_dataset()? {
        let t = Instant::now();
        let summary = if build {
            let (summary, catalog) = load_building(&store, data_dir)?;
            built = catalog;
            summary
        } else {
            load_dataset_dir(&store, data_dir, "dataset-load", None)?
        };
        return_freed_memory();
        tracing::info!(
            inserted = summary.inserted,
            elapsed_ms = t.elapsed().as_millis() as u64,
            catalog_built = built.is_some(),
            "loaded the default dataset into an empty database"
        );
    } else if store.census_areas()?.is_empty() {
        // A database loaded before the census was part of the dataset gets its weights now.
        // The data directory is optional once a dataset is loaded: without it, no weights.
        match crate::data::files::read_census(data_dir) {
            Ok(census) if !census.is_empty() => {
                store.load_census(&census)?;
                tracing::info!(small_areas = census.len(), "loaded the census small areas");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "no census small areas; coverage has no weights"),
        }
    }
    Ok((store, built))
}

/// Load `data_dir` on another thread while this one builds a catalog from the batches it
/// writes; the catalog is `None` when the table was not empty (the batches are then not the
/// whole table).
fn load_building(
    store: &Store,
    data_dir: &Path,
) -> Result<(LoadSummary, Option<Catalog>), AppError> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Facility>>(2);
    let (summary, fill) = std::thread::scope(|s| {
        let builder = s.spawn(move || {
            // The load's one connection is the slowest stage: the builder (and the index
            // writer threads it starts) take what CPU it leaves.
            yield_to_others();
            let mut fill = Filling::new(None);
            for batch in rx {
                // Deactivated facilities are history: in the store, in no list.
                fill.push(
                    batch
                        .into_iter()
                        .filter(|f| f.status.is_active())
                        .map(CatalogBuilder::prepare),
                );
            }
            fill
        });
        // The builder only goes away when this scope unwinds.
        let mut send = move |batch| drop(tx.send(batch));
        let summary = load_dataset_dir(store, data_dir, "dataset-load", Some(&mut send));
        drop(send);
        let fill = builder
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (summary, fill)
    });
    let summary = summary?;
    let catalog = match summary.whole_table_at {
        Some(change_seq) => Some(fill.finish(store, change_seq)?),
        None => None,
    };
    Ok((summary, catalog))
}

/// Lower the calling thread's scheduling priority (nice 10; on Linux the nice value is per
/// thread, and threads it starts inherit it), so that it runs on what CPU the others leave.
#[allow(unsafe_code)] // See the SAFETY note.
fn yield_to_others() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: setpriority with who = 0 changes only the calling thread's nice value.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
}

/// A catalog being built from facilities in id order, with those that came out of order.
struct Filling {
    builder: CatalogBuilder,
    out_of_order: Vec<Facility>,
    started: Instant,
}

impl Filling {
    /// A builder searching `text`, an index saved for the facilities to come, when given.
    fn new(text: Option<TextIndex>) -> Filling {
        Filling {
            builder: text.map_or_else(CatalogBuilder::default, CatalogBuilder::with_saved_text),
            out_of_order: Vec::new(),
            started: Instant::now(),
        }
    }

    fn push(&mut self, batch: impl Iterator<Item = Prepared>) {
        for p in batch {
            if let Err(f) = self.builder.push_prepared(p) {
                self.out_of_order.push(f);
            }
        }
    }

    /// The catalog of everything pushed, with the store's reference data, at `change_seq`.
    fn finish(self, store: &Store, change_seq: i64) -> Result<Catalog, AppError> {
        let (areas, municipalities, geocoder) = reference(store)?;
        let (groups, census) = (store.pharmacy_groups()?, store.census_areas()?);
        if !self.out_of_order.is_empty() {
            // The database orders ids by a collation other than byte order: sort them here.
            tracing::warn!(
                facilities = self.out_of_order.len(),
                "facility ids came out of byte order; the catalog is built from one sorted list"
            );
            let mut facilities = self.builder.into_facilities();
            facilities.extend(self.out_of_order);
            return Ok(Catalog::new(CatalogParts {
                facilities,
                areas,
                municipalities,
                geocoder,
                groups,
                census,
                change_seq,
            })?);
        }
        let read = self.started.elapsed();
        let reused = self.builder.has_saved_text();
        let catalog =
            self.builder
                .finish(areas, municipalities, geocoder, groups, census, change_seq)?;
        return_freed_memory();
        tracing::info!(
            facilities = catalog.len(),
            read_ms = read.as_millis() as u64,
            index_ms = (self.started.elapsed() - read).as_millis() as u64,
            text_index_mb = catalog.text_index_bytes() / 1_000_000,
            saved_text_index = reused,
            "built the catalog"
        );
        Ok(catalog)
    }
}

/// The store's areas and municipalities, and the gazetteer built from them and its towns.
type Reference = (
    Vec<crate::domain::Area>,
    Vec<crate::domain::Municipality>,
    Arc<Gazetteer>,
);

fn reference(store: &Store) -> Result<Reference, AppError> {
    let areas = store.areas()?;
    let municipalities = store.municipalities()?;
    let towns = store.towns()?;
    let pref_names: HashMap<String, String> = areas
        .iter()
        .map(|a| (a.pref_code.clone(), a.prefecture.clone()))
        .collect();
    let munis = municipalities
        .iter()
        .map(|m| MuniRef {
            code: m.code.clone(),
            prefecture: crate::domain::prefecture::name(&m.pref_code)
                .map(str::to_string)
                .or_else(|| pref_names.get(&m.pref_code).cloned())
                .unwrap_or_default(),
            name: m.name.clone(),
            area_code: Some(m.area_code.clone()),
        })
        .collect();
    let geocoder = Arc::new(Gazetteer::new(munis, towns));
    Ok((areas, municipalities, geocoder))
}

/// A snapshot of everything the store holds, with the gazetteer built from its reference.
pub fn build_catalog(store: &Store) -> Result<Catalog, AppError> {
    build_catalog_saved(store, None)
}

/// [`build_catalog`], opening the text index saved in `index_dir` by an earlier start at the
/// same change-log position instead of indexing, and saving the index it builds there when
/// nothing was written while it read. A saved index that cannot be opened is logged and
/// built again; one that cannot be saved is logged (the next start indexes).
pub fn build_catalog_saved(store: &Store, index_dir: Option<&Path>) -> Result<Catalog, AppError> {
    // Read the position first: the data read after it is never older than it claims.
    let change_seq = store.latest_change()?;
    let text = match index_dir {
        Some(dir) => TextIndex::open_saved(dir, &saved_index_key(store, change_seq)?)
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "cannot open the saved text index; indexing instead");
                None
            }),
        None => None,
    };
    let reused = text.is_some();
    let prepare: fn(Facility) -> Prepared = if reused {
        CatalogBuilder::prepare_without_text
    } else {
        CatalogBuilder::prepare
    };
    // Facilities are read in batches and kept only as compact records, so the whole table is
    // never decoded at once. Deactivated facilities are history: in the store, in no list.
    let mut fill = Filling::new(text);
    // Two stages on two threads: the store's rows are read and decoded into facilities while
    // the facilities before them are packed and indexed.
    // The reader also works out each facility's text document and name forms, which need
    // nothing of the builder.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Prepared>>(2);
    std::thread::scope(|s| {
        let reader = s.spawn(move || {
            store.facilities_in_batches(FACILITY_BATCH, |batch| {
                let prepared = batch
                    .into_iter()
                    .filter(|f| f.status.is_active())
                    .map(prepare)
                    .collect();
                // The receiver only goes away when this scope unwinds.
                let _ = tx.send(prepared);
            })
        });
        for batch in rx {
            fill.push(batch.into_iter());
        }
        reader
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })?;
    let catalog = fill.finish(store, change_seq)?;
    if let Some(dir) = index_dir.filter(|_| !reused) {
        save_text_index(store, &catalog, dir);
    }
    Ok(catalog)
}

/// Save `catalog`'s text index in `dir` for the next start, when the store is still at the
/// catalog's position (the facilities indexed are then exactly the store's). A failure is
/// logged: the next start indexes.
pub fn save_text_index(store: &Store, catalog: &Catalog, dir: &Path) {
    let t = Instant::now();
    let saved = (|| -> Result<bool, AppError> {
        let change_seq = catalog.change_seq();
        if store.latest_change()? != change_seq {
            return Ok(false);
        }
        catalog.save_text_index(dir, &saved_index_key(store, change_seq)?)?;
        Ok(true)
    })();
    match saved {
        Ok(true) => tracing::info!(
            dir = %dir.display(),
            elapsed_ms = t.elapsed().as_millis() as u64,
            "saved the text index for the next start"
        ),
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "cannot save the text index"),
    }
}

/// What a saved text index must have been built from to be used: this program (its file's
/// size and time), the dataset and the moment it was loaded, the database (a digest of its
/// address) and the change-log position.
fn saved_index_key(store: &Store, change_seq: i64) -> Result<String, AppError> {
    use sha2::Digest;
    let program = std::env::current_exe()
        .and_then(std::fs::metadata)
        .map(|m| {
            let at = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{} bytes, {at}", m.len())
        })
        .unwrap_or_else(|_| "unknown".into());
    let database = sha2::Sha256::digest(format!("{:?}", store.backend()).as_bytes());
    let database: String = database[..8].iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!(
        "pallimap {version} ({program}); dataset {dataset}, loaded {loaded}; database {database}; change {change_seq}",
        version = env!("CARGO_PKG_VERSION"),
        dataset = store.meta(crate::store::META_DATASET)?.unwrap_or_default(),
        loaded = store
            .meta(crate::store::META_LOADED_AT)?
            .unwrap_or_default(),
    ))
}

/// Facilities read from the store at a time while building the catalog.
const FACILITY_BATCH: usize = 5_000;

/// Facility edits since the snapshot, applied in place; anything else (a dataset load, a
/// deactivation, many changes) rebuilds the snapshot from the store.
const INCREMENTAL_LIMIT: usize = 200;

/// Change-log rows re-read behind the snapshot's position (see [`refreshed`]).
const LOOKBACK: i64 = 32;

/// The catalog after the changes since `current`: applied incrementally when they are a few
/// facility edits, else rebuilt.
pub fn refreshed(store: &Store, current: &Catalog) -> Result<Catalog, AppError> {
    // Look back a little: on PostgreSQL a transaction that took its sequence number earlier can
    // commit after a later one; applying a facility twice is harmless.
    let since = (current.change_seq() - LOOKBACK).max(0);
    // Events are read from the store on every request: their rows change nothing here but the
    // position, so they must not force a rebuild.
    if let Some((latest, entities)) = store.changes_since(since, INCREMENTAL_LIMIT)?
        && entities
            .iter()
            .all(|(e, _)| e == "facility" || e == "pharmacy_group" || e == "event")
    {
        let mut changed = Vec::with_capacity(entities.len());
        for (_, id) in entities.iter().filter(|(e, _)| e == "facility") {
            if let Some(f) = store.facility(id)? {
                changed.push(f);
            }
        }
        // Groups are few: a change to one reloads them all.
        let groups = entities
            .iter()
            .any(|(e, _)| e == "pharmacy_group")
            .then(|| store.pharmacy_groups())
            .transpose()?;
        if let Some(next) = current.apply(changed, groups, latest.max(current.change_seq()))? {
            return Ok(next);
        }
    }
    build_catalog(store)
}

/// Bring `catalog` up to the store now, serialized with every other refresh of it (the
/// follower's too), so two refreshes never build on the same snapshot and lose one's change.
pub fn refresh_now(store: &Store, catalog: &CatalogHandle) -> Result<(), AppError> {
    let _one_at_a_time = catalog.refresh_lock();
    let current = catalog.load();
    if store.latest_change()? == current.change_seq() {
        return Ok(());
    }
    let next = refreshed(store, &current)?;
    catalog.replace(next);
    Ok(())
}

/// The HTTP layer's read-your-writes hook: [`refresh_now`] on this store and catalog.
pub fn refresher(store: Arc<Store>, catalog: CatalogHandle) -> crate::http::Refresh {
    Arc::new(move || refresh_now(&store, &catalog).map_err(|e| e.to_string()))
}

/// Follow the change log: when it moves (a write here, another instance, `pallimap data load`),
/// rebuild the catalog on the blocking pool and swap it in. Readers keep the old snapshot
/// meanwhile; a failed rebuild keeps it too and is retried at the next tick. `woken` is
/// notified after a write through this instance, so it shows without waiting for the tick.
pub async fn follow_changes(
    store: Arc<Store>,
    catalog: CatalogHandle,
    every: Duration,
    woken: Arc<tokio::sync::Notify>,
) {
    spawn_listener(&store, woken.clone());
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = woken.notified() => {}
        }
        let s = store.clone();
        let latest = match tokio::task::spawn_blocking(move || s.latest_change()).await {
            Ok(Ok(seq)) => seq,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "change log unreadable");
                continue;
            }
            Err(e) => {
                tracing::error!(error = %e, "change log read panicked");
                continue;
            }
        };
        if latest == catalog.load().change_seq() {
            continue;
        }
        let (s, c) = (store.clone(), catalog.clone());
        match tokio::task::spawn_blocking(move || refresh_now(&s, &c)).await {
            Ok(Ok(())) => {
                let now = catalog.load();
                tracing::info!(
                    seq = now.change_seq(),
                    facilities = now.len(),
                    "catalog refreshed"
                );
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "catalog rebuild failed; keeping the old one")
            }
            Err(e) => tracing::error!(error = %e, "catalog rebuild panicked; keeping the old one"),
        }
    }
}

/// On PostgreSQL, wake the follower when any instance commits a change (`LISTEN/NOTIFY`); the
/// follower's polling by sequence stays the guarantee when a notification is missed. The
/// listener reconnects after a database restart.
fn spawn_listener(store: &Arc<Store>, woken: Arc<tokio::sync::Notify>) {
    let store = store.clone();
    let spawned = std::thread::Builder::new()
        .name("change-listener".into())
        .spawn(move || {
            loop {
                let mut listener = match store.listener() {
                    Ok(Some(l)) => l,
                    Ok(None) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for changes; retrying");
                        std::thread::sleep(Duration::from_secs(1));
                        continue;
                    }
                };
                loop {
                    match listener.take() {
                        Ok(0) => {}
                        Ok(_) => woken.notify_one(),
                        Err(e) => {
                            tracing::warn!(error = %e, "change listener lost its connection");
                            // Whatever was missed meanwhile, the next poll sees.
                            woken.notify_one();
                            break;
                        }
                    }
                    std::thread::sleep(Duration::from_millis(25));
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the change listener; polling only");
    }
}
