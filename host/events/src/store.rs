//! The broker's tables in SQLite, and the statements on them. Everything
//! here is synchronous and runs on the broker's own thread (see
//! [`super::broker`]), inside the transaction of one batch of commands.
//!
//! - `cloudfn_event_message`: one row per accepted message, with the count
//!   of deliveries that still hold it; it goes when the last one does.
//! - `cloudfn_event_subscription`: which subscribers (component ids) a
//!   channel fans out to, as the delivering host last declared them, each
//!   in order (`ordered`, in its `grp`: the Redis address) or not.
//! - `cloudfn_event_delivery`: one row per (subscriber, message) not yet
//!   acknowledged: its channel, its attempts so far, when it is next due,
//!   whether a delivery is in flight (`claimed`), or whether it is
//!   dead-lettered.
//!
//! **Order.** The ordered subscriptions of one group are Spin's Redis
//! trigger on one server: they take the group's messages one at a time, in
//! publish order (`seq`), each message to all of them at once, and the
//! next only once every one of them is done with it, acknowledged or
//! dead-lettered. The group's head is the oldest message any of them still
//! holds; only the head's deliveries are claimed. A failed delivery waiting
//! for its retry is still held, so it holds back the messages after it, as
//! an SQS FIFO message group does. Subscriptions not in order (a consumer
//! with `concurrency` above 1) take their due deliveries oldest first, up
//! to their room, whatever else is held.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

/// Creates the tables if needed.
pub fn create(connection: &Connection) -> rusqlite::Result<()> {
    connection.execute_batch(
        "PRAGMA synchronous = NORMAL;
         CREATE TABLE IF NOT EXISTS cloudfn_event_message (
             seq          INTEGER PRIMARY KEY AUTOINCREMENT,
             channel      TEXT    NOT NULL,
             payload      BLOB    NOT NULL,
             published_ms INTEGER NOT NULL,
             holders      INTEGER NOT NULL
         );
         CREATE TABLE IF NOT EXISTS cloudfn_event_subscription (
             channel    TEXT NOT NULL,
             subscriber TEXT NOT NULL,
             PRIMARY KEY (channel, subscriber)
         ) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS cloudfn_event_delivery (
             subscriber TEXT    NOT NULL,
             seq        INTEGER NOT NULL,
             attempts   INTEGER NOT NULL DEFAULT 0,
             due_ms     INTEGER NOT NULL,
             claimed    INTEGER NOT NULL DEFAULT 0,
             dead       INTEGER NOT NULL DEFAULT 0,
             last_error TEXT,
             PRIMARY KEY (subscriber, seq)
         ) WITHOUT ROWID;",
    )?;
    // Files of hosts from before ordered delivery lack these columns.
    add_column(
        connection,
        "cloudfn_event_subscription",
        "ordered",
        "INTEGER NOT NULL DEFAULT 1",
    )?;
    add_column(
        connection,
        "cloudfn_event_subscription",
        "grp",
        "TEXT NOT NULL DEFAULT ''",
    )?;
    if add_column(
        connection,
        "cloudfn_event_delivery",
        "channel",
        "TEXT NOT NULL DEFAULT ''",
    )? {
        connection.execute(
            "UPDATE cloudfn_event_delivery SET channel = coalesce(
                 (SELECT m.channel FROM cloudfn_event_message m
                  WHERE m.seq = cloudfn_event_delivery.seq), '')",
            [],
        )?;
    }
    connection.execute_batch(
        "DROP INDEX IF EXISTS cloudfn_event_ready;
         CREATE INDEX IF NOT EXISTS cloudfn_event_due
             ON cloudfn_event_delivery (subscriber, channel, due_ms, seq)
             WHERE claimed = 0 AND dead = 0;
         CREATE INDEX IF NOT EXISTS cloudfn_event_held
             ON cloudfn_event_delivery (subscriber, channel, seq) WHERE dead = 0;",
    )
}

/// Adds `column` to `table` unless it has it; whether it was added.
fn add_column(
    connection: &Connection,
    table: &str,
    column: &str,
    definition: &str,
) -> rusqlite::Result<bool> {
    let present: bool = connection.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info(?1) WHERE name = ?2",
        params![table, column],
        |row| row.get(0),
    )?;
    if !present {
        connection.execute(
            &format!("ALTER TABLE {table} ADD COLUMN {column} {definition}"),
            [],
        )?;
    }
    Ok(!present)
}

/// One subscription, as the delivering host declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The channel.
    pub channel: String,
    /// The subscriber (component id).
    pub subscriber: String,
    /// Its group of ordered subscriptions (the Redis address of the manifest).
    pub group: String,
    /// Whether it takes its group's messages one at a time, in order.
    pub ordered: bool,
}

/// A delivery handed out by [`claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// The message's broker-assigned id.
    pub seq: i64,
    /// The subscriber (component id).
    pub subscriber: String,
    /// The channel it was published on.
    pub channel: String,
    /// The message, exactly as published.
    pub payload: Vec<u8>,
    /// This delivery's attempt number, from 1.
    pub attempt: u32,
    /// When the message was published (milliseconds since the Unix epoch).
    pub published_ms: i64,
}

/// One dead-lettered delivery.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeadLetter {
    /// The message id.
    pub seq: i64,
    /// The channel.
    pub channel: String,
    /// The subscriber that gave up on it.
    pub subscriber: String,
    /// Attempts made.
    pub attempts: u32,
    /// The last attempt's error.
    pub last_error: String,
    /// When it was published (milliseconds since the Unix epoch).
    pub published_ms: i64,
    /// Its size in bytes.
    pub size: usize,
    /// The payload as text when it is UTF-8, shortened to 200 characters.
    pub preview: String,
}

/// Counts of one (channel, subscriber).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SubscriberStats {
    /// The channel.
    pub channel: String,
    /// The subscriber.
    pub subscriber: String,
    /// Due now, waiting for an instance.
    pub ready: u64,
    /// Waiting out a retry's backoff.
    pub retrying: u64,
    /// Being delivered.
    pub in_flight: u64,
    /// Dead-lettered.
    pub dead: u64,
    /// Whether the delivering host declared this subscription (deliveries
    /// of one it no longer has stay held, undelivered, until one does).
    pub subscribed: bool,
    /// Whether it takes its group's messages in order, one at a time
    /// (`false` for a consumer with `concurrency` above 1).
    pub ordered: bool,
    /// The oldest message it has not finished with (in flight, waiting
    /// for a retry or for its turn), if any: for an ordered subscriber,
    /// where its order is; the same head for long is a stuck head.
    pub head: Option<i64>,
    /// Attempts made at the head so far.
    pub head_attempts: u32,
    /// The last error of the head, when an attempt failed.
    pub head_error: Option<String>,
}

/// A non-negative integer column (SQLite's integers are signed).
fn count(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<u64> {
    row.get::<_, i64>(index).map(|v| v.max(0) as u64)
}

/// Messages held and their bytes.
pub fn totals(connection: &Connection) -> rusqlite::Result<(u64, u64)> {
    connection.query_row(
        "SELECT count(*), coalesce(sum(length(payload)), 0) FROM cloudfn_event_message",
        [],
        |row| Ok((count(row, 0)?, count(row, 1)?)),
    )
}

/// Declares the subscriptions of the delivering host, replacing the last.
pub fn set_subscriptions(
    tx: &Transaction<'_>,
    subscriptions: &[Subscription],
) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM cloudfn_event_subscription", [])?;
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO cloudfn_event_subscription (channel, subscriber, grp, ordered)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for s in subscriptions {
        insert.execute(params![s.channel, s.subscriber, s.group, s.ordered])?;
    }
    Ok(())
}

/// Deliveries a host that stopped left in flight become due now (the
/// attempt they used stays counted, so a message that kills its host is
/// dead-lettered in the end).
pub fn release_claims(tx: &Transaction<'_>, now_ms: i64) -> rusqlite::Result<usize> {
    tx.execute(
        "UPDATE cloudfn_event_delivery SET claimed = 0, due_ms = ?1 WHERE claimed = 1",
        [now_ms],
    )
}

/// Accepts one message: a row, and one delivery per subscriber of its
/// channel. Returns its id and the subscriber count (0: nobody listens,
/// and the message is dropped at once, as Redis drops it).
pub fn publish(
    tx: &Transaction<'_>,
    channel: &str,
    payload: &[u8],
    now_ms: i64,
) -> rusqlite::Result<(i64, usize)> {
    let subscribers: Vec<String> = {
        let mut select = tx.prepare_cached(
            "SELECT subscriber FROM cloudfn_event_subscription WHERE channel = ?1",
        )?;
        select
            .query_map([channel], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    if subscribers.is_empty() {
        return Ok((0, 0));
    }
    tx.prepare_cached(
        "INSERT INTO cloudfn_event_message (channel, payload, published_ms, holders)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![channel, payload, now_ms, subscribers.len() as i64])?;
    let seq = tx.last_insert_rowid();
    let mut insert = tx.prepare_cached(
        "INSERT INTO cloudfn_event_delivery (subscriber, seq, due_ms, channel) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for subscriber in &subscribers {
        insert.execute(params![subscriber, seq, now_ms, channel])?;
    }
    Ok((seq, subscribers.len()))
}

/// One declared subscription, as claims read it.
struct Declared {
    group: String,
    ordered: bool,
    channel: String,
    subscriber: String,
}

/// The declared subscriptions, and the head of each group of ordered ones
/// (the oldest message any of them still holds; none when all are done):
/// what a claim, and the wake-up after an empty one, are computed from.
/// Claiming does not change it (a claimed delivery is still held), so one
/// read serves both within a transaction.
pub struct Plan {
    subscriptions: Vec<Declared>,
    heads: std::collections::BTreeMap<String, i64>,
}

impl Plan {
    /// Reads the subscriptions and the head of each ordered group.
    pub fn read(tx: &Transaction<'_>) -> rusqlite::Result<Self> {
        let subscriptions: Vec<Declared> = tx
            .prepare_cached(
                "SELECT grp, ordered, channel, subscriber FROM cloudfn_event_subscription
                 ORDER BY grp, channel, subscriber",
            )?
            .query_map([], |row| {
                Ok(Declared {
                    group: row.get(0)?,
                    ordered: row.get(1)?,
                    channel: row.get(2)?,
                    subscriber: row.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut heads = std::collections::BTreeMap::new();
        let mut held = tx.prepare_cached(
            "SELECT min(seq) FROM cloudfn_event_delivery INDEXED BY cloudfn_event_held
             WHERE subscriber = ?1 AND channel = ?2 AND dead = 0",
        )?;
        for s in subscriptions.iter().filter(|s| s.ordered) {
            let oldest: Option<i64> =
                held.query_row(params![s.subscriber, s.channel], |row| row.get(0))?;
            if let Some(oldest) = oldest {
                heads
                    .entry(s.group.clone())
                    .and_modify(|head: &mut i64| *head = (*head).min(oldest))
                    .or_insert(oldest);
            }
        }
        Ok(Self {
            subscriptions,
            heads,
        })
    }

    /// Claims up to `limit` deliveries due by `now_ms`: of each group of
    /// ordered subscriptions, the head message's deliveries (see the module's
    /// doc); of each subscription not in order, its due deliveries oldest
    /// first, at most `room[subscriber]` (none without an entry). What is
    /// claimed goes out oldest first.
    pub fn claim(
        &self,
        tx: &Transaction<'_>,
        limit: usize,
        now_ms: i64,
        room: &std::collections::BTreeMap<String, usize>,
    ) -> rusqlite::Result<Vec<Claimed>> {
        // An ordered subscriber's one candidate, the head, by its key; an
        // unordered one's oldest due, through the index of due deliveries.
        // (Scanning the due ones for the head would cost the whole backlog
        // whenever the head is in flight, under the write lock.)
        let mut head_due = tx.prepare_cached(&format!(
            "{CLAIM_COLUMNS} FROM cloudfn_event_delivery d {CLAIM_MESSAGE}
         WHERE d.subscriber = ?1 AND d.seq = ?4 AND d.channel = ?2
           AND d.claimed = 0 AND d.dead = 0 AND d.due_ms <= ?3"
        ))?;
        let mut oldest_due = tx.prepare_cached(&format!(
        "{CLAIM_COLUMNS} FROM cloudfn_event_delivery d INDEXED BY cloudfn_event_due {CLAIM_MESSAGE}
         WHERE d.subscriber = ?1 AND d.channel = ?2 AND d.claimed = 0 AND d.dead = 0
           AND d.due_ms <= ?3
         ORDER BY d.due_ms, d.seq LIMIT ?4"
    ))?;
        let mut candidates: Vec<(i64, Claimed)> = Vec::new();
        for s in &self.subscriptions {
            let read = |row: &rusqlite::Row<'_>| {
                Ok((
                    row.get::<_, i64>(4)?,
                    Claimed {
                        seq: row.get(0)?,
                        subscriber: s.subscriber.clone(),
                        channel: s.channel.clone(),
                        payload: row.get(1)?,
                        attempt: row.get::<_, u32>(2)? + 1,
                        published_ms: row.get(3)?,
                    },
                ))
            };
            let rows = if s.ordered {
                let Some(head) = self.heads.get(&s.group) else {
                    continue;
                };
                head_due.query_map(params![s.subscriber, s.channel, now_ms, head], read)?
            } else {
                let most = room.get(&s.subscriber).copied().unwrap_or(0).min(limit);
                if most == 0 {
                    continue;
                }
                oldest_due.query_map(params![s.subscriber, s.channel, now_ms, most as i64], read)?
            };
            for row in rows {
                candidates.push(row?);
            }
        }
        candidates.sort_by_key(|(due_ms, c)| (*due_ms, c.seq));
        candidates.truncate(limit);
        let mut mark = tx.prepare_cached(
            "UPDATE cloudfn_event_delivery SET claimed = 1, attempts = attempts + 1
         WHERE subscriber = ?1 AND seq = ?2",
        )?;
        for (_, c) in &candidates {
            mark.execute(params![c.subscriber, c.seq])?;
        }
        Ok(candidates.into_iter().map(|(_, c)| c).collect())
    }

    /// When the next claim with the same `room` could get something without a
    /// delivery settling first: the earliest due time of a group's head that is
    /// not in flight, and of the oldest delivery of each subscription not in
    /// order that has room. `None`: only a settled delivery, a publish or a
    /// replay can make something claimable.
    pub fn next_due(
        &self,
        tx: &Transaction<'_>,
        room: &std::collections::BTreeMap<String, usize>,
    ) -> rusqlite::Result<Option<i64>> {
        let mut head_due = tx.prepare_cached(
            "SELECT due_ms FROM cloudfn_event_delivery
         WHERE subscriber = ?1 AND seq = ?3 AND channel = ?2 AND claimed = 0 AND dead = 0",
        )?;
        let mut oldest_due = tx.prepare_cached(
            "SELECT min(due_ms) FROM cloudfn_event_delivery INDEXED BY cloudfn_event_due
         WHERE subscriber = ?1 AND channel = ?2 AND claimed = 0 AND dead = 0",
        )?;
        let mut next: Option<i64> = None;
        for s in &self.subscriptions {
            let due: Option<i64> = if s.ordered {
                let Some(head) = self.heads.get(&s.group) else {
                    continue;
                };
                head_due
                    .query_row(params![s.subscriber, s.channel, head], |row| row.get(0))
                    .optional()?
            } else if room.get(&s.subscriber).is_some_and(|n| *n > 0) {
                oldest_due.query_row(params![s.subscriber, s.channel], |row| row.get(0))?
            } else {
                continue;
            };
            next = match (next, due) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        Ok(next)
    }
}

/// The columns a claim reads, and the join that brings the message.
const CLAIM_COLUMNS: &str = "SELECT d.seq, m.payload, d.attempts, m.published_ms, d.due_ms";
const CLAIM_MESSAGE: &str = "JOIN cloudfn_event_message m ON m.seq = d.seq";

/// What acknowledging a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acked {
    /// The delivery was not held (acknowledged already, or never).
    NotHeld,
    /// Done; other subscribers still hold the message.
    Held,
    /// Done, and it was the message's last holder: the message and its
    /// bytes are gone.
    Freed(u64),
}

/// Acknowledges one delivery.
pub fn ack(tx: &Transaction<'_>, subscriber: &str, seq: i64) -> rusqlite::Result<Acked> {
    let removed = tx
        .prepare_cached("DELETE FROM cloudfn_event_delivery WHERE subscriber = ?1 AND seq = ?2")?
        .execute(params![subscriber, seq])?;
    if removed == 0 {
        return Ok(Acked::NotHeld);
    }
    Ok(release_holder(tx, seq)?.map_or(Acked::Held, Acked::Freed))
}

/// One holder of message `seq` is gone; deletes the message with its last
/// and returns its size.
fn release_holder(tx: &Transaction<'_>, seq: i64) -> rusqlite::Result<Option<u64>> {
    tx.prepare_cached("UPDATE cloudfn_event_message SET holders = holders - 1 WHERE seq = ?1")?
        .execute([seq])?;
    let size: Option<u64> = tx
        .prepare_cached(
            "SELECT length(payload) FROM cloudfn_event_message WHERE seq = ?1 AND holders <= 0",
        )?
        .query_row([seq], |row| count(row, 0))
        .optional()?;
    if size.is_some() {
        tx.prepare_cached("DELETE FROM cloudfn_event_message WHERE seq = ?1")?
            .execute([seq])?;
    }
    Ok(size)
}

/// A failed attempt: due again at `retry_at_ms`, or dead-lettered when `None`.
pub fn fail(
    tx: &Transaction<'_>,
    subscriber: &str,
    seq: i64,
    error: &str,
    retry_at_ms: Option<i64>,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "UPDATE cloudfn_event_delivery
         SET claimed = 0, last_error = ?3, dead = ?4, due_ms = coalesce(?5, due_ms)
         WHERE subscriber = ?1 AND seq = ?2",
    )?
    .execute(params![
        subscriber,
        seq,
        error,
        retry_at_ms.is_none(),
        retry_at_ms
    ])?;
    Ok(())
}

/// Which dead letters a command applies to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeadFilter {
    /// Only these message ids (all when empty).
    pub seqs: Vec<i64>,
    /// Only this subscriber's.
    pub subscriber: Option<String>,
}

impl DeadFilter {
    fn matches(&self, seq: i64, subscriber: &str) -> bool {
        (self.seqs.is_empty() || self.seqs.contains(&seq))
            && self.subscriber.as_deref().is_none_or(|s| s == subscriber)
    }
}

/// The dead letters, oldest first.
pub fn dead_letters(connection: &Connection) -> rusqlite::Result<Vec<DeadLetter>> {
    let mut select = connection.prepare_cached(
        "SELECT d.seq, m.channel, d.subscriber, d.attempts, coalesce(d.last_error, ''),
                m.published_ms, m.payload
         FROM cloudfn_event_delivery d JOIN cloudfn_event_message m ON m.seq = d.seq
         WHERE d.dead = 1 ORDER BY d.seq, d.subscriber",
    )?;
    select
        .query_map([], |row| {
            let payload: Vec<u8> = row.get(6)?;
            let preview = match std::str::from_utf8(&payload) {
                Ok(text) if text.chars().count() > 200 => {
                    format!("{}…", text.chars().take(200).collect::<String>())
                }
                Ok(text) => text.to_owned(),
                Err(_) => format!("<{} bytes, not UTF-8>", payload.len()),
            };
            Ok(DeadLetter {
                seq: row.get(0)?,
                channel: row.get(1)?,
                subscriber: row.get(2)?,
                attempts: row.get(3)?,
                last_error: row.get(4)?,
                published_ms: row.get(5)?,
                size: payload.len(),
                preview,
            })
        })?
        .collect()
}

/// Makes the matching dead letters due now with fresh attempts; how many.
pub fn replay(tx: &Transaction<'_>, filter: &DeadFilter, now_ms: i64) -> rusqlite::Result<usize> {
    let mut count = 0;
    for (seq, subscriber) in dead_keys(tx, filter)? {
        count += tx
            .prepare_cached(
                "UPDATE cloudfn_event_delivery
                 SET dead = 0, claimed = 0, attempts = 0, due_ms = ?3, last_error = NULL
                 WHERE subscriber = ?1 AND seq = ?2",
            )?
            .execute(params![subscriber, seq, now_ms])?;
    }
    Ok(count)
}

/// What a purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Dead-lettered deliveries deleted.
    pub deliveries: usize,
    /// Messages no subscriber holds any more, deleted with them.
    pub messages: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// Deletes the matching dead letters.
pub fn purge(tx: &Transaction<'_>, filter: &DeadFilter) -> rusqlite::Result<Purged> {
    let mut purged = Purged::default();
    for (seq, subscriber) in dead_keys(tx, filter)? {
        match ack(tx, &subscriber, seq)? {
            Acked::NotHeld => {}
            Acked::Held => purged.deliveries += 1,
            Acked::Freed(bytes) => {
                purged.deliveries += 1;
                purged.messages += 1;
                purged.bytes += bytes;
            }
        }
    }
    Ok(purged)
}

fn dead_keys(tx: &Transaction<'_>, filter: &DeadFilter) -> rusqlite::Result<Vec<(i64, String)>> {
    let mut select = tx.prepare_cached(
        "SELECT seq, subscriber FROM cloudfn_event_delivery WHERE dead = 1 ORDER BY seq",
    )?;
    let keys = select
        .query_map([], |row| Ok((row.get(0)?, row.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(keys
        .into_iter()
        .filter(|(seq, subscriber)| filter.matches(*seq, subscriber))
        .collect())
}

/// Counts per (channel, subscriber), with the subscriptions that have
/// none, and where each one's order is.
pub fn stats(connection: &Connection, now_ms: i64) -> rusqlite::Result<Vec<SubscriberStats>> {
    let mut select = connection.prepare_cached(
        "SELECT s.channel, s.subscriber,
                coalesce(sum(d.claimed = 0 AND d.dead = 0 AND d.due_ms <= ?1), 0),
                coalesce(sum(d.claimed = 0 AND d.dead = 0 AND d.due_ms > ?1), 0),
                coalesce(sum(d.claimed = 1), 0),
                coalesce(sum(d.dead = 1), 0),
                coalesce(min(sub.ordered), 0),
                count(sub.subscriber) > 0
         FROM (SELECT channel, subscriber FROM cloudfn_event_subscription
               UNION SELECT channel, subscriber FROM cloudfn_event_delivery) s
         LEFT JOIN cloudfn_event_subscription sub
             ON sub.channel = s.channel AND sub.subscriber = s.subscriber
         LEFT JOIN cloudfn_event_delivery d
             ON d.channel = s.channel AND d.subscriber = s.subscriber
         GROUP BY s.channel, s.subscriber ORDER BY s.channel, s.subscriber",
    )?;
    let mut head = connection.prepare_cached(
        "SELECT seq, attempts, last_error FROM cloudfn_event_delivery
         WHERE subscriber = ?1 AND channel = ?2 AND dead = 0 ORDER BY seq LIMIT 1",
    )?;
    let mut rows: Vec<SubscriberStats> = select
        .query_map([now_ms], |row| {
            Ok(SubscriberStats {
                channel: row.get(0)?,
                subscriber: row.get(1)?,
                ready: count(row, 2)?,
                retrying: count(row, 3)?,
                in_flight: count(row, 4)?,
                dead: count(row, 5)?,
                ordered: row.get(6)?,
                subscribed: row.get(7)?,
                ..SubscriberStats::default()
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    for r in &mut rows {
        if let Some((seq, attempts, error)) = head
            .query_row(params![r.subscriber, r.channel], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .optional()?
        {
            (r.head, r.head_attempts, r.head_error) = (Some(seq), attempts, error);
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn open() -> Connection {
        let c = Connection::open_in_memory().expect("open");
        create(&c).expect("create");
        c
    }

    /// Subscribes `(channel, subscriber)` pairs, none of them in order.
    fn subscribe(c: &mut Connection, pairs: &[(&str, &str)]) {
        subscribe_as(
            c,
            &pairs
                .iter()
                .map(|(ch, s)| (*ch, *s, false))
                .collect::<Vec<_>>(),
        );
    }

    /// Subscribes `(channel, subscriber, ordered)`, all in one group.
    fn subscribe_as(c: &mut Connection, subscriptions: &[(&str, &str, bool)]) {
        let tx = c.transaction().expect("tx");
        let subscriptions: Vec<_> = subscriptions
            .iter()
            .map(|(channel, subscriber, ordered)| Subscription {
                channel: channel.to_string(),
                subscriber: subscriber.to_string(),
                group: "redis://server".into(),
                ordered: *ordered,
            })
            .collect();
        set_subscriptions(&tx, &subscriptions).expect("subscribe");
        tx.commit().expect("commit");
    }

    /// Room for every test subscriber not in order.
    fn any() -> std::collections::BTreeMap<String, usize> {
        ["a", "b", "c", "fast"].map(|s| (s.to_owned(), 100)).into()
    }

    #[test]
    fn each_subscriber_gets_and_acknowledges_its_own_delivery() {
        let mut c = open();
        subscribe(&mut c, &[("feed", "a"), ("feed", "b"), ("other", "c")]);
        let tx = c.transaction().expect("tx");
        assert_eq!(publish(&tx, "feed", b"hi", 0).expect("publish"), (1, 2));
        assert_eq!(publish(&tx, "nobody", b"x", 0).expect("publish"), (0, 0));
        let claimed = claim(&tx, 10, 0, &any()).expect("claim");
        assert_eq!(claimed.len(), 2);
        assert!(
            claim(&tx, 10, 0, &any()).expect("claim").is_empty(),
            "in flight"
        );
        assert_eq!(ack(&tx, "a", 1).expect("ack"), Acked::Held);
        assert_eq!(
            ack(&tx, "a", 1).expect("ack"),
            Acked::NotHeld,
            "acknowledged once"
        );
        assert_eq!(
            ack(&tx, "b", 1).expect("ack"),
            Acked::Freed(2),
            "last holder frees it"
        );
        tx.commit().expect("commit");
        assert_eq!(totals(&c).expect("totals"), (0, 0));
    }

    #[test]
    fn failures_retry_when_due_then_dead_letter_and_replay() {
        let mut c = open();
        subscribe(&mut c, &[("feed", "a")]);
        let tx = c.transaction().expect("tx");
        publish(&tx, "feed", b"bad", 0).expect("publish");
        let first = claim(&tx, 1, 0, &any()).expect("claim");
        assert_eq!(first[0].attempt, 1);
        fail(&tx, "a", 1, "trap", Some(100)).expect("fail");
        assert!(
            claim(&tx, 1, 99, &any()).expect("claim").is_empty(),
            "backing off"
        );
        assert_eq!(next_due(&tx, &any()).expect("due"), Some(100));
        let second = claim(&tx, 1, 100, &any()).expect("claim");
        assert_eq!(second[0].attempt, 2);
        fail(&tx, "a", 1, "trap again", None).expect("dead");
        assert!(claim(&tx, 1, i64::MAX, &any()).expect("claim").is_empty());
        let dead = dead_letters(&tx).expect("dead");
        assert_eq!(
            (dead.len(), dead[0].attempts, dead[0].last_error.as_str()),
            (1, 2, "trap again")
        );
        assert_eq!(replay(&tx, &DeadFilter::default(), 5).expect("replay"), 1);
        assert_eq!(claim(&tx, 1, 5, &any()).expect("claim")[0].attempt, 1);
        fail(&tx, "a", 1, "still", None).expect("dead");
        assert_eq!(
            purge(&tx, &DeadFilter::default()).expect("purge"),
            Purged {
                deliveries: 1,
                messages: 1,
                bytes: 3
            }
        );
        tx.commit().expect("commit");
        assert_eq!(totals(&c).expect("totals"), (0, 0));
    }

    #[test]
    fn claims_of_a_stopped_host_are_released_with_their_attempt_counted() {
        let mut c = open();
        subscribe(&mut c, &[("feed", "a")]);
        let tx = c.transaction().expect("tx");
        publish(&tx, "feed", b"m", 0).expect("publish");
        claim(&tx, 1, 0, &any()).expect("claim");
        assert_eq!(release_claims(&tx, 7).expect("release"), 1);
        assert_eq!(claim(&tx, 1, 7, &any()).expect("claim")[0].attempt, 2);
        let stats = stats(&tx, 7).expect("stats");
        assert_eq!(
            (stats[0].in_flight, stats[0].ready, stats[0].dead),
            (1, 0, 0)
        );
        assert_eq!((stats[0].head, stats[0].head_attempts), (Some(1), 2));
    }

    #[test]
    fn a_subscriber_at_its_limit_is_skipped_for_the_others() {
        let mut c = open();
        subscribe(&mut c, &[("feed", "slow"), ("feed", "fast")]);
        let tx = c.transaction().expect("tx");
        for _ in 0..3 {
            publish(&tx, "feed", b"m", 0).expect("publish");
        }
        let mut room = any();
        room.insert("slow".to_owned(), 1);
        let claimed = claim(&tx, 10, 0, &room).expect("claim");
        let slow = claimed.iter().filter(|c| c.subscriber == "slow").count();
        assert_eq!(
            (slow, claimed.len()),
            (1, 4),
            "one of slow's, all three of fast's"
        );
    }

    /// Claims everything claimable now; (subscriber, seq) of each.
    /// A claim from a fresh plan, as the broker makes one.
    fn claim(
        tx: &Transaction<'_>,
        limit: usize,
        now_ms: i64,
        room: &BTreeMap<String, usize>,
    ) -> rusqlite::Result<Vec<Claimed>> {
        Plan::read(tx)?.claim(tx, limit, now_ms, room)
    }

    /// The wake-up after an empty claim, from a fresh plan.
    fn next_due(
        tx: &Transaction<'_>,
        room: &BTreeMap<String, usize>,
    ) -> rusqlite::Result<Option<i64>> {
        Plan::read(tx)?.next_due(tx, room)
    }

    fn claim_all(tx: &Transaction<'_>, now_ms: i64) -> Vec<(String, i64)> {
        claim(tx, 100, now_ms, &any())
            .expect("claim")
            .into_iter()
            .map(|c| (c.subscriber, c.seq))
            .collect()
    }

    fn pairs(list: &[(&str, i64)]) -> Vec<(String, i64)> {
        list.iter().map(|(s, q)| (s.to_string(), *q)).collect()
    }

    #[test]
    fn ordered_subscribers_take_one_message_at_a_time_all_of_them_together() {
        let mut c = open();
        subscribe_as(
            &mut c,
            &[("feed", "x", true), ("feed", "y", true), ("log", "z", true)],
        );
        let tx = c.transaction().expect("tx");
        for channel in ["feed", "log", "feed"] {
            publish(&tx, channel, b"m", 0).expect("publish");
        }
        // Message 1 to both of feed's subscribers at once; z's message 2
        // waits: one group is one server, as Spin's trigger reads it.
        assert_eq!(claim_all(&tx, 0), pairs(&[("x", 1), ("y", 1)]));
        assert!(claim_all(&tx, 0).is_empty(), "1 is in flight");
        assert_eq!(
            next_due(&tx, &any()).expect("due"),
            None,
            "nothing until 1 settles"
        );
        ack(&tx, "x", 1).expect("ack");
        assert!(claim_all(&tx, 0).is_empty(), "y is not done with 1 yet");
        ack(&tx, "y", 1).expect("ack");
        assert_eq!(claim_all(&tx, 0), pairs(&[("z", 2)]));
        ack(&tx, "z", 2).expect("ack");
        assert_eq!(claim_all(&tx, 0), pairs(&[("x", 3), ("y", 3)]));
    }

    #[test]
    fn a_retry_holds_back_the_group_until_it_is_handled_or_dead_lettered() {
        let mut c = open();
        subscribe_as(
            &mut c,
            &[
                ("feed", "x", true),
                ("feed", "y", true),
                ("feed", "c", false),
            ],
        );
        let tx = c.transaction().expect("tx");
        publish(&tx, "feed", b"1", 0).expect("publish");
        publish(&tx, "feed", b"2", 0).expect("publish");
        assert_eq!(
            claim_all(&tx, 0),
            pairs(&[("c", 1), ("x", 1), ("y", 1), ("c", 2)]),
            "c, not in order, takes both at once"
        );
        ack(&tx, "x", 1).expect("ack");
        fail(&tx, "y", 1, "trap", Some(100)).expect("retry later");
        assert!(claim_all(&tx, 50).is_empty(), "x waits for y's retry of 1");
        assert_eq!(next_due(&tx, &any()).expect("due"), Some(100));
        assert_eq!(claim_all(&tx, 100), pairs(&[("y", 1)]));
        fail(&tx, "y", 1, "trap again", None).expect("dead-lettered");
        assert_eq!(
            claim_all(&tx, 100),
            pairs(&[("x", 2), ("y", 2)]),
            "a dead letter no longer holds the group"
        );
        let stats = stats(&tx, 100).expect("stats");
        let y = stats.iter().find(|s| s.subscriber == "y").expect("y");
        assert_eq!(
            (y.subscribed, y.ordered, y.head, y.in_flight, y.dead),
            (true, true, Some(2), 1, 1)
        );
    }

    #[test]
    fn deliveries_of_a_file_from_before_ordered_delivery_get_their_channel() {
        let c = Connection::open_in_memory().expect("open");
        c.execute_batch(
            "CREATE TABLE cloudfn_event_message (seq INTEGER PRIMARY KEY AUTOINCREMENT,
                 channel TEXT NOT NULL, payload BLOB NOT NULL, published_ms INTEGER NOT NULL,
                 holders INTEGER NOT NULL);
             CREATE TABLE cloudfn_event_subscription (channel TEXT NOT NULL,
                 subscriber TEXT NOT NULL, PRIMARY KEY (channel, subscriber)) WITHOUT ROWID;
             CREATE TABLE cloudfn_event_delivery (subscriber TEXT NOT NULL, seq INTEGER NOT NULL,
                 attempts INTEGER NOT NULL DEFAULT 0, due_ms INTEGER NOT NULL,
                 claimed INTEGER NOT NULL DEFAULT 0, dead INTEGER NOT NULL DEFAULT 0,
                 last_error TEXT, PRIMARY KEY (subscriber, seq)) WITHOUT ROWID;
             INSERT INTO cloudfn_event_message VALUES (1, 'feed', x'6d', 0, 1);
             INSERT INTO cloudfn_event_delivery (subscriber, seq, due_ms) VALUES ('x', 1, 0);",
        )
        .expect("an old file");
        create(&c).expect("migrate");
        create(&c).expect("twice changes nothing");
        let mut c = c;
        subscribe_as(&mut c, &[("feed", "x", true)]);
        let tx = c.transaction().expect("tx");
        assert_eq!(claim_all(&tx, 0), pairs(&[("x", 1)]));
    }
}
