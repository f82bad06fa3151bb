//! The `pallimap` command: serve the directory, build and load the default dataset.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

mod bench;
mod ops;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use pallimap::catalog::CatalogHandle;
use pallimap::config::{self, Settings};
use pallimap::http::limits::{self, Rate, RateSettings};
use pallimap::store::Store;

/// The process's allocator (see Cargo.toml): a catalog build allocates and frees millions of
/// small objects between the ones it keeps, and mimalloc returns the freed pages.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "pallimap",
    version,
    about = "Regional directory and map of palliative-care resources"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the HTTP service (loads data/ into an empty database first).
    Serve(ServeArgs),
    /// Build, load or evaluate the processed dataset.
    #[command(subcommand)]
    Data(DataCommand),
    /// Manage accounts (the password is read from standard input, never a flag).
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens for scripts (`Authorization: Bearer <token>`).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Facility update links (for staff without an account).
    #[command(subcommand)]
    Link(LinkCommand),
    /// Import facilities from a CSV or XLSX file in the template's columns: checks every row
    /// (created / updated / unchanged / rejected with row, column and what to fix), then
    /// applies the file in one transaction when every row passes.
    Import {
        file: PathBuf,
        /// Check only: print what would change, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Import with this account's rights (its areas); without it, as the operator.
        #[arg(long = "as", value_name = "EMAIL")]
        as_user: Option<String>,
        /// utf-8 or shift_jis (cp932); detected when not given.
        #[arg(long)]
        encoding: Option<String>,
        /// Print the whole preview as JSON instead of a summary.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Check that the catalog a serving instance builds equals the store (every facility, its
    /// version, the change-log position) and that the change log replays to the store; exits
    /// non-zero on a difference.
    Check {
        #[command(flatten)]
        db: DbArgs,
        /// Also compare a running instance (`http://host:port`): its catalog's change-log
        /// position and size, from /healthz.
        #[arg(long)]
        url: Option<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Copy the database to FILE while it serves (SQLite: VACUUM INTO; PostgreSQL: pg_dump -Fc).
    Backup {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[command(flatten)]
        db: DbOnly,
    },
    /// Replace the (SQLite) database with a backup, after checking it is a pallimap database
    /// this build can open. Stop the service first.
    Restore {
        file: PathBuf,
        /// Replace a database that holds data.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        db: DbOnly,
    },
    /// Measure catalog build time, memory and query latency on a dataset directory.
    Bench {
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// Queries per shape.
        #[arg(long, default_value = "1000")]
        runs: usize,
        /// Instead: import a generated CSV of this many MB into a scratch SQLite copy of the
        /// dataset (check, then apply) and print rows/s and the peak RSS growth.
        #[arg(long, value_name = "MB")]
        import_mb: Option<u64>,
    },
}

#[derive(Args)]
struct DbArgs {
    /// SQLite file (`sqlite://path` or a path) or `postgres://…`.
    #[arg(long, env = "PALLIMAP_DATABASE_URL", default_value = config::DEFAULT_DATABASE_URL)]
    database_url: String,
    /// Directory of the processed dataset.
    #[arg(long, env = "PALLIMAP_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add an account; reads its password (at least 12 characters) from standard input.
    Add {
        #[arg(long)]
        email: String,
        /// professional, facility_editor, coordinator or admin.
        #[arg(long)]
        role: String,
        /// 二次医療圏 code a coordinator is bound to (repeat for several).
        #[arg(long = "area")]
        areas: Vec<String>,
        /// Facility id a facility editor is bound to (repeat for several).
        #[arg(long = "facility")]
        facilities: Vec<String>,
        #[command(flatten)]
        db: DbOnly,
    },
    /// List accounts.
    List(DbOnly),
    /// Disable an account: its sessions end and its tokens are revoked.
    Disable {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        db: DbOnly,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token for an account and print it once.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "script")]
        name: String,
        #[command(flatten)]
        db: DbOnly,
    },
    /// Revoke an account's tokens (those named `--name`, or all).
    Revoke {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        db: DbOnly,
    },
}

#[derive(Args)]
struct DbOnly {
    /// The same database as `serve`.
    #[arg(long, env = "PALLIMAP_DATABASE_URL", default_value = config::DEFAULT_DATABASE_URL)]
    database_url: String,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PALLIMAP_BIND", default_value = config::DEFAULT_BIND)]
    bind: SocketAddr,
    #[command(flatten)]
    db: DbArgs,
    /// Directory of the built front end.
    #[arg(long, env = "PALLIMAP_WEB_DIR", default_value = "web/dist")]
    web_dir: PathBuf,
    /// Map tile URL template for the front end.
    #[arg(long, env = "PALLIMAP_TILE_URL", default_value = config::DEFAULT_TILE_URL)]
    tile_url: String,
    /// Mark the session cookie Secure (set it when a TLS proxy is in front).
    #[arg(long, env = "PALLIMAP_SECURE_COOKIES")]
    secure_cookies: bool,
    /// A session unused this many hours ends.
    #[arg(long, env = "PALLIMAP_SESSION_IDLE_HOURS", default_value = "12", value_parser = clap::value_parser!(u64).range(1..=720))]
    session_idle_hours: u64,
    /// A session ends this many days after sign-in.
    #[arg(long, env = "PALLIMAP_SESSION_MAX_DAYS", default_value = "7", value_parser = clap::value_parser!(u64).range(1..=90))]
    session_max_days: u64,
    /// A bed status older than this many hours is shown as unknown.
    #[arg(long, env = "PALLIMAP_CAPACITY_STALE_HOURS", default_value = "72", value_parser = clap::value_parser!(u32).range(1..=8760))]
    capacity_stale_hours: u32,
    /// The address people reach this service at (e.g. https://pallimap.example.jp), used in
    /// the update links it hands out; default: the request's own host.
    #[arg(long, env = "PALLIMAP_PUBLIC_URL")]
    public_url: Option<String>,
    /// Searches (list, map GeoJSON, suggest, geocode) per minute per client address; 0 = no limit.
    #[arg(long, env = "PALLIMAP_RATE_SEARCH_PER_MIN", default_value_t = limits::DEFAULT_SEARCH.per_minute)]
    rate_search_per_min: u32,
    /// Searches one address may send at once before the per-minute rate applies.
    #[arg(long, env = "PALLIMAP_RATE_SEARCH_BURST", default_value_t = limits::DEFAULT_SEARCH.burst)]
    rate_search_burst: u32,
    /// Sign-in requests per minute per client address; 0 = no limit (failures are throttled anyway).
    #[arg(long, env = "PALLIMAP_RATE_SIGNIN_PER_MIN", default_value_t = limits::DEFAULT_SIGN_IN.per_minute)]
    rate_signin_per_min: u32,
    #[arg(long, env = "PALLIMAP_RATE_SIGNIN_BURST", default_value_t = limits::DEFAULT_SIGN_IN.burst)]
    rate_signin_burst: u32,
    /// Correction-form requests per minute per client address; 0 = no limit (accepted
    /// reports stay limited to 5 an hour and 20 a day).
    #[arg(long, env = "PALLIMAP_RATE_CORRECTIONS_PER_MIN", default_value_t = limits::DEFAULT_CORRECTIONS.per_minute)]
    rate_corrections_per_min: u32,
    #[arg(long, env = "PALLIMAP_RATE_CORRECTIONS_BURST", default_value_t = limits::DEFAULT_CORRECTIONS.burst)]
    rate_corrections_burst: u32,
    /// Send Strict-Transport-Security: set it when people reach the service over HTTPS only
    /// (a TLS proxy in front).
    #[arg(long, env = "PALLIMAP_HSTS")]
    hsts: bool,
    /// An origin (https://host[:port]) whose pages may call the API; repeat for several (the
    /// variable takes them comma-separated). None by default: no CORS headers at all.
    #[arg(long = "cors-origin", env = "PALLIMAP_CORS_ORIGINS", value_delimiter = ',', value_parser = cors_origin)]
    cors_origins: Vec<String>,
    /// Load the sample bed statuses and admission rules of data/sample/ (demos and tests;
    /// shown as サンプル). Without it, any sample ones are removed at start.
    #[arg(long)]
    with_sample: bool,
    /// Where the text index built at start is saved, for a later start on an unchanged
    /// database to open instead of indexing again. Default: beside a SQLite file
    /// (`FILE-index/`); none for PostgreSQL.
    #[arg(long, env = "PALLIMAP_INDEX_DIR")]
    index_dir: Option<PathBuf>,
    /// Index at every start and save nothing.
    #[arg(long, conflicts_with = "index_dir")]
    no_saved_index: bool,
}

#[derive(Subcommand)]
enum LinkCommand {
    /// Issue a facility update link and print its URL (shown once).
    Create {
        #[arg(long)]
        facility: String,
        /// A standing link (bed status and "confirm unchanged" only, no expiry).
        #[arg(long)]
        standing: bool,
        /// Lifetime of a one-time link in days.
        #[arg(long, default_value = "14", value_parser = clap::value_parser!(u32).range(1..=90))]
        days: u32,
        /// The address staff reach the service at.
        #[arg(
            long,
            env = "PALLIMAP_PUBLIC_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        base_url: String,
        #[command(flatten)]
        db: DbOnly,
    },
}

#[derive(Subcommand)]
enum DataCommand {
    /// Rebuild data/ from the public sources (deterministic: the same bytes twice).
    Build {
        #[arg(long, default_value = "../shared/data-src")]
        src: PathBuf,
        /// 2-digit prefecture code (11 埼玉県, 13 東京都).
        #[arg(long, default_value = "11")]
        pref: String,
        #[arg(long, default_value = "data")]
        out: PathBuf,
    },
    /// Re-apply data/ to the database (idempotent; never overwrites non-dataset facts).
    Load(DbArgs),
    /// Write a synthetic nationwide dataset (benchmarks only; every facility is marked 【合成】).
    Synth {
        #[arg(long)]
        facilities: usize,
        #[arg(long, default_value = "../shared/data-src")]
        src: PathBuf,
        #[arg(long, default_value = "1")]
        seed: u64,
        /// Output directory (default var/synth-<N>).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Measure the geocoder against hospitals with published coordinates.
    GeocodeEval {
        #[arg(long, default_value = "../shared/data-src")]
        src: PathBuf,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PALLIMAP_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Data(cmd) => data(cmd),
        Command::User(cmd) => user(cmd),
        Command::Token(cmd) => token(cmd),
        Command::Link(cmd) => link(cmd),
        Command::Import {
            file,
            dry_run,
            as_user,
            encoding,
            json,
            db,
        } => import(
            &file,
            dry_run,
            as_user.as_deref(),
            encoding.as_deref(),
            json,
            &db,
        ),
        Command::Check { db, url, json } => ops::check(&db.database_url, url.as_deref(), json),
        Command::Backup { out, db } => ops::backup(&db.database_url, &out),
        Command::Restore { file, force, db } => ops::restore(&file, &db.database_url, force),
        Command::Bench {
            data_dir,
            import_mb: Some(mb),
            ..
        } => bench::import(&data_dir, mb),
        Command::Bench { data_dir, runs, .. } => bench::run(&data_dir, runs),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// A `--cors-origin` value, checked.
fn cors_origin(s: &str) -> Result<String, String> {
    pallimap::http::security::check_origin(s).map(|()| s.to_string())
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let rate = |per_minute, burst| Rate { per_minute, burst };
    let settings = Settings {
        bind: args.bind,
        database_url: args.db.database_url.clone(),
        data_dir: args.db.data_dir.clone(),
        web_dir: args.web_dir,
        tile_url: args.tile_url,
        rates: RateSettings {
            search: rate(args.rate_search_per_min, args.rate_search_burst),
            sign_in: rate(args.rate_signin_per_min, args.rate_signin_burst),
            corrections: rate(args.rate_corrections_per_min, args.rate_corrections_burst),
        },
        hsts: args.hsts,
        cors_origins: args.cors_origins,
        index_dir: match (args.no_saved_index, args.index_dir) {
            (true, _) => None,
            (false, Some(dir)) => Some(dir),
            (false, None) => config::default_index_dir(&args.db.database_url),
        },
    };
    let t = Instant::now();
    // A first start builds the catalog while it loads the dataset; a later one reads it.
    let (store, built) =
        pallimap::app::open_store_building(&settings.database_url, &settings.data_dir)?;
    let changed = pallimap::app::apply_sample(&store, &settings.data_dir, args.with_sample)?;
    if args.with_sample {
        tracing::info!(
            facilities = changed,
            "sample bed statuses and rules loaded (サンプル)"
        );
    }
    let catalog = match built {
        Some(first) => {
            let catalog = if store.latest_change()? == first.change_seq() {
                first
            } else {
                pallimap::app::refreshed(&store, &first)?
            };
            if let Some(dir) = &settings.index_dir {
                pallimap::app::save_text_index(&store, &catalog, dir);
            }
            catalog
        }
        None => pallimap::app::build_catalog_saved(&store, settings.index_dir.as_deref())?,
    };
    tracing::info!(
        facilities = catalog.len(),
        elapsed_ms = t.elapsed().as_millis() as u64,
        backend = %store.backend().display(),
        "catalog built"
    );
    let store = Arc::new(store);
    let handle = CatalogHandle::new(catalog);
    let mut state = pallimap::http::AppState::new(handle.clone(), store.clone());
    state.web = Arc::new(pallimap::http::WebSettings {
        dir: settings.web_dir.clone(),
        tile_url: settings.tile_url.clone(),
        capacity_stale_hours: args.capacity_stale_hours,
        public_url: args.public_url.clone(),
        ..Default::default()
    });
    state.auth = Arc::new(pallimap::http::AuthSettings {
        idle: std::time::Duration::from_secs(args.session_idle_hours * 3600),
        absolute: std::time::Duration::from_secs(args.session_max_days * 24 * 3600),
        secure_cookies: args.secure_cookies,
        ..Default::default()
    });
    state.limits = Arc::new(limits::Limits::new(settings.rates));
    state.security = Arc::new(pallimap::http::security::SecuritySettings::new(
        &settings.tile_url,
        settings.hsts,
        settings.cors_origins.clone(),
    ));
    state.refresh = Some(pallimap::app::refresher(store.clone(), handle.clone()));
    let woken = state.changed.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        tokio::spawn(pallimap::app::follow_changes(
            store,
            handle,
            std::time::Duration::from_millis(500),
            woken,
        ));
        pallimap::http::run(settings.bind, state)
            .await
            .with_context(|| format!("cannot serve on {}", settings.bind))
    })
}

fn data(cmd: DataCommand) -> anyhow::Result<()> {
    match cmd {
        DataCommand::Build { src, pref, out } => {
            let report = pallimap::data::build::build(&src, &pref, &out)?;
            println!("{report}");
            Ok(())
        }
        DataCommand::Load(db) => {
            let store = Store::open(&db.database_url)?;
            let summary =
                pallimap::app::load_dataset_dir(&store, &db.data_dir, "dataset-load", None)?;
            println!(
                "inserted {}, updated {}, unchanged {}, kept {} facts not from the dataset",
                summary.inserted, summary.updated, summary.unchanged, summary.kept_non_dataset
            );
            Ok(())
        }
        DataCommand::Synth {
            facilities,
            src,
            seed,
            out,
        } => {
            let out = out.unwrap_or_else(|| PathBuf::from(format!("var/synth-{facilities}")));
            let t = Instant::now();
            let dataset = pallimap::data::synth::synth(&src, facilities, seed)?;
            pallimap::data::files::write(&out, &dataset, pallimap::data::synth::SYNTH_ATTRIBUTION)?;
            println!(
                "wrote {} synthetic facilities to {} in {:.1} s",
                dataset.facilities.len(),
                out.display(),
                t.elapsed().as_secs_f64()
            );
            Ok(())
        }
        DataCommand::GeocodeEval { src } => {
            let report = pallimap::data::geocode_eval::evaluate(&src)?;
            println!("{report}");
            Ok(())
        }
    }
}

/// One line from standard input (the password), without its line end.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn user(cmd: UserCommand) -> anyhow::Result<()> {
    use pallimap::domain::Role;
    match cmd {
        UserCommand::Add {
            email,
            role,
            areas,
            facilities,
            db,
        } => {
            let role = Role::from_code(&role)
                .with_context(|| format!("unknown role `{role}`; valid roles: {}", Role::CODES))?;
            let store = Store::open(&db.database_url)?;
            let known_areas = store.areas()?;
            if let Some(a) = areas
                .iter()
                .find(|a| !known_areas.iter().any(|k| &k.code == *a))
            {
                anyhow::bail!(
                    "unknown area `{a}`; the areas are {}",
                    known_areas
                        .iter()
                        .map(|k| format!("{} ({})", k.code, k.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            for f in &facilities {
                if store.facility(f)?.is_none() {
                    anyhow::bail!("unknown facility `{f}`");
                }
            }
            if role == Role::Coordinator && areas.is_empty() {
                anyhow::bail!("a coordinator needs at least one --area");
            }
            if role == Role::FacilityEditor && facilities.is_empty() {
                anyhow::bail!("a facility editor needs at least one --facility");
            }
            let password = read_password()?;
            let hash = pallimap::auth::hash_password(&password)?;
            let email = email.trim().to_lowercase();
            let u = store.add_user(
                &pallimap::store::NewUser {
                    email: &email,
                    password_hash: &hash,
                    role,
                    areas: &areas,
                    facilities: &facilities,
                },
                &pallimap::auth::timestamp(pallimap::auth::now()),
            )?;
            println!("added {} ({})", u.email, u.role.code());
            Ok(())
        }
        UserCommand::List(db) => {
            let store = Store::open(&db.database_url)?;
            for u in store.users()? {
                println!(
                    "{}\t{}\t{}\t{}{}",
                    u.email,
                    u.role.code(),
                    u.areas.join(","),
                    u.facilities.join(","),
                    if u.disabled { "\tdisabled" } else { "" }
                );
            }
            Ok(())
        }
        UserCommand::Disable { email, db } => {
            let store = Store::open(&db.database_url)?;
            let (u, _) = store
                .user_with_hash(&email.trim().to_lowercase())?
                .with_context(|| format!("no account with email {email}"))?;
            store.update_user(
                u.id,
                &pallimap::store::UserChange {
                    disabled: Some(true),
                    ..Default::default()
                },
            )?;
            println!("disabled {}", u.email);
            Ok(())
        }
    }
}

fn token(cmd: TokenCommand) -> anyhow::Result<()> {
    let (email, db) = match &cmd {
        TokenCommand::Create { email, db, .. } | TokenCommand::Revoke { email, db, .. } => {
            (email.trim().to_lowercase(), db)
        }
    };
    let store = Store::open(&db.database_url)?;
    let (u, _) = store
        .user_with_hash(&email)?
        .with_context(|| format!("no account with email {email}"))?;
    anyhow::ensure!(!u.disabled, "the account {email} is disabled");
    match cmd {
        TokenCommand::Create { name, .. } => {
            let token = pallimap::auth::random_token()?;
            store.create_token(
                &pallimap::auth::token_hash(&token),
                u.id,
                &name,
                &pallimap::auth::timestamp(pallimap::auth::now()),
            )?;
            eprintln!("token `{name}` for {email} (shown once; store it now):");
            println!("{token}");
        }
        TokenCommand::Revoke { name, .. } => {
            let n = store.revoke_tokens(u.id, name.as_deref())?;
            println!("revoked {n} token(s) of {email}");
        }
    }
    Ok(())
}

fn link(cmd: LinkCommand) -> anyhow::Result<()> {
    match cmd {
        LinkCommand::Create {
            facility,
            standing,
            days,
            base_url,
            db,
        } => {
            let store = Store::open(&db.database_url)?;
            store
                .facility(&facility)?
                .with_context(|| format!("no facility with id {facility}"))?;
            let (link, token) =
                pallimap::http::links::issue_link(&store, &facility, standing, days, "cli")
                    .map_err(anyhow::Error::msg)?;
            match &link.expires_at {
                Some(exp) => eprintln!(
                    "one-time link {} for {facility}, until {exp} (shown once):",
                    link.id
                ),
                None => eprintln!(
                    "standing link {} for {facility} (shown once; revoke it when no longer needed):",
                    link.id
                ),
            }
            println!("{}/update.html#{token}", base_url.trim_end_matches('/'));
            Ok(())
        }
    }
}

fn import(
    file: &std::path::Path,
    dry_run: bool,
    as_user: Option<&str>,
    encoding: Option<&str>,
    json: bool,
    db: &DbArgs,
) -> anyhow::Result<()> {
    use pallimap::import::{Encoding, ImportError, Importer, MAX_BYTES};
    let encoding = encoding
        .map(|e| {
            Encoding::from_code(e)
                .with_context(|| format!("unknown encoding {e}: use utf-8 or shift_jis"))
        })
        .transpose()?;
    let size = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    anyhow::ensure!(
        size <= MAX_BYTES,
        "{} is {size} bytes; the limit is {MAX_BYTES}: split the file",
        file.display()
    );
    let store = pallimap::app::open_store(&db.database_url, &db.data_dir)?;
    let user = match as_user {
        Some(email) => Some(
            store
                .user_with_hash(email)?
                .with_context(|| format!("no account {email}"))?
                .0,
        ),
        None => None,
    };
    let importer = match &user {
        Some(u) => Importer::User(u),
        None => Importer::Operator,
    };
    let catalog = pallimap::app::build_catalog(&store)?;
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        indicatif::ProgressBar::new_spinner().with_message("rows")
    } else {
        indicatif::ProgressBar::hidden()
    };
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let result = pallimap::app::import(
        &store,
        &catalog,
        || std::fs::File::open(file).map(std::io::BufReader::new),
        &name,
        encoding,
        importer,
        !dry_run,
        |n| {
            if n % 1000 == 0 {
                bar.set_position(n as u64);
            }
        },
    );
    bar.finish_and_clear();
    let (preview, ok) = match result {
        Ok(p) => (p, true),
        Err(ImportError::Rejected(p)) => (*p, false),
        Err(e) => return Err(e.into()),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&preview)?);
    } else {
        println!(
            "{} ({}, {}, {}): {} rows — {} created, {} updated, {} unchanged, {} rejected{}",
            preview.file,
            preview.format,
            preview.encoding,
            preview.checksum,
            preview.rows,
            preview.created,
            preview.updated,
            preview.unchanged,
            preview.rejected,
            if preview.applied {
                "; applied"
            } else if dry_run {
                "; dry run, nothing written"
            } else {
                ""
            }
        );
        for e in &preview.file_errors {
            println!("  file: {e}");
        }
        for item in preview.items.iter().filter(|i| !i.errors.is_empty()) {
            for e in &item.errors {
                println!(
                    "  row {} [{}]: {}",
                    item.row,
                    e.column.unwrap_or("-"),
                    e.message
                );
            }
        }
    }
    anyhow::ensure!(
        ok,
        "nothing was applied: fix the rejected rows and import again"
    );
    Ok(())
}
