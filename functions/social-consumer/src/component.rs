//! Component glue: the inbound-redis export over `wasi:keyvalue`.

use sentiment_score::scoring::Scorer;
use social_feed::aggregate::Bucket;
use social_feed::feed::FeedTweet;
use social_feed::{keys, time};

wit_bindgen::generate!({
    path: ["../../wit/platform", "../../wit/redis-handler", "../../wit/social"],
    world: "cloudfn:social/consumer",
    generate_all,
});

use exports::fermyon::spin::inbound_redis::Guest;
use fermyon::spin::redis_types::Error;
use wasi::keyvalue::atomics::{self, Cas, CasError};
use wasi::keyvalue::store::{self, Bucket as Store};

/// The key-value store the aggregates live in.
const STORE: &str = "default";
/// Compare-and-swap attempts on one record before the delivery fails (and
/// is retried by the platform).
const MAX_SWAPS: usize = 1000;

struct Consumer;

impl Guest for Consumer {
    fn handle_message(message: Vec<u8>) -> Result<(), Error> {
        let tweet = match FeedTweet::from_event(&message) {
            Ok(tweet) => tweet,
            Err(e) => {
                eprintln!("social-consumer: acknowledged a message that is not a tweet: {e}");
                return Ok(());
            }
        };
        let scores = Scorer::new().score(&tweet.text);
        let store = store::open(STORE).map_err(|e| failed(&format!("opening store {STORE}"), e))?;
        let minute = time::minute_of(tweet.time);
        let key = keys::bucket(minute, keys::shard_of(&tweet.id));
        let mut first = false;
        update(&store, &key, |record| {
            first = record.is_none();
            let mut bucket = match Bucket::parse(record) {
                Ok(bucket) => bucket,
                Err(e) => return Err(format!("the record {key} is not an aggregate: {e}")),
            };
            bucket.fold(&tweet, &scores);
            Ok(Some(bucket.to_json()))
        })?;
        if first {
            update(&store, keys::MINUTES, |list| {
                Ok(keys::add_minute(list.unwrap_or(b"[]"), minute))
            })?;
        }
        Ok(())
    }
}

export!(Consumer);

/// Replaces the value under `key` with what `change` makes of it, by
/// compare-and-swap until no other writer came between (`Ok(None)` from
/// `change`: nothing to write).
fn update(
    store: &Store,
    key: &str,
    mut change: impl FnMut(Option<&[u8]>) -> Result<Option<Vec<u8>>, String>,
) -> Result<(), Error> {
    let mut cas = Cas::new(store, key).map_err(|e| failed(key, e))?;
    for _ in 0..MAX_SWAPS {
        let current = cas.current().map_err(|e| failed(key, e))?;
        let next = change(current.as_deref()).map_err(|message| {
            eprintln!("social-consumer: {message}");
            Error::Error
        })?;
        let Some(next) = next else { return Ok(()) };
        match atomics::swap(cas, &next) {
            Ok(()) => return Ok(()),
            Err(CasError::CasFailed(retry)) => cas = retry,
            Err(CasError::StoreError(e)) => return Err(failed(key, e)),
        }
    }
    eprintln!("social-consumer: {key} changed under {MAX_SWAPS} compare-and-swaps in a row");
    Err(Error::Error)
}

fn failed(what: &str, e: store::Error) -> Error {
    eprintln!("social-consumer: key-value store failed on {what}: {e:?}");
    Error::Error
}
