//! GeoJSON (RFC 7946: lon,lat order, no `crs`) for every map layer, through the `geojson`
//! crate: facility points or server-side clusters, one facility, and the area and municipality
//! outlines. Large collections are streamed feature by feature. Shared with the benchmark.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::web::Bytes;
use geojson::{Feature, Geometry, JsonObject, JsonValue};
use serde_json::json;

use crate::catalog::cluster::{ClusterItem, ClusterPoint, cluster};
use crate::catalog::{Catalog, Hit};
use crate::domain::{Area, Municipality, ServiceStatus, round6};

/// Cluster radius in screen pixels.
pub const CLUSTER_RADIUS_PX: f64 = 40.0;

/// Features serialized per streamed chunk.
const CHUNK: usize = 256;

pub const CONTENT_TYPE: &str = "application/geo+json";

fn point(lat: f64, lng: f64) -> Geometry {
    Geometry::new(geojson::Value::Point(vec![round6(lng), round6(lat)]))
}

/// The public properties of a facility point: id, name, kind, services, area (and the
/// distance from the query point when there is one).
pub fn point_properties(
    catalog: &Catalog,
    ord: u32,
    distance_m: Option<f64>,
    distance_precision_m: Option<u32>,
) -> JsonObject {
    let f = catalog.at(ord);
    let services: Vec<&str> = f
        .services
        .iter()
        .filter(|s| s.status != ServiceStatus::Inactive)
        .map(|s| s.kind.code())
        .collect();
    let mut props = JsonObject::new();
    props.insert("id".into(), json!(f.id));
    props.insert("name".into(), json!(f.name));
    props.insert("kind".into(), json!(f.kind.code()));
    props.insert("services".into(), json!(services));
    props.insert("area".into(), json!(f.area_code));
    if let Some(g) = &f.gathering {
        let today = crate::domain::schedule::jst(time::OffsetDateTime::now_utc()).date();
        if let Some(d) = g.schedule.next(today, 1).first() {
            props.insert("next_date".into(), json!(super::dto::iso_date(*d)));
        }
        props.insert("schedule_label".into(), json!(g.schedule.label_ja()));
    }
    if let Some(d) = distance_m {
        props.insert("distance_m".into(), json!(d.round() as u64));
        if let Some(p) = distance_precision_m {
            props.insert("distance_precision_m".into(), json!(p));
        }
    }
    props
}

/// A point Feature with `id` whose properties are `props` serialized (an object) without its
/// `location`; a facility without a place has a null geometry.
pub fn point_feature<T: serde::Serialize>(
    id: &str,
    location: Option<crate::domain::LatLng>,
    props: &T,
) -> Result<Feature, serde_json::Error> {
    let mut properties = match serde_json::to_value(props)? {
        JsonValue::Object(o) => o,
        _ => JsonObject::new(),
    };
    properties.remove("location");
    Ok(Feature {
        bbox: None,
        geometry: location.map(|l| point(l.lat, l.lng)),
        id: Some(geojson::feature::Id::String(id.to_string())),
        properties: Some(properties),
        foreign_members: None,
    })
}

/// One facility as a Feature with its id; a facility without a place has a null geometry.
pub fn facility_feature(catalog: &Catalog, ord: u32) -> Feature {
    let f = catalog.entry(ord);
    Feature {
        bbox: None,
        geometry: f.location.map(|l| point(l.lat, l.lng)),
        id: Some(geojson::feature::Id::String(f.id.to_string())),
        properties: Some(point_properties(catalog, ord, None, None)),
        foreign_members: None,
    }
}

fn cluster_feature(item: &ClusterItem) -> Option<Feature> {
    let ClusterItem::Cluster {
        count,
        lat,
        lng,
        kinds,
        bbox,
        ..
    } = item
    else {
        return None;
    };
    let bbox: Vec<f64> = bbox.iter().map(|&v| round6(v)).collect();
    let mut props = JsonObject::new();
    props.insert("cluster".into(), json!(true));
    props.insert("count".into(), json!(count));
    props.insert("kinds".into(), json!(kinds));
    props.insert("bbox".into(), json!(bbox));
    Some(Feature {
        bbox: Some(bbox),
        geometry: Some(point(*lat, *lng)),
        id: None,
        properties: Some(props),
        foreign_members: None,
    })
}

/// The layer items of placed hits: clusters at `zoom`, or every point.
pub fn layer_items(catalog: &Catalog, hits: &[Hit], zoom: Option<u8>) -> Vec<ClusterItem> {
    let placed = hits
        .iter()
        .filter(|h| catalog.entry(h.ord).location.is_some());
    match zoom {
        Some(z) => {
            let points: Vec<ClusterPoint> = placed
                .filter_map(|h| {
                    let f = catalog.entry(h.ord);
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
    }
}

/// A facility layer: its items, the distances of the hits, and members for the collection.
pub struct Layer {
    pub catalog: Arc<Catalog>,
    pub items: Vec<ClusterItem>,
    /// Distance and its precision per ord, when the query had a point.
    pub distances: HashMap<u32, (f64, Option<u32>)>,
    /// Foreign members of the collection (`total`, `next`).
    pub members: JsonObject,
}

impl Layer {
    fn feature(&self, item: &ClusterItem) -> Option<Feature> {
        match item {
            ClusterItem::Point(ord) => {
                let l = self.catalog.entry(*ord).location?;
                let (d, p) = self
                    .distances
                    .get(ord)
                    .map_or((None, None), |(d, p)| (Some(*d), *p));
                Some(Feature {
                    bbox: None,
                    geometry: Some(point(l.lat, l.lng)),
                    id: None,
                    properties: Some(point_properties(&self.catalog, *ord, d, p)),
                    foreign_members: None,
                })
            }
            cluster => cluster_feature(cluster),
        }
    }

    /// The whole collection as one value (tests and the benchmark).
    pub fn to_value(&self) -> JsonValue {
        let features: Vec<JsonValue> = self
            .items
            .iter()
            .filter_map(|i| self.feature(i))
            .filter_map(|f| serde_json::to_value(f).ok())
            .collect();
        let mut body = JsonObject::new();
        body.insert("type".into(), json!("FeatureCollection"));
        body.extend(self.members.clone());
        body.insert("features".into(), JsonValue::Array(features));
        JsonValue::Object(body)
    }

    /// The collection streamed: the head with the foreign members, then chunks of features.
    pub fn into_response(self) -> HttpResponse {
        let mut head = String::from("{\"type\":\"FeatureCollection\"");
        for (k, v) in &self.members {
            head.push(',');
            head.push_str(&JsonValue::String(k.clone()).to_string());
            head.push(':');
            head.push_str(&v.to_string());
        }
        head.push_str(",\"features\":[");
        let layer = Arc::new(self);
        let n = layer.items.len();
        let mut first = true;
        let chunks = (0..n.div_ceil(CHUNK)).map(move |c| {
            let mut buf = Vec::with_capacity(CHUNK * 200);
            for item in &layer.items[c * CHUNK..((c + 1) * CHUNK).min(n)] {
                if let Some(f) = layer.feature(item) {
                    if !std::mem::take(&mut first) {
                        buf.push(b',');
                    }
                    serde_json::to_writer(&mut buf, &f).map_err(std::io::Error::other)?;
                }
            }
            Ok::<Bytes, std::io::Error>(Bytes::from(buf))
        });
        let body = std::iter::once(Ok(Bytes::from(head)))
            .chain(chunks)
            .chain(std::iter::once(Ok(Bytes::from_static(b"]}"))));
        HttpResponse::Ok()
            .content_type(CONTENT_TYPE)
            .streaming(futures_util::stream::iter(body))
    }
}

fn outline(id: &str, geometry: Option<&JsonValue>, props: JsonObject) -> Feature {
    Feature {
        bbox: None,
        geometry: geometry.and_then(|g| Geometry::from_json_value(g.clone()).ok()),
        id: Some(geojson::feature::Id::String(id.to_string())),
        properties: Some(props),
        foreign_members: None,
    }
}

fn collection(features: Vec<Feature>) -> geojson::FeatureCollection {
    geojson::FeatureCollection {
        bbox: None,
        features,
        foreign_members: None,
    }
}

/// 二次医療圏 outlines with code, name, prefecture and population.
pub fn areas(areas: &[Area]) -> geojson::FeatureCollection {
    collection(
        areas
            .iter()
            .map(|a| {
                let mut p = JsonObject::new();
                p.insert("code".into(), json!(a.code));
                p.insert("name".into(), json!(a.name));
                p.insert("prefecture".into(), json!(a.prefecture));
                p.insert("population".into(), json!(a.population));
                outline(&a.code, a.geometry.as_ref(), p)
            })
            .collect(),
    )
}

/// 市区町村 outlines with code, name and area code.
pub fn municipalities<'a>(
    municipalities: impl Iterator<Item = &'a Municipality>,
) -> geojson::FeatureCollection {
    collection(
        municipalities
            .map(|m| {
                let mut p = JsonObject::new();
                p.insert("code".into(), json!(m.code));
                p.insert("name".into(), json!(m.name));
                p.insert("area_code".into(), json!(m.area_code));
                outline(&m.code, m.geometry.as_ref(), p)
            })
            .collect(),
    )
}
