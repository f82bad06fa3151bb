//! Rows ↔ domain types. Enumerations are stored as their snake_case codes; nested structures
//! (hours, service attributes, admission rules) as JSON text, identical on both backends.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::schema::{
    admission_rules, areas, capacities, census_areas, contacts, facilities, municipalities,
    services, towns,
};
use super::{AnyConnection, StoreError};
use crate::domain::{
    Address, AdmissionRules, Area, Capacity, Contact, Facility, Hours, Identifiers, LatLng,
    Municipality, Placement, Provenance, Service, ServiceAttributes, TownRef,
};

/// The snake_case code of a serde enum.
pub(crate) fn code<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn parse<T: DeserializeOwned>(column: &'static str, value: &str) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(value.to_string())).map_err(|_| {
        StoreError::Corrupt {
            column,
            value: value.to_string(),
        }
    })
}

fn parse_json<T: DeserializeOwned>(column: &'static str, value: &str) -> Result<T, StoreError> {
    serde_json::from_str(value).map_err(|_| StoreError::Corrupt {
        column,
        value: value.chars().take(80).collect(),
    })
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_string())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = facilities)]
pub(crate) struct FacilityRow {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub name_kana: Option<String>,
    pub navii: Option<String>,
    pub hic: Option<String>,
    pub kaigo: Option<String>,
    pub postal_code: Option<String>,
    pub prefecture: String,
    pub municipality_code: Option<String>,
    pub municipality: Option<String>,
    pub address: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub placement: String,
    pub area_code: Option<String>,
    pub hours: Option<String>,
    pub url: Option<String>,
    pub notes: Option<String>,
    pub origin: String,
    pub source: String,
    pub snapshot: Option<String>,
    pub updated_at: String,
    pub verified_at: Option<String>,
    pub verified_by: Option<String>,
    pub version: i64,
    pub status: String,
    pub after_hours: Option<String>,
    pub specialists: Option<String>,
    pub consultations: Option<String>,
    pub gathering: Option<String>,
    pub partners: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = contacts)]
pub(crate) struct ContactRow {
    pub facility_id: String,
    pub position: i32,
    pub kind: String,
    pub value: String,
    pub label: Option<String>,
    pub visibility: String,
    pub origin: String,
    pub source: String,
    pub snapshot: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = services)]
pub(crate) struct ServiceRow {
    pub facility_id: String,
    pub kind: String,
    pub status: String,
    pub attributes: String,
    pub origin: String,
    pub source: String,
    pub snapshot: Option<String>,
    pub updated_at: String,
    pub verified_at: Option<String>,
    pub verified_by: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = capacities)]
pub(crate) struct CapacityRow {
    pub facility_id: String,
    pub service_kind: String,
    pub status: String,
    pub free_beds: Option<i32>,
    pub note: Option<String>,
    pub reported_by: String,
    pub reported_at: String,
    pub visibility: String,
    pub waiting_days: Option<i32>,
    pub via: Option<String>,
    pub sample: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = admission_rules)]
pub(crate) struct AdmissionRow {
    pub facility_id: String,
    pub service_kind: String,
    pub rules: String,
    pub visibility: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = areas)]
pub(crate) struct AreaRow {
    pub code: String,
    pub name: String,
    pub pref_code: String,
    pub prefecture: String,
    pub population: Option<i64>,
    pub geometry: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = municipalities)]
pub(crate) struct MunicipalityRow {
    pub code: String,
    pub name: String,
    pub pref_code: String,
    pub area_code: String,
    pub geometry: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = towns)]
pub(crate) struct TownRow {
    pub muni_code: String,
    pub town: String,
    pub koaza: String,
    pub lat: f64,
    pub lng: f64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = census_areas)]
pub(crate) struct CensusRow {
    pub key_code: String,
    pub muni_code: String,
    pub name: String,
    pub population: i64,
    pub households: i64,
    pub lat: f64,
    pub lng: f64,
}

/// All rows of one facility, ready to insert.
pub(crate) struct FacilityRows {
    pub facility: FacilityRow,
    pub contacts: Vec<ContactRow>,
    pub services: Vec<ServiceRow>,
    pub capacities: Vec<CapacityRow>,
    pub admissions: Vec<AdmissionRow>,
}

pub(crate) fn facility_rows(f: &Facility) -> FacilityRows {
    let facility = FacilityRow {
        id: f.id.clone(),
        kind: f.kind.code().to_string(),
        name: f.name.clone(),
        name_kana: f.name_kana.clone(),
        navii: f.identifiers.navii.clone(),
        hic: f.identifiers.hic.clone(),
        kaigo: f.identifiers.kaigo.clone(),
        postal_code: f.address.postal_code.clone(),
        prefecture: f.address.prefecture.clone(),
        municipality_code: f.address.municipality_code.clone(),
        municipality: f.address.municipality.clone(),
        address: f.address.text.clone(),
        lat: f.location.map(|l| l.lat),
        lng: f.location.map(|l| l.lng),
        placement: f.placement.code().to_string(),
        area_code: f.area_code.clone(),
        hours: (!f.hours.is_empty()).then(|| to_json(&f.hours)),
        url: f.url.clone(),
        notes: f.notes.clone(),
        origin: code(&f.provenance.origin),
        source: f.provenance.source.clone(),
        snapshot: f.provenance.snapshot.clone(),
        updated_at: f.updated_at.clone(),
        verified_at: f.verified_at.clone(),
        verified_by: f.verified_by.clone(),
        version: f.version.max(1),
        status: code(&f.status),
        after_hours: f.after_hours.as_ref().map(to_json),
        specialists: f.specialists.as_ref().map(to_json),
        consultations: (!f.consultations.is_empty()).then(|| to_json(&f.consultations)),
        gathering: f.gathering.as_ref().map(to_json),
        partners: (!f.partners.is_empty()).then(|| to_json(&f.partners)),
    };
    let contacts = f
        .contacts
        .iter()
        .enumerate()
        .map(|(i, c)| ContactRow {
            facility_id: f.id.clone(),
            position: i as i32,
            kind: code(&c.kind),
            value: c.value.clone(),
            label: c.label.clone(),
            visibility: code(&c.visibility),
            origin: code(&c.provenance.origin),
            source: c.provenance.source.clone(),
            snapshot: c.provenance.snapshot.clone(),
        })
        .collect();
    let mut capacities = Vec::new();
    let mut admissions = Vec::new();
    let services = f
        .services
        .iter()
        .map(|s| {
            if let Some(cap) = &s.capacity {
                capacities.push(CapacityRow {
                    facility_id: f.id.clone(),
                    service_kind: s.kind.code().to_string(),
                    status: code(&cap.status),
                    free_beds: cap.free_beds.map(|n| n.min(i32::MAX as u32) as i32),
                    note: cap.note.clone(),
                    reported_by: cap.updated_by.clone(),
                    reported_at: cap.updated_at.clone(),
                    visibility: code(&cap.visibility),
                    waiting_days: cap.waiting_days.map(|n| n.min(i32::MAX as u32) as i32),
                    via: cap.via.clone(),
                    sample: cap.sample,
                });
            }
            if let Some(rules) = &s.admission_rules {
                admissions.push(AdmissionRow {
                    facility_id: f.id.clone(),
                    service_kind: s.kind.code().to_string(),
                    rules: to_json(rules),
                    visibility: code(&rules.visibility),
                });
            }
            ServiceRow {
                facility_id: f.id.clone(),
                kind: s.kind.code().to_string(),
                status: code(&s.status),
                attributes: to_json(&s.attributes),
                origin: code(&s.provenance.origin),
                source: s.provenance.source.clone(),
                snapshot: s.provenance.snapshot.clone(),
                updated_at: s.updated_at.clone(),
                verified_at: s.verified_at.clone(),
                verified_by: s.verified_by.clone(),
            }
        })
        .collect();
    FacilityRows {
        facility,
        contacts,
        services,
        capacities,
        admissions,
    }
}

fn provenance(
    origin: &str,
    source: String,
    snapshot: Option<String>,
) -> Result<Provenance, StoreError> {
    Ok(Provenance {
        origin: parse("origin", origin)?,
        source,
        snapshot,
    })
}

fn facility_from_row(r: FacilityRow) -> Result<Facility, StoreError> {
    let location = match (r.lat, r.lng) {
        (Some(lat), Some(lng)) => Some(LatLng { lat, lng }),
        _ => None,
    };
    Ok(Facility {
        kind: parse("facilities.kind", &r.kind)?,
        placement: Placement::from_code(&r.placement).ok_or(StoreError::Corrupt {
            column: "facilities.placement",
            value: r.placement.clone(),
        })?,
        hours: match &r.hours {
            Some(h) => parse_json::<Hours>("facilities.hours", h)?,
            None => Hours::default(),
        },
        provenance: provenance(&r.origin, r.source, r.snapshot)?,
        status: parse("facilities.status", &r.status)?,
        version: r.version,
        id: r.id,
        name: r.name,
        name_kana: r.name_kana,
        identifiers: Identifiers {
            navii: r.navii,
            hic: r.hic,
            kaigo: r.kaigo,
        },
        address: Address {
            postal_code: r.postal_code,
            prefecture: r.prefecture,
            municipality_code: r.municipality_code,
            municipality: r.municipality,
            text: r.address,
        },
        location,
        area_code: r.area_code,
        contacts: Vec::new(),
        url: r.url,
        notes: r.notes,
        services: Vec::new(),
        updated_at: r.updated_at,
        verified_at: r.verified_at,
        verified_by: r.verified_by,
        after_hours: match &r.after_hours {
            Some(a) => Some(parse_json("facilities.after_hours", a)?),
            None => None,
        },
        specialists: match &r.specialists {
            Some(s) => Some(parse_json("facilities.specialists", s)?),
            None => None,
        },
        consultations: match &r.consultations {
            Some(s) => parse_json("facilities.consultations", s)?,
            None => Vec::new(),
        },
        gathering: match &r.gathering {
            Some(s) => Some(parse_json("facilities.gathering", s)?),
            None => None,
        },
        partners: match &r.partners {
            Some(s) => parse_json("facilities.partners", s)?,
            None => Vec::new(),
        },
    })
}

pub(crate) fn read_facilities(c: &mut AnyConnection) -> Result<Vec<Facility>, StoreError> {
    read_facilities_of(c, Which::All)
}

/// The next `limit` facilities in id order after `after` (from the first when `None`).
pub(crate) fn read_facility_batch(
    c: &mut AnyConnection,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Facility>, StoreError> {
    read_facilities_of(c, Which::Batch { after, limit })
}

/// Which facilities [`read_facilities_of`] reads.
#[derive(Clone, Copy)]
enum Which<'a> {
    All,
    One(&'a str),
    /// The next `limit` in id order after `after`.
    Batch {
        after: Option<&'a str>,
        limit: i64,
    },
}

/// One facility with everything it holds, if the store has it.
pub(crate) fn read_facility(
    c: &mut AnyConnection,
    id: &str,
) -> Result<Option<Facility>, StoreError> {
    Ok(read_facilities_of(c, Which::One(id))?.pop())
}

/// Every facility, or only the one with id `only`.
fn read_facilities_of(
    c: &mut AnyConnection,
    which: Which<'_>,
) -> Result<Vec<Facility>, StoreError> {
    let mut q = facilities::table
        .order(facilities::id)
        .select(FacilityRow::as_select())
        .into_boxed();
    match which {
        Which::All => {}
        Which::One(id) => q = q.filter(facilities::id.eq(id.to_string())),
        Which::Batch { after, limit } => {
            if let Some(a) = after {
                q = q.filter(facilities::id.gt(a.to_string()));
            }
            q = q.limit(limit);
        }
    }
    let rows: Vec<FacilityRow> = q.load(c)?;
    // The rows of the other tables: of one facility, or of the batch's id range.
    let (only, range) = match (which, rows.last()) {
        (Which::One(id), _) => (Some(id), None),
        (Which::Batch { .. }, None) => return Ok(Vec::new()),
        (Which::Batch { after, .. }, Some(last)) => (None, Some((after, last.id.clone()))),
        (Which::All, _) => (None, None),
    };
    let mut out = Vec::with_capacity(rows.len());
    let mut index = HashMap::with_capacity(rows.len());
    for r in rows {
        index.insert(r.id.clone(), out.len());
        out.push(facility_from_row(r)?);
    }
    let mut q = contacts::table
        .order((contacts::facility_id, contacts::position))
        .select(ContactRow::as_select())
        .into_boxed();
    if let Some(id) = only {
        q = q.filter(contacts::facility_id.eq(id.to_string()));
    }
    if let Some((after, last)) = &range {
        if let Some(a) = after {
            q = q.filter(contacts::facility_id.gt(a.to_string()));
        }
        q = q.filter(contacts::facility_id.le(last.clone()));
    }
    let contact_rows: Vec<ContactRow> = q.load(c)?;
    for r in contact_rows {
        let Some(&i) = index.get(&r.facility_id) else {
            continue;
        };
        out[i].contacts.push(Contact {
            kind: parse("contacts.kind", &r.kind)?,
            visibility: parse("contacts.visibility", &r.visibility)?,
            provenance: provenance(&r.origin, r.source, r.snapshot)?,
            value: r.value,
            label: r.label,
        });
    }
    let mut caps: HashMap<(String, String), Capacity> = HashMap::new();
    let mut q = capacities::table
        .select(CapacityRow::as_select())
        .into_boxed();
    if let Some(id) = only {
        q = q.filter(capacities::facility_id.eq(id.to_string()));
    }
    if let Some((after, last)) = &range {
        if let Some(a) = after {
            q = q.filter(capacities::facility_id.gt(a.to_string()));
        }
        q = q.filter(capacities::facility_id.le(last.clone()));
    }
    for r in q.load(c)? {
        caps.insert(
            (r.facility_id, r.service_kind),
            Capacity {
                status: parse("capacities.status", &r.status)?,
                free_beds: r.free_beds.and_then(|n| u32::try_from(n).ok()),
                waiting_days: r.waiting_days.and_then(|n| u32::try_from(n).ok()),
                note: r.note,
                updated_by: r.reported_by,
                updated_at: r.reported_at,
                via: r.via,
                sample: r.sample,
                visibility: parse("capacities.visibility", &r.visibility)?,
            },
        );
    }
    let mut rules: HashMap<(String, String), AdmissionRules> = HashMap::new();
    let mut q = admission_rules::table
        .select(AdmissionRow::as_select())
        .into_boxed();
    if let Some(id) = only {
        q = q.filter(admission_rules::facility_id.eq(id.to_string()));
    }
    if let Some((after, last)) = &range {
        if let Some(a) = after {
            q = q.filter(admission_rules::facility_id.gt(a.to_string()));
        }
        q = q.filter(admission_rules::facility_id.le(last.clone()));
    }
    for r in q.load(c)? {
        let mut parsed: AdmissionRules = parse_json("admission_rules.rules", &r.rules)?;
        parsed.visibility = parse("admission_rules.visibility", &r.visibility)?;
        rules.insert((r.facility_id, r.service_kind), parsed);
    }
    let mut q = services::table
        .order((services::facility_id, services::kind))
        .select(ServiceRow::as_select())
        .into_boxed();
    if let Some(id) = only {
        q = q.filter(services::facility_id.eq(id.to_string()));
    }
    if let Some((after, last)) = &range {
        if let Some(a) = after {
            q = q.filter(services::facility_id.gt(a.to_string()));
        }
        q = q.filter(services::facility_id.le(last.clone()));
    }
    let service_rows: Vec<ServiceRow> = q.load(c)?;
    for r in service_rows {
        let Some(&i) = index.get(&r.facility_id) else {
            continue;
        };
        let key = (r.facility_id.clone(), r.kind.clone());
        out[i].services.push(Service {
            kind: parse("services.kind", &r.kind)?,
            status: parse("services.status", &r.status)?,
            attributes: parse_json::<ServiceAttributes>("services.attributes", &r.attributes)?,
            capacity: caps.remove(&key),
            admission_rules: rules.remove(&key),
            provenance: provenance(&r.origin, r.source, r.snapshot)?,
            updated_at: r.updated_at,
            verified_at: r.verified_at,
            verified_by: r.verified_by,
        });
    }
    Ok(out)
}

pub(crate) fn area_row(a: &Area) -> AreaRow {
    AreaRow {
        code: a.code.clone(),
        name: a.name.clone(),
        pref_code: a.pref_code.clone(),
        prefecture: a.prefecture.clone(),
        population: a.population.map(|p| p.min(i64::MAX as u64) as i64),
        geometry: a.geometry.as_ref().map(to_json),
    }
}

pub(crate) fn municipality_row(m: &Municipality) -> MunicipalityRow {
    MunicipalityRow {
        code: m.code.clone(),
        name: m.name.clone(),
        pref_code: m.pref_code.clone(),
        area_code: m.area_code.clone(),
        geometry: m.geometry.as_ref().map(to_json),
    }
}

pub(crate) fn town_row(t: &TownRef) -> TownRow {
    TownRow {
        muni_code: t.muni_code.clone(),
        town: t.town.clone(),
        koaza: t.koaza.clone(),
        lat: t.lat,
        lng: t.lng,
    }
}

pub(crate) fn read_areas(c: &mut AnyConnection) -> Result<Vec<Area>, StoreError> {
    let rows: Vec<AreaRow> = areas::table
        .order(areas::code)
        .select(AreaRow::as_select())
        .load(c)?;
    rows.into_iter()
        .map(|r| {
            Ok(Area {
                geometry: match &r.geometry {
                    Some(g) => Some(parse_json("areas.geometry", g)?),
                    None => None,
                },
                code: r.code,
                name: r.name,
                pref_code: r.pref_code,
                prefecture: r.prefecture,
                population: r.population.and_then(|p| u64::try_from(p).ok()),
            })
        })
        .collect()
}

pub(crate) fn read_municipalities(c: &mut AnyConnection) -> Result<Vec<Municipality>, StoreError> {
    let rows: Vec<MunicipalityRow> = municipalities::table
        .order(municipalities::code)
        .select(MunicipalityRow::as_select())
        .load(c)?;
    rows.into_iter()
        .map(|r| {
            Ok(Municipality {
                geometry: match &r.geometry {
                    Some(g) => Some(parse_json("municipalities.geometry", g)?),
                    None => None,
                },
                code: r.code,
                name: r.name,
                pref_code: r.pref_code,
                area_code: r.area_code,
            })
        })
        .collect()
}

pub(crate) fn read_towns(c: &mut AnyConnection) -> Result<Vec<TownRef>, StoreError> {
    let rows: Vec<TownRow> = towns::table
        .order((towns::muni_code, towns::town, towns::koaza))
        .select(TownRow::as_select())
        .load(c)?;
    Ok(rows
        .into_iter()
        .map(|r| TownRef {
            muni_code: r.muni_code,
            town: r.town,
            koaza: r.koaza,
            lat: r.lat,
            lng: r.lng,
        })
        .collect())
}

pub(crate) fn census_row(a: &crate::domain::CensusArea) -> CensusRow {
    CensusRow {
        key_code: a.key_code.clone(),
        muni_code: a.muni_code.clone(),
        name: a.name.clone(),
        // Populations are far below i64::MAX; saturate rather than wrap.
        population: i64::try_from(a.population).unwrap_or(i64::MAX),
        households: i64::try_from(a.households).unwrap_or(i64::MAX),
        lat: a.lat,
        lng: a.lng,
    }
}

pub(crate) fn read_census(
    c: &mut AnyConnection,
) -> Result<Vec<crate::domain::CensusArea>, StoreError> {
    let rows: Vec<CensusRow> = census_areas::table
        .order(census_areas::key_code)
        .select(CensusRow::as_select())
        .load(c)?;
    let count = |column: &'static str, v: i64| {
        u64::try_from(v).map_err(|_| StoreError::Corrupt {
            column,
            value: v.to_string(),
        })
    };
    rows.into_iter()
        .map(|r| {
            Ok(crate::domain::CensusArea {
                population: count("census_areas.population", r.population)?,
                households: count("census_areas.households", r.households)?,
                key_code: r.key_code,
                muni_code: r.muni_code,
                name: r.name,
                lat: r.lat,
                lng: r.lng,
            })
        })
        .collect()
}
