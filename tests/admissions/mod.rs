//! Tonight's bed: bed status with its age, admission rules and their request hours (national
//! holidays, past midnight), the physician's backup search against a brute-force oracle,
//! facility update links (expired, used, forged, revoked, standing), the review queue, and the
//! sample set.

use actix_web::http::Method;
use serde_json::{Value, json};

use pallimap::domain::*;
use pallimap::store::Edit;

use crate::accounts::{Fixture, Session, call, fixture, fixture_with, json_of, sign_in};
use crate::common::{facility, service};

/// The tiny dataset's hospital (area 1104): PCU and backup hospital.
const HOSPITAL: &str = "navii-1111070000010";

fn svc<'a>(f: &'a Value, kind: &str) -> &'a Value {
    f["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == kind)
        .unwrap_or_else(|| panic!("no service {kind} in {f}"))
}

pub(crate) async fn etag_of(fx: &Fixture, id: &str, s: Option<&Session>) -> String {
    let (status, headers, _) = json_of(
        call(
            &fx.state,
            Method::GET,
            &format!("/api/v1/facilities/{id}"),
            s,
            &[],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    headers["etag"].clone()
}

pub(crate) async fn write(
    fx: &Fixture,
    method: Method,
    uri: &str,
    s: Option<&Session>,
    etag: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let csrf = s.map(|s| s.csrf.clone()).unwrap_or_default();
    let mut headers = vec![("x-csrf-token", csrf.as_str())];
    if let Some(e) = etag {
        headers.push(("if-match", e));
    }
    let (status, _, body) =
        json_of(call(&fx.state, method, uri, s, &headers, Some(body)).await).await;
    (status, body)
}

pub(crate) async fn get(fx: &Fixture, uri: &str, s: Option<&Session>) -> (u16, Value) {
    let (status, _, body) = json_of(call(&fx.state, Method::GET, uri, s, &[], None).await).await;
    (status, body)
}

/// Store `c` as the bed status of `kind` at `id` directly, then bring the catalog up to it.
fn store_capacity(fx: &Fixture, id: &str, kind: ServiceKind, c: Option<Capacity>) {
    let f = fx.store.facility(id).unwrap().unwrap();
    fx.store
        .edit_facility(
            id,
            f.version,
            &Edit {
                actor: "test",
                source: "test",
                at: "2026-12-01T00:00:00Z",
            },
            |f| {
                f.services
                    .iter_mut()
                    .find(|s| s.kind == kind)
                    .unwrap()
                    .capacity = c;
                Ok(())
            },
        )
        .unwrap();
    (fx.state.refresh.as_ref().unwrap())().unwrap();
}

fn report(status: CapacityStatus, hours_ago: i64) -> Capacity {
    Capacity {
        status,
        free_beds: None,
        waiting_days: None,
        note: None,
        updated_by: "test".into(),
        updated_at: pallimap::auth::timestamp(
            pallimap::auth::now() - time::Duration::hours(hours_ago),
        ),
        via: None,
        sample: false,
        visibility: Visibility::Professional,
    }
}

#[actix_web::test]
async fn bed_status_is_set_by_those_who_may_and_reads_unknown_once_stale() {
    let fx = fixture();
    let coord = sign_in(&fx.state, "coord@example.jp").await;
    let pro = sign_in(&fx.state, "pro@example.jp").await;
    let editor = sign_in(&fx.state, "editor@example.jp").await;
    let uri = format!("/api/v1/facilities/{HOSPITAL}/services/pcu/capacity");
    let etag = etag_of(&fx, HOSPITAL, Some(&coord)).await;
    let body = json!({"status": "accepting", "free_beds": 2, "note": "個室あり"});
    // Who may: not a professional, not another facility's editor, not without If-Match.
    for (s, want) in [(&pro, 403), (&editor, 403)] {
        let (status, _) = write(&fx, Method::PUT, &uri, Some(s), Some(&etag), body.clone()).await;
        assert_eq!(status, want);
    }
    let (status, b) = write(&fx, Method::PUT, &uri, Some(&coord), None, body.clone()).await;
    assert_eq!(
        (status, b["code"].as_str()),
        (428, Some("if_match_required"))
    );
    let (status, _) = write(&fx, Method::PUT, &uri, None, Some(&etag), body.clone()).await;
    assert_eq!(status, 401);
    // Bad values name their field; a service without beds is refused.
    for (b, field) in [
        (json!({"status": "full"}), "status"),
        (
            json!({"status": "accepting", "free_beds": 5000}),
            "free_beds",
        ),
        (
            json!({"status": "accepting", "waiting_days": 400}),
            "waiting_days",
        ),
        (
            json!({"status": "accepting", "note": "x".repeat(201)}),
            "note",
        ),
    ] {
        let (status, e) = write(&fx, Method::PUT, &uri, Some(&coord), Some(&etag), b).await;
        assert_eq!((status, e["field"].as_str()), (400, Some(field)), "{e}");
    }
    let (status, e) = write(
        &fx,
        Method::PUT,
        &format!("/api/v1/facilities/{HOSPITAL}/services/home_care_support/capacity"),
        Some(&coord),
        Some(&etag),
        body.clone(),
    )
    .await;
    assert_eq!((status, e["parameter"].as_str()), (400, Some("service")));
    // The coordinator sets it.
    let (status, f) = write(&fx, Method::PUT, &uri, Some(&coord), Some(&etag), body).await;
    assert_eq!(status, 200, "{f}");
    let cap = &svc(&f, "pcu")["capacity"];
    assert_eq!(cap["status"], "accepting");
    assert_eq!(cap["reported_status"], "accepting");
    assert_eq!(cap["status_label"]["ja"], "受入可");
    assert_eq!(cap["stale"], false);
    assert_eq!(cap["free_beds"], 2);
    assert_eq!(cap["updated_by"], "coordinator:coord@example.jp");
    assert_eq!(cap["via"], Value::Null);
    // A professional sees it with the role only; the public sees no bed status at all.
    let (_, f) = get(&fx, &format!("/api/v1/facilities/{HOSPITAL}"), Some(&pro)).await;
    assert_eq!(svc(&f, "pcu")["capacity"]["updated_by"], "coordinator");
    // Never reported: unknown, with no time.
    assert_eq!(svc(&f, "backup_hospital")["capacity"]["status"], "unknown");
    assert_eq!(
        svc(&f, "backup_hospital")["capacity"]["updated_at"],
        Value::Null
    );
    let (_, f) = get(&fx, &format!("/api/v1/facilities/{HOSPITAL}"), None).await;
    for s in f["services"].as_array().unwrap() {
        assert!(
            s.get("capacity").is_none() && s.get("admission_rules").is_none(),
            "{s}"
        );
    }
    assert_eq!(f["capacity_updated_at"], Value::Null);

    // 80 hours old: unknown (the reported status kept apart), fresh again under a 100 h rule.
    store_capacity(
        &fx,
        HOSPITAL,
        ServiceKind::Pcu,
        Some(report(CapacityStatus::Accepting, 80)),
    );
    let (_, f) = get(&fx, &format!("/api/v1/facilities/{HOSPITAL}"), Some(&pro)).await;
    let cap = &svc(&f, "pcu")["capacity"];
    assert_eq!(
        (&cap["status"], &cap["reported_status"], &cap["stale"]),
        (&json!("unknown"), &json!("accepting"), &json!(true))
    );
    assert_eq!(cap["status_label"]["ja"], "不明");
    let mut lenient = fx.state.clone();
    let mut web = (*lenient.web).clone();
    web.capacity_stale_hours = 100;
    lenient.web = std::sync::Arc::new(web);
    let (_, _, f) = json_of(
        call(
            &lenient,
            Method::GET,
            &format!("/api/v1/facilities/{HOSPITAL}"),
            Some(&pro),
            &[],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(svc(&f, "pcu")["capacity"]["status"], "accepting");
    assert_eq!(svc(&f, "pcu")["capacity"]["stale"], false);

    // The history keeps both reports, newest first; the public may not read it.
    let hist = format!("/api/v1/facilities/{HOSPITAL}/services/pcu/capacity/history");
    let (status, h) = get(&fx, &hist, Some(&pro)).await;
    assert_eq!(status, 200);
    let h = h.as_array().unwrap();
    assert_eq!(h.len(), 2, "{h:?}");
    assert_eq!(h[0]["updated_by"], "test");
    assert_eq!(h[1]["updated_by"], "coordinator");
    assert_eq!(h[1]["note"], "個室あり");
    assert!(h[0]["seq"].as_i64() > h[1]["seq"].as_i64());
    assert_eq!(get(&fx, &hist, None).await.0, 401);
}

#[actix_web::test]
async fn admission_rules_are_validated_and_hidden_from_the_public() {
    let fx = fixture();
    let coord = sign_in(&fx.state, "coord@example.jp").await;
    let pro = sign_in(&fx.state, "pro@example.jp").await;
    let uri = format!("/api/v1/facilities/{HOSPITAL}/services/backup_hospital/admission-rules");
    let etag = etag_of(&fx, HOSPITAL, Some(&coord)).await;
    for (b, field) in [
        (
            json!({"routes": [{"kind": "fax", "value": ""}]}),
            Some("routes[0].value"),
        ),
        (
            json!({"routes": [{"kind": "phone", "value": "12345"}]}),
            Some("routes[0].value"),
        ),
        (
            json!({"routes": [{"kind": "web", "value": "ftp://x"}]}),
            Some("routes[0].value"),
        ),
        // A route without its number at all is malformed JSON for the route.
        (json!({"routes": [{"kind": "fax"}]}), None),
        (
            json!({"hours": [{"days": ["mon"], "from": "09:00", "to": "09:00"}]}),
            Some("hours[0]"),
        ),
        (
            json!({"hours": [{"days": [], "from": "09:00", "to": "17:00"}]}),
            Some("hours[0]"),
        ),
        (
            json!({"hours": [{"days": ["mon"], "from": "25:00", "to": "09:00"}]}),
            None,
        ),
        (json!({"max_stay_days": 0}), Some("max_stay_days")),
        (
            json!({"last_reviewed": "2026/11/01"}),
            Some("last_reviewed"),
        ),
        (json!({"transport": ["taxi"]}), None),
        (json!({"bogus": 1}), Some("bogus")),
    ] {
        let (status, e) = write(&fx, Method::PUT, &uri, Some(&coord), Some(&etag), b.clone()).await;
        assert_eq!(status, 400, "{b} → {e}");
        assert_eq!(e["field"].as_str(), field, "{b} → {e}");
    }
    let rules = json!({
        "routes": [
            {"kind": "fax", "value": "０４８-０００-０１０１", "label": "地域連携室",
             "hours": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "17:00"}]},
            {"kind": "phone", "value": "048-000-0102", "label": "夜間当直",
             "hours": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"], "from": "17:00", "to": "09:00"}]}
        ],
        "documents": ["紹介状"],
        "transport": ["family", "ambulance"],
        "max_stay_days": 14,
        "eligibility": {"registered_in_advance": true, "registration_note": "事前登録票をFAX"},
        "when_full": "連携病院へ",
        "info_sharing_tool": "とねっと",
        "last_reviewed": "2026-11-01"
    });
    let (status, f) = write(&fx, Method::PUT, &uri, Some(&coord), Some(&etag), rules).await;
    assert_eq!(status, 200, "{f}");
    let r = &svc(&f, "backup_hospital")["admission_rules"];
    // Numbers are kept as written, in half-width digits.
    assert_eq!(r["routes"][0]["value"], "048-000-0101");
    assert_eq!(r["eligibility"]["registered_in_advance"], true);
    assert_eq!(r["routes"][1]["hours"][0]["to"], "09:00");
    assert_eq!(r["visibility"], "professional");
    let (_, f) = get(&fx, &format!("/api/v1/facilities/{HOSPITAL}"), Some(&pro)).await;
    assert_eq!(
        svc(&f, "backup_hospital")["admission_rules"]["when_full"],
        "連携病院へ"
    );
    let (_, f) = get(&fx, &format!("/api/v1/facilities/{HOSPITAL}"), None).await;
    assert!(svc(&f, "backup_hospital").get("admission_rules").is_none());
    // The backup search is for signed-in callers only, with a message saying so.
    let (status, e) = get(&fx, "/api/v1/backup?near=35.87,139.645", None).await;
    assert_eq!(status, 401);
    assert!(e["detail"].as_str().unwrap().contains("sign in"), "{e}");
    assert_eq!(
        get(&fx, "/api/v1/backup.geojson?near=35.87,139.645", None)
            .await
            .0,
        401
    );
}

#[actix_web::test]
async fn request_hours_follow_national_holidays_and_run_past_midnight() {
    let fx = fixture();
    let coord = sign_in(&fx.state, "coord@example.jp").await;
    let uri = format!("/api/v1/facilities/{HOSPITAL}/services/backup_hospital/admission-rules");
    let etag = etag_of(&fx, HOSPITAL, Some(&coord)).await;
    let rules = json!({"routes": [
        {"kind": "fax", "value": "048-000-0101", "label": "地域連携室",
         "hours": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "17:00"}]},
        {"kind": "phone", "value": "048-000-0102", "label": "夜間当直",
         "hours": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "17:00", "to": "09:00"}]}
    ]});
    assert_eq!(
        write(&fx, Method::PUT, &uri, Some(&coord), Some(&etag), rules)
            .await
            .0,
        200
    );
    let ask = |now: &str| {
        format!(
            "/api/v1/backup?near=35.87,139.645&need=backup&now={}",
            crate::api::enc(now)
        )
    };
    // (now, holiday, requests open, route label)
    let cases = [
        // Tuesday 10:00: the FAX of the 地域連携室.
        (
            "2026-12-01T10:00:00+09:00",
            None,
            Some(true),
            Some("地域連携室"),
        ),
        // Tuesday 23:00 and Wednesday 03:00 (past midnight): the night line.
        (
            "2026-12-01T23:00:00+09:00",
            None,
            Some(true),
            Some("夜間当直"),
        ),
        ("2026-12-01T18:00:00Z", None, Some(true), Some("夜間当直")),
        // Monday 2026-11-23 is 勤労感謝の日: the office is closed, and so is the night line
        // (it lists weekdays, not holidays) — nobody takes requests.
        (
            "2026-11-23T10:00:00+09:00",
            Some("勤労感謝の日"),
            Some(false),
            None,
        ),
        (
            "2026-11-23T20:00:00+09:00",
            Some("勤労感謝の日"),
            Some(false),
            None,
        ),
        // Friday night's line still runs at 08:00 on Saturday, not at 10:00.
        (
            "2026-11-28T08:00:00+09:00",
            None,
            Some(true),
            Some("夜間当直"),
        ),
        ("2026-11-28T10:00:00+09:00", None, Some(false), None),
        // The night of Sunday 11-22 is not a weekday's: closed at 02:00 on the holiday.
        (
            "2026-11-23T02:00:00+09:00",
            Some("勤労感謝の日"),
            Some(false),
            None,
        ),
        // The holiday's 17:00 is a holiday, not Monday: no line; Tuesday 08:59 neither.
        ("2026-11-24T08:59:00+09:00", None, Some(false), None),
    ];
    for (now, holiday, open, route) in cases {
        let (status, b) = get(&fx, &ask(now), Some(&coord)).await;
        assert_eq!(status, 200, "{now}: {b}");
        assert_eq!(b["holiday"].as_str(), holiday, "{now}");
        let item = &b["items"][0];
        assert_eq!(item["id"], HOSPITAL);
        let s = &item["services"][0];
        assert_eq!(s["requests_open"].as_bool(), open, "{now}");
        assert_eq!(s["route_now"]["label"].as_str(), route, "{now}");
    }
    let (status, e) = get(&fx, &ask("tonight"), Some(&coord)).await;
    assert_eq!((status, e["parameter"].as_str()), (400, Some("now")));
    let (status, e) = get(&fx, "/api/v1/backup?need=backup", Some(&coord)).await;
    assert_eq!((status, e["parameter"].as_str()), (400, Some("near")));
    let (status, e) = get(
        &fx,
        "/api/v1/backup?near=35.87,139.645&need=bed",
        Some(&coord),
    )
    .await;
    assert_eq!((status, e["parameter"].as_str()), (400, Some("need")));
}

/// Random hospitals around a centre, each with random admitting services, bed statuses of
/// random age and visibility.
fn random_hospitals(seed: u64, n: usize) -> Vec<Facility> {
    let mut rng = SplitMix64::for_item(seed, 0);
    let statuses = [
        CapacityStatus::Accepting,
        CapacityStatus::Limited,
        CapacityStatus::NotAccepting,
        CapacityStatus::Unknown,
    ];
    let vis = [
        Visibility::Public,
        Visibility::Professional,
        Visibility::Internal,
    ];
    (0..n)
        .map(|i| {
            let lat = 35.85 + (rng.unit() - 0.5) * 0.6;
            let lng = 139.65 + (rng.unit() - 0.5) * 0.6;
            let mut f = facility(
                &format!("navii-19{i:011}"),
                FacilityKind::Hospital,
                &format!("乱数病院{i}"),
                lat,
                lng,
            );
            let offered: Vec<ServiceKind> = CAPACITY_SERVICES
                .iter()
                .copied()
                .filter(|_| rng.unit() < 0.5)
                .collect();
            f.services = offered
                .iter()
                .map(|k| {
                    let mut s = service(*k, "2020-01-01");
                    if rng.unit() < 0.1 {
                        s.status = ServiceStatus::Inactive;
                    }
                    if rng.unit() < 0.8 {
                        let mut c = report(
                            statuses[(rng.unit() * 4.0) as usize % 4],
                            (rng.unit() * 150.0) as i64,
                        );
                        c.visibility = vis[(rng.unit() * 3.0) as usize % 3];
                        s.capacity = Some(c);
                    }
                    s
                })
                .collect();
            f
        })
        .collect()
}

/// The oracle: every hospital within the radius that offers a needed service, ranked by its
/// best status as `audience` may see it now, then distance, then id.
fn oracle(
    all: &[Facility],
    p: (f64, f64),
    radius_km: f64,
    needs: &[ServiceKind],
    audience: Audience,
    stale_hours: u32,
) -> Vec<String> {
    let now = pallimap::auth::now();
    let mut v: Vec<(u8, f64, String)> = all
        .iter()
        .filter_map(|f| {
            let l = f.location?;
            let d = haversine_m(p, (l.lat, l.lng));
            let matched: Vec<&Service> = f
                .services
                .iter()
                .filter(|s| needs.contains(&s.kind) && s.status != ServiceStatus::Inactive)
                .collect();
            if matched.is_empty() || d > radius_km * 1000.0 {
                return None;
            }
            let best = matched
                .iter()
                .map(|s| match &s.capacity {
                    Some(c) if audience.may_see(c.visibility) => {
                        c.effective(now, stale_hours).rank()
                    }
                    _ => CapacityStatus::Unknown.rank(),
                })
                .min()
                .unwrap();
            Some((best, d, f.id.clone()))
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2)));
    v.into_iter().map(|x| x.2).collect()
}

#[actix_web::test]
async fn the_backup_search_ranks_by_status_then_distance_like_a_brute_force_oracle() {
    let hospitals = random_hospitals(11, 300);
    let fx = fixture_with(hospitals.clone());
    let all: Vec<Facility> = fx.store.facilities().unwrap();
    let needs_of = [
        ("emergency", vec![ServiceKind::EmergencyAdmission]),
        ("respite", vec![ServiceKind::RespiteAdmission]),
        (
            "backup,pcu",
            vec![ServiceKind::BackupHospital, ServiceKind::Pcu],
        ),
        ("", CAPACITY_SERVICES.to_vec()),
    ];
    let mut rng = SplitMix64::for_item(5, 0);
    let mut compared = 0;
    for email in ["pro@example.jp", "coord@example.jp"] {
        let s = sign_in(&fx.state, email).await;
        let audience = fx
            .store
            .user_with_hash(email)
            .unwrap()
            .unwrap()
            .0
            .role
            .audience();
        for q in 0..12 {
            let p = (
                35.85 + (rng.unit() - 0.5) * 0.4,
                139.65 + (rng.unit() - 0.5) * 0.4,
            );
            let radius = [5.0, 12.5, 30.0][q % 3];
            let (need, kinds) = &needs_of[q % needs_of.len()];
            let mut uri = format!(
                "/api/v1/backup?near={},{}&radius_km={radius}&limit=200",
                p.0, p.1
            );
            if !need.is_empty() {
                uri.push_str(&format!("&need={need}"));
            }
            let (status, b) = get(&fx, &uri, Some(&s)).await;
            assert_eq!(status, 200, "{uri}: {b}");
            let got: Vec<String> = b["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_string())
                .collect();
            let every = oracle(&all, p, radius, kinds, audience, 72);
            let want = &every[..every.len().min(200)];
            if let Some(i) = (0..got.len().max(want.len())).find(|&i| got.get(i) != want.get(i)) {
                panic!(
                    "{email} {uri}: first difference at {i} of {}/{}: got {:?}, want {:?}\n{}",
                    got.len(),
                    want.len(),
                    got.get(i),
                    want.get(i),
                    b["items"][i]
                );
            }
            assert_eq!(b["total"].as_u64(), Some(every.len() as u64));
            // Each item's status is the best over its services, and statuses never rise.
            let ranks: Vec<u8> = b["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    ["accepting", "limited", "unknown", "not_accepting"]
                        .iter()
                        .position(|x| *x == i["status"])
                        .unwrap() as u8
                })
                .collect();
            assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{uri}");
            compared += want.len();
        }
    }
    assert!(
        compared > 100,
        "the queries found too few hospitals: {compared}"
    );
    // The GeoJSON twin lists the same hospitals in the same order.
    let s = sign_in(&fx.state, "pro@example.jp").await;
    let (_, list) = get(&fx, "/api/v1/backup?near=35.85,139.65&limit=200", Some(&s)).await;
    let (status, gj) = get(
        &fx,
        "/api/v1/backup.geojson?near=35.85,139.65&limit=200",
        Some(&s),
    )
    .await;
    assert_eq!(status, 200);
    let ids = |v: &Value, key: &str| -> Vec<Value> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].clone())
            .collect()
    };
    assert_eq!(ids(&gj, "features"), ids(&list, "items"));
    assert_eq!(gj["type"], "FeatureCollection");
    assert!(gj["features"][0]["properties"]["status"].is_string());
    assert!(gj["features"][0]["properties"].get("location").is_none());
}

/// Issue a link for `id` as `s`.
pub(crate) async fn new_link(fx: &Fixture, id: &str, s: &Session, body: Value) -> (u16, Value) {
    write(
        fx,
        Method::POST,
        &format!("/api/v1/facilities/{id}/update-links"),
        Some(s),
        None,
        body,
    )
    .await
}

pub(crate) fn token_of(link: &Value) -> String {
    let url = link["url"].as_str().unwrap();
    let (_, token) = url.split_once("/update.html#").expect("url with the token");
    assert_eq!(token, link["token"]);
    token.to_string()
}

#[actix_web::test]
async fn update_links_expire_are_used_once_and_forged_ones_are_not_found() {
    let fx = fixture();
    let coord = sign_in(&fx.state, "coord@example.jp").await;
    let pro = sign_in(&fx.state, "pro@example.jp").await;
    let other = sign_in(&fx.state, "other-coord@example.jp").await;
    // Only the area's coordinator (or an admin) issues links.
    assert_eq!(new_link(&fx, HOSPITAL, &pro, json!({})).await.0, 403);
    assert_eq!(new_link(&fx, HOSPITAL, &other, json!({})).await.0, 403);
    let (status, e) = new_link(&fx, HOSPITAL, &coord, json!({"days": 0})).await;
    assert_eq!((status, e["field"].as_str()), (400, Some("days")));
    let (status, link) = new_link(&fx, HOSPITAL, &coord, json!({})).await;
    assert_eq!(status, 201, "{link}");
    assert_eq!(link["kind"], "one_time");
    let exp = pallimap::auth::parse_timestamp(link["expires_at"].as_str().unwrap()).unwrap();
    let days = (exp - pallimap::auth::now()).whole_hours();
    assert!((14 * 24 - 1..=14 * 24).contains(&days), "{days} h");
    let token = token_of(&link);
    // The token is stored hashed only.
    let stored = fx.store.links_of(HOSPITAL).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].token_hash, pallimap::auth::token_hash(&token));
    assert_ne!(stored[0].token_hash, token);

    let page = format!("/api/v1/update-links/{token}");
    let (status, headers, p) =
        json_of(call(&fx.state, Method::GET, &page, None, &[], None).await).await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["facility"]["id"], HOSPITAL);
    assert_eq!(p["capacity_services"], json!(["pcu", "backup_hospital"]));
    assert_eq!(p["may_propose"], true);
    let etag = headers["etag"].clone();
    // Forged: 404.
    let (status, e) = get(&fx, "/api/v1/update-links/not-a-real-token", None).await;
    assert_eq!((status, e["code"].as_str()), (404, Some("not_found")));
    // Nothing to do: 400; a bed status for a service the hospital lacks: 404.
    let (status, _) = write(&fx, Method::POST, &page, None, None, json!({})).await;
    assert_eq!(status, 400);
    let (status, _) = write(
        &fx,
        Method::POST,
        &page,
        None,
        None,
        json!({"capacity": [{"service": "respite_admission", "status": "accepting"}]}),
    )
    .await;
    assert_eq!(status, 404);
    // Confirming needs the version seen.
    let (status, _) = write(
        &fx,
        Method::POST,
        &page,
        None,
        None,
        json!({"confirm": true}),
    )
    .await;
    assert_eq!(status, 428);
    // Bed status and confirmation in one use.
    let (status, r) = write(
        &fx,
        Method::POST,
        &page,
        None,
        Some(&etag),
        json!({"capacity": [{"service": "pcu", "status": "not_accepting", "free_beds": 0}], "confirm": true}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["applied"], json!({"capacity": 1, "confirmed": true}));
    assert_eq!(r["proposal_id"], Value::Null);
    let (_, f) = get(&fx, &format!("/api/v1/facilities/{HOSPITAL}"), Some(&pro)).await;
    let cap = &svc(&f, "pcu")["capacity"];
    assert_eq!(
        (&cap["status"], &cap["via"], &cap["updated_by"]),
        (
            &json!("not_accepting"),
            &json!("update_link"),
            &json!("update_link")
        )
    );
    assert!(f["verified_at"].is_string());
    // Used: 410, both to open and to send.
    let (status, e) = get(&fx, &page, None).await;
    assert_eq!((status, e["code"].as_str()), (410, Some("link_gone")));
    assert!(e["detail"].as_str().unwrap().contains("used"), "{e}");
    let (status, _) = write(
        &fx,
        Method::POST,
        &page,
        None,
        None,
        json!({"capacity": [{"service": "pcu", "status": "accepting"}]}),
    )
    .await;
    assert_eq!(status, 410);
    // Expired: 410.
    let expired = "expired-token-for-the-test";
    fx.store
        .create_link(
            HOSPITAL,
            &pallimap::auth::token_hash(expired),
            false,
            "test",
            "2026-01-01T00:00:00Z",
            Some("2026-01-15T00:00:00Z"),
        )
        .unwrap();
    let (status, e) = get(&fx, &format!("/api/v1/update-links/{expired}"), None).await;
    assert_eq!(status, 410);
    assert!(e["detail"].as_str().unwrap().contains("expired"), "{e}");

    // A standing link: bed status again and again, confirm, never a proposal; revocable.
    let (status, link) = new_link(&fx, HOSPITAL, &coord, json!({"kind": "standing"})).await;
    assert_eq!((status, &link["expires_at"]), (201, &Value::Null));
    let standing = format!("/api/v1/update-links/{}", token_of(&link));
    for st in ["accepting", "limited", "accepting"] {
        let (status, _) = write(
            &fx,
            Method::POST,
            &standing,
            None,
            None,
            json!({"capacity": [{"service": "backup_hospital", "status": st}]}),
        )
        .await;
        assert_eq!(status, 200);
    }
    let (_, p) = get(&fx, &standing, None).await;
    assert_eq!(p["may_propose"], false);
    let (status, _) = write(
        &fx,
        Method::POST,
        &standing,
        None,
        None,
        json!({"proposal": {"changes": {"notes": "x"}}}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, list) = get(
        &fx,
        &format!("/api/v1/facilities/{HOSPITAL}/update-links"),
        Some(&coord),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert!(
        list.to_string().find(&token).is_none(),
        "tokens never listed"
    );
    let id = link["id"].as_i64().unwrap();
    let resp = call(
        &fx.state,
        Method::DELETE,
        &format!("/api/v1/facilities/{HOSPITAL}/update-links/{id}"),
        Some(&coord),
        &[("x-csrf-token", &coord.csrf)],
        None,
    )
    .await;
    assert_eq!(resp.status().as_u16(), 204);
    let (status, e) = get(&fx, &standing, None).await;
    assert_eq!(status, 410);
    assert!(e["detail"].as_str().unwrap().contains("revoked"));
    // The history shows the link's reports, newest first.
    let (_, h) = get(
        &fx,
        &format!("/api/v1/facilities/{HOSPITAL}/services/backup_hospital/capacity/history"),
        Some(&pro),
    )
    .await;
    let statuses: Vec<&str> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["accepting", "limited", "accepting"]);
}

/// Propose `changes` through a new one-time link of the hospital, as its staff would.
async fn propose(fx: &Fixture, coord: &Session, changes: Value) -> (u16, Value) {
    let (_, link) = new_link(fx, HOSPITAL, coord, json!({})).await;
    let page = format!("/api/v1/update-links/{}", token_of(&link));
    let (_, headers, _) = json_of(call(&fx.state, Method::GET, &page, None, &[], None).await).await;
    write(
        fx,
        Method::POST,
        &page,
        None,
        Some(&headers["etag"]),
        json!({"proposal": {"changes": changes, "note": "受付時間が変わりました"}}),
    )
    .await
}

#[actix_web::test]
async fn proposals_wait_for_the_coordinator_who_approves_or_rejects_with_a_reason() {
    let fx = fixture();
    let coord = sign_in(&fx.state, "coord@example.jp").await;
    let other = sign_in(&fx.state, "other-coord@example.jp").await;
    let pro = sign_in(&fx.state, "pro@example.jp").await;
    // An invalid correction is refused at once, naming its field.
    let (status, e) = propose(
        &fx,
        &coord,
        json!({"contacts": [{"kind": "phone", "value": "123"}]}),
    )
    .await;
    assert_eq!(
        (status, e["field"].as_str()),
        (400, Some("proposal.changes.contacts[0].value")),
        "{e}"
    );
    let (status, r) = propose(&fx, &coord, json!({"notes": "土曜午前も受付"})).await;
    assert_eq!(status, 200, "{r}");
    let pid = r["proposal_id"].as_i64().unwrap();
    // Nothing applied yet.
    let (_, f) = get(&fx, &format!("/api/v1/facilities/{HOSPITAL}"), None).await;
    assert_ne!(f["notes"], "土曜午前も受付");
    // The queue: the area's coordinator sees it with the current value; others do not.
    let (status, q) = get(&fx, "/api/v1/review", Some(&coord)).await;
    assert_eq!(status, 200);
    let q = q.as_array().unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0]["id"], pid);
    assert_eq!(q[0]["changes"], json!({"notes": "土曜午前も受付"}));
    assert_eq!(q[0]["current"], json!({"notes": f["notes"]}));
    assert_eq!(q[0]["note"], "受付時間が変わりました");
    assert_eq!(get(&fx, "/api/v1/review", Some(&other)).await.1, json!([]));
    assert_eq!(get(&fx, "/api/v1/review", Some(&pro)).await.0, 403);
    assert_eq!(get(&fx, "/api/v1/review", None).await.0, 401);
    assert_eq!(
        get(&fx, "/api/v1/review?status=maybe", Some(&coord))
            .await
            .0,
        400
    );
    // Another area's coordinator may not decide; a rejection needs a reason.
    let approve = format!("/api/v1/review/{pid}/approve");
    assert_eq!(
        write(&fx, Method::POST, &approve, Some(&other), None, json!({}))
            .await
            .0,
        403
    );
    let reject = format!("/api/v1/review/{pid}/reject");
    let (status, e) = write(&fx, Method::POST, &reject, Some(&coord), None, json!({})).await;
    assert_eq!((status, e["field"].as_str()), (400, Some("reason")));
    // Approved: applied as an edit with its own source in the history; final.
    let (status, d) = write(&fx, Method::POST, &approve, Some(&coord), None, json!({})).await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["status"], "approved");
    assert_eq!(d["decided_by"], "coordinator:coord@example.jp");
    let (_, f) = get(&fx, &format!("/api/v1/facilities/{HOSPITAL}"), None).await;
    assert_eq!(f["notes"], "土曜午前も受付");
    let (_, h) = get(
        &fx,
        &format!("/api/v1/facilities/{HOSPITAL}/history"),
        Some(&coord),
    )
    .await;
    let last = h
        .as_array()
        .unwrap()
        .iter()
        .rfind(|r| r["field"] == "notes")
        .unwrap()
        .clone();
    assert_eq!(
        (&last["field"], &last["source"], &last["actor"]),
        (
            &json!("notes"),
            &json!(format!("review:{pid}")),
            &json!("coordinator:coord@example.jp")
        )
    );
    let (status, e) = write(&fx, Method::POST, &approve, Some(&coord), None, json!({})).await;
    assert_eq!((status, e["code"].as_str()), (409, Some("already_decided")));
    // Rejected with a reason: nothing applied, the reason kept.
    let (_, r) = propose(&fx, &coord, json!({"name": "別の名前"})).await;
    let pid2 = r["proposal_id"].as_i64().unwrap();
    let (status, d) = write(
        &fx,
        Method::POST,
        &format!("/api/v1/review/{pid2}/reject"),
        Some(&coord),
        None,
        json!({"reason": "正式名称は届出のとおり"}),
    )
    .await;
    assert_eq!(
        (status, &d["status"], &d["reason"]),
        (200, &json!("rejected"), &json!("正式名称は届出のとおり"))
    );
    let (_, f) = get(&fx, &format!("/api/v1/facilities/{HOSPITAL}"), None).await;
    assert_eq!(f["name"], "テスト第一病院");
    let (_, all) = get(&fx, "/api/v1/review?status=all", Some(&coord)).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(get(&fx, "/api/v1/review", Some(&coord)).await.1, json!([]));
}

#[test]
fn the_real_backup_hospitals_and_pcus_start_unknown_and_the_sample_set_is_marked() {
    let data = std::path::Path::new("data");
    let Some((_db, store, dataset)) = crate::common::writable_default_store() else {
        return;
    };
    let offering = |kind: ServiceKind| -> Vec<Facility> {
        dataset
            .facilities
            .iter()
            .filter(|f| f.offers(kind))
            .cloned()
            .collect()
    };
    // The 33 在宅療養後方支援病院 and 20 PCUs of the public data, with no invented status.
    assert_eq!(offering(ServiceKind::BackupHospital).len(), 33);
    assert_eq!(offering(ServiceKind::Pcu).len(), 20);
    let with_state = |store: &pallimap::store::Store| -> usize {
        store
            .facilities()
            .unwrap()
            .iter()
            .flat_map(|f| f.services.clone())
            .filter(|s| s.capacity.is_some() || s.admission_rules.is_some())
            .count()
    };
    assert_eq!(with_state(&store), 0);
    let before = store.facilities().unwrap();
    let surveyed = |store: &pallimap::store::Store| -> Vec<Facility> {
        store
            .facilities()
            .unwrap()
            .into_iter()
            .filter(|f| f.services.iter().any(|s| s.attributes.survey.is_some()))
            .collect()
    };
    assert!(surveyed(&store).is_empty());
    // With the sample set: six bed-status entries on real hospitals and the survey answers
    // of real pharmacies and dental clinics, each marked sample.
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("sample/surveys.json")).unwrap())
            .unwrap();
    let responses = file["responses"].as_array().unwrap().len();
    assert!(
        responses >= 30,
        "a few dozen sample answer sets: {responses}"
    );
    assert_eq!(
        pallimap::app::apply_sample(&store, data, true).unwrap(),
        6 + responses
    );
    let f = store.facility("navii-1111103067400").unwrap().unwrap();
    let s = f
        .services
        .iter()
        .find(|s| s.kind == ServiceKind::BackupHospital)
        .unwrap();
    assert!(s.capacity.as_ref().unwrap().sample);
    assert!(s.admission_rules.as_ref().unwrap().sample);
    assert_eq!(with_state(&store), 6);
    // A pharmacy answering "no" to everything gains no service (nothing to mark).
    let answered = surveyed(&store);
    assert!(
        (responses - 5..=responses).contains(&answered.len()),
        "{} of {responses}",
        answered.len()
    );
    for f in &answered {
        assert!(
            f.services
                .iter()
                .filter_map(|s| s.attributes.survey.as_ref())
                .all(|m| m.sample),
            "{}",
            f.id
        );
        assert!(matches!(
            f.kind,
            FacilityKind::Pharmacy | FacilityKind::DentalClinic
        ));
    }
    assert!(!store.pharmacy_groups().unwrap().is_empty());
    assert!(store.pharmacy_groups().unwrap().iter().all(|g| g.sample));
    // Loading again replaces the sample; it does not pile up.
    pallimap::app::apply_sample(&store, data, true).unwrap();
    assert_eq!(surveyed(&store).len(), answered.len());
    assert_eq!(
        store
            .proposals(None)
            .unwrap()
            .iter()
            .filter(|p| p.via == "sample")
            .count(),
        responses
    );
    // Started without the flag: every sample one is gone again, and each facility holds
    // what the public data gave it (only the edit dates moved).
    assert_eq!(
        pallimap::app::apply_sample(&store, data, false).unwrap(),
        6 + responses
    );
    assert_eq!(with_state(&store), 0);
    assert!(surveyed(&store).is_empty());
    assert!(store.pharmacy_groups().unwrap().is_empty());
    let undated = |f: &Facility| {
        let mut f = f.clone();
        f.version = 0;
        for s in &mut f.services {
            s.updated_at.clear();
            s.verified_at = None;
        }
        f
    };
    let after = store.facilities().unwrap();
    assert_eq!(before.len(), after.len());
    for (a, b) in before.iter().zip(&after) {
        assert_eq!(undated(a), undated(b), "{}", a.id);
    }
    assert_eq!(store.sample_facility_ids().unwrap(), Vec::<String>::new());
}
