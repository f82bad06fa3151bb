//! The home physician's question at night: which hospitals near the patient take the admission
//! needed, are they accepting now, and how to ask. Candidates come from the ordinary plan
//! (services within a radius, nearest first); they are then ranked by bed status — accepting,
//! limited, unknown, not accepting — and distance, the status read as the audience may see it
//! and as old as it is.

use time::OffsetDateTime;

use super::Catalog;
use super::plan::Plan;
use super::query::QueryError;
use crate::domain::{Audience, CapacityStatus, Facility, ServiceKind, ServiceStatus};

/// One matched service of a candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupService {
    pub kind: ServiceKind,
    /// The status to act on (unknown when hidden, never reported or stale).
    pub status: CapacityStatus,
    /// Whether requests are taken at `now`; `None` when the hours are not known or hidden.
    pub requests_open: Option<bool>,
    /// Index into the rules' routes of the route to use at `now`.
    pub route_now: Option<usize>,
}

/// One candidate hospital.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupHit {
    pub ord: u32,
    pub distance_m: f64,
    /// The best status over the matched services.
    pub status: CapacityStatus,
    pub services: Vec<BackupService>,
}

/// The matched services of `f` as `audience` sees them at `now`.
pub fn assess(
    f: &Facility,
    needs: &[ServiceKind],
    audience: Audience,
    now: OffsetDateTime,
    stale_hours: u32,
) -> Vec<BackupService> {
    f.services
        .iter()
        .filter(|s| needs.contains(&s.kind) && s.status != ServiceStatus::Inactive)
        .map(|s| {
            let status = s
                .capacity
                .as_ref()
                .filter(|c| audience.may_see(c.visibility))
                .map_or(CapacityStatus::Unknown, |c| c.effective(now, stale_hours));
            let rules = s
                .admission_rules
                .as_ref()
                .filter(|r| audience.may_see(r.visibility));
            let route_now = rules.and_then(|r| {
                let route = r.route_now(now)?;
                r.routes.iter().position(|x| std::ptr::eq(x, route))
            });
            BackupService {
                kind: s.kind,
                status,
                requests_open: rules.and_then(|r| r.requests_open(now)),
                route_now,
            }
        })
        .collect()
}

/// Every candidate of `plan` (the needed services within the radius), ranked: best status
/// first, then nearer, then by id (the catalog's order) so the answer is stable.
pub fn rank(
    c: &Catalog,
    plan: &Plan,
    audience: Audience,
    now: OffsetDateTime,
    stale_hours: u32,
) -> Result<Vec<BackupHit>, QueryError> {
    let needs = &plan.query.services;
    let candidates: Vec<(u32, f64)> = match (plan.query.point, plan.query.radius_m) {
        (Some(p), Some(r))
            if plan.query.text.is_none()
                && plan.query.bbox.is_none()
                && plan.query.reaches.is_none() =>
        {
            within(c, &plan.query, p, r)
        }
        _ => c
            .search(&plan.query, 0, usize::MAX)?
            .hits
            .iter()
            .map(|h| (h.ord, h.distance_m.unwrap_or(f64::INFINITY)))
            .collect(),
    };
    let mut hits: Vec<BackupHit> = candidates
        .into_iter()
        .map(|(ord, distance_m)| {
            let services = assess(&c.at(ord), needs, audience, now, stale_hours);
            let status = services
                .iter()
                .map(|s| s.status)
                .min_by_key(|s| s.rank())
                .unwrap_or(CapacityStatus::Unknown);
            BackupHit {
                ord,
                distance_m,
                status,
                services,
            }
        })
        .collect();
    hits.sort_by(|a, b| {
        a.status
            .rank()
            .cmp(&b.status.rank())
            .then(a.distance_m.total_cmp(&b.distance_m))
            .then(a.ord.cmp(&b.ord))
    });
    Ok(hits)
}

/// The placed facilities of the plan's filters within `radius_m` of `p`, with their distances:
/// admitting services are rare (a few in a thousand facilities), so the filter's members are
/// measured directly; a common filter walks the R-tree instead.
fn within(c: &Catalog, q: &super::Query, p: (f64, f64), radius_m: f64) -> Vec<(u32, f64)> {
    let mut filter = super::query::filter_bits(c, q);
    filter.and(&c.located);
    let rare_max = (super::query::RARE_FACTOR * c.len() as f64).sqrt() as usize;
    if filter.count() <= rare_max {
        filter
            .iter()
            .filter_map(|ord| {
                let l = c.entry(ord).location?;
                let d = crate::domain::haversine_m(p, (l.lat, l.lng));
                (d <= radius_m).then_some((ord, d))
            })
            .collect()
    } else {
        c.spatial
            .within(p.0, p.1, radius_m)
            .into_iter()
            .filter(|(ord, _)| filter.contains(*ord))
            .collect()
    }
}
