//! Search on the real default dataset checked against brute-force oracles: nearest with filters,
//! radius, box, reach, facets; GeoJSON validity; parameter validation; refresh after writes.

use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use serde_json::Value;

use pallimap::catalog::{Catalog, CatalogHandle, Facet, Query, Sort};
use pallimap::domain::haversine_m;
use pallimap::domain::{Facility, FacilityKind, HOME_VISIT_RADIUS_KM, ServiceKind, ServiceStatus};

use crate::api::get;
use crate::common::default_store;

fn catalog() -> &'static Catalog {
    static C: OnceLock<Catalog> = OnceLock::new();
    C.get_or_init(|| pallimap::app::build_catalog(default_store()).expect("catalog"))
}

/// A first start builds its catalog from what the load writes and never reads the store back:
/// that catalog must be the one a later start reads, facility for facility and answer for
/// answer, at the same change-log position.
#[test]
fn the_catalog_built_while_loading_is_the_one_read_from_the_store() {
    let first = crate::common::default_first_catalog()
        .expect("the load into an empty database builds the catalog");
    let read = catalog();
    assert_eq!(first.len(), read.len());
    assert_eq!(first.change_seq(), read.change_seq());
    assert_eq!(first.change_seq(), default_store().latest_change().unwrap());
    for ord in 0..read.len() as u32 {
        assert_eq!(*first.at(ord), *read.at(ord), "ord {ord}");
    }
    let omiya = (35.906, 139.624);
    let queries = [
        Query {
            text: Some("緩和ケア".into()),
            ..Query::default()
        },
        Query {
            text: Some("訪問 薬局".into()),
            point: Some(omiya),
            radius_m: Some(5_000.0),
            ..Query::default()
        },
        Query {
            text: Some("クリニック".into()),
            reaches: Some(omiya),
            point: Some(omiya),
            ..Query::default()
        },
        Query {
            kinds: vec![FacilityKind::Pharmacy],
            point: Some(omiya),
            ..Query::default()
        },
    ];
    for q in &queries {
        assert_eq!(
            first.search(q, 0, 100).unwrap(),
            read.search(q, 0, 100).unwrap(),
            "{q:?}"
        );
    }
    assert_eq!(first.suggest("さいたま", 20), read.suggest("さいたま", 20));
    assert_eq!(first.area_counts(), read.area_counts());
}

/// Every facility of [`catalog`], decoded once (ord = index), for the oracles.
fn all() -> &'static [Facility] {
    static A: OnceLock<Vec<Facility>> = OnceLock::new();
    A.get_or_init(|| catalog().facilities())
}

/// Brute-force filter, independent of the catalog's bitsets.
fn passes(q: &Query, f: &Facility) -> bool {
    (q.kinds.is_empty() || q.kinds.contains(&f.kind))
        && (q.services.is_empty() || q.services.iter().any(|s| f.offers(*s)))
        && (q.areas.is_empty() || f.area_code.as_ref().is_some_and(|a| q.areas.contains(a)))
}

fn reach_km(f: &Facility) -> Option<f64> {
    f.services
        .iter()
        .filter(|s| s.status != ServiceStatus::Inactive && s.kind.visits_homes())
        .map(|s| s.attributes.radius_km.unwrap_or(HOME_VISIT_RADIUS_KM))
        .reduce(f64::max)
}

/// (ord, distance) of every facility passing `keep`, sorted by (distance, ord).
fn brute(point: (f64, f64), keep: impl Fn(&Facility, f64) -> bool) -> Vec<(u32, f64)> {
    let mut v: Vec<(u32, f64)> = all()
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let l = f.location?;
            let d = haversine_m(point, (l.lat, l.lng));
            keep(f, d).then_some((i as u32, d))
        })
        .collect();
    v.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| tie(a.0).cmp(&tie(b.0))));
    v
}

/// How facilities at the same distance are ordered: by how precisely they are placed, then
/// 五十音順 of the reading, then by ord.
fn tie(ord: u32) -> (u32, String, u32) {
    let f = catalog().at(ord);
    (
        f.placement.uncertainty_m().unwrap_or(u32::MAX),
        pallimap::catalog::reading_key(&f),
        ord,
    )
}

fn got(q: &Query, offset: usize, limit: usize) -> (usize, Vec<(u32, f64)>) {
    let r = catalog().search(q, offset, limit).expect("search");
    (
        r.total,
        r.hits
            .iter()
            .map(|h| (h.ord, h.distance_m.unwrap_or(f64::NAN)))
            .collect(),
    )
}

fn kinds() -> impl Strategy<Value = Vec<FacilityKind>> {
    prop::sample::subsequence(FacilityKind::ALL.to_vec(), 0..=2)
}

fn services() -> impl Strategy<Value = Vec<ServiceKind>> {
    prop::sample::subsequence(
        vec![
            ServiceKind::Pcu,
            ServiceKind::BackupHospital,
            ServiceKind::HomeCareSupport,
            ServiceKind::AsepticCompounding,
            ServiceKind::HomeVisitDental,
            ServiceKind::VisitingNursing,
        ],
        0..=2,
    )
}

/// Points over 埼玉県 and a margin around it.
fn point() -> impl Strategy<Value = (f64, f64)> {
    (35.65f64..36.35, 138.65f64..139.95)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn nearest_k_with_filters_equals_brute_force(p in point(), k in 1usize..60, offset in 0usize..30,
                                                 kinds in kinds(), services in services()) {
        let q = Query { kinds, services, point: Some(p), ..Query::default() };
        let expected = brute(p, |f, _| passes(&q, f));
        let (total, hits) = got(&q, offset, k);
        prop_assert_eq!(total, expected.len());
        let want: Vec<(u32, f64)> = expected.into_iter().skip(offset).take(k).collect();
        prop_assert_eq!(hits, want);
    }

    #[test]
    fn radius_search_equals_brute_force(p in point(), r_km in 0.2f64..99.0, services in services(),
                                        sort_name in any::<bool>(), text in 0usize..6) {
        let text = ["クリニック", "薬局", "内科", "病院", "さいたま市"].get(text).map(|t| t.to_string());
        // Text matches come from the unrestricted index; the radius path restricts it by cells.
        let matching: std::collections::HashMap<u32, f32> = match &text {
            Some(t) => catalog().search(&Query { text: Some(t.clone()), ..Query::default() }, 0, usize::MAX)
                .unwrap().hits.iter().map(|h| (h.ord, h.score.unwrap_or(0.0))).collect(),
            None => (0..catalog().len() as u32).map(|o| (o, 0.0)).collect(),
        };
        let q = Query {
            services, text: text.clone(), point: Some(p), radius_m: Some(r_km * 1000.0),
            sort: sort_name.then_some(Sort::Name), facets: vec![Facet::Kind], ..Query::default()
        };
        let mut expected = brute(p, |f, d| {
            passes(&q, f) && d <= r_km * 1000.0 && matching.contains_key(&catalog().ord_of(&f.id).unwrap())
        });
        if sort_name {
            let fs = all();
            let key = |o: u32| pallimap::catalog::reading_key(&fs[o as usize]);
            expected.sort_by(|a, b| key(a.0).cmp(&key(b.0)).then(a.0.cmp(&b.0)));
        } else if let Some(t) = &text {
            // Text near a point: facilities the query names first, then good matches (at
            // least half the best score), then the rest; by distance within each.
            let best = expected.iter().map(|(o, _)| matching[o]).fold(0.0f32, f32::max);
            let tier = |o: u32| -> u8 {
                if names(&catalog().at(o), t) { 0 } else if matching[&o] >= 0.5 * best { 1 } else { 2 }
            };
            expected.sort_by_key(|(o, _)| tier(*o)); // stable: distance order within a tier
        }
        let (total, hits) = got(&q, 0, 100);
        prop_assert_eq!(total, expected.len());
        prop_assert_eq!(hits, expected.iter().copied().take(100).collect::<Vec<_>>());
        // Facet counts equal counting the whole result set by hand.
        let r = catalog().search(&q, 0, 1).unwrap();
        let mut counts = std::collections::BTreeMap::new();
        for (o, _) in &expected {
            *counts.entry(catalog().at(*o).kind.code().to_string()).or_insert(0usize) += 1;
        }
        prop_assert_eq!(r.facets.get("kind").cloned().unwrap_or_default(), counts);
    }

    #[test]
    fn bbox_search_equals_brute_force(a in point(), dlat in 0.01f64..0.4, dlng in 0.01f64..0.5, kinds in kinds()) {
        let (min_lat, min_lng) = a;
        let bbox = [min_lng, min_lat, min_lng + dlng, min_lat + dlat];
        let q = Query { kinds, bbox: Some(bbox), ..Query::default() };
        let expected: Vec<u32> = all().iter().enumerate().filter(|(_, f)| {
            passes(&q, f) && f.location.is_some_and(|l| l.lng >= bbox[0] && l.lng <= bbox[2] && l.lat >= bbox[1] && l.lat <= bbox[3])
        }).map(|(i, _)| i as u32).collect();
        let r = catalog().search(&q, 0, usize::MAX).unwrap();
        prop_assert_eq!(r.total, expected.len());
        prop_assert_eq!(r.hits.iter().map(|h| h.ord).collect::<Vec<_>>(), expected);
    }

    #[test]
    fn reaches_equals_brute_force(p in point(), services in services()) {
        let q = Query { services, reaches: Some(p), point: Some(p), ..Query::default() };
        let expected = brute(p, |f, d| passes(&q, f) && reach_km(f).is_some_and(|r| d <= r * 1000.0));
        let (total, hits) = got(&q, 0, 100);
        prop_assert_eq!(total, expected.len());
        prop_assert_eq!(hits, expected.into_iter().take(100).collect::<Vec<_>>());
    }
}

/// Whether `text` names facility `f`: compacted (no spaces or punctuation, folded), it or an
/// abbreviation expansion lies in the everyday or official name and is at least half as long
/// as the everyday name.
fn names(f: &Facility, text: &str) -> bool {
    use pallimap::domain::ja;
    let everyday = ja::compact(&ja::everyday_name(&f.name));
    let full = ja::compact(&f.name);
    pallimap::catalog::text::synonyms(&ja::compact(text))
        .iter()
        .any(|p| {
            let p = ja::compact(p);
            let n = p.chars().count();
            n >= 2
                && 2 * n >= everyday.chars().count()
                && (everyday.contains(&p) || full.contains(&p))
        })
}

#[test]
fn text_finds_exactly_the_twenty_pcus_by_either_name() {
    let pcu: Vec<u32> = all()
        .iter()
        .enumerate()
        .filter(|(_, f)| f.offers(ServiceKind::Pcu))
        .map(|(i, _)| i as u32)
        .collect();
    assert_eq!(pcu.len(), 20);
    for text in ["緩和ケア病棟", "PCU", "ｐｃｕ", "かんわけあびょうとう"] {
        let q = Query {
            text: Some(text.into()),
            sort: Some(Sort::Name),
            ..Query::default()
        };
        let mut ords: Vec<u32> = catalog()
            .search(&q, 0, 100)
            .unwrap()
            .hits
            .iter()
            .map(|h| h.ord)
            .collect();
        ords.sort();
        if text == "かんわけあびょうとう" {
            // Hiragana of katakana words only: 緩和/病棟 are kanji, so nothing may match.
            assert!(ords.is_empty(), "{text}");
        } else {
            assert_eq!(ords, pcu, "{text}");
        }
    }
}

fn check_position(c: &Value) {
    let pos = c.as_array().expect("position array");
    assert_eq!(pos.len(), 2);
    let (lng, lat) = (pos[0].as_f64().unwrap(), pos[1].as_f64().unwrap());
    // lon,lat order: in 埼玉県 longitude is ~139, latitude ~36.
    assert!(
        (138.0..141.0).contains(&lng) && (35.0..37.0).contains(&lat),
        "{c}"
    );
}

#[actix_web::test]
async fn geojson_is_rfc7946_and_clusters_stay_small() {
    let (status, ctype, fc) = get("/api/v1/facilities.geojson?service=pcu").await;
    assert_eq!(status, 200);
    assert_eq!(ctype, "application/geo+json");
    assert_eq!(fc["type"], "FeatureCollection");
    assert!(fc.get("crs").is_none());
    let features = fc["features"].as_array().unwrap();
    assert_eq!(features.len(), 20);
    for f in features {
        assert_eq!(f["type"], "Feature");
        assert_eq!(f["geometry"]["type"], "Point");
        check_position(&f["geometry"]["coordinates"]);
        assert!(
            f["properties"]["services"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s == "pcu")
        );
    }

    let total = catalog().len() as u64;
    for zoom in [7, 9, 12] {
        let path = format!("/api/v1/facilities.geojson?cluster=1&zoom={zoom}");
        let app = actix_web::test::init_service(
            actix_web::App::new().configure(pallimap::http::configure(crate::api::state())),
        )
        .await;
        let resp = actix_web::test::call_service(
            &app,
            actix_web::test::TestRequest::get().uri(&path).to_request(),
        )
        .await;
        let bytes = actix_web::test::read_body(resp).await;
        let fc: Value = serde_json::from_slice(&bytes).unwrap();
        let mut sum = 0;
        for f in fc["features"].as_array().unwrap() {
            check_position(&f["geometry"]["coordinates"]);
            if f["properties"]["cluster"] == true {
                let count = f["properties"]["count"].as_u64().unwrap();
                let kinds: u64 = f["properties"]["kinds"]
                    .as_object()
                    .unwrap()
                    .values()
                    .map(|v| v.as_u64().unwrap())
                    .sum();
                assert_eq!(kinds, count);
                let b: Vec<f64> = f["bbox"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
                    .collect();
                assert!(b[0] <= b[2] && b[1] <= b[3]);
                sum += count;
            } else {
                sum += 1;
            }
        }
        assert_eq!(sum, total, "zoom {zoom}: every facility once");
        eprintln!("whole prefecture, zoom {zoom}: {} bytes", bytes.len());
        if zoom <= 9 {
            assert!(bytes.len() < 100_000, "zoom {zoom}: {} bytes", bytes.len());
        }
    }

    let (status, ctype, one) = get("/api/v1/facilities/navii-1111100001500.geojson").await;
    assert_eq!(
        (status, ctype.as_str()),
        (200, "application/geo+json"),
        "{one}"
    );
    let f = crate::api::state().catalog.load();
    let f = f
        .get("navii-1111100001500")
        .expect("in the default dataset");
    let l = f.location.expect("placed");
    assert_eq!(one["type"], "Feature");
    assert_eq!(one["id"], "navii-1111100001500");
    assert_eq!(one["properties"]["name"], f.name.as_str());
    assert_eq!(one["properties"]["kind"], f.kind.code());
    assert_eq!(one["geometry"]["type"], "Point");
    assert_eq!(
        one["geometry"]["coordinates"],
        serde_json::json!([
            pallimap::domain::round6(l.lng),
            pallimap::domain::round6(l.lat)
        ])
    );
    assert!(one.get("crs").is_none());
    let (status, _, missing) = get("/api/v1/facilities/navii-0000000000000.geojson").await;
    assert_eq!((status, missing["code"].as_str()), (404, Some("not_found")));
    let (status, _, areas) = get("/api/v1/areas.geojson").await;
    assert_eq!(status, 200);
    assert_eq!(areas["features"].as_array().unwrap().len(), 10);
    assert_eq!(areas["features"][0]["geometry"]["type"], "MultiPolygon");
}

#[actix_web::test]
async fn items_carry_distance_and_address_search_sorts_by_it() {
    let (status, _, body) = get("/api/v1/facilities?address=%E3%81%95%E3%81%84%E3%81%9F%E3%81%BE%E5%B8%82%E6%B5%A6%E5%92%8C%E5%8C%BA%E5%8C%97%E6%B5%A6%E5%92%8C4-9-3&kind=pharmacy&limit=10&facets=kind,area").await;
    assert_eq!(status, 200, "{body}");
    let d: Vec<u64> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["distance_m"].as_u64().unwrap())
        .collect();
    assert_eq!(d.len(), 10);
    assert!(d.windows(2).all(|w| w[0] <= w[1]), "{d:?}");
    assert_eq!(body["facets"]["kind"]["pharmacy"], body["total"]);
}

#[actix_web::test]
async fn bad_search_input_names_the_parameter() {
    let long = "あ".repeat(201);
    let cases = [
        ("near=91,139", "near"),
        ("near=35.8,NaN", "near"),
        ("near=35.8", "near"),
        ("radius_km=5", "radius_km"),
        ("near=35.8,139.6&radius_km=0", "radius_km"),
        ("near=35.8,139.6&radius_km=101", "radius_km"),
        ("bbox=139.8,35.8,139.5,36.0", "bbox"),
        ("bbox=100,10,140,50", "bbox"),
        ("bbox=1,2,3", "bbox"),
        ("sort=nearest", "sort"),
        ("sort=distance", "sort"),
        ("sort=relevance", "sort"),
        ("facets=colour", "facets"),
        (
            "near=35.8,139.6&address=%E5%B7%9D%E8%B6%8A%E5%B8%82",
            "address",
        ),
        ("reaches=35.8,200", "reaches"),
    ];
    for (query, param) in cases {
        let (status, ctype, body) = get(&format!("/api/v1/facilities?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(ctype, "application/problem+json");
        assert_eq!(body["parameter"], param, "{query}: {body}");
    }
    let (status, _, body) = get(&format!("/api/v1/facilities?q={}", crate::api::enc(&long))).await;
    assert_eq!((status, body["parameter"].as_str()), (400, Some("q")));
    let (status, _, body) = get("/api/v1/facilities.geojson?cluster=1").await;
    assert_eq!((status, body["parameter"].as_str()), (400, Some("zoom")));
    let (status, _, body) =
        get("/api/v1/facilities?address=%E5%AD%98%E5%9C%A8%E3%81%97%E3%81%AA%E3%81%84%E5%B8%82")
            .await;
    assert_eq!(status, 422);
    assert_eq!(body["normalized"], "存在しない市");
    // Query syntax is never interpreted: these are plain text.
    for q in [
        "%22a%3Ab%22%20OR%20(x*%20AND",
        "%5C",
        "%F0%9F%98%80",
        "name%3A%E7%97%85%E9%99%A2",
    ] {
        let (status, _, body) = get(&format!("/api/v1/facilities?q={q}")).await;
        assert_eq!(status, 200, "{q}: {body}");
    }
}

/// A store with the tiny dataset, its catalog handle, and a follower of its change log.
async fn followed_tiny_store() -> (
    crate::common::TestDb,
    Arc<pallimap::store::Store>,
    CatalogHandle,
    tokio::task::JoinHandle<()>,
) {
    let db = crate::common::sqlite_db();
    let store = Arc::new(pallimap::store::Store::open(&db.url).unwrap());
    pallimap::app::load_dataset(&store, &crate::common::tiny_dataset(), "test").unwrap();
    let handle = CatalogHandle::new(pallimap::app::build_catalog(&store).unwrap());
    let follower = tokio::spawn(pallimap::app::follow_changes(
        store.clone(),
        handle.clone(),
        std::time::Duration::from_millis(50),
        Default::default(),
    ));
    (db, store, handle, follower)
}

/// Polls until `done` holds, for at most 30 s (a bound for a stalled machine, not a latency
/// target: the write-to-search latency is a benchmark figure).
pub(crate) async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..600 {
        if done() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{what}: not seen after 30 s of polling");
}

#[actix_web::test]
async fn a_write_becomes_searchable_once_the_change_log_moves() {
    let (_db, store, handle, follower) = followed_tiny_store().await;
    let q = Query {
        text: Some("新設".into()),
        ..Query::default()
    };
    assert_eq!(handle.load().search(&q, 0, 10).unwrap().total, 0);
    let before = handle.load().change_seq();
    let new = crate::common::facility(
        "kaigo-1160000099",
        FacilityKind::VisitingNurseStation,
        "新設訪問看護ステーション",
        35.86,
        139.65,
    );
    store.put_facility(&new, "coordinator:test").unwrap();
    eventually("the new station in the catalog", || {
        handle.load().search(&q, 0, 10).unwrap().total == 1
    })
    .await;
    let now = handle.load();
    assert!(now.change_seq() > before);
    assert_eq!(now.change_seq(), store.latest_change().unwrap());
    assert_eq!(now.len(), 4);
    follower.abort();
}

#[actix_web::test]
async fn a_cursor_from_before_a_swap_answers_409() {
    use actix_web::{App, test};
    let (_db, store, handle, follower) = followed_tiny_store().await;
    let state = pallimap::http::AppState::new(handle.clone(), store.clone());
    let app = test::init_service(App::new().configure(pallimap::http::configure(state))).await;
    let get = |uri: String| test::TestRequest::get().uri(&uri).to_request();
    let page1: serde_json::Value =
        test::call_and_read_body_json(&app, get("/api/v1/facilities?limit=1".into())).await;
    assert_eq!(page1["total"], 3);
    let next = page1["next"].as_str().unwrap().to_string();
    // Before any change the cursor holds: page 2 is the second facility in id order.
    let page2: serde_json::Value = test::call_and_read_body_json(
        &app,
        get(format!("/api/v1/facilities?limit=1&cursor={next}")),
    )
    .await;
    assert_eq!(page2["items"][0]["id"], "navii-1111070000010");
    let before = handle.load().change_seq();
    let new = crate::common::facility(
        "kaigo-1160000000",
        FacilityKind::VisitingNurseStation,
        "先頭に入る訪問看護ステーション",
        35.86,
        139.65,
    );
    store.put_facility(&new, "coordinator:test").unwrap();
    eventually("the catalog swap", || handle.load().change_seq() > before).await;
    let resp = test::call_service(
        &app,
        get(format!("/api/v1/facilities?limit=1&cursor={next}")),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 409);
    assert_eq!(
        resp.headers().get("content-type").unwrap(),
        "application/problem+json"
    );
    let body: serde_json::Value = test::read_body_json(resp).await;
    assert_eq!(body["code"], "stale_cursor");
    assert_eq!(body["parameter"], "cursor");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("start again from the first page"),
        "{body}"
    );
    follower.abort();
}

/// Ids and rounded distances of a search: comparable across snapshots whose ords differ.
fn answer(c: &Catalog, q: &Query) -> (usize, Vec<(String, u64)>) {
    let r = c.search(q, 0, 200).unwrap();
    (
        r.total,
        r.hits
            .iter()
            .map(|h| {
                (
                    c.at(h.ord).id.clone(),
                    h.distance_m.map_or(0, |d| (d * 1000.0).round() as u64),
                )
            })
            .collect(),
    )
}

#[test]
fn an_incremental_update_answers_like_a_rebuild() {
    let db = crate::common::sqlite_db();
    let store = pallimap::store::Store::open(&db.url).unwrap();
    pallimap::app::load_dataset(&store, &crate::common::tiny_dataset(), "test").unwrap();
    let before = pallimap::app::build_catalog(&store).unwrap();
    // Rename and move one facility, give another a service, add a new one.
    let mut moved = store.facility("navii-1121070000020").unwrap().unwrap();
    moved.name = "改名した在宅クリニック".into();
    moved.location = Some(pallimap::domain::LatLng {
        lat: 35.95,
        lng: 139.70,
    });
    store.put_facility(&moved, "test").unwrap();
    let mut station = store.facility("kaigo-1160000001").unwrap().unwrap();
    station.services.push(pallimap::domain::Service {
        kind: ServiceKind::HomeCareSupport,
        ..moved.services[0].clone()
    });
    store.put_facility(&station, "test").unwrap();
    let new = crate::common::facility(
        "kaigo-1160000000",
        FacilityKind::VisitingNurseStation,
        "新設ステーション",
        35.80,
        139.60,
    );
    store.put_facility(&new, "test").unwrap();
    let incremental = pallimap::app::refreshed(&store, &before).unwrap();
    let rebuilt = pallimap::app::build_catalog(&store).unwrap();
    assert_eq!(incremental.change_seq(), rebuilt.change_seq());
    assert_eq!(incremental.len(), 4);
    assert!(incremental.has_appended(), "applied in place, not rebuilt");
    assert!(!rebuilt.has_appended());
    let p = Some((35.86, 139.65));
    for q in [
        Query::default(),
        Query {
            text: Some("改名".into()),
            ..Query::default()
        },
        Query {
            text: Some("在宅クリニック".into()),
            ..Query::default()
        },
        Query {
            text: Some("新設".into()),
            point: p,
            ..Query::default()
        },
        Query {
            services: vec![ServiceKind::HomeCareSupport],
            point: p,
            ..Query::default()
        },
        Query {
            kinds: vec![FacilityKind::VisitingNurseStation],
            point: p,
            radius_m: Some(20_000.0),
            ..Query::default()
        },
        Query {
            point: p,
            radius_m: Some(5_000.0),
            ..Query::default()
        },
        Query {
            bbox: Some([139.69, 35.94, 139.71, 35.96]),
            ..Query::default()
        },
        Query {
            reaches: Some((35.95, 139.70)),
            point: Some((35.95, 139.70)),
            ..Query::default()
        },
        Query {
            sort: Some(Sort::Name),
            ..Query::default()
        },
    ] {
        assert_eq!(answer(&incremental, &q), answer(&rebuilt, &q), "{q:?}");
    }
    // Type-ahead follows the rename and the new facility.
    let ids = |c: &Catalog, p: &str| -> Vec<String> {
        pallimap::catalog::suggest::suggest(c, p, 8)
            .facilities
            .iter()
            .map(|&o| c.at(o).id.clone())
            .collect()
    };
    for prefix in ["改名", "テスト", "新設", "か", "て"] {
        assert_eq!(
            ids(&incremental, prefix),
            ids(&rebuilt, prefix),
            "suggest {prefix}"
        );
    }
    assert_eq!(ids(&incremental, "改名"), ["navii-1121070000020"]);
    // The old snapshot still answers as it did.
    assert_eq!(
        answer(
            &before,
            &Query {
                text: Some("改名".into()),
                ..Query::default()
            }
        )
        .0,
        0
    );
    assert_eq!(before.len(), 3);
}
