//! Tonight's bed over HTTP: bed status and admission rules of a facility's admitting services
//! (written by the facility's editor, the area's coordinator or an admin, with the same
//! If-Match, audit and change-log rules as every edit), the bed-status history, and the home
//! physician's search `GET /api/v1/backup` (signed-in callers only) with its GeoJSON twin.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use tracing::instrument;
use utoipa::ToSchema;

use super::AppState;
use super::auth;
use super::dto::{AddressView, CapacityView, Label, LocationView, Viewer};
use super::error::{ApiError, Problem};
use super::params::Params;
use super::session::blocking;
use super::write::{
    EditStart, bad, edit_start, opt_text, phone, run_edit, service_kind, text, written,
};
use crate::catalog::{BackupHit, SearchRequest, Sort};
use crate::domain::admission::{Eligibility, RequestRoute, RouteKind, Transport};
use crate::domain::schedule::{self, Period};
use crate::domain::{
    AdmissionRules, CAPACITY_SERVICES, Capacity, CapacityStatus, ContactKind, Facility,
    ServiceKind, ServiceStatus, Visibility, project, takes_admissions,
};

/// A bed-status report.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityInput {
    /// accepting (受入可), limited (要相談), not_accepting (受入不可) or unknown (不明).
    #[schema(example = "accepting")]
    pub status: String,
    /// Free beds now, 0–2000.
    pub free_beds: Option<u32>,
    /// Typical waiting time in days (PCU), 0–365.
    pub waiting_days: Option<u32>,
    /// A short note, up to 200 characters.
    pub note: Option<String>,
    /// public or professional (default professional).
    pub visibility: Option<String>,
}

/// The bed status `input` reports, by `actor` at `at` (`via` an update link or not).
pub(super) fn capacity_of(
    input: &CapacityInput,
    actor: &str,
    at: &str,
    via: Option<&str>,
) -> Result<Capacity, ApiError> {
    let status: CapacityStatus =
        super::write::code("status", &input.status, CapacityStatus::CODES)?;
    if input.free_beds.is_some_and(|n| n > 2000) {
        return Err(bad("free_beds", "`free_beds` is 0–2000."));
    }
    if input.waiting_days.is_some_and(|n| n > 365) {
        return Err(bad("waiting_days", "`waiting_days` is 0–365."));
    }
    let visibility = visibility(input.visibility.as_deref(), "visibility")?;
    Ok(Capacity {
        status,
        free_beds: input.free_beds,
        waiting_days: input.waiting_days,
        note: opt_text("note", &input.note, 200)?,
        updated_by: actor.to_string(),
        updated_at: at.to_string(),
        via: via.map(str::to_string),
        sample: false,
        visibility,
    })
}

fn visibility(v: Option<&str>, field: &str) -> Result<Visibility, ApiError> {
    match v {
        None => Ok(Visibility::Professional),
        Some(v) => super::write::code(field, v, "public, professional, internal"),
    }
}

/// A request route as written.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteInput {
    /// phone, fax, ict (a regional network, named in `value`) or web (a form's URL).
    #[schema(value_type = String, example = "fax")]
    pub kind: RouteKind,
    /// The number (phone, fax), the network's name (ict) or the URL (web).
    pub value: String,
    /// To whom, e.g. 地域連携室, 夜間当直.
    pub label: Option<String>,
    /// When this route takes requests, if not the rules' `hours`.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub hours: Vec<Period>,
}

/// Admission rules as written. Periods are `{days: [mon…sun, holiday], from: "HH:MM", to:
/// "HH:MM"}` in JST; `to` at or before `from` runs past midnight; on a national holiday only
/// periods listing `holiday` apply.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulesInput {
    #[serde(default)]
    pub routes: Vec<RouteInput>,
    /// When requests are taken (for routes without hours of their own).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub hours: Vec<Period>,
    /// Referral documents needed, e.g. 紹介状, 診療情報提供書.
    #[serde(default)]
    pub documents: Vec<String>,
    /// hospital (the hospital fetches), family, ambulance.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub transport: Vec<Transport>,
    /// Longest stay, in days (1–365).
    pub max_stay_days: Option<u32>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub eligibility: EligibilityInput,
    /// What happens when full, e.g. 連携病院へ紹介.
    pub when_full: Option<String>,
    /// The information-sharing tool used with home-care teams (a named ICT network).
    pub info_sharing_tool: Option<String>,
    /// YYYY-MM-DD.
    pub last_reviewed: Option<String>,
    pub notes: Option<String>,
    /// public, professional (default) or internal.
    pub visibility: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EligibilityInput {
    #[serde(default)]
    pub cancer_only: bool,
    /// Only patients registered beforehand by their home physician (事前登録).
    #[serde(default)]
    pub registered_in_advance: bool,
    pub registration_note: Option<String>,
    pub min_age: Option<u32>,
    pub note: Option<String>,
}

fn periods(field: &str, list: &[Period]) -> Result<Vec<Period>, ApiError> {
    if list.len() > 20 {
        return Err(bad(field, format!("`{field}` lists at most 20 periods.")));
    }
    for (i, p) in list.iter().enumerate() {
        if let Some(problem) = p.problem() {
            return Err(bad(&format!("{field}[{i}]"), problem));
        }
    }
    Ok(list.to_vec())
}

/// The rules `input` states, validated field by field.
pub(super) fn rules_of(input: &RulesInput) -> Result<AdmissionRules, ApiError> {
    if input.routes.len() > 10 {
        return Err(bad("routes", "At most 10 request routes."));
    }
    let mut routes = Vec::with_capacity(input.routes.len());
    for (i, r) in input.routes.iter().enumerate() {
        let field = format!("routes[{i}].value");
        let value = match r.kind {
            RouteKind::Phone | RouteKind::Fax if r.value.trim().is_empty() => {
                return Err(bad(
                    &field,
                    format!(
                        "A {} route needs its number, e.g. 048-123-4567.",
                        r.kind.label_ja()
                    ),
                ));
            }
            RouteKind::Phone | RouteKind::Fax => phone(&field, &r.value)?,
            RouteKind::Web => {
                let v = text(&field, &r.value, 500)?;
                if !(v.starts_with("https://") || v.starts_with("http://")) {
                    return Err(bad(&field, "A web route is a URL starting with https://."));
                }
                v
            }
            RouteKind::Ict => text(&field, &r.value, 100)?,
        };
        routes.push(RequestRoute {
            kind: r.kind,
            value,
            label: opt_text(&format!("routes[{i}].label"), &r.label, 50)?,
            hours: periods(&format!("routes[{i}].hours"), &r.hours)?,
        });
    }
    if input.documents.len() > 10 {
        return Err(bad("documents", "At most 10 documents."));
    }
    let documents = input
        .documents
        .iter()
        .enumerate()
        .map(|(i, d)| text(&format!("documents[{i}]"), d, 100))
        .collect::<Result<Vec<_>, _>>()?;
    let mut transport = input.transport.clone();
    transport.dedup();
    if input.max_stay_days.is_some_and(|d| !(1..=365).contains(&d)) {
        return Err(bad("max_stay_days", "`max_stay_days` is 1–365."));
    }
    let e = &input.eligibility;
    if e.min_age.is_some_and(|a| a > 120) {
        return Err(bad("eligibility.min_age", "`min_age` is 0–120."));
    }
    if let Some(d) = &input.last_reviewed
        && time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).is_err()
    {
        return Err(bad(
            "last_reviewed",
            format!("`last_reviewed` is a date YYYY-MM-DD; got `{d}`."),
        ));
    }
    Ok(AdmissionRules {
        routes,
        hours: periods("hours", &input.hours)?,
        documents,
        transport,
        max_stay_days: input.max_stay_days,
        eligibility: Eligibility {
            cancer_only: e.cancer_only,
            registered_in_advance: e.registered_in_advance,
            registration_note: opt_text(
                "eligibility.registration_note",
                &e.registration_note,
                300,
            )?,
            min_age: e.min_age,
            note: opt_text("eligibility.note", &e.note, 300)?,
        },
        when_full: opt_text("when_full", &input.when_full, 200)?,
        info_sharing_tool: opt_text("info_sharing_tool", &input.info_sharing_tool, 100)?,
        last_reviewed: input.last_reviewed.clone(),
        notes: opt_text("notes", &input.notes, 1000)?,
        sample: false,
        visibility: visibility(input.visibility.as_deref(), "visibility")?,
    })
}

/// The admitting service `kind` of `f`, or why there is none.
pub(super) fn admitting(f: &Facility, kind: ServiceKind) -> Result<(), ApiError> {
    if !takes_admissions(kind) {
        return Err(ApiError::bad_parameter(
            "service",
            format!(
                "`{}` has no bed status or admission rules; these are for {}.",
                kind.code(),
                CAPACITY_SERVICES.map(|k| k.code()).join(", ")
            ),
        ));
    }
    if !f.offers(kind) {
        return Err(ApiError::not_found(format!(
            "Facility `{}` does not offer `{}`; add the service first (PUT /api/v1/facilities/{}/services/{}).",
            f.id,
            kind.code(),
            f.id,
            kind.code()
        )));
    }
    Ok(())
}

/// Change the active service `kind` of `f` (an edit of the facility, logged like any other).
pub(super) fn with_service(
    f: &mut Facility,
    kind: ServiceKind,
    change: impl FnOnce(&mut crate::domain::Service),
) {
    if let Some(s) = f
        .services
        .iter_mut()
        .find(|s| s.kind == kind && s.status != ServiceStatus::Inactive)
    {
        change(s);
    }
}

#[utoipa::path(put, path = "/api/v1/facilities/{id}/services/{service}/capacity", tag = "admissions",
    security(("session" = []), ("token" = [])),
    params(("id" = String, Path, description = "Facility id"), ("service" = String, Path, description = "pcu, backup_hospital, emergency_admission or respite_admission"), ("If-Match" = String, Header, description = "The ETag of the facility version edited")),
    request_body = CapacityInput,
    responses(
        (status = 200, description = "The facility with the new bed status (a report with the same status still renews its time)", body = super::dto::FacilityView),
        (status = 400, description = "A field is invalid, or the service has no bed status", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to edit, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such facility, or it does not offer the service", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn put_capacity(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<CapacityInput>,
) -> Result<HttpResponse, ApiError> {
    edit_admitting(&req, &state, path.into_inner(), |caller, at| {
        let c = capacity_of(&body, &caller.actor(), at, None)?;
        Ok(move |s: &mut crate::domain::Service| s.capacity = Some(c))
    })
    .await
}

/// An edit of admitting service `service` of facility `id` by an account: who may (as every
/// edit), `If-Match`, the service offered and taking admissions, then `make`'s change of the
/// service (built from the caller and the time, or refused) in one transaction.
async fn edit_admitting<C: FnOnce(&mut crate::domain::Service) + Send + 'static>(
    req: &HttpRequest,
    state: &AppState,
    (id, service): (String, String),
    make: impl FnOnce(&auth::Caller, &str) -> Result<C, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let kind = service_kind(&service)?;
    let EditStart {
        caller,
        current,
        version,
        ..
    } = edit_start(req, state, &id).await?;
    admitting(&current, kind)?;
    let at = crate::auth::timestamp(crate::auth::now());
    let change = make(&caller, &at)?;
    let f = run_edit(state, &caller, id, version, move |f| {
        with_service(f, kind, change);
        Ok(())
    })
    .await?;
    Ok(written(state, &caller, &f, false).await)
}

#[utoipa::path(put, path = "/api/v1/facilities/{id}/services/{service}/admission-rules", tag = "admissions",
    security(("session" = []), ("token" = [])),
    params(("id" = String, Path, description = "Facility id"), ("service" = String, Path, description = "pcu, backup_hospital, emergency_admission or respite_admission"), ("If-Match" = String, Header, description = "The ETag of the facility version edited")),
    request_body = RulesInput,
    responses(
        (status = 200, description = "The facility with the rules replaced", body = super::dto::FacilityView),
        (status = 400, description = "A field is invalid (a route without a number, a bad period, …)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to edit, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such facility, or it does not offer the service", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn put_rules(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<RulesInput>,
) -> Result<HttpResponse, ApiError> {
    edit_admitting(&req, &state, path.into_inner(), |_, _| {
        let rules = rules_of(&body)?;
        Ok(move |s: &mut crate::domain::Service| s.admission_rules = Some(rules))
    })
    .await
}

/// One bed-status report in the history.
#[derive(Debug, Serialize, ToSchema)]
pub struct CapacityReport {
    pub seq: i64,
    #[schema(value_type = String)]
    pub status: CapacityStatus,
    pub free_beds: Option<u32>,
    pub waiting_days: Option<u32>,
    pub note: Option<String>,
    /// The reporter's role (coordinators and admins see the account), or `update_link`.
    pub updated_by: String,
    pub updated_at: String,
    pub via: Option<String>,
    pub sample: bool,
}

#[utoipa::path(get, path = "/api/v1/facilities/{id}/services/{service}/capacity/history", tag = "admissions",
    security(("session" = []), ("token" = [])),
    params(("id" = String, Path, description = "Facility id"), ("service" = String, Path, description = "pcu, backup_hospital, emergency_admission or respite_admission")),
    responses(
        (status = 200, description = "Every bed-status report the caller may see, newest first", body = Vec<CapacityReport>),
        (status = 400, description = "The service has no bed status", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such facility", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn capacity_history(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let (id, service) = path.into_inner();
    let kind = service_kind(&service)?;
    if !takes_admissions(kind) {
        return Err(ApiError::bad_parameter(
            "service",
            format!("`{}` has no bed status.", kind.code()),
        ));
    }
    let caller = auth::caller(&req, &state).await?;
    caller.require_user()?;
    let audience = caller.audience();
    let store = state.store.clone();
    let id2 = id.clone();
    let (exists, rows) = blocking(move || {
        Ok::<_, crate::store::StoreError>((store.facility(&id2)?.is_some(), store.history(&id2)?))
    })
    .await?;
    if !exists {
        return Err(ApiError::not_found(format!("No facility with id `{id}`.")));
    }
    let mut out: Vec<CapacityReport> = Vec::new();
    let mut last: Option<Capacity> = None;
    for h in rows.iter().filter(|h| h.field == "services") {
        let Some(services) = h
            .new_value
            .as_deref()
            .and_then(|v| serde_json::from_str::<Vec<crate::domain::Service>>(v).ok())
        else {
            continue;
        };
        let Some(c) = services
            .into_iter()
            .find(|s| s.kind == kind)
            .and_then(|s| s.capacity)
            .filter(|c| audience.may_see(c.visibility))
        else {
            continue;
        };
        if last.as_ref() == Some(&c) {
            continue;
        }
        last = Some(c.clone());
        out.push(CapacityReport {
            seq: h.seq,
            status: c.status,
            free_beds: c.free_beds,
            waiting_days: c.waiting_days,
            note: c.note,
            updated_by: crate::domain::actor_as_seen(&c.updated_by, audience),
            updated_at: c.updated_at,
            via: c.via,
            sample: c.sample,
        });
    }
    out.reverse();
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(out))
}

/// The needs of the physician's search, as the `need` parameter names them.
const NEEDS: &[(&str, ServiceKind)] = &[
    ("emergency", ServiceKind::EmergencyAdmission),
    ("respite", ServiceKind::RespiteAdmission),
    ("backup", ServiceKind::BackupHospital),
    ("pcu", ServiceKind::Pcu),
];

/// Default and largest search radius of the backup search, km.
const BACKUP_RADIUS_KM: f64 = 30.0;
const BACKUP_MAX_RADIUS_KM: f64 = 100.0;

const BACKUP_PARAMS: &[&str] = &["near", "address", "need", "now", "radius_km", "limit"];

/// The backup search as asked: the plan's request, the clock and the page size.
struct BackupAsk {
    request: SearchRequest,
    needs: Vec<ServiceKind>,
    now: time::OffsetDateTime,
    radius_km: f64,
    limit: usize,
}

fn backup_ask(p: &Params) -> Result<BackupAsk, ApiError> {
    let (near, address, radius) = super::request::place(p, BACKUP_MAX_RADIUS_KM)?;
    if near.is_none() && address.is_none() {
        return Err(ApiError::bad_parameter(
            "near",
            "Say where the patient is: `near=lat,lng` or `address=…` (e.g. address=埼玉県春日部市中央1-1).",
        ));
    }
    let needs: Vec<ServiceKind> = match p.get("need") {
        None => CAPACITY_SERVICES.to_vec(),
        Some(_) => p.list(
            "need",
            |c| NEEDS.iter().find(|(n, _)| *n == c).map(|(_, k)| *k),
            || NEEDS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "),
        )?,
    };
    let now = match p.get("now") {
        None => time::OffsetDateTime::now_utc(),
        Some(raw) => time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
            .map_err(|_| {
                ApiError::bad_parameter(
                    "now",
                    format!(
                        "`now` is an ISO 8601 date-time with its offset, e.g. 2026-12-01T22:00:00+09:00; got `{raw}`."
                    ),
                )
            })?,
    };
    let radius_km = radius.unwrap_or(BACKUP_RADIUS_KM);
    let limit = p.int_in("limit", 1, 200, 50)?;
    Ok(BackupAsk {
        request: SearchRequest {
            services: needs.clone(),
            near,
            address,
            radius_km: Some(radius_km),
            sort: Some(Sort::Distance),
            limit: usize::MAX,
            ..SearchRequest::default()
        },
        needs,
        now,
        radius_km,
        limit,
    })
}

/// The request route to use now.
#[derive(Debug, Serialize, ToSchema)]
pub struct RouteView {
    #[schema(value_type = String, example = "fax")]
    pub kind: RouteKind,
    pub kind_label: &'static str,
    pub value: String,
    pub label: Option<String>,
}

/// One matched service of a candidate hospital.
#[derive(Debug, Serialize, ToSchema)]
pub struct BackupServiceView<'a> {
    #[schema(value_type = String, example = "emergency_admission")]
    pub kind: ServiceKind,
    pub label: Label,
    pub capacity: Option<CapacityView<'a>>,
    #[schema(value_type = Option<Object>)]
    pub admission_rules: Option<&'a AdmissionRules>,
    /// Whether requests are taken at `now` (null: hours not stated).
    pub requests_open: Option<bool>,
    /// The route to use at `now`.
    pub route_now: Option<RouteView>,
    /// Only patients registered beforehand by their home physician.
    pub registered_in_advance: bool,
}

/// One candidate hospital.
#[derive(Debug, Serialize, ToSchema)]
pub struct BackupItem<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub everyday_name: String,
    pub address: AddressView<'a>,
    pub location: Option<LocationView>,
    pub distance_m: u64,
    /// How far the true distance may differ, in metres (both points' placement).
    pub distance_precision_m: Option<u32>,
    /// Phone numbers the caller may see.
    pub phones: Vec<PhoneView<'a>>,
    /// The best status over the matched services.
    #[schema(value_type = String, example = "accepting")]
    pub status: CapacityStatus,
    pub status_label: Label,
    /// Any shown fact is demo data (サンプル).
    pub sample: bool,
    pub services: Vec<BackupServiceView<'a>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PhoneView<'a> {
    pub value: &'a str,
    pub label: Option<&'a str>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OriginView {
    pub lat: f64,
    pub lng: f64,
    /// How precisely the origin is known (an address placed at its town), metres.
    pub precision_m: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BackupBody<'a> {
    pub origin: OriginView,
    /// The time the answer is for, in JST.
    pub now: String,
    /// The national holiday `now` falls on, if any.
    pub holiday: Option<&'static str>,
    #[schema(value_type = Vec<String>)]
    pub need: Vec<ServiceKind>,
    pub radius_km: f64,
    pub total: usize,
    pub items: Vec<BackupItem<'a>>,
}

fn item<'a>(
    f: &'a Facility,
    hit: &BackupHit,
    viewer: &Viewer,
    precision: Option<u32>,
) -> BackupItem<'a> {
    let services: Vec<BackupServiceView<'a>> = hit
        .services
        .iter()
        .filter_map(|b| {
            let s = f
                .services
                .iter()
                .find(|s| s.kind == b.kind && s.status != ServiceStatus::Inactive)?;
            let rules = s
                .admission_rules
                .as_ref()
                .filter(|r| viewer.audience.may_see(r.visibility));
            Some(BackupServiceView {
                kind: s.kind,
                label: Label {
                    ja: s.kind.label_ja(),
                    en: s.kind.label_en(),
                },
                capacity: CapacityView::of(s, viewer),
                admission_rules: rules,
                requests_open: b.requests_open,
                route_now: b
                    .route_now
                    .and_then(|i| rules?.routes.get(i))
                    .map(|r| RouteView {
                        kind: r.kind,
                        kind_label: r.kind.label_ja(),
                        value: r.value.clone(),
                        label: r.label.clone(),
                    }),
                registered_in_advance: rules.is_some_and(|r| r.eligibility.registered_in_advance),
            })
        })
        .collect();
    let sample = services.iter().any(|s| {
        s.capacity.as_ref().is_some_and(|c| c.sample) || s.admission_rules.is_some_and(|r| r.sample)
    });
    BackupItem {
        id: &f.id,
        name: &f.name,
        everyday_name: crate::domain::ja::everyday_name(&f.name),
        address: AddressView::of(&f.address),
        location: LocationView::of(f.location),
        distance_m: hit.distance_m.round() as u64,
        distance_precision_m: precision,
        phones: f
            .contacts
            .iter()
            .filter(|c| c.kind == ContactKind::Phone && viewer.audience.may_see(c.visibility))
            .map(|c| PhoneView {
                value: &c.value,
                label: c.label.as_deref(),
            })
            .collect(),
        status: hit.status,
        status_label: Label {
            ja: hit.status.label_ja(),
            en: hit.status.label_en(),
        },
        sample,
        services,
    }
}

/// Run the backup search for a signed-in caller: the plan, the ranked hits and the clock.
/// A backup search run against one catalog snapshot: the hits of that snapshot and the first
/// `limit` of them projected for the caller (never mixed with a later snapshot's ords).
struct BackupRun {
    ask: BackupAsk,
    plan: crate::catalog::Plan,
    viewer: Viewer,
    total: usize,
    found: Vec<(BackupHit, Facility)>,
}

impl BackupRun {
    fn items(&self) -> impl Iterator<Item = (&Facility, BackupItem<'_>)> {
        self.found.iter().map(|(h, f)| {
            (
                f,
                item(f, h, &self.viewer, self.plan.distance_precision_m(f)),
            )
        })
    }
}

async fn run_backup(req: &HttpRequest, state: &AppState) -> Result<BackupRun, ApiError> {
    let p = Params::parse(req.query_string(), BACKUP_PARAMS)?;
    let caller = auth::caller(req, state).await?;
    if caller.user().is_none() {
        return Err(ApiError::unauthorized(
            "The backup search shows bed status and admission rules, which are for professionals: sign in first (POST /api/v1/session). / 入院先の検索は医療者向けです。ログインしてください。",
        ));
    }
    let ask = backup_ask(&p)?;
    let catalog = state.catalog.load();
    let plan = catalog
        .plan(&ask.request)
        .map_err(super::routes::plan_error)?;
    let mut viewer = state.viewer(caller.audience());
    viewer.now = ask.now;
    let hits = catalog
        .backup(&plan, viewer.audience, ask.now, viewer.stale_hours)
        .map_err(|e| ApiError::internal(&e))?;
    let total = hits.len();
    let found = hits
        .into_iter()
        .take(ask.limit)
        .map(|h| {
            let f = project(&catalog.at(h.ord), viewer.audience);
            (h, f)
        })
        .collect();
    Ok(BackupRun {
        ask,
        plan,
        viewer,
        total,
        found,
    })
}

#[utoipa::path(get, path = "/api/v1/backup", tag = "admissions",
    security(("session" = []), ("token" = [])),
    params(
        ("near" = Option<String>, Query, description = "The patient's home as lat,lng"),
        ("address" = Option<String>, Query, description = "Or its postal address (placed by the geocoder)"),
        ("need" = Option<String>, Query, description = "emergency, respite, backup, pcu (comma-separated; default all)"),
        ("now" = Option<String>, Query, description = "RFC 3339 date-time the answer is for (default: the server's clock)"),
        ("radius_km" = Option<f64>, Query, description = "Search radius, default 30, at most 100"),
        ("limit" = Option<usize>, Query, description = "At most this many hospitals, 1–200, default 50"),
    ),
    responses(
        (status = 200, description = "Hospitals offering the needed admission within the radius: accepting first, then limited, unknown, not accepting; then nearer", body = BackupBody),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in: bed status and rules are for professionals", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The address could not be placed", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn backup(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let run = run_backup(&req, &state).await?;
    let (ask, plan) = (&run.ask, &run.plan);
    let (lat, lng) = plan.query.point.unwrap_or_default();
    let local = schedule::jst(ask.now);
    let body = BackupBody {
        origin: OriginView {
            lat,
            lng,
            precision_m: plan.origin_uncertainty_m,
        },
        now: local
            .assume_offset(schedule::JST)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        holiday: schedule::holiday_name(local.date()),
        need: ask.needs.clone(),
        radius_km: ask.radius_km,
        total: run.total,
        items: run.items().map(|(_, it)| it).collect(),
    };
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "private, no-store"))
        .json(body))
}

#[utoipa::path(get, path = "/api/v1/backup.geojson", tag = "admissions",
    security(("session" = []), ("token" = [])),
    params(
        ("near" = Option<String>, Query, description = "The patient's home as lat,lng"),
        ("address" = Option<String>, Query, description = "Or its postal address"),
        ("need" = Option<String>, Query, description = "emergency, respite, backup, pcu (comma-separated; default all)"),
        ("now" = Option<String>, Query, description = "RFC 3339 date-time the answer is for"),
        ("radius_km" = Option<f64>, Query, description = "Search radius, default 30, at most 100"),
        ("limit" = Option<usize>, Query, description = "At most this many hospitals, 1–200, default 50"),
    ),
    responses(
        (status = 200, description = "The same hospitals as a FeatureCollection, in the same order; each feature's properties are the list item without its location", content_type = "application/geo+json", body = Object),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The address could not be placed", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn backup_geojson(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let run = run_backup(&req, &state).await?;
    let features = run
        .items()
        .map(|(f, it)| super::geojson::point_feature(&f.id, f.location, &it))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::internal(&e))?;
    let fc = geojson::FeatureCollection {
        bbox: None,
        features,
        foreign_members: None,
    };
    Ok(HttpResponse::Ok()
        .content_type("application/geo+json")
        .insert_header(("cache-control", "private, no-store"))
        .body(fc.to_string()))
}
