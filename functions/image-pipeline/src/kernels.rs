//! Row kernels shared by the blur and the resampler: weighted sums of f32
//! rows, written as blocks of 16 lanes so that the compiler emits four
//! SIMD128 (or SSE) multiply-adds per loop iteration, with the taps taken
//! four (rows) or two (symmetric pairs) per iteration. Both matter on
//! wasmtime: every loop iteration pays an epoch (timeout) check, so loops
//! that do more work per iteration pay it less often. The grouped loops add
//! in the order of a plain per-element loop, so results are unchanged.

/// Lanes per block.
pub const BLOCK: usize = 16;

/// `out[i] = Σ_k weights[k] · rows[k][i]` for every `i`.
pub fn weighted_rows(out: &mut [f32], rows: &[&[f32]], weights: &[f32]) {
    debug_assert_eq!(rows.len(), weights.len());
    let len = out.len();
    let blocks = len / BLOCK * BLOCK;
    for start in (0..blocks).step_by(BLOCK) {
        let mut acc = [0f32; BLOCK];
        let block = |row: &[f32]| -> [f32; BLOCK] {
            row[start..start + BLOCK]
                .try_into()
                .expect("rows are as long as out")
        };
        // Four weights per iteration (a quarter of the loop back-edges, each
        // an epoch check in wasm), adding in the same order as one at a time.
        let (row_quads, weight_quads) = (rows.chunks_exact(4), weights.chunks_exact(4));
        let (last_rows, last_weights) = (row_quads.remainder(), weight_quads.remainder());
        for (r, w) in row_quads.zip(weight_quads) {
            let (a, b, c, d) = (block(r[0]), block(r[1]), block(r[2]), block(r[3]));
            for i in 0..BLOCK {
                acc[i] = (((acc[i] + w[0] * a[i]) + w[1] * b[i]) + w[2] * c[i]) + w[3] * d[i];
            }
        }
        for (row, &w) in last_rows.iter().zip(last_weights) {
            let a = block(row);
            for i in 0..BLOCK {
                acc[i] += w * a[i];
            }
        }
        out[start..start + BLOCK].copy_from_slice(&acc);
    }
    for i in blocks..len {
        out[i] = rows.iter().zip(weights).map(|(row, &w)| w * row[i]).sum();
    }
}

/// `out[i] = w[r]·row[i + r·step] + Σ_{k≥1} w[r+k]·(row[i + (r-k)·step] + row[i + (r+k)·step])`:
/// a symmetric kernel of `2r+1` taps whose taps are `step` apart.
pub fn symmetric_taps(out: &mut [f32], row: &[f32], weights: &[f32], step: usize) {
    let r = weights.len() / 2;
    let len = out.len();
    debug_assert!(row.len() >= len + 2 * r * step);
    let centre = &row[r * step..];
    let blocks = len / BLOCK * BLOCK;
    for start in (0..blocks).step_by(BLOCK) {
        let mut acc = [0f32; BLOCK];
        let c: &[f32; BLOCK] = centre[start..start + BLOCK].try_into().expect("in bounds");
        for i in 0..BLOCK {
            acc[i] = weights[r] * c[i];
        }
        let at = |offset: usize| -> [f32; BLOCK] {
            row[offset + start..][..BLOCK]
                .try_into()
                .expect("in bounds")
        };
        // Two taps per iteration, added in the same order as one at a time.
        let mut k = 1;
        while k < r {
            let (w1, w2) = (weights[r + k], weights[r + k + 1]);
            let (lo1, hi1) = (at((r - k) * step), at((r + k) * step));
            let (lo2, hi2) = (at((r - k - 1) * step), at((r + k + 1) * step));
            for i in 0..BLOCK {
                acc[i] = (acc[i] + w1 * (lo1[i] + hi1[i])) + w2 * (lo2[i] + hi2[i]);
            }
            k += 2;
        }
        if k == r {
            let w = weights[r + k];
            let (lo, hi) = (at(0), at(2 * r * step));
            for i in 0..BLOCK {
                acc[i] += w * (lo[i] + hi[i]);
            }
        }
        out[start..start + BLOCK].copy_from_slice(&acc);
    }
    for i in blocks..len {
        let mut v = weights[r] * centre[i];
        for k in 1..=r {
            v += weights[r + k] * (row[(r - k) * step + i] + row[(r + k) * step + i]);
        }
        out[i] = v;
    }
}

/// A ring of f32 rows of one image, keyed by source row: the working
/// memory of the vertical passes. Rows needed by one output row must be
/// distinct modulo the ring size (a window of consecutive or edge-clamped
/// rows no longer than the ring), so they never evict each other.
pub struct RowRing {
    rows: Vec<f32>,
    held: Vec<usize>,
    row_len: usize,
}

impl RowRing {
    /// A ring of `slots` rows of `row_len` samples.
    pub fn new(slots: usize, row_len: usize) -> RowRing {
        RowRing {
            rows: vec![0f32; slots * row_len],
            held: vec![usize::MAX; slots],
            row_len,
        }
    }

    /// Makes source row `y` present, computing it with `fill` if it is not.
    pub fn ensure(&mut self, y: usize, fill: impl FnOnce(&mut [f32])) {
        let slot = y % self.held.len();
        if self.held[slot] != y {
            fill(&mut self.rows[slot * self.row_len..(slot + 1) * self.row_len]);
            self.held[slot] = y;
        }
    }

    /// Source row `y` (present after [`RowRing::ensure`]).
    pub fn row(&self, y: usize) -> &[f32] {
        let slot = y % self.held.len();
        &self.rows[slot * self.row_len..(slot + 1) * self.row_len]
    }
}

/// Rounds and clamps f32 samples into bytes.
pub fn to_bytes(out: &mut [u8], samples: &[f32]) {
    for (o, &s) in out.iter_mut().zip(samples) {
        *o = (s + 0.5).clamp(0.0, 255.0) as u8;
    }
}

/// Widens bytes into f32 samples.
pub fn to_floats(out: &mut [f32], bytes: &[u8]) {
    for (o, &b) in out.iter_mut().zip(bytes) {
        *o = f32::from(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_tails_agree_with_plain_sums() {
        let row: Vec<f32> = (0..100).map(|i| (i * 37 % 101) as f32).collect();
        let weights = [0.1, 0.2, 0.4, 0.2, 0.1];
        for step in [1, 3] {
            let len = row.len() - 4 * step;
            let mut out = vec![0.0; len];
            symmetric_taps(&mut out, &row, &weights, step);
            for (i, got) in out.iter().enumerate() {
                let want: f32 = (0..5).map(|k| weights[k] * row[i + k * step]).sum();
                assert!(
                    (got - want).abs() < 1e-3,
                    "step {step} at {i}: {got} vs {want}"
                );
            }
        }
        let rows: Vec<&[f32]> = vec![&row[..37], &row[1..38], &row[2..39]];
        let mut out = vec![0.0; 37];
        weighted_rows(&mut out, &rows, &[0.5, 0.25, 0.25]);
        for (i, got) in out.iter().enumerate() {
            let want = 0.5 * row[i] + 0.25 * row[i + 1] + 0.25 * row[i + 2];
            assert!((got - want).abs() < 1e-3);
        }
    }

    /// The grouped loops add in the order of a plain per-element loop, so
    /// their results are bit for bit those of that loop, for every number
    /// of taps (whole groups and remainders) and lengths with block tails.
    #[test]
    fn grouped_taps_sum_in_plain_order() {
        let row: Vec<f32> = (0..300).map(|i| ((i * 7919 % 1009) as f32) / 7.0).collect();
        let weight = |k: usize| 0.37 / (k as f32 + 1.3);
        for taps in 1..=11 {
            let weights: Vec<f32> = (0..taps).map(weight).collect();
            let len = 53;
            let rows: Vec<&[f32]> = (0..taps).map(|k| &row[k * 5..]).collect();
            let mut out = vec![0.0; len];
            weighted_rows(&mut out, &rows, &weights);
            for (i, &got) in out.iter().enumerate() {
                let mut want = 0.0f32;
                for k in 0..taps {
                    want += weights[k] * rows[k][i];
                }
                assert_eq!(got.to_bits(), want.to_bits(), "{taps} rows, at {i}");
            }
        }
        for r in 0..=6 {
            let weights: Vec<f32> = (0..2 * r + 1).map(weight).collect();
            for step in [1, 3] {
                let len = row.len() - 2 * r * step;
                let mut out = vec![0.0; len];
                symmetric_taps(&mut out, &row, &weights, step);
                for (i, &got) in out.iter().enumerate() {
                    let mut want = weights[r] * row[i + r * step];
                    for k in 1..=r {
                        want +=
                            weights[r + k] * (row[i + (r - k) * step] + row[i + (r + k) * step]);
                    }
                    assert_eq!(got.to_bits(), want.to_bits(), "r {r}, step {step}, at {i}");
                }
            }
        }
    }
}
