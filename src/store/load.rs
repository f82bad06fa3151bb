//! Applying the processed dataset to the database: upsert by identifier, never overwriting a
//! fact whose source is not the public dataset, all in one transaction, every change logged.

use std::collections::HashMap;

use diesel::prelude::*;

use super::DatasetLoad;
use super::rows::{self, FacilityRows};
use super::schema::{
    admission_rules, areas, capacities, census_areas, change_log, contacts, facilities, meta,
    municipalities, services, towns,
};
use super::{AnyConnection, StoreError};
use crate::domain::{Facility, Service, ServiceStatus};

pub const META_DATASET: &str = "dataset";
pub const META_LOADED_AT: &str = "dataset_loaded_at";

/// What a load did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LoadSummary {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Facts kept because their source is not the public dataset.
    pub kept_non_dataset: usize,
    /// The change-log position after the load, when the database held no facility before it:
    /// the facilities the load handed to its `written` sink are then the whole table.
    #[serde(skip)]
    pub whole_table_at: Option<i64>,
}

/// Where a load hands each batch of facilities after writing it (see [`apply`]).
pub type Written<'a> = &'a mut dyn FnMut(Vec<Facility>);

/// Batch inserts need the concrete connection: `MultiConnection` cannot batch.
macro_rules! insert_chunks {
    ($conn:expr, $table:expr, $rows:expr) => {{
        for chunk in $rows.chunks(400) {
            match &mut *$conn {
                AnyConnection::Sqlite(c) => {
                    diesel::insert_into($table).values(chunk).execute(c)?;
                }
                AnyConnection::Postgresql(c) => {
                    diesel::insert_into($table).values(chunk).execute(c)?;
                }
            }
        }
    }};
}

/// Merge an incoming dataset record into what the database holds. Returns `None` when nothing
/// changes, and counts the facts kept because a person, not the dataset, stated them.
pub fn merge_facility(
    existing: Option<&Facility>,
    incoming: &Facility,
    kept_non_dataset: &mut usize,
) -> Option<Facility> {
    let mut incoming = incoming.clone();
    incoming.canonicalize();
    let incoming = &incoming;
    let Some(old) = existing else {
        return Some(incoming.clone());
    };
    let mut merged = old.clone();
    if old.provenance.is_dataset() {
        let id = merged.id.clone();
        let (contacts, services, verified_at, verified_by) = (
            std::mem::take(&mut merged.contacts),
            std::mem::take(&mut merged.services),
            merged.verified_at.take(),
            merged.verified_by.take(),
        );
        merged = incoming.clone();
        merged.id = id;
        merged.contacts = contacts;
        merged.services = services;
        merged.verified_at = verified_at;
        merged.verified_by = verified_by;
        // The version is the store's; a deactivation is a person's decision.
        merged.version = old.version;
        merged.status = old.status;
        // An identifier the dataset no longer lists is kept: ids only accumulate.
        let ids = &mut merged.identifiers;
        ids.navii = ids.navii.take().or_else(|| old.identifiers.navii.clone());
        ids.hic = ids.hic.take().or_else(|| old.identifiers.hic.clone());
        ids.kaigo = ids.kaigo.take().or_else(|| old.identifiers.kaigo.clone());
        // What people stated about the facility itself stays: its specialists, a patient
        // group's meetings, an after-hours answer that did not come from the dataset.
        merged.specialists = old.specialists.clone().or(merged.specialists);
        merged.gathering = old.gathering.clone().or(merged.gathering);
        // Partners are people's statements only; no dataset lists them.
        merged.partners = old.partners.clone();
        if old
            .after_hours
            .as_ref()
            .is_some_and(|a| !a.provenance.is_dataset())
        {
            merged.after_hours = old.after_hours.clone();
        }
    } else {
        *kept_non_dataset += 1;
    }

    // Contacts: those a person entered stay; the dataset's own are replaced.
    let mut contacts: Vec<_> = old
        .contacts
        .iter()
        .filter(|c| !c.provenance.is_dataset())
        .cloned()
        .collect();
    *kept_non_dataset += contacts.len();
    for c in &incoming.contacts {
        if !contacts
            .iter()
            .any(|k| k.kind == c.kind && k.value == c.value)
        {
            contacts.push(c.clone());
        }
    }
    merged.contacts = contacts;

    // Consultation windows: one a person entered or confirmed stays, and the dataset's window
    // of the same kind is not added beside it; the dataset's own are replaced.
    let mut windows: Vec<_> = old
        .consultations
        .iter()
        .filter(|c| !c.provenance.is_dataset())
        .cloned()
        .collect();
    *kept_non_dataset += windows.len();
    for c in &incoming.consultations {
        if !windows.iter().any(|k| k.kind == c.kind) {
            windows.push(c.clone());
        }
    }
    merged.consultations = windows;

    // Services: a non-dataset service wins; a dataset service is refreshed but keeps the bed
    // status, admission rules and verification people added; one the dataset dropped goes inactive.
    let mut services: Vec<Service> = Vec::new();
    for s in &incoming.services {
        match old.services.iter().find(|o| o.kind == s.kind) {
            Some(o) if !o.provenance.is_dataset() => {
                *kept_non_dataset += 1;
                services.push(o.clone());
            }
            Some(o) => {
                let mut n = s.clone();
                n.capacity = o.capacity.clone();
                n.admission_rules = o.admission_rules.clone();
                n.verified_at = o.verified_at.clone();
                n.verified_by = o.verified_by.clone();
                services.push(n);
            }
            None => services.push(s.clone()),
        }
    }
    for o in &old.services {
        if services.iter().any(|s| s.kind == o.kind) {
            continue;
        }
        let mut kept = o.clone();
        if o.provenance.is_dataset() {
            kept.status = ServiceStatus::Inactive;
        } else {
            *kept_non_dataset += 1;
        }
        services.push(kept);
    }
    services.sort_by_key(|s| s.kind.code());
    merged.services = services;

    (merged != *old).then_some(merged)
}

/// One audit entry: at, actor, entity, entity id, field, old value, new value.
pub(super) type Change = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

/// One change-log row per top-level field that differs.
pub(super) fn changes(
    old: Option<&Facility>,
    new: &Facility,
    actor: &str,
    at: &str,
) -> Vec<Change> {
    let new_v = serde_json::to_value(new).unwrap_or_default();
    let old_v = old.map(|o| serde_json::to_value(o).unwrap_or_default());
    let mut out = Vec::new();
    let empty = serde_json::Map::new();
    let new_map = new_v.as_object().unwrap_or(&empty);
    let old_map = old_v.as_ref().and_then(|v| v.as_object()).unwrap_or(&empty);
    let mut keys: Vec<&String> = new_map.keys().chain(old_map.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let (a, b) = (old_map.get(k), new_map.get(k));
        if a != b {
            out.push((
                at.to_string(),
                actor.to_string(),
                "facility".to_string(),
                new.id.clone(),
                k.clone(),
                a.map(|v| v.to_string()),
                b.map(|v| v.to_string()),
            ));
        }
    }
    out
}

pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub(super) fn delete_facility(conn: &mut AnyConnection, id: &str) -> Result<(), StoreError> {
    diesel::delete(contacts::table.filter(contacts::facility_id.eq(id))).execute(conn)?;
    diesel::delete(capacities::table.filter(capacities::facility_id.eq(id))).execute(conn)?;
    diesel::delete(admission_rules::table.filter(admission_rules::facility_id.eq(id)))
        .execute(conn)?;
    diesel::delete(services::table.filter(services::facility_id.eq(id))).execute(conn)?;
    diesel::delete(facilities::table.filter(facilities::id.eq(id))).execute(conn)?;
    Ok(())
}

pub(super) fn insert_facilities(
    conn: &mut AnyConnection,
    list: &[Facility],
) -> Result<(), StoreError> {
    let all: Vec<FacilityRows> = list.iter().map(rows::facility_rows).collect();
    let f: Vec<_> = all.iter().map(|r| r.facility.clone()).collect();
    let c: Vec<_> = all
        .iter()
        .flat_map(|r| r.contacts.iter().cloned())
        .collect();
    let s: Vec<_> = all
        .iter()
        .flat_map(|r| r.services.iter().cloned())
        .collect();
    let cap: Vec<_> = all
        .iter()
        .flat_map(|r| r.capacities.iter().cloned())
        .collect();
    let adm: Vec<_> = all
        .iter()
        .flat_map(|r| r.admissions.iter().cloned())
        .collect();
    insert_chunks!(conn, facilities::table, f);
    insert_chunks!(conn, contacts::table, c);
    insert_chunks!(conn, services::table, s);
    insert_chunks!(conn, capacities::table, cap);
    insert_chunks!(conn, admission_rules::table, adm);
    Ok(())
}

fn log_changes(conn: &mut AnyConnection, entries: Vec<Change>) -> Result<(), StoreError> {
    let rows: Vec<_> = entries
        .into_iter()
        .map(|(at, actor, entity, entity_id, field, old, new)| {
            (
                change_log::at.eq(at),
                change_log::actor.eq(actor),
                change_log::entity.eq(entity),
                change_log::entity_id.eq(entity_id),
                change_log::field.eq(field),
                change_log::old_value.eq(old),
                change_log::new_value.eq(new),
            )
        })
        .collect();
    insert_chunks!(conn, change_log::table, rows);
    Ok(())
}

fn set_meta(conn: &mut AnyConnection, key: &str, value: &str) -> Result<(), StoreError> {
    diesel::delete(meta::table.filter(meta::key.eq(key))).execute(conn)?;
    diesel::insert_into(meta::table)
        .values((meta::key.eq(key), meta::value.eq(value)))
        .execute(conn)?;
    Ok(())
}

/// Facilities a dataset load writes at a time (inside its one transaction).
const LOAD_BATCH: usize = 2_000;

pub(crate) fn apply(
    conn: &mut AnyConnection,
    dataset: &DatasetLoad<'_>,
    facilities: &mut dyn Iterator<Item = Result<Facility, StoreError>>,
    actor: &str,
    mut written: Option<Written<'_>>,
) -> Result<LoadSummary, StoreError> {
    conn.transaction(|conn| {
        let at = now_rfc3339();
        // Reference data comes only from the dataset: replace it whole.
        diesel::delete(towns::table).execute(conn)?;
        diesel::delete(municipalities::table).execute(conn)?;
        diesel::delete(areas::table).execute(conn)?;
        let a: Vec<_> = dataset.areas.iter().map(rows::area_row).collect();
        let m: Vec<_> = dataset
            .municipalities
            .iter()
            .map(rows::municipality_row)
            .collect();
        let t: Vec<_> = dataset.towns.iter().map(rows::town_row).collect();
        insert_chunks!(conn, areas::table, a);
        insert_chunks!(conn, municipalities::table, m);
        insert_chunks!(conn, towns::table, t);
        replace_census(conn, dataset.census)?;

        let existing = rows::read_facilities(conn)?;
        let by_id: HashMap<&str, &Facility> = existing.iter().map(|f| (f.id.as_str(), f)).collect();
        let mut by_ident: HashMap<(&str, &str), &Facility> = HashMap::new();
        for f in &existing {
            let ids = &f.identifiers;
            for (k, v) in [
                ("navii", &ids.navii),
                ("kaigo", &ids.kaigo),
                ("hic", &ids.hic),
            ] {
                if let Some(v) = v {
                    by_ident.insert((k, v.as_str()), f);
                }
            }
        }

        // Only a load into an empty table writes the whole table, so only its writes are
        // worth handing on.
        if !existing.is_empty() {
            written = None;
        }
        let mut summary = LoadSummary::default();
        let mut writes = Vec::with_capacity(LOAD_BATCH);
        let mut log = Vec::new();
        for inc in facilities {
            let inc = inc?;
            let ids = &inc.identifiers;
            let found = by_id.get(inc.id.as_str()).copied().or_else(|| {
                [
                    ("navii", &ids.navii),
                    ("kaigo", &ids.kaigo),
                    ("hic", &ids.hic),
                ]
                .into_iter()
                .find_map(|(k, v)| v.as_ref().and_then(|v| by_ident.get(&(k, v.as_str()))))
                .copied()
                .filter(|f| f.kind == inc.kind)
            });
            match merge_facility(found, &inc, &mut summary.kept_non_dataset) {
                None => summary.unchanged += 1,
                Some(mut merged) => {
                    merged.version = found.map_or(1, |o| o.version + 1);
                    if found.is_some() {
                        summary.updated += 1;
                    } else {
                        summary.inserted += 1;
                    }
                    log.extend(changes(found, &merged, actor, &at));
                    if let Some(old) = found {
                        delete_facility(conn, &old.id)?;
                    }
                    writes.push(merged);
                }
            }
            if writes.len() >= LOAD_BATCH {
                insert_facilities(conn, &writes)?;
                log_changes(conn, std::mem::take(&mut log))?;
                match written.as_mut() {
                    Some(w) => w(std::mem::replace(
                        &mut writes,
                        Vec::with_capacity(LOAD_BATCH),
                    )),
                    None => writes.clear(),
                }
            }
        }
        insert_facilities(conn, &writes)?;
        log_changes(conn, log)?;
        if let Some(w) = written.as_mut() {
            w(writes);
            summary.whole_table_at = Some(
                change_log::table
                    .select(diesel::dsl::max(change_log::seq))
                    .first::<Option<i64>>(conn)?
                    .unwrap_or(0),
            );
        }
        set_meta(conn, META_DATASET, dataset.stamp)?;
        set_meta(conn, META_LOADED_AT, &at)?;
        super::Store::notify(conn)?;
        Ok(summary)
    })
}

/// Replace the census small areas whole (reference data, like the towns).
pub(crate) fn replace_census(
    conn: &mut AnyConnection,
    census: &[crate::domain::CensusArea],
) -> Result<(), StoreError> {
    diesel::delete(census_areas::table).execute(conn)?;
    let c: Vec<_> = census.iter().map(rows::census_row).collect();
    insert_chunks!(conn, census_areas::table, c);
    Ok(())
}

pub(crate) fn put_one(
    conn: &mut AnyConnection,
    facility: &Facility,
    actor: &str,
) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        let existing = rows::read_facilities(conn)?;
        let old = existing.iter().find(|f| f.id == facility.id);
        let mut facility = facility.clone();
        facility.version = old.map_or(1, |o| o.version + 1);
        let log = changes(old, &facility, actor, &now_rfc3339());
        delete_facility(conn, &facility.id)?;
        insert_facilities(conn, std::slice::from_ref(&facility))?;
        log_changes(conn, log)?;
        super::Store::notify(conn)
    })
}
