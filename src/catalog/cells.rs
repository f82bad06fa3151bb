//! Grid cells on lon/lat at three sizes, indexed with each facility's text so a text query
//! near a point intersects postings with the cells around it instead of scoring every match.

/// Cell sizes in degrees, finest first.
const SIZES: [(char, f64); 3] = [('f', 0.05), ('m', 0.25), ('c', 1.0)];
/// The most cells a query may name at one size before a coarser size is used.
const MAX_CELLS: i64 = 16;

fn key(level: char, ix: i64, iy: i64) -> String {
    format!("{level}{ix}:{iy}")
}

/// The cell keys of a point, one per size.
pub fn of_point(lat: f64, lng: f64) -> Vec<String> {
    SIZES
        .iter()
        .map(|(level, size)| {
            key(
                *level,
                (lng / size).floor() as i64,
                (lat / size).floor() as i64,
            )
        })
        .collect()
}

/// Cells covering the circle of `radius_m` around a point (a superset of it), at the finest
/// size that needs at most [`MAX_CELLS`]; `None` when even the coarsest would need more.
pub fn covering(lat: f64, lng: f64, radius_m: f64) -> Option<Vec<String>> {
    const M_PER_DEG_LAT: f64 = 111_000.0; // slightly under the true 111,320: errs wider
    let dlat = radius_m / M_PER_DEG_LAT * 1.01;
    let max_abs_lat = (lat.abs() + dlat).min(89.0);
    let dlng = radius_m / (M_PER_DEG_LAT * max_abs_lat.to_radians().cos()) * 1.01;
    let (min_lat, max_lat) = (lat - dlat, lat + dlat);
    let (min_lng, max_lng) = (lng - dlng, lng + dlng);
    if min_lng < -180.0 || max_lng > 180.0 {
        return None;
    }
    for (level, size) in SIZES {
        let (x0, x1) = (
            (min_lng / size).floor() as i64,
            (max_lng / size).floor() as i64,
        );
        let (y0, y1) = (
            (min_lat / size).floor() as i64,
            (max_lat / size).floor() as i64,
        );
        if (x1 - x0 + 1) * (y1 - y0 + 1) <= MAX_CELLS {
            return Some(
                (x0..=x1)
                    .flat_map(|x| (y0..=y1).map(move |y| key(level, x, y)))
                    .collect(),
            );
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::haversine_m;

    #[test]
    fn every_point_within_the_radius_is_in_a_covering_cell() {
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..2000 {
            let (lat, lng) = (24.0 + next() * 22.0, 123.0 + next() * 23.0);
            let r = 100.0 + next() * 99_900.0;
            let cover = covering(lat, lng, r).expect("cover");
            for _ in 0..50 {
                // A random point in the circle's neighbourhood.
                let (plat, plng) = (
                    lat + (next() - 0.5) * 2.0 * r / 100_000.0,
                    lng + (next() - 0.5) * 2.5 * r / 90_000.0,
                );
                if haversine_m((lat, lng), (plat, plng)) <= r {
                    let mine = of_point(plat, plng);
                    assert!(
                        mine.iter().any(|c| cover.contains(c)),
                        "{plat},{plng} r={r}"
                    );
                }
            }
        }
    }
}
