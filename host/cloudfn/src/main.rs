//! `cloudfn`: serve, build and invoke the components of a Spin manifest.

mod build;
mod events;
mod invoke;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use cloudfn_engine::cache::ComponentCache;
use cloudfn_engine::limits::{ConnectionLimits, Limits, parse_duration};
use cloudfn_engine::{Interruption, Runtime};
use cloudfn_events::{Broker, Route, Routes};
use cloudfn_manifest::Manifest;
use cloudfn_services::ServiceConfig;
use cloudfn_services::runtime_config::RuntimeConfig;
use cloudfn_trigger_http::server::serve;
use cloudfn_trigger_http::{HttpApp, bind};
use cloudfn_trigger_redis::{self as redis_trigger, RedisApp};
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Parser)]
#[command(
    name = "cloudfn",
    version,
    about = "A local PaaS sandbox for WebAssembly components described by a Spin manifest"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every HTTP route of the manifest, one fresh instance per request (like `spin up`).
    Up(UpArgs),
    /// Run each component's `[component.X.build]` command (like `spin build`).
    Build(BuildArgs),
    /// Call one exported function of a component; arguments and results are WAVE values.
    Invoke(InvokeArgs),
    /// Run a component as a Hadoop Streaming mapper or reducer: lines on stdin, lines on stdout.
    Stream(StreamArgs),
    /// Publish events, and look into the embedded broker's queue and dead letters.
    Events(events::EventsArgs),
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum StreamPhase {
    /// cloudfn:mapreduce/mapper: `doc-id<TAB>content` records in, pairs out.
    Map,
    /// cloudfn:mapreduce/reducer: pairs sorted by key in, one line per key out.
    Reduce,
}

#[derive(Args)]
struct StreamArgs {
    /// The phase the component plays.
    phase: StreamPhase,
    /// The component's `.wasm` file.
    component: PathBuf,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Args)]
struct ManifestArgs {
    /// The Spin manifest (version 2).
    #[arg(
        short = 'f',
        long = "from",
        value_name = "MANIFEST",
        default_value = "spin.toml"
    )]
    manifest: PathBuf,
}

#[derive(Args)]
struct EngineArgs {
    /// Directory for precompiled components [default: $XDG_CACHE_HOME/cloudfn or ~/.cache/cloudfn].
    #[arg(long, env = "CLOUDFN_CACHE_DIR", value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Compile components in memory on every start.
    #[arg(long)]
    no_cache: bool,
    /// Directory of the embedded stores: key-value `default`
    /// (sqlite_key_value.db), SQLite `default` (sqlite_db.db), the blob
    /// store and the event broker (events.db) [default: .cloudfn/data
    /// beside the manifest].
    #[arg(long, env = "CLOUDFN_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Keep the blob store in an S3 bucket (`s3://bucket`) instead, configured
    /// from the environment like the AWS tools (AWS_ENDPOINT, AWS_REGION,
    /// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ALLOW_HTTP).
    #[arg(long, env = "CLOUDFN_BLOB_STORE", value_name = "URL")]
    blob_store: Option<String>,
    /// Spin's runtime config file: key-value stores (`[key_value_store.NAME]`,
    /// type `spin` or `redis`) and SQLite databases (`[sqlite_database.NAME]`).
    #[arg(long, env = "SPIN_RUNTIME_CONFIG_FILE", value_name = "FILE")]
    runtime_config_file: Option<PathBuf>,
    #[command(flatten)]
    limits: Limits,
}

impl EngineArgs {
    /// The data directory of `manifest`'s application.
    fn data_dir(&self, manifest: &Manifest) -> PathBuf {
        ServiceConfig {
            data_dir: self.data_dir.clone(),
            ..ServiceConfig::default()
        }
        .data_dir(manifest)
    }

    fn runtime(self, interruption: Interruption, event_routes: Routes) -> Result<Runtime> {
        let cache = if self.no_cache {
            None
        } else {
            self.cache_dir.or_else(ComponentCache::default_dir)
        };
        let mut runtime = Runtime::with_interruption(self.limits, cache, interruption)?;
        let runtime_config = match &self.runtime_config_file {
            Some(path) => RuntimeConfig::load(path)?,
            None => RuntimeConfig::default(),
        };
        runtime.configure_services(&ServiceConfig {
            data_dir: self.data_dir,
            blob_url: self.blob_store,
            runtime_config,
            event_routes,
        })?;
        Ok(runtime)
    }
}

#[derive(Args)]
struct UpArgs {
    #[command(flatten)]
    manifest: ManifestArgs,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Build the components first.
    #[arg(long)]
    build: bool,
    /// Serve the Redis addresses of `[[trigger.redis]]` (and guests'
    /// publishes to them) by this Redis server, with Spin's semantics
    /// (SUBSCRIBE, at most once), instead of the embedded durable broker.
    #[arg(long, env = "CLOUDFN_REDIS", value_name = "URL")]
    redis: Option<String>,
    /// On SIGTERM or Ctrl-C, stop accepting and let running requests and
    /// event deliveries finish for at most this long, then exit 0; a second
    /// signal exits at once.
    #[arg(long, env = "CLOUDFN_SHUTDOWN_TIMEOUT", value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    shutdown_timeout: Duration,
    #[command(flatten)]
    connections: ConnectionLimits,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Args)]
struct BuildArgs {
    #[command(flatten)]
    manifest: ManifestArgs,
    /// Build only these components (default: all).
    #[arg(short = 'c', long = "component-id")]
    components: Vec<String>,
}

#[derive(Args)]
struct InvokeArgs {
    #[command(flatten)]
    manifest: ManifestArgs,
    /// Component id in the manifest.
    component: String,
    /// Function: `name`, `interface#name` or `package:ns/interface@version#name`.
    function: String,
    /// Arguments, one WAVE value each (for example '"text"', '[1, 2]', '{x: 1}').
    args: Vec<String>,
    #[command(flatten)]
    engine: EngineArgs,
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = match cli.command {
        Command::Up(args) => runtime.block_on(up(args)),
        Command::Build(args) => {
            let manifest = Manifest::load(&args.manifest.manifest)?;
            build::build(&manifest, &args.components)?;
            Ok(())
        }
        Command::Invoke(args) => runtime.block_on(invoke(args)),
        Command::Stream(args) => runtime.block_on(stream(args)),
        Command::Events(args) => runtime.block_on(events::run(args)),
    };
    // Nothing left to wait for: a task still running (a guest that did not
    // unwind in time after `up`'s drain) must not hold the exit.
    runtime.shutdown_background();
    result
}

/// Raises the soft limit on open files to the hard one: each connection is
/// a descriptor, and the usual soft limit (1,024) is far below
/// `--max-connections`. Says so when even the hard limit is lower.
fn raise_open_files_limit(max_connections: u32) {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, limit) {
            tracing::warn!("cannot raise the open-files limit: {e}");
        }
    }
    let open_files = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
    if open_files < u64::from(max_connections) + 256 {
        tracing::warn!(
            "the open-files limit ({open_files}) is below --max-connections ({max_connections}) plus what the host itself needs: connections past it fail to be accepted"
        );
    }
}

async fn up(args: UpArgs) -> Result<()> {
    raise_open_files_limit(args.connections.max_connections);
    let manifest = Manifest::load(&args.manifest.manifest)?;
    if args.build {
        build::build(&manifest, &[])?;
    }
    let triggers = redis_trigger::resolve(&manifest)?;
    // What serves the manifest's Redis addresses: the embedded broker, or
    // the `--redis` server (`None` without `[[trigger.redis]]`).
    let source = match (&args.redis, triggers.is_empty()) {
        (_, true) => None,
        (Some(url), false) => Some(Route::Redis(url.clone())),
        (None, false) => {
            let settings = redis_trigger::settings::application_settings(&manifest)
                .map_err(anyhow::Error::msg)?;
            let file = args
                .engine
                .data_dir(&manifest)
                .join(cloudfn_events::FILE_NAME);
            Some(Route::Embedded(Broker::open(&file, settings.queue)?))
        }
    };
    let mut routes = Routes::default();
    if let Some(source) = &source {
        for trigger in &triggers {
            routes.insert(&trigger.address, source.clone());
        }
    }
    let runtime = Arc::new(args.engine.runtime(Interruption::Epoch, routes)?);
    let app = Arc::new(
        HttpApp::new(runtime.clone(), &manifest)?
            .with_body_read_timeout(args.connections.body_read_timeout),
    );
    let events = match &source {
        Some(source) => Some((
            Arc::new(RedisApp::new(runtime.clone(), &manifest, &triggers)?),
            source,
        )),
        None => None,
    };
    let listener = bind(args.listen).await?;
    let addr = listener.local_addr()?;
    // Events start before the routes are announced: a broker another host
    // holds, or a Redis server that cannot be reached, fails the start.
    let mut redis_task = None;
    let mut embedded_task = None;
    let (stop, stopping) = watch::channel(false);
    match &events {
        Some((app, Route::Embedded(broker))) => {
            embedded_task = Some(
                redis_trigger::embedded::start(app.clone(), broker.clone(), stopping.clone())
                    .await?,
            );
        }
        Some((app, Route::Redis(url))) => {
            let url = url.clone();
            redis_task = Some(
                redis_trigger::subscribe::start(
                    app.clone(),
                    move |_| url.clone(),
                    stopping.clone(),
                )
                .await?,
            );
        }
        // Only the Lambda bootstrap publishes to SQS; SQS delivers there.
        Some((_, Route::Sqs(_))) | None => {}
    }
    println!("Serving http://{addr}");
    if manifest.http_triggers.is_empty() && triggers.is_empty() {
        tracing::warn!(
            "{} has no [[trigger.http]] or [[trigger.redis]]: every request will get 404",
            args.manifest.manifest.display()
        );
    }
    println!("Available Routes:");
    for (route, component) in app.routes() {
        let route = if route.starts_with('/') {
            route.to_owned()
        } else {
            format!("/{route}")
        };
        match route.strip_suffix("/...") {
            Some(prefix) => println!("  {component}: http://{addr}{prefix} (wildcard)"),
            None => println!("  {component}: http://{addr}{route}"),
        }
    }
    if let Some((app, source)) = &events {
        println!("Subscriptions ({source}):");
        for (address, channel, component) in app.subscriptions() {
            println!("  {component}: channel `{channel}` at {address}");
        }
    }
    tracing::info!("limits: {}", runtime.describe_limits());
    let c = &args.connections;
    tracing::info!(
        "connections: at most {}, headers within {:?}, idle {:?}, body silence {:?}; shutdown drains for {:?}",
        c.max_connections,
        c.header_read_timeout,
        c.idle_timeout,
        c.body_read_timeout,
        args.shutdown_timeout
    );
    tokio::spawn(signals(stop, args.shutdown_timeout));
    let mut stopped = stopping.clone();
    let served = serve(app, listener, args.connections, async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    });
    let drained = async {
        // Both drain on a stop; a lost Redis connection ends the host.
        let served = match redis_task {
            Some(mut task) => {
                tokio::pin!(served);
                tokio::select! {
                    served = &mut served => {
                        if *stopping.borrow() {
                            redis_ended(task.await)?;
                        }
                        served.map_err(anyhow::Error::from)
                    }
                    ended = &mut task => {
                        redis_ended(ended)?;
                        served.await.map_err(anyhow::Error::from)
                    }
                }
            }
            None => served.await.map_err(anyhow::Error::from),
        };
        if let Some(task) = embedded_task {
            let _ = task.await;
        }
        served
    };
    let mut stopped = stopping.clone();
    let deadline = async move {
        let _ = stopped.wait_for(|stop| *stop).await;
        tokio::time::sleep(args.shutdown_timeout).await;
    };
    tokio::select! {
        result = drained => {
            if *stopping.borrow() {
                tracing::info!("shut down: every request and delivery under way finished");
            }
            result
        }
        () = deadline => {
            abandon(&runtime, args.shutdown_timeout).await;
            Ok(())
        }
    }
}

/// How long guests interrupted at the end of a drain get to unwind (each
/// notices within one epoch tick) before the host exits anyway.
const UNWIND: Duration = Duration::from_secs(1);

/// The end of a drain that did not finish: interrupts every guest still
/// running, says which, and waits briefly for them to unwind.
async fn abandon(runtime: &Runtime, shutdown_timeout: Duration) {
    let running = runtime.abandon();
    let cut: Vec<String> = running
        .iter()
        .map(|(component, n)| format!("{n} of `{component}`"))
        .collect();
    tracing::warn!(
        instances = %if cut.is_empty() { "none".to_owned() } else { cut.join(", ") },
        "shutdown: requests or deliveries still running after {shutdown_timeout:?} (--shutdown-timeout) are abandoned and their guests interrupted; deliveries not acknowledged are delivered again at the next start",
    );
    let started = std::time::Instant::now();
    while runtime.running().total() > 0 && started.elapsed() < UNWIND {
        tokio::time::sleep(cloudfn_engine::EPOCH_TICK).await;
    }
    let left = runtime.running().total();
    if left > 0 {
        tracing::warn!(
            instances = left,
            "shutdown: exiting with guests that did not unwind within {UNWIND:?}"
        );
    }
}

/// What the Redis trigger's task ended with, as the host's result.
fn redis_ended(
    ended: Result<Result<(), redis_trigger::RedisTriggerError>, tokio::task::JoinError>,
) -> Result<()> {
    match ended {
        Ok(ended) => Ok(ended?),
        Err(join) => Err(anyhow::anyhow!("the Redis trigger stopped: {join}")),
    }
}

/// The first SIGTERM or Ctrl-C starts the drain; a second exits at once.
/// The listeners are made once, before anything can arrive, so no signal
/// falls between the first and the second.
async fn signals(stop: watch::Sender<bool>, timeout: Duration) {
    let mut signals = ShutdownSignals::new();
    signals.next().await;
    tracing::info!(
        "shutting down: new connections are refused; running requests and deliveries may finish within {timeout:?} (--shutdown-timeout); a second signal exits at once"
    );
    let _ = stop.send(true);
    signals.next().await;
    tracing::warn!("second signal: exiting at once");
    std::process::exit(130);
}

async fn invoke(args: InvokeArgs) -> Result<()> {
    let manifest = Manifest::load(&args.manifest.manifest)?;
    // One call per process: no epoch checks in guest code, a watchdog ends
    // the process at the timeout.
    let runtime = args
        .engine
        .runtime(Interruption::Process, Routes::default())?;
    let component = runtime.load(&manifest, &args.component)?;
    let results = invoke::invoke(&runtime, &component, &args.function, &args.args).await?;
    for result in results {
        println!("{result}");
    }
    Ok(())
}

async fn stream(args: StreamArgs) -> Result<()> {
    use cloudfn_trigger_stream::{Phase, run};
    let runtime = args
        .engine
        .runtime(Interruption::Process, Routes::default())?;
    let id = args.component.file_stem().map_or_else(
        || "component".to_owned(),
        |s| s.to_string_lossy().into_owned(),
    );
    let component = runtime.load_file(&id, &args.component, Default::default())?;
    let phase = match args.phase {
        StreamPhase::Map => Phase::Map,
        StreamPhase::Reduce => Phase::Reduce,
    };
    let report = run(
        &runtime,
        &component,
        phase,
        std::io::stdin(),
        std::io::stdout(),
    )
    .await?;
    eprintln!(
        "cloudfn stream {}: {report}",
        if matches!(phase, Phase::Map) {
            "map"
        } else {
            "reduce"
        }
    );
    Ok(())
}

/// SIGTERM and SIGINT (Ctrl-C), as they arrive.
struct ShutdownSignals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl ShutdownSignals {
    fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self {
                term: signal(SignalKind::terminate()).ok(),
                interrupt: signal(SignalKind::interrupt()).ok(),
            }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// The next signal.
    async fn next(&mut self) {
        #[cfg(unix)]
        {
            async fn recv(signal: &mut Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                () = recv(&mut self.term) => {}
                () = recv(&mut self.interrupt) => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
