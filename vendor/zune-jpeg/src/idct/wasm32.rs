/*
 * Copyright (c) 2023.
 *
 * This software is free software;
 *
 * You can redistribute it or modify it under terms of the MIT, Apache License or Zlib license
 */

//! WebAssembly SIMD128 IDCT (cloudfn addition, see `CLOUDFN.md`).
//!
//! The scalar IDCT's arithmetic, four columns (first pass) or four rows
//! (second pass) per `i32x4`: every operation is the same wrapping 32-bit
//! add, multiply or shift as in [`super::scalar`], lane by lane, so the
//! output is bit-identical to it. The 8x8 block stays in registers between
//! the passes (two 4x4 transposes in between and after), and the input
//! block is only read: the decoder clears it before the next block in
//! either case, which also keeps the 4x4 contract of `choose_idct_4x4_func`.

#![cfg(all(target_arch = "wasm32", target_feature = "simd128"))]

use core::arch::wasm32::*;

use crate::idct::scalar::idct_int_1x1;

const SCALE_BITS: i32 = 512 + 65536 + (128 << 17);

#[inline(always)]
fn add(a: v128, b: v128) -> v128 {
    i32x4_add(a, b)
}

#[inline(always)]
fn sub(a: v128, b: v128) -> v128 {
    i32x4_sub(a, b)
}

#[inline(always)]
fn mul(a: v128, c: i32) -> v128 {
    i32x4_mul(a, i32x4_splat(c))
}

/// One 1-D IDCT over eight vectors of four lanes each: `s[k]` holds
/// coefficient `k` of four independent lines. As the scalar passes,
/// with `bias` added to the even part and the sums shifted right by `shift`.
#[inline(always)]
fn pass(s: [v128; 8], bias: i32, shift: u32) -> [v128; 8] {
    // even part
    let p1 = mul(add(s[2], s[6]), 2217);
    let e2 = add(p1, mul(s[6], -7567));
    let e3 = add(p1, mul(s[2], 3135));
    let e0 = i32x4_shl(add(s[0], s[4]), 12);
    let e1 = i32x4_shl(sub(s[0], s[4]), 12);
    let bias = i32x4_splat(bias);
    let x0 = add(add(e0, e3), bias);
    let x3 = add(sub(e0, e3), bias);
    let x1 = add(add(e1, e2), bias);
    let x2 = add(sub(e1, e2), bias);

    // odd part
    let (t0, t1, t2, t3) = (s[7], s[5], s[3], s[1]);
    let p3 = add(t0, t2);
    let p4 = add(t1, t3);
    let p1 = add(t0, t3);
    let p2 = add(t1, t2);
    let p5 = mul(add(p3, p4), 4816);
    let t0 = mul(t0, 1223);
    let t1 = mul(t1, 8410);
    let t2 = mul(t2, 12586);
    let t3 = mul(t3, 6149);
    let p1 = add(p5, mul(p1, -3685));
    let p2 = add(p5, mul(p2, -10497));
    let p3 = mul(p3, -8034);
    let p4 = mul(p4, -1597);
    let t3 = add(t3, add(p1, p4));
    let t2 = add(t2, add(p2, p3));
    let t1 = add(t1, add(p2, p4));
    let t0 = add(t0, add(p1, p3));

    [
        i32x4_shr(add(x0, t3), shift),
        i32x4_shr(add(x1, t2), shift),
        i32x4_shr(add(x2, t1), shift),
        i32x4_shr(add(x3, t0), shift),
        i32x4_shr(sub(x3, t0), shift),
        i32x4_shr(sub(x2, t1), shift),
        i32x4_shr(sub(x1, t2), shift),
        i32x4_shr(sub(x0, t3), shift),
    ]
}

/// Transposes a 4x4 block of `i32`s held as four rows.
#[inline(always)]
fn transpose4(a: v128, b: v128, c: v128, d: v128) -> [v128; 4] {
    let ab_lo = i32x4_shuffle::<0, 4, 1, 5>(a, b);
    let ab_hi = i32x4_shuffle::<2, 6, 3, 7>(a, b);
    let cd_lo = i32x4_shuffle::<0, 4, 1, 5>(c, d);
    let cd_hi = i32x4_shuffle::<2, 6, 3, 7>(c, d);
    [
        i32x4_shuffle::<0, 1, 4, 5>(ab_lo, cd_lo),
        i32x4_shuffle::<2, 3, 6, 7>(ab_lo, cd_lo),
        i32x4_shuffle::<0, 1, 4, 5>(ab_hi, cd_hi),
        i32x4_shuffle::<2, 3, 6, 7>(ab_hi, cd_hi),
    ]
}

/// Loads the four coefficients from `start`.
#[inline(always)]
fn load4(in_vector: &[i32; 64], start: usize) -> v128 {
    let lanes = &in_vector[start..start + 4];
    // SAFETY: `lanes` is four `i32`s, 16 bytes; v128 loads need no alignment.
    unsafe { v128_load(lanes.as_ptr().cast()) }
}

/// Clamps one output row to 0..=255 and stores it as eight `i16`s at `pos`.
///
/// # Safety
/// `out_vector` must hold `pos + 8` elements.
#[inline(always)]
unsafe fn store_row(out_vector: &mut [i16], pos: usize, lo: v128, hi: v128) {
    // Saturating to i16, then to 0..=255: the scalar clamp of the i32.
    let row = i16x8_narrow_i32x4(lo, hi);
    let row = i16x8_min(i16x8_max(row, i16x8_splat(0)), i16x8_splat(255));
    // SAFETY: the caller guarantees eight `i16`s (16 bytes) from `pos`;
    // v128 stores need no alignment.
    unsafe { v128_store(out_vector.as_mut_ptr().add(pos).cast(), row) };
}

/// Both passes of the IDCT; `lo[r]` and `hi[r]` are columns 0–3 and 4–7 of
/// row `r`. Written out in full, without loops over registers (LLVM keeps
/// arrays of `v128` indexed in loops in linear memory) and without a branch
/// between the stores (Cranelift would compute the shared values again in
/// each branch).
///
/// # Safety
/// `out_vector` must hold `7 * stride + 8` elements.
#[inline(always)]
unsafe fn idct_rows(lo: [v128; 8], hi: [v128; 8], out_vector: &mut [i16], stride: usize) {
    // First pass: down the columns, four at a time.
    let lo = pass(lo, 512, 10);
    let hi = pass(hi, 512, 10);
    // Transposed: `cN_top` is column N of rows 0–3, `cN_bottom` of rows 4–7.
    let [c0_top, c1_top, c2_top, c3_top] = transpose4(lo[0], lo[1], lo[2], lo[3]);
    let [c0_bottom, c1_bottom, c2_bottom, c3_bottom] = transpose4(lo[4], lo[5], lo[6], lo[7]);
    let [c4_top, c5_top, c6_top, c7_top] = transpose4(hi[0], hi[1], hi[2], hi[3]);
    let [c4_bottom, c5_bottom, c6_bottom, c7_bottom] = transpose4(hi[4], hi[5], hi[6], hi[7]);
    // Second pass: along the rows, four rows at a time.
    let top = pass(
        [c0_top, c1_top, c2_top, c3_top, c4_top, c5_top, c6_top, c7_top],
        SCALE_BITS,
        17,
    );
    let bottom = pass(
        [
            c0_bottom, c1_bottom, c2_bottom, c3_bottom, c4_bottom, c5_bottom, c6_bottom,
            c7_bottom,
        ],
        SCALE_BITS,
        17,
    );
    // Back to rows.
    let [r0_lo, r1_lo, r2_lo, r3_lo] = transpose4(top[0], top[1], top[2], top[3]);
    let [r0_hi, r1_hi, r2_hi, r3_hi] = transpose4(top[4], top[5], top[6], top[7]);
    let [r4_lo, r5_lo, r6_lo, r7_lo] = transpose4(bottom[0], bottom[1], bottom[2], bottom[3]);
    let [r4_hi, r5_hi, r6_hi, r7_hi] = transpose4(bottom[4], bottom[5], bottom[6], bottom[7]);
    // SAFETY: the caller guarantees all eight rows.
    unsafe {
        store_row(out_vector, 0, r0_lo, r0_hi);
        store_row(out_vector, stride, r1_lo, r1_hi);
        store_row(out_vector, 2 * stride, r2_lo, r2_hi);
        store_row(out_vector, 3 * stride, r3_lo, r3_hi);
        store_row(out_vector, 4 * stride, r4_lo, r4_hi);
        store_row(out_vector, 5 * stride, r5_lo, r5_hi);
        store_row(out_vector, 6 * stride, r6_lo, r6_hi);
        store_row(out_vector, 7 * stride, r7_lo, r7_hi);
    }
}

/// The block as columns 0–3 and columns 4–7 of each row.
#[inline(always)]
fn load(in_vector: &[i32; 64]) -> ([v128; 8], [v128; 8]) {
    (
        [
            load4(in_vector, 0),
            load4(in_vector, 8),
            load4(in_vector, 16),
            load4(in_vector, 24),
            load4(in_vector, 32),
            load4(in_vector, 40),
            load4(in_vector, 48),
            load4(in_vector, 56),
        ],
        [
            load4(in_vector, 4),
            load4(in_vector, 12),
            load4(in_vector, 20),
            load4(in_vector, 28),
            load4(in_vector, 36),
            load4(in_vector, 44),
            load4(in_vector, 52),
            load4(in_vector, 60),
        ],
    )
}

/// The full IDCT, bit-identical to [`super::scalar::idct_int`].
pub fn idct_simd128(in_vector: &mut [i32; 64], out_vector: &mut [i16], stride: usize) {
    let (lo, hi) = load(in_vector);
    // AC terms all zero: the scalar code's DC-only shortcut (which rounds differently).
    let ac = v128_or(
        v128_or(
            v128_or(v128_and(lo[0], i32x4(0, -1, -1, -1)), hi[0]),
            v128_or(v128_or(lo[1], hi[1]), v128_or(lo[2], hi[2])),
        ),
        v128_or(
            v128_or(v128_or(lo[3], hi[3]), v128_or(lo[4], hi[4])),
            v128_or(
                v128_or(v128_or(lo[5], hi[5]), v128_or(lo[6], hi[6])),
                v128_or(lo[7], hi[7]),
            ),
        ),
    );
    if !v128_any_true(ac) {
        return idct_int_1x1(in_vector, out_vector, stride);
    }
    if !holds_block(out_vector, stride) {
        // A bad image's short buffer: the scalar code skips the rows past its end.
        return super::scalar::idct_int(in_vector, out_vector, stride);
    }
    // SAFETY: checked just above.
    unsafe { idct_rows(lo, hi, out_vector, stride) };
}

/// Whether `out_vector` has room for eight rows of eight at `stride`.
#[inline(always)]
fn holds_block(out_vector: &[i16], stride: usize) -> bool {
    stride
        .checked_mul(7)
        .and_then(|last| last.checked_add(8))
        .is_some_and(|len| len <= out_vector.len())
}

/// The IDCT of a block whose coefficients outside the upper-left 4x4 are
/// zero, bit-identical to [`super::scalar::idct4x4`] (whose formulas are
/// the full IDCT's with those zeros folded in, modulo 2^32). Leaves the
/// input untouched, so it stays zero outside the 4x4 corner.
pub fn idct4x4_simd128(in_vector: &mut [i32; 64], out_vector: &mut [i16], stride: usize) {
    if !holds_block(out_vector, stride) {
        return super::scalar::idct4x4(in_vector, out_vector, stride);
    }
    let (lo, hi) = load(in_vector);
    // SAFETY: checked just above.
    unsafe { idct_rows(lo, hi, out_vector, stride) };
}
