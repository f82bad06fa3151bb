//! Edits by people: each is one transaction that checks the facility's version, writes the new
//! state with the version raised by one, and appends one change-log row per changed field
//! (who, when, old value, new value, source). The change log is the audit trail and the feed
//! other instances follow.

use diesel::prelude::*;

use super::load::{changes, delete_facility, insert_facilities};
use super::rows;
use super::schema::change_log;
use super::{AnyConnection, Store, StoreError};
use crate::domain::Facility;

/// Who makes a change, when, and from where (e.g. `api`, `import:<file>`).
#[derive(Debug, Clone, Copy)]
pub struct Edit<'a> {
    pub actor: &'a str,
    pub source: &'a str,
    pub at: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("no facility with this id")]
    NotFound,
    #[error("the facility changed since version {expected}; it is now at version {}", .current.version)]
    Stale {
        expected: i64,
        current: Box<Facility>,
    },
    #[error("a facility with id {0} exists")]
    Exists(String),
    /// The change itself is refused (validation, permission); the message says why.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for EditError {
    fn from(e: diesel::result::Error) -> Self {
        EditError::Store(StoreError::Query(e))
    }
}

/// seq, at, actor, field, old value, new value, source.
type HistoryRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// One change-log row of a facility.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HistoryEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub source: Option<String>,
}

fn log(
    conn: &mut AnyConnection,
    old: Option<&Facility>,
    new: &Facility,
    edit: &Edit<'_>,
) -> Result<(), StoreError> {
    for (at, actor, entity, entity_id, field, old, new) in changes(old, new, edit.actor, edit.at) {
        diesel::insert_into(change_log::table)
            .values((
                change_log::at.eq(at),
                change_log::actor.eq(actor),
                change_log::entity.eq(entity),
                change_log::entity_id.eq(entity_id),
                change_log::field.eq(field),
                change_log::old_value.eq(old),
                change_log::new_value.eq(new),
                change_log::source.eq(edit.source),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn write(conn: &mut AnyConnection, f: &Facility) -> Result<(), StoreError> {
    delete_facility(conn, &f.id)?;
    insert_facilities(conn, std::slice::from_ref(f))
}

impl Store {
    /// One facility as the store holds it (inactive ones too).
    pub fn facility(&self, id: &str) -> Result<Option<Facility>, StoreError> {
        self.with_conn(|c| rows::read_facility(c, id))
    }

    /// Change facility `id` if it is still at `expected_version`: `change` edits a copy (and
    /// may refuse; it sets `updated_at` when it edits facts, `verified_*` when it confirms
    /// them); nothing is written when it changes nothing. Returns the stored facility.
    pub fn edit_facility(
        &self,
        id: &str,
        expected_version: i64,
        edit: &Edit<'_>,
        change: impl FnOnce(&mut Facility) -> Result<(), String>,
    ) -> Result<Facility, EditError> {
        self.with_conn(|c| Ok(c.transaction(|c| edit_in(c, id, expected_version, edit, change))))?
    }

    /// Add a facility; its id must be new.
    pub fn create_facility(&self, f: &Facility, edit: &Edit<'_>) -> Result<Facility, EditError> {
        self.with_conn(|c| {
            Ok(c.transaction(|c| {
                if rows::read_facility(c, &f.id)?.is_some() {
                    return Err(EditError::Exists(f.id.clone()));
                }
                let mut new = f.clone();
                new.canonicalize();
                new.version = 1;
                new.updated_at = edit.at.to_string();
                insert_facilities(c, std::slice::from_ref(&new))?;
                log(c, None, &new, edit)?;
                Store::notify(c)?;
                Ok(new)
            }))
        })?
    }

    /// Write an import in one transaction: each facility of `rows` is created (its `version`
    /// 0: none may exist), or replaces the stored one with its id at its `version` (version + 1,
    /// one change-log row per changed field; an unchanged one writes nothing). A facility
    /// changed meanwhile, an `Err` item or any failure rolls everything back. Returns how many
    /// were created and updated.
    pub fn import_facilities(
        &self,
        edit: &Edit<'_>,
        rows: impl Iterator<Item = Result<Facility, String>>,
    ) -> Result<(usize, usize), EditError> {
        self.with_conn(|c| {
            Ok(c.transaction(|c| {
                let (mut created, mut updated) = (0, 0);
                for row in rows {
                    let mut new = row.map_err(EditError::Refused)?;
                    new.canonicalize();
                    let current = rows::read_facility(c, &new.id)?;
                    if current.as_ref().map_or(0, |f| f.version) != new.version {
                        return Err(EditError::Refused(format!(
                            "{} changed since the file was checked; check it again.",
                            new.id
                        )));
                    }
                    match current {
                        None => {
                            new.version = 1;
                            insert_facilities(c, std::slice::from_ref(&new))?;
                            log(c, None, &new, edit)?;
                            created += 1;
                        }
                        Some(current) => {
                            new.version = current.version;
                            if new == current {
                                continue;
                            }
                            new.version = current.version + 1;
                            write(c, &new)?;
                            log(c, Some(&current), &new, edit)?;
                            updated += 1;
                        }
                    }
                }
                if created + updated > 0 {
                    Store::notify(c)?;
                }
                Ok((created, updated))
            }))
        })?
    }

    /// The change log of one facility, oldest first.
    pub fn history(&self, id: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        self.with_conn(|c| {
            let rows: Vec<HistoryRow> = change_log::table
                .filter(change_log::entity.eq("facility"))
                .filter(change_log::entity_id.eq(id))
                .order(change_log::seq)
                .select((
                    change_log::seq,
                    change_log::at,
                    change_log::actor,
                    change_log::field,
                    change_log::old_value,
                    change_log::new_value,
                    change_log::source,
                ))
                .load(c)?;
            Ok(rows
                .into_iter()
                .map(
                    |(seq, at, actor, field, old_value, new_value, source)| HistoryEntry {
                        seq,
                        at,
                        actor,
                        field,
                        old_value,
                        new_value,
                        source,
                    },
                )
                .collect())
        })
    }
}

pub(super) fn edit_in(
    c: &mut AnyConnection,
    id: &str,
    expected_version: i64,
    edit: &Edit<'_>,
    change: impl FnOnce(&mut Facility) -> Result<(), String>,
) -> Result<Facility, EditError> {
    let current = rows::read_facility(c, id)?.ok_or(EditError::NotFound)?;
    if current.version != expected_version {
        return Err(EditError::Stale {
            expected: expected_version,
            current: Box::new(current),
        });
    }
    let mut new = current.clone();
    change(&mut new).map_err(EditError::Refused)?;
    new.canonicalize();
    new.version = current.version;
    if new == current {
        return Ok(current);
    }
    new.version = current.version + 1;
    write(c, &new)?;
    log(c, Some(&current), &new, edit)?;
    Store::notify(c)?;
    Ok(new)
}
