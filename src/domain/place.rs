//! Places shared by every layer: town and municipality references of the geocoder, what a
//! geocoder answers, great-circle distance in metres, and how precise a placement is.

use serde::{Deserialize, Serialize};

use super::Placement;

/// Mean Earth radius (IUGG, the GRS80 mean radius R1) in metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Great-circle distance in metres between two `(lat, lng)` points given in degrees (haversine).
pub fn haversine_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lng1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lng2) = (b.0.to_radians(), b.1.to_radians());
    let s_lat = ((lat2 - lat1) * 0.5).sin();
    let s_lng = ((lng2 - lng1) * 0.5).sin();
    let h = s_lat * s_lat + lat1.cos() * lat2.cos() * s_lng * s_lng;
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// A coordinate rounded to 6 decimals (about 0.1 m): plenty for a map, smaller on the wire.
pub fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

impl Placement {
    /// How far, in metres, the placed point may lie from the real building, as measured for
    /// this placement level: published coordinates are within a few tens of metres; a town
    /// (町丁目/大字) representative point is within 1.2 km for 90% of hospitals (the geocoder
    /// evaluation's 90th percentile); a municipality point within a few kilometres.
    /// `None` for an unplaced facility.
    pub fn uncertainty_m(self) -> Option<u32> {
        match self {
            Placement::Source => Some(50),
            Placement::Town => Some(1_200),
            Placement::City => Some(5_000),
            Placement::Unplaced => None,
        }
    }
}

/// One 市区町村 of the geocoder reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MuniRef {
    /// 5-digit 市区町村コード.
    pub code: String,
    /// 都道府県名, e.g. 埼玉県.
    pub prefecture: String,
    /// Name as Geolonia writes it (郡 kept), e.g. `さいたま市浦和区`, `入間郡越生町`.
    pub name: String,
    /// 二次医療圏 code, when known.
    pub area_code: Option<String>,
}

/// One 町丁目/大字 (optionally 小字) representative point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TownRef {
    pub muni_code: String,
    /// e.g. `大原一丁目`, `大字三条町`.
    pub town: String,
    /// 小字・通称名, often empty.
    pub koaza: String,
    pub lat: f64,
    pub lng: f64,
}

/// A successful lookup.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GeocodeMatch {
    pub lat: f64,
    pub lng: f64,
    /// `Town` or `City`.
    pub level: Placement,
    /// The normalized address that was looked up.
    pub normalized: String,
    pub prefecture: String,
    pub municipality_code: String,
    pub municipality: String,
    pub area_code: Option<String>,
    /// The matched town name, at town level.
    pub town: Option<String>,
}

/// Why nothing matched (or only the prefecture did).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GeocodeMiss {
    pub normalized: String,
    /// The prefecture recognised, if any.
    pub prefecture: Option<String>,
    /// The input held only a postal code (〒): no postal-code table is served, so the caller
    /// must type the address.
    pub postal_code_only: bool,
}

/// Places an address. Implemented by the offline gazetteer; the catalog's planner asks it, so
/// the read model does not depend on how addresses are looked up.
pub trait Geocoder: Send + Sync {
    fn geocode(&self, address: &str) -> Result<GeocodeMatch, GeocodeMiss>;

    /// What the reference covers, for `/api/v1/config` and the README.
    fn coverage(&self) -> Coverage;
}

/// The served geocoder reference.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// 都道府県名 with at least one town, in code order.
    pub prefectures: Vec<String>,
    pub municipalities: usize,
    pub towns: usize,
}

/// SplitMix64: a tiny, fast, deterministic generator for synthetic data, benchmarks and
/// property tests (the same seed asks the same questions on every machine). Not for secrets.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

/// The SplitMix64 output mix.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl SplitMix64 {
    /// An independent stream for item `i` of a run with `seed`.
    pub fn for_item(seed: u64, i: u64) -> Self {
        SplitMix64(mix64(seed ^ mix64(i.wrapping_add(0x9E37_79B9_7F4A_7C15))))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    /// Uniform in `0..n` (multiply-shift, no modulo bias; 0 when n is 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haversine_matches_known_distances() {
        // Two points in さいたま市 about 6.1 km apart; one degree of latitude about 111.2 km.
        let d = haversine_m((35.8588, 139.6572), (35.9064, 139.6238));
        assert!((d - 6_088.45).abs() < 0.01, "{d}");
        let deg = haversine_m((35.0, 139.0), (36.0, 139.0));
        assert!((deg - 111_195.0).abs() < 5.0, "{deg}");
        assert_eq!(haversine_m((35.0, 139.0), (35.0, 139.0)), 0.0);
    }

    #[test]
    fn round6_keeps_six_decimals() {
        assert_eq!(round6(139.123_456_78), 139.123_457);
        assert_eq!(round6(-35.000_000_4), -35.0);
    }

    #[test]
    fn splitmix_is_deterministic() {
        let mut a = SplitMix64(7);
        let mut b = SplitMix64(7);
        let xs: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert!((0..1000).all(|_| a.unit() < 1.0 && a.below(10) < 10));
    }
}
