//! The coverage report on the real default dataset, checked against a brute force over every
//! census point and every provider (integer population sums, so the comparison is exact), and
//! its parameter errors, CSV and the census weights themselves.

use std::collections::HashMap;

use serde_json::Value;

use pallimap::domain::{
    CensusArea, Facility, FacilityStatus, HOME_VISIT_RADIUS_KM, ServiceKind, ServiceStatus,
    haversine_m,
};

use crate::api::get;
use crate::common::{default_store, require_part};

fn data_present() -> bool {
    require_part(
        "data/census.csv.gz",
        std::path::Path::new("data/census.csv.gz").exists(),
    )
}

/// What the brute force needs, read from the store (not from the catalog).
struct World {
    census: Vec<CensusArea>,
    facilities: Vec<Facility>,
    /// Municipality code → area code.
    muni_area: HashMap<String, String>,
}

fn world() -> World {
    let store = default_store();
    World {
        census: store.census_areas().unwrap(),
        facilities: store
            .facilities()
            .unwrap()
            .into_iter()
            .filter(|f| f.status == FacilityStatus::Active)
            .collect(),
        muni_area: store
            .municipalities()
            .unwrap()
            .into_iter()
            .map(|m| (m.code, m.area_code))
            .collect(),
    }
}

/// The active service of `kind` at `f`, if any.
fn active(f: &Facility, kind: ServiceKind) -> Option<&pallimap::domain::Service> {
    f.services
        .iter()
        .find(|s| s.kind == kind && s.status == ServiceStatus::Active)
}

/// Per area: (population, towns without population, providers, farther, outside).
#[derive(Debug, Default, PartialEq)]
struct Expect {
    population: u64,
    without: usize,
    providers: usize,
    farther: u64,
    outside: u64,
}

fn brute(w: &World, kind: ServiceKind, km: f64) -> HashMap<String, Expect> {
    let providers: Vec<(&Facility, f64)> = w
        .facilities
        .iter()
        .filter_map(|f| {
            active(f, kind).map(|s| {
                let r = s.attributes.radius_km.unwrap_or(HOME_VISIT_RADIUS_KM) * 1000.0;
                (f, r)
            })
        })
        .collect();
    let mut out: HashMap<String, Expect> = HashMap::new();
    for (f, _) in &providers {
        if let Some(a) = &f.area_code {
            out.entry(a.clone()).or_default().providers += 1;
        }
    }
    for c in &w.census {
        let Some(area) = w.muni_area.get(&c.muni_code) else {
            continue;
        };
        let e = out.entry(area.clone()).or_default();
        e.population += c.population;
        if c.population == 0 {
            e.without += 1;
            continue;
        }
        let dists: Vec<(f64, f64)> = providers
            .iter()
            .filter_map(|(f, r)| {
                f.location
                    .map(|l| (haversine_m((c.lat, c.lng), (l.lat, l.lng)), *r))
            })
            .collect();
        if dists.iter().all(|(d, _)| *d > km * 1000.0) {
            e.farther += c.population;
        }
        if dists.iter().all(|(d, r)| d > r) {
            e.outside += c.population;
        }
    }
    out
}

fn check_service(area: &str, item: &Value, e: &Expect, kind: ServiceKind, ctx: &str) {
    assert_eq!(item["service"], kind.code(), "{ctx}");
    assert_eq!(item["population"].as_u64(), Some(e.population), "{ctx}");
    assert_eq!(
        item["providers"].as_u64(),
        Some(e.providers as u64),
        "{ctx}"
    );
    assert_eq!(
        item["population_farther"].as_u64(),
        Some(e.farther),
        "{ctx} {area}"
    );
    assert_eq!(
        item["towns_without_population"].as_u64(),
        Some(e.without as u64),
        "{ctx}"
    );
    let share = e.farther as f64 / e.population as f64;
    assert!(
        (item["share_farther"].as_f64().unwrap() - share).abs() < 1e-12,
        "{ctx}"
    );
    let per = e.providers as f64 * 100_000.0 / e.population as f64;
    assert!(
        (item["per_100k"].as_f64().unwrap() - per).abs() < 1e-9,
        "{ctx}"
    );
    if kind.visits_homes() {
        assert_eq!(
            item["population_outside"].as_u64(),
            Some(e.outside),
            "{ctx}"
        );
    } else {
        assert!(item.get("population_outside").is_none(), "{ctx}");
    }
}

#[actix_web::test]
async fn the_census_weights_add_up_to_saitamas_2020_population() {
    if !data_present() {
        return;
    }
    let w = world();
    assert_eq!(w.census.len(), 5979);
    assert_eq!(
        w.census.iter().map(|c| c.population).sum::<u64>(),
        7_344_765
    );
    assert_eq!(w.census.iter().filter(|c| c.population == 0).count(), 134);
    // Every small area lies in a municipality of an area, and each area's sum is its
    // published 2020 population.
    let (_, _, body) = get("/api/v1/coverage?service=pcu").await;
    let areas = default_store().areas().unwrap();
    for a in &areas {
        let item = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["area"] == a.code.as_str())
            .unwrap();
        assert_eq!(item["population"].as_u64(), a.population, "{}", a.code);
    }
    assert!(
        w.census
            .iter()
            .all(|c| w.muni_area.contains_key(&c.muni_code))
    );
}

#[actix_web::test]
async fn every_area_equals_a_brute_force_over_the_census_points() {
    if !data_present() {
        return;
    }
    let w = world();
    let cases = [
        (ServiceKind::Pcu, 10.0),
        (ServiceKind::Pcu, 30.0),
        (ServiceKind::HomeCareSupport, 5.0),
        (ServiceKind::VisitingNursing, 2.5),
        (ServiceKind::HomeVisitDental, 10.0),
        (ServiceKind::PalliativeTeam, 100.0),
    ];
    for (kind, km) in cases {
        let path = format!("/api/v1/coverage?service={}&km={km}", kind.code());
        let (status, _, body) = get(&path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["km"].as_f64(), Some(km));
        let expected = brute(&w, kind, km);
        let items = body["items"].as_array().unwrap();
        assert_eq!(items.len(), 10, "{path}");
        for item in items {
            let area = item["area"].as_str().unwrap();
            let e = &expected[area];
            assert_eq!(item["population"].as_u64(), Some(e.population));
            check_service(area, &item["services"][0], e, kind, &path);
        }
        // Somewhere the answer is neither nothing nor everything, or the test proves little.
        let farther: u64 = expected.values().map(|e| e.farther).sum();
        if kind == ServiceKind::Pcu && km == 10.0 {
            assert!(farther > 0 && farther < 7_344_765, "{farther}");
        }
    }
}

#[actix_web::test]
async fn one_area_with_several_services_equals_the_brute_force() {
    if !data_present() {
        return;
    }
    let w = world();
    let kinds = [
        ServiceKind::Pcu,
        ServiceKind::HomeCareSupport,
        ServiceKind::EnhancedHomePalliative,
        ServiceKind::HomeMedicationManagement,
    ];
    let list: Vec<&str> = kinds.iter().map(|k| k.code()).collect();
    for (area, km) in [("1110", 10.0), ("1104", 0.5), ("1109", 20.0)] {
        let path = format!(
            "/api/v1/areas/{area}/coverage?service={}&km={km}",
            list.join(",")
        );
        let (status, _, body) = get(&path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["area"], area);
        let services = body["services"].as_array().unwrap();
        assert_eq!(services.len(), kinds.len());
        for (kind, item) in kinds.iter().zip(services) {
            let e = &brute(&w, *kind, km)[area];
            check_service(area, item, e, *kind, &path);
        }
    }
}

#[actix_web::test]
async fn bad_input_names_the_parameter() {
    if !data_present() {
        return;
    }
    let cases = [
        ("/api/v1/areas/1104/coverage?km=0.4", 400, "km"),
        ("/api/v1/areas/1104/coverage?km=100.5", 400, "km"),
        ("/api/v1/areas/1104/coverage?km=ten", 400, "km"),
        ("/api/v1/areas/1104/coverage?km=", 400, "km"),
        ("/api/v1/coverage?km=NaN", 400, "km"),
        ("/api/v1/coverage?service=pcu,hospice", 400, "service"),
        ("/api/v1/coverage?format=xlsx", 400, "format"),
        ("/api/v1/coverage?radius=3", 400, "radius"),
        ("/api/v1/areas/9999/coverage", 404, ""),
    ];
    for (path, status, parameter) in cases {
        let (got, ctype, body) = get(path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(ctype, "application/problem+json", "{path}");
        if status == 400 {
            assert_eq!(body["parameter"], parameter, "{path}: {body}");
        } else {
            assert!(body["detail"].as_str().unwrap().contains("9999"));
        }
    }
    // The edges of the range are accepted.
    for km in ["0.5", "100"] {
        let (got, _, _) = get(&format!("/api/v1/areas/1110/coverage?service=pcu&km={km}")).await;
        assert_eq!(got, 200, "km={km}");
    }
}

#[actix_web::test]
async fn csv_has_a_bom_and_one_row_per_area_and_service() {
    if !data_present() {
        return;
    }
    use actix_web::{App, test};
    let app =
        test::init_service(App::new().configure(pallimap::http::configure(crate::api::state())))
            .await;
    let req = test::TestRequest::get()
        .uri("/api/v1/coverage?service=pcu,visiting_nursing&format=csv")
        .to_request();
    let resp = test::call_service(&app, req).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers().get("content-type").unwrap(),
        "text/csv; charset=utf-8"
    );
    let body = test::read_body(resp).await;
    assert!(body.starts_with(b"\xEF\xBB\xBF"));
    let text = std::str::from_utf8(&body[3..]).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    assert_eq!(&headers[0], "area");
    assert_eq!(&headers[2], "service");
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 20);
    let chichibu_vn = rows
        .iter()
        .find(|r| &r[0] == "1110" && &r[2] == "visiting_nursing")
        .unwrap();
    let (_, _, json) = get("/api/v1/areas/1110/coverage?service=visiting_nursing").await;
    let s = &json["services"][0];
    assert_eq!(chichibu_vn[1].to_string(), "秩父");
    assert_eq!(chichibu_vn[5], s["providers"].to_string());
    assert_eq!(chichibu_vn[8], s["population_farther"].to_string());
    assert_eq!(chichibu_vn[10], s["population_outside"].to_string());
    // The PCU rows leave the home-visit columns empty.
    let pcu = rows.iter().find(|r| &r[2] == "pcu").unwrap();
    assert_eq!(&pcu[10], "");
}

/// Two census points 8 km and 20 km north of a clinic in a fictional area.
fn hand_made() -> (pallimap::catalog::Catalog, Vec<CensusArea>) {
    use pallimap::catalog::{Catalog, CatalogParts};
    use pallimap::domain::FacilityKind;
    let mut ds = crate::common::tiny_dataset();
    // One degree of latitude is 111.195 km on the sphere of `haversine_m`.
    let north = |km: f64| 35.86 + km / 111.195;
    let point = |key: &str, population: u64, km: f64| CensusArea {
        key_code: key.into(),
        muni_code: "11107".into(),
        name: key.into(),
        population,
        households: population / 2,
        lat: north(km),
        lng: 139.65,
    };
    let census = vec![
        point("near", 1_000, 8.0),
        point("far", 3_000, 20.0),
        point("empty", 0, 1.0),
    ];
    // The clinic of tiny_dataset (home_care_support at 35.86, 139.65) publishes a 12 km area; a
    // second clinic's service is temporarily closed and does not count.
    ds.facilities[1].services[0].attributes.radius_km = Some(12.0);
    let mut closed = crate::common::facility(
        "navii-1121070000099",
        FacilityKind::Clinic,
        "テスト休止クリニック",
        north(20.0),
        139.65,
    );
    closed.services = vec![crate::common::service(
        ServiceKind::HomeCareSupport,
        "2020-01-01",
    )];
    closed.services[0].status = ServiceStatus::TemporarilyClosed;
    ds.facilities.push(closed);
    let catalog = Catalog::new(CatalogParts {
        facilities: ds.facilities,
        areas: ds.areas,
        municipalities: ds.municipalities,
        geocoder: std::sync::Arc::new(pallimap::geocode::Gazetteer::new(vec![], vec![])),
        groups: vec![],
        census: census.clone(),
        change_seq: 0,
    })
    .unwrap();
    (catalog, census)
}

#[test]
fn a_published_radius_and_a_closed_service_count_as_they_should() {
    use pallimap::catalog::coverage;
    let (catalog, _) = hand_made();
    let a = coverage::area(&catalog, "1104", &[ServiceKind::HomeCareSupport], 10.0).unwrap();
    assert_eq!(
        (a.population, a.small_areas, a.towns_without_population),
        (4_000, 3, 1)
    );
    let s = &a.services[0];
    // The closed clinic is neither counted nor a nearest provider.
    assert_eq!(s.providers, 1);
    assert_eq!(s.per_100k, Some(25.0));
    // 8 km is within 10 km, 20 km is not; both are within 16 km, but the clinic publishes 12.
    assert_eq!(s.population_farther, 3_000);
    assert_eq!(s.share_farther, Some(0.75));
    assert_eq!(s.population_outside, Some(3_000));
    let wide = coverage::area(&catalog, "1104", &[ServiceKind::HomeCareSupport], 25.0).unwrap();
    assert_eq!(wide.services[0].population_farther, 0);
    // Not a home-visit service: no service areas; no provider at all: everyone is far.
    let pcu = coverage::area(&catalog, "1104", &[ServiceKind::Pcu], 100.0).unwrap();
    assert_eq!(pcu.services[0].providers, 1);
    assert_eq!(pcu.services[0].population_outside, None);
    let dental = coverage::all(&catalog, &[ServiceKind::HomeVisitDental], 10.0).unwrap();
    assert_eq!(dental[0].services[0].population_farther, 4_000);
    assert_eq!(dental[0].services[0].population_outside, Some(4_000));
    assert_eq!(dental[0].services[0].per_100k, Some(0.0));
    assert_eq!(
        coverage::area(&catalog, "9999", &[ServiceKind::Pcu], 10.0),
        Err(coverage::CoverageError::UnknownArea("9999".into()))
    );
    assert!(coverage::area(&catalog, "1104", &[ServiceKind::Pcu], 0.4).is_err());
    // An edit applied in place keeps the weights.
    let mut f = catalog.facilities()[0].clone();
    f.name.push_str(" 改");
    let next = catalog.apply(vec![f], None, 1).unwrap().unwrap();
    assert_eq!(next.census(), catalog.census());
}

#[test]
fn the_store_keeps_the_census_and_an_older_database_gets_it_at_start() {
    let (_, census) = hand_made();
    for db in crate::common::backends() {
        let store = pallimap::store::Store::open(&db.url).unwrap();
        let mut ds = crate::common::tiny_dataset();
        ds.census = census.clone();
        pallimap::app::load_dataset(&store, &ds, "test").unwrap();
        let mut sorted = census.clone();
        sorted.sort_by(|a, b| a.key_code.cmp(&b.key_code));
        assert_eq!(store.census_areas().unwrap(), sorted, "{}", db.name);
        // A load replaces the weights whole.
        ds.census.truncate(1);
        pallimap::app::load_dataset(&store, &ds, "test").unwrap();
        assert_eq!(store.census_areas().unwrap(), ds.census, "{}", db.name);
        // A database loaded before the census existed gets data/'s at the next start.
        store.load_census(&[]).unwrap();
        drop(store);
        if !data_present() {
            continue;
        }
        let store = pallimap::app::open_store(&db.url, std::path::Path::new("data")).unwrap();
        assert_eq!(store.census_areas().unwrap().len(), 5979, "{}", db.name);
        // Its facilities are untouched: the tiny dataset's three.
        assert_eq!(store.facilities().unwrap().len(), 3, "{}", db.name);
    }
}
