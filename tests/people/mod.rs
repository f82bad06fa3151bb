//! The region's people: consultation windows (seeded for the がん診療 core hospitals, found by
//! what they answer, the route to use now) and patient groups with their next meetings.

use actix_web::http::Method;
use serde_json::{Value, json};
use time::{Date, Duration, OffsetDateTime, UtcOffset, Weekday};

use crate::accounts::{fixture, sign_in};
use crate::admissions::{etag_of, get, write};
use crate::api::enc;

const HOSPITAL: &str = "navii-1111070000010";

/// Every id of a public search of the real dataset, walking the pages.
async fn public_ids(query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut uri = format!("/api/v1/facilities?{query}&limit=100");
        if let Some(c) = &cursor {
            uri.push_str(&format!("&cursor={c}"));
        }
        let (status, _, body) = crate::api::get(&uri).await;
        assert_eq!(status, 200, "{uri}: {body}");
        ids.extend(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["id"].as_str().unwrap().to_string()),
        );
        match body["next"].as_str() {
            Some(n) => cursor = Some(n.to_string()),
            None => return ids,
        }
    }
}

/// The facilities of the default dataset with a window, read from the dataset file itself.
fn seeded_windows() -> Vec<(String, Value)> {
    let file = std::fs::File::open("data/facilities.jsonl.gz").unwrap();
    let text = std::io::read_to_string(flate2::read::GzDecoder::new(file)).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|f| f["consultations"].is_array())
        .map(|f| (f["id"].as_str().unwrap().to_string(), f))
        .collect()
}

#[actix_web::test]
async fn the_cancer_core_hospitals_windows_are_found_by_what_they_answer() {
    let seeded = seeded_windows();
    // The hospitals that notified がん治療連携計画策定料 in the 届出 list, one window each.
    assert_eq!(
        seeded.len(),
        21,
        "{:?}",
        seeded.iter().map(|s| &s.0).collect::<Vec<_>>()
    );
    for (id, f) in &seeded {
        assert_eq!(f["kind"], "hospital", "{id}");
        let w = &f["consultations"][0];
        assert_eq!(w["kind"], "cancer_support_center");
        assert_eq!(w["provenance"]["source"], "kouseikyoku-todokede");
        assert_eq!(w["verified"], false);
        // The only number given is one the 届出 list publishes for the hospital.
        let phones: Vec<&str> = f["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["value"].as_str().unwrap())
            .collect();
        for r in w["routes"].as_array().unwrap() {
            assert!(phones.contains(&r["value"].as_str().unwrap()), "{id}: {r}");
        }
    }
    let mut want: Vec<String> = seeded.iter().map(|s| s.0.clone()).collect();
    want.sort();
    for q in [
        "セカンドオピニオン",
        "在宅療養 相談",
        "がん相談支援センター",
    ] {
        let mut got = public_ids(&format!("q={}", enc(q))).await;
        got.sort();
        // Every window is found; and no facility is found by the window's words without one
        // unless its own text has them (the oracle: the dataset's public text).
        for id in &want {
            assert!(got.contains(id), "q={q} misses {id}");
        }
        if q == "セカンドオピニオン" {
            assert_eq!(got, want, "q={q}");
        }
    }
    // The detail says where to ask, with the route and the note on what to confirm.
    let (status, _, d) = crate::api::get("/api/v1/facilities/navii-1111108149000").await;
    assert_eq!(status, 200);
    assert_eq!(d["name"], "埼玉県立がんセンター");
    let w = &d["consultations"][0];
    assert_eq!(w["kind_label"], "がん相談支援センター");
    assert_eq!(w["for"], "both");
    assert!(
        w["topic_labels"]
            .as_array()
            .unwrap()
            .contains(&json!("セカンドオピニオン"))
    );
    assert_eq!(w["route_now"]["value"], "048-722-1111");
    // Hours are not in the list: whether it is open now is unknown, not guessed.
    assert_eq!(w["open_now"], Value::Null);
    assert!(
        w["note"]
            .as_str()
            .unwrap()
            .contains("がん治療連携計画策定料")
    );
}

#[actix_web::test]
async fn a_window_edited_by_the_coordinator_shows_the_route_for_now_and_hides_professional_routes()
{
    let fx = fixture();
    let coord = sign_in(&fx.state, "coord@example.jp").await;
    let pro = sign_in(&fx.state, "pro@example.jp").await;
    let etag = etag_of(&fx, HOSPITAL, Some(&coord)).await;
    let every_day = json!([{"days": ["mon","tue","wed","thu","fri","sat","sun","holiday"], "from": "00:00", "to": "24:00"}]);
    let window = |routes: Value, hours: Value| {
        json!({"consultations": [{
            "kind": "regional_liaison", "name": "地域医療連携室", "for": "professionals",
            "topics": ["admission", "home_care"], "answers": "退院調整・在宅への移行の相談",
            "routes": routes, "hours": {"open": hours}, "languages": ["ja"],
            "provenance": {"origin": "dataset", "source": "claimed"}
        }]})
    };
    let routes = json!([
        {"kind": "phone", "value": "048-000-0001", "label": "代表"},
        {"kind": "ict", "value": "MARKER-WINDOW-ICT", "visibility": "professional", "any_time": true}
    ]);
    // Field-named errors: a web route that is not a URL, an internal route.
    for (bad, field) in [
        (
            json!([{"kind": "web", "value": "see our site"}]),
            "consultations[0].routes[0].value",
        ),
        (
            json!([{"kind": "phone", "value": "1", "visibility": "internal"}]),
            "consultations[0].routes[0].visibility",
        ),
        (json!([]), "consultations[0].routes"),
    ] {
        let (status, body) = write(
            &fx,
            Method::PATCH,
            &format!("/api/v1/facilities/{HOSPITAL}"),
            Some(&coord),
            Some(&etag),
            window(bad, every_day.clone()),
        )
        .await;
        assert_eq!(
            (status, body["field"].as_str()),
            (400, Some(field)),
            "{body}"
        );
    }
    let (status, body) = write(
        &fx,
        Method::PATCH,
        &format!("/api/v1/facilities/{HOSPITAL}"),
        Some(&coord),
        Some(&etag),
        window(routes, every_day),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // What the coordinator wrote is the coordinator's statement, whatever provenance was sent.
    let stored = fx.store.facility(HOSPITAL).unwrap().unwrap();
    assert_eq!(
        stored.consultations[0].provenance.origin,
        pallimap::domain::Origin::Coordinator
    );
    // Open around the clock: the public is shown the phone, and never the ICT route.
    let (_, public) = get(&fx, &format!("/api/v1/facilities/{HOSPITAL}"), None).await;
    let w = &public["consultations"][0];
    assert_eq!(w["open_now"], true);
    assert_eq!(w["route_now"]["kind"], "phone");
    assert_eq!(w["routes"].as_array().unwrap().len(), 1);
    assert!(!public.to_string().contains("MARKER-WINDOW-ICT"));
    let (_, seen) = get(&fx, &format!("/api/v1/facilities/{HOSPITAL}"), Some(&pro)).await;
    assert_eq!(
        seen["consultations"][0]["routes"][1]["value"],
        "MARKER-WINDOW-ICT"
    );
    // Searching the hidden route's words finds nothing for the public.
    let (_, found) = get(&fx, "/api/v1/facilities?q=MARKER-WINDOW-ICT", None).await;
    assert_eq!(found["total"], 0);
    let (_, found) = get(
        &fx,
        &format!("/api/v1/facilities?q={}", enc("退院調整")),
        None,
    )
    .await;
    assert_eq!(found["items"][0]["id"], HOSPITAL);
}

/// Today in Japan.
fn today_jst() -> Date {
    OffsetDateTime::now_utc()
        .to_offset(UtcOffset::from_hms(9, 0, 0).unwrap())
        .date()
}

/// The first date on or after `from` that is the `n`-th `weekday` of its month, by walking days.
fn nth_weekday_on_or_after(
    from: Date,
    n: u8,
    weekday: Weekday,
    skip: impl Fn(Date) -> bool,
) -> Date {
    let mut d = from;
    loop {
        if d.weekday() == weekday && (d.day() - 1) / 7 + 1 == n && !skip(d) {
            return d;
        }
        d += Duration::days(1);
    }
}

#[actix_web::test]
async fn a_patient_group_is_placed_at_its_host_and_shows_its_next_meetings() {
    let fx = fixture();
    let coord = sign_in(&fx.state, "coord@example.jp").await;
    let pro = sign_in(&fx.state, "pro@example.jp").await;
    let today = today_jst();
    let first = today - Duration::days(100);
    // The next date after today that is a 2nd Tuesday, cancelled: the one after comes next.
    let cancelled = nth_weekday_on_or_after(today, 2, Weekday::Tuesday, |_| false);
    let group = |gathering: Value| {
        json!({
            "kind": "patient_group", "name": "がんサロン テスト",
            "address": {"municipality_code": "11107", "text": "埼玉県さいたま市浦和区北浦和4-1-1"},
            "gathering": gathering,
        })
    };
    let gathering = json!({
        "kind": "cancer_salon",
        "host": {"facility_id": HOSPITAL, "name": "テスト第一病院"},
        "online": true, "link": "https://meet.example.jp/MARKER-SALON-LINK", "link_visibility": "professional",
        "who": "がん患者さんとご家族（どなたでも）", "cost": "無料", "booking": "予約不要",
        "schedule": {"start": first.to_string(), "from": "14:00", "to": "16:00",
                     "rrule": "FREQ=MONTHLY;BYDAY=2TU", "skip_holidays": true,
                     "cancelled": [cancelled.to_string()]}
    });
    // Errors name the field.
    for (body, field) in [
        (
            json!({"kind": "clinic", "name": "x", "address": {"municipality_code": "11107", "text": "埼玉県さいたま市浦和区"}, "gathering": gathering.clone()}),
            "gathering",
        ),
        (
            group(
                json!({"kind": "cancer_salon", "host": {"facility_id": "navii-0000000000000", "name": "x"}, "schedule": {"start": "2026-12-01"}}),
            ),
            "gathering.host.facility_id",
        ),
        (
            group(
                json!({"kind": "cancer_salon", "host": {"name": " "}, "schedule": {"start": "2026-12-01"}}),
            ),
            "gathering.host.name",
        ),
        (
            group(
                json!({"kind": "cancer_salon", "host": {"name": "x"}, "link": "meet", "schedule": {"start": "2026-12-01"}}),
            ),
            "gathering.link",
        ),
        (
            group(
                json!({"kind": "cancer_salon", "host": {"name": "x"}, "schedule": {"start": "2026-12-01", "rrule": "FREQ=SOMETIMES"}}),
            ),
            "gathering.schedule",
        ),
    ] {
        let (status, b) = write(
            &fx,
            Method::POST,
            "/api/v1/facilities",
            Some(&coord),
            None,
            body,
        )
        .await;
        assert_eq!((status, b["field"].as_str()), (400, Some(field)), "{b}");
    }
    let (status, created) = write(
        &fx,
        Method::POST,
        "/api/v1/facilities",
        Some(&coord),
        None,
        group(gathering),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    // At the host's point.
    let host = fx
        .store
        .facility(HOSPITAL)
        .unwrap()
        .unwrap()
        .location
        .unwrap();
    assert_eq!(created["location"]["lat"], json!(host.lat));
    // The next dates: 2nd Tuesdays from today, without the cancelled one and without holidays.
    let skip = |d: Date| d == cancelled || pallimap::domain::schedule::holiday_name(d).is_some();
    let mut want = Vec::new();
    let mut from = today;
    for _ in 0..3 {
        let d = nth_weekday_on_or_after(from, 2, Weekday::Tuesday, skip);
        want.push(d.to_string());
        from = d + Duration::days(1);
    }
    let (_, public) = get(&fx, &format!("/api/v1/facilities/{id}"), None).await;
    let g = &public["gathering"];
    assert_eq!(g["kind_label"], "がんサロン");
    assert_eq!(
        g["schedule_label"],
        "毎月第2火曜日 14:00–16:00（祝日は休み）"
    );
    assert_eq!(g["next_dates"], json!(want));
    assert_eq!(public["next_date"], json!(want[0]));
    // The online link is for professionals only.
    assert_eq!(g["link"], Value::Null);
    assert!(!public.to_string().contains("MARKER-SALON-LINK"));
    let (_, seen) = get(&fx, &format!("/api/v1/facilities/{id}"), Some(&pro)).await;
    assert_eq!(
        seen["gathering"]["link"],
        "https://meet.example.jp/MARKER-SALON-LINK"
    );
    // The map layer and the list carry the next date; the kind filter finds the group.
    let (_, layer) = get(&fx, "/api/v1/facilities.geojson?kind=patient_group", None).await;
    let feature = &layer["features"][0];
    assert_eq!(feature["properties"]["id"], json!(id), "{layer}");
    assert_eq!(feature["properties"]["next_date"], json!(want[0]));
    assert!(!layer.to_string().contains("MARKER-SALON-LINK"));
    let (_, list) = get(
        &fx,
        &format!("/api/v1/facilities?q={}", enc("がんサロン")),
        None,
    )
    .await;
    assert_eq!(list["items"][0]["id"], json!(id), "{list}");
    assert_eq!(list["items"][0]["next_date"], json!(want[0]));
}

#[test]
fn a_reload_of_the_dataset_keeps_what_people_said() {
    use pallimap::domain::*;
    let mut kept = 0;
    let mut old = crate::common::facility("navii-1", FacilityKind::Hospital, "病院", 35.9, 139.6);
    let dataset_window: Consultation = serde_json::from_value(json!({
        "kind": "cancer_support_center", "name": "がん相談支援センター", "for": "both",
        "routes": [{"kind": "phone", "value": "048-000-0001"}],
        "provenance": {"origin": "dataset", "source": "kouseikyoku-todokede", "snapshot": "2025-09-01"}
    }))
    .unwrap();
    let mut confirmed = dataset_window.clone();
    confirmed.verified = true;
    confirmed.provenance = Provenance {
        origin: Origin::Coordinator,
        source: "api".into(),
        snapshot: None,
    };
    old.consultations = vec![confirmed.clone()];
    old.specialists = Some(Specialists {
        counts: vec![SpecialistCount {
            role: SpecialistRole::PalliativePhysician,
            count: 2,
        }],
        named: vec![],
        source: "病院の回答".into(),
        as_of: "2026-11-01".into(),
    });
    let mut incoming = old.clone();
    incoming.consultations = vec![dataset_window.clone()];
    incoming.specialists = None;
    incoming.name = "病院（改称）".into();
    let merged = pallimap::store::merge_facility(Some(&old), &incoming, &mut kept).unwrap();
    assert_eq!(merged.name, "病院（改称）");
    assert_eq!(merged.consultations, vec![confirmed]);
    assert_eq!(merged.specialists, old.specialists);
    // A window the dataset alone gave is replaced by the dataset's.
    let mut plain = old.clone();
    plain.consultations = vec![dataset_window.clone()];
    let mut renamed = dataset_window;
    renamed.name = "がん相談支援センター（相談室）".into();
    incoming.consultations = vec![renamed.clone()];
    let merged = pallimap::store::merge_facility(Some(&plain), &incoming, &mut kept).unwrap();
    assert_eq!(merged.consultations, vec![renamed]);
}
