//! The compact read-model record of one facility: the few fields that queries test for many
//! facilities at once (kind, placement, location, area, weekly hours, id and name) kept plain,
//! and the whole facility kept as its JSON compressed with LZ4 against a dictionary shared by
//! the snapshot. A facility's JSON repeats what every other facility says (field names,
//! provenance, service labels), so the dictionary — the last 64 KiB of sample records — turns
//! most of a record into back-references: at 300,000 facilities the records take a few dozen
//! megabytes where the decoded facilities took over a gigabyte. A page of results decodes
//! only the facilities it shows (a few microseconds each).

use std::sync::Arc;

use crate::domain::schedule::Period;
use crate::domain::{
    Facility, FacilityKind, HomeCareTier, LatLng, Placement, ServiceKind, ServiceStatus,
};

/// The dictionary's size. LZ4 could refer to 64 KiB, but compressing hashes the whole
/// dictionary for every record: 8 KiB (a dozen typical records) keeps building fast.
const DICTIONARY_BYTES: usize = 8 * 1024;

/// Decoded facilities a snapshot keeps (the most recently used), so the facilities that many
/// queries look at — the rare services, the pages people open — decode once. A decoded
/// facility takes a few KB: 4,096 of them bound the cache at some 16 MB.
const CACHED: usize = 4_096;

/// How many sample records the dictionary is made of, at most.
const DICTIONARY_SAMPLES: usize = 256;

/// The hot fields of one facility and its compressed whole.
#[derive(Debug)]
pub struct Entry {
    pub id: Box<str>,
    pub name: Box<str>,
    pub kind: FacilityKind,
    pub placement: Placement,
    pub location: Option<LatLng>,
    /// 二次医療圏 code, shared between the entries of one area.
    pub area_code: Option<Arc<str>>,
    /// Weekly opening hours (empty when not known), for `open_now` over many facilities.
    pub open: Box<[Period]>,
    /// Whether the facility lists partners (連携先), so "who lists me" decodes only those.
    pub has_partners: bool,
    /// [`Facility::reachable_after_hours`].
    pub after_hours: Option<bool>,
    /// Its active services that make it a care-team provider, with what the ranking reads.
    pub offers: Box<[Offer]>,
    /// The facility's optimistic-concurrency version (not part of its JSON).
    version: i64,
    /// Length of the JSON before compression.
    raw_len: u32,
    packed: Box<[u8]>,
}

/// One active service of a facility as the care team ranks providers by it: its kind, its
/// published home-visit radius and its 在支診 tier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Offer {
    pub kind: ServiceKind,
    pub tier: Option<HomeCareTier>,
    pub radius_km: Option<f64>,
}

/// The offers of `f`: its active services of the kinds in `kept`.
pub fn offers(f: &Facility, kept: impl Fn(ServiceKind) -> bool) -> Box<[Offer]> {
    f.services
        .iter()
        .filter(|s| s.status == ServiceStatus::Active && kept(s.kind))
        .map(|s| Offer {
            kind: s.kind,
            tier: s.attributes.tier,
            radius_km: s.attributes.radius_km,
        })
        .collect()
}

/// The dictionary of a snapshot: sample records, most typical last (LZ4 prefers near matches).
#[derive(Debug, Clone)]
pub struct Dictionary(Arc<[u8]>);

impl Dictionary {
    /// A dictionary from facilities spread over `facilities` (the last of up to
    /// [`DICTIONARY_SAMPLES`], as many as fit).
    pub fn sample(facilities: &[&Facility]) -> Dictionary {
        let step = facilities.len().div_ceil(DICTIONARY_SAMPLES).max(1);
        let mut bytes = Vec::with_capacity(DICTIONARY_BYTES);
        for f in facilities.iter().step_by(step) {
            if let Ok(json) = serde_json::to_vec(f) {
                bytes.extend_from_slice(&json);
            }
        }
        let keep = bytes.len().saturating_sub(DICTIONARY_BYTES);
        Dictionary(Arc::from(&bytes[keep..]))
    }

    /// Pack one facility.
    pub fn entry(&self, f: &Facility, areas: &mut AreaCodes) -> Entry {
        let json = serde_json::to_vec(f).expect("a facility always serializes");
        Entry {
            id: f.id.as_str().into(),
            name: f.name.as_str().into(),
            kind: f.kind,
            placement: f.placement,
            location: f.location,
            area_code: f.area_code.as_deref().map(|a| areas.intern(a)),
            open: f.hours.open.clone().into_boxed_slice(),
            has_partners: !f.partners.is_empty(),
            after_hours: f.reachable_after_hours(),
            offers: offers(f, super::team::provides),
            version: f.version,
            raw_len: json.len() as u32,
            packed: lz4_flex::block::compress_with_dict(&json, &self.0).into_boxed_slice(),
        }
    }

    /// The facility an entry of this dictionary holds.
    pub fn facility(&self, e: &Entry) -> Facility {
        let json = lz4_flex::block::decompress_with_dict(&e.packed, e.raw_len as usize, &self.0)
            .expect("an entry decompresses with the dictionary it was packed with");
        let mut f: Facility =
            serde_json::from_slice(&json).expect("an entry holds a facility's JSON");
        f.version = e.version;
        f
    }
}

/// The recently decoded facilities of a snapshot.
pub struct Cache(std::sync::Mutex<lru::LruCache<u32, Arc<Facility>>>);

impl Default for Cache {
    fn default() -> Self {
        Cache(std::sync::Mutex::new(lru::LruCache::new(
            std::num::NonZeroUsize::new(CACHED).expect("non-zero"),
        )))
    }
}

impl Cache {
    /// The facility at `ord`, decoded by `decode` unless recently used.
    pub fn get_or(&self, ord: u32, decode: impl FnOnce() -> Facility) -> Arc<Facility> {
        if let Some(f) = self.0.lock().ok().and_then(|mut c| c.get(&ord).cloned()) {
            return f;
        }
        let f = Arc::new(decode());
        if let Ok(mut c) = self.0.lock() {
            c.put(ord, f.clone());
        }
        f
    }
}

/// Area codes shared between entries.
#[derive(Debug, Default)]
pub struct AreaCodes(std::collections::HashMap<String, Arc<str>>);

impl AreaCodes {
    pub fn intern(&mut self, code: &str) -> Arc<str> {
        if let Some(a) = self.0.get(code) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(code);
        self.0.insert(code.to_string(), a.clone());
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Address, Provenance};

    fn facility(id: &str, name: &str) -> Facility {
        Facility {
            id: id.into(),
            kind: FacilityKind::Pharmacy,
            name: name.into(),
            name_kana: None,
            identifiers: Default::default(),
            address: Address {
                prefecture: "埼玉県".into(),
                text: "埼玉県さいたま市浦和区領家５－１０－１５".into(),
                ..Default::default()
            },
            location: Some(LatLng {
                lat: 35.87,
                lng: 139.65,
            }),
            placement: Placement::Town,
            area_code: Some("1104".into()),
            contacts: vec![],
            hours: Default::default(),
            after_hours: None,
            specialists: None,
            consultations: vec![],
            gathering: None,
            partners: vec![],
            url: None,
            notes: Some("訪問薬剤管理".into()),
            services: vec![],
            provenance: Provenance::dataset("kouseikyoku-todokede", "2025-09-01"),
            updated_at: "2025-09-01".into(),
            verified_at: None,
            verified_by: None,
            status: Default::default(),
            version: 7,
        }
    }

    #[test]
    fn an_entry_gives_back_the_facility_and_its_version() {
        let all: Vec<Facility> = (0..50)
            .map(|i| facility(&format!("hic-{i:010}"), &format!("みどり薬局 {i}号店")))
            .collect();
        let dict = Dictionary::sample(&all.iter().collect::<Vec<_>>());
        let mut areas = AreaCodes::default();
        for f in &all {
            let e = dict.entry(f, &mut areas);
            assert_eq!(dict.facility(&e), *f);
            assert_eq!(dict.facility(&e).version, 7);
            assert_eq!(&*e.id, f.id);
            assert_eq!(e.area_code.as_deref(), Some("1104"));
            // The dictionary holds records like it: most of this one is back-references.
            assert!(
                e.packed.len() * 3 < e.raw_len as usize,
                "{} of {}",
                e.packed.len(),
                e.raw_len
            );
        }
    }

    #[test]
    fn a_facility_unlike_the_dictionary_still_round_trips() {
        let dict = Dictionary::sample(&[]);
        let mut f = facility("gen-1", "【合成】どこにもない診療所");
        f.notes = Some("改行\nと \"引用\" と絵文字 🏥".into());
        let e = dict.entry(&f, &mut AreaCodes::default());
        assert_eq!(dict.facility(&e), f);
    }
}
