//! The HTTP API: one `configure` used by `main` and by the tests, handlers, query parsing,
//! views per audience and problem+json errors. Knows nothing of diesel or tantivy types.

pub mod error;
pub mod geo;
mod params;
mod routes;
pub mod views;

use std::sync::Arc;

use actix_web::web;

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

/// Every route of the service.
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        let web_dir = state.web.dir.clone();
        cfg.app_data(web::Data::new(state))
            .app_data(web::PathConfig::default().error_handler(|e, _| {
                ApiError::bad_parameter("path", format!("Invalid path: {e}")).into()
            }))
            .route("/healthz", web::get().to(routes::healthz))
            .service(
                web::scope("/api/v1")
                    .route("/facilities", web::get().to(routes::list_facilities))
                    .route(
                        "/facilities.geojson",
                        web::get().to(routes::facilities_geojson),
                    )
                    .route(
                        "/facilities/{id}.geojson",
                        web::get().to(routes::facility_geojson),
                    )
                    .route("/facilities/{id}", web::get().to(routes::get_facility))
                    .route("/areas", web::get().to(routes::list_areas))
                    .route("/areas.geojson", web::get().to(routes::areas_geojson))
                    .route(
                        "/municipalities.geojson",
                        web::get().to(routes::municipalities_geojson),
                    )
                    .route("/vocabulary", web::get().to(routes::vocabulary))
                    .route("/geocode", web::get().to(routes::geocode))
                    .route("/config", web::get().to(routes::web_config))
                    .default_service(web::to(routes::no_route)),
            );
        if web_dir.join("index.html").is_file() {
            cfg.service(actix_files::Files::new("/", web_dir).index_file("index.html"));
        } else {
            cfg.route("/", web::get().to(routes::no_front_end));
        }
    }
}

/// Follow the change log: when it moves (a write here, another instance, `pallimap data load`),
/// rebuild the catalog off the async workers and swap it in. Readers keep the old snapshot meanwhile.
pub async fn follow_changes(state: AppState, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let store = state.store.clone();
        let latest = match web::block(move || store.latest_change()).await {
            Ok(Ok(seq)) => seq,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "change log unreadable");
                continue;
            }
            Err(_) => continue,
        };
        if latest == state.catalog.load().change_seq() {
            continue;
        }
        let store = state.store.clone();
        match web::block(move || crate::catalog::Catalog::from_store(&store)).await {
            Ok(Ok(catalog)) => {
                tracing::info!(
                    seq = catalog.change_seq(),
                    facilities = catalog.len(),
                    "catalog refreshed"
                );
                state.catalog.replace(catalog);
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "catalog rebuild failed; keeping the old one")
            }
            Err(e) => tracing::error!(error = %e, "catalog rebuild panicked; keeping the old one"),
        }
    }
}

/// Bind and serve until stopped. Prints the bound address (useful with port 0).
pub async fn run(settings: crate::config::Settings, state: AppState) -> anyhow::Result<()> {
    use anyhow::Context;
    let state_for_refresh = state.clone();
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .wrap(tracing_actix_web::TracingLogger::default())
            .configure(configure(state.clone()))
    })
    .bind(settings.bind)
    .with_context(|| format!("cannot listen on {}", settings.bind))?;
    tokio::spawn(follow_changes(
        state_for_refresh,
        std::time::Duration::from_millis(500),
    ));
    for addr in server.addrs() {
        println!("listening on http://{addr}");
    }
    server.run().await.context("server stopped with an error")
}
