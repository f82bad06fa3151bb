//! Who is calling: a session cookie or an `Authorization: Bearer` token becomes a [`Caller`],
//! and the caller's role becomes an [`Audience`] here and only here. Also the CSRF rule, the
//! sign-in limits and the session cookie itself.

use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::Method;

use super::AppState;
use super::error::ApiError;
use crate::auth;
use crate::domain::{Audience, Credential, Principal, User};

pub const SESSION_COOKIE: &str = "pallimap_session";
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// Session and sign-in rules, from the settings.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// A session unused this long ends.
    pub idle: Duration,
    /// A session ends this long after sign-in, however used.
    pub absolute: Duration,
    /// Mark the cookie `Secure` (always when the request came over TLS).
    pub secure_cookies: bool,
    /// Failed sign-ins per account, and per client address, within `failure_window`.
    pub max_failures_per_account: usize,
    pub max_failures_per_address: usize,
    pub failure_window: Duration,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            idle: Duration::from_secs(12 * 3600),
            absolute: Duration::from_secs(7 * 24 * 3600),
            secure_cookies: false,
            max_failures_per_account: 5,
            max_failures_per_address: 20,
            failure_window: Duration::from_secs(15 * 60),
        }
    }
}

/// The caller of a request.
#[derive(Debug, Clone)]
pub enum Caller {
    Anonymous,
    Signed {
        principal: Principal,
        /// The session id's hash, for sign-out.
        session: Option<String>,
    },
}

impl Caller {
    pub fn audience(&self) -> Audience {
        match self {
            Caller::Anonymous => Audience::Public,
            Caller::Signed { principal, .. } => principal.user.role.audience(),
        }
    }

    pub fn user(&self) -> Option<&User> {
        match self {
            Caller::Anonymous => None,
            Caller::Signed { principal, .. } => Some(&principal.user),
        }
    }

    /// The signed-in account, or 401.
    pub fn require_user(&self) -> Result<&User, ApiError> {
        self.user().ok_or_else(|| {
            ApiError::unauthorized(
                "ログインしてください / Sign in first: POST /api/v1/session with your email and password, or send `Authorization: Bearer <token>`.",
            )
        })
    }

    /// Who to name in the audit trail.
    pub fn actor(&self) -> String {
        match self.user() {
            Some(u) => format!("{}:{}", u.role.code(), u.email),
            None => "anonymous".into(),
        }
    }
}

use super::session::blocking;

fn expired(info: &crate::store::SessionInfo, settings: &AuthSettings) -> bool {
    let now = auth::now();
    let older = |at: &str, limit: Duration| {
        auth::parse_timestamp(at).is_none_or(|t| {
            now - t > time::Duration::try_from(limit).unwrap_or(time::Duration::ZERO)
        })
    };
    older(&info.created_at, settings.absolute) || older(&info.last_seen_at, settings.idle)
}

/// Identify the caller. No credential is the public; a credential that is not (or no longer)
/// valid is 401, so a cookie replayed after sign-out never silently acts as anyone.
pub async fn caller(req: &HttpRequest, state: &AppState) -> Result<Caller, ApiError> {
    if let Some(value) = req.headers().get(actix_web::http::header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("`Authorization` must be `Bearer <token>` with a token from `pallimap token create`.")
            })?;
        let hash = auth::token_hash(token);
        let store = state.store.clone();
        let user = blocking(move || store.token_user(&hash)).await?;
        return match user {
            Some(user) => Ok(Caller::Signed {
                principal: Principal {
                    user,
                    via: Credential::Token,
                },
                session: None,
            }),
            None => Err(ApiError::unauthorized(
                "The API token is unknown or revoked; create a new one with `pallimap token create`.",
            )),
        };
    }
    let Some(cookie) = req.cookie(SESSION_COOKIE) else {
        return Ok(Caller::Anonymous);
    };
    let hash = auth::token_hash(cookie.value());
    let store = state.store.clone();
    let h = hash.clone();
    let info = blocking(move || store.session(&h)).await?;
    let Some(info) = info.filter(|i| !expired(i, &state.auth)) else {
        return Err(ApiError::unauthorized(
            "セッションが終了しました。もう一度ログインしてください / The session has ended (signed out or expired); sign in again.",
        )
        .clear_session_cookie());
    };
    // Record use at most once a minute: enough for the idle limit, few writes.
    let stale_seen = auth::parse_timestamp(&info.last_seen_at)
        .is_none_or(|t| auth::now() - t > time::Duration::minutes(1));
    if stale_seen {
        let store = state.store.clone();
        let h = hash.clone();
        let at = auth::timestamp(auth::now());
        blocking(move || store.touch_session(&h, &at)).await?;
    }
    Ok(Caller::Signed {
        principal: Principal {
            user: info.user,
            via: Credential::Session { csrf: info.csrf },
        },
        session: Some(hash),
    })
}

/// Identify the caller of a state-changing request: a session needs its CSRF token in
/// `X-CSRF-Token` (403 without); an API token does not.
pub async fn writer(req: &HttpRequest, state: &AppState) -> Result<Caller, ApiError> {
    let c = caller(req, state).await?;
    if let Caller::Signed {
        principal:
            Principal {
                via: Credential::Session { csrf },
                ..
            },
        ..
    } = &c
    {
        let given = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        let safe = matches!(*req.method(), Method::GET | Method::HEAD);
        if !safe && given != Some(csrf.as_str()) {
            return Err(ApiError::forbidden(
                "csrf_required",
                "このリクエストには X-CSRF-Token が必要です / A request made with the session cookie needs the header `X-CSRF-Token` with the `csrf` value the sign-in returned.",
            ));
        }
    }
    Ok(c)
}

/// The session cookie: HttpOnly, SameSite=Lax, Secure over TLS or when configured.
pub fn session_cookie(req: &HttpRequest, state: &AppState, value: &str) -> Cookie<'static> {
    let tls = req.connection_info().scheme() == "https";
    Cookie::build(SESSION_COOKIE, value.to_string())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(tls || state.auth.secure_cookies)
        .max_age(actix_web::cookie::time::Duration::seconds(
            state.auth.absolute.as_secs() as i64,
        ))
        .finish()
}

/// The client address a sign-in limit counts against.
pub fn client_address(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}
