//! The coverage report's routes (the gap per 二次医療圏): one area or every area, as JSON or as
//! CSV (UTF-8 with BOM, so Excel opens it). Public: it counts only active services, which are
//! public facts. The computation is `catalog::coverage`'s; this module parses and renders.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use tracing::instrument;
use utoipa::ToSchema;

use super::AppState;
use super::error::{ApiError, Problem};
use super::params::Params;
use crate::catalog::coverage::{self, AreaCoverage, CoverageError, DEFAULT_KM, MAX_KM, MIN_KM};
use crate::domain::ServiceKind;

const PARAMS: &[&str] = &["service", "km", "format"];

/// One service in one area.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceCoverageItem {
    /// Service code.
    pub service: &'static str,
    pub label_ja: &'static str,
    pub label_en: &'static str,
    /// Whether the service is delivered at home (then `population_outside` is given).
    pub home_visit: bool,
    /// Active providers whose facility is in the area.
    pub providers: usize,
    /// Providers per 100,000 population (null without census population).
    pub per_100k: Option<f64>,
    /// The area's 2020 census population (sum over its 町丁・字).
    pub population: u64,
    /// Population living farther than `km` from the nearest active provider (any area).
    pub population_farther: u64,
    pub share_farther: Option<f64>,
    /// Home-visit services: population outside every provider's service area (published
    /// radius, else 16 km).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub population_outside: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_outside: Option<f64>,
    /// 町丁・字 of the area with no census population (not weighed).
    pub towns_without_population: usize,
}

/// Every asked service in one area.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaCoverageBody {
    /// Area (二次医療圏) code.
    pub area: String,
    pub name: String,
    /// The distance asked, km.
    pub km: f64,
    pub population: u64,
    /// Census small areas (町丁・字) in the area.
    pub small_areas: usize,
    pub towns_without_population: usize,
    pub services: Vec<ServiceCoverageItem>,
}

/// Every area.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageOverview {
    pub km: f64,
    pub total: usize,
    pub items: Vec<AreaCoverageBody>,
    /// The credit line of the census weights.
    pub source: &'static str,
}

const SOURCE: &str = "出典：政府統計の総合窓口(e-Stat)（令和2年国勢調査 小地域）を加工して作成";

/// What a coverage request asks.
struct Ask {
    services: Vec<ServiceKind>,
    km: f64,
    csv: bool,
}

fn ask(req: &HttpRequest) -> Result<Ask, ApiError> {
    let p = Params::parse(req.query_string(), PARAMS)?;
    let mut services = p.list("service", ServiceKind::from_code, ServiceKind::codes)?;
    if services.is_empty() {
        services = ServiceKind::ALL.to_vec();
    }
    let mut seen = Vec::new();
    services.retain(|s| {
        let new = !seen.contains(s);
        seen.push(*s);
        new
    });
    let km = match p.get("km") {
        None if p.is_blank("km") => {
            return Err(ApiError::bad_parameter(
                "km",
                format!(
                    "`km` is empty: give a distance from {MIN_KM} to {MAX_KM} km, or leave it out (default {DEFAULT_KM})."
                ),
            ));
        }
        None => DEFAULT_KM,
        Some(raw) => raw
            .parse::<f64>()
            .ok()
            .filter(|k| k.is_finite() && (MIN_KM..=MAX_KM).contains(k))
            .ok_or_else(|| {
                ApiError::bad_parameter(
                    "km",
                    format!("`km` must be a distance from {MIN_KM} to {MAX_KM} km; got `{raw}`."),
                )
            })?,
    };
    let csv = match p.get("format") {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::bad_parameter(
                "format",
                format!("`format` is json or csv; got `{other}`."),
            ));
        }
    };
    Ok(Ask { services, km, csv })
}

fn coverage_error(e: CoverageError) -> ApiError {
    match e {
        CoverageError::UnknownArea(code) => ApiError::not_found(format!(
            "No area (二次医療圏) with code `{code}`. The areas are listed at /api/v1/areas."
        )),
        e @ CoverageError::Distance(_) => ApiError::bad_parameter("km", e.to_string()),
    }
}

fn body(a: AreaCoverage, km: f64) -> AreaCoverageBody {
    AreaCoverageBody {
        area: a.code,
        name: a.name,
        km,
        population: a.population,
        small_areas: a.small_areas,
        towns_without_population: a.towns_without_population,
        services: a
            .services
            .into_iter()
            .map(|s| ServiceCoverageItem {
                service: s.service.code(),
                label_ja: s.service.label_ja(),
                label_en: s.service.label_en(),
                home_visit: s.service.visits_homes(),
                providers: s.providers,
                per_100k: s.per_100k,
                population: s.population,
                population_farther: s.population_farther,
                share_farther: s.share_farther,
                population_outside: s.population_outside,
                share_outside: s.share_outside,
                towns_without_population: s.towns_without_population,
            })
            .collect(),
    }
}

/// CSV columns, one row per area × service.
const CSV_HEADER: &[&str] = &[
    "area",
    "area_name",
    "service",
    "service_name",
    "km",
    "providers",
    "per_100k",
    "population",
    "population_farther",
    "share_farther",
    "population_outside",
    "share_outside",
    "towns_without_population",
];

fn csv_response(items: &[AreaCoverageBody], file: &str) -> Result<HttpResponse, ApiError> {
    let opt = |v: Option<String>| v.unwrap_or_default();
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(CSV_HEADER)
        .map_err(|e| ApiError::internal(&e))?;
    for a in items {
        for s in &a.services {
            w.write_record([
                a.area.clone(),
                a.name.clone(),
                s.service.to_string(),
                s.label_ja.to_string(),
                a.km.to_string(),
                s.providers.to_string(),
                opt(s.per_100k.map(|v| format!("{v:.2}"))),
                s.population.to_string(),
                s.population_farther.to_string(),
                opt(s.share_farther.map(|v| format!("{v:.4}"))),
                opt(s.population_outside.map(|v| v.to_string())),
                opt(s.share_outside.map(|v| format!("{v:.4}"))),
                s.towns_without_population.to_string(),
            ])
            .map_err(|e| ApiError::internal(&e))?;
        }
    }
    let bytes = w.into_inner().map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"{file}\""),
        ))
        .body(bytes))
}

fn json_response<T: Serialize>(body: &T) -> Result<HttpResponse, ApiError> {
    let text = serde_json::to_string(body).map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(text))
}

#[utoipa::path(get, path = "/api/v1/areas/{code}/coverage", tag = "areas",
    params(
        ("code" = String, Path, description = "Area (二次医療圏) code, e.g. 1104"),
        ("service" = Option<Vec<String>>, Query, style = Form, explode = false, description = "Service codes, comma-separated (default: every service)"),
        ("km" = Option<f64>, Query, description = "Distance in km, 0.5–100, default 10"),
        ("format" = Option<String>, Query, description = "json (default) or csv (UTF-8 with BOM)"),
    ),
    responses(
        (status = 200, description = "Per service: providers in the area, per 100,000 population, and the census population farther than km from the nearest active provider (home-visit services: outside every provider's service area)", body = AreaCoverageBody),
        (status = 400, description = "Unknown service, km out of range, unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such area", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn area_coverage(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let ask = ask(&req)?;
    let code = path.into_inner();
    let catalog = state.catalog.load();
    let (services, km) = (ask.services.clone(), ask.km);
    let a = web::block(move || coverage::area(&catalog, &code, &services, km))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(coverage_error)?;
    let b = body(a, ask.km);
    if ask.csv {
        let file = format!("coverage-{}.csv", b.area);
        return csv_response(std::slice::from_ref(&b), &file);
    }
    json_response(&b)
}

#[utoipa::path(get, path = "/api/v1/coverage", tag = "areas",
    params(
        ("service" = Option<Vec<String>>, Query, style = Form, explode = false, description = "Service codes, comma-separated (default: every service)"),
        ("km" = Option<f64>, Query, description = "Distance in km, 0.5–100, default 10"),
        ("format" = Option<String>, Query, description = "json (default) or csv (UTF-8 with BOM)"),
    ),
    responses(
        (status = 200, description = "The coverage of every area (二次医療圏)", body = CoverageOverview),
        (status = 400, description = "Unknown service, km out of range, unknown parameter", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn overview(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let ask = ask(&req)?;
    let catalog = state.catalog.load();
    let (services, km) = (ask.services.clone(), ask.km);
    let all = web::block(move || coverage::all(&catalog, &services, km))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(coverage_error)?;
    let items: Vec<AreaCoverageBody> = all.into_iter().map(|a| body(a, ask.km)).collect();
    if ask.csv {
        return csv_response(&items, "coverage.csv");
    }
    json_response(&CoverageOverview {
        km: ask.km,
        total: items.len(),
        items,
        source: SOURCE,
    })
}
