//! Applying committed edits to a snapshot without rebuilding it: the changed facilities are
//! re-indexed in the text index (one small commit), moved in the R-trees and re-filed in the
//! filter bitsets; new facilities are appended. The old snapshot is untouched, so readers that
//! hold it never see a half-applied change.

use std::sync::Arc;

use super::query::{Bits, FilterSet, Ords};
use super::{
    Catalog, CatalogError, everyday_len_of, formulary_keys, group_ords, name_forms, reach_m,
    reading_key, specialist_roles, text_doc, traits,
};
use crate::domain::{Facility, PharmacyGroup, ServiceKind};

/// A set of ords the snapshot files facilities in.
trait OrdSet: Clone {
    fn empty(n: usize) -> Self;
    fn resize(&mut self, n: usize);
    fn insert(&mut self, ord: u32);
    fn remove(&mut self, ord: u32);
}

impl OrdSet for Bits {
    fn empty(n: usize) -> Self {
        Bits::empty(n)
    }
    fn resize(&mut self, n: usize) {
        Bits::resize(self, n)
    }
    fn insert(&mut self, ord: u32) {
        Bits::insert(self, ord)
    }
    fn remove(&mut self, ord: u32) {
        Bits::remove(self, ord)
    }
}

impl OrdSet for FilterSet {
    fn empty(_: usize) -> Self {
        FilterSet::Sparse(Ords::default())
    }
    fn resize(&mut self, n: usize) {
        FilterSet::resize(self, n)
    }
    fn insert(&mut self, ord: u32) {
        FilterSet::insert(self, ord)
    }
    fn remove(&mut self, ord: u32) {
        FilterSet::remove(self, ord)
    }
}

/// Clear `ord` from every set of the map, then file it under `keys`.
fn refile<K: std::hash::Hash + Eq + Clone, S: OrdSet>(
    map: &mut std::collections::HashMap<K, S>,
    n: usize,
    ord: u32,
    keys: &[K],
) {
    for set in map.values_mut() {
        set.resize(n);
        set.remove(ord);
    }
    for k in keys {
        map.entry(k.clone())
            .or_insert_with(|| S::empty(n))
            .insert(ord);
    }
}

pub(super) fn apply(
    c: &Catalog,
    changed: Vec<Facility>,
    groups: Option<Vec<PharmacyGroup>>,
    change_seq: i64,
) -> Result<Option<Catalog>, CatalogError> {
    // A removal would leave a hole in the ords: rebuild instead (deactivations are rare).
    if changed
        .iter()
        .any(|f| !f.status.is_active() && c.ord_of(&f.id).is_some())
    {
        return Ok(None);
    }
    let changed: Vec<Facility> = changed
        .into_iter()
        .filter(|f| f.status.is_active())
        .collect();
    let mut facilities = c.facilities.clone();
    let mut area_codes = super::records::AreaCodes::default();
    let mut ids = c.ids.clone();
    let mut reading = c.reading.clone();
    let mut reach = c.reach_m.clone();
    let mut names = c.names.clone();
    let mut everyday_len = c.everyday_len.clone();
    // The type-ahead index points into the name forms: its keys move only when a name changes.
    let mut renamed: Vec<u32> = Vec::new();
    let (mut by_kind, mut by_service) = (c.by_kind.clone(), c.by_service.clone());
    let (mut by_area, mut by_muni) = (c.by_area.clone(), c.by_municipality.clone());
    let mut by_formulary = c.by_formulary.clone();
    let mut by_trait = c.by_trait.clone();
    let mut by_specialist = c.by_specialist.clone();
    let mut located = c.located.clone();
    let mut appended = c.appended;
    let (mut removed, mut added, mut docs) = (Vec::new(), Vec::new(), Vec::new());
    for f in changed {
        let ord = match ids.get(&facilities, &f.id).map(|o| o as usize) {
            Some(i) => {
                if let Some(l) = facilities[i].location {
                    removed.push((i as u32, l.lat, l.lng));
                }
                i
            }
            None => {
                let i = facilities.len();
                ids.append(&f.id, i as u32);
                facilities.push(Arc::new(c.dict.entry(&f, &mut area_codes)));
                reading.push(Arc::from(""));
                reach.push(None);
                names.push(String::new());
                everyday_len.push(0);
                appended = true;
                i
            }
        };
        let n = facilities.len();
        let o = ord as u32;
        refile(&mut by_kind, n, o, &[f.kind]);
        let services: Vec<ServiceKind> = ServiceKind::ALL
            .iter()
            .copied()
            .filter(|s| f.offers(*s))
            .collect();
        refile(&mut by_service, n, o, &services);
        refile(&mut by_area, n, o, f.area_code.as_slice());
        refile(&mut by_muni, n, o, f.address.municipality_code.as_slice());
        refile(&mut by_formulary, n, o, &formulary_keys(&f));
        refile(&mut by_trait, n, o, &traits(&f));
        refile(&mut by_specialist, n, o, &specialist_roles(&f));
        located.resize(n);
        located.remove(o);
        if let Some(l) = f.location {
            located.insert(o);
            added.push((o, l.lat, l.lng));
        }
        reading.set(ord, reading_key(&f).into());
        let forms = name_forms(&f);
        if forms != names[ord] {
            renamed.push(o);
            everyday_len.set(ord, everyday_len_of(&forms));
            names.set(ord, forms);
        }
        reach.set(ord, reach_m(&f));
        docs.push(text_doc(o, &f));
        facilities[ord] = Arc::new(c.dict.entry(&f, &mut area_codes));
    }
    let n = facilities.len();
    for set in by_area
        .values_mut()
        .chain(by_muni.values_mut())
        .chain(by_formulary.values_mut())
    {
        set.resize(n);
    }
    for bits in by_kind
        .values_mut()
        .chain(by_service.values_mut())
        .chain(by_trait.values_mut())
        .chain(by_specialist.values_mut())
    {
        bits.resize(n);
    }
    let text = c.text.with_changes(&docs)?;
    let suggest = if renamed.is_empty() {
        c.suggest.clone()
    } else {
        Arc::new(c.suggest.with_changes(&renamed, &facilities, &names))
    };
    let spatial = c.spatial.with_changes(&removed, &added);
    let max_reach_m = reach.iter().flatten().copied().fold(0.0, f64::max);
    // Members are found by id: only new groups or new facilities can change who is found.
    let group_ords = if groups.is_none() && facilities.len() == c.facilities.len() {
        c.group_ords.clone()
    } else {
        group_ords(groups.as_deref().unwrap_or(&c.groups), &ids, &facilities)
    };
    Ok(Some(Catalog {
        group_ords,
        facilities,
        dict: c.dict.clone(),
        decoded: super::records::Cache::default(),
        ids,
        appended,
        areas: c.areas.clone(),
        municipalities: c.municipalities.clone(),
        geocoder: c.geocoder.clone(),
        reading,
        by_kind,
        by_service,
        by_area,
        by_municipality: by_muni,
        by_formulary,
        by_trait,
        by_specialist,
        groups: groups.map(Arc::new).unwrap_or_else(|| c.groups.clone()),
        located,
        text,
        names,
        everyday_len,
        vocabulary: c.vocabulary.clone(),
        suggest,
        spatial,
        reach_m: reach,
        max_reach_m,
        census: c.census.clone(),
        change_seq,
    }))
}
