//! Precomputed map-cluster levels (the clustered facility layer while panning): per catalog
//! snapshot and filter — everything, one kind or one service — every located facility clustered
//! once per zoom, so a view is "the clusters whose position lies in the box" and clusters do not
//! change as the map pans.
//!
//! Levels are built lazily (a zoom on its first use) and kept in a small cache per snapshot.
//! A new snapshot whose located facilities of a filter are the same (same ords, places and kinds,
//! in the same order) keeps that filter's levels: an edit of a name or a phone number does not
//! throw away the clustering.
//!
//! Seeds are taken in id order (ords are id order unless facilities were appended in place, in
//! which case the order is recomputed), so every instance holding the same data clusters alike.

use std::sync::{Arc, Mutex, OnceLock, Weak};

use super::Catalog;
use super::cluster::{ClusterItem, ClusterPoint, UNCLUSTERED_ZOOM, cluster};
use crate::domain::{FacilityKind, ServiceKind};

/// Levels per filter: zooms 0..=16 clustered, and one of every point (zoom 17 and above, and
/// the box counts).
const LEVELS: usize = UNCLUSTERED_ZOOM as usize + 1;

/// Filters whose levels a snapshot keeps; the least recently used goes first.
pub const MAX_FILTERS: usize = 4;

/// Column width, in degrees of longitude, of the every-point level (coarse: it answers counts
/// over large boxes).
const POINT_COLUMN_DEG: f64 = 1.0 / 64.0;

/// The high bit of a payload marks a cluster index rather than an ord.
const CLUSTER_BIT: u32 = 1 << 31;

/// What a precomputed layer shows: the filters the map sends alone most often.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LayerFilter {
    All,
    Kind(FacilityKind),
    Service(ServiceKind),
}

/// A cluster of a level, with what the map draws of it.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerCluster {
    pub count: u32,
    /// The mean position of the members.
    pub lat: f64,
    pub lng: f64,
    /// minLng, minLat, maxLng, maxLat of the members.
    pub bbox: [f64; 4],
    /// Members per kind code, ascending by code.
    pub kinds: Box<[(&'static str, u32)]>,
}

/// One item of a view.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LayerItem<'a> {
    /// A facility alone at this zoom, by ord.
    Point(u32),
    Cluster(&'a LayerCluster),
}

/// A located facility of a filter.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Placed {
    ord: u32,
    lat: f64,
    lng: f64,
    kind: &'static str,
}

/// The items of one zoom, indexed by position: sorted into columns of longitude, by latitude
/// within a column.
struct Level {
    /// (lat, lng, seq), by (column, lat).
    cells: Vec<(f64, f64, u32)>,
    /// (column, first index into `cells`) of each non-empty column, ascending.
    columns: Vec<(i64, u32)>,
    column_deg: f64,
    /// Per seq (the item's place in seed order): the ord of a point, or `CLUSTER_BIT | i`.
    payload: Vec<u32>,
    clusters: Vec<LayerCluster>,
}

impl Level {
    fn column(&self, lng: f64) -> i64 {
        ((lng + 180.0) / self.column_deg).floor() as i64
    }

    fn new(items: Vec<(f64, f64, u32)>, column_deg: f64, clusters: Vec<LayerCluster>) -> Level {
        let payload: Vec<u32> = items.iter().map(|i| i.2).collect();
        let mut level = Level {
            cells: Vec::with_capacity(items.len()),
            columns: Vec::new(),
            column_deg,
            payload,
            clusters,
        };
        let mut keyed: Vec<(i64, f64, f64, u32)> = items
            .into_iter()
            .enumerate()
            .map(|(seq, (lat, lng, _))| (level.column(lng), lat, lng, seq as u32))
            .collect();
        keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        for (k, (col, lat, lng, seq)) in keyed.into_iter().enumerate() {
            if level.columns.last().is_none_or(|c| c.0 != col) {
                level.columns.push((col, k as u32));
            }
            level.cells.push((lat, lng, seq));
        }
        level
    }

    /// The runs of `cells` of the columns a box touches, with whether the column lies wholly
    /// within the box's longitudes.
    fn runs(&self, b: [f64; 4]) -> impl Iterator<Item = (&[(f64, f64, u32)], bool)> + '_ {
        let [min_lng, min_lat, max_lng, max_lat] = b;
        let (c0, c1) = (self.column(min_lng), self.column(max_lng));
        let first = self.columns.partition_point(|c| c.0 < c0);
        self.columns[first..]
            .iter()
            .enumerate()
            .take_while(move |(_, c)| c.0 <= c1)
            .map(move |(k, &(col, start))| {
                let end = self
                    .columns
                    .get(first + k + 1)
                    .map_or(self.cells.len(), |c| c.1 as usize);
                let run = &self.cells[start as usize..end];
                let lo = run.partition_point(|p| p.0 < min_lat);
                let hi = run.partition_point(|p| p.0 <= max_lat);
                // A column strictly inside the box's columns needs no longitude test.
                (&run[lo..hi.max(lo)], col > c0 && col < c1)
            })
    }

    /// Seqs of the items whose position lies in the box (edges included), ascending.
    fn in_box(&self, b: [f64; 4]) -> Vec<u32> {
        let mut out: Vec<u32> = Vec::new();
        for (run, inside) in self.runs(b) {
            if inside {
                out.extend(run.iter().map(|p| p.2));
            } else {
                out.extend(
                    run.iter()
                        .filter(|p| b[0] <= p.1 && p.1 <= b[2])
                        .map(|p| p.2),
                );
            }
        }
        out.sort_unstable();
        out
    }

    /// How many items lie in the box (edges included).
    fn count_in_box(&self, b: [f64; 4]) -> usize {
        self.runs(b)
            .map(|(run, inside)| {
                if inside {
                    run.len()
                } else {
                    run.iter().filter(|p| b[0] <= p.1 && p.1 <= b[2]).count()
                }
            })
            .sum()
    }

    fn item(&self, seq: u32) -> LayerItem<'_> {
        let p = self.payload[seq as usize];
        if p & CLUSTER_BIT != 0 {
            LayerItem::Cluster(&self.clusters[(p & !CLUSTER_BIT) as usize])
        } else {
            LayerItem::Point(p)
        }
    }
}

/// The levels of one filter over one snapshot.
pub struct LayerSet {
    filter: LayerFilter,
    /// Located matches in seed (id) order.
    placed: Vec<Placed>,
    /// Matches, placed or not: the total without a box.
    matching: usize,
    levels: [OnceLock<Level>; LEVELS],
}

/// What a view shows: the total of matches in the box and the items whose position is in it.
pub struct LayerView {
    set: Arc<LayerSet>,
    level: usize,
    /// Seqs in seed order.
    seqs: Vec<u32>,
    pub total: usize,
}

impl LayerView {
    pub fn len(&self) -> usize {
        self.seqs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seqs.is_empty()
    }

    /// The items in seed order (a cluster's seed is its first member in id order).
    pub fn items(&self) -> impl Iterator<Item = LayerItem<'_>> + '_ {
        let level = self.set.level(self.level);
        self.seqs.iter().map(move |&s| level.item(s))
    }

    /// Items `from..to` (clamped), for output in chunks.
    pub fn items_range(&self, from: usize, to: usize) -> impl Iterator<Item = LayerItem<'_>> + '_ {
        let level = self.set.level(self.level);
        let to = to.min(self.seqs.len());
        self.seqs[from.min(to)..to]
            .iter()
            .map(move |&s| level.item(s))
    }
}

fn placed_of(c: &Catalog, filter: LayerFilter) -> (Vec<Placed>, usize) {
    let bits = match filter {
        LayerFilter::All => None,
        LayerFilter::Kind(k) => Some(c.by_kind.get(&k)),
        LayerFilter::Service(s) => Some(c.by_service.get(&s)),
    };
    let placed_at = |ord: u32| {
        let f = &c.facilities[ord as usize];
        f.location.map(|l| Placed {
            ord,
            lat: l.lat,
            lng: l.lng,
            kind: f.kind.code(),
        })
    };
    let (mut placed, matching): (Vec<Placed>, usize) = match bits {
        None => (c.located.iter().filter_map(placed_at).collect(), c.len()),
        Some(None) => (Vec::new(), 0),
        Some(Some(b)) => {
            let placed = b
                .iter()
                .filter(|&o| c.located.contains(o))
                .filter_map(placed_at)
                .collect();
            (placed, b.count())
        }
    };
    if c.appended {
        placed.sort_by(|a, b| {
            c.facilities[a.ord as usize]
                .id
                .cmp(&c.facilities[b.ord as usize].id)
        });
    }
    (placed, matching)
}

impl LayerSet {
    fn new(c: &Catalog, filter: LayerFilter) -> LayerSet {
        let (placed, matching) = placed_of(c, filter);
        LayerSet {
            filter,
            placed,
            matching,
            levels: Default::default(),
        }
    }

    pub fn filter(&self) -> LayerFilter {
        self.filter
    }

    /// Whether the level of `zoom` is built (a view of it is microseconds of work).
    pub fn is_built(&self, zoom: u8) -> bool {
        self.levels[usize::from(zoom).min(LEVELS - 1)]
            .get()
            .is_some()
            && self.levels[LEVELS - 1].get().is_some()
    }

    fn level(&self, i: usize) -> &Level {
        self.levels[i].get_or_init(|| self.build(i))
    }

    fn build(&self, i: usize) -> Level {
        if i == LEVELS - 1 {
            let items = self.placed.iter().map(|p| (p.lat, p.lng, p.ord)).collect();
            return Level::new(items, POINT_COLUMN_DEG, Vec::new());
        }
        // Priority is the place in id order: the clustering seeds by its `ord`.
        let points: Vec<ClusterPoint> = self
            .placed
            .iter()
            .enumerate()
            .map(|(k, p)| ClusterPoint {
                ord: k as u32,
                lat: p.lat,
                lng: p.lng,
                kind: p.kind,
            })
            .collect();
        let mut clusters = Vec::new();
        let items = cluster(&points, i as u8, super::cluster::RADIUS_PX)
            .into_iter()
            .map(|item| match item {
                ClusterItem::Point(k) => {
                    let p = &self.placed[k as usize];
                    (p.lat, p.lng, p.ord)
                }
                ClusterItem::Cluster {
                    count,
                    lat,
                    lng,
                    kinds,
                    bbox,
                    ..
                } => {
                    let id = clusters.len() as u32 | CLUSTER_BIT;
                    clusters.push(LayerCluster {
                        count: count as u32,
                        lat,
                        lng,
                        bbox,
                        kinds: kinds.into_iter().map(|(k, n)| (k, n as u32)).collect(),
                    });
                    (lat, lng, id)
                }
            })
            .collect();
        // Columns about one 256-px tile wide at this zoom.
        let column_deg = 360.0 / 2f64.powi(i as i32);
        Level::new(items, column_deg, clusters)
    }

    /// The view of `zoom` (0–20) over `bbox` (minLng, minLat, maxLng, maxLat; `None`: all),
    /// building the level on first use (tens of milliseconds at 300,000 facilities).
    pub fn view(self: &Arc<Self>, zoom: u8, bbox: Option<[f64; 4]>) -> LayerView {
        let i = usize::from(zoom).min(LEVELS - 1);
        let level = self.level(i);
        let (seqs, total) = match bbox {
            None => ((0..level.payload.len() as u32).collect(), self.matching),
            Some(b) => (level.in_box(b), self.level(LEVELS - 1).count_in_box(b)),
        };
        LayerView {
            set: self.clone(),
            level: i,
            seqs,
            total,
        }
    }
}

/// The layer sets of the current snapshot, and those of the one before (reused when their
/// facilities did not change).
#[derive(Default)]
pub struct LayerCache {
    inner: Mutex<CacheState>,
}

#[derive(Default)]
struct CacheState {
    /// The snapshot the sets belong to (a `Weak` keeps its address from being reused).
    snapshot: Option<Weak<Catalog>>,
    /// With the tick of their last use.
    sets: Vec<(Arc<LayerSet>, u64)>,
    previous: Vec<Arc<LayerSet>>,
    tick: u64,
}

impl LayerCache {
    /// The set of `filter` over `catalog` when it is already made.
    pub fn cached(&self, catalog: &Arc<Catalog>, filter: LayerFilter) -> Option<Arc<LayerSet>> {
        let mut st = self.lock();
        if !st
            .snapshot
            .as_ref()
            .is_some_and(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(catalog)))
        {
            return None;
        }
        st.tick += 1;
        let tick = st.tick;
        let (s, used) = st.sets.iter_mut().find(|(s, _)| s.filter == filter)?;
        *used = tick;
        Some(s.clone())
    }

    /// The set of `filter` over `catalog`, made (an O(n) pass, without levels) when missing.
    pub fn get(&self, catalog: &Arc<Catalog>, filter: LayerFilter) -> Arc<LayerSet> {
        {
            let mut st = self.lock();
            let same = st
                .snapshot
                .as_ref()
                .is_some_and(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(catalog)));
            if !same {
                let old: Vec<Arc<LayerSet>> = st.sets.drain(..).map(|(s, _)| s).collect();
                st.previous = old;
                st.snapshot = Some(Arc::downgrade(catalog));
            }
            st.tick += 1;
            let tick = st.tick;
            if let Some((s, used)) = st.sets.iter_mut().find(|(s, _)| s.filter == filter) {
                *used = tick;
                return s.clone();
            }
        }
        // Made outside the lock; a racing request may make the same set, and one is kept.
        let fresh = LayerSet::new(catalog, filter);
        let mut st = self.lock();
        if !st
            .snapshot
            .as_ref()
            .is_some_and(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(catalog)))
        {
            // The snapshot moved on meanwhile: answer from this set without keeping it.
            return Arc::new(fresh);
        }
        st.tick += 1;
        let tick = st.tick;
        if let Some((s, used)) = st.sets.iter_mut().find(|(s, _)| s.filter == filter) {
            *used = tick;
            return s.clone();
        }
        let set = match st
            .previous
            .iter()
            .position(|s| s.filter == filter && s.placed == fresh.placed)
        {
            Some(k) if st.previous[k].matching == fresh.matching => st.previous.swap_remove(k),
            _ => Arc::new(fresh),
        };
        if st.sets.len() >= MAX_FILTERS
            && let Some(k) = st
                .sets
                .iter()
                .enumerate()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k)
        {
            st.sets.swap_remove(k);
        }
        st.sets.push((set.clone(), tick));
        set
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheState> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}
