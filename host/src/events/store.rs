//! The broker's tables in SQLite, and the statements on them. Everything
//! here is synchronous and runs on the broker's own thread (see
//! [`super::broker`]), inside the transaction of one batch of commands.
//!
//! - `cloudfn_event_message`: one row per accepted message, with the count
//!   of deliveries that still hold it; it goes when the last one does.
//! - `cloudfn_event_subscription`: which subscribers (component ids) a
//!   channel fans out to, as the delivering host last declared them.
//! - `cloudfn_event_delivery`: one row per (subscriber, message) not yet
//!   acknowledged: its attempts so far, when it is next due, whether a
//!   delivery is in flight (`claimed`), or whether it is dead-lettered.

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
         ) WITHOUT ROWID;
         CREATE INDEX IF NOT EXISTS cloudfn_event_ready
             ON cloudfn_event_delivery (due_ms, seq) WHERE claimed = 0 AND dead = 0;",
    )
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
pub fn set_subscriptions(tx: &Transaction<'_>, pairs: &[(String, String)]) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM cloudfn_event_subscription", [])?;
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO cloudfn_event_subscription (channel, subscriber) VALUES (?1, ?2)",
    )?;
    for (channel, subscriber) in pairs {
        insert.execute(params![channel, subscriber])?;
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
        "INSERT INTO cloudfn_event_delivery (subscriber, seq, due_ms) VALUES (?1, ?2, ?3)",
    )?;
    for subscriber in &subscribers {
        insert.execute(params![subscriber, seq, now_ms])?;
    }
    Ok((seq, subscribers.len()))
}

/// Claims up to `limit` deliveries due by `now_ms`, oldest first, at most
/// `room[subscriber]` for each subscriber `room` names (a consumer with its
/// own concurrency limit); a subscriber at its limit is skipped, so others
/// behind it go first. At most [`CLAIM_SCAN`] due rows are looked at.
pub fn claim(
    tx: &Transaction<'_>,
    limit: usize,
    now_ms: i64,
    room: &std::collections::BTreeMap<String, usize>,
) -> rusqlite::Result<Vec<Claimed>> {
    let mut left = room.clone();
    let mut claimed: Vec<Claimed> = Vec::new();
    {
        let mut select = tx.prepare_cached(
            "SELECT d.seq, d.subscriber, m.channel, m.payload, d.attempts, m.published_ms
             FROM cloudfn_event_delivery d JOIN cloudfn_event_message m ON m.seq = d.seq
             WHERE d.claimed = 0 AND d.dead = 0 AND d.due_ms <= ?1
             ORDER BY d.due_ms, d.seq LIMIT ?2",
        )?;
        let scan = if room.is_empty() {
            limit
        } else {
            CLAIM_SCAN.max(limit)
        };
        let mut rows = select.query(params![now_ms, scan as i64])?;
        while claimed.len() < limit
            && let Some(row) = rows.next()?
        {
            let subscriber: String = row.get(1)?;
            if let Some(n) = left.get_mut(&subscriber) {
                if *n == 0 {
                    continue;
                }
                *n -= 1;
            }
            claimed.push(Claimed {
                seq: row.get(0)?,
                subscriber,
                channel: row.get(2)?,
                payload: row.get(3)?,
                attempt: row.get::<_, u32>(4)? + 1,
                published_ms: row.get(5)?,
            });
        }
    }
    let mut mark = tx.prepare_cached(
        "UPDATE cloudfn_event_delivery SET claimed = 1, attempts = attempts + 1
         WHERE subscriber = ?1 AND seq = ?2",
    )?;
    for c in &claimed {
        mark.execute(params![c.subscriber, c.seq])?;
    }
    Ok(claimed)
}

/// Due rows one claim looks at, at most, when some subscribers have limits.
pub const CLAIM_SCAN: usize = 4096;

/// When the next delivery not in flight is due, if any.
pub fn next_due(connection: &Connection) -> rusqlite::Result<Option<i64>> {
    connection
        .query_row(
            "SELECT min(due_ms) FROM cloudfn_event_delivery WHERE claimed = 0 AND dead = 0",
            [],
            |row| row.get(0),
        )
        .optional()
        .map(Option::flatten)
}

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

/// Counts per (channel, subscriber), with the subscriptions that have none.
pub fn stats(connection: &Connection, now_ms: i64) -> rusqlite::Result<Vec<SubscriberStats>> {
    let mut select = connection.prepare_cached(
        "SELECT s.channel, s.subscriber,
                coalesce(sum(d.claimed = 0 AND d.dead = 0 AND d.due_ms <= ?1), 0),
                coalesce(sum(d.claimed = 0 AND d.dead = 0 AND d.due_ms > ?1), 0),
                coalesce(sum(d.claimed = 1), 0),
                coalesce(sum(d.dead = 1), 0)
         FROM (SELECT channel, subscriber FROM cloudfn_event_subscription
               UNION SELECT m.channel, d.subscriber FROM cloudfn_event_delivery d
                     JOIN cloudfn_event_message m ON m.seq = d.seq) s
         LEFT JOIN cloudfn_event_message m ON m.channel = s.channel
         LEFT JOIN cloudfn_event_delivery d ON d.seq = m.seq AND d.subscriber = s.subscriber
         GROUP BY s.channel, s.subscriber ORDER BY s.channel, s.subscriber",
    )?;
    select
        .query_map([now_ms], |row| {
            Ok(SubscriberStats {
                channel: row.get(0)?,
                subscriber: row.get(1)?,
                ready: count(row, 2)?,
                retrying: count(row, 3)?,
                in_flight: count(row, 4)?,
                dead: count(row, 5)?,
            })
        })?
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> Connection {
        let c = Connection::open_in_memory().expect("open");
        create(&c).expect("create");
        c
    }

    fn subscribe(c: &mut Connection, pairs: &[(&str, &str)]) {
        let tx = c.transaction().expect("tx");
        let pairs: Vec<_> = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        set_subscriptions(&tx, &pairs).expect("subscribe");
        tx.commit().expect("commit");
    }

    #[test]
    fn each_subscriber_gets_and_acknowledges_its_own_delivery() {
        let mut c = open();
        subscribe(&mut c, &[("feed", "a"), ("feed", "b"), ("other", "c")]);
        let tx = c.transaction().expect("tx");
        assert_eq!(publish(&tx, "feed", b"hi", 0).expect("publish"), (1, 2));
        assert_eq!(publish(&tx, "nobody", b"x", 0).expect("publish"), (0, 0));
        let claimed = claim(&tx, 10, 0, &Default::default()).expect("claim");
        assert_eq!(claimed.len(), 2);
        assert!(
            claim(&tx, 10, 0, &Default::default())
                .expect("claim")
                .is_empty(),
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
        let first = claim(&tx, 1, 0, &Default::default()).expect("claim");
        assert_eq!(first[0].attempt, 1);
        fail(&tx, "a", 1, "trap", Some(100)).expect("fail");
        assert!(
            claim(&tx, 1, 99, &Default::default())
                .expect("claim")
                .is_empty(),
            "backing off"
        );
        assert_eq!(next_due(&tx).expect("due"), Some(100));
        let second = claim(&tx, 1, 100, &Default::default()).expect("claim");
        assert_eq!(second[0].attempt, 2);
        fail(&tx, "a", 1, "trap again", None).expect("dead");
        assert!(
            claim(&tx, 1, i64::MAX, &Default::default())
                .expect("claim")
                .is_empty()
        );
        let dead = dead_letters(&tx).expect("dead");
        assert_eq!(
            (dead.len(), dead[0].attempts, dead[0].last_error.as_str()),
            (1, 2, "trap again")
        );
        assert_eq!(replay(&tx, &DeadFilter::default(), 5).expect("replay"), 1);
        assert_eq!(
            claim(&tx, 1, 5, &Default::default()).expect("claim")[0].attempt,
            1
        );
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
        claim(&tx, 1, 0, &Default::default()).expect("claim");
        assert_eq!(release_claims(&tx, 7).expect("release"), 1);
        assert_eq!(
            claim(&tx, 1, 7, &Default::default()).expect("claim")[0].attempt,
            2
        );
        let stats = stats(&tx, 7).expect("stats");
        assert_eq!(
            (stats[0].in_flight, stats[0].ready, stats[0].dead),
            (1, 0, 0)
        );
    }

    #[test]
    fn a_subscriber_at_its_limit_is_skipped_for_the_others() {
        let mut c = open();
        subscribe(&mut c, &[("feed", "slow"), ("feed", "fast")]);
        let tx = c.transaction().expect("tx");
        for _ in 0..3 {
            publish(&tx, "feed", b"m", 0).expect("publish");
        }
        let room = [("slow".to_owned(), 1)].into_iter().collect();
        let claimed = claim(&tx, 10, 0, &room).expect("claim");
        let slow = claimed.iter().filter(|c| c.subscriber == "slow").count();
        assert_eq!(
            (slow, claimed.len()),
            (1, 4),
            "one of slow's, all three of fast's"
        );
    }
}
