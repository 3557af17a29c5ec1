//! The broker: one SQLite file in WAL mode, owned by one thread that runs
//! the commands it is sent in batches, one transaction per batch (group
//! commit: under load hundreds of publishes and acknowledgements share one
//! commit). A command's answer is sent only after its batch committed, so
//! a publish that returned `Ok` is on disk, and an acknowledgement that
//! returned is never delivered again, whenever the host is killed
//! (`synchronous = NORMAL` in WAL mode keeps every commit through a crash
//! of the process; a power cut may lose the last batches).

use super::store::{
    self, Acked, Claimed, DeadFilter, DeadLetter, Purged, SubscriberStats, Subscription,
};
use std::fs::File;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Commands one transaction runs at most.
const BATCH: usize = 512;

/// How often an idle broker thread looks for commits of other processes
/// (`PRAGMA data_version`): their messages wait up to this long, a guest's
/// publish wakes the dispatcher at once.
const EXTERNAL_CHECK: Duration = Duration::from_millis(20);

/// How much the queue may hold; publishing beyond is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLimits {
    /// Messages held (waiting, retrying, in flight or dead-lettered).
    pub max_depth: u64,
    /// Bytes of payload held.
    pub max_bytes: u64,
}

impl Default for QueueLimits {
    fn default() -> Self {
        Self {
            max_depth: 100_000,
            max_bytes: 256 << 20,
        }
    }
}

/// Why the broker refused or failed a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrokerError {
    /// The queue is at its depth or byte limit.
    #[error(
        "the event queue is full: it holds {depth} messages ({bytes} bytes) and may hold {max_depth} messages and {max_bytes} bytes (events.max_depth, events.max_bytes in [application.tool.cloudfn]); the message of {size} bytes was not accepted"
    )]
    QueueFull {
        /// Messages held.
        depth: u64,
        /// Bytes held.
        bytes: u64,
        /// The depth limit.
        max_depth: u64,
        /// The byte limit.
        max_bytes: u64,
        /// The refused message's size.
        size: usize,
    },
    /// Another host delivers from this file.
    #[error(
        "another `cloudfn up` is delivering the events of {}; stop it or give this one another --data-dir",
        path.display()
    )]
    Locked {
        /// The broker file.
        path: PathBuf,
    },
    /// SQLite or the file system failed.
    #[error("event broker {}: {message}", path.display())]
    Store {
        /// The broker file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

/// What a publish did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// The message id (0 when nobody subscribes and it was dropped).
    pub seq: i64,
    /// How many subscribers it goes to.
    pub subscribers: usize,
}

/// The thread's state.
struct Owner {
    connection: rusqlite::Connection,
    counts: Counts,
    data_version: i64,
}

/// What the queue holds, kept beside the tables so a publish checks the
/// limits without a query.
struct Counts {
    limits: QueueLimits,
    depth: u64,
    bytes: u64,
    /// Set by a command that made deliveries due now (a publish with
    /// subscribers, a replay, released claims): the dispatcher is woken
    /// after the batch. Nothing else wakes it, or its own claims would.
    wake: bool,
}

impl Counts {
    fn forget(&mut self, messages: u64, bytes: u64) {
        self.depth = self.depth.saturating_sub(messages);
        self.bytes = self.bytes.saturating_sub(bytes);
    }
}

/// What a command left to do once its batch committed: answer its caller.
type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;
/// A command, run inside its batch's transaction.
type Job = Box<dyn FnOnce(&mut Counts, &rusqlite::Transaction<'_>) -> Reply + Send>;

/// A handle to the broker of one file; cheap to clone. The thread ends when
/// the last handle is dropped.
#[derive(Clone)]
pub struct Broker {
    path: Arc<PathBuf>,
    jobs: mpsc::Sender<Job>,
    published: Arc<tokio::sync::Notify>,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Held by the one host that delivers from a broker file.
#[derive(Debug)]
pub struct DeliveryLock {
    _file: File,
}

impl Broker {
    /// Opens (creating if needed) the broker file at `path`.
    pub fn open(path: &Path, limits: QueueLimits) -> Result<Self, BrokerError> {
        let fail = |message: String| BrokerError::Store {
            path: path.to_owned(),
            message,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| fail(format!("{}: {e}", dir.display())))?;
        }
        let connection = cloudfn_sqlite_file::open(path).map_err(|e| fail(e.to_string()))?;
        store::create(&connection).map_err(|e| fail(e.to_string()))?;
        let (depth, bytes) = store::totals(&connection).map_err(|e| fail(e.to_string()))?;
        let data_version = data_version(&connection).map_err(|e| fail(e.to_string()))?;
        let mut owner = Owner {
            connection,
            counts: Counts {
                limits,
                depth,
                bytes,
                wake: false,
            },
            data_version,
        };
        let (jobs, queue) = mpsc::channel::<Job>();
        let published = Arc::new(tokio::sync::Notify::new());
        let notify = published.clone();
        std::thread::Builder::new()
            .name("cloudfn-events".into())
            .spawn(move || {
                loop {
                    let woke = match queue.recv_timeout(EXTERNAL_CHECK) {
                        Ok(first) => {
                            let mut batch = vec![first];
                            batch.extend(queue.try_iter().take(BATCH - 1));
                            owner.run(batch)
                        }
                        // Idle: has another process committed (a publish,
                        // a replay)? One pragma, no transaction.
                        Err(mpsc::RecvTimeoutError::Timeout) => owner.refresh(),
                        Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    };
                    if woke {
                        notify.notify_one();
                    }
                }
            })
            .map_err(|e| fail(format!("cannot start its thread: {e}")))?;
        Ok(Self {
            path: Arc::new(path.to_owned()),
            jobs,
            published,
        })
    }

    /// The broker file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Takes the delivery lock: only one host delivers from a file. Claims
    /// a host left behind (killed mid-delivery) become due again.
    pub async fn lock_for_delivery(&self) -> Result<DeliveryLock, BrokerError> {
        let lock_path = self.path.with_extension("lock");
        let file = File::create(&lock_path).map_err(|e| BrokerError::Store {
            path: lock_path.clone(),
            message: e.to_string(),
        })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(BrokerError::Locked {
                    path: self.path.to_path_buf(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(BrokerError::Store {
                    path: lock_path,
                    message: e.to_string(),
                });
            }
        }
        let released = self
            .run(|counts, tx| {
                counts.wake = true;
                store::release_claims(tx, now_ms())
            })
            .await?;
        if released > 0 {
            tracing::info!(
                deliveries = released,
                "events left in flight by a stopped host are due again"
            );
        }
        Ok(DeliveryLock { _file: file })
    }

    /// Declares which subscribers each channel fans out to, and which of
    /// them take their messages in order.
    pub async fn subscribe(&self, subscriptions: Vec<Subscription>) -> Result<(), BrokerError> {
        self.run(move |_, tx| store::set_subscriptions(tx, &subscriptions))
            .await
    }

    /// Accepts `payload` on `channel` for every subscriber, or refuses it when
    /// the queue is full.
    pub async fn publish(&self, channel: &str, payload: &[u8]) -> Result<Receipt, BrokerError> {
        let channel = channel.to_owned();
        let payload = payload.to_vec();
        let path = self.path.clone();
        self.submit(move |counts, tx| {
            let size = payload.len();
            let l = counts.limits;
            if counts.depth + 1 > l.max_depth || counts.bytes + size as u64 > l.max_bytes {
                return Err(BrokerError::QueueFull {
                    depth: counts.depth,
                    bytes: counts.bytes,
                    max_depth: l.max_depth,
                    max_bytes: l.max_bytes,
                    size,
                });
            }
            let (seq, subscribers) = store::publish(tx, &channel, &payload, now_ms())
                .map_err(|e| store_error(&path, e))?;
            if subscribers > 0 {
                counts.depth += 1;
                counts.bytes += size as u64;
                counts.wake = true;
            }
            Ok(Receipt { seq, subscribers })
        })
        .await
    }

    /// Claims up to `limit` due deliveries: the head of each group of
    /// ordered subscriptions, and at most `room[subscriber]` for each
    /// subscriber not in order ([`store::Plan::claim`]). When nothing is
    /// claimable, also how long until something will be without a delivery
    /// settling first ([`store::Plan::next_due`]; `None`: not until then).
    pub async fn claim(
        &self,
        limit: usize,
        room: std::collections::BTreeMap<String, usize>,
    ) -> Result<(Vec<Claimed>, Option<Duration>), BrokerError> {
        self.run(move |_, tx| {
            let now = now_ms();
            let plan = store::Plan::read(tx)?;
            let claimed = plan.claim(tx, limit, now, &room)?;
            let next = match claimed.is_empty() {
                true => plan.next_due(tx, &room)?,
                false => None,
            };
            Ok((
                claimed,
                next.map(|at| Duration::from_millis(at.saturating_sub(now).max(0) as u64)),
            ))
        })
        .await
    }

    /// Acknowledges a delivery: it is never delivered again.
    pub async fn ack(&self, delivery: &Claimed) -> Result<(), BrokerError> {
        let (subscriber, seq) = (delivery.subscriber.clone(), delivery.seq);
        let path = self.path.clone();
        self.submit(move |counts, tx| {
            if let Acked::Freed(bytes) =
                store::ack(tx, &subscriber, seq).map_err(|e| store_error(&path, e))?
            {
                counts.forget(1, bytes);
            }
            Ok(())
        })
        .await
    }

    /// Records a failed attempt: due again after `retry_in`, or dead-lettered.
    pub async fn fail(
        &self,
        delivery: &Claimed,
        error: &str,
        retry_in: Option<Duration>,
    ) -> Result<(), BrokerError> {
        let (subscriber, seq, error) =
            (delivery.subscriber.clone(), delivery.seq, error.to_owned());
        let retry_at = retry_in.map(|d| now_ms() + d.as_millis() as i64);
        self.run(move |_, tx| store::fail(tx, &subscriber, seq, &error, retry_at))
            .await
    }

    /// Resolves when a publish, replay or release through this broker (or
    /// a commit a batch found made by another process) may have made
    /// deliveries due. For the one dispatcher: a wake-up that finds no
    /// waiter is kept for its next wait.
    pub async fn published(&self) {
        self.published.notified().await;
    }

    /// The dead letters, oldest first.
    pub async fn dead_letters(&self) -> Result<Vec<DeadLetter>, BrokerError> {
        self.run(|_, tx| store::dead_letters(tx)).await
    }

    /// Makes the matching dead letters due again with fresh attempts.
    pub async fn replay(&self, filter: DeadFilter) -> Result<usize, BrokerError> {
        self.run(move |counts, tx| {
            counts.wake = true;
            store::replay(tx, &filter, now_ms())
        })
        .await
    }

    /// Deletes the matching dead letters.
    pub async fn purge(&self, filter: DeadFilter) -> Result<Purged, BrokerError> {
        let path = self.path.clone();
        self.submit(move |counts, tx| {
            let purged = store::purge(tx, &filter).map_err(|e| store_error(&path, e))?;
            counts.forget(purged.messages, purged.bytes);
            Ok(purged)
        })
        .await
    }

    /// Counts per channel and subscriber, with the messages and bytes held
    /// and the limits.
    pub async fn stats(
        &self,
    ) -> Result<(Vec<SubscriberStats>, u64, u64, QueueLimits), BrokerError> {
        let path = self.path.clone();
        self.submit(move |counts, tx| {
            let rows = store::stats(tx, now_ms()).map_err(|e| store_error(&path, e))?;
            Ok((rows, counts.depth, counts.bytes, counts.limits))
        })
        .await
    }

    /// Runs a store function as one command.
    async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Counts, &rusqlite::Transaction<'_>) -> rusqlite::Result<R> + Send + 'static,
    ) -> Result<R, BrokerError> {
        let path = self.path.clone();
        self.submit(move |counts, tx| f(counts, tx).map_err(|e| store_error(&path, e)))
            .await
    }

    /// Sends a command to the thread; answers once its batch committed.
    async fn submit<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Counts, &rusqlite::Transaction<'_>) -> Result<R, BrokerError>
        + Send
        + 'static,
    ) -> Result<R, BrokerError> {
        let stopped = || BrokerError::Store {
            path: self.path.to_path_buf(),
            message: "the broker's thread stopped".into(),
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        let path = self.path.clone();
        let job: Job = Box::new(move |counts, tx| {
            let result = f(counts, tx);
            Box::new(move |committed: Result<(), String>| {
                let result = match committed {
                    Ok(()) => result,
                    Err(message) => Err(BrokerError::Store {
                        path: path.to_path_buf(),
                        message,
                    }),
                };
                let _ = reply.send(result);
            })
        });
        self.jobs.send(job).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

impl Owner {
    /// Runs one batch in one transaction, then answers its commands.
    /// Returns whether deliveries may have become due.
    fn run(&mut self, batch: Vec<Job>) -> bool {
        let external = self.refresh();
        // IMMEDIATE: take the write lock first, so a writer in another
        // process (`cloudfn events publish`) makes this wait (busy_timeout)
        // rather than fail on upgrading a read to a write.
        let replies = match self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        {
            Ok(tx) => {
                let mut replies = Vec::with_capacity(batch.len());
                for job in batch {
                    // A command that panics fails alone: its caller sees
                    // the reply dropped; the batch goes on.
                    let counts = &mut self.counts;
                    if let Ok(reply) =
                        std::panic::catch_unwind(AssertUnwindSafe(|| job(counts, &tx)))
                    {
                        replies.push(reply);
                    }
                }
                let committed = tx.commit().map_err(|e| e.to_string());
                Some((replies, committed))
            }
            Err(e) => {
                tracing::error!(error = %e, "event broker: cannot begin a transaction");
                None
            }
        };
        let Some((replies, committed)) = replies else {
            return external;
        };
        if committed.is_err() {
            // What the batch counted did not happen: count again.
            let _ = self.recount();
        }
        let wake = std::mem::take(&mut self.counts.wake) && committed.is_ok();
        for reply in replies {
            reply(committed.clone());
        }
        self.data_version = data_version(&self.connection).unwrap_or(self.data_version);
        external || wake
    }

    /// Notices commits of other processes (`cloudfn events publish`,
    /// `dlq replay`) and recounts what the queue holds.
    fn refresh(&mut self) -> bool {
        match data_version(&self.connection) {
            Ok(version) if version != self.data_version => {
                self.data_version = version;
                let _ = self.recount();
                true
            }
            _ => false,
        }
    }

    fn recount(&mut self) -> rusqlite::Result<()> {
        let (depth, bytes) = store::totals(&self.connection)?;
        self.counts.depth = depth;
        self.counts.bytes = bytes;
        Ok(())
    }
}

fn data_version(connection: &rusqlite::Connection) -> rusqlite::Result<i64> {
    connection.query_row("PRAGMA data_version", [], |row| row.get(0))
}

fn store_error(path: &Path, error: rusqlite::Error) -> BrokerError {
    BrokerError::Store {
        path: path.to_owned(),
        message: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Subscriptions not in order, with room for 10 deliveries each.
    fn unordered(pairs: &[(&str, &str)]) -> Vec<Subscription> {
        pairs
            .iter()
            .map(|(channel, subscriber)| Subscription {
                channel: channel.to_string(),
                subscriber: subscriber.to_string(),
                group: String::new(),
                ordered: false,
            })
            .collect()
    }

    fn room() -> std::collections::BTreeMap<String, usize> {
        [("a".to_owned(), 10), ("b".to_owned(), 10)].into()
    }

    fn limits(max_depth: u64, max_bytes: u64) -> QueueLimits {
        QueueLimits {
            max_depth,
            max_bytes,
        }
    }

    #[tokio::test]
    async fn a_full_queue_refuses_and_acknowledging_makes_room() {
        let dir = tempfile::tempdir().expect("tempdir");
        let broker = Broker::open(&dir.path().join("events.db"), limits(2, 1 << 20)).expect("open");
        broker
            .subscribe(unordered(&[("feed", "a"), ("feed", "b")]))
            .await
            .expect("subscribe");
        assert_eq!(
            broker.publish("feed", b"1").await.expect("1").subscribers,
            2
        );
        broker.publish("feed", b"2").await.expect("2");
        let refused = broker.publish("feed", b"3").await.expect_err("full");
        assert!(
            refused.to_string().starts_with(
                "the event queue is full: it holds 2 messages (2 bytes) and may hold 2 messages"
            ),
            "{refused}"
        );
        let claimed = broker.claim(10, room()).await.expect("claim").0;
        assert_eq!(claimed.len(), 4);
        broker.ack(&claimed[0]).await.expect("ack");
        assert!(
            broker.publish("feed", b"3").await.is_err(),
            "b still holds it"
        );
        let other = claimed
            .iter()
            .find(|c| c.seq == claimed[0].seq && c.subscriber != claimed[0].subscriber)
            .expect("the other subscriber's");
        broker.ack(other).await.expect("ack");
        broker.publish("feed", b"3").await.expect("room again");
    }

    #[tokio::test]
    async fn messages_outlive_the_broker_and_one_host_delivers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("events.db");
        {
            let broker = Broker::open(&path, QueueLimits::default()).expect("open");
            let _lock = broker.lock_for_delivery().await.expect("lock");
            let second = Broker::open(&path, QueueLimits::default()).expect("open");
            assert!(matches!(
                second.lock_for_delivery().await,
                Err(BrokerError::Locked { .. })
            ));
            broker
                .subscribe(unordered(&[("feed", "a")]))
                .await
                .expect("subscribe");
            broker.publish("feed", b"kept").await.expect("publish");
            assert_eq!(broker.claim(1, room()).await.expect("claim").0.len(), 1);
        }
        let broker = Broker::open(&path, QueueLimits::default()).expect("reopen");
        assert!(
            broker.claim(1, room()).await.expect("claim").0.is_empty(),
            "in flight"
        );
        let _lock = broker.lock_for_delivery().await.expect("lock again");
        let again = broker.claim(1, room()).await.expect("claim").0;
        assert_eq!(
            (again[0].payload.as_slice(), again[0].attempt),
            (&b"kept"[..], 2)
        );
    }
}
