//! The clustered facility layer (`/api/v1/facilities.geojson?cluster=1`) against a brute-force
//! oracle: greedy clustering of every located match in id order, then the box filter on the
//! cluster's position; and its ETag / `Cache-Control` / 304 behaviour. `near_words`: the common-word
//! cache of radius searches against the postings path.

mod near_words;

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::{App, test as atest};
use serde_json::Value;

use pallimap::catalog::Catalog;
use pallimap::catalog::cluster::{RADIUS_PX, UNCLUSTERED_ZOOM, mercator_px};
use pallimap::catalog::layers::{LayerCache, LayerFilter, LayerItem};
use pallimap::domain::{Facility, FacilityKind, ServiceKind, round6};
use pallimap::http::configure;

use crate::api::state;

/// What the oracle expects of one feature.
#[derive(Debug, Clone, PartialEq)]
enum Want {
    Point {
        id: String,
        at: [f64; 2],
    },
    Cluster {
        count: u64,
        at: [f64; 2],
        bbox: [f64; 4],
        kinds: BTreeMap<String, u64>,
    },
}

/// Unrounded position of an expected item, for the box test.
struct Placed {
    lat: f64,
    lng: f64,
    want: Want,
}

/// Greedy clustering by brute force: located facilities passing `keep`, seeds in id order,
/// each taking every ungrouped point within the radius (O(n × seeds)).
fn oracle_items(facilities: &[&Facility], zoom: u8) -> Vec<Placed> {
    let mut pts: Vec<(&Facility, f64, f64)> = facilities
        .iter()
        .filter_map(|f| f.location.map(|l| (*f, l.lat, l.lng)))
        .collect();
    pts.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    let px: Vec<(f64, f64)> = pts.iter().map(|p| mercator_px(p.1, p.2, zoom)).collect();
    let mut grouped = vec![false; pts.len()];
    let mut out = Vec::new();
    for s in 0..pts.len() {
        if grouped[s] {
            continue;
        }
        grouped[s] = true;
        let mut group = vec![s];
        if zoom < UNCLUSTERED_ZOOM {
            for j in s + 1..pts.len() {
                let (dx, dy) = (px[j].0 - px[s].0, px[j].1 - px[s].1);
                if !grouped[j] && dx * dx + dy * dy <= RADIUS_PX * RADIUS_PX {
                    grouped[j] = true;
                    group.push(j);
                }
            }
        }
        if let [only] = group[..] {
            let (f, lat, lng) = pts[only];
            out.push(Placed {
                lat,
                lng,
                want: Want::Point {
                    id: f.id.clone(),
                    at: [round6(lng), round6(lat)],
                },
            });
            continue;
        }
        let (mut slat, mut slng) = (0.0, 0.0);
        let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
        let mut kinds = BTreeMap::new();
        for &i in &group {
            let (f, lat, lng) = pts[i];
            slat += lat;
            slng += lng;
            b = [b[0].min(lng), b[1].min(lat), b[2].max(lng), b[3].max(lat)];
            *kinds.entry(f.kind.code().to_string()).or_insert(0) += 1;
        }
        let n = group.len() as f64;
        let (lat, lng) = ((slat / n).clamp(b[1], b[3]), (slng / n).clamp(b[0], b[2]));
        out.push(Placed {
            lat,
            lng,
            want: Want::Cluster {
                count: group.len() as u64,
                at: [round6(lng), round6(lat)],
                bbox: b.map(round6),
                kinds,
            },
        });
    }
    out
}

fn inside(b: &[f64; 4], lat: f64, lng: f64) -> bool {
    b[0] <= lng && lng <= b[2] && b[1] <= lat && lat <= b[3]
}

fn got_items(fc: &Value) -> Vec<Want> {
    let f64s = |v: &Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let c = f64s(&f["geometry"]["coordinates"]);
            let at = [c[0], c[1]];
            let p = &f["properties"];
            if p["cluster"] == true {
                let b = f64s(&p["bbox"]);
                assert_eq!(f["bbox"], p["bbox"]);
                Want::Cluster {
                    count: p["count"].as_u64().unwrap(),
                    at,
                    bbox: [b[0], b[1], b[2], b[3]],
                    kinds: p["kinds"]
                        .as_object()
                        .unwrap()
                        .iter()
                        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
                        .collect(),
                }
            } else {
                assert!(p["kind"].as_str().is_some());
                Want::Point {
                    id: p["id"].as_str().unwrap().to_string(),
                    at,
                }
            }
        })
        .collect()
}

/// A response header as text ("" when absent).
fn hv(headers: &actix_web::http::header::HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

async fn call(
    path: &str,
    if_none_match: Option<&str>,
) -> (u16, actix_web::http::header::HeaderMap, Vec<u8>) {
    let app = atest::init_service(App::new().configure(configure(state()))).await;
    let mut req = atest::TestRequest::get().uri(path);
    if let Some(tag) = if_none_match {
        req = req.insert_header(("if-none-match", tag));
    }
    let resp = atest::call_service(&app, req.to_request()).await;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = atest::read_body(resp).await.to_vec();
    (status, headers, body)
}

/// Which facilities a filter keeps, by brute force.
type Keep = Box<dyn Fn(&Facility) -> bool>;

const BOXES: [Option<[f64; 4]>; 5] = [
    None,
    // The whole prefecture and more.
    Some([138.7, 35.7, 140.0, 36.4]),
    // Views panned across the middle of it, overlapping.
    Some([139.3, 35.8, 139.7, 36.05]),
    Some([139.45, 35.85, 139.85, 36.1]),
    // A town-sized view.
    Some([139.62, 35.85, 139.68, 35.89]),
];

#[actix_web::test]
async fn clusters_are_global_per_zoom_and_a_box_shows_those_positioned_in_it() {
    let catalog = state().catalog.load();
    let filters: [(&str, Keep); 4] = [
        ("", Box::new(|_| true)),
        (
            "kind=pharmacy",
            Box::new(|f| f.kind == FacilityKind::Pharmacy),
        ),
        ("kind=clinic", Box::new(|f| f.kind == FacilityKind::Clinic)),
        ("service=pcu", Box::new(|f| f.offers(ServiceKind::Pcu))),
    ];
    let mut clusters_seen = 0;
    let mut partial_clusters = 0;
    for (filter, keep) in &filters {
        let all = catalog.facilities();
        let matching: Vec<&Facility> = all.iter().filter(|f| keep(f)).collect();
        for zoom in [3u8, 7, 8, 9, 10, 12, 15, 17, 19] {
            // The full O(n²) oracle at high zoom is for the smaller filters only.
            if zoom >= 15 && filter.is_empty() {
                continue;
            }
            let all = oracle_items(&matching, zoom);
            for b in BOXES {
                let mut path = format!("/api/v1/facilities.geojson?cluster=1&zoom={zoom}");
                if !filter.is_empty() {
                    path.push_str(&format!("&{filter}"));
                }
                let want: Vec<Want> = match b {
                    None => all.iter().map(|p| p.want.clone()).collect(),
                    Some(b) => {
                        path.push_str(&format!("&bbox={},{},{},{}", b[0], b[1], b[2], b[3]));
                        all.iter()
                            .filter(|p| inside(&b, p.lat, p.lng))
                            .map(|p| p.want.clone())
                            .collect()
                    }
                };
                let total = match b {
                    None => matching.len(),
                    Some(b) => matching
                        .iter()
                        .filter_map(|f| f.location)
                        .filter(|l| inside(&b, l.lat, l.lng))
                        .count(),
                };
                let (status, headers, body) = call(&path, None).await;
                assert_eq!(status, 200, "{path}");
                assert_eq!(hv(&headers, "content-type"), "application/geo+json");
                let fc: Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(fc["type"], "FeatureCollection");
                assert_eq!(fc["total"], total as u64, "{path}");
                assert!(fc.get("next").is_none(), "{path}");
                let got = got_items(&fc);
                assert_eq!(got.len(), want.len(), "{path}");
                for (k, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert_eq!(g, w, "{path}: feature {k}");
                }
                for w in &want {
                    if let (Want::Cluster { bbox: cb, .. }, Some(b)) = (w, b) {
                        clusters_seen += 1;
                        // A cluster may reach out of the view: it is the same cluster as
                        // in every other view.
                        if cb[0] < b[0] || cb[1] < b[1] || cb[2] > b[2] || cb[3] > b[3] {
                            partial_clusters += 1;
                        }
                    }
                }
            }
        }
    }
    // The cases exercise clusters, including clusters reaching out of the box.
    assert!(clusters_seen > 100, "{clusters_seen}");
    assert!(partial_clusters > 10, "{partial_clusters}");
}

#[actix_web::test]
async fn other_filters_still_cluster_the_matches_in_the_box() {
    // Two kinds: the search path, clustering the matches inside the box (as before).
    let b = [139.3, 35.8, 139.7, 36.05];
    let path = format!(
        "/api/v1/facilities.geojson?cluster=1&zoom=10&kind=clinic,hospital&bbox={},{},{},{}",
        b[0], b[1], b[2], b[3]
    );
    let catalog = state().catalog.load();
    let all = catalog.facilities();
    let matching: Vec<&Facility> = all
        .iter()
        .filter(|f| matches!(f.kind, FacilityKind::Clinic | FacilityKind::Hospital))
        .filter(|f| f.location.is_some_and(|l| inside(&b, l.lat, l.lng)))
        .collect();
    let want: Vec<Want> = oracle_items(&matching, 10)
        .into_iter()
        .map(|p| p.want)
        .collect();
    let (status, _, body) = call(&path, None).await;
    assert_eq!(status, 200);
    let fc: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(fc["total"], matching.len() as u64);
    assert_eq!(got_items(&fc), want);
}

#[actix_web::test]
async fn layer_responses_carry_an_etag_and_answer_304_when_current() {
    let paths = [
        "/api/v1/facilities.geojson?cluster=1&zoom=9&bbox=139.2,35.7,140.0,36.2",
        "/api/v1/facilities.geojson?cluster=1&zoom=9&bbox=139.2,35.7,140.0,36.2&kind=pharmacy",
        "/api/v1/facilities.geojson?cluster=1&zoom=11&q=%E8%96%AC%E5%B1%80",
        "/api/v1/facilities.geojson?service=pcu",
    ];
    let mut tags = Vec::new();
    for path in paths {
        let (status, headers, body) = call(path, None).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(hv(&headers, "cache-control"), "public, no-cache", "{path}");
        let tag = hv(&headers, "etag");
        assert!(tag.starts_with('"') && tag.ends_with('"'), "{tag}");
        let seq = state().catalog.load().change_seq();
        assert!(tag.contains(&format!("-{seq}-")), "{tag}");
        // The same request again: the same ETag and the same bytes.
        let (_, again, body2) = call(path, None).await;
        assert_eq!(hv(&again, "etag"), tag);
        assert_eq!(body, body2, "{path}");
        // The client's copy is current: 304, no body, the validators again.
        for header in [
            tag.clone(),
            format!("W/{tag}"),
            format!("\"other\", {tag}"),
            "*".into(),
        ] {
            let (status, h, body) = call(path, Some(&header)).await;
            assert_eq!(status, 304, "{path} {header}");
            assert!(body.is_empty());
            assert_eq!(hv(&h, "etag"), tag);
            assert_eq!(hv(&h, "cache-control"), "public, no-cache");
        }
        let (status, _, _) = call(path, Some("\"gj-stale\"")).await;
        assert_eq!(status, 200);
        tags.push(tag);
    }
    tags.sort();
    tags.dedup();
    assert_eq!(tags.len(), paths.len(), "one ETag per request");
    // A bad request is an error, not a 304, whatever the client holds.
    let (status, _, _) = call("/api/v1/facilities.geojson?cluster=1", Some("*")).await;
    assert_eq!(status, 400);
    // `open_now` depends on the clock: no ETag.
    let (status, h, _) = call(
        "/api/v1/facilities.geojson?cluster=1&zoom=9&open_now=true",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(h.get("etag").is_none());
}

/// The snapshot of `catalog` with `f` changed in place.
fn edited(catalog: &Catalog, f: Facility, seq: i64) -> Arc<Catalog> {
    Arc::new(
        catalog
            .apply(vec![f], None, seq)
            .expect("apply")
            .expect("in place"),
    )
}

fn view_ids(cache: &LayerCache, catalog: &Arc<Catalog>, zoom: u8) -> Vec<String> {
    let set = cache.get(catalog, LayerFilter::Kind(FacilityKind::Pharmacy));
    set.view(zoom, Some([138.7, 35.7, 140.0, 36.4]))
        .items()
        .map(|i| match i {
            LayerItem::Point(o) => catalog.at(o).id.clone(),
            LayerItem::Cluster(c) => format!("cluster {} at {},{}", c.count, c.lat, c.lng),
        })
        .collect()
}

#[test]
fn an_edit_that_moves_nothing_keeps_the_levels_and_a_move_rebuilds_them() {
    let base: Arc<Catalog> = state().catalog.load();
    let cache = LayerCache::default();
    let first = cache.get(&base, LayerFilter::Kind(FacilityKind::Pharmacy));
    let pharmacy = base
        .facilities()
        .into_iter()
        .find(|f| f.kind == FacilityKind::Pharmacy && f.location.is_some())
        .expect("a placed pharmacy");

    // A new name: same places, same levels.
    let mut renamed = pharmacy.clone();
    renamed.name = format!("{} 改称", renamed.name);
    let c1 = edited(&base, renamed, base.change_seq() + 1);
    let second = cache.get(&c1, LayerFilter::Kind(FacilityKind::Pharmacy));
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(
        view_ids(&cache, &c1, 9),
        view_ids(&LayerCache::default(), &base, 9)
    );

    // Moved far away: new levels, and they follow the oracle.
    let mut moved = pharmacy.clone();
    if let Some(l) = moved.location.as_mut() {
        l.lat = 36.35;
        l.lng = 138.75;
    }
    let c2 = edited(&c1, moved, c1.change_seq() + 1);
    let third = cache.get(&c2, LayerFilter::Kind(FacilityKind::Pharmacy));
    assert!(!Arc::ptr_eq(&second, &third));
    let all2 = c2.facilities();
    let matching: Vec<&Facility> = all2
        .iter()
        .filter(|f| f.kind == FacilityKind::Pharmacy)
        .collect();
    let b = [138.7, 35.7, 140.0, 36.4];
    let want: Vec<Want> = oracle_items(&matching, 12)
        .into_iter()
        .filter(|p| inside(&b, p.lat, p.lng))
        .map(|p| p.want)
        .collect();
    let got: Vec<Want> = third
        .view(12, Some(b))
        .items()
        .map(|i| match i {
            LayerItem::Point(o) => {
                let f = c2.at(o);
                let l = f.location.unwrap();
                Want::Point {
                    id: f.id.clone(),
                    at: [round6(l.lng), round6(l.lat)],
                }
            }
            LayerItem::Cluster(c) => Want::Cluster {
                count: u64::from(c.count),
                at: [round6(c.lng), round6(c.lat)],
                bbox: c.bbox.map(round6),
                kinds: c
                    .kinds
                    .iter()
                    .map(|(k, n)| (k.to_string(), u64::from(*n)))
                    .collect(),
            },
        })
        .collect();
    assert_eq!(got, want);
}
