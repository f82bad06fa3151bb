//! Training and meetings: writes by role with versions, occurrences in the list, the
//! iCalendar feed read back by an independent parser, visibility by audience on every path,
//! the activity report, and calendar feed tokens.

use actix_web::http::Method;
use actix_web::test;
use serde_json::{Value, json};

use crate::accounts::{Session, call, fixture, json_of, sign_in};
use pallimap::http::AppState;

/// An event body: a public 研修会 of the fixture's area on Mondays from 2027-01-04, changed
/// by the merge patch `patch`.
pub fn body(title: &str, patch: Value) -> Value {
    let mut v = json!({
        "kind": "training",
        "title": title,
        "organizer": {"name": "さいたま緩和ケア連携会"},
        "areas": ["1104"],
        "audience": {"visibility": "public", "professions": ["nurse", "pharmacist"]},
        "schedule": {"start": "2027-01-04", "from": "14:00", "to": "16:00",
                     "rrule": "FREQ=WEEKLY;BYDAY=MO"},
        "place": {"name": "浦和会館", "address": "さいたま市浦和区北浦和4-1-1"},
    });
    json_patch::merge(&mut v, &patch);
    v
}

fn headers<'a>(s: Option<&'a Session>, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut h: Vec<(&str, &str)> = s
        .map(|s| ("x-csrf-token", s.csrf.as_str()))
        .into_iter()
        .collect();
    h.extend_from_slice(extra);
    h
}

/// POST an event as `s`: status, ETag, body.
pub async fn post(state: &AppState, s: Option<&Session>, b: Value) -> (u16, String, Value) {
    let (status, h, v) = json_of(
        call(
            state,
            Method::POST,
            "/api/v1/events",
            s,
            &headers(s, &[]),
            Some(b),
        )
        .await,
    )
    .await;
    (status, h.get("etag").cloned().unwrap_or_default(), v)
}

async fn get(state: &AppState, uri: &str, s: Option<&Session>) -> (u16, Value) {
    let (status, _, v) = json_of(call(state, Method::GET, uri, s, &[], None).await).await;
    (status, v)
}

async fn send(
    state: &AppState,
    method: Method,
    uri: &str,
    s: &Session,
    if_match: Option<&str>,
    b: Option<Value>,
) -> (u16, std::collections::BTreeMap<String, String>, Value) {
    let extra: Vec<(&str, &str)> = if_match.map(|e| ("if-match", e)).into_iter().collect();
    json_of(call(state, method, uri, Some(s), &headers(Some(s), &extra), b).await).await
}

async fn text_of(state: &AppState, uri: &str, s: Option<&Session>) -> (u16, String, String) {
    let resp = call(state, Method::GET, uri, s, &[], None).await;
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let b = test::read_body(resp).await;
    (status, ct, String::from_utf8(b.to_vec()).unwrap())
}

fn dates(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["date"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn writes_by_role_with_versions() {
    let fx = fixture();
    let st = &fx.state;
    let log0 = fx.store.change_log_len().unwrap();
    // Anonymous: 401. A professional: 403 naming who may.
    assert_eq!(post(st, None, body("研修", json!({}))).await.0, 401);
    let pro = sign_in(st, "pro@example.jp").await;
    let (s, _, v) = post(st, Some(&pro), body("研修", json!({}))).await;
    assert_eq!(s, 403);
    assert!(v["detail"].as_str().unwrap().contains("管理者"), "{v}");
    // A facility editor for their own facility (the area defaults to the facility's).
    let editor = sign_in(st, "editor@example.jp").await;
    let mine = body(
        "薬局の研修会",
        json!({"organizer": {"facility_id": "navii-1151070000030", "name": null}, "areas": null}),
    );
    let resp = call(
        st,
        Method::POST,
        "/api/v1/events",
        Some(&editor),
        &headers(Some(&editor), &[]),
        Some(mine),
    )
    .await;
    let (s, h, v) = json_of(resp).await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("ev-"));
    assert_eq!(h["location"], format!("/api/v1/events/{id}"));
    assert_eq!(h["etag"], "\"v1\"");
    assert_eq!(v["areas"], json!(["1104"]));
    assert_eq!(v["organizer"]["name"], "テスト薬局");
    assert_eq!(v["schedule_label"], "毎週月曜日 14:00–16:00");
    // Not their facility.
    let other = body(
        "研修",
        json!({"organizer": {"facility_id": "navii-1111070000010"}}),
    );
    assert_eq!(post(st, Some(&editor), other).await.0, 403);
    // The area's coordinator yes, another area's no; an admin anywhere.
    let coord = sign_in(st, "coord@example.jp").await;
    let other_coord = sign_in(st, "other-coord@example.jp").await;
    assert_eq!(post(st, Some(&coord), body("研修", json!({}))).await.0, 201);
    assert_eq!(
        post(st, Some(&other_coord), body("研修", json!({})))
            .await
            .0,
        403
    );
    let admin = sign_in(st, "admin@example.jp").await;
    assert_eq!(post(st, Some(&admin), body("研修", json!({}))).await.0, 201);
    // A session without its CSRF token.
    let resp = call(
        st,
        Method::POST,
        "/api/v1/events",
        Some(&coord),
        &[],
        Some(body("x", json!({}))),
    )
    .await;
    let (s, _, v) = json_of(resp).await;
    assert_eq!((s, v["code"].as_str()), (403, Some("csrf_required")));

    // Replace: If-Match required (428), a stale one 412, the current one 200 and v2.
    let uri = format!("/api/v1/events/{id}");
    let changed = body(
        "薬局の研修会（第2回）",
        json!({"organizer": {"facility_id": "navii-1151070000030"}}),
    );
    let (s, _, v) = send(st, Method::PUT, &uri, &editor, None, Some(changed.clone())).await;
    assert_eq!((s, v["code"].as_str()), (428, Some("if_match_required")));
    let (s, h, v) = send(
        st,
        Method::PUT,
        &uri,
        &editor,
        Some("\"v7\""),
        Some(changed.clone()),
    )
    .await;
    assert_eq!((s, v["code"].as_str()), (412, Some("version_conflict")));
    assert_eq!(h["etag"], "\"v1\"");
    assert_eq!(v["current"]["title"], "薬局の研修会");
    let (s, h, v) = send(
        st,
        Method::PUT,
        &uri,
        &editor,
        Some("\"v1\""),
        Some(changed.clone()),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(h["etag"], "\"v2\"");
    assert_eq!(v["title"], "薬局の研修会（第2回）");
    assert_eq!(v["version"], 2);
    // Moving it to a facility that is not theirs is refused.
    let away = body(
        "x",
        json!({"organizer": {"facility_id": "navii-1111070000010"}}),
    );
    let (s, _, _) = send(st, Method::PUT, &uri, &editor, Some("\"v2\""), Some(away)).await;
    assert_eq!(s, 403);
    // The other coordinator may not touch it.
    let (s, _, _) = send(
        st,
        Method::PUT,
        &uri,
        &other_coord,
        Some("\"v2\""),
        Some(changed.clone()),
    )
    .await;
    assert_eq!(s, 403);
    // Delete: If-Match too.
    let (s, _, _) = send(st, Method::DELETE, &uri, &coord, None, None).await;
    assert_eq!(s, 428);
    let (s, _, _) = send(st, Method::DELETE, &uri, &coord, Some("\"v1\""), None).await;
    assert_eq!(s, 412);
    let (s, _, _) = send(st, Method::DELETE, &uri, &coord, Some("\"v2\""), None).await;
    assert_eq!(s, 204);
    assert_eq!(get(st, &uri, None).await.0, 404);
    let (s, _, _) = send(st, Method::DELETE, &uri, &coord, Some("\"v2\""), None).await;
    assert_eq!(s, 404);
    // Every write is in the change log: three creates, one replace, one delete.
    assert_eq!(fx.store.change_log_len().unwrap(), log0 + 5);
}

#[actix_web::test]
async fn validation_names_the_field() {
    let fx = fixture();
    let admin = sign_in(&fx.state, "admin@example.jp").await;
    let cases = [
        (json!({"title": "  "}), "title"),
        (json!({"title": "長".repeat(201)}), "title"),
        (json!({"kind": "party"}), "kind"),
        (json!({"areas": ["9999"]}), "areas[0]"),
        (
            json!({"audience": {"visibility": "internal"}}),
            "audience.visibility",
        ),
        (
            json!({"audience": {"professions": ["nurse", "wizard"]}}),
            "audience.professions[1]",
        ),
        (
            json!({"place": {"online": true, "link": "ftp://example.jp/x"}}),
            "place.link",
        ),
        (json!({"materials": "資料はこちら"}), "materials"),
        (json!({"deadline": "2027/01/01"}), "deadline"),
        (
            json!({"organizer": {"facility_id": "navii-0000000000000"}}),
            "organizer.facility_id",
        ),
        (
            json!({"schedule": {"rrule": "FREQ=SOMETIMES"}}),
            "schedule.rrule",
        ),
        (
            json!({"schedule": {"rrule": "DTSTART:20270104T140000\nRRULE:FREQ=DAILY"}}),
            "schedule.rrule",
        ),
        (
            json!({"schedule": {"rrule": "FREQ=HOURLY;INTERVAL=2"}}),
            "schedule.rrule",
        ),
        (
            json!({"schedule": {"from": "16:00", "to": "14:00"}}),
            "schedule.to",
        ),
        (
            json!({"schedule": {"start": "1999-01-04"}}),
            "schedule.start",
        ),
    ];
    for (patch, field) in cases {
        let (s, _, v) = post(&fx.state, Some(&admin), body("研修", patch.clone())).await;
        assert_eq!(s, 400, "{patch}: {v}");
        assert_eq!(v["field"], field, "{patch}: {v}");
        let detail = v["detail"].as_str().unwrap();
        assert!(detail.contains(field), "{detail}");
        // Japanese first, then English.
        let ja = detail.find(|c: char| !c.is_ascii()).unwrap_or(usize::MAX);
        let en = detail.rfind(" / ").unwrap_or(0);
        assert!(ja < en, "Japanese first: {detail}");
    }
    let (_, _, v) = post(
        &fx.state,
        Some(&admin),
        body("研修", json!({"schedule": {"rrule": "FREQ=SOMETIMES"}})),
    )
    .await;
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("schedule.rrule: 繰り返しの規則が読めません"),
        "{v}"
    );
}

#[actix_web::test]
async fn occurrences_across_a_month_end_skip_holidays_and_cancelled_dates() {
    let fx = fixture();
    let st = &fx.state;
    let coord = sign_in(st, "coord@example.jp").await;
    // Mondays 14:00–16:00; 2027-01-11 is 成人の日 and 2027-03-22 a 振替休日 (春分の日 falls on
    // a Sunday); 2027-02-01 is called off.
    let b = body(
        "月曜研修",
        json!({"schedule": {"skip_holidays": true, "cancelled": ["2027-02-01"]}}),
    );
    assert_eq!(post(st, Some(&coord), b).await.0, 201);
    // The 31st of each month, in the morning: no February.
    let b = body(
        "月末の症例検討会",
        json!({"kind": "case_conference",
               "schedule": {"start": "2027-01-31", "from": "09:00", "to": "10:00", "rrule": "FREQ=MONTHLY;BYMONTHDAY=31"}}),
    );
    assert_eq!(post(st, Some(&coord), b).await.0, 201);
    let (s, v) = get(st, "/api/v1/events?from=2027-01-01&to=2027-03-31", None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["from"], "2027-01-01");
    assert_eq!(v["to"], "2027-03-31");
    assert_eq!(
        dates(&v),
        [
            "2027-01-04",
            "2027-01-18",
            "2027-01-25",
            "2027-01-31",
            "2027-02-08",
            "2027-02-15",
            "2027-02-22",
            "2027-03-01",
            "2027-03-08",
            "2027-03-15",
            "2027-03-29",
            "2027-03-31"
        ]
    );
    assert_eq!(v["total"], 12);
    let first = &v["items"][0];
    assert_eq!(first["starts_at"], "2027-01-04T14:00:00+09:00");
    assert_eq!(first["ends_at"], "2027-01-04T16:00:00+09:00");
    assert_eq!(
        first["schedule_label"],
        "毎週月曜日 14:00–16:00（祝日は休み）"
    );
    assert_eq!(v["items"][3]["schedule_label"], "毎月31日 09:00–10:00");
    // Filters: kind, q (NFKC, case-insensitive), area.
    let (_, v) = get(
        st,
        "/api/v1/events?from=2027-01-01&to=2027-03-31&kind=case_conference",
        None,
    )
    .await;
    assert_eq!(dates(&v), ["2027-01-31", "2027-03-31"]);
    let q = crate::api::enc("月末の症例");
    let (_, v) = get(
        st,
        &format!("/api/v1/events?from=2027-01-01&to=2027-03-31&q={q}"),
        None,
    )
    .await;
    assert_eq!(v["total"], 2);
    let q = crate::api::enc("浦和会館");
    let (_, v) = get(
        st,
        &format!("/api/v1/events?from=2027-01-01&to=2027-01-31&q={q}"),
        None,
    )
    .await;
    assert_eq!(v["total"], 4);
    let (_, v) = get(
        st,
        "/api/v1/events?from=2027-01-01&to=2027-01-31&area=1104",
        None,
    )
    .await;
    assert_eq!(v["total"], 4);
    // Past ranges stay answerable; bad ranges are 400 naming the parameter.
    let (s, v) = get(st, "/api/v1/events?from=2027-03-01&to=2027-01-01", None).await;
    assert_eq!((s, v["parameter"].as_str()), (400, Some("to")));
    let (s, v) = get(st, "/api/v1/events?from=2027-01-01&to=2028-06-01", None).await;
    assert_eq!((s, v["parameter"].as_str()), (400, Some("to")));
    let (s, v) = get(st, "/api/v1/events?from=2027-1-1", None).await;
    assert_eq!((s, v["parameter"].as_str()), (400, Some("from")));
    let (s, v) = get(st, "/api/v1/events?area=9999", None).await;
    assert_eq!((s, v["parameter"].as_str()), (400, Some("area")));
}

fn unescape(v: &str) -> String {
    let mut out = String::new();
    let mut it = v.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(c) => out.push(c),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

type Props = Vec<ical::property::Property>;

/// The calendar's own properties, its VEVENTs' properties and its number of time zones, as
/// an independent parser reads them.
fn parse_ics(text: &str) -> (Props, Vec<Props>, usize) {
    let mut cals = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()));
    let cal = cals.next().expect("one calendar").expect("parses");
    assert!(cals.next().is_none());
    let zones = cal.timezones.len();
    (
        cal.properties,
        cal.events.into_iter().map(|e| e.properties).collect(),
        zones,
    )
}

fn prop<'a>(p: &'a [ical::property::Property], name: &str) -> Option<&'a ical::property::Property> {
    p.iter().find(|x| x.name == name)
}

fn value(p: &[ical::property::Property], name: &str) -> Option<String> {
    prop(p, name).and_then(|x| x.value.clone())
}

fn param(p: &[ical::property::Property], name: &str, key: &str) -> Option<String> {
    prop(p, name)?
        .params
        .as_ref()?
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.join(","))
}

#[actix_web::test]
async fn the_ics_feed_round_trips_through_an_independent_parser() {
    let fx = fixture();
    let st = &fx.state;
    let coord = sign_in(st, "coord@example.jp").await;
    let long = "在宅緩和ケアにおける多職種連携、疼痛緩和; 症例検討".repeat(4);
    let b = body(
        &long,
        json!({
            "kind": "case_conference",
            "description": "持ち物: 筆記用具\n事前申込制",
            "schedule": {"start": "2027-01-01", "rrule": "FREQ=MONTHLY;BYDAY=2MO", "skip_holidays": true,
                         "from": "18:30", "to": "20:00", "cancelled": ["2027-03-08"], "extra": ["2027-03-15"]},
            "place": {"name": "浦和会館", "address": null, "online": true,
                      "link": "https://meet.example.jp/abc", "link_visibility": "professional"},
            "capacity": 40, "apply": "https://example.jp/apply", "deadline": "2027-01-05",
            "credits": "日本緩和医療学会 2単位", "materials": "https://example.jp/materials.pdf",
        }),
    );
    let (s, _, ev) = post(st, Some(&coord), b).await;
    assert_eq!(s, 201, "{ev}");
    let id = ev["id"].as_str().unwrap().to_string();
    // An all-day public lecture, then cancelled (version 2).
    let lecture = |status: &str| {
        body(
            "市民公開講座",
            json!({"kind": "public_lecture", "status": status,
                   "schedule": {"start": "2027-02-11", "from": null, "to": null, "rrule": null}}),
        )
    };
    let (s, _, created) = post(st, Some(&coord), lecture("scheduled")).await;
    assert_eq!(s, 201, "{created}");
    let lid = created["id"].as_str().unwrap().to_string();
    let (s, _, v) = send(
        st,
        Method::PUT,
        &format!("/api/v1/events/{lid}"),
        &coord,
        Some("\"v1\""),
        Some(lecture("cancelled")),
    )
    .await;
    assert_eq!(s, 200, "{v}");

    for (session, sees_link) in [(None, false), (Some(&coord), true)] {
        let (s, ct, text) = text_of(st, "/api/v1/events.ics?area=1104", session).await;
        assert_eq!(s, 200, "{text}");
        assert_eq!(ct, "text/calendar; charset=utf-8");
        assert!(text.ends_with("\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'), "CRLF only");
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "{} octets: {line}", line.len());
        }
        // The long multibyte title was folded (and unfolds to itself below).
        assert!(text.contains("\r\n "));
        let (cal, events, zones) = parse_ics(&text);
        assert_eq!(value(&cal, "VERSION").as_deref(), Some("2.0"));
        assert!(value(&cal, "PRODID").is_some());
        assert_eq!(
            unescape(&value(&cal, "X-WR-CALNAME").unwrap()),
            "緩和ケア 研修・会議 さいたま"
        );
        assert_eq!(zones, 1);
        assert_eq!(events.len(), 2);
        let e = events
            .iter()
            .find(|p| value(p, "UID") == Some(format!("{id}@pallimap")))
            .expect("the conference");
        assert_eq!(unescape(&value(e, "SUMMARY").unwrap()), long);
        assert!(value(e, "DTSTAMP").unwrap().ends_with('Z'));
        // DTSTART is the rule's first date: the 第2月曜 of January 2027.
        assert_eq!(param(e, "DTSTART", "TZID").as_deref(), Some("Asia/Tokyo"));
        assert_eq!(value(e, "DTSTART").as_deref(), Some("20270111T183000"));
        assert_eq!(value(e, "DTEND").as_deref(), Some("20270111T200000"));
        assert_eq!(param(e, "DTEND", "TZID").as_deref(), Some("Asia/Tokyo"));
        assert_eq!(value(e, "RRULE").as_deref(), Some("FREQ=MONTHLY;BYDAY=2MO"));
        let ex = value(e, "EXDATE").unwrap();
        assert!(ex.contains("20270308T183000"), "{ex}");
        // 成人の日 2027-01-11 is within the next two years of any day this test runs until then.
        if time::OffsetDateTime::now_utc().date() <= time::macros::date!(2027 - 01 - 11) {
            assert!(ex.contains("20270111T183000"), "{ex}");
        }
        assert_eq!(param(e, "EXDATE", "TZID").as_deref(), Some("Asia/Tokyo"));
        assert_eq!(value(e, "RDATE").as_deref(), Some("20270315T183000"));
        let desc = unescape(&value(e, "DESCRIPTION").unwrap());
        for part in [
            "種類: 症例検討会",
            "一般公開",
            "看護師",
            "定員: 40",
            "申込: https://example.jp/apply",
            "締切: 2027-01-05",
            "日本緩和医療学会 2単位",
            "資料: https://example.jp/materials.pdf",
            "主催: さいたま緩和ケア連携会",
            "持ち物: 筆記用具\n事前申込制",
        ] {
            assert!(desc.contains(part), "{part} in {desc}");
        }
        assert_eq!(
            unescape(&value(e, "LOCATION").unwrap()),
            "浦和会館 オンライン"
        );
        assert_eq!(value(e, "URL").is_some(), sees_link);
        assert_eq!(text.contains("meet.example.jp"), sees_link);
        assert_eq!(value(e, "STATUS").as_deref(), Some("CONFIRMED"));
        assert_eq!(value(e, "SEQUENCE").as_deref(), Some("1"));
        let l = events
            .iter()
            .find(|p| value(p, "UID") == Some(format!("{lid}@pallimap")))
            .expect("the lecture");
        assert_eq!(param(l, "DTSTART", "VALUE").as_deref(), Some("DATE"));
        assert_eq!(value(l, "DTSTART").as_deref(), Some("20270211"));
        assert_eq!(value(l, "DTEND").as_deref(), Some("20270212"));
        assert!(value(l, "RRULE").is_none());
        assert_eq!(value(l, "STATUS").as_deref(), Some("CANCELLED"));
        assert_eq!(value(l, "SEQUENCE").as_deref(), Some("2"));
    }
    // The kind filter, and a bad audience.
    let (_, _, text) = text_of(st, "/api/v1/events.ics?kind=public_lecture", None).await;
    assert_eq!(parse_ics(&text).1.len(), 1);
    let (s, _, _) = text_of(st, "/api/v1/events.ics?audience=everyone", None).await;
    assert_eq!(s, 400);
}

#[actix_web::test]
async fn professional_events_and_links_follow_the_audience_on_every_path() {
    let fx = fixture();
    let st = &fx.state;
    let coord = sign_in(st, "coord@example.jp").await;
    let pro = sign_in(st, "pro@example.jp").await;
    let (_, _, hidden) = post(
        st,
        Some(&coord),
        body(
            "専門職限定の症例検討会",
            json!({"kind": "case_conference", "audience": {"visibility": "professional"}}),
        ),
    )
    .await;
    let hid = hidden["id"].as_str().unwrap().to_string();
    let (_, _, open) = post(
        st,
        Some(&coord),
        body(
            "公開の研修会",
            json!({"place": {"online": true, "link": "https://meet.example.jp/secret", "link_visibility": "professional"}}),
        ),
    )
    .await;
    let oid = open["id"].as_str().unwrap().to_string();
    let range = "from=2027-01-01&to=2027-01-31";
    // The public: the professional event is nowhere, the link nowhere.
    let (_, v) = get(st, &format!("/api/v1/events?{range}"), None).await;
    let text = v.to_string();
    assert_eq!(v["total"], 4);
    assert!(!text.contains("専門職限定") && !text.contains(&hid) && !text.contains("secret"));
    let (_, v) = get(
        st,
        &format!("/api/v1/events?{range}&audience=professional"),
        None,
    )
    .await;
    assert_eq!(v["total"], 0);
    let q = crate::api::enc("専門職限定");
    let (_, v) = get(st, &format!("/api/v1/events?{range}&q={q}"), None).await;
    assert_eq!(v["total"], 0);
    let (s, absent) = get(st, &format!("/api/v1/events/{hid}"), None).await;
    let (s2, never) = get(st, "/api/v1/events/ev-0000000000000000", None).await;
    assert_eq!((s, s2), (404, 404));
    assert_eq!(
        absent["detail"].as_str().unwrap().replace(&hid, "X"),
        never["detail"]
            .as_str()
            .unwrap()
            .replace("ev-0000000000000000", "X")
    );
    let (s, v) = get(st, &format!("/api/v1/events/{oid}"), None).await;
    assert_eq!(s, 200);
    assert_eq!(v["place"]["online"], true);
    assert!(v["place"].get("link").is_none(), "{v}");
    assert_eq!(v["next_dates"].as_array().unwrap().len(), 5);
    let (_, _, ics) = text_of(st, "/api/v1/events.ics", None).await;
    assert!(!ics.contains("専門職限定") && !ics.contains("secret") && !ics.contains(&hid));
    let (s, _) = get(st, "/api/v1/events/report", None).await;
    assert_eq!(s, 401);
    // A professional sees both, and the link.
    let (_, v) = get(st, &format!("/api/v1/events?{range}"), Some(&pro)).await;
    assert_eq!(v["total"], 8);
    assert!(v.to_string().contains("https://meet.example.jp/secret"));
    let (_, v) = get(
        st,
        &format!("/api/v1/events?{range}&audience=professional"),
        Some(&pro),
    )
    .await;
    assert_eq!(v["total"], 4);
    let (s, v) = get(st, &format!("/api/v1/events/{hid}"), Some(&pro)).await;
    assert_eq!(
        (s, v["title"].as_str()),
        (200, Some("専門職限定の症例検討会"))
    );
    assert_eq!(v["created_by"], "coordinator");
    let (_, _, ics) = text_of(st, "/api/v1/events.ics", Some(&pro)).await;
    assert!(ics.contains("secret") && ics.contains(&hid));
    let (s, _) = get(st, "/api/v1/events/report", Some(&pro)).await;
    assert_eq!(s, 403);
    // The coordinator's report counts what was held: four Mondays each in January 2027.
    let (s, v) = get(st, &format!("/api/v1/events/report?{range}"), Some(&coord)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["total"], 8);
    assert_eq!(v["by_kind"], json!({"case_conference": 4, "training": 4}));
    assert_eq!(v["by_area"], json!({"1104": 8}));
    assert_eq!(v["by_organizer"][0]["organizer"], "さいたま緩和ケア連携会");
    assert_eq!(v["by_organizer"][0]["count"], 8);
    assert_eq!(
        v["by_organizer"][0]["kinds"],
        json!({"case_conference": 4, "training": 4})
    );
    // A cancelled event is not counted.
    let b = body("公開の研修会", json!({"status": "cancelled"}));
    let (s, _, _) = send(
        st,
        Method::PUT,
        &format!("/api/v1/events/{oid}"),
        &coord,
        Some("\"v1\""),
        Some(b),
    )
    .await;
    assert_eq!(s, 200);
    let (_, v) = get(st, &format!("/api/v1/events/report?{range}"), Some(&coord)).await;
    assert_eq!(v["total"], 4);
}

#[actix_web::test]
async fn a_feed_token_stands_for_its_account_until_deleted() {
    let fx = fixture();
    let st = &fx.state;
    let coord = sign_in(st, "coord@example.jp").await;
    post(
        st,
        Some(&coord),
        body(
            "専門職限定の会議",
            json!({"kind": "network_meeting", "audience": {"visibility": "professional"}}),
        ),
    )
    .await;
    let pro = sign_in(st, "pro@example.jp").await;
    // Signed-in only.
    let resp = call(
        st,
        Method::POST,
        "/api/v1/calendar-feeds",
        None,
        &[],
        Some(json!({})),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 401);
    // A malformed body is 400, not a feed with the defaults (found by schemathesis).
    let (s, _, e) = send(
        st,
        Method::POST,
        "/api/v1/calendar-feeds",
        &pro,
        None,
        Some(json!({"label": 5})),
    )
    .await;
    assert_eq!((s, e["field"].as_str()), (400, Some("body")), "{e}");
    // Nor is an array read as the fields in order (found by schemathesis).
    let (s, _, e) = send(
        st,
        Method::POST,
        "/api/v1/calendar-feeds",
        &pro,
        None,
        Some(json!([null, null])),
    )
    .await;
    assert_eq!((s, e["field"].as_str()), (400, Some("body")), "{e}");
    let (s, _, feed) = send(
        st,
        Method::POST,
        "/api/v1/calendar-feeds",
        &pro,
        None,
        Some(json!({"label": "職場のカレンダー", "area": "1104", "audience": "professional"})),
    )
    .await;
    assert_eq!(s, 201, "{feed}");
    let url = feed["url"].as_str().unwrap();
    assert!(url.contains("/api/v1/events.ics?token="), "{url}");
    assert!(url.ends_with("&area=1104&audience=professional"), "{url}");
    assert!(feed["webcal"].as_str().unwrap().starts_with("webcal://"));
    let path = url[url.find("/api/v1/").unwrap()..].to_string();
    // No cookie: the token alone shows the professional event.
    let (s, _, ics) = text_of(st, &path, None).await;
    assert_eq!(s, 200);
    assert!(ics.contains("専門職限定の会議"), "{ics}");
    // The list shows the feed without its token.
    let (_, list) = get(st, "/api/v1/calendar-feeds", Some(&pro)).await;
    let list = &list["items"];
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["label"], "職場のカレンダー");
    assert!(list[0]["last_used_at"].is_string());
    let token = path
        .split("token=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    assert!(!list.to_string().contains(token));
    // An unknown token is 401, and gives nothing away.
    let (s, _, text) = text_of(st, "/api/v1/events.ics?token=not-a-token", None).await;
    assert_eq!(s, 401);
    assert!(!text.contains("専門職限定"));
    // Another account cannot delete it; its owner can, and then it is 401.
    let fid = feed["id"].as_i64().unwrap();
    let uri = format!("/api/v1/calendar-feeds/{fid}");
    assert_eq!(
        send(st, Method::DELETE, &uri, &coord, None, None).await.0,
        404
    );
    assert_eq!(
        send(st, Method::DELETE, &uri, &pro, None, None).await.0,
        204
    );
    assert_eq!(text_of(st, &path, None).await.0, 401);
    // A disabled account's feed is 401 too.
    let (_, _, feed) = send(st, Method::POST, "/api/v1/calendar-feeds", &pro, None, None).await;
    let url = feed["url"].as_str().unwrap();
    let path = url[url.find("/api/v1/").unwrap()..].to_string();
    assert_eq!(text_of(st, &path, None).await.0, 200);
    let uid = fx
        .store
        .user_with_hash("pro@example.jp")
        .unwrap()
        .unwrap()
        .0
        .id;
    fx.store
        .update_user(
            uid,
            &pallimap::store::UserChange {
                disabled: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(text_of(st, &path, None).await.0, 401);
}

#[actix_web::test]
async fn events_are_stored_alike_on_both_backends() {
    use pallimap::store::EventWrite;
    for db in crate::common::backends() {
        let store = pallimap::store::Store::open(&db.url).unwrap();
        let e: pallimap::domain::Event = serde_json::from_value(json!({
            "id": "ev-00aa", "kind": "network_meeting", "title": "緩和ケア連携推進会議",
            "organizer": {"name": "県"}, "areas": ["1104", "1101"],
            "audience": {"visibility": "professional", "professions": []},
            "schedule": {"start": "2027-01-04", "rrule": "FREQ=MONTHLY;BYDAY=1MO"},
            "place": {"online": true, "link_visibility": "public"},
            "created_by": "admin:a@example.jp", "created_at": "2026-12-01T00:00:00Z",
            "updated_at": "2026-12-01T00:00:00Z", "version": 0
        }))
        .unwrap();
        let edit = pallimap::store::Edit {
            actor: "test",
            source: "test",
            at: "2026-12-01T00:00:00Z",
        };
        let n0 = store.change_log_len().unwrap();
        let created = store.create_event(&e, &edit).unwrap();
        assert_eq!(created.version, 1, "{}", db.name);
        assert!(store.create_event(&e, &edit).is_err(), "{}", db.name);
        let mut next = created.clone();
        next.title = "第2回".into();
        assert!(matches!(
            store.replace_event(&next, 9, &edit).unwrap(),
            EventWrite::Stale(_)
        ));
        let EventWrite::Done(done) = store.replace_event(&next, 1, &edit).unwrap() else {
            panic!("{}", db.name)
        };
        assert_eq!((done.version, done.title.as_str()), (2, "第2回"));
        assert_eq!(
            store.events().unwrap(),
            vec![(*done).clone()],
            "{}",
            db.name
        );
        assert!(matches!(
            store.delete_event("ev-00aa", 2, &edit).unwrap(),
            EventWrite::Done(_)
        ));
        assert!(store.event("ev-00aa").unwrap().is_none());
        assert_eq!(store.change_log_len().unwrap(), n0 + 3, "{}", db.name);
    }
}
