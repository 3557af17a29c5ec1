//! A deterministic pseudo-random source for the crate's randomised tests.

/// xorshift64*: deterministic pseudo-random numbers without a dependency.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Up to `max_len - 1` characters, each chosen by `pick` from a random number.
    pub(crate) fn text(&mut self, max_len: u64, mut pick: impl FnMut(u64) -> char) -> String {
        let len = self.next() % max_len;
        (0..len).map(|_| pick(self.next())).collect()
    }
}
