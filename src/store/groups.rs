//! Pharmacy groups in the store. Every change is one transaction that also appends a change-log
//! row (entity `pharmacy_group`), so other instances see it and rebuild their catalogs.

use diesel::prelude::*;

use super::edit::Edit;
use super::schema::{change_log, pharmacy_groups};
use super::{AnyConnection, Store, StoreError};
use crate::domain::PharmacyGroup;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = pharmacy_groups)]
struct GroupRow {
    id: i64,
    name: String,
    members: String,
    licence_valid_until: String,
    transfer_hours: Option<i32>,
    note: Option<String>,
    sample: bool,
    updated_by: String,
    updated_at: String,
}

impl GroupRow {
    fn into_group(self) -> Result<PharmacyGroup, StoreError> {
        Ok(PharmacyGroup {
            id: self.id,
            name: self.name,
            members: serde_json::from_str(&self.members).map_err(|_| StoreError::Corrupt {
                column: "pharmacy_groups.members",
                value: self.members.clone(),
            })?,
            licence_valid_until: self.licence_valid_until,
            transfer_hours: self.transfer_hours.map(|h| h.max(0) as u32),
            note: self.note,
            sample: self.sample,
            updated_by: self.updated_by,
            updated_at: self.updated_at,
        })
    }
}

fn logged(
    c: &mut AnyConnection,
    id: i64,
    old: Option<&PharmacyGroup>,
    new: Option<&PharmacyGroup>,
    edit: &Edit<'_>,
) -> Result<(), StoreError> {
    let json = |g: Option<&PharmacyGroup>| g.map(|g| serde_json::to_string(g).unwrap_or_default());
    diesel::insert_into(change_log::table)
        .values((
            change_log::at.eq(edit.at),
            change_log::actor.eq(edit.actor),
            change_log::entity.eq("pharmacy_group"),
            change_log::entity_id.eq(id.to_string()),
            change_log::field.eq("group"),
            change_log::old_value.eq(json(old)),
            change_log::new_value.eq(json(new)),
            change_log::source.eq(edit.source),
        ))
        .execute(c)?;
    Store::notify(c)
}

fn read(c: &mut AnyConnection, id: i64) -> Result<Option<PharmacyGroup>, StoreError> {
    pharmacy_groups::table
        .find(id)
        .select(GroupRow::as_select())
        .first(c)
        .optional()?
        .map(GroupRow::into_group)
        .transpose()
}

impl Store {
    /// Every group, by id.
    pub fn pharmacy_groups(&self) -> Result<Vec<PharmacyGroup>, StoreError> {
        self.with_conn(|c| {
            pharmacy_groups::table
                .order(pharmacy_groups::id)
                .select(GroupRow::as_select())
                .load(c)?
                .into_iter()
                .map(GroupRow::into_group)
                .collect()
        })
    }

    pub fn pharmacy_group(&self, id: i64) -> Result<Option<PharmacyGroup>, StoreError> {
        self.with_conn(|c| read(c, id))
    }

    /// Create `g` (its id is ignored) or, with `id`, replace group `id`; `None` when `id` names
    /// no group. The editor and time are `edit`'s.
    pub fn put_pharmacy_group(
        &self,
        id: Option<i64>,
        g: &PharmacyGroup,
        edit: &Edit<'_>,
    ) -> Result<Option<PharmacyGroup>, StoreError> {
        let members = serde_json::to_string(&g.members).unwrap_or_default();
        let hours = g.transfer_hours.map(|h| h.min(i32::MAX as u32) as i32);
        self.with_conn(|c| {
            c.transaction(|c| {
                let values = (
                    pharmacy_groups::name.eq(&g.name),
                    pharmacy_groups::members.eq(&members),
                    pharmacy_groups::licence_valid_until.eq(&g.licence_valid_until),
                    pharmacy_groups::transfer_hours.eq(hours),
                    pharmacy_groups::note.eq(&g.note),
                    pharmacy_groups::sample.eq(g.sample),
                    pharmacy_groups::updated_by.eq(edit.actor),
                    pharmacy_groups::updated_at.eq(edit.at),
                );
                let (old, id) = match id {
                    Some(id) => {
                        let Some(old) = read(c, id)? else {
                            return Ok(None);
                        };
                        diesel::update(pharmacy_groups::table.find(id))
                            .set(values)
                            .execute(c)?;
                        (Some(old), id)
                    }
                    None => {
                        diesel::insert_into(pharmacy_groups::table)
                            .values(values)
                            .execute(c)?;
                        let id = pharmacy_groups::table
                            .order(pharmacy_groups::id.desc())
                            .select(pharmacy_groups::id)
                            .first(c)?;
                        (None, id)
                    }
                };
                let new = read(c, id)?;
                logged(c, id, old.as_ref(), new.as_ref(), edit)?;
                Ok(new)
            })
        })
    }

    /// Delete group `id`; false when there is none.
    pub fn delete_pharmacy_group(&self, id: i64, edit: &Edit<'_>) -> Result<bool, StoreError> {
        self.with_conn(|c| {
            c.transaction(|c| {
                let Some(old) = read(c, id)? else {
                    return Ok(false);
                };
                diesel::delete(pharmacy_groups::table.find(id)).execute(c)?;
                logged(c, id, Some(&old), None, edit)?;
                Ok(true)
            })
        })
    }
}
