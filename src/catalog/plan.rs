//! The planner: a [`SearchRequest`] (typed and range-checked by the HTTP layer, but with codes
//! and places unresolved) becomes a [`Plan`] against one snapshot: area and municipality codes
//! resolved, an address placed, the cursor checked against the snapshot's version, and the
//! choice of running inline or on the blocking pool.

use super::Catalog;
use super::query::{Facet, FormularyFilter, Query, Sort};
use crate::domain::{Facility, FacilityKind, GeocodeMiss, LatLng, ServiceKind};

/// A search as a client asked for it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchRequest {
    pub kinds: Vec<FacilityKind>,
    pub services: Vec<ServiceKind>,
    /// 二次医療圏 codes as given; the planner checks them against the catalog.
    pub areas: Vec<String>,
    /// 市区町村 codes as given.
    pub municipalities: Vec<String>,
    pub text: Option<String>,
    /// The point distances are measured from, exactly as given.
    pub near: Option<LatLng>,
    /// Or an address, placed by the geocoder.
    pub address: Option<String>,
    pub radius_km: Option<f64>,
    /// minLng, minLat, maxLng, maxLat.
    pub bbox: Option<[f64; 4]>,
    /// Home-visit providers whose service area contains this point.
    pub reaches: Option<LatLng>,
    pub sort: Option<Sort>,
    pub facets: Vec<Facet>,
    /// Pharmacies stocking every one of these products, as the caller may see formularies.
    pub formulary: Option<FormularyFilter>,
    /// Only facilities reachable after hours.
    pub after_hours: bool,
    /// Facilities counting a specialist of any of these roles.
    pub specialists: Vec<crate::domain::SpecialistRole>,
    /// Only facilities whose weekly hours say they are open at this JST time (`open_now`).
    pub open_at: Option<time::PrimitiveDateTime>,
    /// Page size; `usize::MAX` for everything (map clusters).
    pub limit: usize,
    pub cursor: Option<Cursor>,
}

/// Where the next page starts, tied to the snapshot that produced the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The catalog's change-log position when the cursor was issued.
    pub version: i64,
    pub offset: usize,
}

/// How a plan should be run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Execution {
    /// Microseconds of bitset and tree work: cheaper than a thread hop.
    Inline,
    /// Text or box scans that may take milliseconds: off the async workers.
    Blocking,
}

/// A resolved query against one snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub query: Query,
    pub offset: usize,
    pub limit: usize,
    pub execution: Execution,
    /// The snapshot version the plan was made against (for the next cursor).
    pub version: i64,
    /// How precisely the query point is known, in metres (0 for a typed `near`, the
    /// placement level's uncertainty for an address).
    pub origin_uncertainty_m: Option<u32>,
}

impl Plan {
    /// The cursor of the page after this one, when there is one.
    pub fn next_cursor(&self, total: usize) -> Option<Cursor> {
        let end = self.offset.saturating_add(self.limit);
        (end < total).then_some(Cursor {
            version: self.version,
            offset: end,
        })
    }

    /// How far the true distance to `f` may differ from the reported one, in metres: the sum
    /// of both points' placement uncertainties.
    pub fn distance_precision_m(&self, f: &Facility) -> Option<u32> {
        self.precision_for(f.placement)
    }

    /// [`Plan::distance_precision_m`] from a facility's placement alone.
    pub fn precision_for(&self, placement: crate::domain::Placement) -> Option<u32> {
        Some(self.origin_uncertainty_m? + placement.uncertainty_m()?)
    }
}

/// Why a request cannot be planned against this snapshot.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error("Unknown value `{value}` for `{parameter}`. Valid values: {valid}.")]
    UnknownCode {
        parameter: &'static str,
        value: String,
        valid: String,
    },
    #[error("The address could not be placed: `{}`.", .0.normalized)]
    AddressNotPlaced(GeocodeMiss),
    #[error(
        "The cursor belongs to an earlier version of the directory (data changed since the first page); start again from the first page."
    )]
    StaleCursor,
}

impl PlanError {
    /// The request parameter at fault.
    pub fn parameter(&self) -> &'static str {
        match self {
            PlanError::UnknownCode { parameter, .. } => parameter,
            PlanError::AddressNotPlaced(_) => "address",
            PlanError::StaleCursor => "cursor",
        }
    }
}

pub(super) fn plan(c: &Catalog, r: &SearchRequest) -> Result<Plan, PlanError> {
    let areas = r
        .areas
        .iter()
        .map(|code| match c.area(code) {
            Some(a) => Ok(a.code.clone()),
            None => Err(PlanError::UnknownCode {
                parameter: "area",
                value: code.clone(),
                valid: c
                    .areas()
                    .iter()
                    .map(|a| format!("{} ({})", a.code, a.name))
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let municipalities = r
        .municipalities
        .iter()
        .map(|code| match c.municipality(code) {
            Some(m) => Ok(m.code.clone()),
            None => Err(PlanError::UnknownCode {
                parameter: "municipality",
                value: code.clone(),
                valid:
                    "5-digit 市区町村コード of this region, listed with each area in /api/v1/areas"
                        .into(),
            }),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (point, origin_uncertainty_m) = match (&r.near, &r.address, &r.reaches) {
        (Some(p), _, _) => (Some((p.lat, p.lng)), Some(0)),
        (None, Some(address), _) => {
            let m = c
                .geocoder()
                .geocode(address)
                .map_err(PlanError::AddressNotPlaced)?;
            (Some((m.lat, m.lng)), m.level.uncertainty_m())
        }
        // The home a provider must reach is the point distances are measured from.
        (None, None, Some(p)) => (Some((p.lat, p.lng)), Some(0)),
        (None, None, None) => (None, None),
    };
    let offset = match r.cursor {
        None => 0,
        Some(cursor) if cursor.version == c.change_seq() => cursor.offset,
        Some(_) => return Err(PlanError::StaleCursor),
    };
    let query = Query {
        kinds: r.kinds.clone(),
        services: r.services.clone(),
        areas,
        municipalities,
        text: r.text.clone(),
        point,
        radius_m: r.radius_km.map(|km| km * 1000.0),
        bbox: r.bbox,
        reaches: r.reaches.map(|p| (p.lat, p.lng)),
        sort: r.sort,
        facets: r.facets.clone(),
        // A person is asking: rather near matches, flagged, than an empty page.
        relax: true,
        formulary: r.formulary.clone(),
        after_hours: r.after_hours,
        specialists: r.specialists.clone(),
        open_at: r.open_at,
    };
    let execution = if query.text.is_none() && query.bbox.is_none() {
        Execution::Inline
    } else {
        Execution::Blocking
    };
    Ok(Plan {
        query,
        offset,
        limit: r.limit,
        execution,
        version: c.change_seq(),
        origin_uncertainty_m,
    })
}
