//! The HTTP API on the real default dataset, in process through the same `configure` as `main`.

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use actix_web::{App, test};
use serde_json::Value;

use pallimap::catalog::CatalogHandle;
use pallimap::http::{AppState, configure};

use crate::common::default_store;

/// One read-only service state over the default dataset, shared by every API test.
pub fn state() -> AppState {
    static STATE: OnceLock<AppState> = OnceLock::new();
    STATE
        .get_or_init(|| {
            AppState::new(
                CatalogHandle::new(pallimap::app::build_catalog(default_store()).expect("catalog")),
                Arc::new(pallimap::store::Store::open("sqlite://:memory:").expect("memory store")),
            )
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
                f.offers(ServiceKind::HomeCareSupport) && f.area_code.as_deref() == Some("1104")
            }),
        ),
        (
            "kind=clinic,hospital&service=enhanced_home_palliative,pcu",
            Box::new(|f| {
                matches!(f.kind, FacilityKind::Clinic | FacilityKind::Hospital)
                    && (f.offers(ServiceKind::EnhancedHomePalliative) || f.offers(ServiceKind::Pcu))
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

/// One request with any method, answered by the real app.
async fn call(method: actix_web::http::Method, path: &str) -> actix_web::dev::ServiceResponse {
    let app = test::init_service(App::new().configure(configure(state()))).await;
    test::call_service(
        &app,
        test::TestRequest::default()
            .method(method)
            .uri(path)
            .to_request(),
    )
    .await
}

#[actix_web::test]
async fn what_users_tripped_over_in_the_query_string() {
    // Malformed percent-encoding is a 400, not a search for the literal text.
    let (status, _, body) = get("/api/v1/facilities?q=%ZZ").await;
    assert_eq!(
        (status, body["parameter"].as_str()),
        (400, Some("q")),
        "{body}"
    );
    assert!(body["detail"].as_str().unwrap().contains("`%ZZ`"), "{body}");
    // `zoom` without `cluster` is not silently ignored.
    let (status, _, body) = get("/api/v1/facilities.geojson?zoom=10").await;
    assert_eq!(
        (status, body["parameter"].as_str()),
        (400, Some("zoom")),
        "{body}"
    );
    // An endpoint without parameters says so.
    let (status, _, body) = get("/api/v1/areas?x=1").await;
    assert_eq!(status, 400);
    assert_eq!(
        body["detail"],
        "Unknown parameter `x`. This endpoint takes no parameters."
    );
    // `reaches` is a centre for `radius_km` as it is for `sort=distance`.
    let home = "35.9067,139.6237";
    let (status, _, body) = get(&format!(
        "/api/v1/facilities?service=home_care_support&reaches={home}&radius_km=3&limit=100"
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    let c = state().catalog.load();
    let expected: Vec<String> = c
        .facilities()
        .iter()
        .filter(|f| f.offers(pallimap::domain::ServiceKind::HomeCareSupport))
        .filter_map(|f| {
            let l = f.location?;
            let d = pallimap::domain::haversine_m((35.9067, 139.6237), (l.lat, l.lng));
            (d <= 3000.0).then_some(f.id.clone())
        })
        .collect();
    assert!(!expected.is_empty());
    let mut got: Vec<String> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    let mut want = expected;
    want.sort();
    assert_eq!(got, want);
}

#[actix_web::test]
async fn head_and_other_methods() {
    use actix_web::http::Method;
    let resp = call(Method::HEAD, "/api/v1/vocabulary").await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers().get("content-type").unwrap(),
        "application/json"
    );
    for method in [
        (Method::PUT, "/api/v1/facilities", "GET, HEAD, POST"),
        (
            Method::DELETE,
            "/api/v1/facilities/navii-1111100001500",
            "GET, HEAD, PATCH",
        ),
        (Method::PUT, "/api/v1/geocode", "GET, HEAD"),
    ] {
        let (method, path, allow) = (method.0, method.1, method.2);
        let resp = call(method.clone(), path).await;
        assert_eq!(resp.status().as_u16(), 405, "{method} {path}");
        assert_eq!(resp.headers().get("allow").unwrap(), allow);
        let body: Value = test::read_body_json(resp).await;
        assert_eq!(body["code"], "method_not_allowed");
    }
    // An unknown API path is still a 404 that points at the document.
    let (status, _, body) = get("/api/v1/nothing").await;
    assert_eq!(status, 404);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("/api/v1/openapi.json")
    );
}

#[actix_web::test]
async fn postal_codes_are_ignored_before_an_address_and_explained_alone() {
    let (status, _, body) = get(&format!(
        "/api/v1/geocode?address={}",
        enc("〒330-0074 さいたま市浦和区北浦和4-9-3")
    ))
    .await;
    assert_eq!(
        (status, body["level"].as_str()),
        (200, Some("town")),
        "{body}"
    );
    assert_eq!(body["municipality_code"], "11107");
    let (status, _, body) = get(&format!("/api/v1/geocode?address={}", enc("〒344-0067"))).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "address_not_found");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("郵便番号だけでは"),
        "{body}"
    );
}

#[actix_web::test]
async fn sort_by_name_is_gojuon_order_of_the_folded_reading() {
    let (status, _, body) = get("/api/v1/facilities?kind=hospital&sort=name&limit=100").await;
    assert_eq!(status, 200);
    let c = state().catalog.load();
    let keys: Vec<String> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| pallimap::catalog::reading_key(&c.get(i["id"].as_str().unwrap()).unwrap()))
        .collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{keys:?}");
    // Katakana readings fold to hiragana: no katakana is left in a key.
    assert!(
        keys.iter()
            .all(|k| !k.chars().any(|ch| ('ァ'..='ヶ').contains(&ch))),
        "{keys:?}"
    );
    // The first hospitals are those read あ…, whatever script the source wrote the reading in.
    assert!(keys[0].starts_with('あ'), "{}", keys[0]);
}

#[actix_web::test]
async fn distances_carry_their_precision() {
    // A typed point is exact: the precision is the facility's placement alone.
    let (status, _, body) = get("/api/v1/facilities?near=35.8617,139.6455&limit=50").await;
    assert_eq!(status, 200);
    let c = state().catalog.load();
    for item in body["items"].as_array().unwrap() {
        let f = c.get(item["id"].as_str().unwrap()).unwrap();
        assert_eq!(
            item["distance_precision_m"].as_u64(),
            f.placement.uncertainty_m().map(u64::from),
            "{item}"
        );
    }
    // An address placed at a town point adds that town's uncertainty.
    let (status, _, body) = get(&format!(
        "/api/v1/facilities?address={}&kind=pharmacy&limit=5",
        enc("さいたま市浦和区北浦和4-9-3")
    ))
    .await;
    assert_eq!(status, 200);
    for item in body["items"].as_array().unwrap() {
        let f = c.get(item["id"].as_str().unwrap()).unwrap();
        let own = f.placement.uncertainty_m().unwrap();
        assert_eq!(
            item["distance_precision_m"].as_u64(),
            Some(u64::from(own) + 1200)
        );
    }
    // Without a point there is no distance and no precision.
    let (_, _, body) = get("/api/v1/facilities?limit=1").await;
    assert!(body["items"][0].get("distance_precision_m").is_none());
}

#[actix_web::test]
async fn config_states_the_served_geocoder_coverage() {
    let (status, _, body) = get("/api/v1/config").await;
    assert_eq!(status, 200);
    let c = state().catalog.load();
    let coverage = c.geocoder().coverage();
    assert!(coverage.prefectures.contains(&"埼玉県".to_string()));
    assert_eq!(
        body["geocoder"]["prefectures"],
        serde_json::json!(coverage.prefectures)
    );
    assert_eq!(body["geocoder"]["towns"], coverage.towns);
}

#[actix_web::test]
async fn client_mistakes_are_not_logged_as_errors() {
    use std::sync::Mutex;
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // Another test's thread may have cached "nobody listens" for these callsites meanwhile
    // (tracing keeps one interest per callsite for all threads): ask again.
    tracing::callsite::rebuild_interest_cache();
    for path in [
        "/api/v1/facilities?limt=5",
        "/api/v1/facilities?address=%E5%AD%98%E5%9C%A8%E3%81%97%E3%81%AA%E3%81%84%E5%B8%82",
        "/api/v1/facilities/navii-0000000000000",
    ] {
        let (status, _, _) = get(path).await;
        assert!((400..500).contains(&status), "{path}");
    }
    let log = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("INFO"), "the 4xx answers are logged: {log}");
    assert!(
        !log.contains("ERROR"),
        "a client mistake was logged as ERROR:\n{log}"
    );
}

#[actix_web::test]
async fn the_openapi_document_lists_exactly_the_routes() {
    let (status, ctype, doc) = get("/api/v1/openapi.json").await;
    assert_eq!((status, ctype.as_str()), (200, "application/json"));
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let documented: BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(p, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| (p.clone(), m.clone()))
        })
        .collect();
    let routes: BTreeSet<(String, String)> = pallimap::http::ROUTES
        .iter()
        .flat_map(|(p, ms)| ms.iter().map(move |m| (p.to_string(), m.to_string())))
        .collect();
    assert_eq!(documented, routes, "routes and the document differ");
    for (path, item) in paths {
        // Reads open to the public answer here; the others are exercised by the account tests.
        let Some(op) = item.get("get") else { continue };
        if op["responses"]["401"].is_object() && !path.ends_with("/session") {
            continue;
        }
        // A capability URL answers only with a token this service issued (tests/admissions).
        if path.contains("{token}") {
            continue;
        }
        // The shared dataset holds no events; tests/events reads an event's detail.
        if path == "/api/v1/events/{id}" {
            continue;
        }
        assert!(op["responses"]["200"].is_object(), "{path}");
        // Every documented route answers on the real app.
        let uri = path
            .replace("{id}", "navii-1111100001500")
            .replace("/areas/{code}", "/areas/1110")
            .replace("{code}", "pharmacy");
        let uri = if path.ends_with("/geocode") {
            format!("{uri}?address={}", enc("さいたま市浦和区北浦和4-9-3"))
        } else if path.ends_with("/suggest") {
            format!("{uri}?q={}", enc("とだ"))
        } else {
            uri
        };
        let (status, _, body) = get(&uri).await;
        assert_eq!(status, 200, "{uri}: {body}");
        // Every parameter the handler rejects as unknown is one the document does not list.
        if let Some(params) = op["parameters"].as_array() {
            for p in params.iter().filter(|p| p["in"] == "query") {
                let name = p["name"].as_str().unwrap();
                let (status, _, body) = get(&format!(
                    "{uri}{}{name}=%ZZ",
                    if uri.contains('?') { "&" } else { "?" }
                ))
                .await;
                assert_ne!(
                    body["detail"]
                        .as_str()
                        .map(|d| d.starts_with("Unknown parameter")),
                    Some(true),
                    "{path}: documented `{name}` is unknown to the handler ({status})"
                );
            }
        }
    }
    // The problem type is a component every error response refers to.
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    // An independent validator agrees it is valid OpenAPI 3.1.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output();
    let present =
        matches!(&out, Ok(o) if !String::from_utf8_lossy(&o.stderr).contains("No module named"));
    if !crate::common::require_part(
        "the OpenAPI validator (pip install openapi-spec-validator)",
        present,
    ) {
        return;
    }
    let out = out.unwrap();
    assert!(
        out.status.success(),
        "openapi-spec-validator rejects the document:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[actix_web::test]
async fn the_served_geocoder_places_addresses_across_the_border() {
    for (address, code) in [
        ("東京都練馬区豊玉北6-12-1", "13120"),
        ("群馬県高崎市高松町35-1", "10202"),
        ("茨城県古河市長谷町38-5", "08204"),
        ("千葉県野田市鶴奉7-1", "12208"),
    ] {
        let (status, _, body) = get(&format!("/api/v1/geocode?address={}", enc(address))).await;
        assert_eq!(status, 200, "{address}: {body}");
        assert_eq!(body["level"], "town", "{address}: {body}");
        assert_eq!(body["municipality_code"], code, "{address}");
    }
    // A patient just across the border: the nearest PCUs in 埼玉県 are found and measured.
    let (status, _, body) = get(&format!(
        "/api/v1/facilities?service=pcu&address={}&limit=3",
        enc("東京都練馬区豊玉北6-12-1")
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 3);
    assert!(body["items"][0]["distance_m"].as_u64().unwrap() > 5_000);
    let (_, _, config) = get("/api/v1/config").await;
    assert_eq!(
        config["geocoder"]["prefectures"],
        serde_json::json!([
            "茨城県",
            "栃木県",
            "群馬県",
            "埼玉県",
            "千葉県",
            "東京都",
            "山梨県",
            "長野県"
        ])
    );
    // 400 municipalities in the reference; one (a village with no Geolonia towns) has no town.
    assert_eq!(config["geocoder"]["municipalities"], 399);
    assert_eq!(config["geocoder"]["towns"], 28_558);
}
