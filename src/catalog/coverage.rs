//! The coverage report (the gap per 二次医療圏): for an area and a service, how many active
//! providers it has, per 100,000 population, and how much of its population lives farther than
//! a distance from the nearest one — weighted by the 2020 census population of each 町丁・字.
//!
//! Pure functions over a catalog snapshot. A patient crosses the border, so the nearest provider
//! may be in another area; distances are great-circle metres from each small area's
//! representative point ([`haversine_m`]), decided by the R-tree of the service's providers.
//! Populations are summed as integers, so a brute-force count over the census points gives the
//! same numbers exactly.

use std::collections::HashMap;

use super::Catalog;
use super::spatial::{SpatialIndex, haversine_m};
use crate::domain::{CensusArea, Facility, HOME_VISIT_RADIUS_KM, ServiceKind, ServiceStatus};

/// The distance the report measures by default, in km.
pub const DEFAULT_KM: f64 = 10.0;
/// The distances a caller may ask for, in km.
pub const MIN_KM: f64 = 0.5;
pub const MAX_KM: f64 = 100.0;

/// One service in one area.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceCoverage {
    pub service: ServiceKind,
    /// Active providers whose facility is in the area.
    pub providers: usize,
    /// Providers per 100,000 population; `None` when the area has no census population.
    pub per_100k: Option<f64>,
    /// The area's census population (the sum over its small areas).
    pub population: u64,
    /// Population of the small areas farther than `km` from every active provider.
    pub population_farther: u64,
    pub share_farther: Option<f64>,
    /// Home-visit services only: population outside every provider's service area (its
    /// published radius, else the 16 km rule).
    pub population_outside: Option<u64>,
    pub share_outside: Option<f64>,
    /// Small areas of the area for which the census gives no population (not weighed).
    pub towns_without_population: usize,
}

/// Every asked service in one area.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaCoverage {
    pub code: String,
    pub name: String,
    pub population: u64,
    /// Census small areas (町丁・字) in the area, with and without population.
    pub small_areas: usize,
    pub towns_without_population: usize,
    pub services: Vec<ServiceCoverage>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoverageError {
    #[error("no area with code {0}")]
    UnknownArea(String),
    #[error("km must be from {MIN_KM} to {MAX_KM}; got {0}")]
    Distance(f64),
}

/// How far the providers of `service` at a facility reach: `None` when the facility has no
/// active service of that kind; else its published radius, else the 16 km rule (metres).
/// Only home-visit services have a reach; others get `Some(0.0)` (a provider, no circle).
pub fn provider_reach_m(f: &Facility, service: ServiceKind) -> Option<f64> {
    let s = f
        .services
        .iter()
        .find(|s| s.kind == service && s.status == ServiceStatus::Active)?;
    if !service.visits_homes() {
        return Some(0.0);
    }
    Some(s.attributes.radius_km.unwrap_or(HOME_VISIT_RADIUS_KM) * 1000.0)
}

/// Whether a facility is an active provider of `service`.
pub fn provides(f: &Facility, service: ServiceKind) -> bool {
    provider_reach_m(f, service).is_some()
}

/// The located providers of one service: their own R-tree (ord = catalog ord), reach and place.
struct Providers {
    index: SpatialIndex,
    /// Per catalog ord: the reach in metres of a provider, `None` for others.
    reach: Vec<Option<f64>>,
    max_reach_m: f64,
}

impl Providers {
    fn new(catalog: &Catalog, service: ServiceKind) -> Providers {
        // Providers are among the facilities offering the service: decode only those.
        let mut reach: Vec<Option<f64>> = vec![None; catalog.len()];
        if let Some(bits) = catalog.offering(service) {
            for (ord, f) in catalog.members(bits) {
                reach[ord as usize] = provider_reach_m(&f, service);
            }
        }
        let index = SpatialIndex::new((0..catalog.len() as u32).filter_map(|ord| {
            reach[ord as usize]?;
            catalog.entry(ord).location.map(|l| (ord, l.lat, l.lng))
        }));
        let max_reach_m = reach.iter().flatten().copied().fold(0.0, f64::max);
        Providers {
            index,
            reach,
            max_reach_m,
        }
    }

    /// Whether no provider is within `limit_m` of the point.
    fn farther(&self, p: &CensusArea, limit_m: f64) -> bool {
        self.index
            .nearest(p.lat, p.lng, 1, Some(limit_m), |_| true)
            .is_empty()
    }

    /// Whether the point is outside every provider's own circle.
    fn outside(&self, catalog: &Catalog, p: &CensusArea) -> bool {
        self.index
            .nearest(p.lat, p.lng, 1, Some(self.max_reach_m), |ord| {
                let (Some(r), Some(l)) = (self.reach[ord as usize], catalog.entry(ord).location)
                else {
                    return false;
                };
                haversine_m((p.lat, p.lng), (l.lat, l.lng)) <= r
            })
            .is_empty()
    }
}

fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The area code of each region municipality.
fn municipality_areas(catalog: &Catalog) -> HashMap<&str, &str> {
    catalog
        .municipalities()
        .map(|m| (m.code.as_str(), m.area_code.as_str()))
        .collect()
}

fn check_km(km: f64) -> Result<f64, CoverageError> {
    if km.is_finite() && (MIN_KM..=MAX_KM).contains(&km) {
        Ok(km)
    } else {
        Err(CoverageError::Distance(km))
    }
}

/// The coverage of `services` in the area `code`, at `km`.
pub fn area(
    catalog: &Catalog,
    code: &str,
    services: &[ServiceKind],
    km: f64,
) -> Result<AreaCoverage, CoverageError> {
    if catalog.area(code).is_none() {
        return Err(CoverageError::UnknownArea(code.to_string()));
    }
    let mut all = compute(catalog, Some(code), services, check_km(km)?);
    Ok(all.remove(0))
}

/// The coverage of `services` in every area, in area order, at `km`.
pub fn all(
    catalog: &Catalog,
    services: &[ServiceKind],
    km: f64,
) -> Result<Vec<AreaCoverage>, CoverageError> {
    Ok(compute(catalog, None, services, check_km(km)?))
}

/// The areas (all, or only `only`) with their census points, then per service the gaps.
fn compute(
    catalog: &Catalog,
    only: Option<&str>,
    services: &[ServiceKind],
    km: f64,
) -> Vec<AreaCoverage> {
    let areas: Vec<_> = catalog
        .areas()
        .iter()
        .filter(|a| only.is_none_or(|c| c == a.code))
        .collect();
    let slot: HashMap<&str, usize> = areas
        .iter()
        .enumerate()
        .map(|(i, a)| (a.code.as_str(), i))
        .collect();
    let muni_area = municipality_areas(catalog);
    // The census points of each area.
    let mut points: Vec<Vec<&CensusArea>> = vec![Vec::new(); areas.len()];
    for c in catalog.census() {
        if let Some(&i) = muni_area
            .get(c.muni_code.as_str())
            .and_then(|a| slot.get(a))
        {
            points[i].push(c);
        }
    }
    let mut out: Vec<AreaCoverage> = areas
        .iter()
        .zip(&points)
        .map(|(a, pts)| AreaCoverage {
            code: a.code.clone(),
            name: a.name.clone(),
            population: pts.iter().map(|p| p.population).sum(),
            small_areas: pts.len(),
            towns_without_population: pts.iter().filter(|p| !p.has_population()).count(),
            services: Vec::with_capacity(services.len()),
        })
        .collect();
    let limit_m = km * 1000.0;
    for &service in services {
        let providers = Providers::new(catalog, service);
        let mut in_area = vec![0usize; areas.len()];
        for ord in 0..catalog.len() as u32 {
            if let Some(&i) = catalog
                .entry(ord)
                .area_code
                .as_deref()
                .and_then(|a| slot.get(a))
                && providers.reach[ord as usize].is_some()
            {
                in_area[i] += 1;
            }
        }
        for (i, a) in out.iter_mut().enumerate() {
            let weighed = points[i].iter().filter(|p| p.has_population());
            let farther: u64 = weighed
                .clone()
                .filter(|p| providers.farther(p, limit_m))
                .map(|p| p.population)
                .sum();
            let outside: Option<u64> = service.visits_homes().then(|| {
                weighed
                    .filter(|p| providers.outside(catalog, p))
                    .map(|p| p.population)
                    .sum()
            });
            a.services.push(ServiceCoverage {
                service,
                providers: in_area[i],
                per_100k: (a.population > 0)
                    .then(|| in_area[i] as f64 * 100_000.0 / a.population as f64),
                population: a.population,
                population_farther: farther,
                share_farther: share(farther, a.population),
                population_outside: outside,
                share_outside: outside.and_then(|o| share(o, a.population)),
                towns_without_population: a.towns_without_population,
            });
        }
    }
    out
}
