//! Bilateral filter.

use super::*;
use crate::error::{Error, Result};
use crate::image::pixels::{GrayImage, ImageView};

/// Edge-preserving bilateral filter: each pixel becomes the average of its neighbours
/// weighted by spatial closeness and by similarity of grey value, so noise is smoothed
/// without blurring particle boundaries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BilateralParams {
    /// Spatial standard deviation in pixels; the window is a disc of radius ⌈2σ⌉.
    pub spatial_sigma: f64,
    /// Range standard deviation in the image's grey units (0–255 for 8-bit).
    pub range_sigma: f64,
}

impl BilateralParams {
    pub fn validate(&self) -> Result<()> {
        check_finite("bilateral spatial sigma", self.spatial_sigma)?;
        check_finite("bilateral range sigma", self.range_sigma)?;
        if self.spatial_sigma <= 0.0 || self.spatial_sigma > MAX_BILATERAL_SIGMA {
            return Err(Error::invalid(format!(
                "bilateral spatial sigma must be greater than 0 and at most \
                 {MAX_BILATERAL_SIGMA} pixels, got {}",
                self.spatial_sigma
            )));
        }
        if self.range_sigma <= 0.0 {
            return Err(Error::invalid(format!(
                "bilateral range sigma must be greater than 0 (grey units), got {}",
                self.range_sigma
            )));
        }
        Ok(())
    }

    /// Window radius: ⌈2σ⌉, at least 1.
    pub fn radius(&self) -> usize {
        ((2.0 * self.spatial_sigma).ceil() as usize).max(1)
    }
}

/// Range weights exp(-u²/2) tabulated for u = |Δ|/σ_r in [0, 6), linearly interpolated;
/// beyond 6σ the weight (< 2e-8) is taken as 0.
const RANGE_TABLE_STEPS: f32 = 512.0;
const RANGE_TABLE_MAX: f32 = 6.0;

/// Bilateral filter over a disc of radius ⌈2σ_s⌉ (as OpenCV's `bilateralFilter` with
/// `d = 2⌈2σ_s⌉ + 1` and `BORDER_REFLECT`).
pub fn bilateral(view: &ImageView, params: &BilateralParams) -> Result<GrayImage> {
    params.validate()?;
    view.ensure_finite()?;
    let (w, h) = (view.width(), view.height());
    let r = params.radius();
    let ri = r as isize;
    let values = gray_values(view);
    // Reflect-padded copy so every window reads plain offsets.
    let pw = w + 2 * r;
    let mut padded = vec![0f32; pw * (h + 2 * r)];
    for py in 0..h + 2 * r {
        let sy = reflect(py as isize - ri, h);
        for px in 0..pw {
            padded[py * pw + px] = values[sy * w + reflect(px as isize - ri, w)];
        }
    }
    let space_coeff = -0.5 / (params.spatial_sigma * params.spatial_sigma);
    let mut taps: Vec<(usize, f32)> = Vec::new();
    for dy in -ri..=ri {
        for dx in -ri..=ri {
            let d2 = (dx * dx + dy * dy) as f64;
            if d2 <= (r * r) as f64 {
                let offset = ((dy + ri) as usize) * pw + (dx + ri) as usize;
                taps.push((offset, (d2 * space_coeff).exp() as f32));
            }
        }
    }
    let n_table = (RANGE_TABLE_MAX * RANGE_TABLE_STEPS) as usize;
    let table: Vec<f32> = (0..=n_table + 1)
        .map(|i| {
            let u = i as f64 / RANGE_TABLE_STEPS as f64;
            if i >= n_table {
                0.0
            } else {
                (-0.5 * u * u).exp() as f32
            }
        })
        .collect();
    let scale = RANGE_TABLE_STEPS / params.range_sigma as f32;
    let limit = n_table as f32;
    let mut num = vec![0f32; w];
    let mut den = vec![0f32; w];
    let mut data = vec![0f32; w * h];
    for y in 0..h {
        num.fill(0.0);
        den.fill(0.0);
        let centre = &padded[(y + r) * pw + r..(y + r) * pw + r + w];
        for &(offset, ws) in &taps {
            let src = &padded[y * pw + offset..y * pw + offset + w];
            for x in 0..w {
                let v = src[x];
                let t = ((v - centre[x]).abs() * scale).min(limit);
                let i = t as usize;
                let f = t - i as f32;
                let wr = table[i] + f * (table[i + 1] - table[i]);
                let wgt = ws * wr;
                num[x] += wgt * v;
                den[x] += wgt;
            }
        }
        for (o, (n, d)) in data[y * w..(y + 1) * w]
            .iter_mut()
            .zip(num.iter().zip(&den))
        {
            *o = n / d;
        }
    }
    Ok(GrayImage {
        width: w,
        height: h,
        data,
    })
}
