/*
 * Copyright (c) 2023.
 *
 * This software is free software;
 *
 * You can redistribute it or modify it under terms of the MIT, Apache License or Zlib license
 */

//! WebAssembly SIMD128 YCbCr → RGB(A) (cloudfn addition, see `CLOUDFN.md`).
//!
//! The scalar conversion's 32-bit arithmetic eight pixels per `i16x8`
//! (four per `i32x4` product), then two saturating narrowings, which clamp
//! to 0..=255 exactly as the scalar clamp does: the output is bit-identical
//! to [`super::scalar`].

#![cfg(all(target_arch = "wasm32", target_feature = "simd128"))]

use core::arch::wasm32::*;

use crate::color_convert::scalar::{
    CB_CF, CR_CF, C_G_CB_COEF_2, C_G_CR_COEF_1, YUV_PREC, YUV_RND, Y_CF
};

/// Loads eight `i16`s from `lanes[start..start + 8]`.
#[inline(always)]
fn load8(lanes: &[i16; 16], start: usize) -> v128 {
    let lanes = &lanes[start..start + 8];
    // SAFETY: eight `i16`s, 16 bytes; v128 loads need no alignment.
    unsafe { v128_load(lanes.as_ptr().cast()) }
}

/// One channel of eight pixels: `(y * Y_CF + YUV_RND + a * ca + b * cb) >> YUV_PREC`
/// in `i32` lanes, narrowed with saturation to `i16` lanes.
#[inline(always)]
fn channel(y: v128, a: v128, ca: i16, b: v128, cb: i16) -> v128 {
    let half = |low: bool| {
        let ext = |v: v128, c: i16| {
            if low {
                i32x4_extmul_low_i16x8(v, i16x8_splat(c))
            } else {
                i32x4_extmul_high_i16x8(v, i16x8_splat(c))
            }
        };
        let sum = i32x4_add(
            i32x4_add(ext(y, Y_CF), i32x4_splat(i32::from(YUV_RND))),
            i32x4_add(ext(a, ca), ext(b, cb))
        );
        i32x4_shr(sum, YUV_PREC as u32)
    };
    i16x8_narrow_i32x4(half(true), half(false))
}

/// R, G and B of 16 pixels, each clamped to 0..=255 in one `u8x16`.
#[inline(always)]
fn rgb16(y: &[i16; 16], cb: &[i16; 16], cr: &[i16; 16]) -> (v128, v128, v128) {
    let bias = i16x8_splat(128);
    let pixels8 = |start: usize| {
        let y = load8(y, start);
        let cb = i16x8_sub(load8(cb, start), bias);
        let cr = i16x8_sub(load8(cr, start), bias);
        // A zero coefficient adds a zero product: the scalar sums, term for term.
        let r = channel(y, cr, CR_CF, cb, 0);
        let g = channel(y, cr, C_G_CR_COEF_1, cb, C_G_CB_COEF_2);
        let b = channel(y, cb, CB_CF, cr, 0);
        (r, g, b)
    };
    let (r0, g0, b0) = pixels8(0);
    let (r1, g1, b1) = pixels8(8);
    (
        u8x16_narrow_i16x8(r0, r1),
        u8x16_narrow_i16x8(g0, g1),
        u8x16_narrow_i16x8(b0, b1)
    )
}

/// Stores `parts` at `output[*pos..]` and advances `pos`, panicking as the
/// scalar code does when the output is too small.
#[inline(always)]
fn store<const N: usize>(parts: [v128; N], output: &mut [u8], pos: &mut usize) {
    let out = output
        .get_mut(*pos..*pos + 16 * N)
        .expect("Slice to small cannot write");
    for (chunk, part) in out.chunks_exact_mut(16).zip(parts) {
        // SAFETY: `chunk` is 16 bytes; v128 stores need no alignment.
        unsafe { v128_store(chunk.as_mut_ptr().cast(), part) };
    }
    *pos += 16 * N;
}

/// YCbCr → RGB for 16 pixels, as [`super::scalar::ycbcr_to_rgb_inner_16_scalar`].
pub fn ycbcr_to_rgb_simd128(
    y: &[i16; 16], cb: &[i16; 16], cr: &[i16; 16], output: &mut [u8], pos: &mut usize
) {
    let (r, g, b) = rgb16(y, cb, cr);
    // Interleave: R and G into place (B slots hold anything), then B.
    let rg0 = i8x16_shuffle::<0, 16, 0, 1, 17, 0, 2, 18, 0, 3, 19, 0, 4, 20, 0, 5>(r, g);
    let out0 = i8x16_shuffle::<0, 1, 16, 3, 4, 17, 6, 7, 18, 9, 10, 19, 12, 13, 20, 15>(rg0, b);
    let rg1 = i8x16_shuffle::<21, 0, 6, 22, 0, 7, 23, 0, 8, 24, 0, 9, 25, 0, 10, 26>(r, g);
    let out1 = i8x16_shuffle::<0, 21, 2, 3, 22, 5, 6, 23, 8, 9, 24, 11, 12, 25, 14, 15>(rg1, b);
    let rg2 = i8x16_shuffle::<0, 11, 27, 0, 12, 28, 0, 13, 29, 0, 14, 30, 0, 15, 31, 0>(r, g);
    let out2 = i8x16_shuffle::<26, 1, 2, 27, 4, 5, 28, 7, 8, 29, 10, 11, 30, 13, 14, 31>(rg2, b);
    store([out0, out1, out2], output, pos);
}

/// YCbCr → RGBA (alpha 255) for 16 pixels, as
/// [`super::scalar::ycbcr_to_rgba_inner_16_scalar`].
pub fn ycbcr_to_rgba_simd128(
    y: &[i16; 16], cb: &[i16; 16], cr: &[i16; 16], output: &mut [u8], pos: &mut usize
) {
    let (r, g, b) = rgb16(y, cb, cr);
    let alpha = u8x16_splat(255);
    let rg_low = i8x16_shuffle::<0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23>(r, g);
    let rg_high =
        i8x16_shuffle::<8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31>(r, g);
    let ba_low = i8x16_shuffle::<0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23>(b, alpha);
    let ba_high =
        i8x16_shuffle::<8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31>(b, alpha);
    store(
        [
            i16x8_shuffle::<0, 8, 1, 9, 2, 10, 3, 11>(rg_low, ba_low),
            i16x8_shuffle::<4, 12, 5, 13, 6, 14, 7, 15>(rg_low, ba_low),
            i16x8_shuffle::<0, 8, 1, 9, 2, 10, 3, 11>(rg_high, ba_high),
            i16x8_shuffle::<4, 12, 5, 13, 6, 14, 7, 15>(rg_high, ba_high)
        ],
        output,
        pos
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::color_convert::scalar::{
        ycbcr_to_rgb_inner_16_scalar, ycbcr_to_rgba_inner_16_scalar
    };

    /// Bit-identical to the scalar conversion on every sample value the
    /// decoder produces (0..=255) and on out-of-range ones.
    #[test]
    fn simd128_equals_scalar() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..20_000 {
            // Every fourth block out of range (-2048..2048), as corrupt input might be.
            let sample = |v: u64| {
                if round % 4 == 0 {
                    ((v >> 48) as i16) >> 4
                } else {
                    (v % 256) as i16
                }
            };
            let mut planes = [[0i16; 16]; 3];
            for plane in &mut planes {
                for s in plane.iter_mut() {
                    *s = sample(next());
                }
            }
            let [y, cb, cr] = &planes;
            let (mut expected, mut actual) = (vec![0u8; 53], vec![0u8; 53]);
            let (mut pos_e, mut pos_a) = (5, 5);
            ycbcr_to_rgb_inner_16_scalar::<false>(y, cb, cr, &mut expected, &mut pos_e);
            ycbcr_to_rgb_simd128(y, cb, cr, &mut actual, &mut pos_a);
            assert_eq!((expected, pos_e), (actual, pos_a), "RGB {planes:?}");
            let (mut expected, mut actual) = (vec![0u8; 64], vec![0u8; 64]);
            let (mut pos_e, mut pos_a) = (0, 0);
            ycbcr_to_rgba_inner_16_scalar::<false>(y, cb, cr, &mut expected, &mut pos_e);
            ycbcr_to_rgba_simd128(y, cb, cr, &mut actual, &mut pos_a);
            assert_eq!((expected, pos_e), (actual, pos_a), "RGBA {planes:?}");
        }
    }
}
