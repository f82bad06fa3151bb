//! Several `pallimap serve` processes on one PostgreSQL database converge; an instance keeps
//! reading while the database is down, refuses writes with 503, and catches up after.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::process::{Server, header, http, pallimap};

use serde_json::json;

fn serve(url: &str) -> Server {
    let child = pallimap()
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            url,
            "--web-dir",
            "/nonexistent",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start pallimap");
    Server::started(child)
}

/// Polls `f` every 100 ms, for at most 60 s (a bound for a stalled machine, not a target).
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..600 {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what}: not seen after 60 s of polling");
}

fn cluster(action: &str) {
    let version = std::fs::read_dir("/etc/postgresql")
        .ok()
        .and_then(|mut d| d.next())
        .and_then(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .expect("a PostgreSQL cluster in /etc/postgresql");
    let status = Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", &version, "main", action])
        .status()
        .expect("pg_ctlcluster");
    assert!(status.success(), "pg_ctlcluster {action}");
}

#[test]
fn two_instances_converge_and_survive_a_database_restart() {
    let Some(db) = crate::common::postgres_db_exclusive() else {
        crate::common::require_part("PostgreSQL (PALLIMAP_TEST_POSTGRES_URL)", false);
        return;
    };
    let can_restart = std::path::Path::new("/etc/postgresql").is_dir()
        && Command::new("pg_ctlcluster").arg("--help").output().is_ok();
    // A loads the dataset into the empty database; B starts on it after.
    let a = serve(&db.url);
    let b = serve(&db.url);
    let out = pallimap()
        .args([
            "user",
            "add",
            "--email",
            "coord@example.jp",
            "--role",
            "coordinator",
            "--area",
            "1104",
            "--database-url",
            &db.url,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin
                .take()
                .unwrap()
                .write_all(b"a long enough passphrase\n")?;
            c.wait_with_output()
        })
        .unwrap();
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
            "coord@example.jp",
            "--database-url",
            &db.url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let auth = format!("Bearer {token}");
    // A facility of さいたま (1104).
    let (_, _, list) = http(
        &a.addr,
        "GET",
        "/api/v1/facilities?area=1104&kind=hospital&limit=1",
        &[],
        None,
    );
    let id = list["items"][0]["id"]
        .as_str()
        .expect("a hospital")
        .to_string();
    let path = format!("/api/v1/facilities/{id}");
    let (status, h, _) = http(&a.addr, "GET", &path, &[("Authorization", &auth)], None);
    assert_eq!(status, 200);
    let etag = header(&h, "etag").to_string();
    let (status, h, body) = http(
        &a.addr,
        "PATCH",
        &path,
        &[("Authorization", &auth), ("If-Match", &etag)],
        Some(&json!({"notes": "インスタンスAで更新"})),
    );
    assert_eq!(status, 200, "{body}");
    let etag = header(&h, "etag").to_string();
    eventually("the edit through A on B", || {
        http(&b.addr, "GET", &path, &[], None).2["notes"] == "インスタンスAで更新"
    });
    if !crate::common::require_part(
        "pg_ctlcluster (to restart the local PostgreSQL)",
        can_restart,
    ) {
        return;
    }
    // The database goes away: reads keep working from the catalog, writes and readiness say 503.
    cluster("stop");
    let (status, _, body) = http(
        &b.addr,
        "GET",
        "/api/v1/facilities?service=pcu&limit=1",
        &[],
        None,
    );
    let down_read = (status, body["total"].clone());
    let (ready, _, _) = http(&b.addr, "GET", "/readyz", &[], None);
    let (write, _, werr) = http(
        &a.addr,
        "PATCH",
        &path,
        &[("Authorization", &auth), ("If-Match", &etag)],
        Some(&json!({"notes": "停止中"})),
    );
    cluster("start");
    assert_eq!(
        down_read,
        (200, json!(20)),
        "reads work while the database is down"
    );
    assert_eq!(ready, 503, "readyz while the database is down");
    assert!(
        write == 503 || write == 401,
        "a write while down: {write} {werr}"
    );
    // Back: both instances reconnect and a change through B reaches A.
    eventually("A ready again", || {
        http(&a.addr, "GET", "/readyz", &[], None).0 == 200
    });
    eventually("B ready again", || {
        http(&b.addr, "GET", "/readyz", &[], None).0 == 200
    });
    let mut done = false;
    eventually("a write through B after the restart", || {
        let (s, _, _) = http(
            &b.addr,
            "PATCH",
            &path,
            &[("Authorization", &auth), ("If-Match", &etag)],
            Some(&json!({"notes": "再開後にBで更新"})),
        );
        done = s == 200;
        done
    });
    eventually("the edit through B on A", || {
        http(&a.addr, "GET", &path, &[], None).2["notes"] == "再開後にBで更新"
    });
    drop((a, b));
}
