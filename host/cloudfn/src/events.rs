//! `cloudfn events`: publish to, and look into, the event broker of an
//! application (its data directory), or publish to a real Redis server.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use cloudfn_events::{Broker, DeadFilter, QueueLimits};
use cloudfn_manifest::Manifest;
use cloudfn_trigger_redis::settings::application_settings;
use futures::StreamExt;
use std::io::BufRead;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct EventsArgs {
    #[command(flatten)]
    manifest: super::ManifestArgs,
    /// The application's data directory, where the embedded broker keeps
    /// events.db [default: .cloudfn/data beside the manifest].
    #[arg(long, env = "CLOUDFN_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Publish to this Redis server instead of the embedded broker.
    #[arg(long, env = "CLOUDFN_REDIS", value_name = "URL")]
    redis: Option<String>,
    #[command(subcommand)]
    command: EventsCommand,
}

#[derive(Subcommand)]
enum EventsCommand {
    /// Publish one message, a file, or one message per line of an NDJSON file.
    Publish(PublishArgs),
    /// The dead letters: deliveries that failed on every attempt.
    Dlq {
        #[command(subcommand)]
        command: DlqCommand,
    },
    /// What the queue holds, per channel and consumer.
    Stats {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("input").required(true)))]
struct PublishArgs {
    /// The channel.
    channel: String,
    /// The message, as given.
    #[arg(long, group = "input")]
    data: Option<String>,
    /// The message: the bytes of this file.
    #[arg(long, group = "input", value_name = "FILE")]
    file: Option<PathBuf>,
    /// One message per non-empty line of this file.
    #[arg(long, group = "input", value_name = "FILE")]
    ndjson: Option<PathBuf>,
    /// Messages per second at most (with --ndjson) [default: as fast as accepted].
    #[arg(long, requires = "ndjson", value_name = "N")]
    rate: Option<u64>,
}

#[derive(Subcommand)]
enum DlqCommand {
    /// List them, oldest first.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Deliver them again, with fresh attempts.
    Replay(DlqFilterArgs),
    /// Delete them.
    Purge(DlqFilterArgs),
}

#[derive(Args)]
struct DlqFilterArgs {
    /// Only the message with this id (repeatable) [default: all].
    #[arg(long = "id", value_name = "ID")]
    ids: Vec<i64>,
    /// Only this consumer's.
    #[arg(long, value_name = "COMPONENT")]
    component: Option<String>,
}

impl From<DlqFilterArgs> for DeadFilter {
    fn from(args: DlqFilterArgs) -> Self {
        DeadFilter {
            seqs: args.ids,
            subscriber: args.component,
        }
    }
}

/// Messages one publisher keeps in flight (the broker commits them together).
const WINDOW: usize = 256;

pub async fn run(args: EventsArgs) -> Result<()> {
    if let Some(url) = &args.redis {
        let EventsCommand::Publish(publish) = args.command else {
            bail!(
                "a Redis server keeps no dead letters or queue (Spin's semantics): `dlq` and `stats` read the embedded broker; drop --redis"
            );
        };
        return publish_redis(url, publish).await;
    }
    let broker = open_broker(&args)?;
    match args.command {
        EventsCommand::Publish(publish) => publish_embedded(&broker, publish).await,
        EventsCommand::Dlq { command } => dlq(&broker, command).await,
        EventsCommand::Stats { json } => stats(&broker, json).await,
    }
}

fn open_broker(args: &EventsArgs) -> Result<Broker> {
    let path = &args.manifest.manifest;
    let (data_dir, limits) = match (&args.data_dir, path.exists()) {
        (Some(dir), false) => (dir.clone(), QueueLimits::default()),
        (data_dir, true) => {
            let manifest = Manifest::load(path)?;
            let limits = application_settings(&manifest)
                .map_err(anyhow::Error::msg)?
                .queue;
            let dir = data_dir
                .clone()
                .unwrap_or_else(|| manifest.dir.join(".cloudfn/data"));
            (dir, limits)
        }
        (None, false) => bail!(
            "{} not found: name the manifest with -f, or the data directory with --data-dir",
            path.display()
        ),
    };
    let file = data_dir.join(cloudfn_events::FILE_NAME);
    Ok(Broker::open(&file, limits)?)
}

/// Messages read lazily, one by one.
type Messages = Box<dyn Iterator<Item = Result<Vec<u8>>>>;

/// The messages to publish, and their total size for the progress bar.
fn messages(args: &PublishArgs) -> Result<(Messages, u64)> {
    if let Some(data) = &args.data {
        return Ok((Box::new(std::iter::once(Ok(data.clone().into_bytes()))), 1));
    }
    if let Some(file) = &args.file {
        let bytes =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        return Ok((Box::new(std::iter::once(Ok(bytes))), 1));
    }
    let file = args.ndjson.as_ref().context("no input")?;
    let size = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    let reader = std::io::BufReader::new(
        std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?,
    );
    let lines = reader.split(b'\n').filter_map(|line| match line {
        Ok(line) => {
            let line = line.strip_suffix(b"\r").map(<[u8]>::to_vec).unwrap_or(line);
            (!line.iter().all(u8::is_ascii_whitespace)).then_some(Ok(line))
        }
        Err(e) => Some(Err(e.into())),
    });
    Ok((Box::new(lines), size))
}

fn progress(args: &PublishArgs, total_bytes: u64) -> indicatif::ProgressBar {
    if args.ndjson.is_none() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total_bytes);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// Paces a publisher to `rate` messages per second.
struct Pace {
    start: Instant,
    rate: Option<u64>,
}

impl Pace {
    async fn wait(&self, sent: u64) {
        if let Some(rate) = self.rate.filter(|r| *r > 0) {
            let due = self.start + Duration::from_secs_f64(sent as f64 / rate as f64);
            tokio::time::sleep_until(due.into()).await;
        }
    }
}

async fn publish_embedded(broker: &Broker, args: PublishArgs) -> Result<()> {
    let (messages, size) = messages(&args)?;
    let bar = progress(&args, size);
    let pace = Pace {
        start: Instant::now(),
        rate: args.rate,
    };
    let channel = args.channel.clone();
    let started = Instant::now();
    let mut sent = 0u64;
    let mut nobody = 0u64;
    let receipts = futures::stream::iter(messages)
        .enumerate()
        .then(|(i, message)| {
            let pace = &pace;
            async move {
                pace.wait(i as u64).await;
                message
            }
        })
        .map(|message| {
            let channel = channel.clone();
            async move {
                let message = message?;
                let len = message.len() as u64 + 1;
                let receipt = broker.publish(&channel, &message).await?;
                Ok::<_, anyhow::Error>((receipt, len))
            }
        })
        .buffered(WINDOW);
    let mut receipts = std::pin::pin!(receipts);
    while let Some(receipt) = receipts.next().await {
        let (receipt, len) = match receipt {
            Ok(r) => r,
            Err(e) => {
                bar.abandon();
                return Err(e.context(format!("after {sent} messages were published")));
            }
        };
        sent += 1;
        if receipt.subscribers == 0 {
            nobody += 1;
        }
        bar.inc(len);
        bar.set_message(format!("{sent} messages"));
    }
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "published {sent} message{} to `{channel}` in {seconds:.2} s ({:.0}/s)",
        if sent == 1 { "" } else { "s" },
        sent as f64 / seconds.max(1e-9)
    );
    if nobody > 0 {
        eprintln!(
            "warning: {nobody} message(s) had no subscriber on `{channel}` and were dropped, as Redis drops them (a running `cloudfn up` declares its subscriptions when it starts)"
        );
    }
    Ok(())
}

async fn publish_redis(url: &str, args: PublishArgs) -> Result<()> {
    let client = redis::Client::open(url).with_context(|| format!("{url} is not a Redis URL"))?;
    let connection = tokio::time::timeout(
        Duration::from_secs(5),
        client.get_multiplexed_async_connection(),
    )
    .await
    .map_err(|_| anyhow::anyhow!("cannot connect to {url}: no answer within 5 s"))?
    .with_context(|| format!("cannot connect to {url}"))?;
    let (messages, size) = messages(&args)?;
    let bar = progress(&args, size);
    let pace = Pace {
        start: Instant::now(),
        rate: args.rate,
    };
    let started = Instant::now();
    let mut sent = 0u64;
    let mut receivers = 0i64;
    for message in messages {
        let message = message?;
        pace.wait(sent).await;
        let mut connection = connection.clone();
        let got: i64 = redis::cmd("PUBLISH")
            .arg(&args.channel)
            .arg(&message)
            .query_async(&mut connection)
            .await
            .with_context(|| format!("PUBLISH to {url} failed after {sent} messages"))?;
        receivers += got;
        sent += 1;
        bar.inc(message.len() as u64 + 1);
    }
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "published {sent} message{} to `{}` on {url} in {seconds:.2} s ({:.0}/s), {receivers} receptions",
        if sent == 1 { "" } else { "s" },
        args.channel,
        sent as f64 / seconds.max(1e-9)
    );
    Ok(())
}

async fn dlq(broker: &Broker, command: DlqCommand) -> Result<()> {
    match command {
        DlqCommand::List { json } => {
            let dead = broker.dead_letters().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&dead)?);
                return Ok(());
            }
            if dead.is_empty() {
                println!("no dead letters");
            }
            for d in dead {
                println!(
                    "{}\t{}\t{}\t{} attempts\t{} bytes\t{}\t{}",
                    d.seq, d.channel, d.subscriber, d.attempts, d.size, d.last_error, d.preview
                );
            }
        }
        DlqCommand::Replay(filter) => {
            let count = broker.replay(filter.into()).await?;
            println!("{count} dead letter(s) due again");
        }
        DlqCommand::Purge(filter) => {
            let purged = broker.purge(filter.into()).await?;
            println!(
                "{} dead letter(s) purged, {} message(s) ({} bytes) freed",
                purged.deliveries, purged.messages, purged.bytes
            );
        }
    }
    Ok(())
}

async fn stats(broker: &Broker, json: bool) -> Result<()> {
    let (rows, depth, bytes, limits) = broker.stats().await?;
    if json {
        let value = serde_json::json!({
            "messages": depth,
            "bytes": bytes,
            "max_depth": limits.max_depth,
            "max_bytes": limits.max_bytes,
            "subscribers": rows,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!(
        "{depth} messages ({bytes} bytes) held of at most {} messages and {} bytes",
        limits.max_depth, limits.max_bytes
    );
    println!("channel\tcomponent\tready\tretrying\tin flight\tdead\torder\tat");
    for r in rows {
        // Where the subscriber's order is: the oldest message it has not
        // finished with; the same one for long is a stuck head.
        let at = match (r.head, &r.head_error) {
            (None, _) => "-".to_owned(),
            (Some(seq), None) => format!("{seq} (attempts {})", r.head_attempts),
            (Some(seq), Some(error)) => {
                format!("{seq} (attempts {}, last error: {error})", r.head_attempts)
            }
        };
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{at}",
            r.channel,
            r.subscriber,
            r.ready,
            r.retrying,
            r.in_flight,
            r.dead,
            match (r.subscribed, r.ordered) {
                (false, _) => "unsubscribed",
                (true, true) => "fifo",
                (true, false) => "concurrent",
            }
        );
    }
    Ok(())
}
