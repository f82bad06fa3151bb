//! Sign-in, sign-out, who is signed in, and the accounts API for admins.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tracing::instrument;
use utoipa::ToSchema;

use super::AppState;
use super::auth::{self, Caller};
use super::error::{ApiError, Problem};
use super::params::Params;
use crate::domain::{Credential, Role, User};
use crate::store::{NewUser, UserChange};

/// Sign-in credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    #[schema(example = "coordinator@example.jp")]
    pub email: String,
    pub password: String,
}

/// Who is signed in.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct SessionBody {
    pub signed_in: bool,
    /// `anonymous`, `professional`, `facility_editor`, `coordinator` or `admin`.
    #[schema(example = "coordinator")]
    pub role: String,
    pub email: Option<String>,
    pub areas: Vec<String>,
    pub facilities: Vec<String>,
    /// Send as `X-CSRF-Token` with every state-changing request made with the cookie.
    pub csrf: Option<String>,
}

fn session_body(caller: &Caller) -> SessionBody {
    match caller {
        Caller::Anonymous => SessionBody {
            signed_in: false,
            role: "anonymous".into(),
            email: None,
            areas: Vec::new(),
            facilities: Vec::new(),
            csrf: None,
        },
        Caller::Signed { principal, .. } => SessionBody {
            signed_in: true,
            role: principal.user.role.code().into(),
            email: Some(principal.user.email.clone()),
            areas: principal.user.areas.clone(),
            facilities: principal.user.facilities.clone(),
            csrf: match &principal.via {
                Credential::Session { csrf } => Some(csrf.clone()),
                Credential::Token => None,
            },
        },
    }
}

pub(super) async fn blocking<T: Send + 'static, E: std::fmt::Display + Send + 'static>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, ApiError> {
    web::block(f)
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::unavailable(&e))
}

const WRONG: &str = "メールアドレスまたはパスワードが違います / The email or password is wrong.";

/// Refuse with 429 while `subject` has too many recent failures.
async fn check_limit(state: &AppState, subject: String, max: usize) -> Result<(), ApiError> {
    let window = state.auth.failure_window;
    let since = crate::auth::timestamp(
        crate::auth::now() - time::Duration::try_from(window).unwrap_or(time::Duration::ZERO),
    );
    let store = state.store.clone();
    let (n, oldest) = blocking(move || store.auth_failures_since(&subject, &since)).await?;
    if n < max {
        return Ok(());
    }
    let retry = oldest
        .and_then(|o| crate::auth::parse_timestamp(&o))
        .map(|o| {
            let free_at = o + time::Duration::try_from(window).unwrap_or(time::Duration::ZERO);
            (free_at - crate::auth::now()).whole_seconds().max(1) as u64
        })
        .unwrap_or(window.as_secs());
    Err(ApiError::too_many(
        format!(
            "ログインの失敗が続いたため、{retry} 秒後に再度お試しください / Too many failed sign-ins; try again in {retry} s."
        ),
        retry,
    ))
}

#[utoipa::path(post, path = "/api/v1/session", tag = "accounts",
    request_body = SignIn,
    responses(
        (status = 200, description = "Signed in: the session cookie is set; `csrf` goes in `X-CSRF-Token`", body = SessionBody),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong email or password (one message for both)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failures; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<SignIn>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let SignIn { email, password } = body.into_inner();
    let email = email.trim().to_lowercase();
    let by_account = format!("email:{email}");
    let by_address = format!("ip:{}", auth::client_address(&req));
    check_limit(
        &state,
        by_account.clone(),
        state.auth.max_failures_per_account,
    )
    .await?;
    check_limit(
        &state,
        by_address.clone(),
        state.auth.max_failures_per_address,
    )
    .await?;
    let store = state.store.clone();
    let e = email.clone();
    let found = blocking(move || store.user_with_hash(&e)).await?;
    // Verify against a decoy when the account is unknown: the answer and its time are the same.
    let (user, ok) = match found {
        Some((user, hash)) => {
            let ok = web::block(move || crate::auth::verify_password(&password, &hash))
                .await
                .map_err(|e| ApiError::internal(&e))?;
            (Some(user), ok)
        }
        None => {
            web::block(move || crate::auth::verify_password(&password, crate::auth::decoy_hash()))
                .await
                .map_err(|e| ApiError::internal(&e))?;
            (None, false)
        }
    };
    let at = crate::auth::timestamp(crate::auth::now());
    let user = match user.filter(|u| ok && !u.disabled) {
        Some(u) => u,
        None => {
            let store = state.store.clone();
            let at2 = at.clone();
            blocking(move || {
                store.record_auth_failure(&by_account, &at2)?;
                store.record_auth_failure(&by_address, &at2)
            })
            .await?;
            return Err(ApiError::unauthorized(WRONG));
        }
    };
    let token = crate::auth::random_token().map_err(|e| ApiError::internal(&e))?;
    let csrf = crate::auth::random_token().map_err(|e| ApiError::internal(&e))?;
    let store = state.store.clone();
    let (hash, c, uid) = (crate::auth::token_hash(&token), csrf.clone(), user.id);
    blocking(move || {
        store.clear_auth_failures(&by_account)?;
        store.create_session(&hash, uid, &c, &at)
    })
    .await?;
    tracing::info!(user = %user.email, role = user.role.code(), "signed in");
    let caller = Caller::Signed {
        principal: crate::domain::Principal {
            user,
            via: Credential::Session { csrf },
        },
        session: None,
    };
    Ok(HttpResponse::Ok()
        .cookie(auth::session_cookie(&req, &state, &token))
        .insert_header(("cache-control", "no-store"))
        .json(session_body(&caller)))
}

#[utoipa::path(get, path = "/api/v1/session", tag = "accounts",
    responses(
        (status = 200, description = "Who is signed in (`signed_in: false` for the public)", body = SessionBody),
        (status = 401, description = "The cookie or token is no longer valid", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn whoami(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let caller = auth::caller(&req, &state).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(session_body(&caller)))
}

#[utoipa::path(delete, path = "/api/v1/session", tag = "accounts",
    security(("session" = []), ("token" = [])),
    responses(
        (status = 204, description = "Signed out: the session is ended server-side"),
        (status = 401, description = "No valid session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing X-CSRF-Token", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn sign_out(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let caller = auth::writer(&req, &state).await?;
    let Caller::Signed {
        session: Some(hash),
        ..
    } = caller
    else {
        return Err(ApiError::unauthorized("No session to end: sign in first."));
    };
    let store = state.store.clone();
    blocking(move || store.revoke_session(&hash)).await?;
    let mut gone = auth::session_cookie(&req, &state, "");
    gone.make_removal();
    Ok(HttpResponse::NoContent().cookie(gone).finish())
}

/// An account as the API shows it.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct UserBody {
    pub id: i64,
    pub email: String,
    #[schema(example = "coordinator")]
    pub role: String,
    pub areas: Vec<String>,
    pub facilities: Vec<String>,
    pub disabled: bool,
    pub created_at: String,
}

impl From<User> for UserBody {
    fn from(u: User) -> Self {
        UserBody {
            id: u.id,
            email: u.email,
            role: u.role.code().into(),
            areas: u.areas,
            facilities: u.facilities,
            disabled: u.disabled,
            created_at: u.created_at,
        }
    }
}

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    pub email: String,
    /// At least 12 characters.
    pub password: String,
    #[schema(example = "professional")]
    pub role: String,
    #[serde(default)]
    pub areas: Vec<String>,
    #[serde(default)]
    pub facilities: Vec<String>,
}

/// Changes to an account; absent fields are kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub role: Option<String>,
    pub areas: Option<Vec<String>>,
    pub facilities: Option<Vec<String>>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
}

fn admin(caller: &Caller) -> Result<&User, ApiError> {
    let u = caller.require_user()?;
    u.may_manage_accounts()
        .map_err(|e| ApiError::forbidden("forbidden", e.to_string()))?;
    Ok(u)
}

/// Check the role and the bindings an account is given.
fn check_scope(
    state: &AppState,
    role: Role,
    areas: &[String],
    facilities: &[String],
) -> Result<(), ApiError> {
    let catalog = state.catalog.load();
    if let Some(a) = areas.iter().find(|a| catalog.area(a).is_none()) {
        return Err(ApiError::bad_body(
            Some("areas"),
            format!("Unknown area `{a}`; the areas are listed by /api/v1/areas."),
        ));
    }
    if let Some(f) = facilities.iter().find(|f| catalog.get(f).is_none()) {
        return Err(ApiError::bad_body(
            Some("facilities"),
            format!("Unknown facility `{f}`."),
        ));
    }
    if role == Role::Coordinator && areas.is_empty() {
        return Err(ApiError::bad_body(
            Some("areas"),
            "A coordinator needs at least one area.",
        ));
    }
    if role == Role::FacilityEditor && facilities.is_empty() {
        return Err(ApiError::bad_body(
            Some("facilities"),
            "A facility editor needs at least one facility.",
        ));
    }
    Ok(())
}

fn role_of(code: &str) -> Result<Role, ApiError> {
    Role::from_code(code).ok_or_else(|| {
        ApiError::bad_body(
            Some("role"),
            format!("Unknown role `{code}`. Valid roles: {}.", Role::CODES),
        )
    })
}

#[utoipa::path(get, path = "/api/v1/users", tag = "accounts",
    security(("session" = []), ("token" = [])),
    responses(
        (status = 200, description = "Every account (admins only)", body = Vec<UserBody>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn list_users(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let caller = auth::caller(&req, &state).await?;
    admin(&caller)?;
    let store = state.store.clone();
    let users = blocking(move || store.users()).await?;
    Ok(HttpResponse::Ok().json(users.into_iter().map(UserBody::from).collect::<Vec<_>>()))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "accounts",
    security(("session" = []), ("token" = [])),
    request_body = NewUserBody,
    responses(
        (status = 201, description = "The account", body = UserBody),
        (status = 400, description = "Invalid field (weak password, unknown role, area or facility)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The email is taken", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn create_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<NewUserBody>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let caller = auth::writer(&req, &state).await?;
    admin(&caller)?;
    let b = body.into_inner();
    let role = role_of(&b.role)?;
    let email = b.email.trim().to_lowercase();
    if !email.contains('@') || email.len() > 254 {
        return Err(ApiError::bad_body(
            Some("email"),
            "`email` must be an email address.",
        ));
    }
    check_scope(&state, role, &b.areas, &b.facilities)?;
    let hash = crate::auth::hash_password(&b.password)
        .map_err(|e| ApiError::bad_body(Some("password"), e.to_string()))?;
    let store = state.store.clone();
    let at = crate::auth::timestamp(crate::auth::now());
    let user = web::block(move || {
        store.add_user(
            &NewUser {
                email: &email,
                password_hash: &hash,
                role,
                areas: &b.areas,
                facilities: &b.facilities,
            },
            &at,
        )
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|e| match e {
        crate::store::StoreError::Conflict(m) => ApiError::conflict("email_taken", m),
        e => ApiError::unavailable(&e),
    })?;
    Ok(HttpResponse::Created().json(UserBody::from(user)))
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "accounts",
    security(("session" = []), ("token" = [])),
    params(("id" = i64, Path, description = "Account id")),
    request_body = UserPatch,
    responses(
        (status = 200, description = "The changed account (disabling ends its sessions and tokens)", body = UserBody),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn update_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: web::Json<UserPatch>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let caller = auth::writer(&req, &state).await?;
    admin(&caller)?;
    let id = path.into_inner();
    let b = body.into_inner();
    let store = state.store.clone();
    let current = blocking(move || store.user(id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No account with id {id}.")))?;
    let role = b.role.as_deref().map(role_of).transpose()?;
    check_scope(
        &state,
        role.unwrap_or(current.role),
        b.areas.as_deref().unwrap_or(&current.areas),
        b.facilities.as_deref().unwrap_or(&current.facilities),
    )?;
    let password_hash = b
        .password
        .as_deref()
        .map(crate::auth::hash_password)
        .transpose()
        .map_err(|e| ApiError::bad_body(Some("password"), e.to_string()))?;
    let change = UserChange {
        role,
        areas: b.areas,
        facilities: b.facilities,
        disabled: b.disabled,
        password_hash,
    };
    let store = state.store.clone();
    let user = blocking(move || store.update_user(id, &change)).await?;
    Ok(HttpResponse::Ok().json(UserBody::from(user)))
}
