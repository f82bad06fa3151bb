//! Surveys and pharmacy groups over HTTP.
//!
//! The survey definitions are public (`GET /api/v1/surveys`, `…/{code}`). Answer sets come
//! through a facility's one-time update link (they wait in the review queue) or from a
//! coordinator (`POST /api/v1/facilities/{id}/surveys/{code}`, applied at once and kept,
//! decided, with the answers). Pharmacy groups are recorded by coordinators or the member
//! pharmacies' editors.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::instrument;
use utoipa::ToSchema;

use super::AppState;
use super::auth::{self, Caller};
use super::dto::FacilityView;
use super::error::{ApiError, Problem};
use super::params::Params;
use super::session::blocking;
use super::write::{bad, caught_up, denied, edit_error, etag, if_match, opt_text, stored};
use crate::domain::survey::{self, Answered, Answers, Survey, SurveyCode};
use crate::domain::{Audience, Facility, FacilityKind, Origin, PharmacyGroup, Role, project};
use crate::store::{Edit, NewProposal};

/// An answer set as a respondent sends it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyInput {
    /// pharmacy, dental or clinic.
    pub code: String,
    /// The version answered (the form's); an old version is still accepted while defined.
    pub version: u32,
    /// Who answered (e.g. 薬剤師 山田), up to 100 characters; kept with the answers, not published.
    pub respondent: Option<String>,
    /// Question id → answer, as the definition's types say.
    #[schema(value_type = Object)]
    pub answers: Value,
}

/// The coordinator's form of [`SurveyInput`]: the code is in the path.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnteredAnswers {
    pub version: u32,
    pub respondent: Option<String>,
    #[schema(value_type = Object)]
    pub answers: Value,
}

fn survey_code(field: &str, code: &str) -> Result<SurveyCode, ApiError> {
    SurveyCode::from_code(code).ok_or_else(|| {
        bad(
            field,
            format!("Unknown survey `{code}`. Surveys: pharmacy, dental, clinic."),
        )
    })
}

/// Validate an answer set for `f`: the survey must be the one for its kind, the version one
/// defined, every answer of its question's type. Errors name `{prefix}answers.{question}`.
pub(super) fn answers_for(
    f: &Facility,
    code: &str,
    version: u32,
    answers: &Value,
    prefix: &str,
) -> Result<(&'static Survey, Answers), ApiError> {
    let c = survey_code(&format!("{prefix}code"), code)?;
    let s = Survey::get(c, version).ok_or_else(|| {
        bad(
            &format!("{prefix}version"),
            format!(
                "Survey {code} has no version {version}; the current one is {}.",
                Survey::current(c).version
            ),
        )
    })?;
    if !s.kinds.contains(&f.kind) {
        return Err(bad(
            &format!("{prefix}code"),
            format!(
                "The {code} survey is for {}; this facility is a {} ({}).",
                s.kinds
                    .iter()
                    .map(|k| k.label_ja())
                    .collect::<Vec<_>>()
                    .join("・"),
                f.kind.label_ja(),
                f.kind.code()
            ),
        ));
    }
    let a = survey::validate(s, answers)
        .map_err(|e| bad(&format!("{prefix}answers.{}", e.field), e.message))?;
    Ok((s, a))
}

/// The answer set as a proposal row keeps it.
pub(super) fn proposal_of(
    s: &Survey,
    a: &Answers,
    respondent: Option<String>,
    note: Option<String>,
) -> NewProposal {
    NewProposal {
        changes: a.to_value().to_string(),
        note,
        survey: Some((s.code.code().to_string(), s.version as i32)),
        respondent,
    }
}

/// The change an approved answer set makes.
pub(super) fn applying(
    s: &'static Survey,
    a: Answers,
    at: String,
    origin: Origin,
) -> impl FnOnce(&mut Facility) -> Result<(), String> + Send + 'static {
    move |f| {
        survey::apply(s, &a, f, Answered { at: &at, origin });
        Ok(())
    }
}

/// Every survey's current definition.
#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyList {
    #[schema(value_type = Vec<Object>)]
    pub surveys: Vec<&'static Survey>,
}

#[utoipa::path(get, path = "/api/v1/surveys", tag = "surveys",
    responses((status = 200, description = "The current version of every survey definition: questions, their types, which field each fills and its default visibility", body = SurveyList)))]
#[instrument(skip_all, err(level = "info"))]
pub async fn list_surveys(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    Ok(HttpResponse::Ok().json(SurveyList {
        surveys: SurveyCode::ALL
            .iter()
            .map(|c| Survey::current(*c))
            .collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/surveys/{code}", tag = "surveys",
    params(("code" = String, Path, description = "pharmacy, dental or clinic"),
           ("version" = Option<u32>, Query, description = "A version (default: the current one)")),
    responses(
        (status = 200, description = "The survey's definition", body = Object),
        (status = 400, description = "Bad version", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such survey or version", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn get_survey(
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let p = Params::parse(req.query_string(), &["version"])?;
    let code = path.into_inner();
    let c = SurveyCode::from_code(&code).ok_or_else(|| {
        ApiError::not_found(format!(
            "No survey `{code}`. Surveys: pharmacy, dental, clinic."
        ))
    })?;
    let s = match p.get("version") {
        None => Survey::current(c),
        Some(v) => {
            let n: u32 = v.parse().map_err(|_| {
                ApiError::bad_parameter(
                    "version",
                    format!("`version` is a whole number; got `{v}`."),
                )
            })?;
            Survey::get(c, n)
                .ok_or_else(|| ApiError::not_found(format!("Survey {code} has no version {n}.")))?
        }
    };
    Ok(HttpResponse::Ok().json(s))
}

/// What a coordinator gets back after entering answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Entered<'a> {
    /// The answer set, kept decided (approved by the one who entered it).
    pub answer_set_id: i64,
    pub facility: FacilityView<'a>,
}

#[utoipa::path(post, path = "/api/v1/facilities/{id}/surveys/{code}", tag = "surveys",
    security(("session" = []), ("token" = [])),
    params(("id" = String, Path, description = "Facility id"),
           ("code" = String, Path, description = "pharmacy, dental or clinic"),
           ("If-Match" = String, Header, description = "The ETag of the version seen")),
    request_body = EnteredAnswers,
    responses(
        (status = 200, description = "Applied to the facility's services as one edit, the answers kept with the survey version, respondent and date", body = Entered),
        (status = 400, description = "An answer is invalid (`field` names it), or the survey is not for this kind of facility", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the area's coordinator or an admin, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such facility or survey", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The facility changed since it was seen", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn enter_answers(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<EnteredAnswers>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let (id, code) = path.into_inner();
    let caller = auth::writer(&req, &state).await?;
    let user = caller.require_user()?.clone();
    if !matches!(user.role, Role::Coordinator | Role::Admin) {
        return Err(ApiError::forbidden(
            "forbidden",
            "Survey answers are entered by the area's coordinator or an admin; facility staff answer through their update link.",
        ));
    }
    if SurveyCode::from_code(&code).is_none() {
        return Err(ApiError::not_found(format!(
            "No survey `{code}`. Surveys: pharmacy, dental, clinic."
        )));
    }
    let version = if_match(&req)?;
    let current = stored(&state, &id).await?;
    user.may_edit(&current).map_err(denied)?;
    let input = body.into_inner();
    let (s, a) = answers_for(&current, &code, input.version, &input.answers, "")?;
    let respondent = opt_text("respondent", &input.respondent, 100)?;
    let at = crate::auth::timestamp(crate::auth::now());
    let proposal = proposal_of(s, &a, respondent, None);
    let change = applying(s, a, at.clone(), Origin::Survey);
    let store = state.store.clone();
    let actor = caller.actor();
    let source = format!("survey:{}", s.key());
    let (f, answer_set_id) = web::block(move || {
        store.record_answers(
            &id,
            version,
            &Edit {
                actor: &actor,
                source: &source,
                at: &at,
            },
            change,
            proposal,
            "coordinator",
        )
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|e| edit_error(&state, &caller, e))?;
    caught_up(&state).await;
    let shown = project(&f, Audience::Internal);
    let catalog = state.catalog.load();
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(&f)))
        .insert_header(("cache-control", "no-store"))
        .json(Entered {
            answer_set_id,
            facility: FacilityView::new(&shown, &catalog, &state.viewer(Audience::Internal)),
        }))
}

// -------------------------------------------------------------------------------------------
// Pharmacy groups
// -------------------------------------------------------------------------------------------

/// A group as sent: members by facility id (pharmacies, two to fifty).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupInput {
    /// e.g. 川越市薬剤師会 麻薬譲渡グループ1
    pub name: String,
    pub members: Vec<String>,
    /// The last day of the joint licence, YYYY-MM-DD.
    pub licence_valid_until: String,
    /// Usual hours for a partner's stock to arrive (0–168).
    pub transfer_hours: Option<u32>,
    pub note: Option<String>,
}

const MAX_MEMBERS: usize = 50;

/// Who may record or change `members`' group: a coordinator or admin who may edit every
/// member, or a facility editor of at least one member.
fn may_record(caller: &Caller, members: &[Facility]) -> Result<(), ApiError> {
    let user = caller.require_user()?;
    let ok = match user.role {
        Role::Admin | Role::Coordinator => members.iter().all(|f| user.may_edit(f).is_ok()),
        Role::FacilityEditor => members.iter().any(|f| user.may_edit(f).is_ok()),
        Role::Professional => false,
    };
    if ok && !user.disabled {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "forbidden",
            "A pharmacy group is recorded by the coordinator of every member's area, an admin, or an editor of one of its pharmacies.",
        ))
    }
}

/// The validated group and its members' stored entries.
async fn group_of(
    state: &AppState,
    input: &GroupInput,
) -> Result<(PharmacyGroup, Vec<Facility>), ApiError> {
    let name = super::write::text("name", input.name.trim(), 200)?;
    if !(2..=MAX_MEMBERS).contains(&input.members.len()) {
        return Err(bad(
            "members",
            format!("A group has 2 to {MAX_MEMBERS} member pharmacies (facility ids)."),
        ));
    }
    let mut members = Vec::new();
    for (i, id) in input.members.iter().enumerate() {
        if input.members[..i].contains(id) {
            return Err(bad(
                &format!("members[{i}]"),
                format!("`{id}` is listed twice."),
            ));
        }
        let f = stored(state, id)
            .await
            .map_err(|_| bad(&format!("members[{i}]"), format!("No facility `{id}`.")))?;
        if f.kind != FacilityKind::Pharmacy {
            return Err(bad(
                &format!("members[{i}]"),
                format!("`{id}` is a {}, not a pharmacy.", f.kind.label_ja()),
            ));
        }
        members.push(f);
    }
    let until = input.licence_valid_until.trim();
    if time::Date::parse(
        until,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .is_err()
    {
        return Err(bad(
            "licence_valid_until",
            format!("`licence_valid_until` is a date YYYY-MM-DD, e.g. 2027-03-31; got `{until}`."),
        ));
    }
    if input.transfer_hours.is_some_and(|h| h > 168) {
        return Err(bad("transfer_hours", "`transfer_hours` is 0 to 168."));
    }
    Ok((
        PharmacyGroup {
            id: 0,
            name,
            members: input.members.clone(),
            licence_valid_until: until.to_string(),
            transfer_hours: input.transfer_hours,
            note: opt_text("note", &input.note, 500)?,
            sample: false,
            updated_by: String::new(),
            updated_at: String::new(),
        },
        members,
    ))
}

/// A group as shown: its members named, the licence's state today.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupView {
    pub id: i64,
    pub name: String,
    #[schema(value_type = Vec<Object>)]
    pub members: Vec<Value>,
    pub licence_valid_until: String,
    /// Whether the licence is valid today (JST).
    pub valid: bool,
    pub transfer_hours: Option<u32>,
    pub note: Option<String>,
    pub sample: bool,
    pub updated_at: String,
}

fn group_view(state: &AppState, g: &PharmacyGroup) -> GroupView {
    let catalog = state.catalog.load();
    GroupView {
        id: g.id,
        name: g.name.clone(),
        members: g
            .members
            .iter()
            .map(|id| {
                let name = catalog.get(id).map(|f| f.name.clone());
                serde_json::json!({"id": id, "name": name})
            })
            .collect(),
        licence_valid_until: g.licence_valid_until.clone(),
        valid: g.valid_on(&today()),
        transfer_hours: g.transfer_hours,
        note: g.note.clone(),
        sample: g.sample,
        updated_at: g.updated_at.clone(),
    }
}

/// Today's date in JST, YYYY-MM-DD.
pub(super) fn today() -> String {
    crate::domain::schedule::jst(crate::auth::now())
        .date()
        .to_string()
}

/// Groups are professional information: which pharmacies pass narcotics to each other.
async fn professional(req: &HttpRequest, state: &AppState) -> Result<Caller, ApiError> {
    let caller = auth::caller(req, state).await?;
    if caller.audience() == Audience::Public {
        return Err(ApiError::unauthorized(
            "Pharmacy groups are shown to signed-in professionals only: sign in (POST /api/v1/session) or send an API token. / 薬局グループは医療・介護職のログインが必要です。",
        ));
    }
    Ok(caller)
}

#[utoipa::path(get, path = "/api/v1/pharmacy-groups", tag = "pharmacy-groups",
    security(("session" = []), ("token" = [])),
    responses(
        (status = 200, description = "Every group, by id", body = Vec<GroupView>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn list_groups(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    professional(&req, &state).await?;
    let store = state.store.clone();
    let groups = blocking(move || store.pharmacy_groups()).await?;
    let views: Vec<GroupView> = groups.iter().map(|g| group_view(&state, g)).collect();
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(views))
}

async fn put_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: Option<i64>,
    input: GroupInput,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let caller = auth::writer(&req, &state).await?;
    // 401 before anything is looked up: the public learns nothing about groups or members.
    caller.require_user()?;
    let (group, members) = group_of(&state, &input).await?;
    may_record(&caller, &members)?;
    if let Some(id) = id {
        // Changing a group needs the right over its present members too.
        let store = state.store.clone();
        let old = blocking(move || store.pharmacy_group(id))
            .await?
            .ok_or_else(|| ApiError::not_found(format!("No pharmacy group {id}.")))?;
        let mut was = Vec::new();
        for m in &old.members {
            if let Ok(f) = stored(&state, m).await {
                was.push(f);
            }
        }
        may_record(&caller, &was)?;
    }
    let store = state.store.clone();
    let actor = caller.actor();
    let at = crate::auth::timestamp(crate::auth::now());
    let saved = blocking(move || {
        store.put_pharmacy_group(
            id,
            &group,
            &Edit {
                actor: &actor,
                source: "api",
                at: &at,
            },
        )
    })
    .await?
    .ok_or_else(|| ApiError::not_found("No such pharmacy group."))?;
    caught_up(&state).await;
    let status = if id.is_some() {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::CREATED
    };
    Ok(HttpResponse::build(status)
        .insert_header(("cache-control", "no-store"))
        .json(group_view(&state, &saved)))
}

#[utoipa::path(post, path = "/api/v1/pharmacy-groups", tag = "pharmacy-groups",
    security(("session" = []), ("token" = [])),
    request_body = GroupInput,
    responses(
        (status = 201, description = "Recorded", body = GroupView),
        (status = 400, description = "A field is invalid (`field` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed for these members, or no CSRF token", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn create_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<GroupInput>,
) -> Result<HttpResponse, ApiError> {
    put_group(req, state, None, body.into_inner()).await
}

#[utoipa::path(put, path = "/api/v1/pharmacy-groups/{id}", tag = "pharmacy-groups",
    security(("session" = []), ("token" = [])),
    params(("id" = i64, Path, description = "Group id")),
    request_body = GroupInput,
    responses(
        (status = 200, description = "Replaced", body = GroupView),
        (status = 400, description = "A field is invalid (`field` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed for these members, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn replace_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: web::Json<GroupInput>,
) -> Result<HttpResponse, ApiError> {
    put_group(req, state, Some(path.into_inner()), body.into_inner()).await
}

#[utoipa::path(delete, path = "/api/v1/pharmacy-groups/{id}", tag = "pharmacy-groups",
    security(("session" = []), ("token" = [])),
    params(("id" = i64, Path, description = "Group id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "The id is not an integer in range", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed for its members, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn delete_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let id = path.into_inner();
    let caller = auth::writer(&req, &state).await?;
    // 401 before the lookup: which groups exist is not the public's to probe (404 vs 403).
    caller.require_user()?;
    let store = state.store.clone();
    let old = blocking(move || store.pharmacy_group(id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No pharmacy group {id}.")))?;
    let mut members = Vec::new();
    for m in &old.members {
        if let Ok(f) = stored(&state, m).await {
            members.push(f);
        }
    }
    may_record(&caller, &members)?;
    let store = state.store.clone();
    let actor = caller.actor();
    let at = crate::auth::timestamp(crate::auth::now());
    blocking(move || {
        store.delete_pharmacy_group(
            id,
            &Edit {
                actor: &actor,
                source: "api",
                at: &at,
            },
        )
    })
    .await?;
    caught_up(&state).await;
    Ok(HttpResponse::NoContent().finish())
}
