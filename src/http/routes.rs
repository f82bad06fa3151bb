//! Request handlers. Each parses and validates its input, asks the catalog, and renders a view.

use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tracing::instrument;

use super::AppState;
use super::error::ApiError;
use super::params::Params;
use super::views::{FacilityView, Label};
use crate::catalog::Filter;
use crate::domain::{Audience, FacilityKind, ServiceKind};

/// Anonymous callers are the public; the accounts issue adds signed-in professionals.
fn audience(_req: &HttpRequest) -> Audience {
    Audience::Public
}

fn json(body: Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body.to_string())
}

pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let catalog = state.catalog.load();
    json(json!({"status": "ok", "facilities": catalog.len()}))
}

pub async fn no_route(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(format!(
        "No API route {} {}. See /api/v1/vocabulary, /api/v1/facilities, /api/v1/areas, /api/v1/geocode.",
        req.method(),
        req.path()
    )))
}

fn encode_cursor(after: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("a:{after}"))
}

fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("a:").map(str::to_string))
        .ok_or_else(|| {
            ApiError::bad_parameter(
                "cursor",
                "`cursor` is not one this server issued; pass the `next` value of the previous page unchanged.",
            )
        })
}

const LIST_PARAMS: &[&str] = &["kind", "service", "area", "municipality", "limit", "cursor"];

fn parse_filter(p: &Params, catalog: &crate::catalog::Catalog) -> Result<Filter, ApiError> {
    let area_codes = || {
        catalog
            .areas()
            .iter()
            .map(|a| format!("{} ({})", a.code, a.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Ok(Filter {
        kinds: p.list("kind", FacilityKind::from_code, FacilityKind::codes)?,
        services: p.list("service", ServiceKind::from_code, ServiceKind::codes)?,
        areas: p.list(
            "area",
            |c| catalog.area(c).map(|a| a.code.clone()),
            area_codes,
        )?,
        municipalities: p.list(
            "municipality",
            |c| {
                catalog
                    .municipalities()
                    .iter()
                    .find(|m| m.code == c)
                    .map(|m| m.code.clone())
            },
            || {
                "5-digit 市区町村コード of this region, listed with each area in /api/v1/areas"
                    .into()
            },
        )?,
    })
}

#[instrument(skip_all, err)]
pub async fn list_facilities(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let p = Params::parse(req.query_string(), LIST_PARAMS)?;
    let catalog = state.catalog.load();
    let filter = parse_filter(&p, &catalog)?;
    let limit = p.int_in("limit", 1, 100, 20)?;
    let after = p.get("cursor").map(decode_cursor).transpose()?;
    let page = catalog.list(&filter, limit, after.as_deref());
    let aud = audience(&req);
    let items: Vec<FacilityView> = page
        .items
        .iter()
        .map(|f| FacilityView::new(f, &catalog, aud))
        .collect();
    Ok(json(json!({
        "total": page.total,
        "items": items,
        "next": page.next_after.as_deref().map(encode_cursor),
    })))
}

#[instrument(skip_all, err)]
pub async fn get_facility(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let id = path.into_inner();
    let catalog = state.catalog.load();
    let f = catalog.get(&id).ok_or_else(|| {
        ApiError::not_found(format!(
            "No facility with id `{id}`. Ids look like navii-1111010000010, kaigo-1160190385 or hic-1110101337."
        ))
    })?;
    Ok(json(
        serde_json::to_value(FacilityView::new(f, &catalog, audience(&req))).unwrap_or_default(),
    ))
}

#[instrument(skip_all, err)]
pub async fn list_areas(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let catalog = state.catalog.load();
    let counts = catalog.area_counts();
    let items: Vec<Value> = catalog
        .areas()
        .iter()
        .map(|a| {
            let c = counts.get(&a.code).cloned().unwrap_or_default();
            let municipalities: Vec<Value> = catalog
                .municipalities()
                .iter()
                .filter(|m| m.area_code == a.code)
                .map(|m| json!({"code": m.code, "name": m.name}))
                .collect();
            json!({
                "code": a.code,
                "name": a.name,
                "prefecture": a.prefecture,
                "pref_code": a.pref_code,
                "population": a.population,
                "facilities": c.facilities,
                "kinds": FacilityKind::ALL.iter().map(|k| (k.code().to_string(), json!(*c.kinds.get(k).unwrap_or(&0)))).collect::<serde_json::Map<_, _>>(),
                "services": ServiceKind::ALL.iter().map(|k| (k.code().to_string(), json!(*c.services.get(k).unwrap_or(&0)))).collect::<serde_json::Map<_, _>>(),
                "municipalities": municipalities,
            })
        })
        .collect();
    Ok(json(json!({"total": items.len(), "items": items})))
}

pub async fn vocabulary(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let kinds: Vec<Value> = FacilityKind::ALL
        .iter()
        .map(|k| json!({"code": k.code(), "label": Label { ja: k.label_ja(), en: k.label_en() }}))
        .collect();
    let services: Vec<Value> = ServiceKind::ALL
        .iter()
        .map(|k| {
            json!({
                "code": k.code(),
                "label": Label { ja: k.label_ja(), en: k.label_en() },
                "home_visit": k.visits_homes(),
            })
        })
        .collect();
    Ok(json(json!({"kinds": kinds, "services": services})))
}

#[instrument(skip_all, err)]
pub async fn geocode(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let p = Params::parse(req.query_string(), &["address"])?;
    let address = p.get("address").ok_or_else(|| {
        ApiError::bad_parameter(
            "address",
            "`address` is required, e.g. address=さいたま市浦和区北浦和4-9-3.",
        )
    })?;
    if address.chars().count() > 200 {
        return Err(ApiError::bad_parameter(
            "address",
            "`address` is longer than 200 characters; give the postal address only.",
        ));
    }
    let catalog = state.catalog.load();
    match catalog.gazetteer().geocode(address) {
        Ok(m) => Ok(json(json!({
            "lat": m.lat,
            "lng": m.lng,
            "level": m.level.code(),
            "normalized": m.normalized,
            "municipality_code": m.municipality_code,
            "municipality": m.municipality,
            "town": m.town,
            "area_code": m.area_code,
        }))),
        Err(miss) => Err(ApiError::unprocessable(
            "address_not_found",
            format!(
                "住所を特定できませんでした / The address could not be placed: `{}`. Check the municipality name (市区町村) and town (町名), e.g. さいたま市浦和区北浦和4-9-3.",
                miss.normalized
            ),
        )
        .with("normalized", json!(miss.normalized))
        .with("matched", json!({"prefecture": miss.prefecture}))),
    }
}
