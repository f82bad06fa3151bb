//! GeoJSON (RFC 7946) for facility layers: points, or server-side clusters at a zoom level.
//! Shared by the HTTP handlers and the benchmark so both measure the same work.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::catalog::cluster::{ClusterItem, ClusterPoint, cluster, feature_collection};
use crate::catalog::{Catalog, Hit};

/// Cluster radius in screen pixels.
pub const CLUSTER_RADIUS_PX: f64 = 40.0;

pub fn point_properties(catalog: &Catalog, ord: u32, distance_m: Option<f64>) -> Value {
    let f = catalog.at(ord);
    let services: Vec<&str> = f
        .services
        .iter()
        .filter(|s| s.status != crate::domain::ServiceStatus::Inactive)
        .map(|s| s.kind.code())
        .collect();
    let mut props = json!({
        "id": f.id,
        "name": f.name,
        "kind": f.kind.code(),
        "services": services,
        "area": f.area_code,
    });
    if let Some(d) = distance_m {
        props["distance_m"] = json!(d.round() as u64);
    }
    props
}

/// A FeatureCollection of the placed hits; clustered when a zoom is given.
pub fn facilities_collection(catalog: &Catalog, hits: &[Hit], zoom: Option<u8>) -> Value {
    let distances: HashMap<u32, f64> = hits
        .iter()
        .filter_map(|h| h.distance_m.map(|d| (h.ord, d)))
        .collect();
    let placed = hits.iter().filter(|h| catalog.at(h.ord).location.is_some());
    let items: Vec<ClusterItem> = match zoom {
        Some(z) => {
            let points: Vec<ClusterPoint> = placed
                .filter_map(|h| {
                    let f = catalog.at(h.ord);
                    f.location.map(|l| ClusterPoint {
                        ord: h.ord,
                        lat: l.lat,
                        lng: l.lng,
                        kind: f.kind.code(),
                    })
                })
                .collect();
            cluster(&points, z, CLUSTER_RADIUS_PX)
        }
        None => placed.map(|h| ClusterItem::Point(h.ord)).collect(),
    };
    let coords = |ord: u32| {
        catalog
            .at(ord)
            .location
            .map(|l| (l.lat, l.lng))
            .unwrap_or((0.0, 0.0))
    };
    feature_collection(
        &items,
        |ord| point_properties(catalog, ord, distances.get(&ord).copied()),
        coords,
    )
}
