//! Noise fields and small numeric helpers shared by the scenes.

use super::rng::Rng;
use crate::analysis::filters::{gaussian, GaussianParams};
use crate::image::pixels::{ImageView, Pixels};

// ---------------------------------------------------------------------------------------
// Noise fields and filters
// ---------------------------------------------------------------------------------------

/// Uniform value in [0, 1) from two integers (SplitMix64 finaliser), for noise that
/// must be addressed by key rather than drawn in sequence.
#[inline]
pub(super) fn hash_unit(key: u64, j: u64) -> f32 {
    let mut z = key ^ j.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 40) as f32 * (1.0 / 16_777_216.0)
}

/// exp(−t²), exactly zero beyond |t| = 4 (avoids slow underflow paths).
#[inline]
pub(super) fn gauss_profile(t: f32) -> f32 {
    if t.abs() < 4.0 {
        (-t * t).exp()
    } else {
        0.0
    }
}

/// Floor without a libm call (values well inside the i32 range).
#[inline]
pub(super) fn fast_floor(x: f32) -> f32 {
    let i = x as i32 as f32;
    if i > x {
        i - 1.0
    } else {
        i
    }
}

#[inline]
pub(super) fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Smooth value noise in [−1, 1] with features about `cell` pixels across.
pub(super) fn value_noise(w: usize, h: usize, cell: f32, rng: &mut Rng) -> Vec<f32> {
    value_noise_xy(w, h, cell, cell, rng)
}

/// Value noise with features `cell_x` pixels long horizontally and `cell_y` vertically
/// (streaks when they differ).
pub(super) fn value_noise_xy(
    w: usize,
    h: usize,
    cell_x: f32,
    cell_y: f32,
    rng: &mut Rng,
) -> Vec<f32> {
    let (cell_x, cell_y) = (cell_x.max(1.0), cell_y.max(1.0));
    let gw = (w as f32 / cell_x).ceil() as usize + 2;
    let gh = (h as f32 / cell_y).ceil() as usize + 2;
    let lattice: Vec<f32> = (0..gw * gh).map(|_| rng.unit() * 2.0 - 1.0).collect();
    let (ox, oy) = (rng.unit(), rng.unit());
    let fade = |t: f32| t * t * (3.0 - 2.0 * t);
    let cols: Vec<(usize, f32)> = (0..w)
        .map(|x| {
            let f = x as f32 / cell_x + ox;
            let i = f.floor();
            ((i as usize).min(gw - 2), fade(f - i))
        })
        .collect();
    let mut out = vec![0.0f32; w * h];
    let mut mixed = vec![0.0f32; gw];
    for (y, row) in out.chunks_exact_mut(w).enumerate() {
        let f = y as f32 / cell_y + oy;
        let iy = (f.floor() as usize).min(gh - 2);
        let ty = fade(f - f.floor());
        let r0 = &lattice[iy * gw..(iy + 1) * gw];
        let r1 = &lattice[(iy + 1) * gw..(iy + 2) * gw];
        for ((m, &a), &b) in mixed.iter_mut().zip(r0).zip(r1) {
            *m = a + (b - a) * ty;
        }
        for (o, &(ix, tx)) in row.iter_mut().zip(&cols) {
            let a = mixed[ix];
            *o = a + (mixed[ix + 1] - a) * tx;
        }
    }
    out
}

/// Fractal sum of value noise: `octaves` layers, each half the size and amplitude of
/// the previous, normalised to about [−1, 1].
pub(super) fn fbm(w: usize, h: usize, cell: f32, octaves: usize, rng: &mut Rng) -> Vec<f32> {
    let mut out = value_noise(w, h, cell, rng);
    let mut amp = 1.0;
    let mut total = 1.0;
    for k in 1..octaves {
        amp *= 0.5;
        total += amp;
        let layer = value_noise(w, h, cell / (1 << k) as f32, rng);
        for (o, l) in out.iter_mut().zip(&layer) {
            *o += amp * l;
        }
    }
    for o in &mut out {
        *o /= total;
    }
    out
}

/// Gaussian blur of a row-major `w × h` field in place, through the core's one Gaussian
/// ([`crate::analysis::filters::gaussian`]); sigmas of 0.2 px or less leave it unchanged.
pub(super) fn blur(data: &mut [f32], w: usize, h: usize, sigma: f32) {
    if sigma <= 0.2 {
        return;
    }
    let params = GaussianParams {
        sigma: f64::from(sigma),
    };
    // The view is finite and the sigma in range, so the filter cannot fail; keep the
    // field unchanged rather than panic if it ever does.
    if let Ok(view) = ImageView::new(w, h, Pixels::Gray32(data)) {
        if let Ok(blurred) = gaussian(&view, &params) {
            data.copy_from_slice(&blurred.data);
        }
    }
}
