//! The read model: an immutable in-memory snapshot of all published facilities, areas and the
//! geocoder reference, rebuilt from the store and swapped atomically; readers never wait.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::domain::{
    Area, Facility, FacilityKind, HOME_VISIT_RADIUS_KM, Municipality, ServiceKind, ServiceStatus,
};
use crate::geocode::Gazetteer;
use crate::store::{Store, StoreError};

mod cells;
pub mod cluster;
pub mod query;
pub mod spatial;
pub mod text;

pub use query::{Bits, Facet, Hit, Query, QueryError, Results, Sort};

/// Whether the facility currently offers the service (inactive ones are history, not offers).
pub fn offers(f: &Facility, kind: ServiceKind) -> bool {
    f.services
        .iter()
        .any(|s| s.kind == kind && s.status != ServiceStatus::Inactive)
}

/// Counts of one area, per kind and per service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AreaCounts {
    pub facilities: usize,
    pub kinds: BTreeMap<FacilityKind, usize>,
    pub services: BTreeMap<ServiceKind, usize>,
}

pub struct Catalog {
    /// Sorted by id; a facility's index is its `ord` in every index below.
    facilities: Vec<Facility>,
    by_id: HashMap<String, usize>,
    areas: Vec<Area>,
    municipalities: Vec<Municipality>,
    gazetteer: Gazetteer,
    by_kind: HashMap<FacilityKind, Bits>,
    by_service: HashMap<ServiceKind, Bits>,
    by_area: HashMap<String, Bits>,
    by_municipality: HashMap<String, Bits>,
    located: Bits,
    text: text::TextIndex,
    spatial: spatial::SpatialIndex,
    /// Home-visit reach in metres per ord (None: not a home-visit provider).
    reach_m: Vec<Option<f64>>,
    max_reach_m: f64,
    /// The change-log position the snapshot reflects (read before the data, so never ahead).
    change_seq: i64,
}

/// The text a facility is found by: name, reading, service labels, address, notes.
fn text_doc(ord: u32, f: &Facility) -> text::TextDoc {
    let mut services = String::new();
    for s in f
        .services
        .iter()
        .filter(|s| s.status != ServiceStatus::Inactive)
    {
        // The shared labels name clinic and hospital both; index the one that fits, so 在支病
        // finds hospitals and 在支診 clinics only.
        let hospital = f.kind == FacilityKind::Hospital;
        services.push_str(match (s.kind, hospital) {
            (ServiceKind::HomeCareSupport, true) => "在宅療養支援病院",
            (ServiceKind::HomeCareSupport, false) => "在宅療養支援診療所",
            (ServiceKind::EnhancedHomePalliative, true) => "在宅緩和ケア充実病院",
            (ServiceKind::EnhancedHomePalliative, false) => "在宅緩和ケア充実診療所",
            (kind, _) => kind.label_ja(),
        });
        services.push(' ');
        services.push_str(s.kind.label_en());
        if let Some(t) = s.attributes.tier {
            services.push(' ');
            services.push_str(t.label_ja());
        }
        services.push('\n');
    }
    let public_notes = f
        .services
        .iter()
        .filter_map(|s| s.attributes.notes.as_deref())
        .chain(f.notes.as_deref())
        .collect::<Vec<_>>()
        .join("\n");
    text::TextDoc {
        ord,
        name: f.name.clone(),
        kana: f.name_kana.clone().unwrap_or_default(),
        services,
        address: format!(
            "{} {}",
            f.address.text,
            f.address.municipality.as_deref().unwrap_or("")
        ),
        notes: public_notes,
        cells: f
            .location
            .map(|l| cells::of_point(l.lat, l.lng))
            .unwrap_or_default(),
    }
}

/// Morton (Z-order) key of a location on a 2^16 × 2^16 lon/lat grid; unplaced sort last.
fn z_order(location: Option<crate::domain::LatLng>) -> u64 {
    let Some(l) = location else { return u64::MAX };
    let q = |v: f64, lo: f64, span: f64| (((v - lo) / span).clamp(0.0, 1.0) * 65535.0) as u64;
    let (x, y) = (q(l.lng, -180.0, 360.0), q(l.lat, -90.0, 180.0));
    (0..16).fold(0, |k, b| {
        k | ((x >> b) & 1) << (2 * b) | ((y >> b) & 1) << (2 * b + 1)
    })
}

/// How far a facility's home visits reach: its published radius, else the 16 km rule.
fn reach_m(f: &Facility) -> Option<f64> {
    f.services
        .iter()
        .filter(|s| s.status != ServiceStatus::Inactive && s.kind.visits_homes())
        .map(|s| s.attributes.radius_km.unwrap_or(HOME_VISIT_RADIUS_KM) * 1000.0)
        .reduce(f64::max)
}

impl Catalog {
    pub fn new(
        mut facilities: Vec<Facility>,
        areas: Vec<Area>,
        municipalities: Vec<Municipality>,
        gazetteer: Gazetteer,
    ) -> Result<Catalog, CatalogError> {
        facilities.sort_by(|a, b| a.id.cmp(&b.id));
        let n = facilities.len();
        let by_id = facilities
            .iter()
            .enumerate()
            .map(|(i, f)| (f.id.clone(), i))
            .collect();
        let mut by_kind: HashMap<FacilityKind, Bits> = HashMap::new();
        let mut by_service: HashMap<ServiceKind, Bits> = HashMap::new();
        let mut by_area: HashMap<String, Bits> = HashMap::new();
        let mut by_municipality: HashMap<String, Bits> = HashMap::new();
        let mut located = Bits::empty(n);
        for (i, f) in facilities.iter().enumerate() {
            let ord = i as u32;
            by_kind
                .entry(f.kind)
                .or_insert_with(|| Bits::empty(n))
                .insert(ord);
            for s in ServiceKind::ALL {
                if offers(f, *s) {
                    by_service
                        .entry(*s)
                        .or_insert_with(|| Bits::empty(n))
                        .insert(ord);
                }
            }
            if let Some(a) = &f.area_code {
                by_area
                    .entry(a.clone())
                    .or_insert_with(|| Bits::empty(n))
                    .insert(ord);
            }
            if let Some(m) = &f.address.municipality_code {
                by_municipality
                    .entry(m.clone())
                    .or_insert_with(|| Bits::empty(n))
                    .insert(ord);
            }
            if f.location.is_some() {
                located.insert(ord);
            }
        }
        // Documents go into the index in Z-order of their location, so the documents of one
        // spatial cell sit close together in the postings and a text query near a point skips
        // whole blocks instead of stepping through every match.
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_by_key(|&i| (z_order(facilities[i as usize].location), i));
        let text =
            text::TextIndex::build(order.iter().map(|&i| text_doc(i, &facilities[i as usize])))?;
        let spatial = spatial::SpatialIndex::new(
            facilities
                .iter()
                .enumerate()
                .filter_map(|(i, f)| f.location.map(|l| (i as u32, l.lat, l.lng))),
        );
        let reach: Vec<Option<f64>> = facilities.iter().map(reach_m).collect();
        let max_reach_m = reach.iter().flatten().copied().fold(0.0, f64::max);
        Ok(Catalog {
            facilities,
            by_id,
            areas,
            municipalities,
            gazetteer,
            by_kind,
            by_service,
            by_area,
            by_municipality,
            located,
            text,
            spatial,
            reach_m: reach,
            max_reach_m,
            change_seq: 0,
        })
    }

    pub fn ord_of(&self, id: &str) -> Option<u32> {
        self.by_id.get(id).map(|&i| i as u32)
    }

    /// The facility at `ord`.
    pub fn at(&self, ord: u32) -> &Facility {
        &self.facilities[ord as usize]
    }

    /// Build a snapshot of everything the store holds.
    pub fn from_store(store: &Store) -> Result<Catalog, CatalogError> {
        let change_seq = store.latest_change()?;
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
        let mut catalog = Catalog::new(store.facilities()?, areas, municipalities, gazetteer)?;
        catalog.change_seq = change_seq;
        Ok(catalog)
    }

    /// The change-log position this snapshot reflects.
    pub fn change_seq(&self) -> i64 {
        self.change_seq
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

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot build the text index: {0}")]
    Text(#[from] text::TextError),
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
