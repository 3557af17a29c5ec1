//! Row kernels shared by the blur and the resampler: weighted sums of f32
//! rows, written as blocks of 16 lanes so that the compiler emits four
//! SIMD128 (or SSE) multiply-adds per loop iteration. Blocks matter on
//! wasmtime: every loop iteration pays an epoch (timeout) check, so loops
//! that do more work per iteration pay it less often.

/// Lanes per block.
pub const BLOCK: usize = 16;

/// `out[i] = Σ_k weights[k] · rows[k][i]` for every `i`.
pub fn weighted_rows(out: &mut [f32], rows: &[&[f32]], weights: &[f32]) {
    debug_assert_eq!(rows.len(), weights.len());
    let len = out.len();
    let blocks = len / BLOCK * BLOCK;
    for start in (0..blocks).step_by(BLOCK) {
        let mut acc = [0f32; BLOCK];
        for (row, &w) in rows.iter().zip(weights) {
            let src: &[f32; BLOCK] = row[start..start + BLOCK]
                .try_into()
                .expect("rows are as long as out");
            for i in 0..BLOCK {
                acc[i] += w * src[i];
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
        for k in 1..=r {
            let w = weights[r + k];
            let lo: &[f32; BLOCK] = row[(r - k) * step + start..][..BLOCK]
                .try_into()
                .expect("in bounds");
            let hi: &[f32; BLOCK] = row[(r + k) * step + start..][..BLOCK]
                .try_into()
                .expect("in bounds");
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
}
