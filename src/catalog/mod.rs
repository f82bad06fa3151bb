//! The read model: an immutable in-memory snapshot of all published facilities and areas, with
//! its text and spatial indexes and the planner that turns a search request into work on them.
//! Knows only `domain`: the application (`crate::app`) builds it from the store and hands it a
//! geocoder; the HTTP layer asks it through [`SearchRequest`] and [`Plan`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use self::chunked::Chunked;

use arc_swap::ArcSwap;

use crate::domain::CensusArea;
use crate::domain::{
    Area, ContactKind, Drug, Facility, FacilityKind, Form, Geocoder, HOME_VISIT_RADIUS_KM,
    Municipality, PharmacyGroup, ServiceKind, ServiceStatus, Stock, Visibility, ja,
};

pub mod abbreviations;
pub mod backup;
mod chunked;
pub mod cluster;
pub mod coverage;
pub mod layers;
pub mod plan;
pub mod query;
pub mod records;
mod relax;
mod scratch;
pub mod spatial;
pub mod suggest;
pub mod team;
pub mod text;
pub mod understand;
mod update;

pub use backup::{BackupHit, BackupService};

pub use plan::{Cursor, Execution, Plan, PlanError, SearchRequest};
pub use query::{Bits, Facet, FilterSet, FormularyFilter, Hit, Query, QueryError, Results, Sort};
pub use suggest::{Suggestion, Suggestions};

/// Counts of one area, per kind and per service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AreaCounts {
    pub facilities: usize,
    pub kinds: BTreeMap<FacilityKind, usize>,
    pub services: BTreeMap<ServiceKind, usize>,
}

pub struct Catalog {
    /// Sorted by id when built; facilities added later by [`Catalog::apply`] are appended
    /// (see `appended`). A facility's index is its `ord` in every index below. Compact
    /// records ([`records::Entry`]): the hot fields plain, the whole facility compressed.
    facilities: Vec<Arc<records::Entry>>,
    /// What the records are compressed against (shared by the snapshots that follow).
    dict: records::Dictionary,
    /// Recently decoded records of this snapshot.
    decoded: records::Cache,
    /// Ids to ords (the records themselves, searched, and the few appended since).
    ids: Ids,
    /// Whether ords are no longer in id order (a facility was added incrementally).
    appended: bool,
    areas: Vec<Area>,
    /// Every municipality the dataset names, the region's and the geocoder reference's.
    municipalities: Vec<Municipality>,
    geocoder: Arc<dyn Geocoder>,
    /// 五十音順 key per ord: the folded reading, else the folded name.
    reading: Chunked<Arc<str>>,
    by_kind: HashMap<FacilityKind, Bits>,
    by_service: HashMap<ServiceKind, Bits>,
    /// Sets of a few hundred members each, mostly: stored the smaller way ([`FilterSet`]).
    by_area: HashMap<String, FilterSet>,
    by_municipality: HashMap<String, FilterSet>,
    /// Pharmacies by formulary line: drug × form × the formulary's visibility × the least
    /// stock the line meets (a line in stock is filed under `Always` and `Order`).
    by_formulary: HashMap<FormularyKey, FilterSet>,
    /// Facilities by a public trait (reachable after hours, weekly hours known).
    by_trait: HashMap<Trait, Bits>,
    /// Facilities counting at least one specialist of a role.
    by_specialist: HashMap<crate::domain::SpecialistRole, Bits>,
    /// Pharmacy groups (麻薬小売業者間譲渡許可), shared between snapshots until one changes.
    groups: Arc<Vec<PharmacyGroup>>,
    /// Per group, the ords of its members in this snapshot.
    group_ords: Vec<Vec<u32>>,
    located: Bits,
    text: text::TextIndex,
    /// Per ord: the everyday name, the official name, the reading and the everyday name's
    /// reading, each compacted ([`ja::compact`]), joined by [`NAME_SEP`]: what fuzzy, name and
    /// type-ahead matches compare with.
    names: Chunked<String>,
    /// Per ord: characters in the compact everyday name (capped at 255), for cheap name tests.
    everyday_len: Chunked<u8>,
    /// Places and service words of this catalog, for understanding queries.
    vocabulary: understand::Vocabulary,
    /// Shared between snapshots until a name changes.
    suggest: Arc<suggest::SuggestIndex>,
    spatial: spatial::SpatialIndex,
    /// Home-visit reach in metres per ord (None: not a home-visit provider).
    reach_m: Chunked<Option<f64>>,
    max_reach_m: f64,
    /// The 2020 census small areas (coverage weights), shared between snapshots.
    census: Arc<Vec<CensusArea>>,
    /// The change-log position the snapshot reflects (read before the data, so never ahead).
    change_seq: i64,
}

/// What a snapshot is made of.
pub struct CatalogParts {
    pub facilities: Vec<Facility>,
    pub areas: Vec<Area>,
    pub municipalities: Vec<Municipality>,
    pub geocoder: Arc<dyn Geocoder>,
    pub groups: Vec<PharmacyGroup>,
    /// 2020 census small areas, the coverage report's weights (may be empty).
    pub census: Vec<CensusArea>,
    /// The change-log position the data was read at.
    pub change_seq: i64,
}

/// A public trait a search can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trait {
    /// Reachable after hours ([`Facility::reachable_after_hours`]).
    AfterHours,
    /// Weekly opening hours known (`hours.open`), so `open_now` can be answered.
    HoursKnown,
}

/// Facility ids to ords. A snapshot is built in id order, so its records are searched by id
/// (no map repeating 300,000 ids); facilities added later by [`Catalog::apply`] are appended
/// after them and found in a small map. Ids never change, so the sorted part stays sorted.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ids {
    /// Records `..sorted` are in id order.
    sorted: usize,
    appended: Arc<HashMap<String, u32>>,
}

impl Ids {
    fn get(&self, entries: &[Arc<records::Entry>], id: &str) -> Option<u32> {
        entries[..self.sorted]
            .binary_search_by(|e| (*e.id).cmp(id))
            .ok()
            .map(|i| i as u32)
            .or_else(|| self.appended.get(id).copied())
    }

    /// Record that `id` was appended at `ord`.
    fn append(&mut self, id: &str, ord: u32) {
        Arc::make_mut(&mut self.appended).insert(id.to_string(), ord);
    }
}

/// The member ords of each group (members not in the snapshot left out).
fn group_ords(
    groups: &[PharmacyGroup],
    ids: &Ids,
    entries: &[Arc<records::Entry>],
) -> Vec<Vec<u32>> {
    groups
        .iter()
        .map(|g| {
            g.members
                .iter()
                .filter_map(|m| ids.get(entries, m))
                .collect()
        })
        .collect()
}

/// The roles a facility counts at least one specialist of.
fn specialist_roles(f: &Facility) -> Vec<crate::domain::SpecialistRole> {
    crate::domain::SpecialistRole::ALL
        .iter()
        .copied()
        .filter(|r| f.specialists.as_ref().is_some_and(|s| s.has(*r)))
        .collect()
}

fn traits(f: &Facility) -> Vec<Trait> {
    let mut t = Vec::new();
    if f.reachable_after_hours() == Some(true) {
        t.push(Trait::AfterHours);
    }
    if !f.hours.open.is_empty() {
        t.push(Trait::HoursKnown);
    }
    t
}

/// Separates the compact name forms in [`Catalog::names`].
const NAME_SEP: char = '\u{1}';

/// The compact name forms of a facility: everyday name, official name, reading, everyday
/// reading.
/// Characters in the compact everyday name (the first of the name forms), capped at 255.
fn everyday_len_of(names: &str) -> u8 {
    names
        .split(NAME_SEP)
        .next()
        .unwrap_or("")
        .chars()
        .count()
        .min(255) as u8
}

fn name_forms(f: &Facility) -> String {
    let everyday = ja::compact(&ja::everyday_name(&f.name));
    let full = ja::compact(&f.name);
    let reading = ja::compact(f.name_kana.as_deref().unwrap_or(""));
    let everyday_reading = ja::everyday_reading(&reading);
    let mut forms =
        format!("{everyday}{NAME_SEP}{full}{NAME_SEP}{reading}{NAME_SEP}{everyday_reading}");
    // Kept for every facility: no spare capacity.
    forms.shrink_to_fit();
    forms
}

/// The exact tags a facility is found by: the services it offers, its kind, municipality,
/// postal code and **public** phone numbers (never FAX numbers or non-public contacts).
fn tags(f: &Facility) -> Vec<String> {
    let mut tags = vec![format!("kind:{}", f.kind.code())];
    for s in ServiceKind::ALL {
        if f.offers(*s) {
            tags.push(format!("svc:{}", s.code()));
        }
    }
    if let Some(m) = &f.address.municipality_code {
        tags.push(format!("muni:{m}"));
    }
    if let Some(p) = &f.address.postal_code {
        tags.push(format!("postal:{}", ja::digits(p)));
    }
    for c in &f.contacts {
        if c.kind == ContactKind::Phone && c.visibility == Visibility::Public {
            tags.extend(understand::phone_tags(&c.value));
        }
    }
    tags
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
        .flat_map(|s| {
            let a = &s.attributes;
            [
                a.notes.as_deref(),
                a.specialty.as_deref(),
                a.conditions.as_deref(),
            ]
        })
        .flatten()
        .chain(f.notes.as_deref())
        .map(str::to_string)
        // A window is found by what it answers (セカンドオピニオン, 在宅療養の相談), a group by
        // its kind, host and who may come; the routes' values are not searchable text.
        .chain(f.consultations.iter().map(|c| c.search_text()))
        .chain(f.gathering.iter().map(|g| {
            [
                Some(g.kind.label_ja()),
                Some(g.host.name.as_str()),
                g.who.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
        }))
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
        tags: tags(f),
    }
}

/// Where a formulary line is filed in [`Catalog::by_formulary`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FormularyKey {
    drug: Drug,
    form: Form,
    visibility: Visibility,
    stock: Stock,
}

/// The formulary keys of a facility: every line of an offered service's formulary, under each
/// stock level it meets.
fn formulary_keys(f: &Facility) -> Vec<FormularyKey> {
    let mut keys = Vec::new();
    for s in f
        .services
        .iter()
        .filter(|s| s.status != ServiceStatus::Inactive)
    {
        for e in &s.attributes.formulary {
            for stock in [Stock::Always, Stock::Order] {
                if e.stock.meets(stock) {
                    keys.push(FormularyKey {
                        drug: e.drug,
                        form: e.form,
                        visibility: s.attributes.formulary_visibility,
                        stock,
                    });
                }
            }
        }
    }
    keys.sort_by_key(|k| (k.drug, k.form, k.visibility as u8, k.stock));
    keys.dedup();
    keys
}

/// How far a facility's home visits reach: its published radius, else the 16 km rule.
fn reach_m(f: &Facility) -> Option<f64> {
    f.services
        .iter()
        .filter(|s| s.status != ServiceStatus::Inactive && s.kind.visits_homes())
        .map(|s| s.attributes.radius_km.unwrap_or(HOME_VISIT_RADIUS_KM) * 1000.0)
        .reduce(f64::max)
}

/// The 五十音順 sort key of a facility: its reading folded (NFKC, katakana → hiragana), with
/// the folded name when no reading is published.
pub fn reading_key(f: &Facility) -> String {
    text::normalize(
        f.name_kana
            .as_deref()
            .filter(|k| !k.is_empty())
            .unwrap_or(&f.name),
    )
}

/// Facilities buffered before the records' dictionary is sampled from them.
const DICTIONARY_WINDOW: usize = 4096;

/// Builds a snapshot from facilities pushed one at a time in id order, keeping only their
/// compact records and what the indexes need: the store streams them in batches, so the
/// decoded facilities of the whole region are never in memory at once.
#[derive(Default)]
pub struct CatalogBuilder {
    /// Facilities waiting for the dictionary (the first [`DICTIONARY_WINDOW`]).
    pending: Vec<Prepared>,
    dict: Option<records::Dictionary>,
    area_codes: records::AreaCodes,
    entries: Vec<Arc<records::Entry>>,
    by_kind: HashMap<FacilityKind, Vec<u32>>,
    by_service: HashMap<ServiceKind, Vec<u32>>,
    by_area: HashMap<String, Vec<u32>>,
    by_municipality: HashMap<String, Vec<u32>>,
    by_formulary: HashMap<FormularyKey, Vec<u32>>,
    by_trait: HashMap<Trait, Vec<u32>>,
    by_specialist: HashMap<crate::domain::SpecialistRole, Vec<u32>>,
    located: Vec<u32>,
    /// The text index, written as facilities are pushed (none with a saved one).
    text: Option<text::TextBuilder>,
    /// The first failure to index a document, reported by [`CatalogBuilder::finish`].
    text_failed: Option<text::TextError>,
    points: Vec<(u32, f64, f64)>,
    reach: Vec<Option<f64>>,
    reading: Vec<Arc<str>>,
    names: Vec<String>,
    /// The last id pushed: pushes must come in strictly increasing id order.
    last_id: Option<String>,
    /// A text index saved at the position being read, used instead of indexing `docs`.
    saved_text: Option<text::TextIndex>,
}

fn file<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Vec<u32>>, key: K, ord: u32) {
    map.entry(key).or_default().push(ord);
}

fn to_sets<K: std::hash::Hash + Eq>(map: HashMap<K, Vec<u32>>, n: usize) -> HashMap<K, FilterSet> {
    map.into_iter()
        .map(|(k, ords)| (k, FilterSet::new(n, ords)))
        .collect()
}

fn to_bits<K: std::hash::Hash + Eq>(map: HashMap<K, Vec<u32>>, n: usize) -> HashMap<K, Bits> {
    map.into_iter()
        .map(|(k, ords)| {
            let mut b = Bits::empty(n);
            ords.into_iter().for_each(|o| b.insert(o));
            (k, b)
        })
        .collect()
}

/// A facility with what the text index and the name matches need of it, worked out before it
/// is pushed ([`CatalogBuilder::prepare`]): pure, so another thread can do it.
pub struct Prepared {
    f: Facility,
    /// `None` when the builder has a saved text index.
    doc: Option<text::TextDoc>,
    names: String,
    reading: Arc<str>,
}

impl CatalogBuilder {
    /// What [`CatalogBuilder::push_prepared`] needs of `f`, independent of the builder.
    pub fn prepare(f: Facility) -> Prepared {
        Prepared {
            doc: Some(text_doc(0, &f)),
            ..Self::prepare_without_text(f)
        }
    }

    /// [`CatalogBuilder::prepare`] for a builder given a saved text index.
    pub fn prepare_without_text(f: Facility) -> Prepared {
        Prepared {
            doc: None,
            names: name_forms(&f),
            reading: reading_key(&f).into(),
            f,
        }
    }

    /// A builder whose snapshot searches `text`, a saved index of the facilities about to be
    /// pushed (prepared with [`CatalogBuilder::prepare_without_text`]). Should it not hold as
    /// many documents as were pushed, the facilities are indexed after all.
    pub fn with_saved_text(text: text::TextIndex) -> CatalogBuilder {
        CatalogBuilder {
            saved_text: Some(text),
            ..CatalogBuilder::default()
        }
    }

    /// Whether the snapshot will search a saved text index.
    pub fn has_saved_text(&self) -> bool {
        self.saved_text.is_some()
    }

    /// Add the next facility; `Err` gives it back when its id is not after the last one's.
    #[allow(clippy::result_large_err)]
    pub fn push(&mut self, f: Facility) -> Result<(), Facility> {
        self.push_prepared(Self::prepare(f))
    }

    /// [`CatalogBuilder::push`] of a facility prepared already.
    #[allow(clippy::result_large_err)]
    pub fn push_prepared(&mut self, p: Prepared) -> Result<(), Facility> {
        if self
            .last_id
            .as_deref()
            .is_some_and(|l| l >= p.f.id.as_str())
        {
            return Err(p.f);
        }
        self.last_id = Some(p.f.id.clone());
        if self.dict.is_none() {
            self.pending.push(p);
            if self.pending.len() >= DICTIONARY_WINDOW {
                self.seal();
            }
            return Ok(());
        }
        self.index(p);
        Ok(())
    }

    /// Sample the dictionary from the pending facilities and index them.
    fn seal(&mut self) {
        let sample: Vec<&Facility> = self.pending.iter().map(|p| &p.f).collect();
        self.dict = Some(records::Dictionary::sample(&sample));
        for p in std::mem::take(&mut self.pending) {
            self.index(p);
        }
    }

    fn index(&mut self, p: Prepared) {
        let Prepared {
            f,
            doc,
            names,
            reading,
        } = p;
        let ord = self.entries.len() as u32;
        if let Some(mut doc) = doc
            && self.text_failed.is_none()
        {
            doc.ord = ord;
            let text = match self.text.take() {
                Some(t) => Ok(t),
                None => text::TextBuilder::new(),
            };
            match text.and_then(|mut t| t.add(&doc).map(|()| t)) {
                Ok(t) => self.text = Some(t),
                Err(e) => self.text_failed = Some(e),
            }
        }
        file(&mut self.by_kind, f.kind, ord);
        for s in ServiceKind::ALL {
            if f.offers(*s) {
                file(&mut self.by_service, *s, ord);
            }
        }
        if let Some(a) = &f.area_code {
            file(&mut self.by_area, a.clone(), ord);
        }
        if let Some(m) = &f.address.municipality_code {
            file(&mut self.by_municipality, m.clone(), ord);
        }
        for k in formulary_keys(&f) {
            file(&mut self.by_formulary, k, ord);
        }
        for t in traits(&f) {
            file(&mut self.by_trait, t, ord);
        }
        for r in specialist_roles(&f) {
            file(&mut self.by_specialist, r, ord);
        }
        if let Some(l) = f.location {
            self.located.push(ord);
            self.points.push((ord, l.lat, l.lng));
        }
        self.reach.push(reach_m(&f));
        self.reading.push(reading);
        self.names.push(names);
        let dict = self.dict.as_ref().expect("sealed before indexing");
        self.entries
            .push(Arc::new(dict.entry(&f, &mut self.area_codes)));
    }

    /// Everything pushed so far, decoded again (for a caller that must fall back to sorting).
    pub fn into_facilities(self) -> Vec<Facility> {
        let mut out: Vec<Facility> = match &self.dict {
            Some(d) => self.entries.iter().map(|e| d.facility(e)).collect(),
            None => Vec::new(),
        };
        out.extend(self.pending.into_iter().map(|p| p.f));
        out
    }

    /// The snapshot of everything pushed, with the rest of its parts.
    pub fn finish(
        mut self,
        areas: Vec<Area>,
        municipalities: Vec<Municipality>,
        geocoder: Arc<dyn Geocoder>,
        groups: Vec<PharmacyGroup>,
        census: Vec<CensusArea>,
        change_seq: i64,
    ) -> Result<Catalog, CatalogError> {
        if self.dict.is_none() {
            self.seal();
        }
        if let Some(e) = self.text_failed.take() {
            return Err(e.into());
        }
        let n = self.entries.len();
        let text = match self.saved_text.take() {
            Some(t) if t.num_docs() == n as u64 => t,
            saved => {
                if saved.is_some() {
                    tracing::warn!(
                        "the saved text index does not hold the facilities read; indexing them"
                    );
                }
                match self.text.take() {
                    Some(t) if t.added() == n as u64 => t.finish()?,
                    _ => {
                        let dict = self.dict.as_ref().expect("sealed");
                        text::TextIndex::build(
                            self.entries
                                .iter()
                                .enumerate()
                                .map(|(ord, e)| text_doc(ord as u32, &dict.facility(e))),
                        )?
                    }
                }
            }
        };
        let spatial = spatial::SpatialIndex::new(self.points);
        let max_reach_m = self.reach.iter().flatten().copied().fold(0.0, f64::max);
        let everyday_len = self.names.iter().map(|n| everyday_len_of(n)).collect();
        let vocabulary = understand::Vocabulary::new(
            municipalities
                .iter()
                .filter(|m| areas.iter().any(|a| a.code == m.area_code)),
        );
        let suggest = suggest::SuggestIndex::new(&self.entries, &self.names);
        let ids = Ids {
            sorted: n,
            appended: Default::default(),
        };
        let group_ords = group_ords(&groups, &ids, &self.entries);
        let mut located = Bits::empty(n);
        self.located.into_iter().for_each(|o| located.insert(o));
        Ok(Catalog {
            group_ords,
            facilities: self.entries,
            dict: self.dict.expect("sealed"),
            decoded: records::Cache::default(),
            ids,
            appended: false,
            areas,
            municipalities,
            geocoder,
            reading: self.reading.into(),
            by_kind: to_bits(self.by_kind, n),
            by_service: to_bits(self.by_service, n),
            by_area: to_sets(self.by_area, n),
            by_municipality: to_sets(self.by_municipality, n),
            by_formulary: to_sets(self.by_formulary, n),
            by_trait: to_bits(self.by_trait, n),
            by_specialist: to_bits(self.by_specialist, n),
            groups: Arc::new(groups),
            located,
            text,
            names: self.names.into(),
            everyday_len,
            vocabulary,
            suggest: Arc::new(suggest),
            spatial,
            reach_m: self.reach.into(),
            max_reach_m,
            census: Arc::new(census),
            change_seq,
        })
    }
}

impl Catalog {
    pub fn new(parts: CatalogParts) -> Result<Catalog, CatalogError> {
        let CatalogParts {
            mut facilities,
            areas,
            municipalities,
            geocoder,
            groups,
            census,
            change_seq,
        } = parts;
        facilities.sort_by(|a, b| a.id.cmp(&b.id));
        facilities.dedup_by(|a, b| a.id == b.id);
        let mut builder = CatalogBuilder::default();
        for f in facilities {
            // Sorted and without repeats, so always in order.
            let _ = builder.push(f);
        }
        builder.finish(areas, municipalities, geocoder, groups, census, change_seq)
    }

    pub fn ord_of(&self, id: &str) -> Option<u32> {
        self.ids.get(&self.facilities, id)
    }

    /// The facility at `ord`, decoded from its record.
    pub fn at(&self, ord: u32) -> Arc<Facility> {
        self.decoded
            .get_or(ord, || self.dict.facility(&self.facilities[ord as usize]))
    }

    /// The hot fields of the facility at `ord` (no decoding).
    pub fn entry(&self, ord: u32) -> &records::Entry {
        &self.facilities[ord as usize]
    }

    /// Every facility, decoded (tests, benchmarks and whole-catalog passes: a decode each).
    pub fn facilities(&self) -> Vec<Facility> {
        self.facilities
            .iter()
            .map(|e| self.dict.facility(e))
            .collect()
    }

    /// The facilities of `bits`, decoded, with their ords.
    pub fn members<'a>(&'a self, bits: &'a Bits) -> impl Iterator<Item = (u32, Facility)> + 'a {
        bits.iter()
            .map(|o| (o, self.dict.facility(&self.facilities[o as usize])))
    }

    /// The facilities offering `service` (as [`Facility::offers`] says).
    pub fn offering(&self, service: ServiceKind) -> Option<&Bits> {
        self.by_service.get(&service)
    }

    /// Saves the full-text index under `key` in `root` for a later start (see
    /// [`text::TextIndex::save`]).
    pub fn save_text_index(&self, root: &std::path::Path, key: &str) -> Result<(), CatalogError> {
        Ok(self.text.save(root, key)?)
    }

    /// Bytes of the full-text index's files (benchmarks).
    pub fn text_index_bytes(&self) -> u64 {
        self.text.size_bytes()
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

    /// Whether facilities were added to this snapshot in place (by [`Catalog::apply`]).
    pub fn has_appended(&self) -> bool {
        self.appended
    }

    /// A new snapshot with `changed` facilities (as the store now holds them) applied in
    /// place: re-indexed in the text index, moved in the R-trees, filter bitsets updated, new
    /// ones appended. `None` when the change needs a full rebuild (a facility removed).
    pub fn apply(
        &self,
        changed: Vec<Facility>,
        groups: Option<Vec<PharmacyGroup>>,
        change_seq: i64,
    ) -> Result<Option<Catalog>, CatalogError> {
        update::apply(self, changed, groups, change_seq)
    }

    /// The pharmacy groups.
    pub fn groups(&self) -> &[PharmacyGroup] {
        &self.groups
    }

    pub fn get(&self, id: &str) -> Option<Arc<Facility>> {
        self.ord_of(id).map(|o| self.at(o))
    }

    /// The 2020 census small areas, sorted by key code.
    pub fn census(&self) -> &[CensusArea] {
        &self.census
    }

    pub fn areas(&self) -> &[Area] {
        &self.areas
    }

    pub fn area(&self, code: &str) -> Option<&Area> {
        self.areas.iter().find(|a| a.code == code)
    }

    /// The region's municipalities: those of an area this catalog holds (the dataset also
    /// names neighbouring ones, for the geocoder only).
    pub fn municipalities(&self) -> impl Iterator<Item = &Municipality> + '_ {
        self.municipalities
            .iter()
            .filter(|m| self.area(&m.area_code).is_some())
    }

    pub fn municipality(&self, code: &str) -> Option<&Municipality> {
        self.municipalities().find(|m| m.code == code)
    }

    pub fn geocoder(&self) -> &dyn Geocoder {
        self.geocoder.as_ref()
    }

    /// Turn a request into a plan: resolve area and municipality codes, place an address,
    /// check the cursor against this snapshot and choose how to run it.
    pub fn plan(&self, request: &SearchRequest) -> Result<Plan, PlanError> {
        plan::plan(self, request)
    }

    /// Run a plan: every match, sorted, with the plan's page returned as hits.
    pub fn execute(&self, plan: &Plan) -> Result<Results, QueryError> {
        query::search(self, &plan.query, plan.offset, plan.limit)
    }

    /// The candidates of a backup-admission plan, ranked by bed status at `now` as
    /// `audience` may see it, then distance.
    pub fn backup(
        &self,
        plan: &Plan,
        audience: crate::domain::Audience,
        now: time::OffsetDateTime,
        stale_hours: u32,
    ) -> Result<Vec<BackupHit>, QueryError> {
        backup::rank(self, plan, audience, now, stale_hours)
    }

    /// The home palliative-care team for a home: per role the ranked candidates, the proposed
    /// member and, when there is none, the nearest that almost qualify ([`team`]).
    pub fn team(&self, ask: &team::TeamAsk) -> team::TeamAnswer {
        team::assemble(self, ask)
    }

    /// Every match of `q`, sorted, with `offset..offset+limit` returned as hits.
    pub fn search(&self, q: &Query, offset: usize, limit: usize) -> Result<Results, QueryError> {
        query::search(self, q, offset, limit)
    }

    /// Type-ahead for a prefix: facility names and the service and place words it starts.
    pub fn suggest(&self, prefix: &str, limit: usize) -> Suggestions {
        suggest::suggest(self, prefix, limit)
    }

    /// Counts per area (keyed by area code), per kind and per service.
    pub fn area_counts(&self) -> BTreeMap<String, AreaCounts> {
        let mut out: BTreeMap<String, AreaCounts> = self
            .areas
            .iter()
            .map(|a| (a.code.clone(), AreaCounts::default()))
            .collect();
        for (ord, f) in self.facilities.iter().enumerate() {
            let Some(c) = f.area_code.as_deref().and_then(|a| out.get_mut(a)) else {
                continue;
            };
            c.facilities += 1;
            *c.kinds.entry(f.kind).or_default() += 1;
            for (s, bits) in &self.by_service {
                if bits.contains(ord as u32) {
                    *c.services.entry(*s).or_default() += 1;
                }
            }
        }
        out
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot build the text index: {0}")]
    Text(#[from] text::TextError),
}

/// The current snapshot, swapped atomically after writes.
#[derive(Clone)]
pub struct CatalogHandle(Arc<ArcSwap<Catalog>>, Arc<std::sync::Mutex<()>>);

impl CatalogHandle {
    pub fn new(catalog: Catalog) -> Self {
        CatalogHandle(
            Arc::new(ArcSwap::from_pointee(catalog)),
            Arc::new(std::sync::Mutex::new(())),
        )
    }

    /// Held by whoever builds the next snapshot from the current one, so two builders never
    /// start from the same snapshot (readers never take it).
    pub fn refresh_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.1.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn load(&self) -> Arc<Catalog> {
        self.0.load_full()
    }

    pub fn replace(&self, catalog: Catalog) {
        self.0.store(Arc::new(catalog));
    }
}
