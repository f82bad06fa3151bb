//! Training and meetings (研修・会議): the occurrence list, the detail, writes by the people
//! who hold them, the iCalendar feed (with per-account feed tokens, since a calendar app
//! sends no cookie) and the coordinators' report of past activity. Every route starts from
//! `domain::project_event`, so a professional event reaches no anonymous caller by any path.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::{Date, Duration};
use tracing::instrument;
use unicode_normalization::UnicodeNormalization;
use utoipa::ToSchema;

use super::AppState;
use super::auth::{self, Caller};
use super::error::{ApiError, Problem};
use super::ics::{self, Ics};
use super::params::Params;
use super::session::blocking;
use super::write::{bad, if_match, opt_text, text};
use crate::domain::schedule::ClockTime;
use crate::domain::{
    Audience, Event, EventAudience, EventKind, EventPlace, EventStatus, Organizer, Profession,
    Recurrence, Role, User, Visibility, project_event,
};
use crate::store::{Edit, EventWrite};

/// Longest range the list answers, days.
const MAX_RANGE_DAYS: i64 = 400;
/// Longest range of the activity report, days (ten years of the region's record).
const MAX_REPORT_DAYS: i64 = 3660;
/// Occurrences of one event in one answer.
const MAX_PER_EVENT: usize = 500;

fn today() -> Date {
    crate::domain::schedule::jst(crate::auth::now()).date()
}

fn etag(e: &Event) -> String {
    format!("\"v{}\"", e.version)
}

fn date_param(p: &Params, name: &str) -> Result<Option<Date>, ApiError> {
    let Some(raw) = p.get(name) else {
        return Ok(None);
    };
    Date::parse(
        raw,
        &time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map(Some)
    .map_err(|_| {
        ApiError::bad_parameter(
            name,
            format!(
                "日付は YYYY-MM-DD で指定してください / `{name}` is a date YYYY-MM-DD; got `{raw}`."
            ),
        )
    })
}

/// `from`/`to` with their defaults, at most `max` days apart.
fn range(
    p: &Params,
    default_from: Date,
    default_days: i64,
    max: i64,
) -> Result<(Date, Date), ApiError> {
    let from = date_param(p, "from")?.unwrap_or(default_from);
    let to = date_param(p, "to")?.unwrap_or(from + Duration::days(default_days));
    if to < from {
        return Err(ApiError::bad_parameter(
            "to",
            format!("終了日は開始日以降にしてください / `to` ({to}) is before `from` ({from})."),
        ));
    }
    if (to - from).whole_days() > max {
        return Err(ApiError::bad_parameter(
            "to",
            format!(
                "期間は{max}日までです / The range may span at most {max} days; got {from} … {to}."
            ),
        ));
    }
    Ok((from, to))
}

/// The filters the list and the feed share.
struct Filter {
    areas: Vec<String>,
    visibility: Option<Visibility>,
    kinds: Vec<EventKind>,
    organizer: Option<String>,
    q: Option<String>,
}

fn fold(s: &str) -> String {
    s.nfkc().collect::<String>().to_lowercase()
}

fn area_list(state: &AppState, p: &Params) -> Result<Vec<String>, ApiError> {
    let catalog = state.catalog.load();
    let codes = || {
        catalog
            .areas()
            .iter()
            .map(|a| a.code.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    p.list("area", |s| catalog.area(s).map(|a| a.code.clone()), codes)
}

fn visibility_param(p: &Params) -> Result<Option<Visibility>, ApiError> {
    match p.get("audience") {
        None => Ok(None),
        Some("public") => Ok(Some(Visibility::Public)),
        Some("professional") => Ok(Some(Visibility::Professional)),
        Some(v) => Err(ApiError::bad_parameter(
            "audience",
            format!("Unknown value `{v}` for `audience`. Valid values: public, professional."),
        )),
    }
}

impl Filter {
    fn parse(state: &AppState, p: &Params) -> Result<Filter, ApiError> {
        Ok(Filter {
            areas: area_list(state, p)?,
            visibility: visibility_param(p)?,
            kinds: p.list("kind", EventKind::from_code, || EventKind::CODES.into())?,
            organizer: p.get("organizer").map(fold),
            q: p.get("q").map(fold),
        })
    }

    /// Whether the projected event `e` passes.
    fn keeps(&self, e: &Event) -> bool {
        if !self.areas.is_empty() && !e.areas.iter().any(|a| self.areas.contains(a)) {
            return false;
        }
        if self.visibility.is_some_and(|v| v != e.audience.visibility) {
            return false;
        }
        if !self.kinds.is_empty() && !self.kinds.contains(&e.kind) {
            return false;
        }
        if let Some(o) = &self.organizer
            && e.organizer.facility_id.as_deref().map(fold).as_ref() != Some(o)
            && !fold(&e.organizer.name).contains(o.as_str())
        {
            return false;
        }
        if let Some(q) = &self.q {
            let fields = [
                Some(e.title.as_str()),
                e.description.as_deref(),
                Some(e.organizer.name.as_str()),
                e.place.name.as_deref(),
                e.place.address.as_deref(),
            ];
            if !fields
                .iter()
                .flatten()
                .any(|f| fold(f).contains(q.as_str()))
            {
                return false;
            }
        }
        true
    }
}

/// The events `audience` may see, projected.
async fn visible(state: &AppState, audience: Audience) -> Result<Vec<Event>, ApiError> {
    let store = state.store.clone();
    Ok(blocking(move || store.events())
        .await?
        .iter()
        .filter_map(|e| project_event(e, audience))
        .collect())
}

/// RFC 3339 in JST of `d` at `t` (`24:00` is the next day's midnight).
fn rfc3339(d: Date, t: ClockTime) -> String {
    let m = t.minutes();
    let (d, m) = if m >= 24 * 60 {
        (d.next_day().unwrap_or(d), m - 24 * 60)
    } else {
        (d, m)
    };
    format!("{d}T{:02}:{:02}:00+09:00", m / 60, m % 60)
}

/// The event as JSON with `extra` members added.
fn with(e: &Event, extra: Value) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or_default();
    if let (Some(o), Value::Object(x)) = (v.as_object_mut(), extra) {
        o.extend(x);
    }
    v
}

/// One occurrence in the list: the event as the caller may see it, on one date.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    #[schema(value_type = String)]
    pub from: String,
    #[schema(value_type = String)]
    pub to: String,
    pub total: usize,
    /// The projected event plus `date`, `starts_at`, `ends_at` (RFC 3339, +09:00; null all day)
    /// and `schedule_label`, one per occurrence, by date and time.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Value>,
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    params(
        ("from" = Option<String>, Query, description = "First date YYYY-MM-DD (default today, JST)"),
        ("to" = Option<String>, Query, description = "Last date YYYY-MM-DD (default from + 90 days; at most 400 days after from)"),
        ("area" = Option<String>, Query, description = "二次医療圏 codes, comma-separated: events in any of them"),
        ("audience" = Option<String>, Query, description = "public or professional: events meant for that audience"),
        ("kind" = Option<String>, Query, description = "Event kinds, comma-separated"),
        ("q" = Option<String>, Query, description = "Text in the title, description, organizer or place (NFKC, case-insensitive)"),
        ("organizer" = Option<String>, Query, description = "The organizing facility's id, or part of the organizer's name"),
    ),
    responses(
        (status = 200, description = "One item per occurrence in the range; past events stay listed", body = EventList),
        (status = 400, description = "A parameter is malformed, or the range is reversed or too long", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn list_events(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let p = Params::parse(
        req.query_string(),
        &["from", "to", "area", "audience", "kind", "q", "organizer"],
    )?;
    let (from, to) = range(&p, today(), 90, MAX_RANGE_DAYS)?;
    let filter = Filter::parse(&state, &p)?;
    let caller = auth::caller(&req, &state).await?;
    let mut rows: Vec<(Date, u16, String, Value)> = Vec::new();
    for e in visible(&state, caller.audience()).await? {
        if !filter.keeps(&e) {
            continue;
        }
        let label = e.schedule.label_ja();
        for d in e.schedule.between(from, to, MAX_PER_EVENT) {
            let item = with(
                &e,
                json!({
                    "date": d.to_string(),
                    "starts_at": e.schedule.from.map(|t| rfc3339(d, t)),
                    "ends_at": e.schedule.to.map(|t| rfc3339(d, t)),
                    "schedule_label": label,
                }),
            );
            let minutes = e.schedule.from.map_or(0, |t| t.minutes());
            rows.push((d, minutes, e.id.clone(), item));
        }
    }
    rows.sort_by(|a, b| (a.0, a.1, &a.2).cmp(&(b.0, b.1, &b.2)));
    let items: Vec<Value> = rows.into_iter().map(|r| r.3).collect();
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(EventList {
            from: from.to_string(),
            to: to.to_string(),
            total: items.len(),
            items,
        }))
}

fn absent(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "研修・会議 `{id}` はありません / No event with id `{id}`."
    ))
}

/// The detail: the event, its label, the next five dates.
fn detail(e: &Event) -> Value {
    with(
        e,
        json!({
            "schedule_label": e.schedule.label_ja(),
            "next_dates": e.schedule.next(today(), 5).iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        }),
    )
}

#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "events",
    params(("id" = String, Path, description = "Event id, ev-<hex>")),
    responses(
        (status = 200, description = "The event as the caller may see it, with `schedule_label` and `next_dates` (the next 5); ETag", body = Object),
        (status = 404, description = "No such event (or not one the caller may see)", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn get_event(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let id = path.into_inner();
    let caller = auth::caller(&req, &state).await?;
    let store = state.store.clone();
    let key = id.clone();
    let e = blocking(move || store.event(&key))
        .await?
        .and_then(|e| project_event(&e, caller.audience()))
        .ok_or_else(|| absent(&id))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(&e)))
        .insert_header(("cache-control", "no-store"))
        .json(detail(&e)))
}

// -------------------------------------------------------------------------------------------
// Writes
// -------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizerInput {
    /// A facility of the directory (its editors may then manage the event).
    pub facility_id: Option<String>,
    /// Default: the facility's name.
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudienceInput {
    /// public (default) or professional.
    pub visibility: Option<String>,
    /// physician, nurse, pharmacist, dentist, dental_hygienist, care_manager, therapist,
    /// social_worker, dietitian, citizen.
    #[serde(default)]
    pub professions: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceInput {
    pub name: Option<String>,
    pub address: Option<String>,
    #[serde(default)]
    pub online: bool,
    /// http(s) meeting link.
    pub link: Option<String>,
    /// public (default) or professional: who sees the link.
    pub link_visibility: Option<String>,
}

/// An event as written.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// training, case_conference, interprofessional_meeting, network_meeting, public_lecture.
    pub kind: String,
    /// 1–200 characters.
    pub title: String,
    pub description: Option<String>,
    pub organizer: OrganizerInput,
    /// 二次医療圏 codes; default the organizing facility's area.
    #[serde(default)]
    pub areas: Vec<String>,
    #[serde(default)]
    pub audience: AudienceInput,
    /// `{start, from?, to?, rrule?, skip_holidays?, cancelled?, extra?}`.
    #[schema(value_type = Object)]
    pub schedule: Recurrence,
    #[serde(default)]
    pub place: PlaceInput,
    pub capacity: Option<u32>,
    /// How to apply: a text or an http(s) URL.
    pub apply: Option<String>,
    /// Last day to apply, YYYY-MM-DD.
    pub deadline: Option<String>,
    pub credits: Option<String>,
    /// http(s) URL of the materials.
    pub materials: Option<String>,
    /// scheduled (default) or cancelled.
    pub status: Option<String>,
}

fn url(field: &str, v: &Option<String>) -> Result<Option<String>, ApiError> {
    let v = opt_text(field, v, 2000)?;
    if let Some(u) = &v {
        let ok = (u.starts_with("https://") || u.starts_with("http://"))
            && u.len() > 8
            && !u.contains(char::is_whitespace);
        if !ok {
            return Err(bad(
                field,
                format!(
                    "{field}: http:// か https:// で始まる URL にしてください / `{field}` must be an http(s) URL; got `{u}`."
                ),
            ));
        }
    }
    Ok(v)
}

fn visibility_of(field: &str, v: Option<&str>) -> Result<Visibility, ApiError> {
    match v.unwrap_or("public") {
        "public" => Ok(Visibility::Public),
        "professional" => Ok(Visibility::Professional),
        other => Err(bad(
            field,
            format!(
                "{field}: public か professional を指定してください / Unknown value `{other}` for `{field}`. Valid values: public, professional."
            ),
        )),
    }
}

/// The event `input` describes, validated field by field, over `base` (id and audit).
fn event_of(state: &AppState, input: EventInput, base: Event) -> Result<Event, ApiError> {
    let kind = EventKind::from_code(&input.kind).ok_or_else(|| {
        bad(
            "kind",
            format!(
                "kind: 種類が不明です / Unknown value `{}` for `kind`. Valid values: {}.",
                input.kind,
                EventKind::CODES
            ),
        )
    })?;
    if input.title.trim().is_empty() {
        return Err(bad(
            "title",
            "title: 題名を入れてください / `title` must not be empty.",
        ));
    }
    let title = text("title", &input.title, 200).map_err(|_| {
        bad(
            "title",
            "title: 題名は200文字までです / `title` is longer than 200 characters.",
        )
    })?;
    let description = opt_text("description", &input.description, 5000)?;
    let catalog = state.catalog.load();
    let facility = match input.organizer.facility_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(id) => Some(catalog.get(id).ok_or_else(|| {
            bad(
                "organizer.facility_id",
                format!("organizer.facility_id: 施設 `{id}` はありません / No facility `{id}`."),
            )
        })?),
    };
    let name = match (
        opt_text("organizer.name", &input.organizer.name, 200)?,
        facility.as_ref(),
    ) {
        (Some(n), _) => n,
        (None, Some(f)) => f.name.clone(),
        (None, None) => {
            return Err(bad(
                "organizer.name",
                "organizer.name: 主催者名か主催施設（facility_id）を入れてください / Give `organizer.name` or `organizer.facility_id`.",
            ));
        }
    };
    let mut areas: Vec<String> = input.areas.iter().map(|a| a.trim().to_string()).collect();
    if areas.is_empty()
        && let Some(a) = facility.as_ref().and_then(|f| f.area_code.clone())
    {
        areas.push(a);
    }
    if areas.is_empty() {
        return Err(bad(
            "areas",
            "areas: 二次医療圏を1つ以上指定してください / Give at least one 二次医療圏 code in `areas`.",
        ));
    }
    for (i, a) in areas.iter().enumerate() {
        if catalog.area(a).is_none() {
            let valid: Vec<&str> = catalog.areas().iter().map(|a| a.code.as_str()).collect();
            return Err(bad(
                &format!("areas[{i}]"),
                format!(
                    "areas[{i}]: 二次医療圏 `{a}` はありません / Unknown area `{a}`. Valid values: {}.",
                    valid.join(", ")
                ),
            ));
        }
    }
    areas.sort();
    areas.dedup();
    let visibility = visibility_of("audience.visibility", input.audience.visibility.as_deref())?;
    let mut professions = Vec::new();
    for (i, p) in input.audience.professions.iter().enumerate() {
        let p = Profession::from_code(p.trim()).ok_or_else(|| {
            bad(
                &format!("audience.professions[{i}]"),
                format!("audience.professions[{i}]: 職種 `{p}` は不明です / Unknown profession `{p}`. Valid values: {}.", Profession::CODES),
            )
        })?;
        if !professions.contains(&p) {
            professions.push(p);
        }
    }
    if let Some(problem) = input.schedule.problem() {
        let field = problem.split(':').next().unwrap_or("schedule").to_string();
        return Err(bad(&field, problem));
    }
    let link = url("place.link", &input.place.link)?;
    let place = EventPlace {
        name: opt_text("place.name", &input.place.name, 200)?,
        address: opt_text("place.address", &input.place.address, 300)?,
        online: input.place.online || link.is_some(),
        link,
        link_visibility: visibility_of(
            "place.link_visibility",
            input.place.link_visibility.as_deref(),
        )?,
    };
    if place.name.is_none() && place.address.is_none() && !place.online {
        return Err(bad(
            "place",
            "place: 会場（name・address）かオンライン（online）を指定してください / Give `place.name` or `place.address`, or `place.online: true`.",
        ));
    }
    if input.capacity == Some(0) {
        return Err(bad(
            "capacity",
            "capacity: 定員は1以上です / `capacity` is at least 1; leave it out when there is no limit.",
        ));
    }
    let apply = opt_text("apply", &input.apply, 1000)?;
    let deadline = match opt_text("deadline", &input.deadline, 10)? {
        None => None,
        Some(d) => {
            Date::parse(&d, &time::macros::format_description!("[year]-[month]-[day]")).map_err(|_| {
                bad("deadline", format!("deadline: 締切は YYYY-MM-DD です / `deadline` is a date YYYY-MM-DD; got `{d}`."))
            })?;
            Some(d)
        }
    };
    let status = match input.status.as_deref().unwrap_or("scheduled") {
        "scheduled" => EventStatus::Scheduled,
        "cancelled" => EventStatus::Cancelled,
        other => {
            return Err(bad(
                "status",
                format!(
                    "status: scheduled か cancelled です / Unknown value `{other}` for `status`. Valid values: scheduled, cancelled."
                ),
            ));
        }
    };
    Ok(Event {
        kind,
        title,
        description,
        organizer: Organizer {
            facility_id: facility.map(|f| f.id.clone()),
            name,
        },
        areas,
        audience: EventAudience {
            visibility,
            professions,
        },
        schedule: input.schedule,
        place,
        capacity: input.capacity,
        apply,
        deadline,
        credits: opt_text("credits", &input.credits, 500)?,
        materials: url("materials", &input.materials)?,
        status,
        ..base
    })
}

/// Who may create, change or delete `e`: admins; a coordinator when every area of it is
/// theirs; a facility editor when it is organized by one of their facilities.
fn may_write(user: &User, e: &Event) -> Result<(), ApiError> {
    let ok = !user.disabled
        && match user.role {
            Role::Admin => true,
            Role::Coordinator => e.areas.iter().all(|a| user.areas.contains(a)),
            Role::FacilityEditor => e
                .organizer
                .facility_id
                .as_ref()
                .is_some_and(|f| user.facilities.contains(f)),
            Role::Professional => false,
        };
    if ok {
        return Ok(());
    }
    Err(ApiError::forbidden(
        "forbidden",
        "研修・会議を登録・変更できるのは、管理者、対象の圏域すべての調整員、主催施設の施設担当者です / Events are created and changed by admins, by coordinators whose areas include every area of the event, and by the facility editors of the organizing facility.",
    ))
}

fn written(e: &Event, created: bool) -> HttpResponse {
    let mut r = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    if created {
        r.insert_header((header::LOCATION, format!("/api/v1/events/{}", e.id)));
    }
    r.insert_header((header::ETAG, etag(e)))
        .insert_header(("cache-control", "no-store"))
        .json(detail(e))
}

fn stale(e: &Event, audience: Audience) -> ApiError {
    let current = project_event(e, audience)
        .map(|e| serde_json::to_value(e).unwrap_or_default())
        .unwrap_or(Value::Null);
    ApiError::precondition_failed(
        "他の人がこの研修・会議を変更しました。現在の内容を確認してからやり直してください / Someone changed this event since your version; `current` is their version. Send your change again with its ETag.",
        current,
        etag(e),
    )
}

#[utoipa::path(post, path = "/api/v1/events", tag = "events",
    security(("session" = []), ("token" = [])),
    request_body = EventInput,
    responses(
        (status = 201, description = "The new event (as the detail), with Location and ETag", body = Object),
        (status = 400, description = "A field is invalid (named in `field`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, the areas' coordinator or the organizer's facility editor; or no CSRF token", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn create_event(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<EventInput>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let caller = auth::writer(&req, &state).await?;
    let user = caller.require_user()?.clone();
    let token = crate::auth::random_token().map_err(|e| ApiError::internal(&e))?;
    let at = crate::auth::timestamp(crate::auth::now());
    let base = Event {
        id: format!("ev-{}", &crate::auth::token_hash(&token)[..16]),
        kind: EventKind::Training,
        title: String::new(),
        description: None,
        organizer: Organizer {
            facility_id: None,
            name: String::new(),
        },
        areas: Vec::new(),
        audience: EventAudience {
            visibility: Visibility::Public,
            professions: Vec::new(),
        },
        schedule: body.schedule.clone(),
        place: EventPlace {
            name: None,
            address: None,
            online: false,
            link: None,
            link_visibility: Visibility::Public,
        },
        capacity: None,
        apply: None,
        deadline: None,
        credits: None,
        materials: None,
        status: EventStatus::Scheduled,
        created_by: caller.actor(),
        created_at: at.clone(),
        updated_at: at.clone(),
        version: 1,
    };
    let e = event_of(&state, body.into_inner(), base)?;
    may_write(&user, &e)?;
    let store = state.store.clone();
    let actor = caller.actor();
    let e = blocking(move || {
        store.create_event(
            &e,
            &Edit {
                actor: &actor,
                source: "api",
                at: &at,
            },
        )
    })
    .await?;
    state.changed.notify_waiters();
    let shown = project_event(&e, caller.audience()).unwrap_or(e);
    Ok(written(&shown, true))
}

/// The stored event `id` for a write by `caller`, with the version `If-Match` names.
async fn write_start(
    req: &HttpRequest,
    state: &AppState,
    id: &str,
) -> Result<(Caller, User, Event, i64), ApiError> {
    let caller = auth::writer(req, state).await?;
    let user = caller.require_user()?.clone();
    let store = state.store.clone();
    let key = id.to_string();
    let current = blocking(move || store.event(&key))
        .await?
        .filter(|e| project_event(e, caller.audience()).is_some())
        .ok_or_else(|| absent(id))?;
    may_write(&user, &current)?;
    let version = if_match(req)?;
    Ok((caller, user, current, version))
}

#[utoipa::path(put, path = "/api/v1/events/{id}", tag = "events",
    security(("session" = []), ("token" = [])),
    params(("id" = String, Path, description = "Event id"), ("If-Match" = String, Header, description = "The ETag of the version edited")),
    request_body = EventInput,
    responses(
        (status = 200, description = "The changed event, with its new ETag", body = Object),
        (status = 400, description = "A field is invalid (named in `field`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the caller's to change, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed meanwhile: `current` is the version now", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn replace_event(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<EventInput>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let id = path.into_inner();
    let (caller, user, current, version) = write_start(&req, &state, &id).await?;
    let at = crate::auth::timestamp(crate::auth::now());
    let mut base = current.clone();
    base.updated_at = at.clone();
    let mut next = event_of(&state, body.into_inner(), base)?;
    // A link the caller cannot see is kept as it was.
    if !caller.audience().may_see(current.place.link_visibility) && next.place.link.is_none() {
        next.place.link = current.place.link.clone();
    }
    may_write(&user, &next)?;
    let store = state.store.clone();
    let actor = caller.actor();
    let out = blocking(move || {
        store.replace_event(
            &next,
            version,
            &Edit {
                actor: &actor,
                source: "api",
                at: &at,
            },
        )
    })
    .await?;
    match out {
        EventWrite::Done(e) => {
            state.changed.notify_waiters();
            let shown = project_event(&e, caller.audience()).unwrap_or(*e);
            Ok(written(&shown, false))
        }
        EventWrite::NotFound => Err(absent(&id)),
        EventWrite::Stale(e) => Err(stale(&e, caller.audience())),
    }
}

#[utoipa::path(delete, path = "/api/v1/events/{id}", tag = "events",
    security(("session" = []), ("token" = [])),
    params(("id" = String, Path, description = "Event id"), ("If-Match" = String, Header, description = "The ETag of the version deleted")),
    responses(
        (status = 204, description = "Deleted (to keep it in the record, set `status: cancelled` instead)"),
        (status = 400, description = "`If-Match` is not an ETag this server issued, or the id is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the caller's to delete, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn delete_event(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let id = path.into_inner();
    let (caller, _, _, version) = write_start(&req, &state, &id).await?;
    let store = state.store.clone();
    let actor = caller.actor();
    let at = crate::auth::timestamp(crate::auth::now());
    let key = id.clone();
    let out = blocking(move || {
        store.delete_event(
            &key,
            version,
            &Edit {
                actor: &actor,
                source: "api",
                at: &at,
            },
        )
    })
    .await?;
    match out {
        EventWrite::Done(_) => {
            state.changed.notify_waiters();
            Ok(HttpResponse::NoContent().finish())
        }
        EventWrite::NotFound => Err(absent(&id)),
        EventWrite::Stale(e) => Err(stale(&e, caller.audience())),
    }
}

// -------------------------------------------------------------------------------------------
// The iCalendar feed and feed tokens
// -------------------------------------------------------------------------------------------

fn ics_date(d: Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day())
}

fn ics_local(d: Date, t: ClockTime) -> String {
    let m = t.minutes();
    let (d, m) = if m >= 24 * 60 {
        (d.next_day().unwrap_or(d), m - 24 * 60)
    } else {
        (d, m)
    };
    format!("{}T{:02}{:02}00", ics_date(d), m / 60, m % 60)
}

fn ics_stamp(ts: &str) -> String {
    match crate::auth::parse_timestamp(ts) {
        Some(t) => {
            let t = t.to_offset(time::UtcOffset::UTC);
            format!(
                "{}T{:02}{:02}{:02}Z",
                ics_date(t.date()),
                t.hour(),
                t.minute(),
                t.second()
            )
        }
        None => "19700101T000000Z".into(),
    }
}

/// One VEVENT of the projected event `e`.
fn vevent(ics: &mut Ics, e: &Event, today: Date) {
    let s = &e.schedule;
    // RFC 5545 counts DTSTART as an occurrence: it is the rule's first date.
    let first = s.first_rule_date().unwrap_or(s.start);
    let at = |d: Date| match s.from {
        Some(t) => ics_local(d, t),
        None => ics_date(d),
    };
    let param = if s.from.is_some() {
        ";TZID=Asia/Tokyo"
    } else {
        ";VALUE=DATE"
    };
    ics.line("BEGIN", "VEVENT");
    ics.line("UID", &format!("{}@pallimap", e.id));
    ics.line("DTSTAMP", &ics_stamp(&e.updated_at));
    ics.line(&format!("DTSTART{param}"), &at(first));
    match (s.from, s.to) {
        (Some(_), Some(t)) => ics.line("DTEND;TZID=Asia/Tokyo", &ics_local(first, t)),
        (None, _) => ics.line(
            "DTEND;VALUE=DATE",
            &ics_date(first.next_day().unwrap_or(first)),
        ),
        _ => {}
    }
    if let Some(rule) = s.rrule_value() {
        ics.line("RRULE", &rule);
    }
    let mut ex: Vec<Date> = s.cancelled.clone();
    ex.extend(s.holiday_skips(today, today + Duration::days(731)));
    ex.sort();
    ex.dedup();
    if !ex.is_empty() {
        let v: Vec<String> = ex.iter().map(|d| at(*d)).collect();
        ics.line(&format!("EXDATE{param}"), &v.join(","));
    }
    let rdates: Vec<String> = s
        .extra
        .iter()
        .filter(|d| **d != first && !s.cancelled.contains(d))
        .map(|d| at(*d))
        .collect();
    if !rdates.is_empty() {
        ics.line(&format!("RDATE{param}"), &rdates.join(","));
    }
    ics.text("SUMMARY", &e.title);
    let mut desc = vec![format!("種類: {}", e.kind.label_ja())];
    let aud = match e.audience.visibility {
        Visibility::Public => "一般公開",
        _ => "専門職向け",
    };
    let profs: Vec<&str> = e
        .audience
        .professions
        .iter()
        .map(|p| p.label_ja())
        .collect();
    if profs.is_empty() {
        desc.push(format!("対象: {aud}"));
    } else {
        desc.push(format!("対象: {aud}（{}）", profs.join("・")));
    }
    desc.push(format!("日程: {}", s.label_ja()));
    desc.push(format!("主催: {}", e.organizer.name));
    if let Some(c) = e.capacity {
        desc.push(format!("定員: {c}名"));
    }
    if let Some(a) = &e.apply {
        desc.push(format!("申込: {a}"));
    }
    if let Some(d) = &e.deadline {
        desc.push(format!("締切: {d}"));
    }
    if let Some(c) = &e.credits {
        desc.push(format!("単位: {c}"));
    }
    if let Some(m) = &e.materials {
        desc.push(format!("資料: {m}"));
    }
    if let Some(d) = &e.description {
        desc.push(String::new());
        desc.push(d.clone());
    }
    ics.text("DESCRIPTION", &desc.join("\n"));
    let mut location: Vec<&str> = [e.place.name.as_deref(), e.place.address.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if e.place.online {
        location.push("オンライン");
    }
    if !location.is_empty() {
        ics.text("LOCATION", &location.join(" "));
    }
    if let Some(link) = &e.place.link {
        ics.line("URL", link);
    }
    ics.line(
        "STATUS",
        match e.status {
            EventStatus::Cancelled => "CANCELLED",
            EventStatus::Scheduled => "CONFIRMED",
        },
    );
    ics.line("SEQUENCE", &e.version.to_string());
    ics.line("END", "VEVENT");
}

#[utoipa::path(get, path = "/api/v1/events.ics", tag = "events",
    params(
        ("area" = Option<String>, Query, description = "二次医療圏 codes, comma-separated"),
        ("audience" = Option<String>, Query, description = "public or professional"),
        ("kind" = Option<String>, Query, description = "Event kinds, comma-separated"),
        ("token" = Option<String>, Query, description = "A calendar feed token (POST /api/v1/calendar-feeds): the feed then shows what its account may see"),
    ),
    responses(
        (status = 200, description = "An iCalendar (RFC 5545) feed, one VEVENT per event with its recurrence", content_type = "text/calendar"),
        (status = 400, description = "A parameter is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The feed token is unknown, deleted, or its account disabled", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn events_ics(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let p = Params::parse(req.query_string(), &["area", "audience", "kind", "token"])?;
    let filter = Filter {
        organizer: None,
        q: None,
        ..Filter::parse(&state, &p)?
    };
    let audience = match p.get("token") {
        Some(token) => {
            let store = state.store.clone();
            let hash = crate::auth::token_hash(token);
            let at = crate::auth::timestamp(crate::auth::now());
            let user = blocking(move || store.feed_user(&hash, &at)).await?;
            user.ok_or_else(|| {
                ApiError::unauthorized(
                    "このカレンダーの購読リンクは使えません。新しいリンクを作成してください / This calendar feed link is unknown, deleted, or its account is disabled; create a new one (POST /api/v1/calendar-feeds).",
                )
            })?
            .role
            .audience()
        }
        None => auth::caller(&req, &state).await?.audience(),
    };
    let catalog = state.catalog.load();
    let place = if filter.areas.is_empty() {
        catalog
            .areas()
            .first()
            .map_or("全域".to_string(), |a| a.prefecture.clone())
    } else {
        filter
            .areas
            .iter()
            .filter_map(|a| catalog.area(a).map(|a| a.name.clone()))
            .collect::<Vec<_>>()
            .join("・")
    };
    let mut ics = Ics::default();
    ics.line("BEGIN", "VCALENDAR");
    ics.line("VERSION", "2.0");
    ics.line("PRODID", "-//pallimap//events//JA");
    ics.line("CALSCALE", "GREGORIAN");
    ics.line("METHOD", "PUBLISH");
    ics.text("X-WR-CALNAME", &format!("緩和ケア 研修・会議 {place}"));
    ics.line("X-WR-TIMEZONE", "Asia/Tokyo");
    ics::tokyo_timezone(&mut ics);
    let today = today();
    for e in visible(&state, audience).await? {
        if filter.keeps(&e) {
            vevent(&mut ics, &e, today);
        }
    }
    ics.line("END", "VCALENDAR");
    let cache = if audience == Audience::Public {
        "public, max-age=300"
    } else {
        "private, no-store"
    };
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header(("cache-control", cache))
        .body(ics.finish()))
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedInput {
    /// A name for the subscription (≤ 100 characters), e.g. 「職場のOutlook」.
    pub label: Option<String>,
    /// 二次医療圏 codes, comma-separated, put into the feed URL.
    pub area: Option<String>,
    /// public or professional, put into the feed URL.
    pub audience: Option<String>,
}

/// A new feed: its URL carries the token, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewFeed {
    pub id: i64,
    /// `<public URL>/api/v1/events.ics?token=…&area=…`
    pub url: String,
    /// The same address as `webcal://`, which calendar apps open as a subscription.
    pub webcal: String,
    pub label: Option<String>,
    pub area: Option<String>,
    pub audience: Option<String>,
    pub created_at: String,
}

#[utoipa::path(post, path = "/api/v1/calendar-feeds", tag = "events",
    security(("session" = []), ("token" = [])),
    request_body(content = Option<FeedInput>, description = "Optional: label, area and audience of the feed (all optional)"),
    responses(
        (status = 201, description = "The feed; its URL (with the token) is never shown again", body = NewFeed),
        (status = 400, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No CSRF token", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn create_feed(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let caller = auth::writer(&req, &state).await?;
    let user = caller.require_user()?.clone();
    let input: FeedInput = super::write::optional_json(&body)?;
    let label = opt_text("label", &input.label, 100)?;
    let area = match opt_text("area", &input.area, 200)? {
        None => None,
        Some(a) => {
            let p = Params::parse(&format!("area={}", a.replace('&', "%26")), &["area"])
                .map_err(|e| bad("area", e.detail))?;
            let list = area_list(&state, &p).map_err(|e| bad("area", e.detail))?;
            (!list.is_empty()).then(|| list.join(","))
        }
    };
    let audience = match input.audience.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(v @ ("public" | "professional")) => Some(v.to_string()),
        Some(v) => {
            return Err(bad(
                "audience",
                format!("Unknown value `{v}` for `audience`. Valid values: public, professional."),
            ));
        }
    };
    let token = crate::auth::random_token().map_err(|e| ApiError::internal(&e))?;
    let hash = crate::auth::token_hash(&token);
    let at = crate::auth::timestamp(crate::auth::now());
    let store = state.store.clone();
    let (l, a, au) = (label.clone(), area.clone(), audience.clone());
    let feed = blocking(move || {
        store.add_calendar_feed(
            user.id,
            &hash,
            l.as_deref(),
            a.as_deref(),
            au.as_deref(),
            &at,
        )
    })
    .await?;
    let base = match &state.web.public_url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    };
    let mut url = format!("{base}/api/v1/events.ics?token={token}");
    if let Some(a) = &area {
        url.push_str(&format!("&area={a}"));
    }
    if let Some(a) = &audience {
        url.push_str(&format!("&audience={a}"));
    }
    let webcal = match url.split_once("://") {
        Some((_, rest)) => format!("webcal://{rest}"),
        None => url.clone(),
    };
    Ok(HttpResponse::Created()
        .insert_header(("cache-control", "no-store"))
        .json(NewFeed {
            id: feed.id,
            url,
            webcal,
            label,
            area,
            audience,
            created_at: feed.created_at,
        }))
}

#[utoipa::path(get, path = "/api/v1/calendar-feeds", tag = "events",
    security(("session" = []), ("token" = [])),
    responses(
        (status = 200, description = "The caller's calendar feeds (without their tokens): `{items: [...]}`", body = FeedList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn list_feeds(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let caller = auth::caller(&req, &state).await?;
    let uid = caller.require_user()?.id;
    let store = state.store.clone();
    let items = blocking(move || store.calendar_feeds(uid)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(FeedList { items }))
}

/// The caller's calendar feeds.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedList {
    pub items: Vec<crate::store::CalendarFeed>,
}

#[utoipa::path(delete, path = "/api/v1/calendar-feeds/{id}", tag = "events",
    security(("session" = []), ("token" = [])),
    params(("id" = i64, Path, description = "Feed id")),
    responses(
        (status = 204, description = "Deleted: its URL answers 401 from now on"),
        (status = 400, description = "The id is not an integer in range", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The caller has no such feed", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn delete_feed(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let id = path.into_inner();
    let caller = auth::writer(&req, &state).await?;
    let uid = caller.require_user()?.id;
    let store = state.store.clone();
    if blocking(move || store.delete_calendar_feed(uid, id)).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found(format!(
            "購読リンク {id} はありません / You have no calendar feed {id}."
        )))
    }
}

// -------------------------------------------------------------------------------------------
// The report of activity
// -------------------------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizerCount {
    pub organizer: String,
    pub facility_id: Option<String>,
    pub count: usize,
    /// Occurrences per kind.
    pub kinds: BTreeMap<String, usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventReport {
    pub from: String,
    pub to: String,
    /// Occurrences held (not cancelled) in the range.
    pub total: usize,
    pub by_kind: BTreeMap<String, usize>,
    /// Most active first.
    pub by_organizer: Vec<OrganizerCount>,
    /// Per 二次医療圏; an event of two areas counts in both.
    pub by_area: BTreeMap<String, usize>,
}

#[utoipa::path(get, path = "/api/v1/events/report", tag = "events",
    security(("session" = []), ("token" = [])),
    params(
        ("from" = Option<String>, Query, description = "First date YYYY-MM-DD (default a year ago)"),
        ("to" = Option<String>, Query, description = "Last date YYYY-MM-DD (default today; at most ten years after from)"),
        ("area" = Option<String>, Query, description = "二次医療圏 codes, comma-separated"),
    ),
    responses(
        (status = 200, description = "Occurrences held in the range by kind, organizer and area: the region's record of activity", body = EventReport),
        (status = 400, description = "A parameter is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a coordinator or admin", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn activity_report(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let p = Params::parse(req.query_string(), &["from", "to", "area"])?;
    let caller = auth::caller(&req, &state).await?;
    let user = caller.require_user()?;
    if !matches!(user.role, Role::Coordinator | Role::Admin) || user.disabled {
        return Err(ApiError::forbidden(
            "forbidden",
            "活動の集計は調整員と管理者のものです / The activity report is for coordinators and admins.",
        ));
    }
    let today = today();
    let default_from = today - Duration::days(365);
    let from = date_param(&p, "from")?.unwrap_or(default_from);
    let (from, to) = if p.get("to").is_none() && from <= today {
        range(&p, from, (today - from).whole_days(), MAX_REPORT_DAYS)?
    } else {
        range(&p, from, 365, MAX_REPORT_DAYS)?
    };
    let areas = area_list(&state, &p)?;
    let mut out = EventReport {
        from: from.to_string(),
        to: to.to_string(),
        total: 0,
        by_kind: BTreeMap::new(),
        by_organizer: Vec::new(),
        by_area: BTreeMap::new(),
    };
    let mut organizers: BTreeMap<(String, Option<String>), OrganizerCount> = BTreeMap::new();
    for e in visible(&state, caller.audience()).await? {
        if e.status == EventStatus::Cancelled
            || (!areas.is_empty() && !e.areas.iter().any(|a| areas.contains(a)))
        {
            continue;
        }
        let n = e.schedule.between(from, to, 100_000).len();
        if n == 0 {
            continue;
        }
        out.total += n;
        *out.by_kind.entry(e.kind.code().into()).or_default() += n;
        for a in &e.areas {
            *out.by_area.entry(a.clone()).or_default() += n;
        }
        let o = organizers
            .entry((e.organizer.name.clone(), e.organizer.facility_id.clone()))
            .or_insert_with(|| OrganizerCount {
                organizer: e.organizer.name.clone(),
                facility_id: e.organizer.facility_id.clone(),
                count: 0,
                kinds: BTreeMap::new(),
            });
        o.count += n;
        *o.kinds.entry(e.kind.code().into()).or_default() += n;
    }
    out.by_organizer = organizers.into_values().collect();
    out.by_organizer
        .sort_by(|a, b| b.count.cmp(&a.count).then(a.organizer.cmp(&b.organizer)));
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(out))
}
