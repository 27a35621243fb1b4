//! The randomised SEM image-formation model applied to a shaded scene.

use super::noise::*;
use super::rng::Rng;
use super::scene::Ctx;

// Image formation
// ---------------------------------------------------------------------------------------

/// Applies contrast standardisation, uneven illumination and charging, gamma, the
/// point-spread function, scan jitter, shot and detector noise and scan-line artefacts.
pub(super) fn form_image(data: &mut [f32], ctx: &Ctx, rng: &mut Rng) {
    let (w, h) = (ctx.w, ctx.h);

    // 1. Random brightness and contrast, so that mean grey is no class cue: the mean
    //    goes to a random level, and the 1st–99th percentile range to a random span
    //    (percentiles rather than the standard deviation, so that a faint background
    //    texture is not blown up when the structure covers little of the field).
    let mean = (data.iter().map(|&v| v as f64).sum::<f64>() / data.len() as f64) as f32;
    let stride = (data.len() / 65_536).max(1);
    let mut sample: Vec<f32> = data.iter().step_by(stride).copied().collect();
    let last = sample.len() - 1;
    let p_lo = *sample.select_nth_unstable_by(last / 100, f32::total_cmp).1;
    let p_hi = *sample
        .select_nth_unstable_by(last - last / 100, f32::total_cmp)
        .1;
    //    Real micrographs are often stretched until the brightest features saturate
    //    (the UHCS fields' 99th percentile is white) and bright-field TEM panels sit high
    //    on the grey scale, so the span reaches the full range and up to 10 % of the
    //    range may clip at either end.
    let target_mean = rng.range(0.25, 0.7);
    let span = rng.range(0.35, 1.0);
    let mut k = span / (p_hi - p_lo).max(1e-6);
    if p_hi > mean {
        k = k.min((1.1 - target_mean) / (p_hi - mean));
    }
    if mean > p_lo {
        k = k.min((target_mean + 0.1) / (mean - p_lo));
    }
    for v in data.iter_mut() {
        *v = target_mean + (*v - mean) * k;
    }

    // 2. Uneven illumination (linear ramp + smooth blotches) and charging glow.
    let side = ctx.w.max(ctx.h) as f32;
    let ramp_amp = rng.range(0.0, 0.25);
    let ramp_dir = rng.angle();
    let (rs, rc) = ramp_dir.sin_cos();
    let blotch_amp = rng.range(0.0, 0.15);
    let blotch = fbm(w, h, side * rng.range(0.2, 0.6), 2, rng);
    let glow_amp = rng.range_or(0.4, (0.02, 0.15), 0.0);
    let glow = if glow_amp > 0.0 {
        Some(fbm(w, h, side * rng.range(0.15, 0.4), 2, rng))
    } else {
        None
    };
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let t = ((x as f32 - cx) * rc + (y as f32 - cy) * rs) / side;
            let mut gain = 1.0 + ramp_amp * t + blotch_amp * blotch[i];
            gain = gain.max(0.2);
            let mut v = data[i] * gain;
            if let Some(g) = &glow {
                v += glow_amp * g[i].max(0.0) * 2.0;
            }
            data[i] = v;
        }
    }

    // 3. Gamma.
    let gamma = rng.range(-0.35, 0.35).exp();
    const STEPS: usize = 1024;
    let lut: Vec<f32> = (0..=STEPS + 1)
        .map(|k| (k.min(STEPS) as f32 / STEPS as f32).powf(gamma))
        .collect();
    for v in data.iter_mut() {
        let t = v.clamp(0.0, 1.0) * STEPS as f32;
        let k = t as usize;
        *v = lut[k] + (lut[k + 1] - lut[k]) * (t - k as f32);
    }

    // 4. Point-spread function.
    let sigma = rng.range(0.4, 1.6) * (side / 1024.0).clamp(0.5, 1.5).sqrt();
    blur(data, w, h, sigma);

    // 5. Scan jitter: rows displaced sideways by a slowly wandering offset.
    let jitter_amp = rng.range_or(0.5, (0.1, 1.2), 0.0);
    if jitter_amp > 0.0 {
        let mut offset = 0.0f32;
        let mut row = vec![0.0f32; w];
        for y in 0..h {
            offset = 0.8 * offset + 0.6 * jitter_amp * rng.normal();
            let shift = offset.clamp(-3.0, 3.0);
            let src = &data[y * w..(y + 1) * w];
            for (x, out) in row.iter_mut().enumerate() {
                let sx = (x as f32 - shift).clamp(0.0, (w - 1) as f32);
                let x0 = sx.floor() as usize;
                let x1 = (x0 + 1).min(w - 1);
                let f = sx - x0 as f32;
                *out = src[x0] + (src[x1] - src[x0]) * f;
            }
            data[y * w..(y + 1) * w].copy_from_slice(&row);
        }
    }

    // 6. Shot noise (signal-dependent) and detector noise, slightly correlated along
    //    the scan direction.
    //    Down to the near-noiseless frames of long dwell times and of published figure
    //    panels (the real particle panels' pixel noise is under 0.01 of the range).
    let electrons = rng.log_range(25.0, 30_000.0);
    let detector = rng.log_range(0.001, 0.025);
    let corr = rng.range(0.0, 0.5);
    let norm = 1.0 / (1.0 + 2.0 * corr * corr).sqrt();
    let mut prev = rng.fast_normal();
    let mut cur = rng.fast_normal();
    for y in 0..h {
        for x in 0..w {
            let next = rng.fast_normal();
            let n = (cur + corr * (prev + next)) * norm;
            prev = cur;
            cur = next;
            let i = y * w + x;
            let v = data[i].max(0.0);
            data[i] = v + (v / electrons).sqrt() * n + detector * rng.fast_normal();
        }
    }

    // 7. Scan-line artefacts: per-row offset and gain jitter, a few glitch lines.
    let row_offset = rng.range(0.0, 0.02);
    let row_gain = rng.range(0.0, 0.03);
    let glitches = if rng.chance(0.3) { rng.int(1, 4) } else { 0 };
    let mut offsets: Vec<f32> = (0..h).map(|_| row_offset * rng.normal()).collect();
    let gains: Vec<f32> = (0..h).map(|_| 1.0 + row_gain * rng.normal()).collect();
    for _ in 0..glitches {
        let y = rng.below(h);
        let len = rng.int(1, 3);
        let amp = rng.sign() * rng.range(0.03, 0.12);
        for o in offsets.iter_mut().skip(y).take(len) {
            *o += amp;
        }
    }
    for y in 0..h {
        let (g, o) = (gains[y], offsets[y]);
        for v in &mut data[y * w..(y + 1) * w] {
            *v = (*v * g + o).clamp(0.0, 1.0);
        }
    }
}

/// Stretches values linearly onto [0, 1] (constant images become 0.5).
pub(super) fn stretch_unit(data: &mut [f32]) {
    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
    for &v in data.iter() {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if hi - lo < 1e-9 {
        data.fill(0.5);
    } else {
        // Divide rather than multiply by the reciprocal: (hi − lo) / (hi − lo) is exactly
        // 1, while (hi − lo) × (1 / (hi − lo)) can round to just below it.
        let span = hi - lo;
        for v in data.iter_mut() {
            *v = ((*v - lo) / span).clamp(0.0, 1.0);
        }
    }
}
