//! Hostile and careless clients: the security headers on every answer, CORS for configured
//! origins only, each limit's status and problem document, per-address rate limits, and a
//! real `pallimap serve` that keeps answering while 500 half-open connections are held.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::Method;
use actix_web::{App, test as at};
use serde_json::{Value, json};

use pallimap::http::limits::{Limits, Rate, RateSettings};
use pallimap::http::security::SecuritySettings;
use pallimap::http::{AppState, configure};

use crate::accounts::fixture;

const CLINIC: &str = "navii-1121070000020";
/// `クリニック` and `クリ`, percent-encoded.
const Q: &str = "%E3%82%AF%E3%83%AA%E3%83%8B%E3%83%83%E3%82%AF";
const KURI: &str = "%E3%82%AF%E3%83%AA";
const TILES: &str = "https://{s}.tiles.example.org/{z}/{x}/{y}.png";
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https://*.tiles.example.org; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

type Answer = (u16, BTreeMap<String, String>, Vec<u8>);

/// One request to an in-process app built by `configure`, from `peer`.
async fn send(state: &AppState, req: at::TestRequest, peer: &str) -> Answer {
    let app = at::init_service(App::new().configure(configure(state.clone()))).await;
    let resp = at::call_service(&app, req.peer_addr(peer.parse().unwrap()).to_request()).await;
    let status = resp.status().as_u16();
    let mut headers = BTreeMap::new();
    for (k, v) in resp.headers() {
        let v = v.to_str().unwrap_or("").to_string();
        headers
            .entry(k.to_string())
            .and_modify(|e: &mut String| {
                e.push_str(", ");
                e.push_str(&v)
            })
            .or_insert(v);
    }
    (status, headers, at::read_body(resp).await.to_vec())
}

async fn get(state: &AppState, uri: &str) -> Answer {
    send(state, at::TestRequest::get().uri(uri), "192.0.2.10:4000").await
}

fn problem(a: &Answer) -> Value {
    assert_eq!(
        a.1.get("content-type").map(String::as_str),
        Some("application/problem+json"),
        "{a:?}"
    );
    let v: Value = serde_json::from_slice(&a.2).unwrap();
    assert_eq!(v["status"], a.0, "{v}");
    v
}

/// What a test's state needs kept alive: the fixture's database and the front-end directory.
type Keep = (crate::accounts::Fixture, tempfile::TempDir);

/// The fixture's state with a front end in a temporary directory and these settings.
fn state_with(security: SecuritySettings, rates: RateSettings) -> (AppState, Keep) {
    let fx = fixture();
    let web = tempfile::tempdir().unwrap();
    std::fs::write(
        web.path().join("index.html"),
        "<!doctype html><title>t</title>",
    )
    .unwrap();
    std::fs::write(web.path().join("app.js"), "export {};").unwrap();
    let mut state = fx.state.clone();
    state.web = Arc::new(pallimap::http::WebSettings {
        dir: web.path().to_path_buf(),
        ..Default::default()
    });
    state.security = Arc::new(security);
    state.limits = Arc::new(Limits::new(rates));
    (state, (fx, web))
}

#[actix_web::test]
async fn every_answer_carries_the_security_headers() {
    let (state, _web) = state_with(
        SecuritySettings::new(TILES, false, vec![]),
        RateSettings::OFF,
    );
    let cases: Vec<(String, u16)> = [
        ("/healthz".to_string(), 200),
        (format!("/api/v1/facilities?q={Q}"), 200),
        (format!("/api/v1/facilities/{CLINIC}"), 200),
        ("/api/v1/facilities?limt=5".into(), 400),
        ("/api/v1/nothing-here".into(), 404),
        ("/api/v1/facilities/nobody".into(), 404),
        ("/nothing-here.html".into(), 404),
        ("/".into(), 200),
        ("/app.js".into(), 200),
    ]
    .to_vec();
    for (uri, want) in &cases {
        let a = get(&state, uri).await;
        assert_eq!(a.0, *want, "{uri}: {a:?}");
        let h = &a.1;
        assert_eq!(h["content-security-policy"], CSP, "{uri}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{uri}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{uri}");
        assert_eq!(h["x-frame-options"], "DENY", "{uri}");
        assert!(!h.contains_key("strict-transport-security"), "{uri}");
        assert!(!h.contains_key("access-control-allow-origin"), "{uri}");
    }
    // 405 from a route, and a write refused before any handler.
    let a = send(
        &state,
        at::TestRequest::delete().uri("/api/v1/vocabulary"),
        "192.0.2.10:4000",
    )
    .await;
    assert_eq!(a.0, 405);
    assert_eq!(a.1["content-security-policy"], CSP);
    // HSTS when configured.
    let (state, _web) = state_with(
        SecuritySettings::new(TILES, true, vec![]),
        RateSettings::OFF,
    );
    for uri in ["/healthz", "/api/v1/nothing-here", "/app.js"] {
        let a = get(&state, uri).await;
        assert_eq!(
            a.1["strict-transport-security"], "max-age=31536000",
            "{uri}"
        );
    }
}

#[actix_web::test]
async fn cors_answers_only_configured_origins() {
    let preflight = |origin: &str| {
        at::TestRequest::default()
            .method(Method::OPTIONS)
            .uri("/api/v1/facilities")
            .insert_header(("origin", origin.to_string()))
            .insert_header(("access-control-request-method", "GET"))
            .insert_header(("access-control-request-headers", "authorization"))
    };
    let with_origin = |origin: &str| {
        at::TestRequest::get()
            .uri(&format!("/api/v1/facilities?q={Q}"))
            .insert_header(("origin", origin.to_string()))
    };
    let peer = "192.0.2.10:4000";
    // None configured (the default): no CORS header at all, and a preflight is just a 405.
    let (state, _web) = state_with(
        SecuritySettings::new(TILES, false, vec![]),
        RateSettings::OFF,
    );
    let a = send(&state, with_origin("https://portal.example.jp"), peer).await;
    assert_eq!(a.0, 200);
    assert!(
        !a.1.keys().any(|k| k.starts_with("access-control-")),
        "{:?}",
        a.1
    );
    assert!(!a.1.contains_key("vary"));
    let a = send(&state, preflight("https://portal.example.jp"), peer).await;
    assert_eq!(a.0, 405);
    assert!(!a.1.keys().any(|k| k.starts_with("access-control-")));

    // One configured: it is allowed, any other is not.
    let (state, _web) = state_with(
        SecuritySettings::new(TILES, false, vec!["https://portal.example.jp".into()]),
        RateSettings::OFF,
    );
    let a = send(&state, with_origin("https://portal.example.jp"), peer).await;
    assert_eq!(a.0, 200);
    assert_eq!(
        a.1["access-control-allow-origin"],
        "https://portal.example.jp"
    );
    assert_eq!(
        a.1["access-control-expose-headers"],
        "ETag, Location, Retry-After, Content-Disposition"
    );
    assert_eq!(a.1["vary"], "Origin");
    assert!(!a.1.contains_key("access-control-allow-credentials"));
    let a = send(&state, preflight("https://portal.example.jp"), peer).await;
    assert_eq!(a.0, 204);
    assert_eq!(
        a.1["access-control-allow-origin"],
        "https://portal.example.jp"
    );
    assert_eq!(
        a.1["access-control-allow-methods"],
        "GET, HEAD, POST, PUT, PATCH, DELETE"
    );
    assert_eq!(
        a.1["access-control-allow-headers"],
        "Authorization, Content-Type, If-Match, If-None-Match, X-CSRF-Token"
    );
    assert_eq!(a.1["access-control-max-age"], "600");
    assert_eq!(a.1["content-security-policy"], CSP);
    for other in [
        "https://evil.example",
        "https://portal.example.jp.evil.example",
        "null",
    ] {
        let a = send(&state, with_origin(other), peer).await;
        assert_eq!(a.0, 200);
        assert!(!a.1.contains_key("access-control-allow-origin"), "{other}");
        assert_eq!(a.1["vary"], "Origin", "{other}");
        let a = send(&state, preflight(other), peer).await;
        assert_eq!(a.0, 405, "{other}");
        assert!(!a.1.contains_key("access-control-allow-origin"), "{other}");
    }
}

#[actix_web::test]
async fn each_limit_answers_its_status_with_a_problem_document() {
    let (state, _web) = state_with(SecuritySettings::default(), RateSettings::OFF);
    let peer = "192.0.2.10:4000";
    // A URL over 8 KiB: 414.
    let long = format!("/api/v1/facilities?q={}", "a".repeat(8 * 1024));
    let a = get(&state, &long).await;
    assert_eq!(a.0, 414);
    let e = problem(&a);
    assert_eq!(e["code"], "uri_too_long");
    assert_eq!(e["limit"], 8192);
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .starts_with("URL が長すぎます"),
        "{e}"
    );
    // Exactly at it: past the limit (a 404, as no route has that name).
    let fits = format!("/api/v1/{}", "a".repeat(8 * 1024 - 8));
    assert_eq!(fits.len(), 8 * 1024);
    assert_eq!(get(&state, &fits).await.0, 404);
    // 65 query parameters: 414 too_many_parameters (64 pass the limit; `kind` 400s by name).
    let many: Vec<String> = (0..65).map(|i| format!("kind=k{i}")).collect();
    let a = get(&state, &format!("/api/v1/facilities?{}", many.join("&"))).await;
    assert_eq!(a.0, 414);
    let e = problem(&a);
    assert_eq!(
        (
            e["code"].as_str(),
            e["parameter"].as_str(),
            e["limit"].as_u64()
        ),
        (Some("too_many_parameters"), Some("query"), Some(64))
    );
    assert!(e["detail"].as_str().unwrap().contains("65 個"), "{e}");
    let a = get(
        &state,
        &format!("/api/v1/facilities?{}", many[..64].join("&")),
    )
    .await;
    assert_eq!(
        a.0, 400,
        "past the limit, the parameters themselves are checked"
    );
    // Headers: more than 64, or over 16 KiB in all: 431.
    let mut req = at::TestRequest::get().uri("/healthz");
    for i in 0..65 {
        req = req.insert_header((format!("x-filler-{i}"), "1"));
    }
    let a = send(&state, req, peer).await;
    assert_eq!(a.0, 431);
    let e = problem(&a);
    assert_eq!(e["code"], "headers_too_large");
    assert!(e["detail"].as_str().unwrap().contains("65 個"), "{e}");
    let req = at::TestRequest::get()
        .uri("/healthz")
        .insert_header(("cookie", format!("junk={}", "c".repeat(16 * 1024))));
    let a = send(&state, req, peer).await;
    assert_eq!(a.0, 431);
    assert_eq!(problem(&a)["code"], "headers_too_large");
    // A declared body over 1 MiB: 413 before it is read, on any route.
    for (method, uri) in [
        (
            Method::POST,
            format!("/api/v1/facilities/{CLINIC}/corrections"),
        ),
        (Method::POST, "/api/v1/session".to_string()),
        (Method::GET, "/api/v1/facilities".to_string()),
    ] {
        let req = at::TestRequest::default()
            .method(method.clone())
            .uri(&uri)
            .insert_header(("content-type", "application/json"))
            .set_payload(vec![b' '; 1024 * 1024 + 1]);
        let a = send(&state, req, peer).await;
        assert_eq!(a.0, 413, "{method} {uri}");
        let e = problem(&a);
        assert_eq!(e["code"], "body_too_large");
        assert_eq!(e["limit"], 1024 * 1024);
        assert!(
            e["detail"]
                .as_str()
                .unwrap()
                .starts_with("送信内容が大きすぎます"),
            "{e}"
        );
    }
    // The upload route takes its 20 MB file (and the multipart framing).
    let req = at::TestRequest::post()
        .uri("/api/v1/imports")
        .insert_header(("content-type", "multipart/form-data; boundary=x"))
        .insert_header(("content-length", (21 * 1024 * 1024).to_string()));
    let a = send(&state, req, peer).await;
    assert_eq!(a.0, 413);
    assert_eq!(problem(&a)["limit"], 20 * 1024 * 1024 + 64 * 1024);
}

#[actix_web::test]
async fn rate_limits_answer_429_with_retry_after_per_address() {
    let tiny = Rate {
        per_minute: 1,
        burst: 2,
    };
    let (state, _web) = state_with(
        SecuritySettings::default(),
        RateSettings {
            search: tiny,
            sign_in: Rate {
                per_minute: 1,
                burst: 1,
            },
            corrections: Rate {
                per_minute: 1,
                burst: 1,
            },
        },
    );
    let a_peer = "192.0.2.20:4000";
    let b_peer = "192.0.2.21:4000";
    let search = |uri: &str| at::TestRequest::get().uri(uri);
    // The four search routes share one bucket per address.
    assert_eq!(
        send(&state, search(&format!("/api/v1/facilities?q={Q}")), a_peer)
            .await
            .0,
        200
    );
    assert_eq!(
        send(&state, search(&format!("/api/v1/suggest?q={KURI}")), a_peer)
            .await
            .0,
        200
    );
    for uri in [
        "/api/v1/facilities.geojson?bbox=138.7,35.7,139.9,36.3".to_string(),
        "/api/v1/geocode?address=x".to_string(),
        format!("/api/v1/facilities?q={Q}"),
    ] {
        let a = send(&state, search(&uri), a_peer).await;
        assert_eq!(a.0, 429, "{uri}");
        let e = problem(&a);
        assert_eq!(e["code"], "rate_limited");
        let wait: u64 = a.1["retry-after"].parse().unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        assert_eq!(e["retry_after"], wait);
        assert!(
            e["detail"]
                .as_str()
                .unwrap()
                .starts_with("このアドレスからのリクエストが多すぎます")
        );
        assert!(!a.1["content-security-policy"].is_empty());
    }
    // Another address has its own bucket; other routes are not limited.
    assert_eq!(
        send(&state, search(&format!("/api/v1/facilities?q={Q}")), b_peer)
            .await
            .0,
        200
    );
    assert_eq!(send(&state, search("/healthz"), a_peer).await.0, 200);
    assert_eq!(
        send(
            &state,
            search(&format!("/api/v1/facilities/{CLINIC}")),
            a_peer
        )
        .await
        .0,
        200
    );
    // Sign-in: the second request within the minute is refused before the password is checked.
    let sign_in = || {
        at::TestRequest::post()
            .uri("/api/v1/session")
            .set_json(json!({"email": "pro@example.jp", "password": "wrong password here"}))
    };
    assert_eq!(send(&state, sign_in(), a_peer).await.0, 401);
    let a = send(&state, sign_in(), a_peer).await;
    assert_eq!(a.0, 429);
    assert_eq!(problem(&a)["code"], "rate_limited");
    assert!(a.1.contains_key("retry-after"));
    // The correction form: the same, on top of its limit on accepted reports.
    let report = || {
        at::TestRequest::post()
            .uri(&format!("/api/v1/facilities/{CLINIC}/corrections"))
            .set_json(json!({"what": "電話番号が変わりました"}))
    };
    assert_eq!(send(&state, report(), a_peer).await.0, 202);
    let a = send(&state, report(), a_peer).await;
    assert_eq!(a.0, 429);
    assert_eq!(problem(&a)["code"], "rate_limited");
    assert_eq!(send(&state, report(), b_peer).await.0, 202);
}

#[actix_web::test]
async fn the_openapi_document_lists_the_limits_answers() {
    let (state, _web) = state_with(SecuritySettings::default(), RateSettings::OFF);
    let a = get(&state, "/api/v1/openapi.json").await;
    assert_eq!(a.0, 200);
    let doc: Value = serde_json::from_slice(&a.2).unwrap();
    let mut ops = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let r = &op["responses"];
            for status in ["414", "431"] {
                assert_eq!(
                    r[status]["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path} {status}"
                );
            }
            assert_eq!(
                r.get("413").is_some(),
                op.get("requestBody").is_some(),
                "{method} {path} 413"
            );
            ops += 1;
        }
    }
    assert!(ops > 60, "{ops}");
    let limited = [
        ("/api/v1/facilities", "get"),
        ("/api/v1/facilities.geojson", "get"),
        ("/api/v1/suggest", "get"),
        ("/api/v1/geocode", "get"),
        ("/api/v1/session", "post"),
        ("/api/v1/facilities/{id}/corrections", "post"),
    ];
    for (path, method) in limited {
        let d = doc["paths"][path][method]["responses"]["429"]["description"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path}: no 429"));
        assert!(d.contains("rate_limited"), "{method} {path}: {d}");
    }
    assert!(doc["paths"]["/api/v1/facilities/{id}"]["get"]["responses"]["429"].is_null());
}

// ----- a real process ---------------------------------------------------------------------

struct Server {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `pallimap serve` on a fresh SQLite database (the default dataset), on a free port.
fn serve(extra: &[&str]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("h.sqlite3").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_pallimap"))
        .env("PALLIMAP_LOG", "warn")
        .env_remove("PALLIMAP_DATABASE_URL")
        .env_remove("PALLIMAP_BIND")
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", &url])
        .args(["--web-dir", "/nonexistent"])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start pallimap");
    let addr = crate::common::process::listening_address(&mut child);
    Server {
        child,
        addr,
        _dir: dir,
    }
}

/// Send `raw` on a new connection and read the answer until the server closes it: the
/// status, the head and the body. A bound of 60 s for a stalled machine, not a target.
fn exchange(addr: &str, raw: &[u8]) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    // The server may answer (and close) before it has read everything sent.
    let _ = s.write_all(raw);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head.to_lowercase(), body.to_string())
}

fn get_raw(addr: &str, path: &str) -> (u16, String, String) {
    exchange(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

#[test]
fn half_open_connections_do_not_stop_other_clients() {
    let server = serve(&[]);
    let addr = server.addr.as_str();
    assert_eq!(get_raw(addr, "/readyz").0, 200);
    // 500 clients that connect and send half a request line, then nothing.
    let held: Vec<TcpStream> = (0..500)
        .map(|i| {
            let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connection {i}: {e}"));
            s.write_all(b"GET /api/v1/facil").unwrap();
            s
        })
        .collect();
    // Others are answered meanwhile: the health check and a search.
    let (status, _, body) = get_raw(addr, "/healthz");
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = get_raw(
        addr,
        "/api/v1/facilities?q=%E3%82%AF%E3%83%AA%E3%83%8B%E3%83%83%E3%82%AF&limit=3",
    );
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["items"].as_array().map(Vec::len), Some(3), "{v}");
    // Each held connection is still open, or was answered 408 by the request timeout; none
    // was refused or reset.
    let mut open = 0;
    let mut timed_out = 0;
    for (i, mut s) in held.into_iter().enumerate() {
        s.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 64];
        match s.read(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => open += 1,
            Ok(n) if buf[..n].starts_with(b"HTTP/1.1 408") => timed_out += 1,
            other => panic!("held connection {i}: {other:?}"),
        }
    }
    eprintln!("half-open connections: {open} still held, {timed_out} answered 408");
    assert_eq!(open + timed_out, 500);
}

#[test]
fn a_real_server_answers_oversized_requests_with_their_statuses() {
    let server = serve(&[
        "--rate-search-per-min",
        "1",
        "--rate-search-burst",
        "1",
        "--hsts",
        "--cors-origin",
        "https://portal.example.jp",
    ]);
    let addr = server.addr.as_str();
    // A long URL: 414 with its problem document and the security headers.
    let (status, head, body) = get_raw(addr, &format!("/api/v1/facilities?q={}", "a".repeat(9000)));
    assert_eq!(status, 414, "{head}");
    assert!(
        head.contains("content-type: application/problem+json"),
        "{head}"
    );
    assert!(head.contains("referrer-policy: no-referrer"), "{head}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["code"], "uri_too_long");
    // Headers over 16 KiB but within what the HTTP parser reads: 431, problem+json.
    let big = |n: usize| {
        format!(
            "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nX-Filler: {}\r\n\r\n",
            "h".repeat(n)
        )
    };
    let (status, head, body) = exchange(addr, big(20 * 1024).as_bytes());
    assert_eq!(status, 431, "{head}");
    assert!(
        head.contains("content-type: application/problem+json"),
        "{head}"
    );
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["code"], "headers_too_large");
    // A head over the parser's 128 KiB, or more than 96 headers: actix-http itself answers
    // 431, with no body (it never reaches the service) and closes the connection.
    let (status, head, body) = exchange(addr, big(140 * 1024).as_bytes());
    assert_eq!(status, 431, "{head}");
    assert!(head.contains("content-length: 0"), "{head}");
    assert_eq!(body, "");
    let mut many = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n");
    for i in 0..100 {
        many.push_str(&format!("X-H{i}: 1\r\n"));
    }
    many.push_str("\r\n");
    let (status, head, _) = exchange(addr, many.as_bytes());
    assert_eq!(status, 431, "{head}");
    // A declared body over the limit: 413 before the body is sent.
    let (status, head, body) = exchange(
        addr,
        format!(
            "POST /api/v1/session HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n{{"
        )
        .as_bytes(),
    );
    assert_eq!(status, 413, "{head}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["code"], "body_too_large");
    // The server is still fine, and its flags are in force: HSTS, the CORS origin, and a
    // search rate of one a minute (the refused requests above took no token).
    let (status, head, _) = exchange(
        addr,
        format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nOrigin: https://portal.example.jp\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    assert_eq!(status, 200);
    assert!(
        head.contains("strict-transport-security: max-age=31536000"),
        "{head}"
    );
    assert!(
        head.contains("access-control-allow-origin: https://portal.example.jp"),
        "{head}"
    );
    let search = "/api/v1/facilities?q=%E8%96%AC%E5%B1%80&limit=1";
    assert_eq!(get_raw(addr, search).0, 200);
    let (status, head, body) = get_raw(addr, search);
    assert_eq!(status, 429, "{head}");
    assert!(head.contains("retry-after: "), "{head}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["code"], "rate_limited");
}
