//! The operator's commands on a database: `check` (catalog = store = change log), `backup`
//! and `restore`. Output here is the CLI's own; the work is in `pallimap::check` and the store.

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;

use pallimap::store::{Backend, Store};

/// Differences printed before "… and N more".
const SHOWN: usize = 50;

pub fn check(database_url: &str, url: Option<&str>, json: bool) -> anyhow::Result<()> {
    let store = Store::open(database_url)?;
    let report = pallimap::check::check(&store)?;
    let mut served = None;
    if let Some(url) = url {
        served = Some(compare_served(&store, &report, url)?);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{} facilities in the store ({} active, each compared with the catalog); change log at {} ({} rows, {} on facilities replayed); {} difference(s)",
            report.facilities,
            report.compared_with_catalog,
            report.change_seq,
            report.change_log_rows,
            report.facility_change_rows,
            report.differences.len()
        );
        for d in report.differences.iter().take(SHOWN) {
            println!("  {} [{}]: {}", d.id, d.field, d.detail);
        }
        if report.differences.len() > SHOWN {
            println!("  … and {} more", report.differences.len() - SHOWN);
        }
    }
    if let Some(problems) = &served {
        for p in problems {
            println!("  served: {p}");
        }
        if problems.is_empty() {
            println!(
                "the instance at {} serves the same",
                url.unwrap_or_default()
            );
        }
    }
    let served_clean = served.as_ref().is_none_or(Vec::is_empty);
    anyhow::ensure!(
        report.is_clean() && served_clean,
        "不一致があります / the check found differences (listed above)"
    );
    Ok(())
}

/// A running instance's `/healthz` (its catalog's size and change-log position) against the
/// store, once it has caught up (it follows the log every half second; 10 s allowed).
fn compare_served(
    store: &Store,
    report: &pallimap::check::Report,
    url: &str,
) -> anyhow::Result<Vec<String>> {
    let started = Instant::now();
    loop {
        let health = get_json(url, "/healthz")?;
        let latest = store.latest_change()?;
        let seq = health["change_seq"].as_i64().unwrap_or(-1);
        let n = health["facilities"].as_u64().unwrap_or(0) as usize;
        if seq == latest || started.elapsed() > Duration::from_secs(10) {
            let mut problems = Vec::new();
            if seq != latest {
                problems.push(format!(
                    "the instance reflects change {seq}, the store's latest is {latest}"
                ));
            }
            if n != report.compared_with_catalog {
                problems.push(format!(
                    "the instance serves {n} facilities, the store holds {} active",
                    report.compared_with_catalog
                ));
            }
            return Ok(problems);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A GET over plain HTTP/1.1 (an instance on the operator's own network; no TLS here).
fn get_json(base: &str, path: &str) -> anyhow::Result<serde_json::Value> {
    let rest = base
        .strip_prefix("http://")
        .context("--url must be http://host:port (check a TLS instance through its local port)")?;
    let host = rest.trim_end_matches('/');
    let mut s =
        std::net::TcpStream::connect(host).with_context(|| format!("cannot reach {base}"))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .with_context(|| format!("{base}{path}: not an HTTP answer"))?;
    anyhow::ensure!(
        head.starts_with("HTTP/1.1 200"),
        "{base}{path} answered {}",
        head.lines().next().unwrap_or_default()
    );
    serde_json::from_str(body).with_context(|| format!("{base}{path}: not JSON"))
}

/// The `pg_dump`/`pg_restore` recipe for PostgreSQL databases.
const PG_RECIPE: &str = "PostgreSQL: pg_dump -Fc --file pallimap.dump \"$PALLIMAP_DATABASE_URL\"  (restore: createdb NEW && pg_restore --no-owner --exit-on-error -d postgres://…/NEW pallimap.dump)";

pub fn backup(database_url: &str, out: &Path) -> anyhow::Result<()> {
    match Backend::from_url(database_url) {
        Backend::Sqlite { .. } => {
            let store = Store::open(database_url)?;
            let info = store.backup_to(out)?;
            println!(
                "backed up {} facilities at change {} to {} (SQLite VACUUM INTO, a consistent snapshot)",
                info.facilities,
                info.change_seq,
                out.display()
            );
            Ok(())
        }
        Backend::Postgres { url } => {
            anyhow::ensure!(
                !out.exists(),
                "{} は既に存在します / {} exists: choose a new file",
                out.display(),
                out.display()
            );
            let status = std::process::Command::new("pg_dump")
                .args(["-Fc", "--file"])
                .arg(out)
                .arg(&url)
                .status();
            match status {
                Ok(s) if s.success() => {
                    println!(
                        "backed up {} to {} (pg_dump -Fc)",
                        Backend::from_url(&url).display(),
                        out.display()
                    );
                    Ok(())
                }
                Ok(s) => anyhow::bail!("pg_dump failed ({s}); {PG_RECIPE}"),
                Err(e) => anyhow::bail!(
                    "pg_dump が見つかりません / cannot run pg_dump ({e}); install postgresql-client. {PG_RECIPE}"
                ),
            }
        }
    }
}

pub fn restore(file: &Path, database_url: &str, force: bool) -> anyhow::Result<()> {
    if let Backend::Postgres { .. } = Backend::from_url(database_url) {
        anyhow::bail!(
            "PostgreSQL は pg_restore で復元します / restore PostgreSQL with pg_restore. {PG_RECIPE}"
        );
    }
    let (store, info) = pallimap::store::restore(file, database_url, force)?;
    println!(
        "restored {} facilities at change {} from {} into {}{}",
        info.facilities,
        info.change_seq,
        file.display(),
        store.backend().display(),
        if info.pending > 0 {
            format!(" ({} newer migrations applied)", info.pending)
        } else {
            String::new()
        }
    );
    Ok(())
}
