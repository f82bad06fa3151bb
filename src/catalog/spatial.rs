//! Spatial queries over facility locations, answered in great-circle metres.
//!
//! Points are kept twice:
//!
//! * in a 3-D R-tree of unit vectors on the sphere. The straight-line (chord) distance between two
//!   unit vectors is `2·sin(θ/2)`, which grows strictly with the central angle `θ` on `[0, π]`, so
//!   "nearest by chord" is "nearest on the sphere" and a chord radius is an exact spherical cap.
//!   No degree-based distance is ever used, so there is no distortion with latitude.
//! * in a 2-D R-tree of `[lng, lat]`, only for bounding-box queries: a lon/lat box is a plain
//!   rectangle there, while on the sphere it is a curved region that no 3-D box describes exactly.
//!   The second tree costs a few MB for 300,000 points and makes `in_bbox` exact and simple.
//!
//! The tree only *selects* candidates. Every distance that is reported or compared with a caller's
//! limit is [`haversine_m`] computed from the stored lat/lng, so results equal a brute-force scan
//! with the same function bit for bit. Because the chord and the haversine are two different
//! floating-point computations of one quantity, tree searches are widened by [`SLACK_M`] and the
//! exact decision is then made with the haversine.
//!
//! Results are always ordered by `(distance, ord)`; ties in distance (e.g. several facilities at
//! one address) are broken by the smaller `ord`.

use std::collections::BinaryHeap;

use rstar::primitives::GeomWithData;
use rstar::{AABB, RTree};

/// How far, in metres, the chord-based tree search is widened beyond a limit before the exact
/// haversine decides. Both formulas agree to far better than this (about 1e-9 m for nearby points,
/// about 0.1 m in the worst, near-antipodal case), so nothing that belongs is ever missed.
const SLACK_M: f64 = 1.0;

pub use crate::domain::place::{EARTH_RADIUS_M, haversine_m};

/// The unit vector of a `(lat, lng)` in degrees.
fn unit_vector(lat: f64, lng: f64) -> [f64; 3] {
    let (lat, lng) = (lat.to_radians(), lng.to_radians());
    let c = lat.cos();
    [c * lng.cos(), c * lng.sin(), lat.sin()]
}

/// The squared chord length of a great-circle distance, widened by [`SLACK_M`]. Distances of half
/// the circumference or more cover the whole sphere (chord 2), so they return a bit more than 4.
fn widened_chord2(metres: f64) -> f64 {
    let theta = (metres + SLACK_M) / EARTH_RADIUS_M;
    if theta >= std::f64::consts::PI {
        return 4.0 + 1e-9;
    }
    let chord = 2.0 * (theta * 0.5).sin();
    chord * chord
}

/// The great-circle distance in metres that a squared chord length stands for.
fn chord2_to_m(chord2: f64) -> f64 {
    2.0 * EARTH_RADIUS_M * (chord2.sqrt() * 0.5).min(1.0).asin()
}

fn valid_coords(lat: f64, lng: f64) -> bool {
    (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lng)
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Site {
    ord: u32,
    lat: f64,
    lng: f64,
}

/// An immutable index of points `(ord, lat, lng)`; `ord` is the caller's handle for a point
/// (typically its position in the catalog's facility list).
pub struct SpatialIndex {
    // Shared between snapshots until a point moves (see `with_changes`).
    sphere: std::sync::Arc<RTree<GeomWithData<[f64; 3], Site>>>,
    plane: std::sync::Arc<RTree<GeomWithData<[f64; 2], u32>>>,
}

impl std::fmt::Debug for SpatialIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpatialIndex")
            .field("len", &self.len())
            .finish()
    }
}

impl SpatialIndex {
    /// Build the index. Points whose coordinates are not finite or out of range
    /// (lat outside [-90, 90], lng outside [-180, 180]) are left out: they have no place on a map.
    pub fn new(points: impl IntoIterator<Item = (u32, f64, f64)>) -> SpatialIndex {
        let sites: Vec<Site> = points
            .into_iter()
            .filter(|&(_, lat, lng)| valid_coords(lat, lng))
            .map(|(ord, lat, lng)| Site { ord, lat, lng })
            .collect();
        let plane = RTree::bulk_load(
            sites
                .iter()
                .map(|s| GeomWithData::new([s.lng, s.lat], s.ord))
                .collect(),
        );
        let sphere = RTree::bulk_load(
            sites
                .into_iter()
                .map(|s| GeomWithData::new(unit_vector(s.lat, s.lng), s))
                .collect(),
        );
        SpatialIndex {
            sphere: sphere.into(),
            plane: plane.into(),
        }
    }

    /// A copy with the points `removed` (as they were indexed) taken out and `added` put in.
    pub fn with_changes(
        &self,
        removed: &[(u32, f64, f64)],
        added: &[(u32, f64, f64)],
    ) -> SpatialIndex {
        // A point removed and added again at the same place has not moved.
        let same: Vec<(u32, f64, f64)> = removed
            .iter()
            .filter(|p| added.contains(p))
            .copied()
            .collect();
        let removed: Vec<_> = removed
            .iter()
            .filter(|p| !same.contains(p))
            .copied()
            .collect();
        let added: Vec<_> = added
            .iter()
            .filter(|p| !same.contains(p))
            .copied()
            .collect();
        if removed.is_empty() && added.is_empty() {
            return SpatialIndex {
                sphere: self.sphere.clone(),
                plane: self.plane.clone(),
            };
        }
        let (mut sphere, mut plane) = ((*self.sphere).clone(), (*self.plane).clone());
        for &(ord, lat, lng) in removed.iter().filter(|p| valid_coords(p.1, p.2)) {
            sphere.remove(&GeomWithData::new(
                unit_vector(lat, lng),
                Site { ord, lat, lng },
            ));
            plane.remove(&GeomWithData::new([lng, lat], ord));
        }
        for &(ord, lat, lng) in added.iter().filter(|p| valid_coords(p.1, p.2)) {
            sphere.insert(GeomWithData::new(
                unit_vector(lat, lng),
                Site { ord, lat, lng },
            ));
            plane.insert(GeomWithData::new([lng, lat], ord));
        }
        SpatialIndex {
            sphere: sphere.into(),
            plane: plane.into(),
        }
    }

    /// How many points the index holds.
    pub fn len(&self) -> usize {
        self.sphere.size()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All points within `radius_m` great-circle metres of (lat, lng) (inclusive), with their
    /// distances, sorted by (distance, ord).
    pub fn within(&self, lat: f64, lng: f64, radius_m: f64) -> Vec<(u32, f64)> {
        let mut out = self.within_unsorted(lat, lng, radius_m);
        sort_by_distance(&mut out);
        out
    }

    /// The points of [`SpatialIndex::within`] in no particular order, for callers that rank
    /// them by a key of their own.
    pub fn within_unsorted(&self, lat: f64, lng: f64, radius_m: f64) -> Vec<(u32, f64)> {
        if !valid_coords(lat, lng) || radius_m.is_nan() || radius_m < 0.0 {
            return Vec::new();
        }
        self.sphere
            .locate_within_distance(unit_vector(lat, lng), widened_chord2(radius_m))
            .filter_map(|g| {
                let s = g.data;
                let d = haversine_m((lat, lng), (s.lat, s.lng));
                (d <= radius_m).then_some((s.ord, d))
            })
            .collect()
    }

    /// The `k` nearest points for which `accept(ord)` is true, sorted by (distance, ord), limited to
    /// `max_m` metres (inclusive) when given.
    ///
    /// The tree is walked in increasing distance and `accept` is asked only about points reached
    /// by the walk (at most once each), so a rare filter costs a walk over the points nearer than
    /// the k-th accepted one, not a scan of everything. Without `max_m`, a filter that accepts
    /// fewer than `k` points makes the walk visit the whole index.
    pub fn nearest(
        &self,
        lat: f64,
        lng: f64,
        k: usize,
        max_m: Option<f64>,
        mut accept: impl FnMut(u32) -> bool,
    ) -> Vec<(u32, f64)> {
        let limit = max_m.unwrap_or(f64::INFINITY);
        if k == 0 || !valid_coords(lat, lng) || limit.is_nan() || limit < 0.0 {
            return Vec::new();
        }
        let mut found: Vec<(u32, f64)> = Vec::new();
        // The k smallest distances found so far, largest on top. Distances are finite and
        // non-negative, so their bit patterns order like the values.
        let mut best: BinaryHeap<u64> = BinaryHeap::with_capacity(k + 1);
        let mut kth = f64::INFINITY;
        for (g, chord2) in self
            .sphere
            .nearest_neighbor_iter_with_distance_2(&unit_vector(lat, lng))
        {
            // A lower bound of the haversine distance of this and of every later point.
            let lower = chord2_to_m(chord2) - SLACK_M;
            // Stop only once strictly past the k-th distance, so that points tied with the k-th
            // (which the walk may yield in any order) are all seen and the smaller ord can win.
            if lower > limit || lower > kth {
                break;
            }
            let s = g.data;
            if !accept(s.ord) {
                continue;
            }
            let d = haversine_m((lat, lng), (s.lat, s.lng));
            if d > limit {
                continue;
            }
            found.push((s.ord, d));
            best.push(d.to_bits());
            if best.len() > k {
                best.pop();
            }
            if best.len() == k {
                kth = f64::from_bits(*best.peek().expect("k > 0"));
            }
        }
        sort_by_distance(&mut found);
        found.truncate(k);
        found
    }

    /// All points in the lon/lat box (edges included), sorted by ord. A box with
    /// `min_lng > max_lng` is taken to cross the antimeridian; one with `min_lat > max_lat` is empty.
    pub fn in_bbox(&self, min_lng: f64, min_lat: f64, max_lng: f64, max_lat: f64) -> Vec<u32> {
        if [min_lng, min_lat, max_lng, max_lat]
            .iter()
            .any(|v| v.is_nan())
            || min_lat > max_lat
        {
            return Vec::new();
        }
        let boxes = if min_lng <= max_lng {
            vec![(min_lng, max_lng)]
        } else {
            vec![(min_lng, 180.0), (-180.0, max_lng)]
        };
        let mut out: Vec<u32> = boxes
            .into_iter()
            .flat_map(|(lo, hi)| {
                self.plane
                    .locate_in_envelope(&AABB::from_corners([lo, min_lat], [hi, max_lat]))
                    .map(|g| g.data)
            })
            .collect();
        out.sort_unstable();
        out
    }

    /// The providers whose own service circle contains (lat, lng): points with
    /// `radius_of(ord) == Some(r)` and distance ≤ r, with their distances, sorted by
    /// (distance, ord). Only points within `max_radius_m` are considered, so it must be at least
    /// the largest radius any provider has.
    pub fn reaching(
        &self,
        lat: f64,
        lng: f64,
        radius_of: impl Fn(u32) -> Option<f64>,
        max_radius_m: f64,
    ) -> Vec<(u32, f64)> {
        let mut out = self.within(lat, lng, max_radius_m);
        // `retain` keeps the (distance, ord) order of `within`.
        out.retain(|&(ord, d)| radius_of(ord).is_some_and(|r| d <= r));
        out
    }
}

fn sort_by_distance(v: &mut [(u32, f64)]) {
    v.sort_unstable_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An independent great-circle distance: the angle between unit vectors via atan2 of the
    /// cross and dot products, well conditioned at every angle.
    fn vector_distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
        let p = unit_vector(a.0, a.1);
        let q = unit_vector(b.0, b.1);
        let cross = [
            p[1] * q[2] - p[2] * q[1],
            p[2] * q[0] - p[0] * q[2],
            p[0] * q[1] - p[1] * q[0],
        ];
        let sin = (cross[0] * cross[0] + cross[1] * cross[1] + cross[2] * cross[2]).sqrt();
        let cos = p[0] * q[0] + p[1] * q[1] + p[2] * q[2];
        EARTH_RADIUS_M * sin.atan2(cos)
    }

    fn geo_distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
        use geo::{Distance, HaversineMeasure, Point};
        HaversineMeasure::new(EARTH_RADIUS_M).distance(Point::new(a.1, a.0), Point::new(b.1, b.0))
    }

    const TOKYO: (f64, f64) = (35.681236, 139.767125);
    const OMIYA: (f64, f64) = (35.906295, 139.623999);

    #[test]
    fn haversine_tokyo_omiya() {
        // By hand (flat-earth approximation, fine at this scale): Δlat = 0.225059° = 0.00392803
        // rad → 25,025.6 m north; Δlng = 0.143126° × cos(35.7938°) = 0.116077° → 12,907.3 m west;
        // √(25,025.6² + 12,907.3²) ≈ 28,158 m. (So about 28.16 km, not the 28.4 km sometimes quoted.)
        let d = haversine_m(TOKYO, OMIYA);
        assert!((d - 28_158.0).abs() < 5.0, "{d}");
        assert!((d - vector_distance_m(TOKYO, OMIYA)).abs() < 1.0);
        assert!((d - geo_distance_m(TOKYO, OMIYA)).abs() < 1.0);
        // Symmetric up to rounding.
        assert!((d - haversine_m(OMIYA, TOKYO)).abs() < 1e-6);
    }

    #[test]
    fn haversine_zero_and_antipodes() {
        assert_eq!(haversine_m(TOKYO, TOKYO), 0.0);
        assert_eq!(haversine_m((0.0, 0.0), (0.0, 0.0)), 0.0);
        let half = std::f64::consts::PI * EARTH_RADIUS_M;
        assert!((haversine_m((0.0, 0.0), (0.0, 180.0)) - half).abs() < 1e-6);
        assert!((haversine_m((90.0, 0.0), (-90.0, 0.0)) - half).abs() < 1e-6);
        let anti = (-TOKYO.0, TOKYO.1 - 180.0);
        assert!((haversine_m(TOKYO, anti) - half).abs() < 1.0);
        // One degree of longitude on the equator.
        let deg = half / 180.0;
        assert!((haversine_m((0.0, 10.0), (0.0, 11.0)) - deg).abs() < 1e-6);
    }

    #[test]
    fn haversine_agrees_with_independent_formulas() {
        let mut rng = SplitMix(7);
        for _ in 0..10_000 {
            let a = (range(&mut rng, -90.0, 90.0), range(&mut rng, -180.0, 180.0));
            let b = (range(&mut rng, -90.0, 90.0), range(&mut rng, -180.0, 180.0));
            let d = haversine_m(a, b);
            assert!((d - vector_distance_m(a, b)).abs() < 0.5, "{a:?} {b:?}");
            assert!((d - geo_distance_m(a, b)).abs() < 0.5, "{a:?} {b:?}");
        }
    }

    #[test]
    fn changes_move_points_and_share_the_trees_when_nothing_moved() {
        let idx = SpatialIndex::new(vec![(1, 35.90, 139.60), (2, 35.91, 139.61)]);
        let same = idx.with_changes(&[(1, 35.90, 139.60)], &[(1, 35.90, 139.60)]);
        assert!(std::sync::Arc::ptr_eq(&idx.sphere, &same.sphere));
        assert!(std::sync::Arc::ptr_eq(&idx.plane, &same.plane));
        let moved = idx.with_changes(
            &[(1, 35.90, 139.60)],
            &[(1, 36.50, 139.00), (3, 35.90, 139.60)],
        );
        assert_eq!(moved.len(), 3);
        assert_eq!(idx.len(), 2, "the old index is untouched");
        let near: Vec<u32> = moved
            .within(35.90, 139.60, 10.0)
            .into_iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(near, [3]);
        assert_eq!(moved.in_bbox(138.9, 36.4, 139.1, 36.6), [1]);
    }

    #[test]
    fn empty_and_degenerate_queries() {
        let idx = SpatialIndex::new(vec![
            (1, 35.9, 139.6),
            (2, f64::NAN, 139.0),
            (3, 95.0, 139.0),
            (4, 35.9, 139.6),
        ]);
        assert_eq!(idx.len(), 2);
        assert_eq!(idx.within(35.9, 139.6, 0.0), vec![(1, 0.0), (4, 0.0)]);
        assert_eq!(idx.within(35.9, 139.6, -1.0), vec![]);
        assert_eq!(idx.within(f64::NAN, 139.6, 10.0), vec![]);
        assert_eq!(idx.nearest(35.9, 139.6, 0, None, |_| true), vec![]);
        assert_eq!(idx.nearest(35.9, 139.6, 1, None, |_| true), vec![(1, 0.0)]);
        assert_eq!(idx.nearest(0.0, 0.0, 5, Some(1000.0), |_| true), vec![]);
        assert_eq!(
            idx.nearest(35.9, 139.6, 5, None, |o| o == 4),
            vec![(4, 0.0)]
        );
        assert_eq!(idx.in_bbox(139.6, 35.9, 139.6, 35.9), vec![1, 4]);
        assert!(idx.in_bbox(139.0, 36.0, 140.0, 35.0).is_empty());
        let empty = SpatialIndex::new(std::iter::empty());
        assert!(empty.is_empty());
        assert_eq!(empty.nearest(35.9, 139.6, 3, None, |_| true), vec![]);
        assert_eq!(empty.within(35.9, 139.6, 1e9), vec![]);
    }

    #[test]
    fn whole_earth_and_antimeridian() {
        let pts = vec![
            (0, 0.0, 179.9),
            (1, 0.0, -179.9),
            (2, 10.0, 0.0),
            (3, -89.0, 30.0),
        ];
        let idx = SpatialIndex::new(pts);
        // A radius of half the circumference covers everything.
        let all = idx.within(0.0, 0.0, std::f64::consts::PI * EARTH_RADIUS_M);
        assert_eq!(all.len(), 4);
        assert_eq!(idx.nearest(0.0, 180.0, 2, None, |_| true).len(), 2);
        let near = idx.within(0.0, 180.0, 20_000.0);
        assert_eq!(near.iter().map(|p| p.0).collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!(idx.in_bbox(179.0, -1.0, -179.0, 1.0), vec![0, 1]);
    }

    use crate::domain::SplitMix64 as SplitMix;

    fn range(rng: &mut SplitMix, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * rng.unit()
    }

    fn mix(ord: u32, seed: u64) -> u64 {
        SplitMix(seed ^ (u64::from(ord) << 20)).next_u64()
    }

    /// Points around Saitama with scrambled, unique ords; `dups` copies existing coordinates
    /// under new ords so that distance ties happen.
    fn points_strategy() -> impl Strategy<Value = Vec<(u32, f64, f64)>> {
        (
            prop::collection::vec((35.7f64..36.3, 138.7f64..139.9), 0..2000),
            prop::collection::vec(any::<prop::sample::Index>(), 0..200),
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
                    .map(|(i, (lat, lng))| ((i as u32).wrapping_mul(2_654_435_761), lat, lng))
                    .collect()
            })
    }

    /// A query point: anywhere around the region, or exactly on one of the points.
    fn query_point(
        pts: &[(u32, f64, f64)],
        pick: Option<prop::sample::Index>,
        lat: f64,
        lng: f64,
    ) -> (f64, f64) {
        match pick {
            Some(i) if !pts.is_empty() => {
                let p = pts[i.index(pts.len())];
                (p.1, p.2)
            }
            _ => (lat, lng),
        }
    }

    fn brute(
        pts: &[(u32, f64, f64)],
        lat: f64,
        lng: f64,
        keep: impl Fn(u32, f64) -> bool,
    ) -> Vec<(u32, f64)> {
        let mut v: Vec<(u32, f64)> = pts
            .iter()
            .map(|&(o, plat, plng)| (o, haversine_m((lat, lng), (plat, plng))))
            .filter(|&(o, d)| keep(o, d))
            .collect();
        sort_by_distance(&mut v);
        v
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn within_matches_brute_force(
            pts in points_strategy(),
            pick in proptest::option::of(any::<prop::sample::Index>()),
            lat in 35.6f64..36.4, lng in 138.6f64..140.0,
            radius in prop_oneof![Just(0.0), 0.0f64..2_000.0, 0.0f64..60_000.0],
        ) {
            let (lat, lng) = query_point(&pts, pick, lat, lng);
            let idx = SpatialIndex::new(pts.clone());
            let got = idx.within(lat, lng, radius);
            let want = brute(&pts, lat, lng, |_, d| d <= radius);
            prop_assert_eq!(got, want);
        }

        #[test]
        fn nearest_matches_brute_force(
            pts in points_strategy(),
            pick in proptest::option::of(any::<prop::sample::Index>()),
            lat in 35.6f64..36.4, lng in 138.6f64..140.0,
            k in 1usize..=50,
            max_m in proptest::option::of(prop_oneof![Just(0.0), 0.0f64..5_000.0, 0.0f64..50_000.0]),
            // Acceptance per mille: everything, half, rare (1%), nothing.
            rate in prop_oneof![Just(1000u64), Just(500), Just(10), Just(0)],
            seed in any::<u64>(),
        ) {
            let (lat, lng) = query_point(&pts, pick, lat, lng);
            let accept = |o: u32| mix(o, seed) % 1000 < rate;
            let idx = SpatialIndex::new(pts.clone());
            let mut asked = std::collections::HashSet::new();
            let got = idx.nearest(lat, lng, k, max_m, |o| {
                assert!(asked.insert(o), "accept asked twice about {o}");
                accept(o)
            });
            let limit = max_m.unwrap_or(f64::INFINITY);
            let mut want = brute(&pts, lat, lng, |o, d| accept(o) && d <= limit);
            want.truncate(k);
            prop_assert_eq!(got, want);
        }

        #[test]
        fn in_bbox_matches_brute_force(
            pts in points_strategy(),
            a in (35.6f64..36.4, 138.6f64..140.0),
            b in (35.6f64..36.4, 138.6f64..140.0),
            edges in proptest::option::of((any::<prop::sample::Index>(), any::<prop::sample::Index>())),
        ) {
            // Sometimes put the edges exactly on points, to check that edges are included.
            let (a, b) = match edges {
                Some((i, j)) if !pts.is_empty() => {
                    let p = pts[i.index(pts.len())];
                    let q = pts[j.index(pts.len())];
                    ((p.1, p.2), (q.1, q.2))
                }
                _ => (a, b),
            };
            let (min_lat, max_lat) = (a.0.min(b.0), a.0.max(b.0));
            let (min_lng, max_lng) = (a.1.min(b.1), a.1.max(b.1));
            let idx = SpatialIndex::new(pts.clone());
            let got = idx.in_bbox(min_lng, min_lat, max_lng, max_lat);
            let mut want: Vec<u32> = pts
                .iter()
                .filter(|p| p.1 >= min_lat && p.1 <= max_lat && p.2 >= min_lng && p.2 <= max_lng)
                .map(|p| p.0)
                .collect();
            want.sort_unstable();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn reaching_matches_brute_force(
            pts in points_strategy(),
            pick in proptest::option::of(any::<prop::sample::Index>()),
            lat in 35.6f64..36.4, lng in 138.6f64..140.0,
            max_radius in prop_oneof![Just(0.0), 0.0f64..40_000.0],
            seed in any::<u64>(),
        ) {
            let (lat, lng) = query_point(&pts, pick, lat, lng);
            // About a third are providers, with radii up to max_radius (some exactly max_radius).
            let radius_of = |o: u32| {
                let h = mix(o, seed);
                match h % 3 {
                    0 if h.is_multiple_of(7) => Some(max_radius),
                    0 => Some(max_radius * ((h >> 8) % 1000) as f64 / 1000.0),
                    _ => None,
                }
            };
            let idx = SpatialIndex::new(pts.clone());
            let got = idx.reaching(lat, lng, radius_of, max_radius);
            let want = brute(&pts, lat, lng, |o, d| radius_of(o).is_some_and(|r| d <= r));
            prop_assert_eq!(got, want);
        }
    }
}
