//! The HTTP API: one `configure` used by `main` and by the tests, typed requests, the planner's
//! answers rendered as DTOs and GeoJSON, problem+json errors and the OpenAPI document.
//! Knows `domain`, `catalog` and `store` by their public types only; never a diesel or tantivy
//! type. The role of a request becomes an `Audience` here, and only here.

mod dto;
pub mod error;
pub mod geojson;
pub mod openapi;
mod params;
mod request;
mod routes;

use std::sync::Arc;

use actix_web::dev::HttpServiceFactory;
use actix_web::{Handler, HttpRequest, Responder, guard, web};

use crate::catalog::CatalogHandle;
use crate::store::Store;

pub use error::ApiError;

/// Shared state of the running service.
#[derive(Clone)]
pub struct AppState {
    pub catalog: CatalogHandle,
    pub store: Arc<Store>,
    pub web: Arc<WebSettings>,
}

/// What the front end needs from the settings.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Directory of the built front end; served at `/` when it exists.
    pub dir: std::path::PathBuf,
    pub tile_url: String,
    pub tile_attribution: String,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            dir: std::path::PathBuf::from("web/dist"),
            tile_url: crate::config::DEFAULT_TILE_URL.to_string(),
            tile_attribution: crate::config::DEFAULT_TILE_ATTRIBUTION.to_string(),
        }
    }
}

/// A read route: GET (and HEAD, which actix answers without the body); any other method is
/// 405 with `Allow`.
fn read_route<F, Args>(path: &'static str, handler: F) -> impl HttpServiceFactory
where
    F: Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .route(
            web::route()
                .guard(guard::Any(guard::Get()).or(guard::Head()))
                .to(handler),
        )
        .default_service(web::to(move |req: HttpRequest| async move {
            Err::<actix_web::HttpResponse, _>(ApiError::method_not_allowed(
                req.method().as_str(),
                path,
                "GET, HEAD",
            ))
        }))
}

macro_rules! read_routes {
    ($($path:literal => $handler:path),* $(,)?) => {
        /// Every route of the service (all are read routes: GET and HEAD). The OpenAPI document
        /// must list exactly these; a test holds it to that.
        pub const ROUTES: &[&str] = &[$($path),*];

        fn register(cfg: &mut web::ServiceConfig) {
            $(cfg.service(read_route($path, $handler));)*
        }
    };
}

read_routes! {
    "/healthz" => routes::healthz,
    "/api/v1/facilities" => routes::list_facilities,
    "/api/v1/facilities.geojson" => routes::facilities_geojson,
    "/api/v1/facilities/{id}.geojson" => routes::facility_geojson,
    "/api/v1/facilities/{id}" => routes::get_facility,
    "/api/v1/suggest" => routes::suggest,
    "/api/v1/areas" => routes::list_areas,
    "/api/v1/areas.geojson" => routes::areas_geojson,
    "/api/v1/municipalities.geojson" => routes::municipalities_geojson,
    "/api/v1/vocabulary" => routes::vocabulary,
    "/api/v1/geocode" => routes::geocode,
    "/api/v1/config" => routes::web_config,
    "/api/v1/openapi.json" => routes::openapi,
}

/// Every route of the service.
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        let web_dir = state.web.dir.clone();
        cfg.app_data(web::Data::new(state))
            .app_data(web::PathConfig::default().error_handler(|e, _| {
                ApiError::bad_parameter("path", format!("Invalid path: {e}")).into()
            }));
        register(cfg);
        cfg.service(web::scope("/api").default_service(web::to(routes::no_route)));
        if web_dir.join("index.html").is_file() {
            cfg.service(
                actix_files::Files::new("/", web_dir)
                    .index_file("index.html")
                    .guard(guard::fn_guard(|ctx| {
                        let m = ctx.head().method.clone();
                        m == actix_web::http::Method::GET || m == actix_web::http::Method::HEAD
                    })),
            );
        } else {
            cfg.route("/", web::get().to(routes::no_front_end));
        }
    }
}

/// Bind and serve until stopped. Prints the bound address (useful with port 0).
pub async fn run(bind: std::net::SocketAddr, state: AppState) -> std::io::Result<()> {
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .wrap(tracing_actix_web::TracingLogger::default())
            .configure(configure(state.clone()))
    })
    .bind(bind)?;
    for addr in server.addrs() {
        println!("listening on http://{addr}");
    }
    server.run().await
}
