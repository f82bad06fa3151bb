//! The read model: an immutable in-memory snapshot of all published facilities, areas and the
//! geocoder reference, rebuilt from the store and swapped atomically; readers never wait.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::domain::{Area, Facility, FacilityKind, Municipality, ServiceKind, ServiceStatus};
use crate::geocode::Gazetteer;
use crate::store::{Store, StoreError};

/// Filters of a facility list. Within one filter values are ORed; filters are ANDed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub kinds: Vec<FacilityKind>,
    pub services: Vec<ServiceKind>,
    pub areas: Vec<String>,
    pub municipalities: Vec<String>,
}

impl Filter {
    pub fn matches(&self, f: &Facility) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&f.kind))
            && (self.services.is_empty() || self.services.iter().any(|s| offers(f, *s)))
            && (self.areas.is_empty()
                || f.area_code.as_ref().is_some_and(|a| self.areas.contains(a)))
            && (self.municipalities.is_empty()
                || f.address
                    .municipality_code
                    .as_ref()
                    .is_some_and(|m| self.municipalities.contains(m)))
    }
}

/// Whether the facility currently offers the service (inactive ones are history, not offers).
pub fn offers(f: &Facility, kind: ServiceKind) -> bool {
    f.services
        .iter()
        .any(|s| s.kind == kind && s.status != ServiceStatus::Inactive)
}

/// One page of a list in id order.
#[derive(Debug)]
pub struct Page<'a> {
    pub total: usize,
    pub items: Vec<&'a Facility>,
    /// The id after which the next page starts, when there is one.
    pub next_after: Option<String>,
}

/// Counts of one area, per kind and per service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AreaCounts {
    pub facilities: usize,
    pub kinds: BTreeMap<FacilityKind, usize>,
    pub services: BTreeMap<ServiceKind, usize>,
}

pub struct Catalog {
    facilities: Vec<Facility>,
    by_id: HashMap<String, usize>,
    areas: Vec<Area>,
    municipalities: Vec<Municipality>,
    gazetteer: Gazetteer,
}

impl Catalog {
    pub fn new(
        mut facilities: Vec<Facility>,
        areas: Vec<Area>,
        municipalities: Vec<Municipality>,
        gazetteer: Gazetteer,
    ) -> Catalog {
        facilities.sort_by(|a, b| a.id.cmp(&b.id));
        let by_id = facilities
            .iter()
            .enumerate()
            .map(|(i, f)| (f.id.clone(), i))
            .collect();
        Catalog {
            facilities,
            by_id,
            areas,
            municipalities,
            gazetteer,
        }
    }

    /// Build a snapshot of everything the store holds.
    pub fn from_store(store: &Store) -> Result<Catalog, StoreError> {
        let areas = store.areas()?;
        let municipalities = store.municipalities()?;
        let towns = store.towns()?;
        let pref_names: HashMap<String, String> = areas
            .iter()
            .map(|a| (a.pref_code.clone(), a.prefecture.clone()))
            .collect();
        let munis = municipalities
            .iter()
            .map(|m| crate::geocode::MuniRef {
                code: m.code.clone(),
                prefecture: pref_names.get(&m.pref_code).cloned().unwrap_or_default(),
                name: m.name.clone(),
                area_code: Some(m.area_code.clone()),
            })
            .collect();
        let gazetteer = Gazetteer::new(munis, towns);
        Ok(Catalog::new(
            store.facilities()?,
            areas,
            municipalities,
            gazetteer,
        ))
    }

    pub fn len(&self) -> usize {
        self.facilities.len()
    }

    pub fn is_empty(&self) -> bool {
        self.facilities.is_empty()
    }

    pub fn facilities(&self) -> &[Facility] {
        &self.facilities
    }

    pub fn get(&self, id: &str) -> Option<&Facility> {
        self.by_id.get(id).map(|&i| &self.facilities[i])
    }

    pub fn areas(&self) -> &[Area] {
        &self.areas
    }

    pub fn area(&self, code: &str) -> Option<&Area> {
        self.areas.iter().find(|a| a.code == code)
    }

    pub fn municipalities(&self) -> &[Municipality] {
        &self.municipalities
    }

    pub fn gazetteer(&self) -> &Gazetteer {
        &self.gazetteer
    }

    /// Facilities matching `filter`, in id order, `limit` of them after the id `after`.
    pub fn list(&self, filter: &Filter, limit: usize, after: Option<&str>) -> Page<'_> {
        let start = match after {
            Some(a) => self.facilities.partition_point(|f| f.id.as_str() <= a),
            None => 0,
        };
        let mut total = 0;
        let mut items = Vec::with_capacity(limit);
        let mut more = false;
        for (i, f) in self.facilities.iter().enumerate() {
            if !filter.matches(f) {
                continue;
            }
            total += 1;
            if i >= start {
                if items.len() < limit {
                    items.push(f);
                } else {
                    more = true;
                }
            }
        }
        let next_after = if more {
            items.last().map(|f| f.id.clone())
        } else {
            None
        };
        Page {
            total,
            items,
            next_after,
        }
    }

    /// Counts per area (keyed by area code), per kind and per service.
    pub fn area_counts(&self) -> BTreeMap<String, AreaCounts> {
        let mut out: BTreeMap<String, AreaCounts> = self
            .areas
            .iter()
            .map(|a| (a.code.clone(), AreaCounts::default()))
            .collect();
        for f in &self.facilities {
            let Some(c) = f.area_code.as_ref().and_then(|a| out.get_mut(a)) else {
                continue;
            };
            c.facilities += 1;
            *c.kinds.entry(f.kind).or_default() += 1;
            for s in ServiceKind::ALL {
                if offers(f, *s) {
                    *c.services.entry(*s).or_default() += 1;
                }
            }
        }
        out
    }
}

/// The current snapshot, swapped atomically after writes.
#[derive(Clone)]
pub struct CatalogHandle(Arc<ArcSwap<Catalog>>);

impl CatalogHandle {
    pub fn new(catalog: Catalog) -> Self {
        CatalogHandle(Arc::new(ArcSwap::from_pointee(catalog)))
    }

    pub fn load(&self) -> Arc<Catalog> {
        self.0.load_full()
    }

    pub fn replace(&self, catalog: Catalog) {
        self.0.store(Arc::new(catalog));
    }
}
