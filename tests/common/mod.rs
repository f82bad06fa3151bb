//! Shared fixtures: fresh databases on each backend, a tiny hand-made dataset, and the real
//! default dataset loaded once for read-only tests.

#![allow(dead_code)]

pub mod process;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use pallimap::data::{Dataset, Manifest};
use pallimap::domain::TownRef;
use pallimap::domain::*;
use pallimap::store::Store;

/// A database handed to one test; a PostgreSQL one is dropped afterwards.
pub struct TestDb {
    pub name: &'static str,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_drop: Option<(String, String)>,
    _cluster: Option<ClusterGuard>,
}

/// Tests share the local PostgreSQL cluster; the one test that restarts it holds it alone.
static CLUSTER: std::sync::RwLock<()> = std::sync::RwLock::new(());

#[allow(dead_code)]
enum ClusterGuard {
    Shared(std::sync::RwLockReadGuard<'static, ()>),
    Exclusive(std::sync::RwLockWriteGuard<'static, ()>),
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, db)) = &self.pg_drop {
            use diesel::{Connection, RunQueryDsl};
            if let Ok(mut c) = diesel::PgConnection::establish(admin) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                    .execute(&mut c);
            }
        }
    }
}

pub fn sqlite_db() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("test.sqlite3").display());
    TestDb {
        name: "sqlite",
        url,
        _dir: Some(dir),
        pg_drop: None,
        _cluster: None,
    }
}

/// A fresh PostgreSQL database on the server of `PALLIMAP_TEST_POSTGRES_URL`, if set.
pub fn postgres_db() -> Option<TestDb> {
    let guard = ClusterGuard::Shared(CLUSTER.read().unwrap_or_else(|e| e.into_inner()));
    postgres_db_with(guard)
}

/// A fresh PostgreSQL database, with the cluster to this test alone (it may restart it).
pub fn postgres_db_exclusive() -> Option<TestDb> {
    let guard = ClusterGuard::Exclusive(CLUSTER.write().unwrap_or_else(|e| e.into_inner()));
    postgres_db_with(guard)
}

fn postgres_db_with(guard: ClusterGuard) -> Option<TestDb> {
    use diesel::{Connection, RunQueryDsl};
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let admin = std::env::var("PALLIMAP_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())?;
    let db = format!(
        "pallimap_t{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let mut c = diesel::PgConnection::establish(&admin)
        .unwrap_or_else(|e| panic!("PALLIMAP_TEST_POSTGRES_URL is set but unreachable: {e}"));
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .execute(&mut c)
        .expect("drop db");
    diesel::sql_query(format!("CREATE DATABASE {db}"))
        .execute(&mut c)
        .expect("create db");
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .unwrap_or(admin.clone());
    Some(TestDb {
        name: "postgres",
        url: format!("{base}/{db}"),
        _dir: None,
        pg_drop: Some((admin, db)),
        _cluster: Some(guard),
    })
}

/// Whether a test's external part is present. Under `CI=true` a missing part fails the test
/// (CI must run everything); elsewhere it prints a visible `SKIPPED` line and the test returns.
pub fn require_part(what: &str, present: bool) -> bool {
    if present {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(!ci, "CI=true but this test cannot run: {what} is missing");
    eprintln!("SKIPPED: {what} is missing; this test did not run");
    false
}

/// SQLite always, PostgreSQL when configured (a missing one fails under CI=true).
pub fn backends() -> Vec<TestDb> {
    let mut v = vec![sqlite_db()];
    match postgres_db() {
        Some(pg) => v.push(pg),
        None => {
            require_part("PostgreSQL (PALLIMAP_TEST_POSTGRES_URL)", false);
        }
    }
    v
}

pub fn dataset_prov(source: &str) -> Provenance {
    Provenance::dataset(source, "2025-09-01")
}

pub fn service(kind: ServiceKind, since: &str) -> Service {
    Service {
        kind,
        status: ServiceStatus::Active,
        attributes: ServiceAttributes {
            since: Some(since.into()),
            ..Default::default()
        },
        capacity: None,
        admission_rules: None,
        provenance: dataset_prov("kouseikyoku-todokede"),
        updated_at: "2025-09-01".into(),
        verified_at: None,
        verified_by: None,
    }
}

/// A fictional facility for fixtures (test data only; never shipped).
pub fn facility(id: &str, kind: FacilityKind, name: &str, lat: f64, lng: f64) -> Facility {
    Facility {
        id: id.into(),
        kind,
        name: name.into(),
        name_kana: None,
        identifiers: Identifiers {
            navii: id.strip_prefix("navii-").map(str::to_string),
            hic: None,
            kaigo: id.strip_prefix("kaigo-").map(str::to_string),
        },
        address: Address {
            postal_code: None,
            prefecture: "埼玉県".into(),
            municipality_code: Some("11107".into()),
            municipality: Some("さいたま市浦和区".into()),
            text: "埼玉県さいたま市浦和区北浦和4-1-1".into(),
        },
        location: Some(LatLng { lat, lng }),
        placement: Placement::Source,
        area_code: Some("1104".into()),
        contacts: vec![
            Contact {
                kind: ContactKind::Phone,
                value: "048-000-0001".into(),
                label: Some("代表".into()),
                visibility: Visibility::Public,
                provenance: dataset_prov("kouseikyoku-todokede"),
            },
            Contact {
                kind: ContactKind::Fax,
                value: "048-000-0002".into(),
                label: None,
                visibility: Visibility::Professional,
                provenance: dataset_prov("kouseikyoku-todokede"),
            },
        ],
        hours: Hours {
            closed_weekdays: vec!["sun".into()],
            ..Default::default()
        },
        after_hours: None,
        specialists: None,
        partners: Vec::new(),
        consultations: Vec::new(),
        gathering: None,
        url: None,
        notes: None,
        services: Vec::new(),
        provenance: dataset_prov("mhlw-navii-hospitals"),
        updated_at: "2025-06-01".into(),
        verified_at: None,
        verified_by: None,
        status: Default::default(),
        version: 0,
    }
}

/// Three fictional facilities in one fictional-sized area.
pub fn tiny_dataset() -> Dataset {
    let mut h = facility(
        "navii-1111070000010",
        FacilityKind::Hospital,
        "テスト第一病院",
        35.8700,
        139.6450,
    );
    h.services = vec![
        service(ServiceKind::Pcu, "2019-04-01"),
        service(ServiceKind::BackupHospital, "2020-01-01"),
    ];
    let mut c = facility(
        "navii-1121070000020",
        FacilityKind::Clinic,
        "テスト在宅クリニック",
        35.8600,
        139.6500,
    );
    c.services = vec![service(ServiceKind::HomeCareSupport, "2018-06-01")];
    c.services[0].attributes.tier = Some(HomeCareTier::EnhancedLinked);
    let n = facility(
        "kaigo-1160000001",
        FacilityKind::VisitingNurseStation,
        "テスト訪問看護ステーション",
        35.8650,
        139.6400,
    );
    let square = serde_json::json!({"type": "MultiPolygon", "coordinates": [[[[139.6, 35.8], [139.7, 35.8], [139.7, 35.9], [139.6, 35.9], [139.6, 35.8]]]]});
    Dataset {
        manifest: Manifest {
            format: 1,
            pref_code: "11".into(),
            prefecture: "埼玉県".into(),
            sources: BTreeMap::new(),
            files: BTreeMap::new(),
            stats: BTreeMap::new(),
        },
        facilities: vec![h, c, n],
        areas: vec![Area {
            code: "1104".into(),
            name: "さいたま".into(),
            pref_code: "11".into(),
            prefecture: "埼玉県".into(),
            population: Some(1_324_025),
            geometry: Some(square.clone()),
        }],
        municipalities: vec![Municipality {
            code: "11107".into(),
            name: "さいたま市浦和区".into(),
            pref_code: "11".into(),
            area_code: "1104".into(),
            geometry: Some(square),
        }],
        towns: vec![TownRef {
            muni_code: "11107".into(),
            town: "北浦和四丁目".into(),
            koaza: String::new(),
            lat: 35.8713,
            lng: 139.6456,
        }],
        census: Vec::new(),
    }
}

/// The real default dataset in `data/`, loaded once into a SQLite store for read-only tests.
pub fn default_store() -> &'static Store {
    &default_fixture().0
}

/// The catalog the load of [`default_store`] built from what it wrote, as a first `serve`
/// builds it (`None` would mean the load did not see an empty table).
pub fn default_first_catalog() -> Option<&'static pallimap::catalog::Catalog> {
    default_fixture().1.as_ref()
}

fn default_fixture() -> &'static (Store, Option<pallimap::catalog::Catalog>, tempfile::TempDir) {
    static STORE: OnceLock<(Store, Option<pallimap::catalog::Catalog>, tempfile::TempDir)> =
        OnceLock::new();
    STORE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("default.sqlite3").display());
        // As `serve` loads it on a first start: streamed from the file, in batches, with the
        // catalog built from the batches written.
        let (store, first) = pallimap::app::open_store_building(&url, std::path::Path::new("data"))
            .expect("load data/");
        (store, first, dir)
    })
}

/// A fresh SQLite store holding the real default dataset of `data/`, for tests that write to
/// it; `None` (and a visible SKIPPED, a failure under CI=true) when `data/` is missing.
pub fn writable_default_store() -> Option<(TestDb, Store, Dataset)> {
    let data = std::path::Path::new("data");
    if !require_part(
        "data/ (the default dataset)",
        data.join("facilities.jsonl.gz").is_file(),
    ) {
        return None;
    }
    let db = sqlite_db();
    let store = Store::open(&db.url).unwrap();
    let dataset = pallimap::data::files::read(data).unwrap();
    pallimap::app::load_dataset(&store, &dataset, "test").unwrap();
    Some((db, store, dataset))
}
