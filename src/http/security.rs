//! Security headers on every response (the content security policy, no referrer, no sniffing,
//! no framing, HSTS when configured) and CORS for the configured origins only.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};

use super::AppState;

/// What the headers say, from the settings.
#[derive(Debug, Clone)]
pub struct SecuritySettings {
    /// The `Content-Security-Policy` value.
    pub csp: String,
    /// Send `Strict-Transport-Security` (`--hsts`: the service is reached over HTTPS only).
    pub hsts: bool,
    /// Origins (`https://host[:port]`) whose pages may call the API from the browser.
    pub cors_origins: Vec<String>,
}

impl SecuritySettings {
    pub fn new(tile_url: &str, hsts: bool, cors_origins: Vec<String>) -> SecuritySettings {
        SecuritySettings {
            csp: content_security_policy(tile_url),
            hsts,
            cors_origins: cors_origins
                .iter()
                .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
                .filter(|o| !o.is_empty())
                .collect(),
        }
    }
}

impl Default for SecuritySettings {
    fn default() -> Self {
        SecuritySettings::new(crate::config::DEFAULT_TILE_URL, false, Vec::new())
    }
}

/// A valid `--cors-origin`: `http(s)://host[:port]`, nothing after it.
pub fn check_origin(origin: &str) -> Result<(), String> {
    let o = origin.trim().trim_end_matches('/');
    let rest = o
        .strip_prefix("https://")
        .or_else(|| o.strip_prefix("http://"))
        .ok_or_else(|| format!("`{origin}` is not an origin: write it as https://host[:port]"))?;
    if rest.is_empty()
        || !rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    {
        return Err(format!(
            "`{origin}` is not an origin: write it as https://host[:port], with no path"
        ));
    }
    Ok(())
}

/// The tile server's origin as a CSP source: `https://{s}.tile.example.org/{z}/…` becomes
/// `https://*.tile.example.org`; a template whose host cannot be written as a source falls
/// back to its scheme (`https:`), and no usable scheme to nothing.
pub fn tile_source(tile_url: &str) -> Option<String> {
    let (scheme, rest) = tile_url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    let host = match authority.split_once('.') {
        Some((first, tail)) if first.starts_with('{') && first.ends_with('}') => {
            format!("*.{tail}")
        }
        _ => authority.to_string(),
    };
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    };
    let tail = host.strip_prefix("*.").unwrap_or(&host);
    if plain(tail) {
        Some(format!("{scheme}://{}", host.to_ascii_lowercase()))
    } else {
        Some(format!("{scheme}:"))
    }
}

/// The policy: scripts, styles, fonts and API calls from this origin only; images also from
/// the tile server (and `data:` for the empty favicon); no plugins, no framing, no `<base>`.
pub fn content_security_policy(tile_url: &str) -> String {
    let img = match tile_source(tile_url) {
        Some(t) => format!("'self' data: {t}"),
        None => "'self' data:".to_string(),
    };
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src {img}; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Headers a browser may send cross-origin, and the ones a script may read.
const ALLOW_HEADERS: &str = "Authorization, Content-Type, If-Match, If-None-Match, X-CSRF-Token";
const ALLOW_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE";
const EXPOSE_HEADERS: &str = "ETag, Location, Retry-After, Content-Disposition";

/// The request's `Origin` when it is one of the configured ones.
fn allowed_origin(req: &ServiceRequest, settings: &SecuritySettings) -> Option<HeaderValue> {
    let origin = req.headers().get(header::ORIGIN)?;
    let o = origin.to_str().ok()?.to_ascii_lowercase();
    settings.cors_origins.contains(&o).then(|| origin.clone())
}

fn set(headers: &mut header::HeaderMap, name: HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

/// Add the headers to `headers` (every response).
fn decorate(headers: &mut header::HeaderMap, settings: &SecuritySettings) {
    set(headers, header::CONTENT_SECURITY_POLICY, &settings.csp);
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    if settings.hsts {
        set(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000",
        );
    }
}

/// The middleware: answer CORS preflights of configured origins, decorate every response.
pub async fn headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let settings = &state.security;
    let origin = allowed_origin(&req, settings);
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut res = match (&origin, preflight) {
        (Some(_), true) => {
            let mut r = HttpResponse::build(StatusCode::NO_CONTENT);
            r.insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, ALLOW_METHODS))
                .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS))
                .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"));
            req.into_response(r.finish())
        }
        _ => next.call(req).await?.map_into_boxed_body(),
    };
    let h = res.headers_mut();
    if !settings.cors_origins.is_empty() {
        h.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    if let Some(o) = origin {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
        if !preflight {
            set(h, header::ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSE_HEADERS);
        }
    }
    decorate(h, settings);
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tile_origin_is_allowed_for_images() {
        assert_eq!(
            tile_source("https://cyberjapandata.gsi.go.jp/xyz/pale/{z}/{x}/{y}.png").as_deref(),
            Some("https://cyberjapandata.gsi.go.jp")
        );
        assert_eq!(
            tile_source("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png").as_deref(),
            Some("https://*.tile.openstreetmap.org")
        );
        assert_eq!(
            tile_source("http://127.0.0.1:9/{z}/{x}/{y}.png").as_deref(),
            Some("http://127.0.0.1:9")
        );
        // A host that is not a plain name: the scheme only; not http(s): nothing.
        assert_eq!(
            tile_source("https://tiles-{s}.example.org/{z}.png").as_deref(),
            Some("https:")
        );
        assert_eq!(tile_source("/tiles/{z}/{x}/{y}.png"), None);
        assert_eq!(tile_source("javascript:alert(1)"), None);
        let csp = content_security_policy("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png");
        assert_eq!(
            csp,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: \
             https://*.tile.openstreetmap.org; connect-src 'self'; font-src 'self'; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        );
        // A relative template: tiles from this origin.
        assert!(content_security_policy("/t/{z}/{x}/{y}.png").contains("img-src 'self' data:;"));
    }

    #[test]
    fn cors_origins_are_checked_and_normalized() {
        assert!(check_origin("https://portal.example.jp").is_ok());
        assert!(check_origin("http://localhost:3000/").is_ok());
        assert!(check_origin("portal.example.jp").is_err());
        assert!(check_origin("https://portal.example.jp/app").is_err());
        assert!(check_origin("*").is_err());
        let s = SecuritySettings::new("", false, vec!["https://Portal.Example.jp/".into()]);
        assert_eq!(
            s.cors_origins,
            vec!["https://portal.example.jp".to_string()]
        );
    }
}
