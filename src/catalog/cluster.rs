//! Server-side clustering of map points for one zoom level (the HTTP layer renders it as GeoJSON).
//!
//! Points are projected to Web-Mercator pixels at the zoom (256-px tiles, as Leaflet does) and
//! grouped greedily: taking points in increasing `ord`, each point not yet in a group starts one
//! and takes every ungrouped point within `radius_px` of it. A hash grid makes this fast: points
//! are bucketed by their `radius_px`-sized cell (row, column) into one array, each cell's run
//! is found through a small open-addressing table, and a seed looks only at its 3×3 cells. Seeds are
//! pairwise farther apart than `radius_px`, so at most four seeds live in one cell and every
//! cell is scanned at most 36 times; grouped points are moved out of their cell's live run, so
//! scans skip them. The pass is linear after one O(n log n) sort of the ords.
//!
//! The result depends only on the set of points (ord, position), not on their input order: seeds
//! go by ord, a group is "everything ungrouped within the radius", members are summed in ord
//! order, and groups are output in the order of their seed, which is their smallest ord.
//!
//! Coordinates are assumed to be away from the antimeridian (Japan): neither the pixel distance
//! nor the centroid wraps around it.

use std::collections::BTreeMap;

/// From this zoom on every point is returned on its own.
pub const UNCLUSTERED_ZOOM: u8 = 17;

/// Cluster radius of the map layer, in screen pixels.
pub const RADIUS_PX: f64 = 40.0;

/// How many member ords a cluster carries as a sample.
const SAMPLE: usize = 5;

/// The largest latitude Web Mercator shows (the square world).
const MAX_MERCATOR_LAT: f64 = 85.051_128_779_806_59;

#[derive(Debug, Clone, PartialEq)]
pub struct ClusterPoint {
    pub ord: u32,
    pub lat: f64,
    pub lng: f64,
    pub kind: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ClusterItem {
    /// A point alone at this zoom.
    Point(u32),
    Cluster {
        count: usize,
        /// The mean position of the members.
        lat: f64,
        lng: f64,
        /// Members per kind.
        kinds: BTreeMap<&'static str, usize>,
        /// minLng, minLat, maxLng, maxLat of the members.
        bbox: [f64; 4],
        /// The smallest member ords, up to five, ascending.
        members_sample: Vec<u32>,
    },
}

/// Web-Mercator pixel position `(x, y)` of a point at `zoom` with 256-px tiles.
pub fn mercator_px(lat: f64, lng: f64, zoom: u8) -> (f64, f64) {
    let world = 256.0 * 2f64.powi(i32::from(zoom));
    let x = (lng + 180.0) / 360.0 * world;
    let s = lat
        .clamp(-MAX_MERCATOR_LAT, MAX_MERCATOR_LAT)
        .to_radians()
        .sin();
    let y = (0.5 - ((1.0 + s) / (1.0 - s)).ln() / (4.0 * std::f64::consts::PI)) * world;
    (x, y)
}

/// Cluster `points` for display at `zoom` (0–20; larger values act as 20): points less than about
/// `radius_px` screen pixels apart share a cluster. At zoom 17 and above, or with a radius that
/// is not positive, every point comes back alone. Items are ordered by their smallest ord.
/// Points with non-finite coordinates never join a cluster.
pub fn cluster(points: &[ClusterPoint], zoom: u8, radius_px: f64) -> Vec<ClusterItem> {
    groups(points, zoom, radius_px)
        .iter()
        .map(|g| item(points, g))
        .collect()
}

/// Groups of indices into the points, stored flat: group `g` is `members[ends[g-1]..ends[g]]`.
struct Groups {
    members: Vec<u32>,
    ends: Vec<usize>,
}

impl Groups {
    fn iter(&self) -> impl Iterator<Item = &[u32]> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .map(|(a, b)| &self.members[a..b])
    }
}

/// An open-addressing hash table from a grid cell (row, column) to its cell number, numbered
/// in order of first insertion.
struct CellTable {
    /// (row, column, cell number); `u32::MAX` marks an empty slot.
    slots: Vec<(i64, i64, u32)>,
    shift: u32,
    len: usize,
}

impl CellTable {
    fn with_capacity(cells: usize) -> CellTable {
        let cap = (cells * 2).next_power_of_two().max(16);
        CellTable {
            slots: vec![(0, 0, u32::MAX); cap],
            shift: 64 - cap.trailing_zeros(),
            len: 0,
        }
    }

    fn slot(&self, row: i64, col: i64) -> usize {
        // Multiplicative hashing: mix both coordinates, keep the well-mixed high bits.
        let h = ((row as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(32)
            ^ col as u64)
            .wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        (h >> self.shift) as usize
    }

    /// The slot holding the cell, or the empty slot where it belongs.
    fn find(&self, row: i64, col: i64) -> usize {
        let mask = self.slots.len() - 1;
        let mut s = self.slot(row, col);
        loop {
            let (r, c, k) = self.slots[s];
            if k == u32::MAX || (r == row && c == col) {
                return s;
            }
            s = (s + 1) & mask;
        }
    }

    fn get(&self, row: i64, col: i64) -> Option<usize> {
        let k = self.slots[self.find(row, col)].2;
        (k != u32::MAX).then_some(k as usize)
    }

    /// The cell's number, numbering it if new.
    fn number(&mut self, row: i64, col: i64) -> usize {
        let s = self.find(row, col);
        if self.slots[s].2 != u32::MAX {
            return self.slots[s].2 as usize;
        }
        let k = self.len;
        self.slots[s] = (row, col, k as u32);
        self.len += 1;
        if self.len * 2 > self.slots.len() {
            let old = std::mem::replace(self, CellTable::with_capacity(self.slots.len()));
            for (r, c, k) in old.slots.into_iter().filter(|e| e.2 != u32::MAX) {
                let s = self.find(r, c);
                self.slots[s] = (r, c, k);
            }
            self.len = old.len;
        }
        k
    }
}

/// The clustering itself: groups of indices into `points`, each sorted by ord, in the order of
/// their first ord.
fn groups(points: &[ClusterPoint], zoom: u8, radius_px: f64) -> Groups {
    let n = points.len();
    assert!(n < u32::MAX as usize, "too many points to cluster");
    // Work on ranks (positions in ord order) rather than input indices: seeds are then taken
    // in plain rank order and a group sorts as integers.
    let mut by_ord: Vec<u64> = (0..n)
        .map(|i| u64::from(points[i].ord) << 32 | i as u64)
        .collect();
    by_ord.sort_unstable();
    let index_of: Vec<u32> = by_ord.into_iter().map(|k| k as u32).collect();
    if zoom >= UNCLUSTERED_ZOOM || radius_px.is_nan() || radius_px <= 0.0 {
        return Groups {
            members: index_of,
            ends: (1..=n).collect(),
        };
    }

    // `as i64` saturates, and NaN becomes 0: harmless, as NaN distances never compare as near.
    let cell_of = |x: f64, y: f64| {
        (
            (y / radius_px).floor() as i64,
            (x / radius_px).floor() as i64,
        )
    };
    let pos: Vec<(f64, f64)> = index_of
        .iter()
        .map(|&i| mercator_px(points[i as usize].lat, points[i as usize].lng, zoom))
        .collect();
    // Bucket the points by cell (a counting sort): each cell's points are one run of `pts`,
    // carrying their pixel positions so that scans read memory in order. A run is
    // [start, live): the points still ungrouped come first, and a point that joins a group is
    // swapped behind `live`, so no later scan looks at it again.
    let mut table = CellTable::with_capacity(1024);
    let cell: Vec<u32> = pos
        .iter()
        .map(|&(x, y)| {
            let (row, col) = cell_of(x, y);
            table.number(row, col) as u32
        })
        .collect();
    let mut runs: Vec<(usize, usize)> = vec![(0, 0); table.len];
    for &c in &cell {
        runs[c as usize].1 += 1;
    }
    let mut start = 0;
    for run in &mut runs {
        let len = run.1;
        *run = (start, start);
        start += len;
    }
    let mut pts: Vec<(f64, f64, u32)> = vec![(0.0, 0.0, 0); n];
    for (rank, (&c, &(x, y))) in cell.iter().zip(&pos).enumerate() {
        let run = &mut runs[c as usize];
        pts[run.1] = (x, y, rank as u32);
        run.1 += 1;
    }
    drop(cell);

    let r2 = radius_px * radius_px;
    let mut grouped = vec![false; n];
    let mut members: Vec<u32> = Vec::with_capacity(n);
    let mut ends = Vec::new();
    for seed in 0..n {
        if grouped[seed] {
            continue;
        }
        grouped[seed] = true;
        let first = members.len();
        members.push(seed as u32);
        let (sx, sy) = pos[seed];
        let (row, col) = cell_of(sx, sy);
        for r in [row.saturating_sub(1), row, row.saturating_add(1)] {
            for c in [col.saturating_sub(1), col, col.saturating_add(1)] {
                let Some(cell) = table.get(r, c) else {
                    continue;
                };
                let (mut k, mut live) = runs[cell];
                while k < live {
                    let (x, y, rank) = pts[k];
                    let rank = rank as usize;
                    // Only the seed itself can be live and already grouped.
                    let take = !grouped[rank] && {
                        let (dx, dy) = (x - sx, y - sy);
                        dx * dx + dy * dy <= r2
                    };
                    if take || grouped[rank] {
                        if take {
                            grouped[rank] = true;
                            members.push(rank as u32);
                        }
                        live -= 1;
                        pts.swap(k, live);
                    } else {
                        k += 1;
                    }
                }
                runs[cell].1 = live;
            }
        }
        // Members were found in memory order; the group's content does not depend on it.
        members[first..].sort_unstable();
        ends.push(members.len());
    }
    for m in &mut members {
        *m = index_of[*m as usize];
    }
    Groups { members, ends }
}

fn item(points: &[ClusterPoint], members: &[u32]) -> ClusterItem {
    if let [only] = members {
        return ClusterItem::Point(points[*only as usize].ord);
    }
    // Kinds are few: count them in a small list, then make the map once.
    let mut kind_counts: Vec<(&'static str, usize)> = Vec::new();
    let (mut sum_lat, mut sum_lng) = (0.0, 0.0);
    let mut bbox = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for &i in members {
        let p = &points[i as usize];
        match kind_counts.iter_mut().find(|(k, _)| *k == p.kind) {
            Some((_, c)) => *c += 1,
            None => kind_counts.push((p.kind, 1)),
        }
        sum_lat += p.lat;
        sum_lng += p.lng;
        bbox = [
            bbox[0].min(p.lng),
            bbox[1].min(p.lat),
            bbox[2].max(p.lng),
            bbox[3].max(p.lat),
        ];
    }
    let count = members.len();
    let kinds: BTreeMap<&'static str, usize> = kind_counts.into_iter().collect();
    // The mean can be one ulp off when all members share a coordinate: keep it inside the bbox.
    ClusterItem::Cluster {
        count,
        lat: (sum_lat / count as f64).clamp(bbox[1], bbox[3]),
        lng: (sum_lng / count as f64).clamp(bbox[0], bbox[2]),
        kinds,
        bbox,
        members_sample: members
            .iter()
            .take(SAMPLE)
            .map(|&i| points[i as usize].ord)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KINDS: [&str; 4] = ["clinic", "hospital", "pharmacy", "visiting_nurse"];

    fn points_strategy() -> impl Strategy<Value = Vec<ClusterPoint>> {
        (
            prop::collection::vec((35.7f64..36.3, 138.7f64..139.9, 0usize..4), 0..1500),
            prop::collection::vec(any::<prop::sample::Index>(), 0..100),
        )
            .prop_map(|(base, dups)| {
                let mut coords = base.clone();
                if !base.is_empty() {
                    for d in dups {
                        coords.push(base[d.index(base.len())]);
                    }
                }
                coords
                    .into_iter()
                    .enumerate()
                    .map(|(i, (lat, lng, k))| ClusterPoint {
                        ord: (i as u32).wrapping_mul(2_654_435_761),
                        lat,
                        lng,
                        kind: KINDS[k],
                    })
                    .collect()
            })
    }

    /// The same greedy clustering by brute force, O(n²).
    fn naive_groups(pts: &[ClusterPoint], zoom: u8, radius: f64) -> Vec<Vec<u32>> {
        let mut order: Vec<u32> = (0..pts.len() as u32).collect();
        order.sort_by_key(|&i| (pts[i as usize].ord, i));
        let px: Vec<(f64, f64)> = pts
            .iter()
            .map(|p| mercator_px(p.lat, p.lng, zoom))
            .collect();
        let mut grouped = vec![false; pts.len()];
        let mut out = Vec::new();
        for &s in &order {
            if grouped[s as usize] {
                continue;
            }
            grouped[s as usize] = true;
            let mut g = vec![s];
            if zoom < UNCLUSTERED_ZOOM {
                for &j in &order {
                    let (dx, dy) = (
                        px[j as usize].0 - px[s as usize].0,
                        px[j as usize].1 - px[s as usize].1,
                    );
                    if !grouped[j as usize] && dx * dx + dy * dy <= radius * radius {
                        grouped[j as usize] = true;
                        g.push(j);
                    }
                }
            }
            out.push(g);
        }
        out
    }

    fn first_ord(it: &ClusterItem) -> u32 {
        match it {
            ClusterItem::Point(o) => *o,
            ClusterItem::Cluster { members_sample, .. } => members_sample[0],
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn clustering_invariants(
            pts in points_strategy(),
            zoom in 0u8..=20,
            radius in prop_oneof![Just(40.0), 1.0f64..120.0],
        ) {
            let n = pts.len();
            let gs: Vec<Vec<u32>> = groups(&pts, zoom, radius).iter().map(<[u32]>::to_vec).collect();
            let items = cluster(&pts, zoom, radius);
            prop_assert_eq!(gs.len(), items.len());
            prop_assert_eq!(&gs, &naive_groups(&pts, zoom, radius));

            // Every point is in exactly one group.
            let mut seen = vec![0u32; n];
            for g in &gs {
                for &i in g {
                    seen[i as usize] += 1;
                }
            }
            prop_assert!(seen.iter().all(|&c| c == 1));

            let mut total = 0;
            for (g, it) in gs.iter().zip(&items) {
                match it {
                    ClusterItem::Point(o) => {
                        prop_assert_eq!(g.len(), 1);
                        prop_assert_eq!(*o, pts[g[0] as usize].ord);
                        total += 1;
                    }
                    ClusterItem::Cluster { count, lat, lng, kinds, bbox, members_sample } => {
                        prop_assert!(*count >= 2);
                        prop_assert_eq!(*count, g.len());
                        prop_assert_eq!(kinds.values().sum::<usize>(), *count);
                        let mut ords: Vec<u32> = g.iter().map(|&i| pts[i as usize].ord).collect();
                        ords.sort_unstable();
                        ords.truncate(5);
                        prop_assert_eq!(members_sample, &ords);
                        for &i in g {
                            let p = &pts[i as usize];
                            prop_assert!(bbox[0] <= p.lng && p.lng <= bbox[2]);
                            prop_assert!(bbox[1] <= p.lat && p.lat <= bbox[3]);
                        }
                        prop_assert!(bbox[0] <= *lng && *lng <= bbox[2]);
                        prop_assert!(bbox[1] <= *lat && *lat <= bbox[3]);
                        total += count;
                    }
                }
            }
            prop_assert_eq!(total, n);

            // Members are on screen within the radius of the group's first (seed) member, and
            // items come in increasing first ord.
            if zoom < UNCLUSTERED_ZOOM {
                for g in &gs {
                    let s = &pts[g[0] as usize];
                    let (sx, sy) = mercator_px(s.lat, s.lng, zoom);
                    for &i in g {
                        let p = &pts[i as usize];
                        let (x, y) = mercator_px(p.lat, p.lng, zoom);
                        prop_assert!((x - sx).hypot(y - sy) <= radius + 1e-9);
                    }
                }
            } else {
                prop_assert!(items.iter().all(|it| matches!(it, ClusterItem::Point(_))));
            }
            let firsts: Vec<u32> = items.iter().map(first_ord).collect();
            prop_assert!(firsts.windows(2).all(|w| w[0] < w[1]));

            // Deterministic, and independent of input order.
            prop_assert_eq!(&cluster(&pts, zoom, radius), &items);
            let mut shuffled = pts.clone();
            shuffled.reverse();
            let len = shuffled.len();
            shuffled.rotate_left(len / 3);
            prop_assert_eq!(&cluster(&shuffled, zoom, radius), &items);
        }
    }

    #[test]
    fn near_points_merge_far_points_do_not() {
        let pts = vec![
            ClusterPoint {
                ord: 3,
                lat: 35.90,
                lng: 139.60,
                kind: "clinic",
            },
            ClusterPoint {
                ord: 1,
                lat: 35.9001,
                lng: 139.6001,
                kind: "hospital",
            },
            ClusterPoint {
                ord: 2,
                lat: 35.9002,
                lng: 139.6,
                kind: "clinic",
            },
            ClusterPoint {
                ord: 9,
                lat: 35.0,
                lng: 136.0,
                kind: "clinic",
            },
        ];
        let items = cluster(&pts, 10, 40.0);
        assert_eq!(items.len(), 2);
        match &items[0] {
            ClusterItem::Cluster {
                count,
                kinds,
                members_sample,
                bbox,
                ..
            } => {
                assert_eq!(*count, 3);
                assert_eq!(kinds.get("clinic"), Some(&2));
                assert_eq!(kinds.get("hospital"), Some(&1));
                assert_eq!(members_sample, &vec![1, 2, 3]);
                assert_eq!(*bbox, [139.6, 35.9, 139.6001, 35.9002]);
            }
            other => panic!("expected a cluster, got {other:?}"),
        }
        assert_eq!(items[1], ClusterItem::Point(9));
        // Zoomed in far enough, and at 17+, nothing merges.
        assert_eq!(cluster(&pts, 17, 40.0).len(), 4);
        assert_eq!(cluster(&pts, 20, 40.0).len(), 4);
        assert_eq!(cluster(&pts, 10, 0.0).len(), 4);
        assert!(cluster(&[], 7, 40.0).is_empty());
        // Zoomed out to the world, everything is one cluster.
        assert_eq!(cluster(&pts, 0, 40.0).len(), 1);
        // Extreme radii (cell indices saturate) and a point without coordinates.
        let mut odd = pts.clone();
        odd.push(ClusterPoint {
            ord: 5,
            lat: f64::NAN,
            lng: 139.6,
            kind: "clinic",
        });
        assert_eq!(cluster(&odd, 16, 1e-300).len(), 5);
        let all = cluster(&odd, 16, 1e300);
        assert_eq!(all.len(), 2);
        assert!(matches!(all[0], ClusterItem::Cluster { count: 4, .. }));
        assert_eq!(all[1], ClusterItem::Point(5));
    }

    #[test]
    fn mercator_corners() {
        let (x, y) = mercator_px(0.0, 0.0, 0);
        assert!((x - 128.0).abs() < 1e-9 && (y - 128.0).abs() < 1e-9);
        let (x, y) = mercator_px(MAX_MERCATOR_LAT, -180.0, 3);
        assert!(x.abs() < 1e-9 && y.abs() < 1e-6);
        let (_, y) = mercator_px(-90.0, 0.0, 1);
        assert!((y - 512.0).abs() < 1e-6);
    }
}
