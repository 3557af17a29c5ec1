//! Separable Catmull-Rom resampling of 8-bit images, vertical pass first:
//! each output row is a weighted sum of whole source rows (converted to f32
//! once, kept in a small ring), then each output pixel a weighted sum along
//! that row. Downscaling widens the kernel by the scale factor, so every
//! source pixel contributes (no aliasing).

use crate::filters::{Plane, gaussian_kernel};
use crate::kernels;

/// Catmull-Rom cubic (B = 0, C = 0.5), support 2.
fn catmull_rom(x: f32) -> f32 {
    let a = x.abs();
    if a < 1.0 {
        (1.5 * a - 2.5) * a * a + 1.0
    } else if a < 2.0 {
        ((-0.5 * a + 2.5) * a - 4.0) * a + 2.0
    } else {
        0.0
    }
}

/// For each output coordinate, the first source index and the weights of
/// the source samples from there, all padded to one tap count.
struct Taps {
    starts: Vec<usize>,
    weights: Vec<f32>,
    count: usize,
}

impl Taps {
    fn new(src: usize, dst: usize) -> Taps {
        let scale = src as f32 / dst as f32;
        let stretch = scale.max(1.0);
        let support = 2.0 * stretch;
        let count = ((support * 2.0).ceil() as usize + 1).min(src);
        let mut starts = Vec::with_capacity(dst);
        let mut weights = vec![0f32; dst * count];
        for (o, row) in weights.chunks_exact_mut(count).enumerate() {
            let centre = (o as f32 + 0.5) * scale;
            let first = ((centre - support).floor().max(0.0) as usize).min(src - count);
            let mut sum = 0.0;
            for (j, w) in row.iter_mut().enumerate() {
                *w = catmull_rom((first as f32 + j as f32 + 0.5 - centre) / stretch);
                sum += *w;
            }
            if sum != 0.0 {
                row.iter_mut().for_each(|w| *w /= sum);
            }
            starts.push(first);
        }
        Taps {
            starts,
            weights,
            count,
        }
    }

    /// These taps applied after a convolution with the symmetric `kernel`
    /// (edges clamped) over a line of `src` samples: one filter computing
    /// both, evaluated only where the output samples are.
    fn after_convolution(&self, kernel: &[f32], src: usize) -> Taps {
        let r = kernel.len() / 2;
        let count = (self.count + 2 * r).min(src);
        let dst = self.starts.len();
        let mut starts = Vec::with_capacity(dst);
        let mut weights = vec![0f32; dst * count];
        for (o, row) in weights.chunks_exact_mut(count).enumerate() {
            let (first, outer) = self.of(o);
            let lo = first.saturating_sub(r);
            let start = lo.min(src - count);
            for (j, &w) in outer.iter().enumerate() {
                for (k, &g) in kernel.iter().enumerate() {
                    let s = (first + j + k).saturating_sub(r).min(src - 1);
                    row[s - start] += w * g;
                }
            }
            starts.push(start);
        }
        Taps {
            starts,
            weights,
            count,
        }
    }

    fn of(&self, o: usize) -> (usize, &[f32]) {
        (
            self.starts[o],
            &self.weights[o * self.count..(o + 1) * self.count],
        )
    }
}

/// Resizes to exactly `new_width` × `new_height` (each at least 1).
pub fn resize(plane: Plane<'_>, new_width: usize, new_height: usize) -> Vec<u8> {
    resize_blurred(plane, new_width, new_height, None)
}

/// Resizes, after a Gaussian blur of `sigma` when given. The two filters
/// are composed into one separable filter evaluated only at the output
/// samples: the result is the blur followed by the resize without rounding
/// in between (within one level of running them one after the other), for
/// a fraction of the work when downscaling.
pub fn resize_blurred(
    plane: Plane<'_>,
    new_width: usize,
    new_height: usize,
    sigma: Option<f32>,
) -> Vec<u8> {
    let Plane {
        data,
        width,
        height,
        channels: c,
    } = plane;
    let row_len = width * c;
    let (mut rows, mut cols) = (Taps::new(height, new_height), Taps::new(width, new_width));
    if let Some(sigma) = sigma {
        let kernel = gaussian_kernel(sigma);
        rows = rows.after_convolution(&kernel, height);
        cols = cols.after_convolution(&kernel, width);
    }
    let mut ring = kernels::RowRing::new(rows.count, row_len);
    let mut column = vec![0f32; row_len];
    let mut out_row = vec![0f32; new_width * c];
    let mut out = vec![0u8; new_width * new_height * c];
    for (o, dst) in out.chunks_exact_mut(new_width * c).enumerate() {
        let (first, weights) = rows.of(o);
        // Source rows first..first+count are consecutive: slots never collide.
        for sy in first..first + rows.count {
            ring.ensure(sy, |slot| {
                kernels::to_floats(slot, &data[sy * row_len..(sy + 1) * row_len]);
            });
        }
        let sources: Vec<&[f32]> = (first..first + rows.count).map(|sy| ring.row(sy)).collect();
        kernels::weighted_rows(&mut column, &sources, weights);
        horizontal(&mut out_row, &column, &cols, c);
        kernels::to_bytes(dst, &out_row);
    }
    out
}

/// One output row from one vertically resampled row.
fn horizontal(out: &mut [f32], row: &[f32], cols: &Taps, c: usize) {
    if c == 1 {
        for (x, o) in out.iter_mut().enumerate() {
            let (first, weights) = cols.of(x);
            *o = dot(&row[first..first + cols.count], weights);
        }
        return;
    }
    for (x, px) in out.chunks_exact_mut(c).enumerate() {
        let (first, weights) = cols.of(x);
        let mut acc = [0f32; 4];
        for (j, &w) in weights.iter().enumerate() {
            let src = &row[(first + j) * c..(first + j + 1) * c];
            for ch in 0..c {
                acc[ch] += w * src[ch];
            }
        }
        px.copy_from_slice(&acc[..c]);
    }
}

/// A dot product in four interleaved partial sums (vectorizable, and the
/// same order natively and on wasm). Eight elements per loop iteration (one
/// epoch check in wasm), added to the partial sums four at a time in order.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 4];
    let (a4, a_tail) = a.split_at(a.len() / 4 * 4);
    let (b4, b_tail) = b.split_at(a4.len());
    let (a8, b8) = (a4.chunks_exact(8), b4.chunks_exact(8));
    let (a8_rest, b8_rest) = (a8.remainder(), b8.remainder());
    for (x, y) in a8.zip(b8) {
        for i in 0..4 {
            acc[i] = (acc[i] + x[i] * y[i]) + x[4 + i] * y[4 + i];
        }
    }
    for (x, y) in a8_rest.chunks_exact(4).zip(b8_rest.chunks_exact(4)) {
        for i in 0..4 {
            acc[i] += x[i] * y[i];
        }
    }
    let tail: f32 = a_tail.iter().zip(b_tail).map(|(x, y)| x * y).sum();
    (acc[0] + acc[2]) + (acc[1] + acc[3]) + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plane(data: &[u8], width: usize, height: usize, channels: usize) -> Plane<'_> {
        Plane {
            data,
            width,
            height,
            channels,
        }
    }

    #[test]
    fn weights_are_normalized_and_cover_the_scaled_support() {
        for (src, dst) in [(4000, 1024), (100, 300), (7, 7), (3, 1), (1, 5)] {
            let taps = Taps::new(src, dst);
            for o in 0..dst {
                let (first, w) = taps.of(o);
                assert!(first + taps.count <= src);
                assert!(
                    (w.iter().sum::<f32>() - 1.0).abs() < 1e-4,
                    "{src}->{dst} at {o}"
                );
            }
        }
        assert_eq!(Taps::new(4000, 1000).count, 17);
    }

    #[test]
    fn flat_stays_flat_and_gradients_stay_monotonic() {
        let flat = vec![200u8; 40 * 30 * 3];
        assert!(
            resize(plane(&flat, 40, 30, 3), 13, 51)
                .iter()
                .all(|&v| v == 200)
        );
        let ramp: Vec<u8> = (0..64 * 8).map(|i| ((i % 64) * 4) as u8).collect();
        let out = resize(plane(&ramp, 64, 8, 1), 16, 2);
        assert!(out[..16].windows(2).all(|w| w[0] <= w[1]), "{out:?}");
        assert!(out[0] < 10 && out[15] > 240, "{out:?}");
    }

    #[test]
    fn blur_then_resize_in_one_filter_matches_the_two_steps() {
        use crate::filters::gaussian_blur;
        let (w, h, c) = (97, 61, 3);
        let data: Vec<u8> = (0..w * h * c)
            .map(|i| {
                let (x, y) = ((i / c) % w, (i / c) / w);
                (if (x / 9 + y / 7) % 2 == 0 { 30 } else { 220 } + (i * 31 % 17)) as u8
            })
            .collect();
        for (sigma, nw, nh) in [(2.0, 25, 16), (0.7, 40, 30), (3.0, 97, 61), (1.5, 150, 90)] {
            let blurred = gaussian_blur(plane(&data, w, h, c), sigma);
            let two_steps = resize(plane(&blurred, w, h, c), nw, nh);
            let fused = resize_blurred(plane(&data, w, h, c), nw, nh, Some(sigma));
            let worst = two_steps
                .iter()
                .zip(&fused)
                .map(|(a, b)| a.abs_diff(*b))
                .max()
                .unwrap_or(0);
            assert!(worst <= 1, "sigma {sigma} to {nw}x{nh}: off by {worst}");
        }
    }

    #[test]
    fn identity_size_is_exact() {
        let data: Vec<u8> = (0..25 * 9 * 4).map(|i| (i * 7 % 256) as u8).collect();
        assert_eq!(resize(plane(&data, 25, 9, 4), 25, 9), data);
    }

    /// `dot` adds in the order of four plain interleaved sums, whatever the length.
    #[test]
    fn dot_sums_in_interleaved_order() {
        let a: Vec<f32> = (0..40).map(|i| ((i * 7919 % 1009) as f32) / 7.0).collect();
        let b: Vec<f32> = (0..40).map(|i| 0.37 / (i as f32 + 1.3)).collect();
        for len in 0..=40 {
            let mut acc = [0f32; 4];
            let whole = len / 4 * 4;
            for i in 0..whole {
                acc[i % 4] += a[i] * b[i];
            }
            let tail: f32 = (whole..len).map(|i| a[i] * b[i]).sum();
            let want = (acc[0] + acc[2]) + (acc[1] + acc[3]) + tail;
            assert_eq!(dot(&a[..len], &b[..len]).to_bits(), want.to_bits(), "{len}");
        }
    }
}
