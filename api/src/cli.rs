//! The `jobcollector` command line.

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::server::Application;
use crate::{auth, db, graphql, pipeline, telemetry};

/// Job Collector: collects job listings, assigns users a category from their resume, and
/// scores each user's fresh listings.
#[derive(Debug, Parser)]
#[command(name = "jobcollector", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to run.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the GraphQL API and run the job workers (migrates and seeds the database first).
    Serve {
        /// HTTP only: leave the jobs to `jobcollector worker` processes.
        #[arg(long)]
        no_workers: bool,
    },
    /// Run job workers only (no HTTP); start several, anywhere, against one database.
    Worker,
    /// Apply pending database migrations and seed the default categories.
    Migrate,
    /// Print the GraphQL schema (SDL) to standard output.
    Schema,
    /// Run the collector inline: once with --once, else every PIPELINE_INTERVAL_SECONDS.
    Pipeline {
        /// One run, then exit (non-zero only when every source failed).
        #[arg(long)]
        once: bool,
    },
    /// Import listings from a JobSpy export (CSV or JSON Lines), skipping bad rows.
    Import {
        /// The file to read.
        file: std::path::PathBuf,
        /// Put every row in this category instead of matching titles to keywords.
        #[arg(long)]
        category: Option<String>,
    },
    /// One maintenance pass now: close stale listings, delete closed ones past RETENTION_DAYS
    /// that nobody keeps, prune finished queue jobs older than QUEUE_RETENTION_DAYS.
    Maintenance,
    /// Administrative tasks.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
}

/// Administrative tasks.
#[derive(Debug, Subcommand)]
pub enum AdminAction {
    /// Give an existing account the admin role.
    Grant {
        /// The account's email.
        email: String,
    },
}

/// The whole program: parse the arguments, run the command on a multi-threaded runtime, and
/// turn an error into a message and a failure exit code.
pub fn main_entry() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs the command with the configuration from the environment and `.env`.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Schema = cli.command {
        print!("{}", graphql::sdl());
        return Ok(());
    }
    let config = Config::from_env()?;
    telemetry::init(config.log_format);
    tracing::debug!(?config, "configuration loaded");
    execute(cli.command, config).await
}

/// Runs a command with the given configuration.
pub async fn execute(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Schema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Command::Serve { no_workers } => {
            let mut config = config;
            config.workers_in_process = !no_workers;
            Application::build(config).await?.run_until_stopped().await
        }
        Command::Worker => {
            let mut config = config;
            config.workers_in_process = false;
            let metrics_addr = config.metrics_addr;
            let app = Application::build_without_http(config).await?;
            if let Some(addr) = metrics_addr {
                crate::server::serve_worker_metrics(app.clone(), addr).await?;
            }
            crate::server::run_workers(app, crate::server::shutdown_signal()).await?;
            Ok(())
        }
        Command::Migrate => {
            let db = db::connect(&config).await?;
            db::prepare(&config, &db).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::Pipeline { once } => {
            let db = db::connect(&config).await?;
            db::prepare(&config, &db).await?;
            pipeline::command(&db, &config, once).await
        }
        Command::Import { file, category } => {
            let db = db::connect(&config).await?;
            db::prepare(&config, &db).await?;
            let report = pipeline::import(&db, &config, &file, category.as_deref()).await?;
            print!("{}", pipeline::render_import(&report));
            Ok(())
        }
        Command::Maintenance => {
            let db = db::connect(&config).await?;
            db::prepare(&config, &db).await?;
            let report = pipeline::maintenance(&db, &config).await?;
            println!(
                "closed {} stale listings, deleted {} closed listings ({} matches), pruned {} finished queue jobs",
                report.closed, report.deleted_listings, report.deleted_matches, report.pruned_jobs
            );
            Ok(())
        }
        Command::Admin {
            action: AdminAction::Grant { email },
        } => {
            let db = db::connect(&config).await?;
            db::prepare(&config, &db).await?;
            auth::accounts::grant_admin(&db, &email).await?;
            println!("{} is now an admin", email.trim().to_lowercase());
            Ok(())
        }
    }
}
