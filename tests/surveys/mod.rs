//! Surveys end to end: a pharmacist answers through a one-time update link (brand names
//! normalized), nothing public changes until the coordinator approves, then the nurse's search
//! finds the stock; a coordinator enters a dental clinic's answers directly; bad answers are
//! 400s naming the answer; pharmacy groups are professional and recorded by the right people.

use actix_web::http::Method;
use serde_json::{Value, json};

use pallimap::domain::*;

use crate::accounts::{call, fixture_with, json_of, sign_in};
use crate::admissions::{get, new_link, token_of, write};
use crate::common::facility;

const PHARMACY: &str = "navii-1151070000211";
const PARTNER: &str = "navii-1151070000212";
const DENTAL: &str = "navii-1151070000213";
const NEAR: &str = "near=35.8655,139.6455";

fn fixture() -> crate::accounts::Fixture {
    let mut dental = facility(
        DENTAL,
        FacilityKind::DentalClinic,
        "試験歯科",
        35.867,
        139.647,
    );
    dental.services.clear();
    fixture_with(vec![
        facility(
            PHARMACY,
            FacilityKind::Pharmacy,
            "試験調査薬局",
            35.866,
            139.646,
        ),
        facility(
            PARTNER,
            FacilityKind::Pharmacy,
            "試験連携薬局",
            35.87,
            139.65,
        ),
        dental,
    ])
}

fn answers() -> Value {
    json!({
        "narcotics_licence": true,
        "formulary": [
            {"name": "フェントステープ", "strength": "1mg", "stock": "always"},
            {"name": "ｵｷﾉｰﾑ散", "strength": "2.5mg", "stock": "always"},
            {"name": "オキシコンチンTR錠", "stock": "order", "order_days": 2},
        ],
        "home_visits": true,
        "service_radius_km": 8,
        "service_area_note": "さいたま市浦和区・南区",
        "aseptic_compounding": "shared",
        "pca_pump": true,
        "take_back": true,
        "after_hours": true,
        "after_hours_phone": "048-000-0999",
        "note": "担当: 山田",
    })
}

fn found(body: &Value, id: &str) -> bool {
    body["items"]
        .as_array()
        .is_some_and(|a| a.iter().any(|i| i["id"] == id))
}

#[actix_web::test]
async fn a_survey_answered_through_a_link_changes_nothing_until_approved() {
    let fx = fixture();
    let coord = sign_in(&fx.state, "coord@example.jp").await;
    let pro = sign_in(&fx.state, "pro@example.jp").await;
    let (status, link) = new_link(&fx, PHARMACY, &coord, json!({})).await;
    assert_eq!(status, 201, "{link}");
    let page = format!("/api/v1/update-links/{}", token_of(&link));
    let (status, headers, p) =
        json_of(call(&fx.state, Method::GET, &page, None, &[], None).await).await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["survey"]["code"], "pharmacy");
    assert_eq!(p["survey"]["version"], 1);
    assert_eq!(p["survey"]["questions"][1]["type"], "formulary");
    assert_eq!(p["may_answer_survey"], true);
    let etag = headers["etag"].clone();

    // Bad answers name the answer, and use nothing up.
    for (answers, field) in [
        (
            json!({"narcotics_licence": true, "home_visits": true,
                   "formulary": [{"name": "ロキソニン", "stock": "always"}]}),
            "survey.answers.formulary[0].name",
        ),
        (
            json!({"home_visits": true}),
            "survey.answers.narcotics_licence",
        ),
        (
            json!({"narcotics_licence": false, "home_visits": false, "pca_pump": true}),
            "survey.answers.pca_pump",
        ),
    ] {
        let body = json!({"survey": {"code": "pharmacy", "version": 1, "answers": answers}});
        let (status, e) = write(&fx, Method::POST, &page, None, Some(&etag), body).await;
        assert_eq!((status, e["field"].as_str()), (400, Some(field)), "{e}");
    }
    let wrong =
        json!({"survey": {"code": "dental", "version": 1, "answers": {"home_visits": true}}});
    let (status, e) = write(&fx, Method::POST, &page, None, Some(&etag), wrong).await;
    assert_eq!(
        (status, e["field"].as_str()),
        (400, Some("survey.code")),
        "{e}"
    );
    let old = json!({"survey": {"code": "pharmacy", "version": 9, "answers": answers()}});
    let (status, e) = write(&fx, Method::POST, &page, None, Some(&etag), old).await;
    assert_eq!(
        (status, e["field"].as_str()),
        (400, Some("survey.version")),
        "{e}"
    );
    // Without If-Match: 428.
    let body = json!({"survey": {"code": "pharmacy", "version": 1, "respondent": "薬剤師 山田",
                                 "answers": answers()}});
    let (status, _) = write(&fx, Method::POST, &page, None, None, body.clone()).await;
    assert_eq!(status, 428);

    let (status, r) = write(&fx, Method::POST, &page, None, Some(&etag), body.clone()).await;
    assert_eq!(status, 200, "{r}");
    let id = r["proposal_id"].as_i64().expect("a proposal");
    // The link is used up.
    let (status, _) = write(&fx, Method::POST, &page, None, Some(&etag), body).await;
    assert_eq!(status, 410);

    // Unapproved: nothing public or professional changed.
    let nurse = format!("/api/v1/facilities?{NEAR}&opioid=fentanyl_patch");
    let (_, b) = get(&fx, &nurse, Some(&pro)).await;
    assert!(!found(&b, PHARMACY), "{b}");
    let (_, f) = get(&fx, &format!("/api/v1/facilities/{PHARMACY}"), None).await;
    assert_eq!(f["services"], json!([]), "{f}");
    assert_eq!(f["after_hours"], Value::Null);
    let (_, b) = get(
        &fx,
        &format!("/api/v1/facilities?{NEAR}&after_hours=true"),
        None,
    )
    .await;
    assert!(!found(&b, PHARMACY));

    // The review queue shows the answers, normalized, beside what the entry says now.
    let (status, q) = get(&fx, "/api/v1/review", Some(&coord)).await;
    assert_eq!(status, 200, "{q}");
    let item = q
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .expect("in the queue");
    assert_eq!(
        item["survey"],
        json!({"code": "pharmacy", "version": 1, "respondent": "薬剤師 山田"})
    );
    assert_eq!(item["via"], "update_link");
    let lines = item["changes"]["formulary"].as_array().unwrap();
    assert_eq!(
        (&lines[0]["drug"], &lines[0]["form"], &lines[0]["name"]),
        (
            &json!("fentanyl"),
            &json!("patch_1day"),
            &json!("フェントステープ")
        )
    );
    assert_eq!(lines[2]["form"], "oral_sustained");
    assert_eq!(item["current"], json!({}));

    let (status, d) = write(
        &fx,
        Method::POST,
        &format!("/api/v1/review/{id}/approve"),
        Some(&coord),
        None,
        json!({}),
    )
    .await;
    assert_eq!(
        (status, d["status"].as_str()),
        (200, Some("approved")),
        "{d}"
    );

    // Approved: the nurse finds it by generic codes and by brands; not for what it lacks.
    for (q, want) in [
        ("fentanyl_patch", true),
        ("fentanyl_patch_1day,oxycodone_oral_immediate", true),
        ("フェントス,オキノーム", true),
        ("oxycodone_oral_sustained", true),
        ("methadone", false),
        ("fentanyl_patch_3day", false),
    ] {
        let uri = format!("/api/v1/facilities?{NEAR}&opioid={}", crate::api::enc(q));
        let (status, b) = get(&fx, &uri, Some(&pro)).await;
        assert_eq!(status, 200, "{b}");
        assert_eq!(found(&b, PHARMACY), want, "{q}: {b}");
    }
    let (_, b) = get(
        &fx,
        &format!("/api/v1/facilities?{NEAR}&opioid=oxycodone_oral_sustained&stock=always"),
        Some(&pro),
    )
    .await;
    assert!(!found(&b, PHARMACY), "on order only");
    // The public sees that it handles narcotics and visits homes, never the formulary or the
    // after-hours number; the professional sees both.
    let (_, f) = get(&fx, &format!("/api/v1/facilities/{PHARMACY}"), None).await;
    let kinds: Vec<&str> = f["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "aseptic_compounding",
            "home_medication_management",
            "opioid_dispensing"
        ]
    );
    let text = f.to_string();
    assert!(
        !text.contains("formulary") && !text.contains("048-000-0999"),
        "{f}"
    );
    assert!(
        !text.contains("担当"),
        "the note to the coordinator is never published"
    );
    assert_eq!(f["after_hours"], true);
    let home = &f["services"][1];
    assert_eq!(
        (home["radius_km"].as_f64(), home["notes"].as_str()),
        (Some(8.0), Some("さいたま市浦和区・南区"))
    );
    assert_eq!(f["services"][0]["compounding"], "shared");
    assert_eq!(f["services"][2]["survey"]["survey"], "pharmacy@1");
    assert_eq!(f["sample"], false);
    let (_, f) = get(&fx, &format!("/api/v1/facilities/{PHARMACY}"), Some(&pro)).await;
    assert_eq!(f["services"][2]["formulary"].as_array().unwrap().len(), 3);
    assert!(f.to_string().contains("048-000-0999"));
    let (_, b) = get(
        &fx,
        &format!("/api/v1/facilities?{NEAR}&after_hours=true"),
        None,
    )
    .await;
    assert!(found(&b, PHARMACY), "{b}");
    let (_, b) = get(
        &fx,
        &format!(
            "/api/v1/facilities?{NEAR}&service=home_medication_management,aseptic_compounding"
        ),
        None,
    )
    .await;
    assert!(found(&b, PHARMACY));
    // What the entry stands for now is the approved answers.
    let (_, q) = get(&fx, "/api/v1/review?status=all", Some(&coord)).await;
    let item = q
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap();
    assert_eq!(item["current"]["formulary"].as_array().unwrap().len(), 3);
    assert_eq!(item["current"]["after_hours_phone"], "048-000-0999");
}

#[actix_web::test]
async fn a_coordinator_enters_answers_directly_and_others_may_not() {
    let fx = fixture();
    let coord = sign_in(&fx.state, "coord@example.jp").await;
    let other = sign_in(&fx.state, "other-coord@example.jp").await;
    let pro = sign_in(&fx.state, "pro@example.jp").await;
    let uri = format!("/api/v1/facilities/{DENTAL}/surveys/dental");
    let (_, headers, _) = json_of(
        call(
            &fx.state,
            Method::GET,
            &format!("/api/v1/facilities/{DENTAL}"),
            Some(&coord),
            &[],
            None,
        )
        .await,
    )
    .await;
    let etag = headers["etag"].clone();
    let body = json!({"version": 1, "respondent": "電話で聞き取り",
        "answers": {"home_visits": true, "service_radius_km": 10, "conditions": "要介護の方",
                    "after_hours": false}});
    for s in [&other, &pro] {
        let (status, _) = write(&fx, Method::POST, &uri, Some(s), Some(&etag), body.clone()).await;
        assert_eq!(status, 403);
    }
    let (status, _) = write(&fx, Method::POST, &uri, Some(&coord), None, body.clone()).await;
    assert_eq!(status, 428);
    let (status, e) = write(
        &fx,
        Method::POST,
        &format!("/api/v1/facilities/{DENTAL}/surveys/pharmacy"),
        Some(&coord),
        Some(&etag),
        json!({"version": 1, "answers": {"narcotics_licence": false, "home_visits": false}}),
    )
    .await;
    assert_eq!((status, e["field"].as_str()), (400, Some("code")), "{e}");
    let (status, r) = write(
        &fx,
        Method::POST,
        &uri,
        Some(&coord),
        Some(&etag),
        body.clone(),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    let dental = &r["facility"]["services"][0];
    assert_eq!(dental["kind"], "home_visit_dental");
    assert_eq!(
        (dental["radius_km"].as_f64(), dental["conditions"].as_str()),
        (Some(10.0), Some("要介護の方"))
    );
    assert_eq!(r["facility"]["after_hours"], false);
    // Kept decided, with who and how.
    let (_, q) = get(&fx, "/api/v1/review?status=approved", Some(&coord)).await;
    let item = q
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == r["answer_set_id"])
        .expect("kept");
    assert_eq!(item["via"], "coordinator");
    assert_eq!(item["survey"]["respondent"], "電話で聞き取り");
    assert_eq!(item["decided_by"], "coordinator:coord@example.jp");
    // A stale version: 409.
    let (status, _) = write(&fx, Method::POST, &uri, Some(&coord), Some(&etag), body).await;
    assert_eq!(status, 409);
    // The dental clinic now reaches homes within 10 km.
    let (_, b) = get(
        &fx,
        "/api/v1/facilities?service=home_visit_dental&reaches=35.9,139.647",
        None,
    )
    .await;
    assert!(found(&b, DENTAL), "3.7 km away: {b}");
    let (_, b) = get(
        &fx,
        "/api/v1/facilities?service=home_visit_dental&reaches=36.0,139.647",
        None,
    )
    .await;
    assert!(!found(&b, DENTAL), "14.8 km away, beyond its 10 km");
}

#[actix_web::test]
async fn pharmacy_groups_are_professional_and_rank_partners_before_ordering() {
    let fx = fixture();
    let coord = sign_in(&fx.state, "coord@example.jp").await;
    let pro = sign_in(&fx.state, "pro@example.jp").await;
    let editor = sign_in(&fx.state, "editor@example.jp").await;
    // The partner stocks the patch; the asking pharmacy has it on order only.
    for (id, stock) in [(PARTNER, "always"), (PHARMACY, "order")] {
        let (_, headers, _) = json_of(
            call(
                &fx.state,
                Method::GET,
                &format!("/api/v1/facilities/{id}"),
                Some(&coord),
                &[],
                None,
            )
            .await,
        )
        .await;
        let line = if stock == "order" {
            json!({"name": "フェントステープ", "stock": "order", "order_days": 3})
        } else {
            json!({"name": "フェントステープ", "stock": "always"})
        };
        let (status, r) = write(
            &fx,
            Method::POST,
            &format!("/api/v1/facilities/{id}/surveys/pharmacy"),
            Some(&coord),
            Some(&headers["etag"]),
            json!({"version": 1, "answers": {"narcotics_licence": true, "formulary": [line],
                                              "home_visits": false}}),
        )
        .await;
        assert_eq!(status, 200, "{r}");
    }
    let nurse = format!("/api/v1/facilities?{NEAR}&opioid=fentanyl_patch_1day");
    let (_, b) = get(&fx, &nurse, Some(&pro)).await;
    let order: Vec<(&str, &str)> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap(),
                i["availability"].as_str().unwrap(),
            )
        })
        .collect();
    // In stock first although farther.
    assert_eq!(order, [(PARTNER, "always"), (PHARMACY, "order")]);

    let group = json!({"name": "試験 麻薬譲渡グループ", "members": [PHARMACY, PARTNER],
                       "licence_valid_until": "2099-03-31", "transfer_hours": 2});
    // Anonymous: 401 to read and to write; a professional may read, not record.
    let (status, _) = get(&fx, "/api/v1/pharmacy-groups", None).await;
    assert_eq!(status, 401);
    let (status, _) = write(
        &fx,
        Method::POST,
        "/api/v1/pharmacy-groups",
        Some(&pro),
        None,
        group.clone(),
    )
    .await;
    assert_eq!(status, 403);
    // Bad groups name the field.
    for (g, field) in [
        (
            json!({"name": "x", "members": [PHARMACY], "licence_valid_until": "2099-03-31"}),
            "members",
        ),
        (
            json!({"name": "x", "members": [PHARMACY, DENTAL], "licence_valid_until": "2099-03-31"}),
            "members[1]",
        ),
        (
            json!({"name": "x", "members": [PHARMACY, PARTNER], "licence_valid_until": "R9.3.31"}),
            "licence_valid_until",
        ),
    ] {
        let (status, e) = write(
            &fx,
            Method::POST,
            "/api/v1/pharmacy-groups",
            Some(&coord),
            None,
            g,
        )
        .await;
        assert_eq!((status, e["field"].as_str()), (400, Some(field)), "{e}");
    }
    let (status, g) = write(
        &fx,
        Method::POST,
        "/api/v1/pharmacy-groups",
        Some(&coord),
        None,
        group.clone(),
    )
    .await;
    assert_eq!(status, 201, "{g}");
    assert_eq!(g["valid"], true);
    assert_eq!(g["members"][1]["name"], "試験連携薬局");
    let (status, list) = get(&fx, "/api/v1/pharmacy-groups", Some(&pro)).await;
    assert_eq!((status, list.as_array().map(Vec::len)), (200, Some(1)));

    // Now the pharmacy gets it from its partner: after own stock, before ordering.
    let (_, b) = get(&fx, &nurse, Some(&pro)).await;
    let item = &b["items"][1];
    assert_eq!(
        (item["id"].as_str(), item["availability"].as_str()),
        (Some(PHARMACY), Some("partner"))
    );
    assert_eq!(
        item["opioid_stock"][0]["partner"],
        json!({"id": PARTNER, "name": "試験連携薬局", "group": "試験 麻薬譲渡グループ", "transfer_hours": 2})
    );
    let (_, b) = get(&fx, &format!("{nurse}&stock=always"), Some(&pro)).await;
    assert_eq!(b["total"], 1);
    let (_, b) = get(&fx, &format!("{nurse}&stock=partner"), Some(&pro)).await;
    assert_eq!(b["total"], 2);

    // An expired licence passes nothing; the editor of another pharmacy may not change it.
    let gid = g["id"].as_i64().unwrap();
    let mut expired = group.clone();
    expired["licence_valid_until"] = json!("2020-03-31");
    let uri = format!("/api/v1/pharmacy-groups/{gid}");
    let (status, _) = write(&fx, Method::PUT, &uri, Some(&editor), None, expired.clone()).await;
    assert_eq!(status, 403, "the editor's pharmacy is not a member");
    // Anonymous: 401 whether the group exists or not (schemathesis found a 404 that told the
    // public which group ids exist).
    for u in [uri.as_str(), "/api/v1/pharmacy-groups/999999"] {
        for m in [Method::DELETE, Method::PUT] {
            let (status, _) = write(&fx, m.clone(), u, None, None, expired.clone()).await;
            assert_eq!(status, 401, "{m} {u}");
        }
    }
    let (status, g) = write(&fx, Method::PUT, &uri, Some(&coord), None, expired).await;
    assert_eq!((status, g["valid"].as_bool()), (200, Some(false)), "{g}");
    let (_, b) = get(&fx, &format!("{nurse}&stock=partner"), Some(&pro)).await;
    assert_eq!(b["total"], 1);
    let (status, _) = write(&fx, Method::DELETE, &uri, Some(&coord), None, json!({})).await;
    assert_eq!(status, 204);
    let (status, _) = write(&fx, Method::DELETE, &uri, Some(&coord), None, json!({})).await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn survey_definitions_are_public_and_versioned() {
    let fx = fixture();
    let (status, b) = get(&fx, "/api/v1/surveys", None).await;
    assert_eq!(status, 200);
    let codes: Vec<&str> = b["surveys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["pharmacy", "dental", "clinic"]);
    let (status, s) = get(&fx, "/api/v1/surveys/pharmacy?version=1", None).await;
    assert_eq!(status, 200);
    let formulary = s["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == "formulary")
        .unwrap();
    assert_eq!(formulary["visibility"], "professional");
    assert_eq!(formulary["fills"], "services.opioid_dispensing.formulary");
    assert_eq!(
        get(&fx, "/api/v1/surveys/pharmacy?version=2", None).await.0,
        404
    );
    assert_eq!(get(&fx, "/api/v1/surveys/nursing", None).await.0, 404);
    assert_eq!(
        get(&fx, "/api/v1/surveys/pharmacy?version=x", None).await.0,
        400
    );
    // The opioid vocabulary names products and brands for type-ahead.
    let (_, v) = get(&fx, "/api/v1/vocabulary", None).await;
    let names = v["opioids"]["names"].as_array().unwrap();
    assert!(
        names
            .iter()
            .any(|n| n == &json!({"name": "フェントス", "product": "fentanyl_patch_1day"}))
    );
    let products = v["opioids"]["products"].as_array().unwrap();
    assert_eq!(products.len(), Product::codes().len());
}

#[actix_web::test]
async fn open_now_and_after_hours_filter_on_published_hours_and_answers() {
    use pallimap::domain::schedule::{ClockTime, Day, Period};
    let period = |days: &[Day], from: &str, to: &str| Period {
        days: days.to_vec(),
        from: ClockTime::parse(from).unwrap(),
        to: ClockTime::parse(to).unwrap(),
    };
    let week = [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri];
    let mut daytime = facility(
        PHARMACY,
        FacilityKind::Pharmacy,
        "日中薬局",
        35.866,
        139.646,
    );
    daytime.hours.open = vec![period(&week, "09:00", "18:00")];
    let mut always = facility(PARTNER, FacilityKind::Pharmacy, "終日薬局", 35.87, 139.65);
    let all = [week.as_slice(), &[Day::Sat, Day::Sun, Day::Holiday]].concat();
    always.hours.open = vec![period(&all, "00:00", "24:00")];
    let unknown = facility(
        DENTAL,
        FacilityKind::Pharmacy,
        "時間不明薬局",
        35.868,
        139.648,
    );
    let fx = fixture_with(vec![daytime, always, unknown]);
    let catalog = fx.state.catalog.load();
    let at = |date: time::Date, h: u8| {
        time::PrimitiveDateTime::new(date, time::Time::from_hms(h, 0, 0).unwrap())
    };
    let open = |when| {
        let q = pallimap::catalog::Query {
            kinds: vec![FacilityKind::Pharmacy],
            open_at: Some(when),
            ..Default::default()
        };
        let r = catalog.search(&q, 0, 10).unwrap();
        let mut ids: Vec<String> = r
            .hits
            .iter()
            .map(|h| catalog.at(h.ord).id.clone())
            .collect();
        ids.sort();
        ids
    };
    let monday = time::macros::date!(2026 - 11 - 30);
    // 勤労感謝の日 (a national holiday) falls on Monday 2026-11-23.
    let holiday = time::macros::date!(2026 - 11 - 23);
    assert_eq!(open(at(monday, 10)), [PHARMACY, PARTNER]);
    assert_eq!(open(at(monday, 20)), [PARTNER]);
    assert_eq!(open(at(holiday, 10)), [PARTNER]);
    // Over HTTP: the one open around the clock is open now; the unknown never is.
    let (status, b) = get(&fx, "/api/v1/facilities?kind=pharmacy&open_now=true", None).await;
    assert_eq!(status, 200, "{b}");
    assert!(found(&b, PARTNER) && !found(&b, DENTAL), "{b}");
    let (status, e) = get(&fx, "/api/v1/facilities?open_now=maybe", None).await;
    assert_eq!(
        (status, e["parameter"].as_str()),
        (400, Some("open_now")),
        "{e}"
    );
    // after_hours: nobody answered yet, and no pharmacy keeps a 24-hour line by rule.
    let (_, b) = get(
        &fx,
        "/api/v1/facilities?kind=pharmacy&after_hours=true",
        None,
    )
    .await;
    assert_eq!(b["total"], 0, "{b}");
}
