//! The `pallimap` command: serve the directory, build and load the default dataset.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

mod bench;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use pallimap::catalog::CatalogHandle;
use pallimap::config::{self, Settings};
use pallimap::store::Store;

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
    /// Measure catalog build time, memory and query latency on a dataset directory.
    Bench {
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// Queries per shape.
        #[arg(long, default_value = "1000")]
        runs: usize,
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
        Command::Bench { data_dir, runs } => bench::run(&data_dir, runs),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let settings = Settings {
        bind: args.bind,
        database_url: args.db.database_url.clone(),
        data_dir: args.db.data_dir.clone(),
        web_dir: args.web_dir,
        tile_url: args.tile_url,
    };
    let store = pallimap::app::open_store(&settings.database_url, &settings.data_dir)?;
    let t = Instant::now();
    let catalog = pallimap::app::build_catalog(&store)?;
    tracing::info!(
        facilities = catalog.len(),
        elapsed_ms = t.elapsed().as_millis() as u64,
        backend = %store.backend().display(),
        "catalog built"
    );
    let store = Arc::new(store);
    let handle = CatalogHandle::new(catalog);
    let state = pallimap::http::AppState {
        catalog: handle.clone(),
        store: store.clone(),
        web: Arc::new(pallimap::http::WebSettings {
            dir: settings.web_dir.clone(),
            tile_url: settings.tile_url.clone(),
            ..Default::default()
        }),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        tokio::spawn(pallimap::app::follow_changes(
            store,
            handle,
            std::time::Duration::from_millis(500),
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
            let dataset = pallimap::app::read_dataset(&db.data_dir)?;
            let summary = pallimap::app::load_dataset(&store, &dataset, "dataset-load")?;
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
