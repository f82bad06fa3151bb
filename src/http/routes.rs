//! Request handlers. Each parses its input into a typed request, asks the catalog (through the
//! planner for searches) and answers with a DTO. The `#[utoipa::path]` of each handler is its
//! entry in the OpenAPI document.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use tracing::instrument;

use super::AppState;
use super::dto::{
    AreaItem, AreasBody, ConfigBody, CoverageBody, FacilityView, GeocodeBody, Health, KindItem,
    Label, ListBody, MunicipalityRef, ServiceItem, StockLine, SuggestBody, SuggestFacility,
    SuggestTerm, VocabularyBody,
};
use super::error::{ApiError, Problem};
use super::geojson::{self as gj, Layer};
use super::params::Params;
use super::request::{self, GEOJSON_PARAMS, LIST_PARAMS, MAX_QUERY_CHARS};
use crate::catalog::{Catalog, Execution, Plan, PlanError, Results};
use crate::domain::{Audience, Facility, FacilityKind, GeocodeMiss, ServiceKind, project};

/// What the caller may see: the public without a credential, the role's audience with one.
pub(super) async fn audience(req: &HttpRequest, state: &AppState) -> Result<Audience, ApiError> {
    Ok(super::auth::caller(req, state).await?.audience())
}

fn json_body<T: serde::Serialize>(body: &T) -> Result<HttpResponse, ApiError> {
    let text = serde_json::to_string(body).map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(text))
}

#[utoipa::path(get, path = "/healthz", tag = "service",
    responses((status = 200, description = "The service is up", body = Health)))]
pub async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let catalog = state.catalog.load();
    json_body(&Health {
        status: "ok",
        facilities: catalog.len(),
        change_seq: catalog.change_seq(),
    })
}

pub async fn no_route(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(format!(
        "No API route {} {}. The routes are listed in /api/v1/openapi.json.",
        req.method(),
        req.path()
    )))
}

fn address_miss(miss: &GeocodeMiss) -> ApiError {
    let detail = if miss.postal_code_only {
        "郵便番号だけでは場所を特定できません。住所（市区町村と町名）を入力してください / A postal code alone cannot be placed here (no postal-code table is served): type the address, e.g. 春日部市中央1-1.".to_string()
    } else {
        format!(
            "住所を特定できませんでした。市区町村名と町名を確認してください / The address could not be placed: `{}`. Check the municipality (市区町村) and town (町名), e.g. さいたま市浦和区北浦和4-9-3.",
            miss.normalized
        )
    };
    ApiError::unprocessable("address_not_found", detail)
        .with("normalized", json!(miss.normalized))
        .with("matched", json!({"prefecture": miss.prefecture}))
}

pub(super) fn plan_error(e: PlanError) -> ApiError {
    match e {
        PlanError::AddressNotPlaced(miss) => address_miss(&miss),
        PlanError::StaleCursor => ApiError::stale_cursor(format!(
            "一覧が更新されたため、最初のページからやり直してください / {e}"
        )),
        e @ PlanError::UnknownCode { .. } => ApiError::bad_parameter(e.parameter(), e.to_string()),
    }
}

/// Plan against the current snapshot and run it where the plan says: a text or box scan goes
/// to the blocking pool so it cannot stall other requests.
pub(super) async fn run_search(
    catalog: Arc<Catalog>,
    request: crate::catalog::SearchRequest,
) -> Result<(Arc<Catalog>, Plan, Results), ApiError> {
    let plan = catalog.plan(&request).map_err(plan_error)?;
    match plan.execution {
        Execution::Inline => {
            let r = catalog.execute(&plan).map_err(|e| ApiError::internal(&e))?;
            Ok((catalog, plan, r))
        }
        Execution::Blocking => web::block(move || {
            let r = catalog.execute(&plan);
            r.map(|r| (catalog, plan, r))
        })
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::internal(&e)),
    }
}

/// Query parameters of the facility list, layer and exports (documentation of what
/// `request.rs` parses).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SearchParams {
    /// Facility kinds, comma-separated (OR).
    #[param(style = Form, explode = false)]
    kind: Option<Vec<String>>,
    /// Service codes, comma-separated (OR).
    #[param(style = Form, explode = false)]
    service: Option<Vec<String>>,
    /// 二次医療圏 codes (4 digits), comma-separated (OR).
    #[param(style = Form, explode = false)]
    area: Option<Vec<String>>,
    /// 市区町村コード (5 digits), comma-separated (OR).
    #[param(style = Form, explode = false)]
    municipality: Option<Vec<String>>,
    /// Text, ≤ 200 characters, as people type it: words are ANDed; each is a phrase of the
    /// name, reading, services, address or public notes, or a service (緩和病棟, 往診), place
    /// (所沢, 浦和区) or public phone number / postal code it stands for. Abbreviations (医大,
    /// 日赤) expand; spaces inside Japanese names are ignored. Nothing strict: a relaxed match
    /// (`match`). Never query syntax.
    #[param(max_length = 200)]
    q: Option<String>,
    /// The point distances are measured from, `lat,lng` (not with `address`).
    #[param(
        pattern = r"^-?[0-8]?[0-9](\.[0-9]{1,6})?,-?1?[0-7]?[0-9](\.[0-9]{1,6})?$",
        example = "35.8617,139.6455"
    )]
    near: Option<String>,
    /// An address whose place distances are measured from (not with `near`).
    #[param(max_length = 200, example = "さいたま市浦和区北浦和4-9-3")]
    address: Option<String>,
    /// Radius in km, 0 < r ≤ 100; needs `near`, `address` or `reaches`.
    #[param(exclusive_minimum = 0, maximum = 100)]
    radius_km: Option<f64>,
    /// `minLng,minLat,maxLng,maxLat`, min < max, at most 30° each way.
    #[param(example = "139.5,35.8,139.8,36.0")]
    bbox: Option<String>,
    /// Home-visit providers whose service area contains this `lat,lng`.
    #[param(
        pattern = r"^-?[0-8]?[0-9](\.[0-9]{1,6})?,-?1?[0-7]?[0-9](\.[0-9]{1,6})?$",
        example = "35.8617,139.6455"
    )]
    reaches: Option<String>,
    /// Professionals only (401 otherwise): pharmacies whose formulary, as the caller may see
    /// it, stocks every one of these products, comma-separated (AND, at most 8). A product is
    /// `DRUG` (any form: `morphine`, `oxycodone`, `hydromorphone`, `fentanyl`, `tapentadol`,
    /// `methadone`), `DRUG_oral` / `DRUG_patch` (both release forms / both patches) or
    /// `DRUG_FORM` (`oral_immediate`, `oral_sustained`, `suppository`, `injection`,
    /// `patch_1day`, `patch_3day`, `buccal`, `sublingual`), e.g.
    /// `fentanyl_patch,oxycodone_injection`; or a brand or generic name (オキシコンチン,
    /// フェントステープ, ナルサス, モルヒネ注射液), normalized to its drug and form. List items
    /// then carry `opioid_stock`, one line per product.
    #[param(style = Form, explode = false, example = "fentanyl_patch,oxycodone_injection")]
    opioid: Option<Vec<String>>,
    /// With `opioid`, professionals only: `always` (in stock now), `partner` (in stock, or at
    /// a partner pharmacy of its group that can pass it on under their joint 麻薬小売業者間譲渡
    /// 許可) or `order` (any of these, or obtained on order; the default). Sorted by distance,
    /// the list ranks pharmacies with everything in stock first, then those relying on a
    /// partner, then those that must order; items carry `availability`.
    stock: Option<String>,
    /// `true`: only facilities reachable after hours (nights, holidays): as their survey
    /// answered, else those whose rules keep a 24-hour line (在支診・在支病, 定期巡回).
    after_hours: Option<bool>,
    /// `true`: only facilities whose published weekly hours say they are open now (JST,
    /// national holidays included); facilities with no known hours are left out.
    open_now: Option<bool>,
    /// Facilities counting at least one specialist of any of these roles, comma-separated:
    /// `palliative_physician` (緩和医療専門医), `palliative_certified_physician` (緩和医療認定医),
    /// `palliative_care_nurse` (緩和ケア・がん性疼痛看護認定看護師), `oncology_nurse_specialist`
    /// (がん看護専門看護師), `palliative_pharmacist` (緩和薬物療法認定薬剤師), `home_care_physician`
    /// (在宅医療専門医).
    #[param(style = Form, explode = false)]
    specialist: Option<Vec<String>>,
    /// `relevance` (needs `q`), `distance` (needs a point) or `name` (五十音順).
    sort: Option<String>,
}

/// Extra parameters of the facility list.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListParams {
    /// Counts over the whole result set: `kind`, `service`, `area`, comma-separated.
    #[param(style = Form, explode = false)]
    facets: Option<Vec<String>>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// Opaque: the `next` of the previous page, unchanged.
    cursor: Option<String>,
}

/// Extra parameters of the facility layer.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct LayerParams {
    /// Page size without clustering, 1–5000 (default 500).
    #[param(minimum = 1, maximum = 5000)]
    limit: Option<u32>,
    /// Opaque: the `next` of the previous page, unchanged.
    cursor: Option<String>,
    /// `true`: the whole filtered set as one FeatureCollection, as a download
    /// (`Content-Disposition`), with no `next`; not with `cluster`, `limit` or `cursor`.
    all: Option<bool>,
    /// `1`: cluster features where points would overlap at `zoom`.
    cluster: Option<String>,
    /// Map zoom 0–20; only with `cluster=1`.
    #[param(minimum = 0, maximum = 20)]
    zoom: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/facilities", tag = "facilities",
    params(SearchParams, ListParams),
    responses(
        (status = 200, description = "One page of matching facilities", body = ListBody),
        (status = 400, description = "A parameter is malformed, unknown or out of range", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`opioid` or `stock` without signing in (the parameter is named), or a stale credential", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The cursor is from an earlier version of the data", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The address could not be placed", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn list_facilities(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let p = Params::parse(req.query_string(), &LIST_PARAMS)?;
    let mut search = request::search_request(&p, 100, 20)?;
    let aud = audience(&req, &state).await?;
    search.formulary = request::formulary_filter(&p, aud)?;
    let (catalog, plan, results) = run_search(state.catalog.load(), search).await?;
    let shown: Vec<Facility> = results
        .hits
        .iter()
        .map(|h| project(&catalog.at(h.ord), aud))
        .collect();
    let viewer = state.viewer(aud);
    let items: Vec<FacilityView> = results
        .hits
        .iter()
        .zip(&shown)
        .enumerate()
        .map(|(i, (h, f))| {
            let mut view = FacilityView::new(f, &catalog, &viewer);
            view.distance_m = h.distance_m.map(|d| d.round() as u64);
            view.distance_precision_m = h.distance_m.and(plan.distance_precision_m(f));
            // From the projected facility: only formularies this caller may see.
            if let Some(ff) = &plan.query.formulary {
                let lines = StockLine::all(f, ff, &catalog);
                view.availability = Some(StockLine::availability(&lines));
                view.opioid_stock = Some(lines);
            }
            if results.strict.is_some_and(|n| plan.offset + i >= n) {
                view.match_kind = Some("relaxed");
            }
            view
        })
        .collect();
    json_body(&ListBody {
        total: results.total,
        items,
        next: plan.next_cursor(results.total).map(request::encode_cursor),
        facets: (!results.facets.is_empty()).then_some(&results.facets),
        match_kind: plan.query.text.as_ref().map(|_| match results.relaxed {
            Some(_) => "relaxed",
            None => "strict",
        }),
        dropped: results.relaxed.as_deref(),
    })
}

/// Longest prefix type-ahead answers for, in characters.
const MAX_SUGGEST_CHARS: usize = 20;
/// Facility names offered at most.
const SUGGEST_NAMES: usize = 8;

/// Parameters of the type-ahead.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SuggestParams {
    /// What has been typed so far, 1–20 characters.
    #[param(min_length = 1, max_length = 20, example = "とだ")]
    q: String,
}

#[utoipa::path(get, path = "/api/v1/suggest", tag = "facilities",
    params(SuggestParams),
    responses(
        (status = 200, description = "Up to 8 facility names and the service, kind and municipality words the prefix starts", body = SuggestBody),
        (status = 400, description = "Missing, empty, too long or unknown parameter", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn suggest(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let p = Params::parse(req.query_string(), &["q"])?;
    let q = p.get("q").unwrap_or("");
    let n = q.trim().chars().count();
    if n == 0 || q.chars().count() > MAX_SUGGEST_CHARS {
        return Err(ApiError::bad_parameter(
            "q",
            format!(
                "`q` must be 1–{MAX_SUGGEST_CHARS} characters of what has been typed, e.g. q=とだ."
            ),
        ));
    }
    let catalog = state.catalog.load();
    let s = catalog.suggest(q, SUGGEST_NAMES);
    json_body(&SuggestBody {
        facilities: s
            .facilities
            .iter()
            .map(|&o| {
                let f = catalog.at(o);
                SuggestFacility {
                    id: f.id.clone(),
                    name: f.name.clone(),
                    everyday_name: crate::domain::ja::everyday_name(&f.name),
                    kind: f.kind,
                    municipality: f.address.municipality.clone(),
                }
            })
            .collect(),
        terms: s
            .terms
            .into_iter()
            .map(|t| SuggestTerm {
                text: t.text,
                param: t.param,
                value: t.value,
            })
            .collect(),
    })
}

/// The facility map layer: points, or clusters at a zoom.
///
/// With `cluster=1&zoom=Z` and no filter but `bbox`, or a single `kind` or a single `service`,
/// clusters are formed once per zoom over every located match in the whole directory (greedy,
/// 40 screen pixels, seeds in id order) and the answer holds those whose position (a cluster's
/// mean position) lies in `bbox`: a cluster's count, kinds and `bbox` are the same in every view
/// that shows it, may reach out of the requested box, and do not change while the map pans.
/// Other filters cluster the matches inside `bbox`. `total` is the number of matches in `bbox`
/// (all matches without one).
///
/// Responses that do not depend on the caller or the clock (no `opioid`/`stock`, no
/// `open_now`) carry an `ETag` (the data version, the date and the request) and
/// `Cache-Control: public, no-cache`; send it back as `If-None-Match` for a 304 while the data
/// is unchanged. With `opioid`/`stock` the answer depends on the caller:
/// `Cache-Control: private, no-store` and no ETag.
#[utoipa::path(get, path = "/api/v1/facilities.geojson", tag = "facilities",
    params(SearchParams, LayerParams,
        ("If-None-Match" = Option<String>, Header, description = "The ETag of a copy the client holds")),
    responses(
        (status = 200, description = "A FeatureCollection (RFC 7946) of points or clusters, with `total` and (without clustering) `next`; ETag and Cache-Control as described", body = Object, content_type = "application/geo+json"),
        (status = 304, description = "`If-None-Match` names the current ETag: the client's copy is current (no body)"),
        (status = 400, description = "A parameter is malformed, unknown or out of range", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`opioid` or `stock` without signing in (the parameter is named), or a stale credential", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The cursor is from an earlier version of the data", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The address could not be placed", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn facilities_geojson(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let p = Params::parse(req.query_string(), &GEOJSON_PARAMS)?;
    let zoom = request::clustering(&p)?;
    let all = super::export::whole_layer(&p)?;
    let mut search = request::search_request(&p, 5000, 500)?;
    // The layer shows no professional field: the caller matters only to the formulary filter.
    if request::FORMULARY_PARAMS.iter().any(|n| p.get(n).is_some()) {
        let aud = audience(&req, &state).await?;
        search.formulary = request::formulary_filter(&p, aud)?;
    }
    if zoom.is_some() {
        // Clusters summarize the whole result set: no pages.
        search.limit = usize::MAX;
        search.cursor = None;
    }
    let catalog = state.catalog.load();
    // Without a formulary filter (the only part that depends on the caller) and without
    // `open_now` (the clock), the answer depends on the snapshot and the request alone.
    let etag = (search.formulary.is_none() && search.open_at.is_none())
        .then(|| gj::layer_etag(&catalog, req.query_string()));
    let cache_control = if search.formulary.is_some() {
        "private, no-store"
    } else {
        "public, no-cache"
    };
    if let Some(tag) = &etag
        && request::if_none_match(&req, tag)
    {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag.as_str()))
            .insert_header((header::CACHE_CONTROL, cache_control))
            .finish());
    }
    let mut response = match (zoom, gj::precomputed_filter(&search)) {
        (Some(z), Some(filter)) if !all => {
            layer_view_response(&state, catalog, filter, z, search.bbox).await?
        }
        _ => layer_by_search(catalog, search, zoom, all).await?,
    };
    if let Some(tag) = etag
        && let Ok(v) = header::HeaderValue::from_str(&tag)
    {
        response.headers_mut().insert(header::ETAG, v);
    }
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static(cache_control),
    );
    Ok(response)
}

/// A clustered view from the precomputed levels; a level not built yet is built on the
/// blocking pool.
async fn layer_view_response(
    state: &AppState,
    catalog: Arc<Catalog>,
    filter: crate::catalog::layers::LayerFilter,
    zoom: u8,
    bbox: Option<[f64; 4]>,
) -> Result<HttpResponse, ApiError> {
    let view = match state.layers.cached(&catalog, filter) {
        Some(set) if set.is_built(zoom) => set.view(zoom, bbox),
        _ => {
            let (layers, c) = (state.layers.clone(), catalog.clone());
            web::block(move || layers.get(&c, filter).view(zoom, bbox))
                .await
                .map_err(|e| ApiError::internal(&e))?
        }
    };
    let mut members = geojson::JsonObject::new();
    members.insert("total".into(), json!(view.total));
    Ok(gj::view_response(catalog, view, &members))
}

/// The layer through the search: points or clusters of the hits.
async fn layer_by_search(
    catalog: Arc<Catalog>,
    mut search: crate::catalog::SearchRequest,
    zoom: Option<u8>,
    all: bool,
) -> Result<HttpResponse, ApiError> {
    if all {
        search.limit = catalog.len().max(1);
    }
    let (catalog, plan, results) = run_search(catalog, search).await?;
    let distances: HashMap<u32, (f64, Option<u32>)> = results
        .hits
        .iter()
        .filter_map(|h| {
            let d = h.distance_m?;
            Some((
                h.ord,
                (d, plan.precision_for(catalog.entry(h.ord).placement)),
            ))
        })
        .collect();
    let mut members = geojson::JsonObject::new();
    members.insert("total".into(), json!(results.total));
    if let Some(dropped) = &results.relaxed {
        members.insert("match".into(), json!("relaxed"));
        members.insert("dropped".into(), json!(dropped));
    }
    if zoom.is_none() && !all {
        let next = plan.next_cursor(results.total).map(request::encode_cursor);
        members.insert("next".into(), json!(next));
    }
    let items = gj::layer_items(&catalog, &results.hits, zoom);
    let mut response = Layer {
        catalog,
        items,
        distances,
        members,
    }
    .into_response();
    if all {
        super::export::attach(&mut response, "geojson");
    }
    Ok(response)
}

fn unknown_id(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "No facility with id `{id}`. Ids look like navii-1111010000010, kaigo-1160190385 or hic-1110101337."
    ))
}

fn geojson_body<T: serde::Serialize>(body: &T) -> Result<HttpResponse, ApiError> {
    let text = serde_json::to_string(body).map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::Ok().content_type(gj::CONTENT_TYPE).body(text))
}

#[utoipa::path(get, path = "/api/v1/facilities/{id}.geojson", tag = "facilities",
    params(("id" = String, Path, description = "Facility id, e.g. navii-1111010000010")),
    responses(
        (status = 200, description = "One facility as a Feature (null geometry when unplaced)", body = Object, content_type = "application/geo+json"),
        (status = 400, description = "Unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No facility with this id", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn facility_geojson(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let id = path.into_inner();
    let catalog = state.catalog.load();
    let ord = catalog.ord_of(&id).ok_or_else(|| unknown_id(&id))?;
    geojson_body(&gj::facility_feature(&catalog, ord))
}

#[utoipa::path(get, path = "/api/v1/areas.geojson", tag = "areas",
    responses(
        (status = 200, description = "二次医療圏 outlines (MultiPolygon) with code, name, prefecture, population", body = Object, content_type = "application/geo+json"),
        (status = 400, description = "Unknown parameter", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn areas_geojson(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    geojson_body(&gj::areas(state.catalog.load().areas()))
}

#[utoipa::path(get, path = "/api/v1/municipalities.geojson", tag = "areas",
    responses(
        (status = 200, description = "市区町村 outlines of the region with code, name, area_code", body = Object, content_type = "application/geo+json"),
        (status = 400, description = "Unknown parameter", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn municipalities_geojson(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    geojson_body(&gj::municipalities(state.catalog.load().municipalities()))
}

#[utoipa::path(get, path = "/api/v1/facilities/{id}", tag = "facilities",
    params(("id" = String, Path, description = "Facility id, e.g. navii-1111010000010")),
    responses(
        (status = 200, description = "One facility, as this caller may see it", body = FacilityView),
        (status = 400, description = "Unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No facility with this id", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn get_facility(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let id = path.into_inner();
    let aud = audience(&req, &state).await?;
    let catalog = state.catalog.load();
    let f = catalog.get(&id).ok_or_else(|| unknown_id(&id))?;
    let shown = project(&f, aud);
    let text = serde_json::to_string(&FacilityView::new(&shown, &catalog, &state.viewer(aud)))
        .map_err(|e| ApiError::internal(&e))?;
    let mut r = HttpResponse::Ok();
    r.content_type("application/json")
        .insert_header((actix_web::http::header::ETAG, super::write::etag(&f)));
    if aud != Audience::Public {
        // A signed-in view must not be kept by shared caches.
        r.insert_header(("cache-control", "private, no-store"));
    }
    Ok(r.body(text))
}

#[utoipa::path(get, path = "/api/v1/areas", tag = "areas",
    responses(
        (status = 200, description = "二次医療圏 with population, counts per kind and service, municipalities", body = AreasBody),
        (status = 400, description = "Unknown parameter", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn list_areas(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let catalog = state.catalog.load();
    let counts = catalog.area_counts();
    let items: Vec<AreaItem> = catalog
        .areas()
        .iter()
        .map(|a| {
            let c = counts.get(&a.code).cloned().unwrap_or_default();
            AreaItem {
                code: a.code.clone(),
                name: a.name.clone(),
                prefecture: a.prefecture.clone(),
                pref_code: a.pref_code.clone(),
                population: a.population,
                facilities: c.facilities,
                kinds: FacilityKind::ALL
                    .iter()
                    .map(|k| (k.code(), *c.kinds.get(k).unwrap_or(&0)))
                    .collect(),
                services: ServiceKind::ALL
                    .iter()
                    .map(|k| (k.code(), *c.services.get(k).unwrap_or(&0)))
                    .collect(),
                municipalities: catalog
                    .municipalities()
                    .filter(|m| m.area_code == a.code)
                    .map(|m| MunicipalityRef {
                        code: m.code.clone(),
                        name: m.name.clone(),
                    })
                    .collect(),
            }
        })
        .collect();
    json_body(&AreasBody {
        total: items.len(),
        items,
    })
}

#[utoipa::path(get, path = "/api/v1/vocabulary", tag = "service",
    responses(
        (status = 200, description = "Kinds and services with Japanese and English labels", body = VocabularyBody),
        (status = 400, description = "Unknown parameter", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn vocabulary(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    json_body(&VocabularyBody {
        kinds: FacilityKind::ALL
            .iter()
            .map(|k| KindItem {
                code: k.code(),
                label: Label {
                    ja: k.label_ja(),
                    en: k.label_en(),
                },
            })
            .collect(),
        services: ServiceKind::ALL
            .iter()
            .map(|k| ServiceItem {
                code: k.code(),
                label: Label {
                    ja: k.label_ja(),
                    en: k.label_en(),
                },
                home_visit: k.visits_homes(),
            })
            .collect(),
        opioids: opioid_vocabulary(),
    })
}

fn opioid_vocabulary() -> crate::http::dto::OpioidVocabulary {
    use crate::domain::{Product, Scope, formulary};
    let item = |p: Product| crate::http::dto::ProductItem {
        code: p.code(),
        drug: p.drug.code(),
        form: match p.scope {
            Scope::Form(f) => Some(f.code()),
            _ => None,
        },
        label_ja: p.label_ja(),
        label_en: p.label_en(),
    };
    crate::http::dto::OpioidVocabulary {
        products: Product::codes()
            .iter()
            .filter_map(|c| Product::from_code(c))
            .map(item)
            .collect(),
        names: formulary::names()
            .map(|(name, p)| crate::http::dto::NameItem {
                name,
                product: p.code(),
            })
            .collect(),
    }
}

/// Parameters of the geocoder.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct GeocodeParams {
    /// A postal address (a leading 〒 code is ignored), ≤ 200 characters.
    #[param(
        min_length = 1,
        max_length = 200,
        example = "さいたま市浦和区北浦和4-9-3"
    )]
    address: String,
}

#[utoipa::path(get, path = "/api/v1/geocode", tag = "service",
    params(GeocodeParams),
    responses(
        (status = 200, description = "The address placed at town or municipality level", body = GeocodeBody),
        (status = 400, description = "Missing, too long or unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The address could not be placed (or was only a postal code)", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
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
    if address.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_parameter(
            "address",
            format!(
                "`address` is longer than {MAX_QUERY_CHARS} characters; give the postal address only."
            ),
        ));
    }
    let catalog = state.catalog.load();
    let m = catalog
        .geocoder()
        .geocode(address)
        .map_err(|miss| address_miss(&miss))?;
    json_body(&GeocodeBody {
        lat: m.lat,
        lng: m.lng,
        level: m.level.code(),
        precision_m: m.level.uncertainty_m(),
        normalized: m.normalized,
        municipality_code: m.municipality_code,
        municipality: m.municipality,
        town: m.town,
        area_code: m.area_code,
    })
}

#[utoipa::path(get, path = "/api/v1/config", tag = "service",
    responses(
        (status = 200, description = "Tile URL and attribution for the front end, and the geocoder's coverage", body = ConfigBody),
        (status = 400, description = "Unknown parameter", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn web_config(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let coverage = state.catalog.load().geocoder().coverage();
    json_body(&ConfigBody {
        tile_url: state.web.tile_url.clone(),
        tile_attribution: state.web.tile_attribution.clone(),
        geocoder: CoverageBody {
            prefectures: coverage.prefectures,
            municipalities: coverage.municipalities,
            towns: coverage.towns,
        },
    })
}

#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "service",
    responses((status = 200, description = "This document (OpenAPI 3.1)", body = Object)))]
pub async fn openapi(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    json_body(&super::openapi::document(&state.catalog.load()))
}

#[utoipa::path(get, path = "/readyz", tag = "service",
    responses(
        (status = 200, description = "Ready: the catalog is loaded and the database answers", body = Health),
        (status = 503, description = "Not ready: the database cannot be reached (reads from the catalog still work)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    web::block(move || store.latest_change())
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::unavailable(&e))?;
    let catalog = state.catalog.load();
    json_body(&Health {
        status: "ready",
        facilities: catalog.len(),
        change_seq: catalog.change_seq(),
    })
}

pub async fn no_front_end() -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .content_type("text/plain; charset=utf-8")
        .body("地図画面がビルドされていません。README の起動コマンドで起動してください。\nThe map front end is not built (web/dist is missing); start pallimap with the README's run command. The API is at /api/v1.")
}
