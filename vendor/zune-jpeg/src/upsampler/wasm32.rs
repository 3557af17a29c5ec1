/*
 * Copyright (c) 2023.
 *
 * This software is free software;
 *
 * You can redistribute it or modify it under terms of the MIT, Apache License or Zlib license
 */

//! WebAssembly SIMD128 upsampling (cloudfn addition, see `CLOUDFN.md`).
//!
//! `portable_simd.rs` written with `core::arch::wasm32` (stable Rust): the
//! scalar code's wrapping `i16` arithmetic, 16 samples per step as two
//! `i16x8`s, so the output is bit-identical to [`super::scalar`]. Besides
//! the vector width, a step per 16 samples means one epoch check (wasmtime's
//! interruption, at every loop back-edge) where the scalar loops had 16.

#![cfg(all(target_arch = "wasm32", target_feature = "simd128"))]

use core::arch::wasm32::*;

/// Loads eight `i16`s from `lanes[start..start + 8]`.
#[inline(always)]
fn load8(lanes: &[i16], start: usize) -> v128 {
    let lanes = &lanes[start..start + 8];
    // SAFETY: eight `i16`s, 16 bytes; v128 loads need no alignment.
    unsafe { v128_load(lanes.as_ptr().cast()) }
}

/// Stores eight `i16`s at `lanes[start..start + 8]`.
#[inline(always)]
fn store8(lanes: &mut [i16], start: usize, v: v128) {
    let lanes = &mut lanes[start..start + 8];
    // SAFETY: eight `i16`s, 16 bytes; v128 stores need no alignment.
    unsafe { v128_store(lanes.as_mut_ptr().cast(), v) }
}

/// `(3 * near + 2 + far) >> 2` lane by lane, in wrapping `i16` as the scalar code.
#[inline(always)]
fn triangle(near: v128, far: v128) -> v128 {
    let common = i16x8_add(i16x8_mul(near, i16x8_splat(3)), i16x8_splat(2));
    i16x8_shr(i16x8_add(common, far), 2)
}

/// Output samples 2..34 of a horizontal upsampling from 18 input samples.
#[inline(always)]
fn horizontal16(input: &[i16; 18], output: &mut [i16; 32]) {
    for half in 0..2 {
        let prev = load8(input, 8 * half);
        let curr = load8(input, 8 * half + 1);
        let next = load8(input, 8 * half + 2);
        let even = triangle(curr, prev);
        let odd = triangle(curr, next);
        store8(output, 16 * half, i16x8_shuffle::<0, 8, 1, 9, 2, 10, 3, 11>(even, odd));
        store8(output, 16 * half + 8, i16x8_shuffle::<4, 12, 5, 13, 6, 14, 7, 15>(even, odd));
    }
}

/// As [`super::scalar::upsample_horizontal`].
pub fn upsample_horizontal_simd128(
    input: &[i16], in_near: &[i16], in_far: &[i16], scratch: &mut [i16], output: &mut [i16]
) {
    assert_eq!(input.len() * 2, output.len());
    assert!(input.len() > 2);

    let len = input.len();

    if len < 18 {
        return super::scalar::upsample_horizontal(input, in_near, in_far, scratch, output);
    }

    // First two pixels
    output[0] = input[0];
    output[1] = (input[0] * 3 + input[1] + 2) >> 2;

    for (input, output) in input
        .windows(18)
        .step_by(16)
        .zip(output[2..].chunks_exact_mut(32))
    {
        horizontal16(input.try_into().unwrap(), output.try_into().unwrap());
    }

    // The remainder. This may overlap what is done, with the same values.
    if let Some(rest_input) = input.last_chunk::<18>() {
        let end = output.len() - 2;
        if let Some(rest_output) = output[..end].last_chunk_mut::<32>() {
            horizontal16(rest_input, rest_output);
        }
    }

    // Last two pixels.
    output[output.len() - 2] = (3 * input[len - 1] + input[len - 2] + 2) >> 2;
    output[output.len() - 1] = input[len - 1];
}

/// As [`super::scalar::upsample_vertical`].
pub fn upsample_vertical_simd128(
    input: &[i16], in_near: &[i16], in_far: &[i16], scratch_space: &mut [i16], output: &mut [i16]
) {
    assert_eq!(input.len() * 2, output.len());
    assert_eq!(in_near.len(), input.len());
    assert_eq!(in_far.len(), input.len());

    let len = input.len();

    if len < 16 {
        return super::scalar::upsample_vertical(input, in_near, in_far, scratch_space, output);
    }

    let (out_top, out_bottom) = output.split_at_mut(len);
    let vertical16 = |start: usize, out_top: &mut [i16], out_bottom: &mut [i16]| {
        for lane in [start, start + 8] {
            let curr = load8(input, lane);
            store8(out_top, lane, triangle(curr, load8(in_near, lane)));
            store8(out_bottom, lane, triangle(curr, load8(in_far, lane)));
        }
    };
    for start in (0..len - 15).step_by(16) {
        vertical16(start, out_top, out_bottom);
    }
    // The remainder. This may overlap what is done, with the same values.
    vertical16(len - 16, out_top, out_bottom);
}

/// As [`super::scalar::upsample_hv`].
pub fn upsample_hv_simd128(
    input: &[i16], in_near: &[i16], in_far: &[i16], scratch_space: &mut [i16], output: &mut [i16]
) {
    assert_eq!(input.len() * 4, output.len());

    assert!(input.len() * 2 <= scratch_space.len());
    let scratch_space = &mut scratch_space[..input.len() * 2];

    upsample_vertical_simd128(input, in_near, in_far, &mut [], scratch_space);

    let scratch_half = scratch_space.len() / 2;
    let output_half = output.len() / 2;

    let (scratch_top, scratch_bottom) = scratch_space.split_at_mut(scratch_half);
    let (out_top, out_bottom) = output.split_at_mut(output_half);

    let mut t = [0];
    upsample_horizontal_simd128(scratch_top, &[], &[], &mut t, out_top);
    upsample_horizontal_simd128(scratch_bottom, &[], &[], &mut t, out_bottom);
}
