//! Facility update links and the coordinator's review queue.
//!
//! A coordinator (or admin) issues a link for one facility: one-time (14 days by default) or
//! standing (bed status and "confirm unchanged" only, until revoked). Staff open it without an
//! account: a bed status applies at once (recorded as via the link), a confirmation sets
//! `verified_at`, a proposed correction waits in `GET /api/v1/review` for a coordinator to
//! approve or reject with a reason. A forged token is 404; an expired, used or revoked link
//! is 410. Only the token's SHA-256 is stored.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::instrument;
use utoipa::ToSchema;

use super::AppState;
use super::admission::{CapacityInput, admitting, capacity_of, with_service};
use super::auth::{self, Caller};
use super::dto::FacilityView;
use super::error::{ApiError, Problem};
use super::params::Params;
use super::session::blocking;
use super::surveys::{SurveyInput, answers_for, applying, proposal_of};
use super::write::{
    bad, caught_up, denied, edit_error, etag, input_of, keep_store_fields, opt_text, patched,
    service_kind, stored,
};
use crate::domain::survey::{self, Survey, SurveyCode};
use crate::domain::{
    Audience, CAPACITY_SERVICES, Facility, Origin, Role, ServiceKind, User, project,
};
use crate::store::{DecisionError, Edit, NewProposal, Proposal, UpdateLink};

/// Default and longest lifetime of a one-time link, days.
pub const LINK_DAYS: u32 = 14;
const MAX_LINK_DAYS: u32 = 90;

/// Who may issue, list and revoke links, and decide proposals, for `f`: its area's
/// coordinator or an admin.
fn may_manage(user: &User, f: &Facility) -> Result<(), ApiError> {
    coordinator_or_admin(
        user,
        "Only the area's coordinator or an admin may issue update links and decide proposals.",
    )?;
    user.may_edit(f).map_err(denied)
}

/// A coordinator's or admin's account that is not disabled, or 403 with `why`.
fn coordinator_or_admin(user: &User, why: &str) -> Result<(), ApiError> {
    if !matches!(user.role, Role::Coordinator | Role::Admin) || user.disabled {
        return Err(ApiError::forbidden("forbidden", why));
    }
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    /// one_time (default) or standing (bed status and confirmation only, no expiry).
    pub kind: Option<String>,
    /// Lifetime of a one-time link in days, 1–90 (default 14).
    pub days: Option<u32>,
}

/// A new link: its token is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewLinkBody {
    pub id: i64,
    pub kind: String,
    /// The page staff open: `<public URL>/update.html#<token>`.
    pub url: String,
    pub token: String,
    pub expires_at: Option<String>,
}

/// The link page's address for `token`.
pub(super) fn link_url(req: &HttpRequest, state: &AppState, token: &str) -> String {
    let base = match &state.web.public_url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    };
    format!("{base}/update.html#{token}")
}

/// Issue a link; the store keeps its hash. Shared with `pallimap link create`.
pub fn issue_link(
    store: &crate::store::Store,
    facility_id: &str,
    standing: bool,
    days: u32,
    created_by: &str,
) -> Result<(UpdateLink, String), String> {
    let token = crate::auth::random_token().map_err(|e| e.to_string())?;
    let now = crate::auth::now();
    let expires =
        (!standing).then(|| crate::auth::timestamp(now + time::Duration::days(i64::from(days))));
    let link = store
        .create_link(
            facility_id,
            &crate::auth::token_hash(&token),
            standing,
            created_by,
            &crate::auth::timestamp(now),
            expires.as_deref(),
        )
        .map_err(|e| e.to_string())?;
    Ok((link, token))
}

#[utoipa::path(post, path = "/api/v1/facilities/{id}/update-links", tag = "update-links",
    security(("session" = []), ("token" = [])),
    params(("id" = String, Path, description = "Facility id")),
    request_body(content = Option<LinkInput>, description = "Optional: the link's settings (defaults apply without a body)"),
    responses(
        (status = 201, description = "The link; its token is never shown again", body = NewLinkBody),
        (status = 400, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the area's coordinator or an admin, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such facility", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn create_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let id = path.into_inner();
    let caller = auth::writer(&req, &state).await?;
    let user = caller.require_user()?.clone();
    let f = stored(&state, &id).await?;
    may_manage(&user, &f)?;
    let input: LinkInput = super::write::optional_json(&body)?;
    let standing = match input.kind.as_deref() {
        None | Some("one_time") => false,
        Some("standing") => true,
        Some(k) => {
            return Err(bad(
                "kind",
                format!("Unknown value `{k}` for `kind`. Valid values: one_time, standing."),
            ));
        }
    };
    if standing && input.days.is_some() {
        return Err(bad(
            "days",
            "A standing link has no expiry; leave `days` out.",
        ));
    }
    let days = input.days.unwrap_or(LINK_DAYS);
    if !(1..=MAX_LINK_DAYS).contains(&days) {
        return Err(bad("days", format!("`days` is 1–{MAX_LINK_DAYS}.")));
    }
    let store = state.store.clone();
    let actor = caller.actor();
    let (link, token) = blocking(move || issue_link(&store, &id, standing, days, &actor)).await?;
    Ok(HttpResponse::Created()
        .insert_header(("cache-control", "no-store"))
        .json(NewLinkBody {
            id: link.id,
            kind: link.kind.clone(),
            url: link_url(&req, &state, &token),
            token,
            expires_at: link.expires_at,
        }))
}

#[utoipa::path(get, path = "/api/v1/facilities/{id}/update-links", tag = "update-links",
    security(("session" = []), ("token" = [])),
    params(("id" = String, Path, description = "Facility id")),
    responses(
        (status = 200, description = "The facility's links, newest first (never their tokens)", body = Vec<Object>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the area's coordinator or an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such facility", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn list_links(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let id = path.into_inner();
    let caller = auth::caller(&req, &state).await?;
    let user = caller.require_user()?.clone();
    let f = stored(&state, &id).await?;
    may_manage(&user, &f)?;
    let store = state.store.clone();
    let links = blocking(move || store.links_of(&id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(links))
}

#[utoipa::path(delete, path = "/api/v1/facilities/{id}/update-links/{link}", tag = "update-links",
    security(("session" = []), ("token" = [])),
    params(("id" = String, Path, description = "Facility id"), ("link" = i64, Path, description = "Link id")),
    responses(
        (status = 204, description = "Revoked: the link answers 410 from now on"),
        (status = 400, description = "The id is not an integer in range", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the area's coordinator or an admin, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such facility or link", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn revoke_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let (id, link) = path.into_inner();
    let caller = auth::writer(&req, &state).await?;
    let user = caller.require_user()?.clone();
    let f = stored(&state, &id).await?;
    may_manage(&user, &f)?;
    let store = state.store.clone();
    if !blocking(move || store.revoke_link(&id, link)).await? {
        return Err(ApiError::not_found(format!(
            "Facility `{}` has no link {link}.",
            f.id
        )));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The link a token stands for, if it may still be used: 404 forged, 410 expired, used or
/// revoked.
async fn live_link(state: &AppState, token: &str) -> Result<UpdateLink, ApiError> {
    let store = state.store.clone();
    let hash = crate::auth::token_hash(token);
    let link = blocking(move || store.link_by_hash(&hash))
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "このリンクは無効です。コーディネーターに新しいリンクを依頼してください。 / This link is not valid; ask your coordinator for a new one.",
            )
        })?;
    if link.revoked {
        return Err(ApiError::gone(
            "このリンクは取り消されました。 / This link was revoked; ask your coordinator for a new one.",
        ));
    }
    if let Some(used) = &link.used_at
        && !link.standing()
    {
        return Err(ApiError::gone(format!(
            "このリンクは使用済みです（{used}）。 / This one-time link was used at {used}; ask your coordinator for a new one."
        )));
    }
    if let Some(exp) = &link.expires_at
        && crate::auth::parse_timestamp(exp).is_none_or(|t| t <= crate::auth::now())
    {
        return Err(ApiError::gone(format!(
            "このリンクは期限切れです（{exp}）。 / This link expired at {exp}; ask your coordinator for a new one."
        )));
    }
    Ok(link)
}

/// What staff see through a link.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkPage<'a> {
    #[schema(value_type = Object)]
    pub link: LinkSummary,
    /// The facility as a professional sees it.
    pub facility: FacilityView<'a>,
    /// The admitting services whose bed status this link may set.
    #[schema(value_type = Vec<String>)]
    pub capacity_services: Vec<ServiceKind>,
    /// Whether corrections may be proposed (one-time links only).
    pub may_propose: bool,
    /// The survey for this kind of facility (current version), if there is one.
    #[schema(value_type = Option<Object>)]
    pub survey: Option<&'static Survey>,
    /// Whether the survey may be answered (one-time links only).
    pub may_answer_survey: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkSummary {
    pub kind: String,
    pub expires_at: Option<String>,
}

fn capacity_services(f: &Facility) -> Vec<ServiceKind> {
    CAPACITY_SERVICES
        .into_iter()
        .filter(|k| f.offers(*k))
        .collect()
}

#[utoipa::path(get, path = "/api/v1/update-links/{token}", tag = "update-links",
    params(("token" = String, Path, description = "The token of the link")),
    responses(
        (status = 200, description = "The facility's entry, as a professional sees it, with the link's rights; the ETag is its version", body = LinkPage),
        (status = 404, description = "Not a link this service issued", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Expired, used or revoked", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn open_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let link = live_link(&state, &path.into_inner()).await?;
    let f = stored(&state, &link.facility_id).await?;
    let shown = project(&f, Audience::Professional);
    let catalog = state.catalog.load();
    let page = LinkPage {
        link: LinkSummary {
            kind: link.kind.clone(),
            expires_at: link.expires_at.clone(),
        },
        facility: FacilityView::new(&shown, &catalog, &state.viewer(Audience::Professional)),
        capacity_services: capacity_services(&f),
        may_propose: !link.standing(),
        survey: SurveyCode::for_kind(f.kind).map(Survey::current),
        may_answer_survey: !link.standing() && SurveyCode::for_kind(f.kind).is_some(),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(&f)))
        .insert_header(("cache-control", "no-store"))
        .insert_header(("referrer-policy", "no-referrer"))
        .json(page))
}

/// One bed status sent through a link.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkCapacity {
    /// pcu, backup_hospital, emergency_admission or respite_admission.
    pub service: String,
    #[serde(flatten)]
    pub report: CapacityInput,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalInput {
    /// A merge patch of the facility's facts (name, contacts, url, notes, hours, …).
    #[schema(value_type = Object)]
    pub changes: Value,
    /// A note to the coordinator.
    pub note: Option<String>,
}

/// What staff send through a link: any of a bed status per service, "confirm unchanged", and
/// (one-time links) a proposed correction.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkSubmit {
    #[serde(default)]
    pub capacity: Vec<LinkCapacity>,
    /// Confirm the entry unchanged (needs `If-Match` with the version seen).
    #[serde(default)]
    pub confirm: bool,
    pub proposal: Option<ProposalInput>,
    /// A survey answer set (one-time links only); waits for a coordinator's approval.
    pub survey: Option<SurveyInput>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkApplied {
    /// Bed statuses set.
    pub capacity: usize,
    pub confirmed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkResult<'a> {
    pub applied: LinkApplied,
    /// The proposal (or survey answer set) waiting in the review queue, if one was sent; the
    /// answer set's when both were.
    pub proposal_id: Option<i64>,
    /// Every proposal filed: the correction's, then the answer set's.
    pub proposal_ids: Vec<i64>,
    pub facility: FacilityView<'a>,
}

#[utoipa::path(post, path = "/api/v1/update-links/{token}", tag = "update-links",
    params(("token" = String, Path, description = "The token of the link"), ("If-Match" = Option<String>, Header, description = "The ETag of the version seen; needed to confirm or propose")),
    request_body = LinkSubmit,
    responses(
        (status = 200, description = "Applied in one transaction (a one-time link is used up by it)", body = LinkResult),
        (status = 400, description = "A field is invalid, or nothing was sent", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A standing link may not propose corrections", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not a link this service issued, or the facility lacks the service", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The entry changed since it was seen", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Expired, used or revoked", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "Confirming or proposing without If-Match", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn use_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<LinkSubmit>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let link = live_link(&state, &path.into_inner()).await?;
    let submit = body.into_inner();
    if submit.capacity.is_empty()
        && !submit.confirm
        && submit.proposal.is_none()
        && submit.survey.is_none()
    {
        return Err(ApiError::bad_body(
            None,
            "Nothing to do: send `capacity`, `confirm: true`, a `proposal` or a `survey`.",
        ));
    }
    if link.standing() && (submit.proposal.is_some() || submit.survey.is_some()) {
        return Err(ApiError::forbidden(
            "forbidden",
            "A standing link sets bed status and confirms the entry only; ask your coordinator for a one-time link to propose corrections or answer the survey.",
        ));
    }
    let current = stored(&state, &link.facility_id).await?;
    // A bed status is a fresh observation and applies over any version; confirming or
    // proposing is about the version seen.
    let version = if submit.confirm || submit.proposal.is_some() || submit.survey.is_some() {
        super::write::if_match(&req)?
    } else {
        match req.headers().get(header::IF_MATCH) {
            Some(_) => super::write::if_match(&req)?,
            None => current.version,
        }
    };
    let actor = format!("update_link:{}", link.id);
    let at = crate::auth::timestamp(crate::auth::now());
    if submit.capacity.len() > CAPACITY_SERVICES.len() {
        return Err(bad("capacity", "At most one bed status per service."));
    }
    let mut reports = Vec::new();
    for (i, c) in submit.capacity.iter().enumerate() {
        let kind = service_kind(&c.service).map_err(|_| {
            bad(
                &format!("capacity[{i}].service"),
                format!("Unknown service `{}`.", c.service),
            )
        })?;
        admitting(&current, kind)?;
        if reports.iter().any(|(k, _)| *k == kind) {
            return Err(bad(
                &format!("capacity[{i}].service"),
                format!("`{}` is given twice.", c.service),
            ));
        }
        reports.push((
            kind,
            capacity_of(&c.report, &actor, &at, Some("update_link"))?,
        ));
    }
    let proposal = match &submit.proposal {
        Some(p) => {
            // Validated now, applied only when a coordinator approves.
            patched(
                &state,
                &current,
                &p.changes,
                Audience::Professional,
                Origin::Facility,
            )
            .map_err(|mut e| {
                if let Some(Value::String(f)) = e.extra.get("field").cloned() {
                    e.extra.insert(
                        "field".into(),
                        Value::String(format!("proposal.changes.{f}")),
                    );
                }
                e
            })?;
            Some(NewProposal::correction(
                p.changes.to_string(),
                opt_text("proposal.note", &p.note, 1000)?,
            ))
        }
        None => None,
    };
    let answers = match &submit.survey {
        Some(input) => {
            // Validated now, applied only when a coordinator approves.
            let (s, a) = answers_for(
                &current,
                &input.code,
                input.version,
                &input.answers,
                "survey.",
            )?;
            let respondent = opt_text("survey.respondent", &input.respondent, 100)?;
            Some(proposal_of(s, &a, respondent, None))
        }
        None => None,
    };
    let proposals: Vec<NewProposal> = proposal.into_iter().chain(answers).collect();
    let confirm = submit.confirm;
    let n = reports.len();
    let store = state.store.clone();
    let caller = Caller::Anonymous;
    let (f, proposal_ids) = web::block({
        let actor = actor.clone();
        let at = at.clone();
        let link = link.clone();
        let (by, when) = (actor.clone(), at.clone());
        move || {
            store.use_link(
                &link,
                version,
                &Edit {
                    actor: &actor,
                    source: "update_link",
                    at: &at,
                },
                move |f| {
                    for (kind, c) in reports {
                        with_service(f, kind, |s| s.capacity = Some(c));
                    }
                    if confirm {
                        f.verified_at = Some(when);
                        f.verified_by = Some(by);
                    }
                    Ok(())
                },
                proposals,
            )
        }
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|e| match e {
        crate::store::EditError::Refused(m) => ApiError::gone(m),
        e => edit_error(&state, &caller, e),
    })?;
    caught_up(&state).await;
    let shown = project(&f, Audience::Professional);
    let catalog = state.catalog.load();
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(&f)))
        .insert_header(("cache-control", "no-store"))
        .json(LinkResult {
            applied: LinkApplied {
                capacity: n,
                confirmed: confirm,
            },
            proposal_id: proposal_ids.last().copied(),
            proposal_ids,
            facility: FacilityView::new(&shown, &catalog, &state.viewer(Audience::Professional)),
        }))
}

/// A proposal in the review queue, with the current values of what it changes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewItem {
    pub id: i64,
    pub facility_id: String,
    pub facility_name: String,
    pub created_at: String,
    /// `update_link`, `coordinator` (entered and applied at once) or `sample`.
    pub via: String,
    pub note: Option<String>,
    /// A survey answer set: which survey and version, and who answered.
    #[schema(value_type = Option<Object>)]
    pub survey: Option<Value>,
    /// The proposed merge patch, or a survey's normalized answers.
    #[schema(value_type = Object)]
    pub changes: Value,
    /// The values now of the fields the proposal changes (a survey: the answers the facility
    /// stands for now).
    #[schema(value_type = Object)]
    pub current: Value,
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub reason: Option<String>,
}

fn review_item(p: Proposal, f: Option<&Facility>) -> ReviewItem {
    let changes: Value = serde_json::from_str(&p.changes).unwrap_or(Value::Null);
    let now = f
        .map(|f| serde_json::to_value(input_of(f)).unwrap_or(Value::Null))
        .unwrap_or(Value::Null);
    let survey = p
        .survey
        .as_deref()
        .and_then(SurveyCode::from_code)
        .and_then(|c| Survey::get(c, p.survey_version.unwrap_or(1).max(0) as u32));
    let current = match (&changes, survey) {
        (_, Some(s)) => f.map(|f| survey::current(s, f)).unwrap_or(Value::Null),
        (Value::Object(m), None) => Value::Object(
            m.keys()
                .map(|k| (k.clone(), now.get(k).cloned().unwrap_or(Value::Null)))
                .collect(),
        ),
        _ => Value::Null,
    };
    let survey = survey.map(|s| {
        serde_json::json!({"code": s.code.code(), "version": s.version, "respondent": p.respondent})
    });
    ReviewItem {
        id: p.id,
        facility_id: p.facility_id,
        facility_name: f.map(|f| f.name.clone()).unwrap_or_default(),
        created_at: p.created_at,
        via: p.via,
        note: p.note,
        survey,
        changes,
        current,
        status: p.status,
        decided_by: p.decided_by,
        decided_at: p.decided_at,
        reason: p.reason,
    }
}

/// The account of a reviewer: a coordinator or an admin.
fn reviewer(caller: &Caller) -> Result<User, ApiError> {
    let user = caller.require_user()?.clone();
    coordinator_or_admin(&user, "The review queue is for coordinators and admins.")?;
    Ok(user)
}

#[utoipa::path(get, path = "/api/v1/review", tag = "update-links",
    security(("session" = []), ("token" = [])),
    params(("status" = Option<String>, Query, description = "pending (default), approved, rejected or all")),
    responses(
        (status = 200, description = "Proposals for the facilities of the caller's areas (admins: all), oldest first", body = Vec<ReviewItem>),
        (status = 400, description = "Unknown status", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a coordinator or admin", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn review(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let p = Params::parse(req.query_string(), &["status"])?;
    let status = match p.get("status") {
        None | Some("pending") => Some("pending"),
        Some("all") => None,
        Some(s @ ("approved" | "rejected")) => Some(s),
        Some(s) => {
            return Err(ApiError::bad_parameter(
                "status",
                format!("Unknown value `{s}` for `status`. Valid values: pending, approved, rejected, all."),
            ));
        }
    }
    .map(str::to_string);
    let caller = auth::caller(&req, &state).await?;
    let user = reviewer(&caller)?;
    let store = state.store.clone();
    let items = blocking(move || {
        let mut out = Vec::new();
        for p in store.proposals(status.as_deref())? {
            let f = store.facility(&p.facility_id)?;
            if f.as_ref().is_some_and(|f| user.may_edit(f).is_ok()) {
                out.push(review_item(p, f.as_ref()));
            }
        }
        Ok::<_, crate::store::StoreError>(out)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(items))
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Why (required to reject; optional to approve).
    pub reason: Option<String>,
}

async fn decide(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: i64,
    approve: bool,
    body: Option<web::Json<Decision>>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let caller = auth::writer(&req, &state).await?;
    let user = reviewer(&caller)?;
    let reason = opt_text(
        "reason",
        &body.map(|b| b.into_inner()).unwrap_or_default().reason,
        500,
    )?;
    if !approve && reason.is_none() {
        return Err(bad(
            "reason",
            "Say why the proposal is rejected (`reason`).",
        ));
    }
    let store = state.store.clone();
    let p = blocking(move || store.proposal(id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No proposal {id}.")))?;
    let current = stored(&state, &p.facility_id).await?;
    user.may_edit(&current).map_err(denied)?;
    let at = crate::auth::timestamp(crate::auth::now());
    type Change = Box<dyn FnOnce(&mut Facility) -> Result<(), String> + Send>;
    let change: Option<Change> = match (approve, &p.survey) {
        (false, _) => None,
        (true, Some(code)) => {
            // The answers were checked when sent; check them again against the definition
            // they answered (it never changes) and the facility as it is now.
            let answers: Value = serde_json::from_str(&p.changes).unwrap_or(Value::Null);
            let version = p.survey_version.unwrap_or(1).max(0) as u32;
            let (s, a) = answers_for(&current, code, version, &answers, "survey.")?;
            Some(Box::new(applying(
                s,
                a,
                p.created_at.clone(),
                Origin::Survey,
            )))
        }
        (true, None) => {
            let patch: Value = serde_json::from_str(&p.changes).unwrap_or(Value::Null);
            let next = patched(
                &state,
                &current,
                &patch,
                Audience::Professional,
                Origin::Facility,
            )?;
            user.may_edit(&next).map_err(denied)?;
            let at = at.clone();
            Some(Box::new(move |f: &mut Facility| {
                keep_store_fields(next, f, at);
                Ok(())
            }))
        }
    };
    let store = state.store.clone();
    let actor = caller.actor();
    let source = format!("review:{id}");
    let decided = web::block(move || {
        store.decide_proposal(
            id,
            approve,
            reason.as_deref(),
            &Edit {
                actor: &actor,
                source: &source,
                at: &at,
            },
            change.map(|c| c as Box<dyn FnOnce(&mut Facility) -> Result<(), String>>),
        )
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|e| match e {
        DecisionError::NotFound => ApiError::not_found(format!("No proposal {id}.")),
        DecisionError::Decided(s) => ApiError::conflict(
            "already_decided",
            format!("Proposal {id} was already {s}; decisions are final."),
        ),
        DecisionError::Edit(e) => edit_error(&state, &caller, e),
    })?;
    if approve {
        caught_up(&state).await;
    }
    let f = stored(&state, &decided.facility_id).await.ok();
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(review_item(decided, f.as_ref())))
}

#[utoipa::path(post, path = "/api/v1/review/{id}/approve", tag = "update-links",
    security(("session" = []), ("token" = [])),
    params(("id" = i64, Path, description = "Proposal id")),
    request_body(content = Option<Decision>, description = "An optional reason"),
    responses(
        (status = 200, description = "Approved: the correction is applied as an edit (change log, new version)", body = ReviewItem),
        (status = 400, description = "The correction no longer applies (a field is invalid now)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the area's coordinator or an admin, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such proposal", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn approve(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: Option<web::Json<Decision>>,
) -> Result<HttpResponse, ApiError> {
    decide(req, state, path.into_inner(), true, body).await
}

#[utoipa::path(post, path = "/api/v1/review/{id}/reject", tag = "update-links",
    security(("session" = []), ("token" = [])),
    params(("id" = i64, Path, description = "Proposal id")),
    request_body = Decision,
    responses(
        (status = 200, description = "Rejected, with the reason kept", body = ReviewItem),
        (status = 400, description = "No reason given", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the area's coordinator or an admin, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such proposal", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn reject(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: Option<web::Json<Decision>>,
) -> Result<HttpResponse, ApiError> {
    decide(req, state, path.into_inner(), false, body).await
}
