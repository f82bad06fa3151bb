//! The coordinator's desk: entries not verified for months (oldest first) and update links
//! for a selection of them as a mail-merge CSV; corrections the public reports against a
//! record, and the queue where the area's coordinator closes them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use tracing::instrument;
use utoipa::ToSchema;

use super::AppState;
use super::auth::{self, Caller};
use super::error::{ApiError, Problem};
use super::params::Params;
use super::session::blocking;
use super::write::{bad, opt_text, text};
use crate::domain::{ContactKind, Facility, FacilityStatus, Role, User, Visibility};
use crate::store::Correction;

/// A coordinator's or admin's account, or 403.
fn desk_user(caller: &Caller, what: &str) -> Result<User, ApiError> {
    let user = caller.require_user()?.clone();
    if !matches!(user.role, Role::Coordinator | Role::Admin) || user.disabled {
        return Err(ApiError::forbidden(
            "forbidden",
            format!("{what} is for coordinators and admins."),
        ));
    }
    Ok(user)
}

/// An entry due for verification.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaleItem {
    pub id: String,
    pub name: String,
    #[schema(value_type = String)]
    pub kind: crate::domain::FacilityKind,
    pub area: Option<String>,
    pub municipality: Option<String>,
    /// Last confirmed by a person; null when never.
    pub verified_at: Option<String>,
    pub verified_by: Option<String>,
    pub updated_at: String,
    /// Snapshot date of the public source its core facts come from.
    pub source_snapshot: Option<String>,
    /// Kept but shown in no list (`status: withheld`).
    pub withheld: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaleBody {
    pub months: u32,
    pub total: usize,
    pub items: Vec<StaleItem>,
}

/// The date `months` months before today (JST), YYYY-MM-DD.
fn months_ago(months: u32) -> String {
    let today = crate::domain::schedule::jst(crate::auth::now()).date();
    let mut y = today.year();
    let mut m = today.month() as i32 - months as i32;
    while m < 1 {
        m += 12;
        y -= 1;
    }
    let month = time::Month::try_from(m as u8).unwrap_or(time::Month::January);
    let day = today.day().min(time::util::days_in_month(month, y));
    time::Date::from_calendar_date(y, month, day)
        .unwrap_or(today)
        .to_string()
}

/// Whether `f` was last verified before `cutoff` (or never).
fn is_stale(f: &Facility, cutoff: &str) -> bool {
    f.verified_at
        .as_deref()
        .is_none_or(|v| v.get(..10).unwrap_or(v) < cutoff)
}

#[utoipa::path(get, path = "/api/v1/review/stale", tag = "desk",
    security(("session" = []), ("token" = [])),
    params(
        ("months" = Option<u32>, Query, description = "Not verified within this many months, 1–120 (default 12)"),
        ("area" = Option<String>, Query, description = "A 二次医療圏 code of the caller's (default: all of them)"),
        ("limit" = Option<u32>, Query, description = "1–1000 (default 200)"),
    ),
    responses(
        (status = 200, description = "Entries of the caller's areas not verified within `months`, never-verified first (oldest source first), then the oldest verification", body = StaleBody),
        (status = 400, description = "A parameter is out of range", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a coordinator or admin, or not the caller's area", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn stale(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let p = Params::parse(req.query_string(), &["months", "area", "limit"])?;
    let months = p.int_in("months", 1, 120, 12)? as u32;
    let limit = p.int_in("limit", 1, 1000, 200)?;
    let area = p.get("area").map(str::to_string);
    let caller = auth::caller(&req, &state).await?;
    let user = desk_user(&caller, "The verification queue")?;
    if let Some(a) = &area
        && user.role != Role::Admin
        && !user.areas.contains(a)
    {
        return Err(ApiError::forbidden(
            "forbidden",
            format!("Area {a} is not one of yours."),
        ));
    }
    let cutoff = months_ago(months);
    let store = state.store.clone();
    let mut due: Vec<Facility> = blocking(move || store.facilities())
        .await?
        .into_iter()
        .filter(|f| f.status != FacilityStatus::Inactive)
        .filter(|f| user.may_edit(f).is_ok())
        .filter(|f| area.is_none() || f.area_code == area)
        .filter(|f| is_stale(f, &cutoff))
        .collect();
    due.sort_by(|a, b| {
        let key = |f: &Facility| {
            (
                f.verified_at.is_some(),
                f.verified_at.clone().or(f.provenance.snapshot.clone()),
                f.id.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    let total = due.len();
    let items = due
        .into_iter()
        .take(limit)
        .map(|f| StaleItem {
            withheld: f.status == FacilityStatus::Withheld,
            id: f.id,
            name: f.name,
            kind: f.kind,
            area: f.area_code,
            municipality: f.address.municipality,
            verified_at: f.verified_at,
            verified_by: f.verified_by,
            updated_at: f.updated_at,
            source_snapshot: f.provenance.snapshot,
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(StaleBody {
            months,
            total,
            items,
        }))
}

/// A selection of entries to send update links to.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkBatch {
    /// Facility ids (1–500).
    pub ids: Vec<String>,
    /// Days each one-time link lasts (1–90, default 14).
    pub days: Option<u32>,
}

#[utoipa::path(post, path = "/api/v1/review/stale/links", tag = "desk",
    security(("session" = []), ("token" = [])),
    request_body = LinkBatch,
    responses(
        (status = 200, description = "A CSV (UTF-8 with BOM) for a mail merge: 施設ID, 名称, 電話番号, 更新用リンク, 有効期限 — one new one-time link per entry (shown this once)", content_type = "text/csv"),
        (status = 400, description = "No ids, too many, or an unknown id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An entry outside the caller's areas, or no CSRF token", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn stale_links(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<LinkBatch>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let caller = auth::writer(&req, &state).await?;
    let user = desk_user(&caller, "Update links")?;
    let batch = body.into_inner();
    if !(1..=500).contains(&batch.ids.len()) {
        return Err(bad("ids", "Send 1 to 500 facility ids."));
    }
    let days = batch.days.unwrap_or(super::links::LINK_DAYS);
    if !(1..=90).contains(&days) {
        return Err(bad("days", "`days` is 1 to 90."));
    }
    let store = state.store.clone();
    let ids = batch.ids.clone();
    let facilities = blocking(move || {
        ids.iter()
            .map(|id| store.facility(id))
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    let mut chosen = Vec::new();
    for (i, f) in facilities.into_iter().enumerate() {
        let f = f.ok_or_else(|| {
            bad(
                &format!("ids[{i}]"),
                format!("No facility `{}`.", batch.ids[i]),
            )
        })?;
        user.may_edit(&f).map_err(super::write::denied)?;
        chosen.push(f);
    }
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let cell = |e: csv::Error| ApiError::internal(&e);
    w.write_record(["施設ID", "名称", "電話番号", "更新用リンク", "有効期限"])
        .map_err(cell)?;
    let actor = caller.actor();
    for f in chosen {
        let store = state.store.clone();
        let (id, who) = (f.id.clone(), actor.clone());
        let (link, token) =
            blocking(move || super::links::issue_link(&store, &id, false, days, &who)).await?;
        let phone = f
            .contacts
            .iter()
            .find(|c| c.kind == ContactKind::Phone && c.visibility == Visibility::Public)
            .map(|c| c.value.as_str())
            .unwrap_or("");
        w.write_record([
            f.id.as_str(),
            f.name.as_str(),
            phone,
            &super::links::link_url(&req, &state, &token),
            link.expires_at.as_deref().unwrap_or(""),
        ])
        .map_err(cell)?;
    }
    let bytes = w.into_inner().map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"pallimap-update-links.csv\"",
        ))
        .insert_header(("cache-control", "no-store"))
        .body(bytes))
}

// -------------------------------------------------------------------------------------------
// Corrections from the public
// -------------------------------------------------------------------------------------------

/// Reports accepted per client address per hour, and per day.
const PER_HOUR: usize = 5;
const PER_DAY: usize = 20;

/// Recent reports per client address, in memory only: no address is ever stored with a
/// report, and the counts go when the process does.
#[derive(Default)]
pub struct ReportLimiter(Mutex<HashMap<IpAddr, Vec<Instant>>>);

impl ReportLimiter {
    /// Count a report from `ip` now, or the seconds to wait.
    fn admit(&self, ip: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let day = Duration::from_secs(24 * 3600);
        let hour = Duration::from_secs(3600);
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, v| v.iter().any(|t| now.duration_since(*t) < day));
        }
        let times = map.entry(ip).or_default();
        times.retain(|t| now.duration_since(*t) < day);
        let in_hour: Vec<&Instant> = times
            .iter()
            .filter(|t| now.duration_since(**t) < hour)
            .collect();
        if in_hour.len() >= PER_HOUR {
            let oldest = in_hour
                .iter()
                .map(|t| now.duration_since(**t))
                .max()
                .unwrap_or_default();
            return Err((hour - oldest).as_secs().max(1));
        }
        if times.len() >= PER_DAY {
            let oldest = times
                .iter()
                .map(|t| now.duration_since(*t))
                .max()
                .unwrap_or_default();
            return Err((day - oldest).as_secs().max(1));
        }
        times.push(now);
        Ok(())
    }
}

/// What the public sends.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionInput {
    /// What is wrong (1–2000 characters).
    pub what: String,
    /// How to reach the reporter, only if they want an answer (≤ 200 characters).
    pub contact: Option<String>,
    /// Leave empty (a field people never see; automated senders fill it).
    #[serde(default)]
    pub website: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Received {
    /// Always true: the report is with the area's coordinator. Nothing else is shown.
    pub received: bool,
}

#[utoipa::path(post, path = "/api/v1/facilities/{id}/corrections", tag = "desk",
    params(("id" = String, Path, description = "Facility id")),
    request_body = CorrectionInput,
    responses(
        (status = 202, description = "Received for the area's coordinator", body = Received),
        (status = 400, description = "Nothing said, or too long", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such facility", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many reports from this address; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn report(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<CorrectionInput>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let id = path.into_inner();
    if state.catalog.load().get(&id).is_none() {
        return Err(ApiError::not_found(format!("No facility with id `{id}`.")));
    }
    let input = body.into_inner();
    let what = text("what", input.what.trim(), 2000)?;
    if what.is_empty() {
        return Err(bad(
            "what",
            "Say what is wrong (`what`). / 修正してほしい内容を書いてください。",
        ));
    }
    let contact = opt_text("contact", &input.contact, 200)?;
    if let Some(ip) = req.peer_addr().map(|a| a.ip())
        && let Err(wait) = state.reports.admit(ip)
    {
        return Err(ApiError::too_many(
            format!(
                "修正依頼が多すぎます。{wait} 秒後にもう一度お試しください / Too many reports from this address; try again in {wait} s."
            ),
            wait,
        ));
    }
    // A filled honeypot: answered like any report, kept nowhere.
    if input.website.as_deref().is_none_or(str::is_empty) {
        let store = state.store.clone();
        let at = crate::auth::timestamp(crate::auth::now());
        blocking(move || store.add_correction(&id, &what, contact.as_deref(), &at)).await?;
    }
    Ok(HttpResponse::Accepted()
        .insert_header(("cache-control", "no-store"))
        .json(Received { received: true }))
}

/// A report in the coordinator's queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct CorrectionItem {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub report: Correction,
    pub facility_name: String,
    pub area: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/corrections", tag = "desk",
    security(("session" = []), ("token" = [])),
    params(("status" = Option<String>, Query, description = "open (default), closed or all")),
    responses(
        (status = 200, description = "Reports on the facilities of the caller's areas (admins: all), oldest first", body = Vec<CorrectionItem>),
        (status = 400, description = "Unknown status", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a coordinator or admin", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn corrections(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let p = Params::parse(req.query_string(), &["status"])?;
    let status = match p.get("status") {
        None | Some("open") => Some("open"),
        Some("closed") => Some("closed"),
        Some("all") => None,
        Some(s) => {
            return Err(ApiError::bad_parameter(
                "status",
                format!("Unknown value `{s}` for `status`. Valid values: open, closed, all."),
            ));
        }
    }
    .map(str::to_string);
    let caller = auth::caller(&req, &state).await?;
    let user = desk_user(&caller, "The correction queue")?;
    let store = state.store.clone();
    let reports = blocking(move || store.corrections(status.as_deref())).await?;
    let catalog = state.catalog.load();
    let items: Vec<CorrectionItem> = reports
        .into_iter()
        .filter_map(|r| {
            let f = catalog.get(&r.facility_id)?;
            user.may_edit(&f).ok()?;
            Some(CorrectionItem {
                facility_name: f.name.clone(),
                area: f.area_code.clone(),
                report: r,
            })
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(items))
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseInput {
    /// What was done (≤ 500 characters).
    pub note: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/corrections/{id}/close", tag = "desk",
    security(("session" = []), ("token" = [])),
    params(("id" = i64, Path, description = "Report id")),
    request_body(content = Option<CloseInput>, description = "An optional note"),
    responses(
        (status = 200, description = "Closed", body = Object),
        (status = 400, description = "The id is not an integer in range", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the area's coordinator or an admin, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Closed already", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn close(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: Option<web::Json<CloseInput>>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let id = path.into_inner();
    let caller = auth::writer(&req, &state).await?;
    let user = desk_user(&caller, "The correction queue")?;
    let note = opt_text(
        "note",
        &body.map(|b| b.into_inner()).unwrap_or_default().note,
        500,
    )?;
    let store = state.store.clone();
    let r = blocking(move || store.correction(id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No report {id}.")))?;
    let f = super::write::stored(&state, &r.facility_id).await?;
    user.may_edit(&f).map_err(super::write::denied)?;
    let store = state.store.clone();
    let actor = caller.actor();
    let at = crate::auth::timestamp(crate::auth::now());
    let closed = blocking(move || store.close_correction(id, &actor, &at, note.as_deref()))
        .await?
        .ok_or_else(|| {
            ApiError::conflict("already_closed", format!("Report {id} is closed already."))
        })?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(closed))
}
