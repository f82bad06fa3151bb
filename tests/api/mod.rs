//! The HTTP API on the real default dataset, in process through the same `configure` as `main`.

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use actix_web::{App, test};
use serde_json::Value;

use pallimap::catalog::{Catalog, CatalogHandle};
use pallimap::http::{AppState, configure};

use crate::common::default_store;

/// One read-only service state over the default dataset, shared by every API test.
pub fn state() -> AppState {
    static STATE: OnceLock<AppState> = OnceLock::new();
    STATE
        .get_or_init(|| AppState {
            catalog: CatalogHandle::new(Catalog::from_store(default_store()).expect("catalog")),
            store: Arc::new(
                pallimap::store::Store::open("sqlite://:memory:").expect("memory store"),
            ),
            web: Default::default(),
        })
        .clone()
}

/// Percent-encode everything outside the unreserved set, for Japanese in test URLs.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn get(path: &str) -> (u16, String, Value) {
    let app = test::init_service(App::new().configure(configure(state()))).await;
    let resp = test::call_service(&app, test::TestRequest::get().uri(path).to_request()).await;
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = test::read_body(resp).await;
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, ctype, json)
}

/// Every facility of a filtered list, walking the cursor.
async fn all_ids(query: &str) -> (u64, Vec<String>) {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    let mut total;
    loop {
        let sep = if query.is_empty() { "" } else { "&" };
        let path = match &cursor {
            Some(c) => format!("/api/v1/facilities?{query}{sep}limit=100&cursor={c}"),
            None => format!("/api/v1/facilities?{query}{sep}limit=100"),
        };
        let (status, _, body) = get(&path).await;
        assert_eq!(status, 200, "{path}: {body}");
        total = body["total"].as_u64().unwrap();
        for item in body["items"].as_array().unwrap() {
            ids.push(item["id"].as_str().unwrap().to_string());
        }
        match body["next"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    (total, ids)
}

fn oracle(pred: impl Fn(&pallimap::domain::Facility) -> bool) -> Vec<String> {
    let mut ids: Vec<String> = default_store()
        .facilities()
        .unwrap()
        .into_iter()
        .filter(|f| pred(f))
        .map(|f| f.id)
        .collect();
    ids.sort();
    ids
}

#[actix_web::test]
async fn healthz_answers() {
    let (status, _, body) = get("/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert!(body["facilities"].as_u64().unwrap() > 10_000);
}

#[actix_web::test]
async fn the_twenty_pcus_and_thirty_three_backup_hospitals_of_saitama() {
    let (total, ids) = all_ids("service=pcu").await;
    assert_eq!(total, 20);
    assert_eq!(ids.len(), 20);
    let (total, _) = all_ids("service=backup_hospital").await;
    assert_eq!(total, 33);
    let (status, _, body) = get("/api/v1/facilities?service=pcu&limit=1").await;
    assert_eq!(status, 200);
    let pcu = &body["items"][0];
    assert_eq!(pcu["kind"], "hospital");
    assert!(
        pcu["services"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"] == "pcu")
    );
}

#[actix_web::test]
async fn filters_and_pages_equal_a_brute_force_scan() {
    use pallimap::domain::{FacilityKind, ServiceKind};
    type Pred = Box<dyn Fn(&pallimap::domain::Facility) -> bool>;
    let cases: Vec<(&str, Pred)> = vec![
        (
            "kind=pharmacy",
            Box::new(|f| f.kind == FacilityKind::Pharmacy),
        ),
        (
            "service=home_care_support&area=1104",
            Box::new(|f| {
                pallimap::catalog::offers(f, ServiceKind::HomeCareSupport)
                    && f.area_code.as_deref() == Some("1104")
            }),
        ),
        (
            "kind=clinic,hospital&service=enhanced_home_palliative,pcu",
            Box::new(|f| {
                matches!(f.kind, FacilityKind::Clinic | FacilityKind::Hospital)
                    && (pallimap::catalog::offers(f, ServiceKind::EnhancedHomePalliative)
                        || pallimap::catalog::offers(f, ServiceKind::Pcu))
            }),
        ),
        (
            "municipality=11107",
            Box::new(|f| f.address.municipality_code.as_deref() == Some("11107")),
        ),
    ];
    for (query, pred) in cases {
        let (total, ids) = all_ids(query).await;
        let expected = oracle(pred);
        assert_eq!(total as usize, expected.len(), "{query}");
        assert_eq!(ids, expected, "{query}");
    }
}

#[actix_web::test]
async fn bad_input_gets_problem_json_naming_the_fix() {
    let cases = [
        ("/api/v1/facilities?kind=hospitl", 400, "hospital, clinic"),
        (
            "/api/v1/facilities?service=opioid",
            400,
            "opioid_dispensing",
        ),
        ("/api/v1/facilities?area=9999", 400, "1104 (さいたま)"),
        ("/api/v1/facilities?limit=0", 400, "from 1 to 100"),
        ("/api/v1/facilities?limit=101", 400, "from 1 to 100"),
        ("/api/v1/facilities?limit=ten", 400, "from 1 to 100"),
        ("/api/v1/facilities?limt=5", 400, "Unknown parameter `limt`"),
        ("/api/v1/facilities?cursor=xyz", 400, "`cursor`"),
        (
            "/api/v1/facilities?kind=clinic&kind=hospital",
            400,
            "given twice",
        ),
        (
            "/api/v1/facilities/navii-0000000000000",
            404,
            "navii-0000000000000",
        ),
        ("/api/v1/nothing", 404, "No API route"),
        ("/api/v1/geocode", 400, "`address` is required"),
    ];
    for (path, status, fragment) in cases {
        let (got, ctype, body) = get(path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(ctype, "application/problem+json", "{path}");
        assert_eq!(body["status"], status, "{path}");
        let detail = body["detail"].as_str().unwrap_or("");
        assert!(detail.contains(fragment), "{path}: {detail}");
    }
}

#[actix_web::test]
async fn areas_have_population_and_counts_that_add_up() {
    let (status, _, body) = get("/api/v1/areas").await;
    assert_eq!(status, 200);
    let items = body["items"].as_array().unwrap();
    let names: BTreeSet<&str> = items.iter().map(|a| a["name"].as_str().unwrap()).collect();
    let expected: BTreeSet<&str> = [
        "南部",
        "南西部",
        "東部",
        "さいたま",
        "県央",
        "川越比企",
        "西部",
        "利根",
        "北部",
        "秩父",
    ]
    .into();
    assert_eq!(names, expected);
    let mut sum = 0;
    let mut pcu = 0;
    for a in items {
        assert!(a["population"].as_u64().unwrap() > 50_000, "{a}");
        let kinds: u64 = a["kinds"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(kinds, a["facilities"].as_u64().unwrap());
        sum += kinds;
        pcu += a["services"]["pcu"].as_u64().unwrap();
    }
    assert_eq!(sum as usize, oracle(|f| f.area_code.is_some()).len());
    assert_eq!(pcu, 20);
}

#[actix_web::test]
async fn vocabulary_lists_every_kind_and_service_with_labels() {
    let (status, _, body) = get("/api/v1/vocabulary").await;
    assert_eq!(status, 200);
    assert_eq!(
        body["kinds"].as_array().unwrap().len(),
        pallimap::domain::FacilityKind::ALL.len()
    );
    let pcu = body["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "pcu")
        .unwrap();
    assert_eq!(pcu["label"]["ja"], "緩和ケア病棟");
}

#[actix_web::test]
async fn professional_fields_never_reach_the_public() {
    // FAX numbers are professional: no facility JSON may carry one.
    let (_, ids) = all_ids("kind=hospital").await;
    let (_, _, one) = get(&format!("/api/v1/facilities/{}", ids[0])).await;
    assert!(one["contacts"].is_array());
    let (_, _, body) = get("/api/v1/facilities?kind=hospital&limit=100").await;
    let text = body.to_string();
    assert!(
        !text.contains("\"fax\""),
        "a FAX number reached the public list"
    );
    let with_fax = default_store()
        .facilities()
        .unwrap()
        .into_iter()
        .find(|f| {
            f.contacts
                .iter()
                .any(|c| c.kind == pallimap::domain::ContactKind::Fax)
        })
        .expect("the dataset has professional FAX numbers");
    let (_, _, detail) = get(&format!("/api/v1/facilities/{}", with_fax.id)).await;
    let fax = &with_fax
        .contacts
        .iter()
        .find(|c| c.kind == pallimap::domain::ContactKind::Fax)
        .unwrap()
        .value;
    assert!(
        !detail.to_string().contains(fax.as_str()),
        "FAX {fax} leaked"
    );
}

#[actix_web::test]
async fn geocode_places_a_saitama_address_and_explains_a_miss() {
    let (status, _, body) = get("/api/v1/geocode?address=%E3%81%95%E3%81%84%E3%81%9F%E3%81%BE%E5%B8%82%E6%B5%A6%E5%92%8C%E5%8C%BA%E5%8C%97%E6%B5%A6%E5%92%8C%EF%BC%94%EF%BC%8D%EF%BC%99%EF%BC%8D%EF%BC%93").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["level"], "town");
    assert_eq!(body["municipality_code"], "11107");
    assert_eq!(body["area_code"], "1104");
    let (lat, lng) = (body["lat"].as_f64().unwrap(), body["lng"].as_f64().unwrap());
    assert!(
        (35.86..35.89).contains(&lat) && (139.63..139.66).contains(&lng),
        "{body}"
    );
    let (status, ctype, body) =
        get("/api/v1/geocode?address=%E5%AD%98%E5%9C%A8%E3%81%97%E3%81%AA%E3%81%84%E5%B8%82").await;
    assert_eq!(status, 422);
    assert_eq!(ctype, "application/problem+json");
    assert_eq!(body["normalized"], "存在しない市");
}
