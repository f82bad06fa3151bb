//! Settings for `pallimap serve`, from flags with `PALLIMAP_*` environment fallbacks.
//! Passed explicitly to whoever needs them; never global.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything the server needs to start. Every field has a laptop-friendly default.
#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    /// `sqlite://path`, a plain file path, or `postgres://…`.
    pub database_url: String,
    /// Directory of the processed dataset loaded into an empty database.
    pub data_dir: PathBuf,
    /// Directory of the built front end (served at `/` when present).
    pub web_dir: PathBuf,
    /// Map tile URL template handed to the front end (its origin is allowed for images).
    pub tile_url: String,
    /// Per-address request rates (`--rate-*`; 0 per minute turns one off).
    pub rates: crate::http::limits::RateSettings,
    /// Send `Strict-Transport-Security` (the service is reached over HTTPS only).
    pub hsts: bool,
    /// Origins allowed to call the API from other sites' pages (none by default).
    pub cors_origins: Vec<String>,
    /// Where the text index is saved between starts (`None`: indexed at every start).
    pub index_dir: Option<PathBuf>,
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://var/pallimap.sqlite3";
pub const DEFAULT_TILE_URL: &str = "https://cyberjapandata.gsi.go.jp/xyz/pale/{z}/{x}/{y}.png";
pub const DEFAULT_TILE_ATTRIBUTION: &str =
    "<a href=\"https://maps.gsi.go.jp/development/ichiran.html\">地理院タイル</a>";

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bind: DEFAULT_BIND
                .parse()
                .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080))),
            database_url: DEFAULT_DATABASE_URL.to_string(),
            data_dir: PathBuf::from("data"),
            web_dir: PathBuf::from("web/dist"),
            tile_url: DEFAULT_TILE_URL.to_string(),
            rates: Default::default(),
            hsts: false,
            cors_origins: Vec::new(),
            index_dir: default_index_dir(DEFAULT_DATABASE_URL),
        }
    }
}

/// The saved text index's directory for a database: `FILE-index/` beside a SQLite file, so
/// each database has its own; none for PostgreSQL, whose instances have no file of their own
/// to sit beside (give one with `--index-dir`).
pub fn default_index_dir(database_url: &str) -> Option<PathBuf> {
    match crate::store::Backend::from_url(database_url) {
        crate::store::Backend::Sqlite { path } => Some(PathBuf::from(format!("{path}-index"))),
        crate::store::Backend::Postgres { .. } => None,
    }
}
