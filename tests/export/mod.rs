//! The downloads: CSV, XLSX, the whole GeoJSON layer, HSDS 3.0 and the import template, on
//! the real default dataset (the whole 埼玉 set) and, for what each role sees, on the account
//! fixture.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;

use actix_web::http::Method;
use actix_web::test;
use calamine::{Data, Reader, Xlsx};
use serde_json::Value;

use pallimap::http::AppState;
use pallimap::sheet;

use crate::accounts::{Session, call, fixture, sign_in};
use crate::api::{enc, get};

/// Status, headers and body bytes of a GET.
async fn fetch(
    state: &AppState,
    uri: &str,
    session: Option<&Session>,
) -> (u16, BTreeMap<String, String>, Vec<u8>) {
    let resp = call(state, Method::GET, uri, session, &[], None).await;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    (status, headers, test::read_body(resp).await.to_vec())
}

async fn default_fetch(uri: &str) -> (u16, BTreeMap<String, String>, Vec<u8>) {
    fetch(&crate::api::state(), uri, None).await
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// The CSV body as UTF-8 text, after checking the BOM.
fn utf8_csv(body: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(body).expect("UTF-8");
    let text = text.strip_prefix('\u{feff}').expect("a BOM first");
    csv_rows(text)
}

fn xlsx_sheet(body: &[u8], name: &str) -> Vec<Vec<String>> {
    let mut wb = Xlsx::new(Cursor::new(body.to_vec())).expect("an XLSX file");
    let range = wb.worksheet_range(name).expect(name);
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    Data::String(s) => s.clone(),
                    other => panic!("a cell that is not text: {other:?}"),
                })
                .collect()
        })
        .collect()
}

async fn list_total(query: &str) -> u64 {
    let (status, _, body) = get(&format!("/api/v1/facilities?{query}&limit=1")).await;
    assert_eq!(status, 200, "{body}");
    body["total"].as_u64().unwrap()
}

fn col(key: &str) -> usize {
    sheet::COLUMNS.iter().position(|c| c.key == key).unwrap()
}

fn header_row() -> Vec<String> {
    sheet::header().iter().map(|s| s.to_string()).collect()
}

fn assert_download(headers: &BTreeMap<String, String>, ext: &str) {
    let d = &headers["content-disposition"];
    let name = d
        .strip_prefix("attachment; filename=\"pallimap-")
        .and_then(|r| r.strip_suffix(&format!(".{ext}\"")))
        .unwrap_or_else(|| panic!("{d}"));
    assert!(
        name.len() == 8 && name.bytes().all(|b| b.is_ascii_digit()),
        "{d}"
    );
}

/// Whether the body of `uri` is sent as a stream (chunk by chunk), not one buffer.
async fn is_streamed(uri: &str) -> bool {
    use actix_web::body::{BodySize, MessageBody};
    let resp = call(&crate::api::state(), Method::GET, uri, None, &[], None).await;
    assert_eq!(resp.status().as_u16(), 200, "{uri}");
    matches!(resp.response().body().size(), BodySize::Stream)
}

#[actix_web::test]
async fn every_list_export_is_streamed() {
    for uri in [
        "/api/v1/facilities.csv",
        "/api/v1/facilities.csv?encoding=shift_jis",
        "/api/v1/facilities.xlsx",
        "/api/v1/facilities.geojson?all=true",
        "/api/v1/export/hsds",
    ] {
        assert!(is_streamed(uri).await, "{uri}");
    }
}

#[actix_web::test]
async fn the_whole_saitama_set_exports_as_csv_in_the_lists_order() {
    let (status, headers, body) = default_fetch("/api/v1/facilities.csv").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert_download(&headers, "csv");
    let rows = utf8_csv(&body);
    assert_eq!(rows[0], header_row());
    let total = list_total("").await;
    assert!(total > 10_000, "{total}");
    assert_eq!(rows.len() as u64 - 1, total);
    assert!(rows.iter().all(|r| r.len() == sheet::COLUMNS.len()));
    // The public never sees a FAX number.
    assert!(rows[1..].iter().all(|r| r[col("fax")].is_empty()));
    // The same order as the list, filtered.
    let q = "service=home_care_support&sort=name&area=1104";
    let (_, _, body) = default_fetch(&format!("/api/v1/facilities.csv?{q}")).await;
    let rows = utf8_csv(&body);
    assert_eq!(rows.len() as u64 - 1, list_total(q).await);
    let (_, _, page) = get(&format!("/api/v1/facilities?{q}&limit=20")).await;
    let ids: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    let exported: Vec<&str> = rows[1..21].iter().map(|r| r[col("id")].as_str()).collect();
    assert_eq!(exported, ids);
    assert!(rows[1..].iter().all(|r| {
        r[col("services")]
            .split(';')
            .any(|s| s == "home_care_support")
    }));
}

#[actix_web::test]
async fn shift_jis_decodes_back_to_the_same_text() {
    let q = "area=1104&kind=hospital";
    let (_, _, utf8) = default_fetch(&format!("/api/v1/facilities.csv?{q}")).await;
    let (status, headers, sjis) =
        default_fetch(&format!("/api/v1/facilities.csv?{q}&encoding=shift_jis")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/csv; charset=Shift_JIS");
    assert!(
        !sjis.starts_with(&[0xef, 0xbb, 0xbf]),
        "no BOM in Shift_JIS"
    );
    let (text, _, malformed) = encoding_rs::SHIFT_JIS.decode(&sjis);
    assert!(!malformed);
    let utf8 = std::str::from_utf8(&utf8)
        .unwrap()
        .trim_start_matches('\u{feff}');
    assert_eq!(text, utf8);
    assert!(text.contains("病院"));
    let (status, _, body) = get("/api/v1/facilities.csv?encoding=latin1").await;
    assert_eq!(status, 400);
    assert_eq!(body["parameter"], "encoding");
}

#[actix_web::test]
async fn xlsx_equals_the_csv_cell_for_cell_and_explains_its_columns() {
    for q in ["area=1104&service=pcu,home_care_support", ""] {
        let (_, _, csv) = default_fetch(&format!("/api/v1/facilities.csv?{q}")).await;
        let (status, headers, xlsx) = default_fetch(&format!("/api/v1/facilities.xlsx?{q}")).await;
        assert_eq!(status, 200);
        assert_eq!(
            headers["content-type"],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        assert_download(&headers, "xlsx");
        let csv = utf8_csv(&csv);
        let sheet = xlsx_sheet(&xlsx, "施設一覧");
        assert_eq!(sheet.len(), csv.len(), "{q}");
        for (i, (a, b)) in sheet.iter().zip(&csv).enumerate() {
            assert_eq!(a, b, "{q}: row {i}");
        }
        let help = xlsx_sheet(&xlsx, "列の説明");
        assert_eq!(help.len(), sheet::COLUMNS.len() + 1);
        for (r, c) in help[1..].iter().zip(sheet::COLUMNS) {
            assert_eq!(
                (r[0].as_str(), r[1].as_str(), r[2].as_str()),
                (c.ja, c.key, c.help_ja)
            );
        }
    }
}

#[actix_web::test]
async fn the_whole_layer_is_one_collection_and_the_paged_layer_is_unchanged() {
    let q = "area=1104";
    let (_, _, csv) = default_fetch(&format!("/api/v1/facilities.csv?{q}")).await;
    let placed = utf8_csv(&csv)[1..]
        .iter()
        .filter(|r| !r[col("lat")].is_empty())
        .count();
    let (status, headers, body) =
        default_fetch(&format!("/api/v1/facilities.geojson?{q}&all=true")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/geo+json");
    assert_download(&headers, "geojson");
    let fc: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(fc["type"], "FeatureCollection");
    assert_eq!(fc["total"].as_u64(), Some(list_total(q).await));
    assert!(fc.get("next").is_none());
    assert_eq!(fc["features"].as_array().unwrap().len(), placed);
    assert!(placed > 500, "{placed}");
    // Without `all`, a page with `next` and no download header.
    let (_, headers, body) = default_fetch(&format!("/api/v1/facilities.geojson?{q}")).await;
    let page: Value = serde_json::from_slice(&body).unwrap();
    assert!(page["next"].is_string());
    assert_eq!(page["features"].as_array().unwrap().len(), 500);
    assert!(!headers.contains_key("content-disposition"));
    for bad in ["cluster=1&zoom=8", "limit=10", "cursor=abc"] {
        let (status, _, body) = get(&format!("/api/v1/facilities.geojson?all=true&{bad}")).await;
        assert_eq!(status, 400, "{bad}");
        assert!(
            body["detail"].as_str().unwrap().contains("all=true"),
            "{body}"
        );
    }
}

#[actix_web::test]
async fn hsds_has_one_organization_per_facility_and_one_service_per_offered_service() {
    let q = "area=1104&service=pcu";
    let (_, _, csv) = default_fetch(&format!("/api/v1/facilities.csv?{q}")).await;
    let rows = utf8_csv(&csv);
    let (status, headers, body) = default_fetch(&format!("/api/v1/export/hsds?{q}")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json");
    assert_download(&headers, "hsds.json");
    let doc: Value = serde_json::from_slice(&body).unwrap();
    let keys: BTreeSet<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "hsds_version",
            "generated_at",
            "total_items",
            "organizations",
            "services"
        ])
    );
    assert_eq!(doc["hsds_version"], "3.0");
    let orgs = doc["organizations"].as_array().unwrap();
    assert_eq!(orgs.len(), rows.len() - 1);
    assert_eq!(doc["total_items"].as_u64(), Some(orgs.len() as u64));
    let mut locations = BTreeMap::new();
    for (o, r) in orgs.iter().zip(&rows[1..]) {
        assert_eq!(o["name"].as_str(), Some(r[col("name")].as_str()));
        assert!(o["description"].is_string());
        let loc = &o["locations"][0];
        assert_eq!(loc["organization_id"], o["id"]);
        assert_eq!(loc["location_type"], "physical");
        assert_eq!(
            loc["external_identifier"].as_str(),
            Some(r[col("id")].as_str())
        );
        assert_eq!(loc["addresses"][0]["country"], "JP");
        assert_eq!(loc["addresses"][0]["state_province"], "埼玉県");
        locations.insert(loc["id"].as_str().unwrap().to_string(), o["id"].clone());
        assert!(!o.to_string().contains(":null"), "no nulls: {o}");
        // The public sees no FAX.
        assert!(
            o["phones"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["type"] == "voice")
        );
    }
    // One service per service in the CSV's services column, each at its facility's location.
    let expected: usize = rows[1..]
        .iter()
        .map(|r| {
            r[col("services")]
                .split(';')
                .filter(|s| !s.is_empty())
                .count()
        })
        .sum();
    let services = doc["services"].as_array().unwrap();
    assert_eq!(services.len(), expected);
    let pcu_label = "緩和ケア病棟";
    assert_eq!(
        services.iter().filter(|s| s["name"] == pcu_label).count(),
        orgs.len()
    );
    for s in services {
        assert!(matches!(
            s["status"].as_str(),
            Some("active" | "temporarily closed")
        ));
        let sal = &s["service_at_locations"][0];
        assert_eq!(sal["service_id"], s["id"]);
        let org = &locations[sal["location_id"].as_str().unwrap()];
        assert_eq!(&s["organization_id"], org);
    }
    // Every schedule of the whole set is a weekly rule in JST, or a description alone.
    let (_, _, body) = default_fetch("/api/v1/export/hsds").await;
    let doc: Value = serde_json::from_slice(&body).unwrap();
    for o in doc["organizations"].as_array().unwrap() {
        for s in o["locations"][0]["schedules"].as_array().unwrap() {
            match s.get("freq") {
                Some(f) => {
                    assert_eq!(f, "WEEKLY");
                    assert!(s["opens_at"].as_str().unwrap().ends_with("+09:00"), "{s}");
                }
                None => assert!(s["description"].is_string(), "{s}"),
            }
        }
    }
}

#[actix_web::test]
async fn professional_columns_follow_the_callers_role() {
    let fx = fixture();
    let pro = sign_in(&fx.state, "pro@example.jp").await;
    let id = "navii-1111070000010";
    let fax_of = |rows: &[Vec<String>]| {
        rows.iter()
            .find(|r| r[col("id")] == id)
            .map(|r| r[col("fax")].clone())
            .unwrap()
    };
    let (_, headers, public) = fetch(&fx.state, "/api/v1/facilities.csv", None).await;
    assert!(!headers.contains_key("cache-control"));
    let (_, headers, signed_in) = fetch(&fx.state, "/api/v1/facilities.csv", Some(&pro)).await;
    assert_eq!(headers["cache-control"], "private, no-store");
    assert_eq!(fax_of(&utf8_csv(&public)), "");
    assert_eq!(fax_of(&utf8_csv(&signed_in)), "048-000-0002");
    let (_, _, xlsx) = fetch(&fx.state, "/api/v1/facilities.xlsx", Some(&pro)).await;
    assert_eq!(fax_of(&xlsx_sheet(&xlsx, "施設一覧")), "048-000-0002");
    let (_, _, xlsx) = fetch(&fx.state, "/api/v1/facilities.xlsx", None).await;
    assert_eq!(fax_of(&xlsx_sheet(&xlsx, "施設一覧")), "");
    // HSDS: FAX and the direct line for the professional only.
    for (session, fax) in [(None, false), (Some(&pro), true)] {
        let (_, _, body) = fetch(&fx.state, "/api/v1/export/hsds", session).await;
        let text = String::from_utf8(body).unwrap();
        assert_eq!(text.contains("MARKER-FAX-0480000099"), fax);
        assert_eq!(text.contains("MARKER-DIRECT-0480000098"), fax);
        assert!(!text.contains("MARKER-INTERNAL"));
        assert!(!text.contains("MARKER-FORMULARY"));
        let doc: Value = serde_json::from_str(&text).unwrap();
        let has_fax = doc["organizations"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|o| o["phones"].as_array().unwrap())
            .any(|p| p["type"] == "fax");
        assert_eq!(has_fax, fax);
    }
    // Formulary filters: 401 naming the parameter for the public, as the list answers.
    for path in [
        "/api/v1/facilities.csv",
        "/api/v1/facilities.xlsx",
        "/api/v1/export/hsds",
        "/api/v1/facilities.geojson",
    ] {
        let uri = format!("{path}?opioid=fentanyl_patch");
        let resp = call(&fx.state, Method::GET, &uri, None, &[], None).await;
        let (status, _, body) = crate::accounts::json_of(resp).await;
        assert_eq!(
            (status, body["parameter"].as_str()),
            (401, Some("opioid")),
            "{uri}"
        );
        let (status, _, body) = fetch(&fx.state, &uri, Some(&pro)).await;
        assert_eq!(status, 200, "{uri}: {}", String::from_utf8_lossy(&body));
    }
    let (_, _, body) = fetch(
        &fx.state,
        "/api/v1/facilities.csv?opioid=fentanyl_patch&stock=always",
        Some(&pro),
    )
    .await;
    let rows = utf8_csv(&body);
    assert_eq!(rows.len(), 2, "the marked pharmacy only");
    assert_eq!(rows[1][col("id")], "navii-1151070000030");
}

#[actix_web::test]
async fn the_import_template_is_the_header_and_one_labelled_example() {
    let (status, headers, body) = default_fetch("/api/v1/import/template.csv").await;
    assert_eq!(status, 200);
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"pallimap-import-template.csv\""
    );
    let rows = utf8_csv(&body);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0], header_row());
    assert!(rows[1][col("name")].starts_with("（例）"), "{:?}", rows[1]);
    assert_eq!(rows[1][col("id")], "", "a new facility");
    // Every heading names its column back.
    for (h, c) in rows[0].iter().zip(sheet::COLUMNS) {
        assert_eq!(sheet::column_of_header(h).map(|c| c.key), Some(c.key));
    }
    let (_, _, sjis) = default_fetch("/api/v1/import/template.csv?encoding=shift_jis").await;
    let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(&sjis);
    assert!(!bad);
    assert_eq!(csv_rows(&text), rows);
    let (status, headers, body) = default_fetch("/api/v1/import/template.xlsx").await;
    assert_eq!(status, 200);
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"pallimap-import-template.xlsx\""
    );
    assert_eq!(xlsx_sheet(&body, "施設一覧"), rows);
    assert_eq!(
        xlsx_sheet(&body, "列の説明").len(),
        sheet::COLUMNS.len() + 1
    );
    let (status, _, _) = get(&format!("/api/v1/import/template.xlsx?x={}", enc("例"))).await;
    assert_eq!(status, 400);
}

#[actix_web::test]
async fn weekly_hours_become_hsds_schedules_in_jst() {
    let mut f = crate::common::facility(
        "navii-1131070000040",
        pallimap::domain::FacilityKind::Clinic,
        "テスト時間診療所",
        35.8610,
        139.6420,
    );
    f.hours = serde_json::from_value(serde_json::json!({
        "closed_weekdays": ["sun"],
        "note": "年末年始は休み",
        "open": [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "17:30"},
            {"days": ["sat", "holiday"], "from": "17:00", "to": "09:00"},
        ],
    }))
    .unwrap();
    let fx = crate::accounts::fixture_with(vec![f]);
    let (status, _, body) = fetch(&fx.state, "/api/v1/export/hsds", None).await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_slice(&body).unwrap();
    let org = doc["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "テスト時間診療所")
        .expect("the clinic");
    let loc = &org["locations"][0];
    let s = loc["schedules"].as_array().unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(
        (
            &s[0]["freq"],
            &s[0]["byday"],
            &s[0]["opens_at"],
            &s[0]["closes_at"],
            &s[0]["location_id"]
        ),
        (
            &Value::from("WEEKLY"),
            &Value::from("MO,TU,WE,TH,FR"),
            &Value::from("09:00+09:00"),
            &Value::from("17:30+09:00"),
            &loc["id"]
        )
    );
    assert_eq!(s[0]["notes"], "年末年始は休み");
    // The night: overnight and on holidays, which RFC 5545 cannot say but the description does.
    assert_eq!(s[1]["byday"], "SA");
    assert_eq!(s[1]["closes_at"], "09:00+09:00");
    let d = s[1]["description"].as_str().unwrap();
    assert!(d.contains("翌日") && d.contains("祝日も"), "{d}");
    // Without periods, the closed days and the note as a description only.
    let o = doc["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "テスト第一病院")
        .expect("the hospital");
    let s = &o["locations"][0]["schedules"][0];
    assert!(s.get("freq").is_none());
    assert_eq!(s["description"], "休み: 日（開いている時間は不明）");
}

/// A coordinator's dry run of `bytes` through `POST /api/v1/imports`: the preview.
async fn dry_run(fx: &crate::accounts::Fixture, s: &Session, name: &str, bytes: &[u8]) -> Value {
    use actix_web::App;
    let boundary = "----pallimap-export-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let app =
        test::init_service(App::new().configure(pallimap::http::configure(fx.state.clone()))).await;
    let req = test::TestRequest::post()
        .uri("/api/v1/imports")
        .insert_header((
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        ))
        .insert_header(("cookie", format!("pallimap_session={}", s.cookie)))
        .insert_header(("x-csrf-token", s.csrf.clone()))
        .peer_addr("127.0.0.9:5000".parse().unwrap())
        .set_payload(body);
    let resp = test::call_service(&app, req.to_request()).await;
    let status = resp.status().as_u16();
    let p: Value = serde_json::from_slice(&test::read_body(resp).await).unwrap_or(Value::Null);
    assert_eq!(status, 200, "{name}: {p}");
    p
}

#[actix_web::test]
async fn the_template_imports_and_every_export_imports_back_unchanged() {
    let fx = fixture();
    let coord = sign_in(&fx.state, "coord@example.jp").await;
    // The template's example row is a new facility the importer accepts as it stands.
    for path in [
        "/api/v1/import/template.csv",
        "/api/v1/import/template.csv?encoding=shift_jis",
        "/api/v1/import/template.xlsx",
    ] {
        let (_, _, bytes) = fetch(&fx.state, path, None).await;
        let name = if path.contains("xlsx") {
            "template.xlsx"
        } else {
            "template.csv"
        };
        let p = dry_run(&fx, &coord, name, &bytes).await;
        assert_eq!(
            (&p["rows"], &p["created"], &p["rejected"]),
            (&Value::from(1), &Value::from(1), &Value::from(0)),
            "{path}: {p}"
        );
    }
    // What a coordinator downloads, uploaded again, changes nothing.
    let before = fx.store.change_log_len().unwrap();
    for path in [
        "/api/v1/facilities.csv",
        "/api/v1/facilities.csv?encoding=shift_jis",
        "/api/v1/facilities.xlsx",
    ] {
        let (status, _, bytes) = fetch(&fx.state, path, Some(&coord)).await;
        assert_eq!(status, 200);
        let name = if path.contains("xlsx") {
            "export.xlsx"
        } else {
            "export.csv"
        };
        let p = dry_run(&fx, &coord, name, &bytes).await;
        let n = utf8_csv(
            &fetch(&fx.state, "/api/v1/facilities.csv", Some(&coord))
                .await
                .2,
        )
        .len()
            - 1;
        assert_eq!(
            (&p["rows"], &p["unchanged"], &p["rejected"]),
            (&Value::from(n), &Value::from(n), &Value::from(0)),
            "{path}: {p}"
        );
    }
    assert_eq!(fx.store.change_log_len().unwrap(), before);
}
