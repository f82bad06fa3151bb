//! Accounts, sessions, CSRF, tokens, edits with versions and the audit trail, and the marker
//! test: no professional or internal field reaches a role that may not see it, by any route.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::dev::ServiceResponse;
use actix_web::http::Method;
use actix_web::{App, test};
use serde_json::{Value, json};

use pallimap::catalog::CatalogHandle;
use pallimap::domain::*;
use pallimap::http::{AppState, configure};
use pallimap::store::{NewUser, Store};

use crate::common::{TestDb, facility, sqlite_db, tiny_dataset};

pub const PASSWORD: &str = "a long enough passphrase";

/// A marker string per hidden field: where it is stored, and who may see it.
pub const MARKERS: &[(&str, Visibility)] = &[
    ("MARKER-FAX-0480000099", Visibility::Professional),
    ("MARKER-DIRECT-0480000098", Visibility::Professional),
    ("MARKER-INTERNAL-0480000097", Visibility::Internal),
    ("MARKER-CAPNOTE", Visibility::Professional),
    ("MARKER-RULES", Visibility::Professional),
    ("MARKER-FORMULARY", Visibility::Professional),
    ("MARKER-GROUP", Visibility::Professional),
    ("MARKER-SURVEYNOTE", Visibility::Internal),
    ("MARKER-SPECIALIST", Visibility::Internal),
    ("MARKER-CORRECTION-CONTACT", Visibility::Internal),
    ("MARKER-WINDOW-ROUTE", Visibility::Professional),
    ("MARKER-GATHERING-LINK", Visibility::Professional),
    ("MARKER-EVENT-PRO", Visibility::Professional),
    ("MARKER-EVENT-LINK", Visibility::Professional),
];

/// The tiny dataset plus one pharmacy whose every hidden field holds a marker.
fn marked_pharmacy() -> Facility {
    let mut f = facility(
        "navii-1151070000030",
        FacilityKind::Pharmacy,
        "テスト薬局",
        35.8655,
        139.6455,
    );
    f.contacts = vec![
        Contact {
            kind: ContactKind::Phone,
            value: "048-000-0003".into(),
            label: Some("代表".into()),
            visibility: Visibility::Public,
            provenance: Provenance::dataset("test", "2025-09-01"),
        },
        Contact {
            kind: ContactKind::Fax,
            value: MARKERS[0].0.into(),
            label: None,
            visibility: Visibility::Professional,
            provenance: Provenance::dataset("test", "2025-09-01"),
        },
        Contact {
            kind: ContactKind::Phone,
            value: MARKERS[1].0.into(),
            label: Some("夜間直通".into()),
            visibility: Visibility::Professional,
            provenance: Provenance::dataset("test", "2025-09-01"),
        },
        Contact {
            kind: ContactKind::Email,
            value: format!("{}@example.jp", MARKERS[2].0),
            label: Some("調査担当".into()),
            visibility: Visibility::Internal,
            provenance: Provenance::dataset("test", "2025-09-01"),
        },
    ];
    let mut s: Service = serde_json::from_value(json!({
        "kind": "opioid_dispensing",
        "provenance": {"origin": "survey", "source": "test-survey"},
        "updated_at": "2025-09-01",
        "attributes": {
            "formulary": [{"drug": "fentanyl", "form": "patch_3day", "strength": MARKERS[5].0, "stock": "always"}],
            "formulary_visibility": "professional"
        }
    }))
    .expect("service");
    s.kind = ServiceKind::OpioidDispensing;
    let mut pcu: Service = serde_json::from_value(json!({
        "kind": "pcu",
        "provenance": {"origin": "survey", "source": "test-survey"},
        "updated_at": "2025-09-01",
        "capacity": {"status": "accepting", "free_beds": 2, "note": MARKERS[3].0,
                     "updated_by": "test", "updated_at": "2025-09-01T00:00:00Z",
                     "visibility": "professional"},
        "admission_rules": {"routes": [{"kind": "ict", "value": MARKERS[4].0}],
                            "when_full": MARKERS[4].0, "visibility": "professional"}
    }))
    .expect("pcu service");
    pcu.kind = ServiceKind::Pcu;
    f.services = vec![s, pcu];
    f
}

/// A service over the tiny dataset and the marked pharmacy, with one account per role.
pub struct Fixture {
    pub _db: TestDb,
    pub store: Arc<Store>,
    pub state: AppState,
}

pub fn fixture() -> Fixture {
    fixture_with(vec![marked_pharmacy()])
}

/// The tiny dataset plus `extra` facilities, with one account per role.
pub fn fixture_with(extra: Vec<Facility>) -> Fixture {
    let db = sqlite_db();
    let store = Arc::new(Store::open(&db.url).unwrap());
    let mut ds = tiny_dataset();
    ds.facilities.extend(extra);
    pallimap::app::load_dataset(&store, &ds, "test").unwrap();
    let hash = pallimap::auth::hash_password(PASSWORD).unwrap();
    for (email, role, areas, facilities) in [
        ("pro@example.jp", Role::Professional, vec![], vec![]),
        (
            "editor@example.jp",
            Role::FacilityEditor,
            vec![],
            vec!["navii-1151070000030".to_string()],
        ),
        (
            "coord@example.jp",
            Role::Coordinator,
            vec!["1104".to_string()],
            vec![],
        ),
        (
            "other-coord@example.jp",
            Role::Coordinator,
            vec!["1101".to_string()],
            vec![],
        ),
        ("admin@example.jp", Role::Admin, vec![], vec![]),
    ] {
        store
            .add_user(
                &NewUser {
                    email,
                    password_hash: &hash,
                    role,
                    areas: &areas,
                    facilities: &facilities,
                },
                "2026-12-01T00:00:00Z",
            )
            .unwrap();
    }
    let catalog = CatalogHandle::new(pallimap::app::build_catalog(&store).unwrap());
    let mut state = AppState::new(catalog.clone(), store.clone());
    // As `serve` wires it: a write is in this instance's catalog before it is answered.
    state.refresh = Some(pallimap::app::refresher(store.clone(), catalog));
    Fixture {
        _db: db,
        store,
        state,
    }
}

/// A signed-in browser: its cookie and CSRF token.
#[derive(Clone, Debug)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

pub async fn call(
    state: &AppState,
    method: Method,
    uri: &str,
    session: Option<&Session>,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> ServiceResponse {
    let app = test::init_service(App::new().configure(configure(state.clone()))).await;
    let mut req = test::TestRequest::default()
        .method(method)
        .uri(uri)
        .peer_addr("127.0.0.9:5000".parse().unwrap());
    if let Some(s) = session {
        req = req.insert_header(("cookie", format!("pallimap_session={}", s.cookie)));
    }
    for (k, v) in headers {
        req = req.insert_header((*k, *v));
    }
    if let Some(b) = body {
        req = req.set_json(b);
    }
    test::call_service(&app, req.to_request()).await
}

pub async fn json_of(resp: ServiceResponse) -> (u16, BTreeMap<String, String>, Value) {
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = test::read_body(resp).await;
    (
        status,
        headers,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

pub async fn sign_in(state: &AppState, email: &str) -> Session {
    let resp = call(
        state,
        Method::POST,
        "/api/v1/session",
        None,
        &[],
        Some(json!({"email": email, "password": PASSWORD})),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200, "sign in {email}");
    let cookie = resp
        .response()
        .cookies()
        .find(|c| c.name() == "pallimap_session")
        .expect("session cookie");
    assert!(cookie.http_only().unwrap_or(false));
    assert_eq!(cookie.same_site(), Some(actix_web::cookie::SameSite::Lax));
    let value = cookie.value().to_string();
    let (_, _, body) = json_of(resp).await;
    Session {
        cookie: value,
        csrf: body["csrf"].as_str().unwrap().to_string(),
    }
}

#[actix_web::test]
async fn sign_in_out_and_the_generic_message() {
    let fx = fixture();
    let s = sign_in(&fx.state, "coord@example.jp").await;
    let (status, _, me) = json_of(
        call(
            &fx.state,
            Method::GET,
            "/api/v1/session",
            Some(&s),
            &[],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(me["role"], "coordinator");
    assert_eq!(me["areas"], json!(["1104"]));
    // Wrong password and unknown account: the same answer.
    let mut details = Vec::new();
    for (email, pw) in [
        ("coord@example.jp", "wrong password!!"),
        ("nobody@example.jp", PASSWORD),
    ] {
        let (status, _, body) = json_of(
            call(
                &fx.state,
                Method::POST,
                "/api/v1/session",
                None,
                &[],
                Some(json!({"email": email, "password": pw})),
            )
            .await,
        )
        .await;
        assert_eq!(status, 401);
        details.push(body["detail"].clone());
    }
    assert_eq!(details[0], details[1]);
    // Sign-out needs the CSRF token, then the cookie is dead.
    let resp = call(
        &fx.state,
        Method::DELETE,
        "/api/v1/session",
        Some(&s),
        &[],
        None,
    )
    .await;
    assert_eq!(resp.status().as_u16(), 403);
    let resp = call(
        &fx.state,
        Method::DELETE,
        "/api/v1/session",
        Some(&s),
        &[("X-CSRF-Token", &s.csrf)],
        None,
    )
    .await;
    assert_eq!(resp.status().as_u16(), 204);
    let (status, _, body) = json_of(
        call(
            &fx.state,
            Method::GET,
            "/api/v1/facilities?limit=1",
            Some(&s),
            &[],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("unauthorized")),
        "replayed cookie"
    );
    // Anonymous is the public.
    let (status, _, me) =
        json_of(call(&fx.state, Method::GET, "/api/v1/session", None, &[], None).await).await;
    assert_eq!((status, me["role"].as_str()), (200, Some("anonymous")));
}

#[actix_web::test]
async fn repeated_failures_answer_429_with_retry_after() {
    let fx = fixture();
    for i in 0..5 {
        let resp = call(
            &fx.state,
            Method::POST,
            "/api/v1/session",
            None,
            &[],
            Some(json!({"email": "pro@example.jp", "password": format!("wrong password {i}")})),
        )
        .await;
        assert_eq!(resp.status().as_u16(), 401);
    }
    // Even the right password is refused now, with a time to wait.
    let (status, headers, body) = json_of(
        call(
            &fx.state,
            Method::POST,
            "/api/v1/session",
            None,
            &[],
            Some(json!({"email": "pro@example.jp", "password": PASSWORD})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 429, "{body}");
    let retry: u64 = headers["retry-after"].parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert_eq!(body["code"], "too_many_attempts");
    // Other accounts are unaffected.
    sign_in(&fx.state, "coord@example.jp").await;
}

#[actix_web::test]
async fn api_tokens_need_no_csrf_and_can_be_revoked() {
    let fx = fixture();
    let user = fx
        .store
        .user_with_hash("coord@example.jp")
        .unwrap()
        .unwrap()
        .0;
    let token = pallimap::auth::random_token().unwrap();
    fx.store
        .create_token(
            &pallimap::auth::token_hash(&token),
            user.id,
            "script",
            "2026-12-01T00:00:00Z",
        )
        .unwrap();
    let bearer = format!("Bearer {token}");
    let (status, headers, _) = json_of(
        call(
            &fx.state,
            Method::GET,
            "/api/v1/facilities/navii-1111070000010",
            None,
            &[("authorization", &bearer)],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let etag = headers["etag"].clone();
    let (status, _, body) = json_of(
        call(
            &fx.state,
            Method::PATCH,
            "/api/v1/facilities/navii-1111070000010",
            None,
            &[("authorization", &bearer), ("if-match", &etag)],
            Some(json!({"notes": "トークンで更新"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["notes"], "トークンで更新");
    assert_eq!(fx.store.revoke_tokens(user.id, Some("script")).unwrap(), 1);
    let resp = call(
        &fx.state,
        Method::GET,
        "/api/v1/session",
        None,
        &[("authorization", &bearer)],
        None,
    )
    .await;
    assert_eq!(resp.status().as_u16(), 401);
}

#[actix_web::test]
async fn edits_need_the_version_and_stay_in_scope() {
    let fx = fixture();
    let coord = sign_in(&fx.state, "coord@example.jp").await;
    let uri = "/api/v1/facilities/navii-1111070000010";
    let (_, headers, before) =
        json_of(call(&fx.state, Method::GET, uri, Some(&coord), &[], None).await).await;
    let etag = headers["etag"].clone();
    assert_eq!(etag, "\"v1\"");
    let csrf = coord.csrf.as_str();
    let patch = json!({"contacts": [{"kind": "phone", "value": "０４８－１１１－２２２２", "label": "代表"}]});
    // No CSRF token: 403; no If-Match: 428.
    let r = call(
        &fx.state,
        Method::PATCH,
        uri,
        Some(&coord),
        &[("if-match", &etag)],
        Some(patch.clone()),
    )
    .await;
    assert_eq!(r.status().as_u16(), 403);
    let r = call(
        &fx.state,
        Method::PATCH,
        uri,
        Some(&coord),
        &[("x-csrf-token", csrf)],
        Some(patch.clone()),
    )
    .await;
    assert_eq!(r.status().as_u16(), 428);
    let (status, headers, after) = json_of(
        call(
            &fx.state,
            Method::PATCH,
            uri,
            Some(&coord),
            &[("x-csrf-token", csrf), ("if-match", &etag)],
            Some(patch.clone()),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(headers["etag"], "\"v2\"");
    assert_eq!(
        after["contacts"],
        json!([{"kind": "phone", "value": "048-111-2222", "label": "代表", "visibility": "public"}])
    );
    assert_ne!(after["updated_at"], before["updated_at"]);
    // Read your writes: the next read already shows it, the public's too.
    let (_, h2, again) = json_of(call(&fx.state, Method::GET, uri, None, &[], None).await).await;
    assert_eq!(
        again["contacts"],
        json!([{"kind": "phone", "value": "048-111-2222", "label": "代表"}])
    );
    assert_eq!(h2["etag"], "\"v2\"");
    // A patch that does not touch the location keeps how it was placed.
    assert_eq!(again["placement"], before["placement"]);
    // The old version again: 409 with the current record.
    let (status, headers, body) = json_of(
        call(
            &fx.state,
            Method::PATCH,
            uri,
            Some(&coord),
            &[("x-csrf-token", csrf), ("if-match", &etag)],
            Some(json!({"notes": "x"})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("version_conflict"))
    );
    assert_eq!(headers["etag"], "\"v2\"");
    assert_eq!(body["current"]["contacts"][0]["value"], "048-111-2222");
    // Field validation names the field; unknown fields are refused.
    for (patch, field) in [
        (
            json!({"contacts": [{"kind": "phone", "value": "12345"}]}),
            "contacts[0].value",
        ),
        (json!({"location": {"lat": 10.0, "lng": 139.0}}), "location"),
        (json!({"name": ""}), "name"),
        (
            json!({"address": {"municipality_code": "99999"}}),
            "address.municipality_code",
        ),
        (json!({"kind": "castle"}), "kind"),
    ] {
        let (status, _, body) = json_of(
            call(
                &fx.state,
                Method::PATCH,
                uri,
                Some(&coord),
                &[("x-csrf-token", csrf), ("if-match", "\"v2\"")],
                Some(patch.clone()),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, body["field"].as_str()),
            (400, Some(field)),
            "{patch}: {body}"
        );
    }
    let (status, _, body) = json_of(
        call(
            &fx.state,
            Method::PATCH,
            uri,
            Some(&coord),
            &[("x-csrf-token", csrf), ("if-match", "\"v2\"")],
            Some(json!({"colour": "red"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("colour"),
        "{body}"
    );
    // Another area's coordinator and the facility editor of another facility: 403 naming why.
    for email in [
        "other-coord@example.jp",
        "editor@example.jp",
        "pro@example.jp",
    ] {
        let s = sign_in(&fx.state, email).await;
        let (status, _, body) = json_of(
            call(
                &fx.state,
                Method::PATCH,
                uri,
                Some(&s),
                &[("x-csrf-token", &s.csrf), ("if-match", "\"v2\"")],
                Some(json!({"notes": "x"})),
            )
            .await,
        )
        .await;
        assert_eq!(status, 403, "{email}: {body}");
        assert!(body["detail"].as_str().unwrap().len() > 20, "{body}");
    }
    // A body over 1 MB: 413.
    let big = json!({"notes": "あ".repeat(400_000)});
    let r = call(
        &fx.state,
        Method::PATCH,
        uri,
        Some(&coord),
        &[("x-csrf-token", csrf), ("if-match", "\"v2\"")],
        Some(big),
    )
    .await;
    assert_eq!(r.status().as_u16(), 413);
    // The audit trail: who, field, old and new.
    let (status, _, history) = json_of(
        call(
            &fx.state,
            Method::GET,
            &format!("{uri}/history"),
            Some(&coord),
            &[],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let rows = history.as_array().unwrap();
    let last = rows
        .iter()
        .rev()
        .find(|e| e["field"] == "contacts")
        .unwrap()
        .clone();
    assert!(
        rows.iter()
            .any(|e| e["field"] == "updated_at" && e["seq"].as_i64() > Some(0))
    );
    assert_eq!(last["actor"], "coordinator:coord@example.jp");
    assert_eq!(last["source"], "api");
    assert_eq!(last["new_value"][0]["value"], "048-111-2222");
    // The public cannot read the history.
    let r = call(
        &fx.state,
        Method::GET,
        &format!("{uri}/history"),
        None,
        &[],
        None,
    )
    .await;
    assert_eq!(r.status().as_u16(), 401);
}

#[actix_web::test]
async fn the_facility_editor_edits_only_their_own_and_verify_changes_nothing_else() {
    let fx = fixture();
    let ed = sign_in(&fx.state, "editor@example.jp").await;
    let uri = "/api/v1/facilities/navii-1151070000030";
    let (_, headers, before) =
        json_of(call(&fx.state, Method::GET, uri, Some(&ed), &[], None).await).await;
    let (status, _, after) = json_of(
        call(
            &fx.state,
            Method::POST,
            &format!("{uri}/verify"),
            Some(&ed),
            &[("x-csrf-token", &ed.csrf), ("if-match", &headers["etag"])],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{after}");
    assert!(after["verified_at"].as_str().is_some());
    assert_eq!(
        after["updated_at"], before["updated_at"],
        "verifying is not editing"
    );
    let stored = fx.store.facility("navii-1151070000030").unwrap().unwrap();
    assert_eq!(
        stored.verified_by.as_deref(),
        Some("facility_editor:editor@example.jp")
    );
    // The editor replaces the contacts they see; the internal one they cannot see is kept,
    // and they may not make a contact internal.
    let h = [("x-csrf-token", ed.csrf.as_str()), ("if-match", "\"v2\"")];
    let patch = json!({"contacts": [{"kind": "phone", "value": "048-000-0003", "label": "代表"}]});
    let (status, _, body) =
        json_of(call(&fx.state, Method::PATCH, uri, Some(&ed), &h, Some(patch)).await).await;
    assert_eq!(status, 200, "{body}");
    let stored = fx.store.facility("navii-1151070000030").unwrap().unwrap();
    let kept: Vec<String> = stored.contacts.iter().map(|c| c.value.clone()).collect();
    assert_eq!(
        kept,
        [
            "048-000-0003".to_string(),
            format!("{}@example.jp", MARKERS[2].0)
        ]
    );
    let h = [("x-csrf-token", ed.csrf.as_str()), ("if-match", "\"v3\"")];
    let patch =
        json!({"contacts": [{"kind": "phone", "value": "048-000-0003", "visibility": "internal"}]});
    let (status, _, body) =
        json_of(call(&fx.state, Method::PATCH, uri, Some(&ed), &h, Some(patch)).await).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("contacts[0].visibility")),
        "{body}"
    );
    // Adding a service, then deactivating it: it stays in the store, not in the offers.
    let (status, headers, body) = json_of(
        call(
            &fx.state,
            Method::PUT,
            &format!("{uri}/services/home_medication_management"),
            Some(&ed),
            &[("x-csrf-token", &ed.csrf), ("if-match", "\"v3\"")],
            Some(json!({"notes": "夜間も対応"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["services"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"] == "home_medication_management")
    );
    let (status, _, body) = json_of(
        call(
            &fx.state,
            Method::DELETE,
            &format!("{uri}/services/home_medication_management"),
            Some(&ed),
            &[("x-csrf-token", &ed.csrf), ("if-match", &headers["etag"])],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        !body["services"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"] == "home_medication_management")
    );
    let stored = fx.store.facility("navii-1151070000030").unwrap().unwrap();
    assert!(
        stored
            .services
            .iter()
            .any(|s| s.kind == ServiceKind::HomeMedicationManagement
                && s.status == ServiceStatus::Inactive)
    );
}

#[actix_web::test]
async fn coordinators_create_and_deactivate_and_the_public_list_follows() {
    let fx = fixture();
    let follower = tokio::spawn(pallimap::app::follow_changes(
        fx.store.clone(),
        fx.state.catalog.clone(),
        std::time::Duration::from_millis(50),
        fx.state.changed.clone(),
    ));
    let coord = sign_in(&fx.state, "coord@example.jp").await;
    let body = json!({
        "kind": "clinic", "name": "新設在宅クリニック",
        "address": {"municipality_code": "11107", "text": "埼玉県さいたま市浦和区北浦和4-1-1"},
        "contacts": [{"kind": "phone", "value": "048-222-3333"}, {"kind": "fax", "value": "048-222-3334"}]
    });
    let (status, headers, created) = json_of(
        call(
            &fx.state,
            Method::POST,
            "/api/v1/facilities",
            Some(&coord),
            &[("x-csrf-token", &coord.csrf)],
            Some(body.clone()),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(headers["etag"], "\"v1\"");
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("gen-"));
    // A FAX number given without visibility is professional: the public never sees it.
    let stored = fx.store.facility(&id).unwrap().unwrap();
    assert_eq!(stored.contacts[1].visibility, Visibility::Professional);
    crate::search::eventually("the new clinic in the public list", || {
        fx.state.catalog.load().get(&id).is_some()
    })
    .await;
    let (_, _, public) = json_of(
        call(
            &fx.state,
            Method::GET,
            &format!("/api/v1/facilities/{id}"),
            None,
            &[],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        public["contacts"],
        json!([{"kind": "phone", "value": "048-222-3333"}])
    );
    // A facility editor may not create.
    let ed = sign_in(&fx.state, "editor@example.jp").await;
    let r = call(
        &fx.state,
        Method::POST,
        "/api/v1/facilities",
        Some(&ed),
        &[("x-csrf-token", &ed.csrf)],
        Some(body),
    )
    .await;
    assert_eq!(r.status().as_u16(), 403);
    // Deactivated: gone from every list, kept in the store and its history.
    let (status, _, _) = json_of(
        call(
            &fx.state,
            Method::PATCH,
            &format!("/api/v1/facilities/{id}"),
            Some(&coord),
            &[("x-csrf-token", &coord.csrf), ("if-match", "\"v1\"")],
            Some(json!({"status": "inactive"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    crate::search::eventually("the clinic gone from the catalog", || {
        fx.state.catalog.load().get(&id).is_none()
    })
    .await;
    assert_eq!(
        fx.store.facility(&id).unwrap().unwrap().status,
        FacilityStatus::Inactive
    );
    let (status, _, h) = json_of(
        call(
            &fx.state,
            Method::GET,
            &format!("/api/v1/facilities/{id}/history"),
            Some(&coord),
            &[],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert!(h.as_array().unwrap().iter().any(|e| e["field"] == "status"));
    follower.abort();
}

#[actix_web::test]
async fn admins_manage_accounts_through_the_api() {
    let fx = fixture();
    let admin = sign_in(&fx.state, "admin@example.jp").await;
    let h = [("x-csrf-token", admin.csrf.as_str())];
    let (status, _, body) = json_of(
        call(
            &fx.state,
            Method::POST,
            "/api/v1/users",
            Some(&admin),
            &h,
            Some(json!({"email": "new@example.jp", "password": "short", "role": "professional"})),
        )
        .await,
    )
    .await;
    assert_eq!((status, body["field"].as_str()), (400, Some("password")));
    let (status, _, body) = json_of(
        call(&fx.state, Method::POST, "/api/v1/users", Some(&admin), &h,
            Some(json!({"email": "new@example.jp", "password": PASSWORD, "role": "coordinator", "areas": ["9999"]}))).await,
    )
    .await;
    assert_eq!((status, body["field"].as_str()), (400, Some("areas")));
    let (status, _, user) = json_of(
        call(
            &fx.state,
            Method::POST,
            "/api/v1/users",
            Some(&admin),
            &h,
            Some(json!({"email": "new@example.jp", "password": PASSWORD, "role": "professional"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{user}");
    let s = sign_in(&fx.state, "new@example.jp").await;
    let (status, _, _) = json_of(
        call(
            &fx.state,
            Method::PATCH,
            &format!("/api/v1/users/{}", user["id"]),
            Some(&admin),
            &h,
            Some(json!({"disabled": true})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    // Disabling ends the account's sessions.
    let r = call(
        &fx.state,
        Method::GET,
        "/api/v1/session",
        Some(&s),
        &[],
        None,
    )
    .await;
    assert_eq!(r.status().as_u16(), 401);
    // Only admins.
    let pro = sign_in(&fx.state, "pro@example.jp").await;
    let r = call(
        &fx.state,
        Method::GET,
        "/api/v1/users",
        Some(&pro),
        &[],
        None,
    )
    .await;
    assert_eq!(r.status().as_u16(), 403);
    let (_, _, list) = json_of(
        call(
            &fx.state,
            Method::GET,
            "/api/v1/users",
            Some(&admin),
            &[],
            None,
        )
        .await,
    )
    .await;
    assert!(
        list.to_string().find("password").is_none(),
        "no hash leaves the server"
    );
}

/// Every route of the OpenAPI document, asked by every role: a marker reaches exactly the
/// roles that may see it, never in a body, a header or an error.
#[actix_web::test]
async fn no_marker_reaches_a_role_that_may_not_see_it() {
    let fx = fixture();
    // A pharmacy group (professional) and a survey answer set waiting for review (its note is
    // for coordinators) hold markers too.
    let edit = pallimap::store::Edit {
        actor: "test",
        source: "test",
        at: "2026-12-01T00:00:00Z",
    };
    let group = PharmacyGroup {
        id: 0,
        name: "テスト譲渡グループ".into(),
        members: vec!["navii-1151070000030".into(), "navii-1111070000010".into()],
        licence_valid_until: "2099-03-31".into(),
        transfer_hours: None,
        note: Some(MARKERS[6].0.into()),
        sample: false,
        updated_by: String::new(),
        updated_at: String::new(),
    };
    fx.store.put_pharmacy_group(None, &group, &edit).unwrap();
    let link = fx
        .store
        .create_link(
            "navii-1151070000030",
            "marker-hash",
            false,
            "test",
            edit.at,
            None,
        )
        .unwrap();
    let v = fx
        .store
        .facility("navii-1151070000030")
        .unwrap()
        .unwrap()
        .version;
    fx.store
        .use_link(
            &link,
            v,
            &edit,
            |_| Ok(()),
            vec![pallimap::store::NewProposal {
                changes: r#"{"narcotics_licence":true,"home_visits":false}"#.into(),
                note: Some(MARKERS[7].0.into()),
                survey: Some(("pharmacy".into(), 1)),
                respondent: None,
            }],
        )
        .unwrap();
    // A correction from the public: its contact is for the area's coordinator only.
    fx.store
        .add_correction(
            "navii-1151070000030",
            "電話番号が違います",
            Some(MARKERS[9].0),
            edit.at,
        )
        .unwrap();
    // A specialist named without being published yet.
    let v = fx
        .store
        .facility("navii-1151070000030")
        .unwrap()
        .unwrap()
        .version;
    fx.store
        .edit_facility("navii-1151070000030", v, &edit, |f| {
            f.specialists = Some(Specialists {
                counts: vec![SpecialistCount {
                    role: SpecialistRole::PalliativePharmacist,
                    count: 1,
                }],
                named: vec![NamedSpecialist {
                    name: MARKERS[8].0.into(),
                    role: SpecialistRole::PalliativePharmacist,
                    visibility: Visibility::Internal,
                }],
                source: "施設の回答".into(),
                as_of: "2026-11-01".into(),
            });
            // A consultation window with a professionals-only route, and meetings whose online
            // link is for professionals (the store takes them as they are).
            f.consultations = vec![
                serde_json::from_value(json!({
                    "kind": "regional_liaison", "name": "地域連携室", "for": "professionals",
                    "routes": [{"kind": "phone", "value": "048-000-0003"},
                               {"kind": "ict", "value": MARKERS[10].0, "visibility": "professional"}],
                    "provenance": {"origin": "coordinator", "source": "test"}
                }))
                .unwrap(),
            ];
            f.gathering = Some(
                serde_json::from_value(json!({
                    "kind": "peer_support", "host": {"name": "テスト薬局"},
                    "link": format!("https://meet.example.jp/{}", MARKERS[11].0),
                    "link_visibility": "professional",
                    "schedule": {"start": "2026-01-07", "from": "18:00", "to": "19:00", "rrule": "FREQ=WEEKLY;BYDAY=WE"}
                }))
                .unwrap(),
            );
            Ok(())
        })
        .unwrap();
    // A professional event (its title), and a public one whose online link is professional;
    // both weekly and open-ended, so the default list range (today … +90 days) holds them.
    let event = |title: &str, visibility: &str, link: &str| {
        serde_json::from_value::<Event>(json!({
            "id": format!("ev-marker-{visibility}"), "kind": "case_conference", "title": title,
            "organizer": {"name": "テスト主催"}, "areas": ["1104"],
            "audience": {"visibility": visibility, "professions": ["nurse"]},
            "schedule": {"start": "2026-01-05", "from": "18:00", "to": "19:00",
                         "rrule": "FREQ=WEEKLY;BYDAY=MO"},
            "place": {"online": true, "link": link, "link_visibility": "professional"},
            "created_by": "test", "created_at": edit.at, "updated_at": edit.at, "version": 1
        }))
        .expect("event")
    };
    let pro_event = fx
        .store
        .create_event(
            &event(MARKERS[12].0, "professional", "https://example.jp/pro"),
            &edit,
        )
        .unwrap();
    fx.store
        .create_event(
            &event(
                "公開の研修会",
                "public",
                &format!("https://example.jp/{}", MARKERS[13].0),
            ),
            &edit,
        )
        .unwrap();
    pallimap::app::refresh_now(&fx.store, &fx.state.catalog).unwrap();
    let (_, _, doc) = json_of(
        call(
            &fx.state,
            Method::GET,
            "/api/v1/openapi.json",
            None,
            &[],
            None,
        )
        .await,
    )
    .await;
    let mut sessions: Vec<(Audience, Option<Session>)> = vec![(Audience::Public, None)];
    for email in ["pro@example.jp", "coord@example.jp"] {
        let s = sign_in(&fx.state, email).await;
        let role = fx.store.user_with_hash(email).unwrap().unwrap().0.role;
        sessions.push((role.audience(), Some(s)));
    }
    let id = "navii-1151070000030";
    let mut seen: BTreeMap<&str, Vec<Audience>> = BTreeMap::new();
    let paths = doc["paths"].as_object().unwrap();
    let mut covered = 0;
    for (path, item) in paths {
        for (method, _) in item.as_object().unwrap() {
            let target = if path.starts_with("/api/v1/events/") {
                pro_event.id.as_str()
            } else {
                id
            };
            let uri = path
                .replace("{id}", target)
                .replace("{service}", "pcu")
                .replace("{code}", "pharmacy");
            // `{token}` is a forged update link (404): a real link shows its own facility's
            // entry as a professional sees it, by design (tests/admissions checks that page).
            let uri = uri
                .replace("{link}", "1")
                .replace("{token}", "forged-token");
            let uri = match path.as_str() {
                "/api/v1/facilities" | "/api/v1/facilities.geojson" => {
                    format!("{uri}?q=テスト薬局&facets=kind,service,area")
                }
                "/api/v1/backup" | "/api/v1/backup.geojson" => {
                    format!("{uri}?near=35.8655,139.6455&need=pcu")
                }
                "/api/v1/geocode" => format!(
                    "{uri}?address={}",
                    crate::api::enc("さいたま市浦和区北浦和4-1-1")
                ),
                _ => uri,
            };
            let uri = uri.replace("テスト薬局", &crate::api::enc("テスト薬局"));
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            for (aud, s) in &sessions {
                // Writes without a version or body answer 4xx; their errors are checked too.
                let csrf = s.as_ref().map(|s| s.csrf.clone()).unwrap_or_default();
                let resp = call(
                    &fx.state,
                    m.clone(),
                    &uri,
                    s.as_ref(),
                    &[("x-csrf-token", &csrf)],
                    None,
                )
                .await;
                let headers: String = resp
                    .headers()
                    .iter()
                    .map(|(k, v)| format!("{k}: {}\n", v.to_str().unwrap_or("")))
                    .collect();
                let body = String::from_utf8_lossy(&test::read_body(resp).await).to_string();
                let text = format!("{headers}{body}");
                for (marker, vis) in MARKERS {
                    if text.contains(marker) {
                        assert!(
                            aud.may_see(*vis),
                            "{marker} reached {aud:?} via {method} {uri}"
                        );
                        seen.entry(marker).or_default().push(*aud);
                    }
                }
                covered += 1;
            }
        }
    }
    // Anonymous text search never matches hidden text either.
    for (marker, _) in MARKERS {
        let (status, _, body) = json_of(
            call(
                &fx.state,
                Method::GET,
                &format!("/api/v1/facilities?q={}", crate::api::enc(marker)),
                None,
                &[],
                None,
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, body["total"].as_u64()),
            (200, Some(0)),
            "q={marker}"
        );
    }
    // Nor does an anonymous event search.
    for marker in ["MARKER-EVENT-PRO", "MARKER-EVENT-LINK"] {
        let (status, _, body) = json_of(
            call(
                &fx.state,
                Method::GET,
                &format!("/api/v1/events?q={marker}"),
                None,
                &[],
                None,
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, body["total"].as_u64()),
            (200, Some(0)),
            "q={marker}"
        );
    }
    // And every marker reaches every role that may see it (through the detail, at least).
    for (marker, vis) in MARKERS {
        for (aud, _) in &sessions {
            if aud.may_see(*vis) {
                assert!(
                    seen.get(marker).is_some_and(|a| a.contains(aud)),
                    "{marker} never reached {aud:?}"
                );
            }
        }
    }
    assert!(covered >= paths.len() * sessions.len());
}
