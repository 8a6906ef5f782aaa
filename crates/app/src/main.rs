//! `commerce`: the order backend's binary. See `commerce --help`.

use std::process::ExitCode;

use adapters_http::JwtKeys;
use adapters_postgres::{Database, DatabaseConfig, run_migrations};
use anyhow::Context;
use app::cli::{Cli, Command};
use app::config::Config;
use app::startup::{Application, resolve_database, stop_embedded, wire_ports};
use app::{embedded, seed, telemetry};
use clap::Parser;
use domain::model::UserId;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One clear line (with its causes) for the operator.
            eprintln!("commerce: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Token { user, admin, ttl } => {
            let secret = match &config.jwt_secret {
                Some(secret) => secret.clone(),
                None => embedded::jwt_secret(&config.data_dir)?,
            };
            let token = JwtKeys::new(secret.expose().as_bytes()).issue_token(
                UserId::new(user),
                admin,
                ttl,
            )?;
            println!("{token}");
            Ok(())
        }
        Command::Migrate => {
            telemetry::init(config.log_format);
            let target = resolve_database(&config).await?;
            let applied = run_migrations(target.url.expose()).await;
            stop_embedded(target.embedded).await;
            let applied = applied.context("running migrations")?;
            println!("applied {} migration(s)", applied.len());
            Ok(())
        }
        Command::Seed => {
            telemetry::init(config.log_format);
            let target = resolve_database(&config).await?;
            let result = seed_into(&config, target.url.expose()).await;
            stop_embedded(target.embedded).await;
            println!(
                "{}",
                if result? {
                    "seeded the demo data"
                } else {
                    "the catalog is not empty; nothing seeded"
                }
            );
            Ok(())
        }
        Command::Serve => serve(config).await,
    }
}

async fn seed_into(config: &Config, url: &str) -> anyhow::Result<bool> {
    run_migrations(url).await?;
    let mut db_config = DatabaseConfig::new(url);
    db_config.max_size = 2;
    let database = Database::new(&db_config)?;
    let gateway = adapters_toss::build_gateway(config.gateway.clone())?;
    let ports = wire_ports(
        &database,
        gateway,
        std::sync::Arc::new(domain::ports::SystemClock),
    );
    let services = domain::usecases::Services::new(&ports, domain::usecases::Policies::default());
    let seeded = seed::seed_demo(&services).await;
    database.close();
    seeded
}

async fn serve(config: Config) -> anyhow::Result<()> {
    telemetry::init(config.log_format);
    tracing::info!(config = %config.summary(), "starting commerce");
    let application = Application::build(config).await?;
    let url = format!("http://{}", application.address());
    tracing::info!(%url, "commerce ready");
    println!("commerce ready on {url}");
    if let Some(tokens) = application.demo_tokens() {
        println!("  embedded PostgreSQL with demo data; tokens valid for 30 days:");
        println!("  export BUYER={}", tokens.buyer);
        println!("  export ADMIN={}", tokens.admin);
        println!("  try: curl -s -H \"Authorization: Bearer $BUYER\" {url}/v1/products");
    }
    application.run_until_stopped().await?;
    tracing::info!("commerce stopped");
    Ok(())
}
