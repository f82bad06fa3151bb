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
use std::sync::Arc;

use crate::catalog::{Catalog, Facet, Query, Results, Sort};
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

fn encode_cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

fn decode_cursor(cursor: &str) -> Result<usize, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("o:").and_then(|n| n.parse::<usize>().ok()))
        .filter(|n| *n <= 1_000_000)
        .ok_or_else(|| {
            ApiError::bad_parameter(
                "cursor",
                "`cursor` is not one this server issued; pass the `next` value of the previous page unchanged.",
            )
        })
}

const LIST_PARAMS: &[&str] = &[
    "kind",
    "service",
    "area",
    "municipality",
    "q",
    "near",
    "address",
    "radius_km",
    "bbox",
    "reaches",
    "sort",
    "facets",
    "limit",
    "cursor",
];
const GEOJSON_PARAMS: &[&str] = &[
    "kind",
    "service",
    "area",
    "municipality",
    "q",
    "near",
    "address",
    "radius_km",
    "bbox",
    "reaches",
    "sort",
    "limit",
    "cursor",
    "cluster",
    "zoom",
];
const MAX_QUERY_CHARS: usize = 200;
const MAX_BBOX_SPAN_DEG: f64 = 30.0;

fn floats(p: &Params, name: &str, n: usize, example: &str) -> Result<Option<Vec<f64>>, ApiError> {
    let Some(raw) = p.get(name) else {
        return Ok(None);
    };
    let values: Option<Vec<f64>> = raw
        .split(',')
        .map(|v| v.trim().parse::<f64>().ok().filter(|f| f.is_finite()))
        .collect();
    match values {
        Some(v) if v.len() == n => Ok(Some(v)),
        _ => Err(ApiError::bad_parameter(
            name,
            format!(
                "`{name}` must be {n} comma-separated decimal numbers, e.g. {name}={example}; got `{raw}`."
            ),
        )),
    }
}

fn point(p: &Params, name: &str) -> Result<Option<(f64, f64)>, ApiError> {
    let Some(v) = floats(p, name, 2, "35.8617,139.6455")? else {
        return Ok(None);
    };
    let (lat, lng) = (v[0], v[1]);
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lng) {
        return Err(ApiError::bad_parameter(
            name,
            format!(
                "`{name}` is lat,lng: lat must be within -90..90 and lng within -180..180; got {lat},{lng}."
            ),
        ));
    }
    Ok(Some((lat, lng)))
}

/// Parse and validate a list or GeoJSON query. Returns the query, the offset and the limit.
fn parse_query(
    p: &Params,
    catalog: &Catalog,
    max_limit: usize,
    default_limit: usize,
) -> Result<(Query, usize, usize), ApiError> {
    let area_codes = || {
        catalog
            .areas()
            .iter()
            .map(|a| format!("{} ({})", a.code, a.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut q = Query {
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
        ..Query::default()
    };
    if let Some(text) = p.get("q") {
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(ApiError::bad_parameter(
                "q",
                format!("`q` is longer than {MAX_QUERY_CHARS} characters; shorten it."),
            ));
        }
        q.text = Some(text.to_string());
    }
    q.point = point(p, "near")?;
    if let Some(address) = p.get("address") {
        if q.point.is_some() {
            return Err(ApiError::bad_parameter(
                "address",
                "Give either `near` or `address`, not both.",
            ));
        }
        q.point = Some(geocode_point(catalog, address)?);
    }
    q.reaches = point(p, "reaches")?;
    if let Some(v) = floats(p, "radius_km", 1, "5")? {
        let r = v[0];
        if !(r > 0.0 && r <= 100.0) {
            return Err(ApiError::bad_parameter(
                "radius_km",
                format!("`radius_km` must be greater than 0 and at most 100; got {r}."),
            ));
        }
        if q.point.is_none() {
            return Err(ApiError::bad_parameter(
                "radius_km",
                "`radius_km` needs a centre: add `near=lat,lng` or `address=…`.",
            ));
        }
        q.radius_m = Some(r * 1000.0);
    }
    if let Some(b) = floats(p, "bbox", 4, "139.5,35.8,139.8,36.0")? {
        let [min_lng, min_lat, max_lng, max_lat] = [b[0], b[1], b[2], b[3]];
        let in_range = [min_lng, max_lng]
            .iter()
            .all(|x| (-180.0..=180.0).contains(x))
            && [min_lat, max_lat]
                .iter()
                .all(|y| (-90.0..=90.0).contains(y));
        if !in_range || min_lng >= max_lng || min_lat >= max_lat {
            return Err(ApiError::bad_parameter(
                "bbox",
                format!(
                    "`bbox` is minLng,minLat,maxLng,maxLat with min < max, lng within -180..180 and lat within -90..90; got {min_lng},{min_lat},{max_lng},{max_lat}."
                ),
            ));
        }
        if max_lng - min_lng > MAX_BBOX_SPAN_DEG || max_lat - min_lat > MAX_BBOX_SPAN_DEG {
            return Err(ApiError::bad_parameter(
                "bbox",
                format!(
                    "`bbox` may span at most {MAX_BBOX_SPAN_DEG} degrees each way; zoom in or drop `bbox`."
                ),
            ));
        }
        q.bbox = Some([min_lng, min_lat, max_lng, max_lat]);
    }
    if q.point.is_none() {
        q.point = q.reaches;
    }
    if let Some(raw) = p.get("sort") {
        let sort = Sort::from_code(raw).ok_or_else(|| {
            ApiError::bad_parameter(
                "sort",
                format!(
                    "Unknown value `{raw}` for `sort`. Valid values: {}.",
                    Sort::CODES
                ),
            )
        })?;
        if sort == Sort::Relevance && q.text.is_none() {
            return Err(ApiError::bad_parameter(
                "sort",
                "`sort=relevance` needs a text query `q`.",
            ));
        }
        if sort == Sort::Distance && q.point.is_none() {
            return Err(ApiError::bad_parameter(
                "sort",
                "`sort=distance` needs a point: add `near=lat,lng`, `address=…` or `reaches=lat,lng`.",
            ));
        }
        q.sort = Some(sort);
    }
    q.facets = p.list("facets", Facet::from_code, || Facet::CODES.to_string())?;
    let limit = p.int_in("limit", 1, max_limit, default_limit)?;
    let offset = p.get("cursor").map(decode_cursor).transpose()?.unwrap_or(0);
    Ok((q, offset, limit))
}

fn geocode_point(catalog: &Catalog, address: &str) -> Result<(f64, f64), ApiError> {
    if address.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_parameter(
            "address",
            format!(
                "`address` is longer than {MAX_QUERY_CHARS} characters; give the postal address only."
            ),
        ));
    }
    catalog
        .gazetteer()
        .geocode(address)
        .map(|m| (m.lat, m.lng))
        .map_err(|miss| address_miss(&miss))
}

fn address_miss(miss: &crate::geocode::GeocodeMiss) -> ApiError {
    ApiError::unprocessable(
        "address_not_found",
        format!(
            "住所を特定できませんでした。市区町村名と町名を確認してください / The address could not be placed: `{}`. Check the municipality (市区町村) and town (町名), e.g. さいたま市浦和区北浦和4-9-3.",
            miss.normalized
        ),
    )
    .with("normalized", json!(miss.normalized))
    .with("matched", json!({"prefecture": miss.prefecture}))
}

/// Run a search off the async workers: a big text query must not stall other requests.
async fn run_search(
    catalog: Arc<Catalog>,
    q: Query,
    offset: usize,
    limit: usize,
) -> Result<(Arc<Catalog>, Results), ApiError> {
    // Without text the work is microseconds of index lookups: a thread hop would cost more.
    if q.text.is_none() && q.bbox.is_none() {
        let r = catalog
            .search(&q, offset, limit)
            .map_err(|e| ApiError::internal(&e))?;
        return Ok((catalog, r));
    }
    web::block(move || {
        let r = catalog.search(&q, offset, limit);
        r.map(|r| (catalog, r))
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|e| ApiError::internal(&e))
}

#[instrument(skip_all, err)]
pub async fn list_facilities(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let p = Params::parse(req.query_string(), LIST_PARAMS)?;
    let catalog = state.catalog.load();
    let (q, offset, limit) = parse_query(&p, &catalog, 100, 20)?;
    let (catalog, results) = run_search(catalog, q, offset, limit).await?;
    let aud = audience(&req);
    let items: Vec<FacilityView> = results
        .hits
        .iter()
        .map(|h| {
            let mut view = FacilityView::new(catalog.at(h.ord), &catalog, aud);
            view.distance_m = h.distance_m.map(|d| d.round() as u64);
            view
        })
        .collect();
    let next = (offset + results.hits.len() < results.total).then(|| encode_cursor(offset + limit));
    let body = ListBody {
        total: results.total,
        items,
        next,
        facets: (!results.facets.is_empty()).then_some(&results.facets),
    };
    let text = serde_json::to_string(&body).map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(text))
}

#[derive(serde::Serialize)]
struct ListBody<'a> {
    total: usize,
    items: Vec<FacilityView<'a>>,
    next: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    facets: Option<
        &'a std::collections::BTreeMap<&'static str, std::collections::BTreeMap<String, usize>>,
    >,
}

fn geojson_response(body: Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/geo+json")
        .body(body.to_string())
}

#[instrument(skip_all, err)]
pub async fn facilities_geojson(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let p = Params::parse(req.query_string(), GEOJSON_PARAMS)?;
    let catalog = state.catalog.load();
    let clustered = match p.get("cluster") {
        None | Some("0") => false,
        Some("1") => true,
        Some(other) => {
            return Err(ApiError::bad_parameter(
                "cluster",
                format!("`cluster` is 0 or 1; got `{other}`."),
            ));
        }
    };
    let zoom = p
        .get("zoom")
        .map(|_| p.int_in("zoom", 0, 20, 0))
        .transpose()?;
    if clustered && zoom.is_none() {
        return Err(ApiError::bad_parameter(
            "zoom",
            "`cluster=1` needs the map zoom, `zoom=0`…`20`.",
        ));
    }
    let (q, offset, limit) = parse_query(&p, &catalog, 5000, 500)?;
    let (offset, limit) = if clustered {
        (0, usize::MAX)
    } else {
        (offset, limit)
    };
    let (catalog, results) = run_search(catalog, q, offset, limit).await?;
    let zoom = zoom.filter(|_| clustered).map(|z| z as u8);
    let mut body = super::geo::facilities_collection(&catalog, &results.hits, zoom);
    body["total"] = json!(results.total);
    if !clustered {
        let next =
            (offset + results.hits.len() < results.total).then(|| encode_cursor(offset + limit));
        body["next"] = json!(next);
    }
    Ok(geojson_response(body))
}

#[instrument(skip_all, err)]
pub async fn facility_geojson(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let id = path.into_inner();
    let catalog = state.catalog.load();
    let ord = catalog.ord_of(&id).ok_or_else(|| unknown_id(&id))?;
    let f = catalog.at(ord);
    let geometry = match f.location {
        Some(l) => json!({"type": "Point", "coordinates": [round6(l.lng), round6(l.lat)]}),
        None => Value::Null,
    };
    Ok(geojson_response(json!({
        "type": "Feature",
        "id": f.id,
        "geometry": geometry,
        "properties": super::geo::point_properties(&catalog, ord, None),
    })))
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn unknown_id(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "No facility with id `{id}`. Ids look like navii-1111010000010, kaigo-1160190385 or hic-1110101337."
    ))
}

fn outline_collection(features: Vec<Value>) -> HttpResponse {
    geojson_response(json!({"type": "FeatureCollection", "features": features}))
}

pub async fn areas_geojson(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let catalog = state.catalog.load();
    let features = catalog
        .areas()
        .iter()
        .map(|a| {
            json!({
                "type": "Feature",
                "id": a.code,
                "geometry": a.geometry,
                "properties": {"code": a.code, "name": a.name, "prefecture": a.prefecture, "population": a.population},
            })
        })
        .collect();
    Ok(outline_collection(features))
}

pub async fn municipalities_geojson(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let catalog = state.catalog.load();
    let features = catalog
        .municipalities()
        .iter()
        .map(|m| {
            json!({
                "type": "Feature",
                "id": m.code,
                "geometry": m.geometry,
                "properties": {"code": m.code, "name": m.name, "area_code": m.area_code},
            })
        })
        .collect();
    Ok(outline_collection(features))
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
    let f = catalog.get(&id).ok_or_else(|| unknown_id(&id))?;
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
        Err(miss) => Err(address_miss(&miss)),
    }
}

pub async fn web_config(state: web::Data<AppState>) -> HttpResponse {
    json(json!({
        "tile_url": state.web.tile_url,
        "tile_attribution": state.web.tile_attribution,
    }))
}

pub async fn no_front_end() -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .content_type("text/plain; charset=utf-8")
        .body("地図画面がビルドされていません。README の起動コマンドで起動してください。\nThe map front end is not built (web/dist is missing); start pallimap with the README's run command. The API is at /api/v1.")
}
