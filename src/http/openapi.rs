//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` and the DTOs'
//! schemas, with the code lists (kinds, services, areas, municipalities) filled in from the
//! vocabulary and the current catalog so that a client or a fuzzer sees the valid values.

use serde_json::{Value, json};
use utoipa::OpenApi;

use super::dto;
use super::error::Problem;
use super::routes;
use crate::catalog::{Catalog, Facet};
use crate::domain::{FacilityKind, ServiceKind};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "pallimap API",
        description = "緩和ケア資源マップの API / Regional directory and map of palliative-care resources. Errors are application/problem+json (RFC 9457) with a stable `code`.",
        license(name = "MIT"),
    ),
    paths(
        routes::healthz,
        routes::readyz,
        super::write::create_facility,
        super::write::patch_facility,
        super::write::put_service,
        super::write::delete_service,
        super::write::verify_facility,
        super::write::history,
        super::admission::put_capacity,
        super::admission::capacity_history,
        super::admission::put_rules,
        super::admission::backup,
        super::admission::backup_geojson,
        super::team::care_team,
        super::team::get_partners,
        super::team::put_partners,
        super::links::create_link,
        super::links::list_links,
        super::links::revoke_link,
        super::links::open_link,
        super::links::use_link,
        super::links::review,
        super::links::approve,
        super::links::reject,
        super::imports::post_import,
        super::write::put_specialists,
        super::desk::stale,
        super::desk::stale_links,
        super::desk::report,
        super::desk::corrections,
        super::desk::close,
        super::surveys::list_surveys,
        super::surveys::get_survey,
        super::surveys::enter_answers,
        super::surveys::list_groups,
        super::surveys::create_group,
        super::surveys::replace_group,
        super::surveys::delete_group,
        super::events::list_events,
        super::events::create_event,
        super::events::events_ics,
        super::events::activity_report,
        super::events::get_event,
        super::events::replace_event,
        super::events::delete_event,
        super::events::list_feeds,
        super::events::create_feed,
        super::events::delete_feed,
        super::session::whoami,
        super::session::sign_in,
        super::session::sign_out,
        super::session::list_users,
        super::session::create_user,
        super::session::update_user,
        routes::list_facilities,
        routes::facilities_geojson,
        super::export::facilities_csv,
        super::export::facilities_xlsx,
        super::export::hsds,
        super::export::template_csv,
        super::export::template_xlsx,
        routes::facility_geojson,
        routes::get_facility,
        routes::suggest,
        routes::list_areas,
        routes::areas_geojson,
        super::coverage::area_coverage,
        super::coverage::overview,
        routes::municipalities_geojson,
        routes::vocabulary,
        routes::geocode,
        routes::web_config,
        routes::openapi,
    ),
    components(schemas(Problem, dto::FacilityView, dto::ListBody)),
    modifiers(&Security),
    tags(
        (name = "facilities", description = "施設の検索と詳細 / Search and details of facilities"),
        (name = "exports", description = "一覧のダウンロード（CSV・XLSX・HSDS）と取り込み用テンプレート / Downloads of the filtered list (CSV, XLSX, Open Referral HSDS 3.0) and the import template"),
        (name = "areas", description = "二次医療圏と市区町村 / Areas and municipalities"),
        (name = "service", description = "語彙・ジオコーダ・設定 / Vocabulary, geocoder, configuration"),
        (name = "edits", description = "施設情報の編集と履歴 / Edits and history (coordinators, facility editors, admins)"),
        (name = "accounts", description = "ログインとアカウント / Sign-in and accounts"),
        (name = "admissions", description = "今夜の入院先: 空床状況・入院受入ルール・後方支援病院の検索 / Bed status, admission rules and the backup search (professionals)"),
        (name = "care-team", description = "在宅チーム編成: 患者さんの住所に訪問できる医師・訪問看護・薬局・歯科・後方支援病院（住所は保存しません）と施設の連携先 / The home palliative-care team for one home (the home is not stored), and facilities' partners (professionals)"),
        (name = "update-links", description = "施設の更新用リンクと確認待ちの修正 / Facility update links and the review queue"),
        (name = "desk", description = "調整員の机: 確認期限切れの一覧・更新用リンクの一括発行・修正依頼 / The coordinator's desk: stale entries, update links in bulk, corrections from the public"),
        (name = "imports", description = "CSV・XLSX の取り込み（確認してから反映） / Imports of CSV and XLSX files, checked then applied (coordinators)"),
        (name = "surveys", description = "施設調査（薬局・歯科・診療所）の定義と回答 / Facility surveys: definitions and answers"),
        (name = "events", description = "研修・会議（研修会・症例検討会・連携会議・市民公開講座）の一覧・カレンダー配信・活動の集計 / Training and meetings: occurrences, the iCalendar feed and feed tokens, the report of activity"),
        (name = "pharmacy-groups", description = "麻薬小売業者間譲渡の薬局グループ / Pharmacy groups holding a joint narcotics transfer licence (professionals)"),
    )
)]
struct ApiDoc;

/// The two credentials: the session cookie (with `X-CSRF-Token` on writes) and API tokens.
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                super::auth::SESSION_COOKIE,
            ))),
        );
        c.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every write can meet a database that is down (503) or whose disk is full (507); the
/// handlers' own lists name their specific answers, these two are added to each write here.
fn write_faults(item: &mut Value) {
    let problem = |description: &str| {
        json!({
            "description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        })
    };
    for method in ["post", "put", "patch", "delete"] {
        let Some(responses) = item
            .pointer_mut(&format!("/{method}/responses"))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        responses.entry("503").or_insert_with(|| {
            problem("データベースに接続できません（閲覧は可能） / The database cannot be reached: nothing was written; reads keep working (`unavailable`, Retry-After)")
        });
        responses.entry("507").or_insert_with(|| {
            problem("保存領域の不足 / The database's storage is full: nothing was written; reads keep working (`storage_full`, Retry-After)")
        });
    }
}

/// The document as served.
pub fn document(catalog: &Catalog) -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|_| json!({}));
    let kinds: Vec<&str> = FacilityKind::ALL.iter().map(|k| k.code()).collect();
    let services: Vec<&str> = ServiceKind::ALL.iter().map(|k| k.code()).collect();
    let areas: Vec<&str> = catalog.areas().iter().map(|a| a.code.as_str()).collect();
    let munis: Vec<&str> = catalog.municipalities().map(|m| m.code.as_str()).collect();
    let facets = ["kind", "service", "area"];
    debug_assert!(facets.iter().all(|f| Facet::from_code(f).is_some()));
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return doc;
    };
    limit_responses(paths);
    for item in paths.values_mut() {
        write_faults(item);
        let Some(params) = item
            .pointer_mut("/get/parameters")
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        for p in params {
            let values: Option<Vec<&str>> = match p["name"].as_str() {
                Some("kind") => Some(kinds.clone()),
                Some("service") => Some(services.clone()),
                Some("area") => Some(areas.clone()),
                Some("municipality") => Some(munis.clone()),
                Some("facets") => Some(facets.to_vec()),
                _ => None,
            };
            if let Some(values) = values {
                p["schema"] = json!({"type": "array", "items": {"type": "string", "enum": values}});
            }
            match p["name"].as_str() {
                Some("sort") => {
                    p["schema"] =
                        json!({"type": "string", "enum": ["relevance", "distance", "name"]})
                }
                Some("cluster") => p["schema"] = json!({"type": "string", "enum": ["0", "1"]}),
                Some("stock") => {
                    p["schema"] = json!({"type": "string", "enum": ["always", "order"]})
                }
                _ => {}
            }
        }
    }
    doc
}

/// The limits' answers on the operations they apply to: 414 and 431 on every one, 413 on
/// those with a body, 429 on the rate-limited ones (see `limits`).
fn limit_responses(paths: &mut serde_json::Map<String, Value>) {
    use super::limits::{self, MAX_HEADER_BYTES, MAX_HEADERS, MAX_QUERY_PARAMS, MAX_URL_BYTES};
    let problem = |description: String| {
        json!({
            "description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        })
    };
    for (path, item) in paths.iter_mut() {
        let Some(ops) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in ops.iter_mut() {
            let Ok(m) = actix_web::http::Method::from_bytes(method.to_uppercase().as_bytes())
            else {
                continue;
            };
            let has_body = op.get("requestBody").is_some();
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            let mut add = |status: &str, description: String| {
                responses
                    .entry(status.to_string())
                    .or_insert_with(|| problem(description));
            };
            add(
                "414",
                format!(
                    "The path and query are over {MAX_URL_BYTES} bytes (`uri_too_long`), or the query has more than {MAX_QUERY_PARAMS} parameters (`too_many_parameters`)"
                ),
            );
            add(
                "431",
                format!(
                    "More than {MAX_HEADERS} request headers or over {MAX_HEADER_BYTES} bytes of them (`headers_too_large`); beyond 96 headers or a 128 KiB head the HTTP parser answers 431 with no body"
                ),
            );
            if has_body {
                add(
                    "413",
                    "The body is over the limit (`body_too_large`)".into(),
                );
            }
            if limits::class_of(&m, path).is_some() {
                let rate = "too many requests from this address (`rate_limited`); see Retry-After";
                match responses.get_mut("429") {
                    Some(r) => {
                        let d = r["description"].as_str().unwrap_or_default();
                        r["description"] = json!(format!("{d}; or {rate}"));
                    }
                    None => {
                        responses.insert("429".into(), problem(format!("T{}", &rate[1..])));
                    }
                }
            }
        }
    }
}
