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
use crate::catalog::layers::{LayerCluster, LayerFilter, LayerItem, LayerView};
use crate::catalog::{Catalog, Hit, SearchRequest};
use crate::domain::{Area, Municipality, ServiceStatus, round6};

/// Cluster radius in screen pixels.
pub const CLUSTER_RADIUS_PX: f64 = crate::catalog::cluster::RADIUS_PX;

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
        let head = collection_head(&self.members);
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

/// The precomputed layer that answers a clustered request exactly: no filter but the box, or a
/// single kind or a single service. Anything else (text, places, several values, formulary,
/// traits) takes the search path.
pub fn precomputed_filter(r: &SearchRequest) -> Option<LayerFilter> {
    // Named field by field, so a new filter cannot slip past this test unnoticed.
    let SearchRequest {
        kinds,
        services,
        areas,
        municipalities,
        text,
        near,
        address,
        radius_km,
        bbox: _,
        reaches,
        // The order of hits does not change clusters; pages do not apply to them.
        sort: _,
        facets,
        formulary,
        after_hours,
        specialists,
        open_at,
        limit: _,
        cursor: _,
    } = r;
    let plain = areas.is_empty()
        && municipalities.is_empty()
        && text.is_none()
        && near.is_none()
        && address.is_none()
        && radius_km.is_none()
        && reaches.is_none()
        && facets.is_empty()
        && formulary.is_none()
        && !after_hours
        && specialists.is_empty()
        && open_at.is_none();
    if !plain {
        return None;
    }
    match (kinds.as_slice(), services.as_slice()) {
        ([], []) => Some(LayerFilter::All),
        ([k], []) => Some(LayerFilter::Kind(*k)),
        ([], [s]) => Some(LayerFilter::Service(*s)),
        _ => None,
    }
}

/// The ETag of a layer response that depends only on the snapshot and the request: the
/// snapshot's change-log position, today's JST date (a group's `next_date`), the build and a
/// digest of the query string.
pub fn layer_etag(catalog: &Catalog, query: &str) -> String {
    use sha2::Digest;
    let today = crate::domain::schedule::jst(time::OffsetDateTime::now_utc()).date();
    let digest = sha2::Sha256::digest(query.as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "\"gj-{}-{}-{today}-{hex}\"",
        env!("CARGO_PKG_VERSION"),
        catalog.change_seq()
    )
}

/// Write `v` as JSON (finite numbers as serde_json writes them, so both paths agree).
fn write_num(buf: &mut Vec<u8>, v: f64) {
    // Writing a number into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *buf, &v);
}

/// A cluster of a precomputed level as a Feature, written directly: the same members as
/// [`cluster_feature`] without building a value tree.
fn write_layer_cluster(buf: &mut Vec<u8>, c: &LayerCluster) {
    let mut bbox = Vec::with_capacity(40);
    bbox.push(b'[');
    for (k, v) in c.bbox.iter().enumerate() {
        if k > 0 {
            bbox.push(b',');
        }
        write_num(&mut bbox, round6(*v));
    }
    bbox.push(b']');
    buf.extend_from_slice(b"{\"type\":\"Feature\",\"bbox\":");
    buf.extend_from_slice(&bbox);
    buf.extend_from_slice(b",\"geometry\":{\"type\":\"Point\",\"coordinates\":[");
    write_num(buf, round6(c.lng));
    buf.push(b',');
    write_num(buf, round6(c.lat));
    buf.extend_from_slice(b"]},\"properties\":{\"bbox\":");
    buf.extend_from_slice(&bbox);
    buf.extend_from_slice(b",\"cluster\":true,\"count\":");
    buf.extend_from_slice(c.count.to_string().as_bytes());
    buf.extend_from_slice(b",\"kinds\":{");
    for (k, (kind, n)) in c.kinds.iter().enumerate() {
        if k > 0 {
            buf.push(b',');
        }
        let _ = serde_json::to_writer(&mut *buf, kind);
        buf.push(b':');
        buf.extend_from_slice(n.to_string().as_bytes());
    }
    buf.extend_from_slice(b"}}}");
}

fn write_layer_item(buf: &mut Vec<u8>, catalog: &Catalog, item: LayerItem<'_>) {
    match item {
        LayerItem::Cluster(c) => write_layer_cluster(buf, c),
        LayerItem::Point(ord) => {
            let Some(l) = catalog.entry(ord).location else {
                return;
            };
            let f = Feature {
                bbox: None,
                geometry: Some(point(l.lat, l.lng)),
                id: None,
                properties: Some(point_properties(catalog, ord, None, None)),
                foreign_members: None,
            };
            let _ = serde_json::to_writer(&mut *buf, &f);
        }
    }
}

/// The opening of a FeatureCollection with its foreign members, up to the features' `[`.
fn collection_head(members: &JsonObject) -> String {
    let mut head = String::from("{\"type\":\"FeatureCollection\"");
    for (k, v) in members {
        head.push(',');
        head.push_str(&JsonValue::String(k.clone()).to_string());
        head.push(':');
        head.push_str(&v.to_string());
    }
    head.push_str(",\"features\":[");
    head
}

/// A view of a precomputed cluster level as one FeatureCollection body (the benchmark, and
/// small views).
pub fn view_body(catalog: &Catalog, view: &LayerView, members: &JsonObject) -> Vec<u8> {
    let head = collection_head(members);
    let mut buf = Vec::with_capacity(head.len() + view.len() * 240 + 2);
    buf.extend_from_slice(head.as_bytes());
    for (k, item) in view.items().enumerate() {
        if k > 0 {
            buf.push(b',');
        }
        write_layer_item(&mut buf, catalog, item);
    }
    buf.extend_from_slice(b"]}");
    buf
}

/// A view of a precomputed cluster level as a FeatureCollection with `members`: one body when
/// small, else streamed in chunks of features. Points are rendered from `catalog` (the snapshot
/// the view was made from).
pub fn view_response(catalog: Arc<Catalog>, view: LayerView, members: &JsonObject) -> HttpResponse {
    let n = view.len();
    if n <= CHUNK {
        let body = view_body(&catalog, &view, members);
        return HttpResponse::Ok().content_type(CONTENT_TYPE).body(body);
    }
    let head = collection_head(members);
    let view = Arc::new(view);
    let chunks = (0..n.div_ceil(CHUNK)).map(move |c| {
        let mut buf = Vec::with_capacity(CHUNK * 240);
        for (k, item) in view.items_range(c * CHUNK, (c + 1) * CHUNK).enumerate() {
            if c > 0 || k > 0 {
                buf.push(b',');
            }
            write_layer_item(&mut buf, &catalog, item);
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
