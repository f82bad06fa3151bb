//! The HTTP API: one `configure` used by `main` and by the tests, typed requests, the planner's
//! answers rendered as DTOs and GeoJSON, problem+json errors and the OpenAPI document.
//! Knows `domain`, `catalog` and `store` by their public types only; never a diesel or tantivy
//! type. The role of a request becomes an `Audience` here, and only here.

mod admission;
pub mod auth;
mod coverage;
mod desk;
mod dto;
pub mod error;
mod events;
mod export;
pub mod geojson;
mod hsds;
mod ics;
mod imports;
pub mod limits;
pub mod links;
pub mod openapi;
pub(crate) mod params;
pub(crate) mod request;
mod routes;
pub mod security;
mod session;
mod surveys;
mod team;
mod write;

use std::sync::Arc;

use actix_web::{HttpRequest, guard, web};

use crate::catalog::CatalogHandle;
use crate::store::Store;

pub use auth::AuthSettings;
pub use error::ApiError;

/// Shared state of the running service.
#[derive(Clone)]
pub struct AppState {
    pub catalog: CatalogHandle,
    pub store: Arc<Store>,
    pub web: Arc<WebSettings>,
    pub auth: Arc<AuthSettings>,
    /// Woken after every committed write, so the change-log follower refreshes at once.
    pub changed: Arc<tokio::sync::Notify>,
    /// Brings the catalog up to the store now (blocking); set by the application so a write
    /// is visible to the writer's next read. Without it, writes wake the follower.
    pub refresh: Option<Refresh>,
    /// Correction reports per client address (in memory only).
    pub reports: Arc<desk::ReportLimiter>,
    /// Per-address request rates (in memory only).
    pub limits: Arc<limits::Limits>,
    /// The security headers and the CORS origins.
    pub security: Arc<security::SecuritySettings>,
    /// Precomputed cluster levels of the facility layer, per snapshot.
    pub layers: Arc<crate::catalog::layers::LayerCache>,
}

impl AppState {
    /// How `audience` sees facilities now.
    pub fn viewer(&self, audience: crate::domain::Audience) -> dto::Viewer {
        dto::Viewer::new(audience, self.web.capacity_stale_hours)
    }
}

/// A blocking "bring the catalog up to date" action.
pub type Refresh = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

impl AppState {
    /// State with default web and sign-in settings (tests and tools).
    pub fn new(catalog: CatalogHandle, store: Arc<Store>) -> AppState {
        AppState {
            catalog,
            store,
            web: Default::default(),
            auth: Default::default(),
            changed: Default::default(),
            refresh: None,
            reports: Default::default(),
            // One in-process app called from one address far faster than people: no rate
            // limits here; `serve` sets them from its flags.
            limits: Arc::new(limits::Limits::new(limits::RateSettings::OFF)),
            security: Default::default(),
            layers: Default::default(),
        }
    }
}

/// What the front end needs from the settings.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Directory of the built front end; served at `/` when it exists.
    pub dir: std::path::PathBuf,
    pub tile_url: String,
    pub tile_attribution: String,
    /// A bed status older than this reads as unknown (`--capacity-stale-hours`).
    pub capacity_stale_hours: u32,
    /// The address people reach the service at, for the links it hands out (update links);
    /// without it, the request's own scheme and host.
    pub public_url: Option<String>,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            dir: std::path::PathBuf::from("web/dist"),
            tile_url: crate::config::DEFAULT_TILE_URL.to_string(),
            tile_attribution: crate::config::DEFAULT_TILE_ATTRIBUTION.to_string(),
            capacity_stale_hours: crate::domain::admission::DEFAULT_STALE_HOURS,
            public_url: None,
        }
    }
}

/// The guard of one method; `get` also answers HEAD (actix sends no body for it).
fn method_route(method: &str) -> actix_web::Route {
    match method {
        "get" => web::route().guard(guard::Any(guard::Get()).or(guard::Head())),
        "post" => web::post(),
        "put" => web::put(),
        "patch" => web::patch(),
        _ => web::delete(),
    }
}

/// The `Allow` value of a route with these methods.
fn allow_of(methods: &[&str]) -> String {
    let mut v: Vec<String> = Vec::new();
    for m in methods {
        v.push(m.to_uppercase());
        if *m == "get" {
            v.push("HEAD".into());
        }
    }
    v.join(", ")
}

macro_rules! routes {
    ($($path:literal => { $($method:ident : $handler:path),+ $(,)? }),* $(,)?) => {
        /// Every route of the service and its methods (`get` also answers HEAD). The OpenAPI
        /// document must list exactly these; a test holds it to that.
        pub const ROUTES: &[(&str, &[&str])] = &[$(($path, &[$(stringify!($method)),+])),*];

        fn register(cfg: &mut web::ServiceConfig) {
            $(
                let methods: &[&str] = &[$(stringify!($method)),+];
                let resource = web::resource($path)
                    $(.route(method_route(stringify!($method)).to($handler)))+;
                let allow = allow_of(methods);
                cfg.service(resource.default_service(web::to(move |req: HttpRequest| {
                    let allow = allow.clone();
                    async move {
                        Err::<actix_web::HttpResponse, _>(ApiError::method_not_allowed(
                            req.method().as_str(),
                            $path,
                            &allow,
                        ))
                    }
                })));
            )*
        }
    };
}

routes! {
    "/healthz" => { get: routes::healthz },
    "/readyz" => { get: routes::readyz },
    "/api/v1/facilities" => { get: routes::list_facilities, post: write::create_facility },
    "/api/v1/facilities.geojson" => { get: routes::facilities_geojson },
    "/api/v1/facilities.csv" => { get: export::facilities_csv },
    "/api/v1/facilities.xlsx" => { get: export::facilities_xlsx },
    "/api/v1/export/hsds" => { get: export::hsds },
    "/api/v1/import/template.csv" => { get: export::template_csv },
    "/api/v1/import/template.xlsx" => { get: export::template_xlsx },
    "/api/v1/facilities/{id}.geojson" => { get: routes::facility_geojson },
    "/api/v1/facilities/{id}" => { get: routes::get_facility, patch: write::patch_facility },
    "/api/v1/suggest" => { get: routes::suggest },
    "/api/v1/facilities/{id}/services/{service}" => { put: write::put_service, delete: write::delete_service },
    "/api/v1/facilities/{id}/services/{service}/capacity" => { put: admission::put_capacity },
    "/api/v1/facilities/{id}/services/{service}/capacity/history" => { get: admission::capacity_history },
    "/api/v1/facilities/{id}/services/{service}/admission-rules" => { put: admission::put_rules },
    "/api/v1/facilities/{id}/verify" => { post: write::verify_facility },
    "/api/v1/facilities/{id}/specialists" => { put: write::put_specialists },
    "/api/v1/facilities/{id}/partners" => { get: team::get_partners, put: team::put_partners },
    "/api/v1/facilities/{id}/update-links" => { get: links::list_links, post: links::create_link },
    "/api/v1/facilities/{id}/update-links/{link}" => { delete: links::revoke_link },
    "/api/v1/update-links/{token}" => { get: links::open_link, post: links::use_link },
    "/api/v1/facilities/{id}/surveys/{code}" => { post: surveys::enter_answers },
    "/api/v1/imports" => { post: imports::post_import },
    "/api/v1/review/stale" => { get: desk::stale },
    "/api/v1/review/stale/links" => { post: desk::stale_links },
    "/api/v1/facilities/{id}/corrections" => { post: desk::report },
    "/api/v1/corrections" => { get: desk::corrections },
    "/api/v1/corrections/{id}/close" => { post: desk::close },
    "/api/v1/surveys" => { get: surveys::list_surveys },
    "/api/v1/surveys/{code}" => { get: surveys::get_survey },
    "/api/v1/pharmacy-groups" => { get: surveys::list_groups, post: surveys::create_group },
    "/api/v1/pharmacy-groups/{id}" => { put: surveys::replace_group, delete: surveys::delete_group },
    "/api/v1/events" => { get: events::list_events, post: events::create_event },
    "/api/v1/events.ics" => { get: events::events_ics },
    "/api/v1/events/report" => { get: events::activity_report },
    "/api/v1/events/{id}" => { get: events::get_event, put: events::replace_event, delete: events::delete_event },
    "/api/v1/calendar-feeds" => { get: events::list_feeds, post: events::create_feed },
    "/api/v1/calendar-feeds/{id}" => { delete: events::delete_feed },
    "/api/v1/review" => { get: links::review },
    "/api/v1/review/{id}/approve" => { post: links::approve },
    "/api/v1/review/{id}/reject" => { post: links::reject },
    "/api/v1/facilities/{id}/history" => { get: write::history },
    "/api/v1/backup" => { get: admission::backup },
    "/api/v1/backup.geojson" => { get: admission::backup_geojson },
    "/api/v1/care-team" => { post: team::care_team },
    "/api/v1/areas" => { get: routes::list_areas },
    "/api/v1/areas.geojson" => { get: routes::areas_geojson },
    "/api/v1/areas/{code}/coverage" => { get: coverage::area_coverage },
    "/api/v1/coverage" => { get: coverage::overview },
    "/api/v1/municipalities.geojson" => { get: routes::municipalities_geojson },
    "/api/v1/vocabulary" => { get: routes::vocabulary },
    "/api/v1/geocode" => { get: routes::geocode },
    "/api/v1/config" => { get: routes::web_config },
    "/api/v1/openapi.json" => { get: routes::openapi },
    "/api/v1/session" => { get: session::whoami, post: session::sign_in, delete: session::sign_out },
    "/api/v1/users" => { get: session::list_users, post: session::create_user },
    "/api/v1/users/{id}" => { patch: session::update_user },
}

/// Every route of the service.
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        let web_dir = state.web.dir.clone();
        cfg.app_data(web::Data::new(state))
            .app_data(web::PathConfig::default().error_handler(|e, _| {
                ApiError::bad_parameter("path", format!("Invalid path: {e}")).into()
            }))
            .app_data(write::json_config());
        // One scope around everything, so the limits and the security headers apply to every
        // answer: routes, static files, errors and 404s (the last `wrap` runs first).
        cfg.service(
            web::scope("")
                .wrap(actix_web::middleware::from_fn(limits::guard))
                .wrap(actix_web::middleware::from_fn(security::headers))
                .configure(move |cfg| {
                    register(cfg);
                    cfg.service(web::scope("/api").default_service(web::to(routes::no_route)));
                    if web_dir.join("index.html").is_file() {
                        cfg.service(
                            actix_files::Files::new("/", web_dir)
                                .index_file("index.html")
                                .guard(guard::fn_guard(|ctx| {
                                    let m = ctx.head().method.clone();
                                    m == actix_web::http::Method::GET
                                        || m == actix_web::http::Method::HEAD
                                })),
                        );
                    } else {
                        cfg.route("/", web::get().to(routes::no_front_end));
                    }
                }),
        );
    }
}

/// How long a client may take to send a request's head; a slow (or stalled) one is answered
/// 408 and dropped, so half-open connections cannot pile up.
pub const CLIENT_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// How long an idle keep-alive connection is kept.
pub const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(15);
/// How long a closing connection may take to finish.
pub const CLIENT_DISCONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
/// Open connections per worker; the kernel queue for ones not yet accepted.
pub const MAX_CONNECTIONS: usize = 10_000;
pub const BACKLOG: u32 = 2048;

/// Bind and serve until stopped. Prints the bound address (useful with port 0).
pub async fn run(bind: std::net::SocketAddr, state: AppState) -> std::io::Result<()> {
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .wrap(tracing_actix_web::TracingLogger::default())
            .configure(configure(state.clone()))
    })
    .client_request_timeout(CLIENT_REQUEST_TIMEOUT)
    .client_disconnect_timeout(CLIENT_DISCONNECT_TIMEOUT)
    .keep_alive(KEEP_ALIVE)
    .max_connections(MAX_CONNECTIONS)
    .backlog(BACKLOG)
    .bind(bind)?;
    for addr in server.addrs() {
        println!("listening on http://{addr}");
    }
    server.run().await
}
