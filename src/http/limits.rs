//! Limits on what one request, and one client address, may ask of the service: URL length,
//! query-parameter count, header size, body size and per-address request rates (token buckets).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};

use super::AppState;
use super::error::ApiError;

/// Longest path plus query, bytes.
pub const MAX_URL_BYTES: usize = 8 * 1024;
/// Most query parameters (`a=1&b=2` is two).
pub const MAX_QUERY_PARAMS: usize = 64;
/// Most request headers, and their total size (names and values), bytes. The HTTP parser
/// itself answers a bare 431 beyond 96 headers or a 128 KiB head; these answer first, with
/// a problem document.
pub const MAX_HEADERS: usize = 64;
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// What a multipart upload may add to the file itself (boundaries, part headers).
const MULTIPART_OVERHEAD: usize = 64 * 1024;

/// A token bucket's rate: `per_minute` tokens come back each minute, at most `burst` kept.
/// `per_minute == 0` turns the limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_minute: u32,
    pub burst: u32,
}

impl Rate {
    pub const OFF: Rate = Rate {
        per_minute: 0,
        burst: 0,
    };

    pub fn is_off(&self) -> bool {
        self.per_minute == 0
    }
}

/// The per-address rates, from the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateSettings {
    /// Searching: the list, the map's GeoJSON, suggestions, the geocoder.
    pub search: Rate,
    /// `POST /api/v1/session` (failed sign-ins are throttled on top, per account and address).
    pub sign_in: Rate,
    /// `POST /api/v1/facilities/{id}/corrections`, every request (accepted reports are
    /// limited on top, per hour and per day).
    pub corrections: Rate,
}

pub const DEFAULT_SEARCH: Rate = Rate {
    per_minute: 600,
    burst: 120,
};
pub const DEFAULT_SIGN_IN: Rate = Rate {
    per_minute: 30,
    burst: 10,
};
pub const DEFAULT_CORRECTIONS: Rate = Rate {
    per_minute: 10,
    burst: 10,
};

impl RateSettings {
    pub const OFF: RateSettings = RateSettings {
        search: Rate::OFF,
        sign_in: Rate::OFF,
        corrections: Rate::OFF,
    };
}

impl Default for RateSettings {
    fn default() -> Self {
        RateSettings {
            search: DEFAULT_SEARCH,
            sign_in: DEFAULT_SIGN_IN,
            corrections: DEFAULT_CORRECTIONS,
        }
    }
}

/// One address's bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(rate: Rate, now: Instant) -> Bucket {
        Bucket {
            tokens: f64::from(rate.burst.max(1)),
            at: now,
        }
    }

    /// Refill for the time since the last take, then take one token, or say how long until
    /// one is there.
    fn take(&mut self, rate: Rate, now: Instant) -> Result<(), Duration> {
        let per_s = f64::from(rate.per_minute) / 60.0;
        let cap = f64::from(rate.burst.max(1));
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * per_s).min(cap);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / per_s))
        }
    }

    /// Whether it is full again at `now` (and so can be forgotten).
    fn refilled(&self, rate: Rate, now: Instant) -> bool {
        let per_s = f64::from(rate.per_minute) / 60.0;
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens + elapsed * per_s >= f64::from(rate.burst.max(1))
    }
}

/// Buckets kept before idle ones are swept.
const SWEEP_AT: usize = 50_000;

/// Token buckets per client address, in memory only. IPv6 addresses count per /64, the
/// smallest block one subscriber is usually given.
#[derive(Debug)]
pub struct RateLimiter {
    rate: Rate,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl RateLimiter {
    pub fn new(rate: Rate) -> RateLimiter {
        RateLimiter {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Count one request from `ip` at `now`, or the whole seconds to wait (at least 1).
    pub fn admit(&self, ip: IpAddr, now: Instant) -> Result<(), u64> {
        if self.rate.is_off() {
            return Ok(());
        }
        let key = match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6((u128::from(v6) & (!0u128 << 64)).into()),
            },
            v4 => v4,
        };
        let mut map = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= SWEEP_AT {
            let rate = self.rate;
            map.retain(|_, b| !b.refilled(rate, now));
        }
        let bucket = map
            .entry(key)
            .or_insert_with(|| Bucket::full(self.rate, now));
        bucket
            .take(self.rate, now)
            .map_err(|wait| wait.as_secs_f64().ceil().max(1.0) as u64)
    }
}

/// The limiters of a running service.
#[derive(Debug)]
pub struct Limits {
    pub rates: RateSettings,
    search: RateLimiter,
    sign_in: RateLimiter,
    corrections: RateLimiter,
}

impl Limits {
    pub fn new(rates: RateSettings) -> Limits {
        Limits {
            rates,
            search: RateLimiter::new(rates.search),
            sign_in: RateLimiter::new(rates.sign_in),
            corrections: RateLimiter::new(rates.corrections),
        }
    }

    /// The limiter a request counts against, if any.
    fn limiter_of(&self, method: &Method, path: &str) -> Option<&RateLimiter> {
        class_of(method, path).map(|c| match c {
            Class::Search => &self.search,
            Class::SignIn => &self.sign_in,
            Class::Corrections => &self.corrections,
        })
    }
}

/// The rate-limited kinds of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Search,
    SignIn,
    Corrections,
}

/// The class of a request to `path` (a request path or a route template), if it is limited.
pub fn class_of(method: &Method, path: &str) -> Option<Class> {
    let read = method == Method::GET || method == Method::HEAD;
    match path {
        "/api/v1/facilities"
        | "/api/v1/facilities.geojson"
        | "/api/v1/suggest"
        | "/api/v1/geocode"
            if read =>
        {
            Some(Class::Search)
        }
        "/api/v1/session" if method == Method::POST => Some(Class::SignIn),
        _ if method == Method::POST && is_corrections(path) => Some(Class::Corrections),
        _ => None,
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::new(RateSettings::default())
    }
}

/// `/api/v1/facilities/{id}/corrections`.
fn is_corrections(path: &str) -> bool {
    path.strip_prefix("/api/v1/facilities/")
        .and_then(|rest| rest.strip_suffix("/corrections"))
        .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// The largest body `path` takes, bytes.
fn body_limit(path: &str) -> usize {
    if path == "/api/v1/imports" {
        super::imports::MAX_UPLOAD + MULTIPART_OVERHEAD
    } else {
        super::write::MAX_BODY_BYTES
    }
}

/// Why a request is refused before it reaches its route, if it is.
pub fn check(req: &ServiceRequest, limits: &Limits, now: Instant) -> Result<(), ApiError> {
    let target = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().len())
        .unwrap_or(0);
    if target > MAX_URL_BYTES {
        return Err(ApiError::uri_too_long(target, MAX_URL_BYTES));
    }
    let params = req
        .query_string()
        .split('&')
        .filter(|p| !p.is_empty())
        .count();
    if params > MAX_QUERY_PARAMS {
        return Err(ApiError::too_many_parameters(params, MAX_QUERY_PARAMS));
    }
    let headers = req.headers();
    if headers.len() > MAX_HEADERS {
        return Err(ApiError::headers_too_large(format!(
            "リクエストヘッダーが多すぎます（{} 個、上限 {MAX_HEADERS} 個）。不要なヘッダーや Cookie を減らしてください / The request has {} headers; at most {MAX_HEADERS} are accepted. Send fewer headers.",
            headers.len(),
            headers.len()
        )));
    }
    let size: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    if size > MAX_HEADER_BYTES {
        return Err(ApiError::headers_too_large(format!(
            "リクエストヘッダーが大きすぎます（{size} バイト、上限 {MAX_HEADER_BYTES} バイト）。Cookie を削除するなどして小さくしてください / The request headers are {size} bytes; at most {MAX_HEADER_BYTES} are accepted. Clear this site's cookies or send smaller headers."
        )));
    }
    let path = req.path();
    let limit = body_limit(path);
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::too_large(limit));
    }
    if let (Some(limiter), Some(peer)) = (limits.limiter_of(req.method(), path), req.peer_addr()) {
        limiter
            .admit(peer.ip(), now)
            .map_err(ApiError::rate_limited)?;
    }
    Ok(())
}

/// The middleware: refuse over-limit requests with their problem document, pass the rest.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, Error> {
    let refused = req
        .app_data::<web::Data<AppState>>()
        .map(|state| check(&req, &state.limits, Instant::now()));
    match refused {
        Some(Err(e)) => Ok(req.into_response(e.error_response())),
        _ => Ok(next.call(req).await?.map_into_boxed_body()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: Rate = Rate {
        per_minute: 60,
        burst: 3,
    };

    #[test]
    fn a_bucket_allows_the_burst_then_one_per_interval() {
        let t0 = Instant::now();
        let l = RateLimiter::new(RATE);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(l.admit(ip, t0), Ok(()));
        }
        assert_eq!(l.admit(ip, t0), Err(1));
        // One token a second comes back.
        assert_eq!(l.admit(ip, t0 + Duration::from_millis(999)), Err(1));
        assert_eq!(l.admit(ip, t0 + Duration::from_millis(1000)), Ok(()));
        assert_eq!(l.admit(ip, t0 + Duration::from_millis(1000)), Err(1));
        // A long pause refills up to the burst, not beyond.
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..3 {
            assert_eq!(l.admit(ip, later), Ok(()));
        }
        assert_eq!(l.admit(ip, later), Err(1));
    }

    #[test]
    fn the_wait_is_the_time_until_the_next_token() {
        let t0 = Instant::now();
        let l = RateLimiter::new(Rate {
            per_minute: 2,
            burst: 1,
        });
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(l.admit(ip, t0), Ok(()));
        assert_eq!(l.admit(ip, t0), Err(30));
        assert_eq!(l.admit(ip, t0 + Duration::from_secs(20)), Err(10));
    }

    #[test]
    fn addresses_count_apart_and_ipv6_counts_per_64() {
        let t0 = Instant::now();
        let l = RateLimiter::new(Rate {
            per_minute: 1,
            burst: 1,
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(l.admit(a, t0), Ok(()));
        assert!(l.admit(a, t0).is_err());
        assert_eq!(l.admit(b, t0), Ok(()));
        let v6a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let v6c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(l.admit(v6a, t0), Ok(()));
        assert!(l.admit(v6b, t0).is_err(), "same /64");
        assert_eq!(l.admit(v6c, t0), Ok(()));
        // An IPv4-mapped address is the IPv4 one.
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert!(l.admit(mapped, t0).is_err());
    }

    #[test]
    fn zero_per_minute_is_off() {
        let t0 = Instant::now();
        let l = RateLimiter::new(Rate::OFF);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..10_000 {
            assert_eq!(l.admit(ip, t0), Ok(()));
        }
    }

    #[test]
    fn idle_buckets_are_swept_when_many() {
        let t0 = Instant::now();
        let l = RateLimiter::new(RATE);
        for i in 0..SWEEP_AT as u32 {
            l.admit(IpAddr::V4(i.into()), t0).unwrap();
        }
        let later = t0 + Duration::from_secs(60);
        l.admit("198.51.100.1".parse().unwrap(), later).unwrap();
        assert_eq!(l.buckets.lock().unwrap().len(), 1);
    }

    #[test]
    fn the_classes_are_the_search_sign_in_and_correction_routes() {
        use Class::*;
        let class = |m: Method, p: &str| class_of(&m, p);
        assert_eq!(class(Method::GET, "/api/v1/facilities"), Some(Search));
        assert_eq!(
            class(Method::HEAD, "/api/v1/facilities.geojson"),
            Some(Search)
        );
        assert_eq!(class(Method::GET, "/api/v1/suggest"), Some(Search));
        assert_eq!(class(Method::GET, "/api/v1/geocode"), Some(Search));
        assert_eq!(class(Method::POST, "/api/v1/facilities"), None);
        assert_eq!(class(Method::GET, "/api/v1/facilities/x"), None);
        assert_eq!(class(Method::POST, "/api/v1/session"), Some(SignIn));
        assert_eq!(class(Method::GET, "/api/v1/session"), None);
        assert_eq!(
            class(Method::POST, "/api/v1/facilities/hic-1/corrections"),
            Some(Corrections)
        );
        assert_eq!(
            class(Method::POST, "/api/v1/facilities/{id}/corrections"),
            Some(Corrections)
        );
        assert_eq!(class(Method::POST, "/api/v1/facilities//corrections"), None);
        assert_eq!(class(Method::GET, "/api/v1/corrections"), None);
    }
}
