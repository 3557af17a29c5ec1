//! The hash of the static lexicon tables, shared with `build.rs`: plain
//! `u64` arithmetic, so the tables built on the host match lookups on any
//! target (FxHash depends on the pointer width). Keys of up to eight bytes
//! (most words) take one step and no loop.

const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

fn mix(h: u64, word: u64) -> u64 {
    (h.rotate_left(23) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95)
}

fn read4(bytes: &[u8], at: usize) -> u64 {
    // Copied as a slice: LLVM made four byte loads of an array of four
    // indexed bytes at an offset other than 0 in the wasm build.
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u64::from(u32::from_le_bytes(word))
}

fn read8(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

/// Hashes a key: eight bytes per step; the last (or only) word is read
/// overlapping the one before, as wyhash does.
pub fn hash(bytes: &[u8]) -> u64 {
    let len = bytes.len();
    let mut h = SEED ^ len as u64;
    let last = if len >= 8 {
        let mut at = 0;
        while at + 8 < len {
            h = mix(h, read8(bytes, at));
            at += 8;
        }
        read8(bytes, len - 8)
    } else if len >= 4 {
        (read4(bytes, 0) << 32) | read4(bytes, len - 4)
    } else if len > 0 {
        (u64::from(bytes[0]) << 16) | (u64::from(bytes[len / 2]) << 8) | u64::from(bytes[len - 1])
    } else {
        0
    };
    let h = mix(h, last);
    h ^ (h >> 29)
}

/// The slot of `hash` in a table of `1 << bits` slots.
pub fn slot(hash: u64, bits: u32) -> usize {
    (hash & ((1 << bits) - 1)) as usize
}
