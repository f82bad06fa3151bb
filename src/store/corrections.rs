//! Corrections the public reports against a record, waiting for the area's coordinator.

use diesel::prelude::*;

use super::schema::corrections;
use super::{Store, StoreError};

/// A reported correction.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = corrections)]
pub struct Correction {
    pub id: i64,
    pub facility_id: String,
    pub what: String,
    pub contact: Option<String>,
    pub created_at: String,
    /// `open` or `closed`.
    pub status: String,
    pub closed_by: Option<String>,
    pub closed_at: Option<String>,
    pub note: Option<String>,
}

impl Store {
    /// File a report; returns its id.
    pub fn add_correction(
        &self,
        facility_id: &str,
        what: &str,
        contact: Option<&str>,
        at: &str,
    ) -> Result<i64, StoreError> {
        self.with_conn(|c| {
            c.transaction(|c| {
                diesel::insert_into(corrections::table)
                    .values((
                        corrections::facility_id.eq(facility_id),
                        corrections::what.eq(what),
                        corrections::contact.eq(contact),
                        corrections::created_at.eq(at),
                    ))
                    .execute(c)?;
                Ok(corrections::table
                    .order(corrections::id.desc())
                    .select(corrections::id)
                    .first(c)?)
            })
        })
    }

    /// Reports with `status` (`None`: all), oldest first.
    pub fn corrections(&self, status: Option<&str>) -> Result<Vec<Correction>, StoreError> {
        self.with_conn(|c| {
            let mut q = corrections::table
                .order(corrections::id)
                .select(Correction::as_select())
                .into_boxed();
            if let Some(s) = status {
                q = q.filter(corrections::status.eq(s.to_string()));
            }
            Ok(q.load(c)?)
        })
    }

    pub fn correction(&self, id: i64) -> Result<Option<Correction>, StoreError> {
        self.with_conn(|c| {
            Ok(corrections::table
                .find(id)
                .select(Correction::as_select())
                .first(c)
                .optional()?)
        })
    }

    /// Close an open report; `None` when there is none, or it is closed already.
    pub fn close_correction(
        &self,
        id: i64,
        by: &str,
        at: &str,
        note: Option<&str>,
    ) -> Result<Option<Correction>, StoreError> {
        self.with_conn(|c| {
            let n = diesel::update(
                corrections::table
                    .find(id)
                    .filter(corrections::status.eq("open")),
            )
            .set((
                corrections::status.eq("closed"),
                corrections::closed_by.eq(by),
                corrections::closed_at.eq(at),
                corrections::note.eq(note),
            ))
            .execute(c)?;
            if n == 0 {
                return Ok(None);
            }
            Ok(corrections::table
                .find(id)
                .select(Correction::as_select())
                .first(c)
                .optional()?)
        })
    }
}
