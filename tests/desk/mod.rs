//! The coordinator's desk: the verification queue and its mail-merge links; corrections the
//! public reports (no account, a honeypot, a per-address limit) and the coordinator's queue.

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::accounts::{call, fixture, json_of, sign_in};
use crate::admissions::{get, write};

const CLINIC: &str = "navii-1121070000020";
const HOSPITAL: &str = "navii-1111070000010";

#[actix_web::test]
async fn the_verification_queue_lists_the_oldest_first_and_issues_links_in_bulk() {
    let fx = fixture();
    let coord = sign_in(&fx.state, "coord@example.jp").await;
    let pro = sign_in(&fx.state, "pro@example.jp").await;
    // The clinic was confirmed this year; the others never.
    let (_, headers, _) = json_of(
        call(
            &fx.state,
            Method::GET,
            &format!("/api/v1/facilities/{CLINIC}"),
            Some(&coord),
            &[],
            None,
        )
        .await,
    )
    .await;
    let (status, _) = write(
        &fx,
        Method::POST,
        &format!("/api/v1/facilities/{CLINIC}/verify"),
        Some(&coord),
        Some(&headers["etag"]),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(get(&fx, "/api/v1/review/stale", None).await.0, 401);
    assert_eq!(get(&fx, "/api/v1/review/stale", Some(&pro)).await.0, 403);
    assert_eq!(
        get(&fx, "/api/v1/review/stale?area=1101", Some(&coord))
            .await
            .0,
        403
    );
    assert_eq!(
        get(&fx, "/api/v1/review/stale?months=0", Some(&coord))
            .await
            .0,
        400
    );
    let (status, b) = get(
        &fx,
        "/api/v1/review/stale?months=12&area=1104",
        Some(&coord),
    )
    .await;
    assert_eq!(status, 200, "{b}");
    let ids: Vec<&str> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&CLINIC), "verified today: {ids:?}");
    assert!(ids.contains(&HOSPITAL));
    assert_eq!(b["total"], ids.len());
    assert!(b["items"][0]["verified_at"].is_null());

    // Links for a selection, as a CSV for a mail merge; each link opens its facility.
    let (status, e) = write(
        &fx,
        Method::POST,
        "/api/v1/review/stale/links",
        Some(&coord),
        None,
        json!({"ids": []}),
    )
    .await;
    assert_eq!((status, e["field"].as_str()), (400, Some("ids")));
    let (status, e) = write(
        &fx,
        Method::POST,
        "/api/v1/review/stale/links",
        Some(&coord),
        None,
        json!({"ids": [HOSPITAL, "navii-0000000000000"]}),
    )
    .await;
    assert_eq!((status, e["field"].as_str()), (400, Some("ids[1]")), "{e}");
    let resp = call(
        &fx.state,
        Method::POST,
        "/api/v1/review/stale/links",
        Some(&coord),
        &[("x-csrf-token", &coord.csrf)],
        Some(json!({"ids": [HOSPITAL, CLINIC], "days": 30})),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
    let body = actix_web::test::read_body(resp).await;
    assert!(body.starts_with(b"\xEF\xBB\xBF"), "a BOM for Excel");
    let text = String::from_utf8(body[3..].to_vec()).unwrap();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let headers = rows.headers().unwrap().clone();
    assert_eq!(
        &headers,
        vec!["施設ID", "名称", "電話番号", "更新用リンク", "有効期限"]
    );
    let rows: Vec<csv::StringRecord> = rows.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    for r in &rows {
        let (_, token) = r[3].split_once("/update.html#").unwrap();
        let (status, page) = get(&fx, &format!("/api/v1/update-links/{token}"), None).await;
        assert_eq!(
            (status, page["facility"]["id"].as_str()),
            (200, Some(&r[0]))
        );
    }

    // Withheld: in no list, still in the queue, and back when active again.
    let (_, headers, _) = json_of(
        call(
            &fx.state,
            Method::GET,
            &format!("/api/v1/facilities/{HOSPITAL}"),
            Some(&coord),
            &[],
            None,
        )
        .await,
    )
    .await;
    let (status, e) = write(
        &fx,
        Method::PATCH,
        &format!("/api/v1/facilities/{HOSPITAL}"),
        Some(&coord),
        Some(&headers["etag"]),
        json!({"status": "withheld"}),
    )
    .await;
    assert_eq!(status, 200, "{e}");
    assert_eq!(
        get(&fx, &format!("/api/v1/facilities/{HOSPITAL}"), None)
            .await
            .0,
        404
    );
    let (_, list) = get(&fx, "/api/v1/facilities?limit=100", Some(&pro)).await;
    assert!(!list.to_string().contains(HOSPITAL));
    let (_, b) = get(&fx, "/api/v1/review/stale", Some(&coord)).await;
    let item = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == HOSPITAL)
        .unwrap();
    assert_eq!(item["withheld"], true);
}

#[actix_web::test]
async fn the_public_reports_corrections_that_only_the_areas_coordinator_sees() {
    let fx = fixture();
    let coord = sign_in(&fx.state, "coord@example.jp").await;
    let other = sign_in(&fx.state, "other-coord@example.jp").await;
    let uri = format!("/api/v1/facilities/{CLINIC}/corrections");
    let send = |body: Value| {
        let uri = uri.clone();
        let state = fx.state.clone();
        async move {
            let (status, headers, b) =
                json_of(call(&state, Method::POST, &uri, None, &[], Some(body)).await).await;
            (status, headers, b)
        }
    };
    // Bad reports say what to fix.
    let (status, _, e) = send(json!({"what": "  "})).await;
    assert_eq!((status, e["field"].as_str()), (400, Some("what")));
    let (status, _, e) = send(json!({"what": "x".repeat(2001)})).await;
    assert_eq!((status, e["field"].as_str()), (400, Some("what")));
    assert_eq!(
        json_of(
            call(
                &fx.state,
                Method::POST,
                "/api/v1/facilities/navii-0000000000000/corrections",
                None,
                &[],
                Some(json!({"what": "x"}))
            )
            .await
        )
        .await
        .0,
        404
    );
    // Accepted, answering nothing of other reports.
    let (status, _, b) =
        send(json!({"what": "電話番号が変わりました: 048-000-7777", "contact": "山田"})).await;
    assert_eq!((status, b), (202, json!({"received": true})));
    // A filled honeypot is answered the same and kept nowhere.
    let (status, _, b) = send(json!({"what": "spam", "website": "http://spam.example"})).await;
    assert_eq!((status, b), (202, json!({"received": true})));
    let (status, _, _) = send(json!({"what": "休診日は木曜です"})).await;
    assert_eq!(status, 202);
    // The queue: the area's coordinator sees the two real ones; another area's sees none.
    assert_eq!(get(&fx, "/api/v1/corrections", None).await.0, 401);
    let (status, q) = get(&fx, "/api/v1/corrections", Some(&coord)).await;
    assert_eq!(status, 200, "{q}");
    let items = q.as_array().unwrap();
    assert_eq!(items.len(), 2, "{q}");
    assert_eq!(items[0]["what"], "電話番号が変わりました: 048-000-7777");
    assert_eq!(items[0]["contact"], "山田");
    assert_eq!(items[0]["facility_name"], "テスト在宅クリニック");
    assert!(!q.to_string().contains("127.0.0.9"), "no address is stored");
    let (_, q) = get(&fx, "/api/v1/corrections", Some(&other)).await;
    assert_eq!(q, json!([]));
    // Closing: once.
    let id = items[0]["id"].as_i64().unwrap();
    let close = format!("/api/v1/corrections/{id}/close");
    let (status, _) = write(&fx, Method::POST, &close, Some(&other), None, json!({})).await;
    assert_eq!(status, 403);
    let (status, c) = write(
        &fx,
        Method::POST,
        &close,
        Some(&coord),
        None,
        json!({"note": "修正済み"}),
    )
    .await;
    assert_eq!((status, c["status"].as_str()), (200, Some("closed")), "{c}");
    let (status, _) = write(&fx, Method::POST, &close, Some(&coord), None, json!({})).await;
    assert_eq!(status, 409);
    let (_, q) = get(&fx, "/api/v1/corrections", Some(&coord)).await;
    assert_eq!(q.as_array().unwrap().len(), 1);
    // Five an hour per address (three sent): the sixth is 429 with Retry-After.
    for _ in 0..2 {
        assert_eq!(send(json!({"what": "x"})).await.0, 202);
    }
    let (status, headers, e) = send(json!({"what": "x"})).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (429, Some("too_many_attempts")),
        "{e}"
    );
    let wait: u64 = headers["retry-after"].parse().unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
}

#[actix_web::test]
async fn specialists_are_counts_in_public_and_names_only_when_published() {
    let fx = fixture();
    let coord = sign_in(&fx.state, "coord@example.jp").await;
    let editor = sign_in(&fx.state, "editor@example.jp").await;
    let pharmacy = "navii-1151070000030";
    let uri = format!("/api/v1/facilities/{pharmacy}/specialists");
    let etag = |s| {
        let state = fx.state.clone();
        async move {
            let (_, h, _) = json_of(
                call(
                    &state,
                    Method::GET,
                    &format!("/api/v1/facilities/{pharmacy}"),
                    Some(s),
                    &[],
                    None,
                )
                .await,
            )
            .await;
            h["etag"].clone()
        }
    };
    let body = |vis: &str| {
        json!({"counts": [{"role": "palliative_pharmacist", "count": 2}],
               "named": [{"name": "薬剤師 緩和花子", "role": "palliative_pharmacist", "visibility": vis}],
               "source": "施設の回答", "as_of": "令和8年11月1日"})
    };
    // The pharmacy's editor may set counts and names, not publish a name.
    let e = etag(&editor).await;
    let (status, _) = write(
        &fx,
        Method::PUT,
        &uri,
        Some(&editor),
        Some(&e),
        body("public"),
    )
    .await;
    assert_eq!(status, 403);
    let (status, e2) = write(
        &fx,
        Method::PUT,
        &uri,
        Some(&editor),
        Some(&e),
        json!({"counts": [{"role": "nurse", "count": 1}], "source": "x", "as_of": "2026-11-01"}),
    )
    .await;
    assert_eq!(
        (status, e2["field"].as_str()),
        (400, Some("counts[0].role"))
    );
    let (status, f) = write(
        &fx,
        Method::PUT,
        &uri,
        Some(&editor),
        Some(&e),
        body("internal"),
    )
    .await;
    assert_eq!(status, 200, "{f}");
    // The public sees the count and the source, never the unpublished name; search finds it.
    let (_, f) = get(&fx, &format!("/api/v1/facilities/{pharmacy}"), None).await;
    assert_eq!(
        f["specialists"]["counts"],
        json!([{"role": "palliative_pharmacist", "count": 2}])
    );
    assert_eq!(f["specialists"]["as_of"], "2026-11-01");
    assert!(!f.to_string().contains("緩和花子"));
    let (_, list) = get(
        &fx,
        "/api/v1/facilities?specialist=palliative_pharmacist",
        None,
    )
    .await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], pharmacy);
    let (_, list) = get(
        &fx,
        "/api/v1/facilities?specialist=palliative_physician",
        None,
    )
    .await;
    assert_eq!(list["total"], 0);
    assert_eq!(
        get(&fx, "/api/v1/facilities?specialist=nurse", None)
            .await
            .0,
        400
    );
    // Every list shares the filters: the layer and the exports take it too.
    for uri in [
        "/api/v1/facilities.geojson?specialist=palliative_pharmacist",
        "/api/v1/facilities.csv?specialist=palliative_pharmacist",
        "/api/v1/export/hsds?specialist=palliative_pharmacist",
    ] {
        let resp = call(&fx.state, Method::GET, uri, None, &[], None).await;
        assert_eq!(resp.status().as_u16(), 200, "{uri}");
    }
    let (_, f) = get(&fx, &format!("/api/v1/facilities/{pharmacy}"), Some(&coord)).await;
    assert!(f.to_string().contains("緩和花子"), "coordinators see it");
    // The coordinator publishes it once the person agreed.
    let e = etag(&coord).await;
    let (status, _) = write(
        &fx,
        Method::PUT,
        &uri,
        Some(&coord),
        Some(&e),
        body("public"),
    )
    .await;
    assert_eq!(status, 200);
    let (_, f) = get(&fx, &format!("/api/v1/facilities/{pharmacy}"), None).await;
    assert_eq!(f["specialists"]["named"][0]["name"], "薬剤師 緩和花子");
}
