//! `bootstrap`: cloudfn's AWS Lambda custom runtime (`provided.al2023`).
//!
//! It serves the same manifest and `.wasm` files as `cloudfn up` through
//! the Lambda Runtime API (`lambda_runtime`): HTTP events routed by
//! `[[trigger.http]]`, SQS and S3 events delivered to `[[trigger.redis]]`
//! consumers. Its settings come from the environment, as Lambda passes
//! them (`bootstrap --help` lists them); `bootstrap precompile` fills the
//! directory of precompiled components the deployment zip carries, so an
//! init deserializes them instead of compiling.

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use cloudfn_engine::limits::Limits;
use cloudfn_engine::{CodeTarget, Interruption, Runtime};
use cloudfn_events::sqs::SqsPublisher;
use cloudfn_events::{Route, Routes};
use cloudfn_lambda::settings::LambdaSettings;
use cloudfn_lambda::{LambdaApp, LambdaError};
use cloudfn_manifest::Manifest;
use cloudfn_services::ServiceConfig;
use cloudfn_services::runtime_config::RuntimeConfig;
use cloudfn_trigger_redis as redis_trigger;
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Parser)]
#[command(
    name = "bootstrap",
    version,
    about = "cloudfn's AWS Lambda runtime: the components of a Spin manifest behind the Lambda Runtime API"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    config: Config,
}

#[derive(Subcommand)]
enum Command {
    /// Compile every component of the manifest into --cache-dir, for the deployment zip.
    Precompile(Config),
}

#[derive(Args)]
struct Config {
    /// The Spin manifest [default: spin.toml in $LAMBDA_TASK_ROOT, else beside this binary].
    #[arg(long, env = "CLOUDFN_MANIFEST", value_name = "FILE")]
    manifest: Option<PathBuf>,
    /// Precompiled components [default: precompiled/ beside the manifest].
    #[arg(long, env = "CLOUDFN_CACHE_DIR", value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Where the embedded stores live: only /tmp is writable on Lambda,
    /// and it does not outlive the execution environment.
    #[arg(
        long,
        env = "CLOUDFN_DATA_DIR",
        value_name = "DIR",
        default_value = "/tmp/cloudfn"
    )]
    data_dir: PathBuf,
    /// The blob store: `s3://bucket` or `s3://bucket/prefix` (credentials
    /// and region from the function's role and AWS_REGION).
    #[arg(long, env = "CLOUDFN_BLOB_STORE", value_name = "URL")]
    blob_store: Option<String>,
    /// Spin's runtime config file: key-value stores and SQLite databases
    /// (a Redis key-value store is what lasts on Lambda).
    #[arg(long, env = "SPIN_RUNTIME_CONFIG_FILE", value_name = "FILE")]
    runtime_config_file: Option<PathBuf>,
    #[command(flatten)]
    limits: Limits,
}

impl Config {
    fn manifest_path(&self) -> PathBuf {
        if let Some(path) = &self.manifest {
            return path.clone();
        }
        let root = std::env::var_os("LAMBDA_TASK_ROOT")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::current_exe()
                    .ok()
                    .and_then(|exe| exe.parent().map(PathBuf::from))
            })
            .unwrap_or_default();
        root.join("spin.toml")
    }

    /// Loads the manifest and every component it routes or subscribes.
    fn app(self, manifest: &Manifest, manifest_path: &std::path::Path) -> Result<LambdaApp> {
        let cache_dir = self.cache_dir.clone().unwrap_or_else(|| {
            manifest_path
                .parent()
                .unwrap_or(std::path::Path::new("."))
                .join("precompiled")
        });
        // Lambda runs one invocation at a time per execution environment and
        // sizes its memory itself: unless set, the budget is never smaller
        // than one instance (a 128 MB function's cgroup would be).
        let mut limits = self.limits;
        if std::env::var_os("CLOUDFN_MAX_TOTAL_MEMORY").is_none() {
            limits.max_total_memory = limits
                .max_total_memory
                .max(cloudfn_engine::limits::ByteSize(limits.max_memory));
        }
        // Baseline code: what `precompile` writes on the build machine must
        // load on whichever CPU Lambda runs the function.
        let mut runtime = Runtime::for_target(
            limits,
            Some(cache_dir),
            Interruption::Epoch,
            CodeTarget::Baseline,
        )?;
        let runtime_config = match &self.runtime_config_file {
            Some(path) => RuntimeConfig::load(path)?,
            None => RuntimeConfig::default(),
        };
        let settings = LambdaSettings::load(
            manifest,
            |name| std::env::var(name).ok(),
            self.blob_store.as_deref(),
        )
        .map_err(anyhow::Error::msg)?;
        // What a guest publishes to a `[[trigger.redis]]` address goes to
        // the SQS queue of its channel, whose records come back to this
        // function's consumers (the embedded broker's part on `cloudfn up`).
        let triggers = redis_trigger::resolve(manifest)?;
        let sqs = Arc::new(SqsPublisher::from_env(
            |name| std::env::var(name).ok(),
            &settings.queues,
            triggers.iter().map(|t| t.channel.clone()).collect(),
        ));
        let mut event_routes = Routes::default();
        for trigger in &triggers {
            event_routes.insert(&trigger.address, Route::Sqs(sqs.clone()));
        }
        runtime.configure_services(&ServiceConfig {
            data_dir: Some(self.data_dir),
            blob_url: self.blob_store,
            runtime_config,
            event_routes,
        })?;
        Ok(LambdaApp::new(Arc::new(runtime), manifest, settings)?)
    }
}

fn main() -> std::process::ExitCode {
    let started = Instant::now();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    match run(started) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(started: Instant) -> Result<()> {
    let cli = Cli::parse();
    let (config, precompile) = match cli.command {
        Some(Command::Precompile(config)) => (config, true),
        None => (cli.config, false),
    };
    let manifest_path = config.manifest_path();
    let manifest = Manifest::load(&manifest_path)?;
    if !precompile {
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        return tokio.block_on(serve(config, manifest, manifest_path, started));
    }
    let app = config.app(&manifest, &manifest_path)?;
    let routes = app.http().routes().count();
    let consumers = app.events().subscriptions().count();
    println!(
        "precompiled the components of {} ({routes} routes, {consumers} subscriptions) in {:.1} s",
        manifest_path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn serve(
    config: Config,
    manifest: Manifest,
    manifest_path: PathBuf,
    started: Instant,
) -> Result<()> {
    let app = Arc::new(config.app(&manifest, &manifest_path)?);
    tracing::info!(
        target: "cloudfn::lambda",
        init_ms = format_args!("{:.3}", started.elapsed().as_secs_f64() * 1000.0),
        routes = app.http().routes().count(),
        subscriptions = app.events().subscriptions().count(),
        "ready"
    );
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let app = app.clone();
        async move {
            let budget = remaining(event.context.deadline, now_ms());
            app.handle(event.payload, budget).await.map_err(diagnostic)
        }
    }))
    .await
    .map_err(|e| anyhow::anyhow!("the Lambda runtime stopped: {e}"))
}

/// The error Lambda reports for a failed invocation, typed by what failed.
fn diagnostic(error: LambdaError) -> Diagnostic {
    let error_type = match &error {
        LambdaError::Event(_) => "cloudfn.InvalidEvent",
        LambdaError::Delivery(_) => "cloudfn.HandlerFailed",
        LambdaError::Http(_) | LambdaError::Events(_) | LambdaError::Settings(_) => {
            "cloudfn.InitError"
        }
    };
    tracing::error!(target: "cloudfn::lambda", error_type, "{error}");
    Diagnostic {
        error_type: error_type.to_owned(),
        error_message: error.to_string(),
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Lambda's longest function timeout: a "deadline" below it is a duration.
const MAX_LAMBDA_TIMEOUT_MS: u64 = 15 * 60 * 1000;

/// Time kept back from the deadline, so a `504` (or an SQS batch's report)
/// still reaches the Runtime API before Lambda ends the invocation.
const DEADLINE_MARGIN_MS: u64 = 50;

/// The time left before `deadline_ms` (`lambda-runtime-deadline-ms`, Unix
/// milliseconds), less the margin. Some emulators (cargo-lambda's) send a
/// relative budget there instead, which lands in 1970: a value no longer
/// than Lambda's longest timeout is read as one.
fn remaining(deadline_ms: u64, now_ms: u64) -> Option<Duration> {
    let left = if deadline_ms > now_ms {
        deadline_ms - now_ms
    } else if deadline_ms > 0 && deadline_ms <= MAX_LAMBDA_TIMEOUT_MS {
        deadline_ms
    } else {
        return None;
    };
    Some(Duration::from_millis(
        left.saturating_sub(DEADLINE_MARGIN_MS),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_a_relative_deadline_is_not_a_deadline_in_1970() {
        let now = 1_796_206_530_250;
        assert_eq!(
            remaining(now + 3_000, now),
            Some(Duration::from_millis(2_950))
        );
        assert_eq!(
            remaining(600_000, now),
            Some(Duration::from_millis(599_950))
        );
        assert_eq!(remaining(now + 20, now), Some(Duration::ZERO));
        assert_eq!(remaining(0, now), None);
        assert_eq!(remaining(now - 5, now), None);
    }
}
