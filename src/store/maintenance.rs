//! Operator maintenance on the database itself: reading the change log whole (for `pallimap
//! check`), an online backup of a SQLite database, and restoring one after inspecting it.

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::schema::change_log;
use super::{Backend, SQLITE_MIGRATIONS, Store, StoreError};

/// One change-log row as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct ChangeRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub entity: String,
    pub entity_id: String,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub source: Option<String>,
}

/// The first bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// What an inspected backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    /// Migrations the backup has applied (all known to this build).
    pub migrations: usize,
    /// Migrations of this build the backup lacks; applied when it is opened after a restore.
    pub pending: usize,
    pub facilities: i64,
    pub change_seq: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

impl Store {
    /// Up to `limit` change-log rows after `seq`, oldest first.
    pub fn change_rows(&self, seq: i64, limit: i64) -> Result<Vec<ChangeRow>, StoreError> {
        self.with_conn(|c| {
            Ok(change_log::table
                .filter(change_log::seq.gt(seq))
                .order(change_log::seq)
                .limit(limit)
                .select((
                    change_log::seq,
                    change_log::at,
                    change_log::actor,
                    change_log::entity,
                    change_log::entity_id,
                    change_log::field,
                    change_log::old_value,
                    change_log::new_value,
                    change_log::source,
                ))
                .load(c)?)
        })
    }

    /// The change log's smallest and largest sequence numbers and its length.
    pub fn change_log_bounds(&self) -> Result<(i64, i64, i64), StoreError> {
        use diesel::dsl::{count_star, max, min};
        self.with_conn(|c| {
            let (lo, hi, n): (Option<i64>, Option<i64>, i64) = change_log::table
                .select((min(change_log::seq), max(change_log::seq), count_star()))
                .first(c)?;
            Ok((lo.unwrap_or(0), hi.unwrap_or(0), n))
        })
    }

    /// Write a consistent copy of a SQLite database to `out` while it keeps serving
    /// (`VACUUM INTO`: one read transaction, so a snapshot at one change-log position, and a
    /// compact file). `out` must not exist. PostgreSQL is backed up with `pg_dump` instead.
    pub fn backup_to(&self, out: &Path) -> Result<BackupInfo, StoreError> {
        if !matches!(self.backend, Backend::Sqlite { .. }) {
            return Err(StoreError::Maintenance(
                "この操作は SQLite 専用です / backup through the store is for SQLite; use pg_dump for PostgreSQL".into(),
            ));
        }
        if out.exists() {
            return Err(StoreError::Maintenance(format!(
                "{} は既に存在します。上書きしません / {} exists: choose a new file (a backup never overwrites)",
                out.display(),
                out.display()
            )));
        }
        let target = out.to_str().ok_or_else(|| {
            StoreError::Maintenance(format!("{} is not a UTF-8 path", out.display()))
        })?;
        self.with_conn(|c| {
            diesel::sql_query("VACUUM INTO ?")
                .bind::<Text, _>(target)
                .execute(c)?;
            Ok(())
        })?;
        inspect(out)
    }
}

fn fail(message: String) -> StoreError {
    StoreError::Maintenance(message)
}

fn open_plain(path: &Path) -> Result<diesel::SqliteConnection, StoreError> {
    let p = path
        .to_str()
        .ok_or_else(|| fail(format!("{} is not a UTF-8 path", path.display())))?;
    let mut c = diesel::SqliteConnection::establish(p).map_err(|e| StoreError::Connect {
        target: p.to_string(),
        message: e.to_string(),
    })?;
    c.batch_execute("PRAGMA busy_timeout = 5000;")?;
    Ok(c)
}

fn tables(c: &mut diesel::SqliteConnection) -> Result<Vec<String>, StoreError> {
    Ok(diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .load::<Name>(c)?
    .into_iter()
    .map(|n| n.name)
    .collect())
}

fn count(c: &mut diesel::SqliteConnection, sql: &str) -> Result<i64, StoreError> {
    Ok(diesel::sql_query(sql).get_result::<Count>(c)?.n)
}

/// Check that `path` is a pallimap SQLite database this build can open: the SQLite header,
/// `PRAGMA integrity_check`, and every migration it has applied known to this build. Opens a
/// connection to it (which may create its `-wal`/`-shm` files), so callers inspect a copy.
pub fn inspect(path: &Path) -> Result<BackupInfo, StoreError> {
    let mut head = [0u8; 16];
    let read = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .map_err(|e| {
            fail(format!(
                "{} を読めません / cannot read {}: {e}",
                path.display(),
                path.display()
            ))
        });
    read?;
    if &head != SQLITE_HEADER {
        return Err(fail(format!(
            "{} は SQLite のデータベースではありません / {} is not a SQLite database",
            path.display(),
            path.display()
        )));
    }
    let mut c = open_plain(path)?;
    let verdict = diesel::sql_query("PRAGMA integrity_check")
        .load::<IntegrityRow>(&mut c)?
        .into_iter()
        .map(|r| r.integrity_check)
        .collect::<Vec<_>>();
    if verdict != ["ok"] {
        return Err(fail(format!(
            "{} は壊れています / {} fails the integrity check: {}",
            path.display(),
            path.display(),
            verdict.join("; ")
        )));
    }
    let names = tables(&mut c)?;
    let not_ours = || {
        fail(format!(
            "{} は pallimap のデータベースではありません / {} is not a pallimap database (no migrations table, facilities or change log)",
            path.display(),
            path.display()
        ))
    };
    for t in [
        "__diesel_schema_migrations",
        "facilities",
        "change_log",
        "meta",
    ] {
        if !names.iter().any(|n| n == t) {
            return Err(not_ours());
        }
    }
    let applied: Vec<String> =
        diesel::sql_query("SELECT version AS name FROM __diesel_schema_migrations")
            .load::<Name>(&mut c)?
            .into_iter()
            .map(|n| n.name)
            .collect();
    let known: Vec<String> =
        MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
            .map_err(|e| fail(format!("cannot list this build's migrations: {e}")))?
            .iter()
            .map(|m| m.name().version().to_string())
            .collect();
    if let Some(v) = applied.iter().find(|v| !known.contains(v)) {
        return Err(fail(format!(
            "{} はこの版より新しい pallimap で作られました / {} has migration {v}, unknown to this build: restore it with the pallimap that made it",
            path.display(),
            path.display()
        )));
    }
    if applied.is_empty() {
        return Err(not_ours());
    }
    Ok(BackupInfo {
        migrations: applied.len(),
        pending: known.len() - applied.len(),
        facilities: count(&mut c, "SELECT count(*) AS n FROM facilities")?,
        change_seq: count(&mut c, "SELECT coalesce(max(seq), 0) AS n FROM change_log")?,
    })
}

#[derive(QueryableByName)]
struct IntegrityRow {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

/// Whether the SQLite database at `path` holds any row (a missing or zero-length file holds
/// none).
fn holds_rows(path: &Path) -> Result<bool, StoreError> {
    if !std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
        return Ok(false);
    }
    let mut c = open_plain(path)?;
    for t in tables(&mut c)? {
        if t == "__diesel_schema_migrations" {
            continue;
        }
        let sql = format!("SELECT count(*) AS n FROM \"{}\"", t.replace('"', "\"\""));
        if count(&mut c, &sql)? > 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Replace the SQLite database at `url` with the backup `from`: the backup is copied beside
/// the target and the copy inspected ([`inspect`]) before anything of the target changes; a
/// target holding rows is kept unless `force`. The service must be stopped meanwhile. The
/// restored database is then opened (migrated forward if the backup is older) and returned.
pub fn restore(from: &Path, url: &str, force: bool) -> Result<(Store, BackupInfo), StoreError> {
    let Backend::Sqlite { path } = Backend::from_url(url) else {
        return Err(fail(
            "PostgreSQL は pg_restore で復元します / restore a PostgreSQL database with pg_restore (see the README's Backup section)".into(),
        ));
    };
    let target = PathBuf::from(&path);
    if holds_rows(&target)? && !force {
        return Err(fail(format!(
            "{path} には既にデータがあります。上書きするには --force を付けてください / {path} is not empty: add --force to replace it (stop the service first)"
        )));
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
    }
    let staged = PathBuf::from(format!("{path}.restoring"));
    let _ = remove_with_sidecars(&staged);
    std::fs::copy(from, &staged).map_err(|e| {
        fail(format!(
            "{} を読めません / cannot copy {}: {e}",
            from.display(),
            from.display()
        ))
    })?;
    let info = match inspect(&staged) {
        Ok(info) => info,
        Err(e) => {
            let _ = remove_with_sidecars(&staged);
            return Err(e);
        }
    };
    // Fold any WAL of the inspection into the copy, so the file alone is the database.
    {
        let mut c = open_plain(&staged)?;
        c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")?;
    }
    let _ = std::fs::remove_file(sidecar(&staged, "-wal"));
    let _ = std::fs::remove_file(sidecar(&staged, "-shm"));
    // The old database's WAL would otherwise be replayed onto the restored file.
    remove_with_sidecars(&target).map_err(|e| fail(format!("cannot replace {path}: {e}")))?;
    std::fs::rename(&staged, &target).map_err(|e| fail(format!("cannot replace {path}: {e}")))?;
    let store = Store::open(url)?;
    Ok((store, info))
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

fn remove_with_sidecars(path: &Path) -> std::io::Result<()> {
    for p in [
        path.to_path_buf(),
        sidecar(path, "-wal"),
        sidecar(path, "-shm"),
    ] {
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// Whether a store error says the storage is full or failing (SQLite's `SQLITE_FULL` and
/// `SQLITE_IOERR`, PostgreSQL's disk-full class 53100), as opposed to an unreachable database.
pub fn describes_full_storage(message: &str) -> bool {
    const SIGNS: [&str; 4] = [
        "database or disk is full",
        "disk I/O error",
        "No space left on device",
        "could not extend file",
    ];
    SIGNS.iter().any(|s| message.contains(s))
}

impl StoreError {
    /// Whether the database refused a write because its storage is full or failing.
    pub fn is_storage_full(&self) -> bool {
        describes_full_storage(&self.to_string())
    }
}
