//! The coordinator's import: encodings, a BOM, 和暦 dates, the template's headings; every kind
//! of bad row rejected with its row and column and nothing applied; an applied import found by
//! search at once; the same file again changes nothing.

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::accounts::{Fixture, Session, call, fixture, json_of, sign_in};

const HEADER: &str =
    "施設ID,種別,名称,フリガナ,所在地,緯度,経度,電話番号,FAX番号,サービス,最終確認日";

/// Two new clinics and a change to a stored one (its phone), with 和暦 and ISO dates.
fn good_csv() -> String {
    [
        HEADER,
        ",診療所,北浦和かえで在宅クリニック,キタウラワカエデザイタククリニック,埼玉県さいたま市浦和区北浦和4-2-1,,,048-000-1201,048-000-1202,home_care_support;訪問看護,令和6年4月1日",
        ",clinic,北浦和さくら診療所,,埼玉県さいたま市浦和区北浦和4-3-1,35.8716,139.6462,048-000-1301,,,R6.10.1",
        "navii-1121070000020,,,,,,,048-000-1999,,,2024-05-01",
    ]
    .join("\r\n")
}

fn multipart(name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----pallimap-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(
    fx: &Fixture,
    s: Option<&Session>,
    query: &str,
    name: &str,
    bytes: &[u8],
) -> (u16, Value) {
    use actix_web::{App, test};
    let (ctype, body) = multipart(name, bytes);
    let app =
        test::init_service(App::new().configure(pallimap::http::configure(fx.state.clone()))).await;
    let mut req = test::TestRequest::post()
        .uri(&format!("/api/v1/imports{query}"))
        .insert_header(("content-type", ctype))
        .peer_addr("127.0.0.9:5000".parse().unwrap())
        .set_payload(body);
    if let Some(s) = s {
        req = req
            .insert_header(("cookie", format!("pallimap_session={}", s.cookie)))
            .insert_header(("x-csrf-token", s.csrf.clone()));
    }
    let resp = test::call_service(&app, req.to_request()).await;
    let status = resp.status().as_u16();
    let body = test::read_body(resp).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn sjis(text: &str) -> Vec<u8> {
    encoding_rs::SHIFT_JIS.encode(text).0.into_owned()
}

fn change_log_len(fx: &Fixture) -> i64 {
    fx.store.change_log_len().unwrap()
}

#[actix_web::test]
async fn an_import_is_checked_then_applied_once_in_every_encoding() {
    for (name, bytes) in [
        ("utf8.csv", good_csv().into_bytes()),
        (
            "bom.csv",
            [b"\xEF\xBB\xBF".as_slice(), good_csv().as_bytes()].concat(),
        ),
        ("sjis.csv", sjis(&good_csv())),
    ] {
        let fx = fixture();
        let coord = sign_in(&fx.state, "coord@example.jp").await;
        let before = change_log_len(&fx);
        // The check writes nothing.
        let (status, p) = upload(&fx, Some(&coord), "", name, &bytes).await;
        assert_eq!(status, 200, "{name}: {p}");
        assert_eq!(
            (
                &p["rows"],
                &p["created"],
                &p["updated"],
                &p["unchanged"],
                &p["rejected"]
            ),
            (&json!(3), &json!(2), &json!(1), &json!(0), &json!(0)),
            "{name}: {p}"
        );
        let want_enc = if name == "sjis.csv" {
            "shift_jis"
        } else {
            "utf-8"
        };
        assert_eq!(p["encoding"], want_enc, "{name}");
        assert_eq!(p["applied"], false);
        assert_eq!(
            change_log_len(&fx),
            before,
            "{name}: a check writes nothing"
        );
        let checksum = p["checksum"].as_str().unwrap().to_string();
        assert!(checksum.starts_with("sha256:"));
        // A different file under the previewed checksum is refused.
        let (status, _) = upload(
            &fx,
            Some(&coord),
            &format!("?apply=true&checksum={checksum}"),
            name,
            b"other",
        )
        .await;
        assert_eq!(status, 409);
        let (status, p) = upload(
            &fx,
            Some(&coord),
            &format!("?apply=true&checksum={checksum}"),
            name,
            &bytes,
        )
        .await;
        assert_eq!(status, 200, "{name}: {p}");
        assert_eq!(
            (&p["applied"], &p["created"], &p["updated"]),
            (&json!(true), &json!(2), &json!(1))
        );
        assert_eq!(
            p["items"].as_array().map(Vec::len),
            Some(3),
            "the rows written are listed"
        );
        // Found by search at once, placed, with the 和暦 date read.
        let (_, _, list) = json_of(
            call(
                &fx.state,
                Method::GET,
                &format!("/api/v1/facilities?q={}", crate::api::enc("かえで在宅")),
                None,
                &[],
                None,
            )
            .await,
        )
        .await;
        assert_eq!(list["total"], 1, "{name}: {list}");
        let item = &list["items"][0];
        assert_eq!(item["verified_at"], "2024-04-01");
        assert_eq!(item["area"]["code"], "1104");
        assert_eq!(item["placement"], "town");
        assert!(item.to_string().contains("048-000-1201"));
        assert!(
            !item.to_string().contains("048-000-1202"),
            "the FAX is professional"
        );
        let services: Vec<&str> = item["services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["kind"].as_str().unwrap())
            .collect();
        assert_eq!(services, ["home_care_support", "visiting_nursing"]);
        let f = fx.store.facility("navii-1121070000020").unwrap().unwrap();
        assert!(f.contacts.iter().any(|c| c.value == "048-000-1999"));
        let history = fx.store.history("navii-1121070000020").unwrap();
        let last = history.last().unwrap();
        assert_eq!(last.actor, "coordinator:coord@example.jp");
        assert!(
            last.source
                .as_deref()
                .unwrap()
                .starts_with(&format!("import:{name}:sha256:")),
            "{last:?}"
        );
        // The same file again: everything unchanged, nothing written.
        let logged = change_log_len(&fx);
        let (status, p) = upload(&fx, Some(&coord), "?apply=true", name, &bytes).await;
        assert_eq!(status, 200, "{p}");
        assert_eq!(
            (&p["unchanged"], &p["created"], &p["updated"]),
            (&json!(3), &json!(0), &json!(0))
        );
        assert_eq!(
            change_log_len(&fx),
            logged,
            "{name}: a re-import writes nothing"
        );
    }
}

#[actix_web::test]
async fn bad_rows_are_rejected_with_their_row_and_column_and_nothing_is_applied() {
    let fx = fixture();
    let coord = sign_in(&fx.state, "coord@example.jp").await;
    let row = |r: &str| format!("{HEADER}\n{}\n{r}\n", good_csv().lines().nth(1).unwrap());
    for (what, file, want_row, want_column) in [
        (
            "a broken quote",
            row(",診療所,\"閉じない引用符の診療所,,埼玉県さいたま市浦和区北浦和4-1-1,,,,,,"),
            Some(3),
            None,
        ),
        (
            "a duplicate identifier",
            format!(
                "{HEADER}\nnavii-1121070000020,,,,,,,048-000-1999,,,\nnavii-1121070000020,,,,,,,048-000-1998,,,\n"
            ),
            Some(3),
            Some("施設ID"),
        ),
        (
            "an unknown service",
            row(",診療所,新しい診療所,,埼玉県さいたま市浦和区北浦和4-4-1,,,,,緩和ケア温泉,"),
            Some(3),
            Some("サービス"),
        ),
        (
            "a coordinate outside Japan",
            row(",診療所,海外の診療所,,埼玉県さいたま市浦和区北浦和4-4-1,51.5,-0.12,,,,"),
            Some(3),
            Some("緯度"),
        ),
        (
            "an unknown id",
            row("navii-9999999999999,,,,,,,048-000-1999,,,"),
            Some(3),
            Some("施設ID"),
        ),
        (
            "a bad date",
            row(",診療所,日付の診療所,,埼玉県さいたま市浦和区北浦和4-4-1,,,,,,平成31年5月1日"),
            Some(3),
            Some("最終確認日"),
        ),
        (
            "a bad phone",
            row(",診療所,電話の診療所,,埼玉県さいたま市浦和区北浦和4-4-1,,,110,,,"),
            Some(3),
            Some("電話番号"),
        ),
        (
            "an address outside the region",
            row(",診療所,遠くの診療所,,北海道札幌市中央区北1条西2丁目,,,,,,"),
            Some(3),
            Some("所在地"),
        ),
        ("an empty file", String::new(), None, None),
        ("a header only", format!("{HEADER}\n"), None, None),
        ("no header", "a,b,c\n1,2,3\n".to_string(), None, None),
    ] {
        let before = change_log_len(&fx);
        let (status, p) = upload(&fx, Some(&coord), "", "bad.csv", file.as_bytes()).await;
        assert_eq!(status, 200, "{what}: {p}");
        match want_row {
            Some(n) => {
                assert_eq!(p["rejected"], 1, "{what}: {p}");
                let item = p["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|i| i["action"] == "reject")
                    .unwrap();
                assert_eq!(item["row"], n, "{what}: {p}");
                let e = &item["errors"][0];
                assert_eq!(e["column"].as_str(), want_column, "{what}: {p}");
                assert!(!e["message"].as_str().unwrap().is_empty());
            }
            None => assert!(
                !p["file_errors"].as_array().unwrap().is_empty(),
                "{what}: {p}"
            ),
        }
        // Applying it is refused as a whole: 422 with the preview, nothing written.
        let (status, e) =
            upload(&fx, Some(&coord), "?apply=true", "bad.csv", file.as_bytes()).await;
        assert_eq!(
            (status, e["code"].as_str()),
            (422, Some("import_rejected")),
            "{what}: {e}"
        );
        assert!(e["preview"].is_object());
        assert_eq!(change_log_len(&fx), before, "{what}: nothing applied");
    }
    // Over the limit: 413.
    let big = vec![b'a'; pallimap_upload_limit() + 1];
    let (status, e) = upload(&fx, Some(&coord), "", "big.csv", &big).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (413, Some("body_too_large")),
        "{e}"
    );
}

fn pallimap_upload_limit() -> usize {
    20 * 1024 * 1024
}

#[actix_web::test]
async fn only_coordinators_import_and_only_into_their_areas() {
    let fx = fixture();
    let bytes = good_csv().into_bytes();
    assert_eq!(upload(&fx, None, "", "a.csv", &bytes).await.0, 401);
    let pro = sign_in(&fx.state, "pro@example.jp").await;
    assert_eq!(upload(&fx, Some(&pro), "", "a.csv", &bytes).await.0, 403);
    let other = sign_in(&fx.state, "other-coord@example.jp").await;
    let (status, p) = upload(&fx, Some(&other), "", "a.csv", &bytes).await;
    assert_eq!((status, &p["rejected"]), (200, &json!(3)), "{p}");
    assert!(
        p["items"][0]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Not yours")
    );
    let coord = sign_in(&fx.state, "coord@example.jp").await;
    assert_eq!(
        upload(&fx, Some(&coord), "?encoding=latin1", "a.csv", &bytes)
            .await
            .0,
        400
    );
}

/// Every facility of the real dataset written in the template's columns and read back: no
/// row rejected, every row unchanged, nothing written.
#[test]
fn the_whole_dataset_written_as_rows_imports_back_unchanged() {
    let Some((_db, store, _)) = crate::common::writable_default_store() else {
        return;
    };
    let catalog = pallimap::app::build_catalog(&store).unwrap();
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(pallimap::sheet::header()).unwrap();
    let all = store.facilities().unwrap();
    for f in &all {
        w.write_record(pallimap::sheet::row_of(f, true)).unwrap();
    }
    let bytes = std::sync::Arc::new(w.into_inner().unwrap());
    let before = store.change_log_len().unwrap();
    let p = pallimap::app::import(
        &store,
        &catalog,
        || Ok(std::io::Cursor::new(bytes.to_vec())),
        "dataset.csv",
        None,
        pallimap::import::Importer::Operator,
        true,
        |_| {},
    )
    .unwrap();
    let rejected: Vec<_> = p
        .items
        .iter()
        .filter(|i| !i.errors.is_empty())
        .take(5)
        .collect();
    assert_eq!(p.rejected, 0, "{rejected:?}");
    assert_eq!(
        (p.rows, p.unchanged),
        (all.len(), all.len()),
        "{:?}",
        p.items.first()
    );
    assert_eq!(store.change_log_len().unwrap(), before);
}

/// The 介護サービス情報公表 open-data file `data build` reads (the 82 定期巡回 services of
/// 埼玉) is read as it is published: its headings name the template's columns.
#[test]
fn a_public_sources_file_is_accepted_as_published() {
    let src = std::path::Path::new(
        "../shared/data-src/kaigo-teikijunkai-760-saitama/jigyosho_760_saitama_20250601.csv",
    );
    if !crate::common::require_part("../shared/data-src", src.is_file()) {
        return;
    }
    let Some((_db, store, _)) = crate::common::writable_default_store() else {
        return;
    };
    let catalog = pallimap::app::build_catalog(&store).unwrap();
    let p = pallimap::app::import(
        &store,
        &catalog,
        || std::fs::File::open(src).map(std::io::BufReader::new),
        "jigyosho_760_saitama_20250601.csv",
        None,
        pallimap::import::Importer::Operator,
        false,
        |_| {},
    )
    .unwrap();
    assert_eq!(p.file_errors, Vec::<String>::new());
    assert_eq!(p.rows, 82, "{p:?}");
    // Its headings name the template's columns; the rows that name a facility of the dataset
    // by 事業所番号 are matched to it (updated where the published row differs from what the
    // build kept, e.g. its 方書 or spelling), the others would be new; the rows the build had
    // to mend (no prefecture in the address, `http:/` URLs, a 〇〇 placeholder at 0,0) are
    // rejected, each naming its column.
    let reject = pallimap::import::Action::Reject;
    let rejected: Vec<_> = p.items.iter().filter(|i| i.action == reject).collect();
    assert_eq!(rejected.len(), p.rejected);
    assert!(
        rejected
            .iter()
            .all(|r| r.errors.iter().all(|e| e.column.is_some())),
        "{rejected:?}"
    );
    assert_eq!(p.created + p.updated + p.unchanged + p.rejected, 82);
    assert!(
        p.updated + p.unchanged >= 40,
        "matched by 事業所番号: {p:?}"
    );
}
