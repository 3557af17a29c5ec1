//! Where the aggregates live in the key-value store. One record per minute
//! and shard (`social/minute/<unix minute start>/<shard>`): a tweet goes to
//! the shard its id hashes to, so concurrent deliveries mostly update
//! different records and their compare-and-swaps rarely collide; the
//! dashboard merges a minute's shards. `social/minutes` lists the minutes
//! that have records.

/// Records per minute.
pub const SHARDS: u32 = 16;
/// The key of the list of minutes with records.
pub const MINUTES: &str = "social/minutes";
/// Most minutes [`MINUTES`] lists (a week); older ones drop out of the
/// dashboard, their records stay.
pub const MAX_MINUTES: usize = 7 * 24 * 60;

/// The key of one minute's shard.
pub fn bucket(minute: i64, shard: u32) -> String {
    format!("social/minute/{minute}/{shard}")
}

/// The shard of a tweet id (FNV-1a).
pub fn shard_of(id: &str) -> u32 {
    let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (hash % u64::from(SHARDS)) as u32
}

/// The minutes listed under [`MINUTES`] (none when absent or unreadable).
pub fn minutes(list: Option<&[u8]>) -> Vec<i64> {
    list.and_then(|l| serde_json::from_slice(l).ok())
        .unwrap_or_default()
}

/// `minutes` (the JSON list stored under [`MINUTES`]) with `minute` added,
/// sorted, at most [`MAX_MINUTES`] of the latest; `None` when it is already there.
pub fn add_minute(minutes: &[u8], minute: i64) -> Option<Vec<u8>> {
    let mut list = self::minutes(Some(minutes));
    let at = list.binary_search(&minute).err()?;
    list.insert(at, minute);
    if list.len() > MAX_MINUTES {
        list.drain(..list.len() - MAX_MINUTES);
    }
    Some(serde_json::to_vec(&list).expect("integers serialize"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_stay_sorted_unique_and_bounded() {
        let one = add_minute(b"", 120).expect("added");
        let two = add_minute(&one, 60).expect("added");
        assert_eq!(two, b"[60,120]");
        assert_eq!(add_minute(&two, 120), None);
        let full = serde_json::to_vec(&(0..MAX_MINUTES as i64).collect::<Vec<_>>()).expect("json");
        let next: Vec<i64> =
            serde_json::from_slice(&add_minute(&full, 1 << 40).expect("added")).expect("json");
        assert_eq!(next.len(), MAX_MINUTES);
        assert_eq!((next[0], *next.last().expect("last")), (1, 1 << 40));
        assert!((0..1000).all(|i| shard_of(&i.to_string()) < SHARDS));
    }
}
