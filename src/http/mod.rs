//! The HTTP API: one `configure` used by `main` and by the tests, handlers, query parsing,
//! views per audience and problem+json errors. Knows nothing of diesel or tantivy types.

pub mod error;
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
}

/// Every route of the service.
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(state))
            .app_data(web::PathConfig::default().error_handler(|e, _| {
                ApiError::bad_parameter("path", format!("Invalid path: {e}")).into()
            }))
            .route("/healthz", web::get().to(routes::healthz))
            .service(
                web::scope("/api/v1")
                    .route("/facilities", web::get().to(routes::list_facilities))
                    .route("/facilities/{id}", web::get().to(routes::get_facility))
                    .route("/areas", web::get().to(routes::list_areas))
                    .route("/vocabulary", web::get().to(routes::vocabulary))
                    .route("/geocode", web::get().to(routes::geocode))
                    .default_service(web::to(routes::no_route)),
            );
    }
}

/// Bind and serve until stopped. Prints the bound address (useful with port 0).
pub async fn run(settings: crate::config::Settings, state: AppState) -> anyhow::Result<()> {
    use anyhow::Context;
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .wrap(tracing_actix_web::TracingLogger::default())
            .configure(configure(state.clone()))
    })
    .bind(settings.bind)
    .with_context(|| format!("cannot listen on {}", settings.bind))?;
    for addr in server.addrs() {
        println!("listening on http://{addr}");
    }
    server.run().await.context("server stopped with an error")
}
