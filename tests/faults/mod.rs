//! Faults with real processes: `kill -9` during an import, a burst of edits and the first load;
//! a full disk under a serving instance; backup and restore of every table. After each,
//! `pallimap check` must find the catalog equal to the store and the store whole.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use diesel::{Connection, RunQueryDsl};
use serde_json::json;

use pallimap::store::Store;

use crate::common::process::{Server, header, http, pallimap};

/// `pallimap serve` on `url` at a free port, stdout piped (not started yet).
fn serve_command(url: &str) -> Command {
    let mut c = pallimap();
    c.args([
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--database-url",
        url,
        "--data-dir",
        "data",
        "--web-dir",
        "/nonexistent",
    ])
    .stdout(Stdio::piped());
    c
}

fn spawn_serve(url: &str) -> Child {
    serve_command(url).spawn().expect("start pallimap")
}

fn serve(url: &str) -> Server {
    Server::started(spawn_serve(url))
}

/// `pallimap check` on `url` (and a running instance): its exit status and output.
fn check(url: &str, instance: Option<&str>) -> (bool, String) {
    let mut c = pallimap();
    c.args(["check", "--database-url", url, "--data-dir", "data"]);
    if let Some(addr) = instance {
        c.args(["--url", &format!("http://{addr}")]);
    }
    let out = c.output().expect("run pallimap check");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn assert_check(url: &str, instance: Option<&str>) {
    let (ok, out) = check(url, instance);
    assert!(ok, "pallimap check failed:\n{out}");
    assert!(out.contains(" 0 difference(s)"), "{out}");
}

/// An admin account and API token made through the CLI; returns `Bearer <token>`.
fn admin_token(url: &str) -> String {
    let out = pallimap()
        .args([
            "user",
            "add",
            "--email",
            "admin@example.jp",
            "--role",
            "admin",
            "--database-url",
            url,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin
                .take()
                .expect("stdin")
                .write_all(b"a long enough passphrase\n")?;
            c.wait_with_output()
        })
        .expect("user add");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = pallimap()
        .args([
            "token",
            "create",
            "--email",
            "admin@example.jp",
            "--database-url",
            url,
        ])
        .output()
        .expect("token create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!("Bearer {}", String::from_utf8_lossy(&out.stdout).trim())
}

/// A SQLite file holding the default dataset, loaded once; each test copies it.
fn template() -> Option<&'static Path> {
    static T: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    if !crate::common::require_part(
        "data/ (the default dataset)",
        Path::new("data/facilities.jsonl.gz").is_file(),
    ) {
        return None;
    }
    let (_, path) = T.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("template.sqlite3");
        let store = Store::open(path.to_str().expect("utf-8")).expect("open");
        let dataset = pallimap::data::files::read(Path::new("data")).expect("read data/");
        pallimap::app::load_dataset(&store, &dataset, "dataset-load").expect("load");
        // The last connection closing folds the WAL into the file.
        drop(store);
        (dir, path)
    });
    Some(path)
}

/// A copy of the template in `dir`; its URL.
fn copy_template(template: &Path, dir: &Path) -> String {
    let path = dir.join("pallimap.sqlite3");
    std::fs::copy(template, &path).expect("copy the template");
    path.to_str().expect("utf-8").to_string()
}

fn wal_len(db: &str) -> u64 {
    std::fs::metadata(format!("{db}-wal")).map_or(0, |m| m.len())
}

/// Polls every 5 ms until `f`, for at most 120 s (a bound for a stalled machine).
fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..24_000 {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("{what}: not seen after 120 s");
}

const IMPORT_PREFIX: &str = "故障試験診療所";

/// A CSV in the template's columns creating `rows` clinics at real town addresses.
fn import_csv(store: &Store, rows: usize, path: &Path) {
    let munis: std::collections::HashMap<String, String> = store
        .municipalities()
        .expect("municipalities")
        .into_iter()
        .filter(|m| m.pref_code == "11")
        .map(|m| (m.code, m.name))
        .collect();
    let towns: Vec<_> = store
        .towns()
        .expect("towns")
        .into_iter()
        .filter(|t| munis.contains_key(&t.muni_code) && t.koaza.is_empty())
        .collect();
    assert!(!towns.is_empty());
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).expect("csv"));
    writeln!(w, "{}", pallimap::sheet::header().join(",")).expect("write");
    for n in 0..rows {
        let t = &towns[(n * 7919) % towns.len()];
        writeln!(
            w,
            ",clinic,{IMPORT_PREFIX}{n:05},コショウシケンシンリョウジョ,,,,,埼玉県{}{}{}-{},,,048-100-{:04},,,,home_care_support,R6.4.1",
            munis[&t.muni_code],
            t.town,
            1 + n % 9,
            1 + n % 20,
            n % 10_000,
        )
        .expect("write");
    }
    w.flush().expect("flush");
}

fn imported(url: &str) -> usize {
    let store = Store::open(url).expect("open");
    store
        .facilities()
        .expect("facilities")
        .iter()
        .filter(|f| f.name.starts_with(IMPORT_PREFIX))
        .count()
}

#[test]
fn kill_during_an_import_applies_all_or_nothing() {
    let Some(template) = template() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let url = copy_template(template, dir.path());
    let csv = dir.path().join("big.csv");
    const ROWS: usize = 2500;
    {
        let store = Store::open(&url).expect("open");
        import_csv(&store, ROWS, &csv);
    }
    let before = Store::open(&url)
        .expect("open")
        .latest_change()
        .expect("seq");
    let mut child = pallimap()
        .args(["import", "--database-url", &url, "--data-dir", "data"])
        .arg(&csv)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the import");
    // The check pass only reads; the WAL grows once the apply's one transaction spills pages.
    let wal_start = wal_len(&url);
    wait_until("the import writing", || {
        wal_len(&url) > wal_start + 256 * 1024 || child.try_wait().ok().flatten().is_some()
    });
    let finished_first = child.try_wait().ok().flatten().is_some();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        !finished_first,
        "the import finished before the kill: make the file bigger"
    );
    let n = imported(&url);
    assert!(n == 0 || n == ROWS, "a partial import: {n} of {ROWS} rows");
    assert_eq!(
        n, 0,
        "killed mid-transaction, nothing of the import is committed"
    );
    assert_eq!(
        Store::open(&url)
            .expect("open")
            .latest_change()
            .expect("seq"),
        before,
        "no change-log row of the killed import"
    );
    assert_check(&url, None);
    // The same file imports whole afterwards.
    let out = pallimap()
        .args(["import", "--database-url", &url, "--data-dir", "data"])
        .arg(&csv)
        .output()
        .expect("import again");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(imported(&url), ROWS);
    assert_check(&url, None);
}

#[test]
fn kill_during_a_burst_of_edits_loses_no_acknowledged_edit() {
    let Some(template) = template() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let url = copy_template(template, dir.path());
    let auth = admin_token(&url);
    let server = serve(&url);
    let (status, _, list) = http(
        &server.addr,
        "GET",
        "/api/v1/facilities?kind=clinic&limit=100",
        &[],
        None,
    );
    assert_eq!(status, 200);
    let ids: Vec<String> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|f| f["id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(ids.len(), 100);
    // Three clients edit distinct facilities; the server is killed after 30 acknowledgements.
    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let attempted: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let count = Arc::new(AtomicUsize::new(0));
    let down = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..3)
        .map(|w| {
            let (ids, addr, auth) = (ids.clone(), server.addr.clone(), auth.clone());
            let (acked, attempted, count, down) = (
                acked.clone(),
                attempted.clone(),
                count.clone(),
                down.clone(),
            );
            std::thread::spawn(move || {
                for id in ids.iter().skip(w).step_by(3) {
                    if down.load(Ordering::SeqCst) {
                        return;
                    }
                    let path = format!("/api/v1/facilities/{id}");
                    let (s, h, _) = http(&addr, "GET", &path, &[("Authorization", &auth)], None);
                    if s != 200 {
                        return;
                    }
                    let note = format!("連続編集 {id}");
                    attempted.lock().unwrap().push((id.clone(), note.clone()));
                    let (s, _, body) = http(
                        &addr,
                        "PATCH",
                        &path,
                        &[("Authorization", &auth), ("If-Match", header(&h, "etag"))],
                        Some(&json!({"notes": note})),
                    );
                    match s {
                        200 => {
                            acked.lock().unwrap().push((id.clone(), note));
                            count.fetch_add(1, Ordering::SeqCst);
                        }
                        0 => return,
                        _ => panic!("PATCH {path}: {s} {body}"),
                    }
                }
            })
        })
        .collect();
    wait_until("30 acknowledged edits", || {
        count.load(Ordering::SeqCst) >= 30
    });
    down.store(true, Ordering::SeqCst);
    server.kill9();
    for w in workers {
        w.join().expect("worker");
    }
    let acked = acked.lock().unwrap().clone();
    let attempted = attempted.lock().unwrap().clone();
    assert!(acked.len() >= 30);
    assert!(
        acked.len() < ids.len(),
        "the kill came after the burst: {} of {} acknowledged",
        acked.len(),
        ids.len()
    );
    let server = serve(&url);
    for (id, note) in &acked {
        let (s, _, f) = http(
            &server.addr,
            "GET",
            &format!("/api/v1/facilities/{id}"),
            &[],
            None,
        );
        assert_eq!(s, 200);
        assert_eq!(f["notes"], json!(note), "acknowledged edit of {id} lost");
    }
    // An edit not acknowledged was in flight: at most one per client is there.
    let mut in_flight = 0;
    for (id, note) in attempted.iter().filter(|a| !acked.contains(a)) {
        let (_, _, f) = http(
            &server.addr,
            "GET",
            &format!("/api/v1/facilities/{id}"),
            &[],
            None,
        );
        if f["notes"] == json!(note) {
            in_flight += 1;
        }
    }
    assert!(in_flight <= 3, "{in_flight} unacknowledged edits applied");
    assert_check(&url, Some(&server.addr));
    drop(server);
    assert_check(&url, None);
}

#[test]
fn kill_during_the_first_load_then_restart_equals_a_clean_load() {
    let Some(template) = template() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let url = dir
        .path()
        .join("empty.sqlite3")
        .to_str()
        .expect("utf-8")
        .to_string();
    let mut child = spawn_serve(&url);
    wait_until("the first load writing", || {
        wal_len(&url) > 1024 * 1024 || child.try_wait().ok().flatten().is_some()
    });
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    {
        let store = Store::open(&url).expect("open");
        assert!(
            !store.has_dataset().expect("meta"),
            "the kill landed after the load committed"
        );
        assert_eq!(
            store.facilities().expect("facilities").len(),
            0,
            "half a load"
        );
        assert_eq!(store.latest_change().expect("seq"), 0);
    }
    assert_check(&url, None);
    // The restart loads the dataset whole.
    let server = serve(&url);
    let (s, _, health) = http(&server.addr, "GET", "/healthz", &[], None);
    assert_eq!(s, 200);
    drop(server);
    let (got, clean) = (
        Store::open(&url).expect("open"),
        Store::open(template.to_str().expect("utf-8")).expect("open"),
    );
    let (a, b) = (got.facilities().expect("f"), clean.facilities().expect("f"));
    assert_eq!(a.len(), b.len());
    assert!(a == b, "the facilities differ from a clean load");
    assert_eq!(
        health["facilities"].as_u64(),
        Some(a.iter().filter(|f| f.status.is_active()).count() as u64)
    );
    assert_eq!(got.areas().expect("a"), clean.areas().expect("a"));
    assert_eq!(
        got.towns().expect("t").len(),
        clean.towns().expect("t").len()
    );
    assert_eq!(
        got.census_areas().expect("c").len(),
        clean.census_areas().expect("c").len()
    );
    assert_eq!(
        got.change_log_len().expect("n"),
        clean.change_log_len().expect("n")
    );
    drop((got, clean));
    assert_check(&url, None);
}

/// A tmpfs mounted for one test (root only); unmounted on drop.
struct Mount(PathBuf);

impl Mount {
    fn new(dir: &Path, size_mb: u64) -> Option<Mount> {
        std::fs::create_dir_all(dir).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mb}m"), "tmpfs"])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Mount(dir.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Write zeros to `path` until the file system refuses.
fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).expect("filler");
    let chunk = vec![0u8; 64 * 1024];
    while f.write_all(&chunk).is_ok() {}
    let small = [0u8; 512];
    while f.write_all(&small).is_ok() {}
    let _ = f.sync_all();
}

#[test]
fn a_full_disk_refuses_writes_with_507_and_keeps_reads() {
    let Some(template) = template() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let size_mb = std::fs::metadata(template).expect("template").len() / (1024 * 1024) + 24;
    let Some(mount) = Mount::new(&dir.path().join("disk"), size_mb) else {
        crate::common::require_part("mount -t tmpfs (root, to make a small disk)", false);
        return;
    };
    let url = copy_template(template, &mount.0);
    let auth = admin_token(&url);
    let server = serve(&url);
    let (_, _, list) = http(
        &server.addr,
        "GET",
        "/api/v1/facilities?kind=hospital&limit=1",
        &[],
        None,
    );
    let id = list["items"][0]["id"]
        .as_str()
        .expect("a hospital")
        .to_string();
    let path = format!("/api/v1/facilities/{id}");
    let (s, h, before) = http(
        &server.addr,
        "GET",
        &path,
        &[("Authorization", &auth)],
        None,
    );
    assert_eq!(s, 200);
    let etag = header(&h, "etag").to_string();
    let filler = mount.0.join("filler");
    fill(&filler);

    let (s, h, body) = http(
        &server.addr,
        "PATCH",
        &path,
        &[("Authorization", &auth), ("If-Match", &etag)],
        Some(&json!({"notes": "満杯のディスクに書く"})),
    );
    assert_eq!(s, 507, "{body}");
    assert_eq!(body["code"], "storage_full");
    assert_eq!(body["status"], 507);
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("データベースの保存領域が不足")),
        "{body}"
    );
    assert_eq!(header(&h, "content-type"), "application/problem+json");
    // Reads keep working, the refused write is nowhere.
    let (s, _, now) = http(
        &server.addr,
        "GET",
        &path,
        &[("Authorization", &auth)],
        None,
    );
    assert_eq!(s, 200);
    assert_eq!(now["notes"], before["notes"]);
    let (s, _, found) = http(
        &server.addr,
        "GET",
        "/api/v1/facilities?q=%E7%97%85%E9%99%A2&limit=5",
        &[],
        None,
    );
    assert_eq!((s, found["items"].as_array().map(Vec::len)), (200, Some(5)));
    assert_check(&url, Some(&server.addr));

    // Space returns: the same write (same version) succeeds.
    std::fs::remove_file(&filler).expect("free the space");
    let (s, _, body) = http(
        &server.addr,
        "PATCH",
        &path,
        &[("Authorization", &auth), ("If-Match", &etag)],
        Some(&json!({"notes": "空きが戻った"})),
    );
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["notes"], "空きが戻った");
    assert_check(&url, Some(&server.addr));
    drop(server);
    drop(mount);
}

/// Every table of the schema (src/store/schema.rs), with SQLite's own bookkeeping.
const TABLES: [&str; 23] = [
    "__diesel_schema_migrations",
    "admission_rules",
    "api_tokens",
    "areas",
    "auth_failures",
    "calendar_feeds",
    "capacities",
    "census_areas",
    "change_log",
    "contacts",
    "corrections",
    "events",
    "facilities",
    "meta",
    "municipalities",
    "pharmacy_groups",
    "proposals",
    "services",
    "sessions",
    "sqlite_sequence",
    "towns",
    "update_links",
    "users",
];

#[derive(diesel::QueryableByName)]
struct Line {
    #[diesel(sql_type = diesel::sql_types::Text)]
    line: String,
}

/// Every row of every table as text (SQLite's `quote()` of each column), sorted.
fn dump(path: &str) -> Vec<(String, Vec<String>)> {
    let mut c = diesel::SqliteConnection::establish(path).expect("open");
    let tables: Vec<String> = diesel::sql_query(
        "SELECT name AS line FROM sqlite_master WHERE type = 'table' ORDER BY name",
    )
    .load::<Line>(&mut c)
    .expect("tables")
    .into_iter()
    .map(|l| l.line)
    .collect();
    tables
        .into_iter()
        .map(|t| {
            let cols: Vec<String> = diesel::sql_query(format!(
                "SELECT name AS line FROM pragma_table_info('{t}') ORDER BY cid"
            ))
            .load::<Line>(&mut c)
            .expect("columns")
            .into_iter()
            .map(|l| format!("quote(\"{}\")", l.line))
            .collect();
            let rows = diesel::sql_query(format!(
                "SELECT {} AS line FROM \"{t}\" ORDER BY 1",
                cols.join(" || '|' || ")
            ))
            .load::<Line>(&mut c)
            .expect("rows")
            .into_iter()
            .map(|l| l.line)
            .collect();
            (t, rows)
        })
        .collect()
}

#[test]
fn backup_and_restore_round_trip_every_table() {
    let Some(template) = template() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let url = copy_template(template, dir.path());
    {
        // Fill the tables the dataset leaves empty through the store, as the service would.
        let store = Store::open(&url).expect("open");
        pallimap::app::apply_sample(&store, Path::new("data"), true).expect("sample");
        let at = "2026-12-01T09:00:00Z";
        let user = store
            .add_user(
                &pallimap::store::NewUser {
                    email: "coord@example.jp",
                    password_hash: "$argon2id$not-a-real-hash",
                    role: pallimap::domain::Role::Coordinator,
                    areas: &["1104".to_string()],
                    facilities: &[],
                },
                at,
            )
            .expect("user");
        store
            .create_session("s-hash", user.id, "csrf", at)
            .expect("session");
        store
            .create_token("t-hash", user.id, "script", at)
            .expect("token");
        store
            .record_auth_failure("coord@example.jp", at)
            .expect("failure");
        let f = store.facilities().expect("f").remove(0);
        store
            .create_link(
                &f.id,
                "l-hash",
                false,
                "coord@example.jp",
                at,
                Some("2026-12-15T09:00:00Z"),
            )
            .expect("link");
        store
            .add_correction(&f.id, "電話番号が違います", None, at)
            .expect("correction");
        store
            .add_calendar_feed(user.id, "feed-hash", Some("研修"), Some("1104"), None, at)
            .expect("feed");
        let mut c = diesel::SqliteConnection::establish(&url).expect("open");
        diesel::sql_query(
            "INSERT INTO events (id, kind, visibility, status, organizer_facility_id, areas, start_date, body, version, created_by, created_at, updated_at) \
             VALUES ('ev-1', 'training', 'public', 'scheduled', NULL, '1104', '2026-12-20', '{}', 1, 'coord@example.jp', '2026-12-01T09:00:00Z', '2026-12-01T09:00:00Z')",
        )
        .execute(&mut c)
        .expect("event");
    }
    let source = dump(&url);
    let names: Vec<&str> = source.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        names, TABLES,
        "the tables changed: update TABLES and the fill above"
    );
    for (t, rows) in &source {
        assert!(
            !rows.is_empty(),
            "table {t} is empty: the round trip would not test it"
        );
    }

    let backup = dir.path().join("pallimap.backup");
    let out = pallimap()
        .args(["backup", "--database-url", &url, "--out"])
        .arg(&backup)
        .output()
        .expect("backup");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A backup never overwrites.
    let again = pallimap()
        .args(["backup", "--database-url", &url, "--out"])
        .arg(&backup)
        .output()
        .expect("backup");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("既に存在します"));

    let restored = dir.path().join("restored").join("new.sqlite3");
    let restored_url = restored.to_str().expect("utf-8").to_string();
    let out = pallimap()
        .args(["restore", "--database-url", &restored_url])
        .arg(&backup)
        .output()
        .expect("restore");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        dump(&restored_url),
        source,
        "a table differs after the round trip"
    );
    assert_check(&restored_url, None);

    // A database holding data is kept without --force; a non-pallimap file is refused.
    let refused = pallimap()
        .args(["restore", "--database-url", &url])
        .arg(&backup)
        .output()
        .expect("restore");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    let junk = dir.path().join("junk.db");
    {
        let mut c =
            diesel::SqliteConnection::establish(junk.to_str().expect("utf-8")).expect("open");
        diesel::sql_query("CREATE TABLE t (x TEXT)")
            .execute(&mut c)
            .expect("t");
    }
    let empty = dir.path().join("fresh.sqlite3");
    let refused = pallimap()
        .args(["restore", "--database-url", empty.to_str().expect("utf-8")])
        .arg(&junk)
        .output()
        .expect("restore");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("pallimap のデータベースではありません"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(!empty.exists(), "a refused restore leaves no file");
    // With --force the restore replaces the database.
    let out = pallimap()
        .args(["restore", "--force", "--database-url", &url])
        .arg(&backup)
        .output()
        .expect("restore");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(dump(&url), source);
}

#[test]
fn check_names_a_row_changed_behind_the_log_and_a_gap_in_it() {
    let Some(template) = template() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let url = copy_template(template, dir.path());
    let id = Store::open(&url).expect("open").facilities().expect("f")[0]
        .id
        .clone();
    {
        let mut c = diesel::SqliteConnection::establish(&url).expect("open");
        diesel::sql_query("UPDATE facilities SET name = '書き換えた名前' WHERE id = ?")
            .bind::<diesel::sql_types::Text, _>(&id)
            .execute(&mut c)
            .expect("update");
        diesel::sql_query("DELETE FROM change_log WHERE seq = 10")
            .execute(&mut c)
            .expect("delete");
    }
    let (ok, out) = check(&url, None);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!("  {id} [name]: the change log ends at")),
        "{out}"
    );
    assert!(
        out.contains("[change_log]: 1 sequence numbers missing"),
        "{out}"
    );
}

/// The saved text indexes of a database (`FILE-index/text-*`).
fn saved_indexes(db: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(format!("{db}-index"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// A later start on an unchanged database opens the text index the first start saved, and
/// answers every search as the first did; an edit moves the change-log position, so the
/// start after it indexes again (finding the edit) and saves that index in the old one's place.
#[test]
fn a_later_start_opens_the_saved_text_index_and_answers_the_same() {
    let Some(template) = template() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let url = copy_template(template, dir.path());
    let auth = admin_token(&url);
    let start = |n: usize| -> (Server, PathBuf) {
        let log = dir.path().join(format!("serve-{n}.log"));
        let child = serve_command(&url)
            .env("PALLIMAP_LOG", "info")
            .env("NO_COLOR", "1")
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("start pallimap");
        (Server::started(child), log)
    };
    let read = |log: &Path| std::fs::read_to_string(log).expect("read the log");
    let enc = crate::api::enc;
    let searches = [
        format!(
            "/api/v1/facilities?q={}&near=35.8617,139.6455&radius_km=5&limit=30",
            enc("クリニック")
        ),
        format!("/api/v1/facilities?q={}&limit=30", enc("訪問看護 さいたま")),
        format!(
            "/api/v1/facilities?q={}&sort=relevance&facets=kind,area&limit=30",
            enc("在宅 内科")
        ),
        format!("/api/v1/facilities?q={}&limit=10", enc("埼玉医大")),
    ];
    let answers = |server: &Server| -> Vec<serde_json::Value> {
        searches
            .iter()
            .map(|path| {
                let (s, _, body) = http(&server.addr, "GET", path, &[], None);
                assert_eq!(s, 200, "{path}: {body}");
                assert!(
                    body["total"].as_u64().is_some_and(|t| t > 0),
                    "{path}: {body}"
                );
                body
            })
            .collect()
    };

    let (first, log) = start(1);
    let want = answers(&first);
    drop(first);
    let log = read(&log);
    assert!(log.contains("saved_text_index=false"), "{log}");
    assert!(log.contains("saved the text index"), "{log}");
    let saved = saved_indexes(&url);
    assert!(
        saved.len() == 1 && saved[0].starts_with("text-"),
        "{saved:?}"
    );

    let (second, log) = start(2);
    assert_eq!(
        answers(&second),
        want,
        "the saved index answers as the built one"
    );
    let log = read(&log);
    assert!(log.contains("saved_text_index=true"), "{log}");
    assert_eq!(saved_indexes(&url), saved);

    // One edit: a word no facility had.
    let (s, _, list) = http(
        &second.addr,
        "GET",
        "/api/v1/facilities?kind=clinic&limit=1",
        &[],
        None,
    );
    assert_eq!(s, 200);
    let id = list["items"][0]["id"].as_str().expect("id").to_string();
    let path = format!("/api/v1/facilities/{id}");
    let (s, h, _) = http(
        &second.addr,
        "GET",
        &path,
        &[("Authorization", &auth)],
        None,
    );
    assert_eq!(s, 200);
    let (s, _, body) = http(
        &second.addr,
        "PATCH",
        &path,
        &[("Authorization", &auth), ("If-Match", header(&h, "etag"))],
        Some(&json!({"notes": "再索引確認の覚え書き"})),
    );
    assert_eq!(s, 200, "{body}");
    second.kill9();

    let (third, log) = start(3);
    let (s, _, found) = http(
        &third.addr,
        "GET",
        &format!("/api/v1/facilities?q={}", enc("再索引確認")),
        &[],
        None,
    );
    assert_eq!(s, 200);
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["items"][0]["id"], id.as_str());
    let log = read(&log);
    assert!(log.contains("saved_text_index=false"), "{log}");
    let now = saved_indexes(&url);
    assert!(now.len() == 1 && now != saved, "{now:?} after {saved:?}");
    drop(third);
    assert_check(&url, None);
}
