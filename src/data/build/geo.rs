//! Small geometry helpers on GeoJSON values (lon,lat): rounding, merging, point-in-polygon.

use serde_json::Value;

pub use crate::domain::round6;

/// Round every number of a GeoJSON coordinates array in place.
pub fn round_coords(v: &mut Value) {
    match v {
        Value::Array(a) => a.iter_mut().for_each(round_coords),
        Value::Number(n) => {
            if let Some(f) = n.as_f64()
                && let Some(r) = serde_json::Number::from_f64(round6(f))
            {
                *n = r;
            }
        }
        _ => {}
    }
}

/// Whether a point is plausibly in Japan (excludes 0,0 sentinels and swapped values).
pub fn in_japan(lat: f64, lng: f64) -> bool {
    (20.0..=46.5).contains(&lat) && (122.0..=154.5).contains(&lng)
}

/// The polygons (each a list of rings) of a Polygon or MultiPolygon geometry.
pub fn polygons(geometry: &Value) -> Vec<Value> {
    let coords = geometry.get("coordinates").cloned().unwrap_or(Value::Null);
    match geometry.get("type").and_then(Value::as_str) {
        Some("Polygon") => vec![coords],
        Some("MultiPolygon") => coords.as_array().cloned().unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// A MultiPolygon geometry from a list of polygons.
pub fn multipolygon(polys: Vec<Value>) -> Value {
    serde_json::json!({ "type": "MultiPolygon", "coordinates": polys })
}

/// Rings as plain (lng, lat) vectors, for fast point-in-polygon tests.
#[derive(Debug, Clone, Default)]
pub struct Outline {
    rings: Vec<Vec<(f64, f64)>>,
}

impl Outline {
    pub fn add_geometry(&mut self, geometry: &Value) {
        for poly in polygons(geometry) {
            for ring in poly.as_array().into_iter().flatten() {
                let pts: Vec<(f64, f64)> = ring
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
                    .collect();
                if pts.len() >= 3 {
                    self.rings.push(pts);
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rings.is_empty()
    }

    /// Even-odd rule over all rings (holes subtract, disjoint parts add).
    pub fn contains(&self, lat: f64, lng: f64) -> bool {
        let mut inside = false;
        for ring in &self.rings {
            let n = ring.len();
            let mut j = n - 1;
            for i in 0..n {
                let (xi, yi) = ring[i];
                let (xj, yj) = ring[j];
                if (yi > lat) != (yj > lat) && lng < (xj - xi) * (lat - yi) / (yj - yi) + xi {
                    inside = !inside;
                }
                j = i;
            }
        }
        inside
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pip() {
        let g = serde_json::json!({"type":"Polygon","coordinates":[[[0.0,0.0],[10.0,0.0],[10.0,10.0],[0.0,10.0],[0.0,0.0]],[[4.0,4.0],[6.0,4.0],[6.0,6.0],[4.0,6.0],[4.0,4.0]]]});
        let mut o = Outline::default();
        o.add_geometry(&g);
        assert!(o.contains(1.0, 1.0));
        assert!(!o.contains(5.0, 5.0));
        assert!(!o.contains(11.0, 1.0));
        assert_eq!(round6(139.12345678), 139.123457);
    }
}
