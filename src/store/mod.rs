//! The database, the source of truth: diesel over SQLite (embedded default) or PostgreSQL,
//! migrations per backend, rows ↔ domain, and the all-or-nothing dataset load.

mod accounts;
mod corrections;
mod edit;
mod events;
mod groups;
mod links;
mod load;
mod maintenance;
mod rows;
pub mod schema;

use std::path::Path;
use std::sync::Mutex;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::domain::{Area, Facility, Municipality, TownRef};

pub use accounts::{NewUser, SessionInfo, UserChange};
pub use corrections::Correction;
pub use edit::{Edit, EditError, HistoryEntry};
pub use events::{CalendarFeed, EventWrite};
pub use links::{DecisionError, FacilityChange, NewProposal, Proposal, UpdateLink};
pub use load::{LoadSummary, META_DATASET, META_LOADED_AT, Written, merge_facility};
pub use maintenance::{
    BackupInfo, ChangeRow, describes_full_storage, inspect as inspect_backup, restore,
};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection type over both backends; the backend is chosen by the URL scheme.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {target}: {message}")]
    Connect { target: String, message: String },
    #[error("cannot migrate database {target}: {message}")]
    Migration { target: String, message: String },
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("database holds an invalid value in {column}: {value:?}")]
    Corrupt { column: &'static str, value: String },
    #[error("the database connection lock was poisoned by an earlier panic")]
    Poisoned,
    #[error("{0}")]
    Conflict(String),
    #[error("no such record")]
    NotFound,
    /// A backup or restore refused, with what to do (Japanese first).
    #[error("{0}")]
    Maintenance(String),
    /// A record of the input could not be read (the load it was part of is rolled back).
    #[error("{0}")]
    Input(String),
}

/// What a dataset load writes besides its facilities (which come as a stream): the reference
/// data and a stamp naming the dataset (prefecture and checksum), kept in `meta` so a later
/// start knows a dataset is there.
#[derive(Debug, Clone, Copy)]
pub struct DatasetLoad<'a> {
    pub stamp: &'a str,
    pub areas: &'a [Area],
    pub municipalities: &'a [Municipality],
    pub towns: &'a [TownRef],
    /// 2020 census small areas, the coverage report's weights.
    pub census: &'a [crate::domain::CensusArea],
}

/// The newest sequence number of a stretch of the change log, and the entities (kind, id) it
/// touched.
pub type Changes = (i64, Vec<(String, String)>);

/// The PostgreSQL channel every committed change is announced on.
const CHANGE_CHANNEL: &str = "pallimap_changes";

/// A connection that has `LISTEN`ed on the change channel.
pub struct ChangeListener {
    conn: diesel::PgConnection,
}

impl ChangeListener {
    /// How many change notifications arrived since the last call (reads the socket; sends no
    /// query, so it is cheap to call often).
    pub fn take(&mut self) -> Result<usize, StoreError> {
        let mut n = 0;
        for r in self.conn.notifications_iter() {
            r?;
            n += 1;
        }
        Ok(n)
    }
}

impl StoreError {
    /// Whether the database connection itself is gone (server restart, network).
    pub fn is_connection_lost(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            StoreError::Query(Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            )) => true,
            StoreError::Query(Error::DatabaseError(DatabaseErrorKind::Unknown, info)) => {
                let m = info.message();
                m.contains("server closed the connection")
                    || m.contains("terminating connection")
                    || m.contains("no connection to the server")
                    || m.contains("connection to server")
            }
            _ => false,
        }
    }
}

/// Which backend a URL selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Sqlite { path: String },
    Postgres { url: String },
}

impl Backend {
    /// `postgres://…`/`postgresql://…` select PostgreSQL; `sqlite://path`, `sqlite:path` or a
    /// plain path select SQLite.
    pub fn from_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres {
                url: url.to_string(),
            }
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url);
            Backend::Sqlite {
                path: path.to_string(),
            }
        }
    }

    /// The URL with any password removed, for messages and logs.
    pub fn display(&self) -> String {
        match self {
            Backend::Sqlite { path } => format!("sqlite://{path}"),
            Backend::Postgres { url } => redact_password(url),
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// The store. One connection behind a mutex: writes are rare and reads are served by the
/// catalog, so a pool would buy nothing but SQLite lock contention.
pub struct Store {
    conn: Mutex<AnyConnection>,
    backend: Backend,
}

impl Store {
    /// Open (creating the SQLite file and its directory if needed) and migrate.
    pub fn open(url: &str) -> Result<Store, StoreError> {
        let backend = Backend::from_url(url);
        let target = backend.display();
        let connect_err = |message: String| StoreError::Connect {
            target: target.clone(),
            message,
        };
        let mut conn = match &backend {
            Backend::Postgres { url } => AnyConnection::Postgresql(
                diesel::PgConnection::establish(url).map_err(|e| connect_err(one_line(&e)))?,
            ),
            Backend::Sqlite { path } => {
                if let Some(dir) = Path::new(path)
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        connect_err(format!("cannot create directory {}: {e}", dir.display()))
                    })?;
                }
                let mut c = diesel::SqliteConnection::establish(path)
                    .map_err(|e| connect_err(one_line(&e)))?;
                c.batch_execute(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
                )
                .map_err(|e| connect_err(one_line(&e)))?;
                AnyConnection::Sqlite(c)
            }
        };
        let migrated = match &mut conn {
            AnyConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(drop),
            AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(drop),
        };
        migrated.map_err(|e| StoreError::Migration {
            target: target.clone(),
            message: one_line(&*e),
        })?;
        Ok(Store {
            conn: Mutex::new(conn),
            backend,
        })
    }

    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    fn with_conn<T>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let result = f(&mut guard);
        // A PostgreSQL restart leaves the connection dead: open a new one for the next call.
        // The failed call is not retried (a write might have been committed), it fails as 503.
        if let (Err(e), Backend::Postgres { url }) = (&result, &self.backend)
            && e.is_connection_lost()
        {
            match diesel::PgConnection::establish(url) {
                Ok(c) => {
                    tracing::warn!("the database connection was lost; reconnected");
                    *guard = AnyConnection::Postgresql(c);
                }
                Err(e) => tracing::warn!(error = %one_line(&e), "the database is unreachable"),
            }
        }
        result
    }

    /// Wake other instances after a committed change (PostgreSQL `NOTIFY`, delivered at
    /// commit); SQLite instances share a file and poll.
    pub(crate) fn notify(conn: &mut AnyConnection) -> Result<(), StoreError> {
        if let AnyConnection::Postgresql(c) = conn {
            diesel::sql_query(format!("NOTIFY {CHANGE_CHANNEL}")).execute(c)?;
        }
        Ok(())
    }

    /// A listener for changes committed by any instance, on PostgreSQL; `None` on SQLite.
    pub fn listener(&self) -> Result<Option<ChangeListener>, StoreError> {
        let Backend::Postgres { url } = &self.backend else {
            return Ok(None);
        };
        let mut conn = diesel::PgConnection::establish(url).map_err(|e| StoreError::Connect {
            target: self.backend.display(),
            message: one_line(&e),
        })?;
        diesel::sql_query(format!("LISTEN {CHANGE_CHANNEL}")).execute(&mut conn)?;
        Ok(Some(ChangeListener { conn }))
    }

    /// A meta value, e.g. `dataset_manifest_sha256`.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        use schema::meta::dsl;
        self.with_conn(|c| {
            Ok(dsl::meta
                .filter(dsl::key.eq(key))
                .select(dsl::value)
                .first::<String>(c)
                .optional()?)
        })
    }

    /// Whether a dataset has ever been loaded into this database.
    pub fn has_dataset(&self) -> Result<bool, StoreError> {
        Ok(self.meta(load::META_DATASET)?.is_some())
    }

    /// All facilities with their services, contacts, capacity and admission rules.
    pub fn facilities(&self) -> Result<Vec<Facility>, StoreError> {
        self.with_conn(rows::read_facilities)
    }

    /// Every facility in id order, handed to `each` in batches of `batch`: a reader that keeps
    /// only a compact form of each never holds the whole table decoded.
    pub fn facilities_in_batches(
        &self,
        batch: usize,
        mut each: impl FnMut(Vec<Facility>),
    ) -> Result<(), StoreError> {
        let mut after: Option<String> = None;
        loop {
            let next = self.with_conn(|c| {
                rows::read_facility_batch(c, after.as_deref(), batch.max(1) as i64)
            })?;
            let Some(last) = next.last() else {
                return Ok(());
            };
            after = Some(last.id.clone());
            let done = next.len() < batch;
            each(next);
            if done {
                return Ok(());
            }
        }
    }

    pub fn areas(&self) -> Result<Vec<Area>, StoreError> {
        self.with_conn(rows::read_areas)
    }

    pub fn municipalities(&self) -> Result<Vec<Municipality>, StoreError> {
        self.with_conn(rows::read_municipalities)
    }

    pub fn towns(&self) -> Result<Vec<TownRef>, StoreError> {
        self.with_conn(rows::read_towns)
    }

    /// The 2020 census small areas (町丁・字), sorted by key code.
    pub fn census_areas(&self) -> Result<Vec<crate::domain::CensusArea>, StoreError> {
        self.with_conn(rows::read_census)
    }

    /// Replace the census small areas alone, for a database that holds a dataset loaded before
    /// the census was part of it. Reference data: no change-log entry.
    pub fn load_census(&self, census: &[crate::domain::CensusArea]) -> Result<(), StoreError> {
        self.with_conn(|c| c.transaction(|c| load::replace_census(c, census)))
    }

    /// The newest change-log sequence number (0 when empty): a cheap "has anything changed?".
    pub fn latest_change(&self) -> Result<i64, StoreError> {
        use schema::change_log::dsl;
        self.with_conn(|c| {
            Ok(dsl::change_log
                .select(diesel::dsl::max(dsl::seq))
                .first::<Option<i64>>(c)?
                .unwrap_or(0))
        })
    }

    /// What changed after `seq`: the entities (kind and id, each once) of the change-log rows
    /// after it, and the newest sequence number among them. At most `limit` entities; more
    /// means "a lot" (a dataset load) and returns `None`.
    pub fn changes_since(&self, seq: i64, limit: usize) -> Result<Option<Changes>, StoreError> {
        use schema::change_log::dsl;
        self.with_conn(|c| {
            let rows: Vec<(i64, String, String)> = dsl::change_log
                .filter(dsl::seq.gt(seq))
                .order(dsl::seq)
                .select((dsl::seq, dsl::entity, dsl::entity_id))
                .limit(limit as i64 * 20)
                .load(c)?;
            let latest = rows.last().map_or(seq, |r| r.0);
            let mut entities: Vec<(String, String)> = Vec::new();
            for (_, e, id) in rows {
                if !entities.iter().any(|(e2, id2)| *e2 == e && *id2 == id) {
                    entities.push((e, id));
                    if entities.len() > limit {
                        return Ok(None);
                    }
                }
            }
            Ok(Some((latest, entities)))
        })
    }

    /// Number of change-log entries (audit trail).
    pub fn change_log_len(&self) -> Result<i64, StoreError> {
        use schema::change_log::dsl;
        self.with_conn(|c| Ok(dsl::change_log.count().get_result(c)?))
    }

    /// Apply a dataset in one transaction: upsert by identifier, never overwriting a fact whose
    /// source is not the public dataset. Either everything is applied or nothing is: an `Err`
    /// from `facilities` rolls the whole load back. The facilities are written in batches as
    /// they come, so a nationwide dataset is never in memory at once. When the database holds
    /// no facility yet, each batch is handed to `written` once it is written, and the summary
    /// says at which change-log position that stream was the whole table.
    pub fn load_dataset<E: std::fmt::Display>(
        &self,
        dataset: &DatasetLoad<'_>,
        facilities: impl Iterator<Item = Result<Facility, E>>,
        actor: &str,
        written: Option<Written<'_>>,
    ) -> Result<LoadSummary, StoreError> {
        let mut facilities = facilities.map(|r| r.map_err(|e| StoreError::Input(e.to_string())));
        self.with_conn(|c| {
            // A load's one transaction writes far more pages than SQLite's default cache
            // (2 MB) holds; with a larger cache for its length, fewer are spilled and reread.
            let sqlite = matches!(c, AnyConnection::Sqlite(_));
            if sqlite {
                c.batch_execute(&format!("PRAGMA cache_size = -{LOAD_CACHE_KIB};"))?;
            }
            let loaded = load::apply(c, dataset, &mut facilities, actor, written);
            if sqlite {
                c.batch_execute("PRAGMA cache_size = -2000; PRAGMA shrink_memory;")?;
            }
            loaded
        })
    }

    /// Insert or replace one facility as given (for edits and tests), logging the change.
    pub fn put_facility(&self, facility: &Facility, actor: &str) -> Result<(), StoreError> {
        self.with_conn(|c| load::put_one(c, facility, actor))
    }
}

/// SQLite's page cache during a dataset load, in KiB.
const LOAD_CACHE_KIB: u32 = 131_072;

/// Errors from C libraries can span lines; startup errors must be one line.
fn one_line(e: &dyn std::fmt::Display) -> String {
    e.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_is_chosen_by_scheme() {
        assert_eq!(
            Backend::from_url("sqlite://var/x.db"),
            Backend::Sqlite {
                path: "var/x.db".into()
            }
        );
        assert_eq!(
            Backend::from_url("x.db"),
            Backend::Sqlite {
                path: "x.db".into()
            }
        );
        assert!(matches!(
            Backend::from_url("postgres://u@h/db"),
            Backend::Postgres { .. }
        ));
        assert_eq!(
            Backend::from_url("postgres://u:secret@h/db").display(),
            "postgres://u:***@h/db"
        );
    }
}
