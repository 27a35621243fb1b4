//! Preprocessing filters: median, Gaussian, bilateral, CLAHE, background subtraction
//! and contrast stretching.
//!
//! Every filter takes an [`ImageView`] of any supported type and returns a [`GrayImage`]
//! (`f32`, in the input's grey units) so filters can be chained without losing precision;
//! [`to_input_depth`] / [`to_bit_depth`] convert the result back for display or saving.
//! Borders are handled by half-sample symmetric reflection (`dcba|abcd`, scipy's
//! `mode="reflect"`, OpenCV's `BORDER_REFLECT`) unless a filter says otherwise, so that
//! results can be checked against those libraries.

use crate::error::{Error, Result};
use crate::image::pixels::{GrayImage, ImageView, OwnedImage, OwnedPixels, Pixels};

/// Largest median radius accepted: the window is (2r+1)² pixels and anything larger
/// than this is almost certainly a typo.
pub const MAX_MEDIAN_RADIUS: usize = 500;
/// Largest Gaussian sigma accepted, in pixels.
pub const MAX_SIGMA: f64 = 1000.0;
/// Largest bilateral spatial sigma accepted; the cost grows with sigma², so larger
/// values would run for minutes on an ordinary micrograph.
pub const MAX_BILATERAL_SIGMA: f64 = 50.0;
/// Largest background radius accepted, in pixels.
pub const MAX_BACKGROUND_RADIUS: f64 = 100_000.0;
/// Largest number of CLAHE tiles along one side.
pub const MAX_CLAHE_TILES: usize = 256;

/// Kernel half-width in sigmas for the Gaussian (as scipy's default `truncate=4.0`).
const GAUSSIAN_TRUNCATE: f64 = 4.0;

fn check_finite(name: &str, value: f64) -> Result<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "{name} must be a finite number, got {value}"
        )))
    }
}

/// Reflects an index into `0..n` (half-sample symmetric, periodic with period 2n so
/// windows larger than the image still work).
#[inline]
pub(crate) fn reflect(i: isize, n: usize) -> usize {
    let n = n as isize;
    let m = i.rem_euclid(2 * n);
    (if m >= n { 2 * n - 1 - m } else { m }) as usize
}

/// Grey values of a view as `f32` (RGB through [`crate::image::pixels::rgb_luminance`]).
pub(crate) fn gray_values(view: &ImageView) -> Vec<f32> {
    match view.pixels() {
        Pixels::Gray8(p) => p.iter().map(|&v| v as f32).collect(),
        Pixels::Gray16(p) => p.iter().map(|&v| v as f32).collect(),
        Pixels::Gray32(p) => p.to_vec(),
        Pixels::PackedRgb(p) => p
            .iter()
            .map(|&v| crate::image::pixels::rgb_luminance(v))
            .collect(),
    }
}

/// Fills `row` with the grey values of row `y`.
pub(crate) fn gray_row(view: &ImageView, y: usize, row: &mut [f32]) {
    let w = view.width();
    let start = y * w;
    match view.pixels() {
        Pixels::Gray8(p) => row
            .iter_mut()
            .zip(&p[start..start + w])
            .for_each(|(o, &v)| *o = v as f32),
        Pixels::Gray16(p) => row
            .iter_mut()
            .zip(&p[start..start + w])
            .for_each(|(o, &v)| *o = v as f32),
        Pixels::Gray32(p) => row.copy_from_slice(&p[start..start + w]),
        Pixels::PackedRgb(p) => row
            .iter_mut()
            .zip(&p[start..start + w])
            .for_each(|(o, &v)| *o = crate::image::pixels::rgb_luminance(v)),
    }
}

// ---------------------------------------------------------------------------------------
// Separable filtering shared by the Gaussian and by the clustering features.

/// Normalised Gaussian kernel of length 2r+1 with r = round(4σ), as scipy builds it.
pub(crate) fn gaussian_kernel(sigma: f64) -> Vec<f32> {
    let radius = (GAUSSIAN_TRUNCATE * sigma + 0.5) as isize;
    let weights: Vec<f64> = (-radius..=radius)
        .map(|x| (-0.5 * (x as f64 / sigma).powi(2)).exp())
        .collect();
    let sum: f64 = weights.iter().sum();
    weights.iter().map(|w| (w / sum) as f32).collect()
}

/// Rows `y0..y1` of the separable filter `kernel` ⊗ `kernel` (odd length, symmetric)
/// applied to an image whose rows `row_source(y, buf)` provides, with reflected borders.
/// Only the rows the output needs are read, so callers can stream large images in
/// blocks. `out` holds `(y1 - y0) * width` values.
pub(crate) fn separable_rows(
    width: usize,
    height: usize,
    kernel: &[f32],
    row_source: &mut dyn FnMut(usize, &mut [f32]),
    y0: usize,
    y1: usize,
    out: &mut [f32],
) {
    debug_assert!(kernel.len() % 2 == 1 && y0 < y1 && y1 <= height);
    debug_assert!(kernel.iter().eq(kernel.iter().rev()), "symmetric kernel");
    debug_assert_eq!(out.len(), (y1 - y0) * width);
    let r = kernel.len() / 2;
    // Source rows that reflection can reach from the block.
    let lo = y0.saturating_sub(r);
    let hi = (y1 + r).min(height);
    let (lo, hi) = if r >= height { (0, height) } else { (lo, hi) };
    let mut padded = vec![0f32; width + 2 * r];
    let mut tmp = vec![0f32; (hi - lo) * width];
    // Source column of each padded position outside the row (the inside is copied).
    let left: Vec<usize> = (0..r)
        .map(|j| reflect(j as isize - r as isize, width))
        .collect();
    let right: Vec<usize> = (0..r)
        .map(|j| reflect((width + j) as isize, width))
        .collect();
    for (i, y) in (lo..hi).enumerate() {
        let (head, rest) = padded.split_at_mut(r);
        let (middle, tail) = rest.split_at_mut(width);
        row_source(y, middle);
        head.iter_mut()
            .zip(&left)
            .for_each(|(p, &x)| *p = middle[x]);
        tail.iter_mut()
            .zip(&right)
            .for_each(|(p, &x)| *p = middle[x]);
        let dst = &mut tmp[i * width..(i + 1) * width];
        convolve_row(&padded, kernel, dst);
    }
    let mut rows: Vec<&[f32]> = Vec::with_capacity(kernel.len());
    for (i, y) in (y0..y1).enumerate() {
        rows.clear();
        rows.extend((0..kernel.len()).map(|k| {
            let sy = reflect(y as isize + k as isize - r as isize, height) - lo;
            &tmp[sy * width..(sy + 1) * width]
        }));
        let dst = &mut out[i * width..(i + 1) * width];
        combine_rows(&rows, kernel, dst);
    }
}

/// `dst[x] = Σ_k kernel[k] · padded[x + k]` for a symmetric kernel: mirrored taps are
/// added before multiplying (half the multiplications).
fn convolve_row(padded: &[f32], kernel: &[f32], dst: &mut [f32]) {
    let r = kernel.len() / 2;
    let n = dst.len();
    let centre = &padded[r..r + n];
    dst.iter_mut()
        .zip(centre)
        .for_each(|(d, &v)| *d = kernel[r] * v);
    for k in 1..=r {
        let (a, b) = (&padded[r - k..r - k + n], &padded[r + k..r + k + n]);
        let wk = kernel[r + k];
        dst.iter_mut()
            .zip(a.iter().zip(b))
            .for_each(|(d, (&u, &v))| *d += wk * (u + v));
    }
}

/// `dst[x] = Σ_k kernel[k] · rows[k][x]` for a symmetric kernel, as [`convolve_row`].
fn combine_rows(rows: &[&[f32]], kernel: &[f32], dst: &mut [f32]) {
    let r = kernel.len() / 2;
    dst.iter_mut()
        .zip(rows[r])
        .for_each(|(d, &v)| *d = kernel[r] * v);
    for k in 1..=r {
        let wk = kernel[r + k];
        dst.iter_mut()
            .zip(rows[r - k].iter().zip(rows[r + k]))
            .for_each(|(d, (&u, &v))| *d += wk * (u + v));
    }
}

// ---------------------------------------------------------------------------------------
// Median

/// Median filter over a square (2r+1)×(2r+1) window (scipy `median_filter(size=2r+1)`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MedianParams {
    pub radius: usize,
}

impl Default for MedianParams {
    fn default() -> Self {
        Self { radius: 2 }
    }
}

impl MedianParams {
    pub fn validate(&self) -> Result<()> {
        if self.radius == 0 || self.radius > MAX_MEDIAN_RADIUS {
            return Err(Error::invalid(format!(
                "median radius must be between 1 and {MAX_MEDIAN_RADIUS} pixels, got {}",
                self.radius
            )));
        }
        Ok(())
    }
}

/// Median filter. 8- and 16-bit images, and any image with at most 65 536 distinct
/// grey levels, use a sliding two-level histogram (Huang's algorithm with a coarse
/// histogram on top), so the cost per pixel grows with the radius, not its square.
/// Float images with more distinct levels fall back to a selection window.
pub fn median(view: &ImageView, params: &MedianParams) -> Result<GrayImage> {
    params.validate()?;
    view.ensure_finite()?;
    let (w, h, r) = (view.width(), view.height(), params.radius);
    let data = match view.pixels() {
        Pixels::Gray8(p) => {
            let ranks: Vec<u32> = p.iter().map(|&v| v as u32).collect();
            let out = histogram_median(&ranks, w, h, r, 8);
            out.into_iter().map(|v| v as f32).collect()
        }
        Pixels::Gray16(p) => {
            let ranks: Vec<u32> = p.iter().map(|&v| v as u32).collect();
            let out = histogram_median(&ranks, w, h, r, 16);
            out.into_iter().map(|v| v as f32).collect()
        }
        Pixels::Gray32(_) | Pixels::PackedRgb(_) => {
            let values = gray_values(view);
            let mut levels = values.clone();
            levels.sort_unstable_by(f32::total_cmp);
            levels.dedup();
            if levels.len() <= 1 << 16 {
                let ranks: Vec<u32> = values
                    .iter()
                    .map(|v| levels.partition_point(|l| l < v) as u32)
                    .collect();
                let bits = (usize::BITS - (levels.len() - 1).leading_zeros()).max(2);
                let out = histogram_median(&ranks, w, h, r, bits);
                out.into_iter().map(|i| levels[i as usize]).collect()
            } else {
                selection_median(&values, w, h, r)
            }
        }
    };
    Ok(GrayImage {
        width: w,
        height: h,
        data,
    })
}

/// Sliding-window median on integer levels `0..2^bits`, visiting pixels in a snake
/// order so each step only swaps one column (or row) of 2r+1 values in and out.
fn histogram_median(levels: &[u32], w: usize, h: usize, r: usize, bits: u32) -> Vec<u32> {
    let coarse_bits = bits.div_ceil(2);
    let shift = bits - coarse_bits;
    let mut hist = TwoLevelHistogram {
        fine: vec![0; 1 << bits],
        coarse: vec![0; 1 << coarse_bits],
        shift,
        block: 0,
        below: 0,
    };
    let ri = r as isize;
    // Reflected coordinates for every offset the window can reach.
    let xs: Vec<usize> = (-ri - 1..w as isize + ri + 1)
        .map(|x| reflect(x, w))
        .collect();
    let ys: Vec<usize> = (-ri - 1..h as isize + ri + 1)
        .map(|y| reflect(y, h))
        .collect();
    let xi = |x: isize| xs[(x + ri + 1) as usize];
    let yi = |y: isize| ys[(y + ri + 1) as usize];
    let side = 2 * r + 1;
    let rank = (side * side / 2) as u32;

    let column = |hist: &mut TwoLevelHistogram, x: isize, y: isize, add: bool| {
        let sx = xi(x);
        for dy in -ri..=ri {
            hist.update(levels[yi(y + dy) * w + sx], add);
        }
    };
    let row = |hist: &mut TwoLevelHistogram, x: isize, y: isize, add: bool| {
        let base = yi(y) * w;
        for dx in -ri..=ri {
            hist.update(levels[base + xi(x + dx)], add);
        }
    };

    for dy in -ri..=ri {
        row(&mut hist, 0, dy, true);
    }
    let mut out = vec![0u32; w * h];
    let mut x: isize = 0;
    for y in 0..h as isize {
        let forward = y % 2 == 0;
        loop {
            out[y as usize * w + x as usize] = hist.select(rank);
            if forward {
                if x == w as isize - 1 {
                    break;
                }
                column(&mut hist, x - ri, y, false);
                column(&mut hist, x + ri + 1, y, true);
                x += 1;
            } else {
                if x == 0 {
                    break;
                }
                column(&mut hist, x + ri, y, false);
                column(&mut hist, x - ri - 1, y, true);
                x -= 1;
            }
        }
        if y + 1 < h as isize {
            row(&mut hist, x, y - ri, false);
            row(&mut hist, x, y + ri + 1, true);
        }
    }
    out
}

/// A fine histogram with a coarse one on top; `block` tracks the coarse bin holding the
/// median and `below` the count in lower coarse bins, so finding the median moves a few
/// coarse bins and then scans one block of fine bins.
struct TwoLevelHistogram {
    fine: Vec<u32>,
    coarse: Vec<u32>,
    shift: u32,
    block: usize,
    below: u32,
}

impl TwoLevelHistogram {
    #[inline]
    fn update(&mut self, v: u32, add: bool) {
        let b = (v >> self.shift) as usize;
        if add {
            self.fine[v as usize] += 1;
            self.coarse[b] += 1;
            if b < self.block {
                self.below += 1;
            }
        } else {
            self.fine[v as usize] -= 1;
            self.coarse[b] -= 1;
            if b < self.block {
                self.below -= 1;
            }
        }
    }

    /// The level of 0-based rank `rank` in the window.
    #[inline]
    fn select(&mut self, rank: u32) -> u32 {
        while self.below > rank {
            self.block -= 1;
            self.below -= self.coarse[self.block];
        }
        while self.below + self.coarse[self.block] <= rank {
            self.below += self.coarse[self.block];
            self.block += 1;
        }
        let start = self.block << self.shift;
        let mut acc = self.below;
        for (i, &c) in self.fine[start..start + (1 << self.shift)]
            .iter()
            .enumerate()
        {
            acc += c;
            if acc > rank {
                return (start + i) as u32;
            }
        }
        unreachable!("the coarse bin holds the median")
    }
}

/// Median by selection in each window; for float images with too many distinct levels
/// for a histogram. The cost grows with r².
fn selection_median(values: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let ri = r as isize;
    let mut window = Vec::with_capacity((2 * r + 1) * (2 * r + 1));
    let mut out = vec![0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            window.clear();
            for dy in -ri..=ri {
                let base = reflect(y as isize + dy, h) * w;
                for dx in -ri..=ri {
                    window.push(values[base + reflect(x as isize + dx, w)]);
                }
            }
            let mid = window.len() / 2;
            let (_, m, _) = window.select_nth_unstable_by(mid, f32::total_cmp);
            out[y * w + x] = *m;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Gaussian

/// Gaussian blur (scipy `gaussian_filter(sigma, mode="reflect", truncate=4.0)`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GaussianParams {
    /// Standard deviation in pixels.
    pub sigma: f64,
}

impl Default for GaussianParams {
    fn default() -> Self {
        Self { sigma: 2.0 }
    }
}

impl GaussianParams {
    pub fn validate(&self) -> Result<()> {
        check_finite("Gaussian sigma", self.sigma)?;
        if self.sigma <= 0.0 || self.sigma > MAX_SIGMA {
            return Err(Error::invalid(format!(
                "Gaussian sigma must be greater than 0 and at most {MAX_SIGMA} pixels, got {}",
                self.sigma
            )));
        }
        Ok(())
    }
}

/// Separable Gaussian blur, kernel truncated at 4σ, reflected borders.
pub fn gaussian(view: &ImageView, params: &GaussianParams) -> Result<GrayImage> {
    params.validate()?;
    view.ensure_finite()?;
    let (w, h) = (view.width(), view.height());
    let kernel = gaussian_kernel(params.sigma);
    let mut data = vec![0f32; w * h];
    separable_rows(
        w,
        h,
        &kernel,
        &mut |y, row| gray_row(view, y, row),
        0,
        h,
        &mut data,
    );
    Ok(GrayImage {
        width: w,
        height: h,
        data,
    })
}

// ---------------------------------------------------------------------------------------
// Bilateral

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

// ---------------------------------------------------------------------------------------
// CLAHE

/// Contrast-limited adaptive histogram equalisation with OpenCV's semantics
/// (`cv2.createCLAHE(clipLimit, tileGridSize)`): per-tile histograms (256 bins for 8-bit
/// and RGB, 65 536 for 16-bit), clipped at `clip_limit` × the mean bin count with the
/// excess spread over all bins, and bilinear interpolation between tile mappings.
/// Float images are mapped linearly from their min–max onto 16 bits and back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClaheParams {
    /// Number of tiles across.
    pub tiles_x: usize,
    /// Number of tiles down.
    pub tiles_y: usize,
    /// Clip limit relative to the mean histogram bin count (OpenCV's `clipLimit`).
    pub clip_limit: f64,
}

impl Default for ClaheParams {
    fn default() -> Self {
        Self {
            tiles_x: 8,
            tiles_y: 8,
            clip_limit: 2.0,
        }
    }
}

impl ClaheParams {
    pub fn validate(&self) -> Result<()> {
        for (name, n) in [("across", self.tiles_x), ("down", self.tiles_y)] {
            if n == 0 || n > MAX_CLAHE_TILES {
                return Err(Error::invalid(format!(
                    "CLAHE needs between 1 and {MAX_CLAHE_TILES} tiles {name}, got {n}"
                )));
            }
        }
        check_finite("CLAHE clip limit", self.clip_limit)?;
        if self.clip_limit <= 0.0 {
            return Err(Error::invalid(format!(
                "CLAHE clip limit must be greater than 0, got {}",
                self.clip_limit
            )));
        }
        Ok(())
    }

    fn validate_for(&self, w: usize, h: usize) -> Result<()> {
        self.validate()?;
        if self.tiles_x > w || self.tiles_y > h {
            return Err(Error::invalid(format!(
                "CLAHE tile grid {}×{} is finer than the {w}×{h} image",
                self.tiles_x, self.tiles_y
            )));
        }
        Ok(())
    }
}

/// CLAHE; see [`ClaheParams`]. The result stays in the input's grey units.
pub fn clahe(view: &ImageView, params: &ClaheParams) -> Result<GrayImage> {
    view.ensure_finite()?;
    let (w, h) = (view.width(), view.height());
    params.validate_for(w, h)?;
    let data = match view.pixels() {
        Pixels::Gray8(p) => {
            let levels: Vec<u32> = p.iter().map(|&v| v as u32).collect();
            clahe_levels(&levels, w, h, 256, params)
        }
        Pixels::PackedRgb(p) => {
            let levels: Vec<u32> = p
                .iter()
                .map(|&v| {
                    crate::image::pixels::rgb_luminance(v)
                        .round()
                        .clamp(0.0, 255.0) as u32
                })
                .collect();
            clahe_levels(&levels, w, h, 256, params)
        }
        Pixels::Gray16(p) => {
            let levels: Vec<u32> = p.iter().map(|&v| v as u32).collect();
            clahe_levels(&levels, w, h, 1 << 16, params)
        }
        Pixels::Gray32(p) => {
            let (lo, hi) = view.unit_range();
            if hi <= lo {
                p.to_vec()
            } else {
                let scale = 65535.0 / (hi as f64 - lo as f64);
                let levels: Vec<u32> = p
                    .iter()
                    .map(|&v| ((v as f64 - lo as f64) * scale).round() as u32)
                    .collect();
                clahe_levels(&levels, w, h, 1 << 16, params)
                    .into_iter()
                    .map(|v| (v as f64 / scale + lo as f64) as f32)
                    .collect()
            }
        }
    };
    Ok(GrayImage {
        width: w,
        height: h,
        data,
    })
}

fn clahe_levels(levels: &[u32], w: usize, h: usize, bins: usize, p: &ClaheParams) -> Vec<f32> {
    let (tx, ty) = (p.tiles_x, p.tiles_y);
    // OpenCV pads (reflect-101) when either side does not divide into whole tiles, and
    // then pads both sides by `tiles - side % tiles` (a whole extra tile row or column
    // when that side did divide); follow it so results agree.
    let (rx, ry) = (w % tx, h % ty);
    let (ew, eh) = if rx == 0 && ry == 0 {
        (w, h)
    } else {
        (w + tx - rx, h + ty - ry)
    };
    let reflect101 = |i: usize, n: usize| -> usize {
        if n == 1 {
            0
        } else {
            let period = 2 * (n - 1);
            let m = i % period;
            if m >= n {
                period - m
            } else {
                m
            }
        }
    };
    let (tw, th) = (ew / tx, eh / ty);
    let total = tw * th;
    let lut_scale = (bins - 1) as f32 / total as f32;
    let clip = ((p.clip_limit * total as f64 / bins as f64) as i64).max(1) as u32;
    let max_level = (bins - 1) as f32;
    let mut luts = vec![0f32; tx * ty * bins];
    let mut hist = vec![0u32; bins];
    for t in 0..tx * ty {
        let (cx, cy) = (t % tx, t / tx);
        hist.fill(0);
        for y in cy * th..(cy + 1) * th {
            let row = reflect101(y, h) * w;
            for x in cx * tw..(cx + 1) * tw {
                hist[levels[row + reflect101(x, w)] as usize] += 1;
            }
        }
        let mut clipped = 0u32;
        for c in hist.iter_mut() {
            if *c > clip {
                clipped += *c - clip;
                *c = clip;
            }
        }
        let batch = clipped / bins as u32;
        let mut residual = clipped as usize - batch as usize * bins;
        for c in hist.iter_mut() {
            *c += batch;
        }
        if let Some(step) = bins.checked_div(residual) {
            let step = step.max(1);
            let mut i = 0;
            while i < bins && residual > 0 {
                hist[i] += 1;
                i += step;
                residual -= 1;
            }
        }
        let lut = &mut luts[t * bins..(t + 1) * bins];
        let mut sum = 0u32;
        for (l, &c) in lut.iter_mut().zip(&hist) {
            sum += c;
            *l = (sum as f32 * lut_scale).round_ties_even().min(max_level);
        }
    }
    let (inv_tw, inv_th) = (1.0 / tw as f32, 1.0 / th as f32);
    let cols: Vec<(usize, usize, f32)> = (0..w)
        .map(|x| {
            let txf = x as f32 * inv_tw - 0.5;
            let t1 = txf.floor();
            let a = txf - t1;
            let t1 = t1 as isize;
            let lo = t1.max(0) as usize;
            let hi = ((t1 + 1) as usize).min(tx - 1);
            (lo, hi, a)
        })
        .collect();
    let mut out = vec![0f32; w * h];
    for y in 0..h {
        let tyf = y as f32 * inv_th - 0.5;
        let t1 = tyf.floor();
        let ya = tyf - t1;
        let t1 = t1 as isize;
        let r1 = t1.max(0) as usize * tx;
        let r2 = ((t1 + 1) as usize).min(ty - 1) * tx;
        for x in 0..w {
            let v = levels[y * w + x] as usize;
            let (c1, c2, xa) = cols[x];
            let l = |tile: usize| luts[tile * bins + v];
            let top = l(r1 + c1) * (1.0 - xa) + l(r1 + c2) * xa;
            let bottom = l(r2 + c1) * (1.0 - xa) + l(r2 + c2) * xa;
            out[y * w + x] = top * (1.0 - ya) + bottom * ya;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Background subtraction

/// Background subtraction with a *rolling paraboloid*: the background is the grey-level
/// opening of the image by the paraboloid z = −(dx² + dy²)/(2R), the osculating
/// paraboloid of ImageJ's rolling ball of radius R (grey units counted as pixels, as
/// ImageJ does). Unlike a ball the paraboloid is separable, so the opening is exact and
/// costs O(pixels) for any radius (Felzenszwalb–Huttenlocher lower envelopes). No
/// shrinking and no pre-smoothing are applied, unlike ImageJ's default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackgroundParams {
    /// Radius R of the ball the paraboloid approximates, in pixels; use a value larger
    /// than the largest object that is not background.
    pub radius: f64,
    /// Objects darker than a light background: the background is the closing instead
    /// of the opening, and the result is offset so the background becomes white.
    pub light_background: bool,
}

impl Default for BackgroundParams {
    fn default() -> Self {
        Self {
            radius: 50.0,
            light_background: false,
        }
    }
}

impl BackgroundParams {
    pub fn validate(&self) -> Result<()> {
        check_finite("background radius", self.radius)?;
        if self.radius <= 0.0 || self.radius > MAX_BACKGROUND_RADIUS {
            return Err(Error::invalid(format!(
                "background radius must be greater than 0 and at most \
                 {MAX_BACKGROUND_RADIUS} pixels, got {}",
                self.radius
            )));
        }
        Ok(())
    }
}

/// The background estimated by the rolling paraboloid (see [`BackgroundParams`]).
pub fn background(view: &ImageView, params: &BackgroundParams) -> Result<GrayImage> {
    params.validate()?;
    view.ensure_finite()?;
    let (w, h) = (view.width(), view.height());
    let mut data: Vec<f64> = gray_values(view).into_iter().map(f64::from).collect();
    let sign = if params.light_background { -1.0 } else { 1.0 };
    let c = 1.0 / (2.0 * params.radius);
    // Opening = erosion then dilation; dilation(f) = −erosion(−f). A closing flips signs.
    data.iter_mut().for_each(|v| *v *= sign);
    erode_parabolic(&mut data, w, h, c);
    data.iter_mut().for_each(|v| *v = -*v);
    erode_parabolic(&mut data, w, h, c);
    Ok(GrayImage {
        width: w,
        height: h,
        data: data.into_iter().map(|v| (-sign * v) as f32).collect(),
    })
}

/// Image minus its rolling-paraboloid background. For a dark background the result is
/// ≥ 0; for a light background it is offset so the background sits at white (255 for
/// 8-bit and RGB, 65 535 for 16-bit, the image maximum for 32-bit).
pub fn subtract_background(view: &ImageView, params: &BackgroundParams) -> Result<GrayImage> {
    let bg = background(view, params)?;
    let values = gray_values(view);
    let offset = if params.light_background {
        match view.pixels() {
            Pixels::Gray8(_) | Pixels::PackedRgb(_) => 255.0,
            Pixels::Gray16(_) => 65535.0,
            Pixels::Gray32(_) => view.unit_range().1,
        }
    } else {
        0.0
    };
    let data = values
        .iter()
        .zip(&bg.data)
        .map(|(&v, &b)| v - b + offset)
        .collect();
    Ok(GrayImage { data, ..bg })
}

/// In place: f(p) ← min_q f(q) + c·|p − q|², separably along rows then columns.
fn erode_parabolic(data: &mut [f64], w: usize, h: usize, c: f64) {
    let n = w.max(h);
    let mut env = LowerEnvelope::new(n);
    let mut line = vec![0f64; n];
    for y in 0..h {
        let row = &mut data[y * w..(y + 1) * w];
        line[..w].copy_from_slice(row);
        env.apply(&line[..w], row, c);
    }
    let mut col = vec![0f64; h];
    for x in 0..w {
        for y in 0..h {
            line[y] = data[y * w + x];
        }
        env.apply(&line[..h], &mut col, c);
        for y in 0..h {
            data[y * w + x] = col[y];
        }
    }
}

/// Lower envelope of parabolas c·(x − q)² + f(q) (Felzenszwalb & Huttenlocher 2012).
struct LowerEnvelope {
    vertex: Vec<usize>,
    bound: Vec<f64>,
}

impl LowerEnvelope {
    fn new(n: usize) -> Self {
        Self {
            vertex: vec![0; n],
            bound: vec![0.0; n + 1],
        }
    }

    fn apply(&mut self, f: &[f64], out: &mut [f64], c: f64) {
        let n = f.len();
        // Work with g = f / c so the parabolas are (x − q)² + g(q).
        let g = |q: usize| f[q] / c;
        let cross = |q: usize, p: usize| -> f64 {
            ((g(q) + (q * q) as f64) - (g(p) + (p * p) as f64)) / (2.0 * (q as f64 - p as f64))
        };
        let mut k = 0usize;
        self.vertex[0] = 0;
        self.bound[0] = f64::NEG_INFINITY;
        self.bound[1] = f64::INFINITY;
        for q in 1..n {
            let mut s = cross(q, self.vertex[k]);
            while s <= self.bound[k] {
                k -= 1;
                s = cross(q, self.vertex[k]);
            }
            k += 1;
            self.vertex[k] = q;
            self.bound[k] = s;
            self.bound[k + 1] = f64::INFINITY;
        }
        k = 0;
        for (x, o) in out.iter_mut().enumerate() {
            while self.bound[k + 1] < x as f64 {
                k += 1;
            }
            let q = self.vertex[k];
            let d = x as f64 - q as f64;
            *o = f[q] + c * d * d;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Contrast stretch

/// Linear contrast stretch like ImageJ's *Enhance Contrast* with *Normalize*: the grey
/// values below which and above which `saturated_percent / 2` % of the pixels lie are
/// mapped to black and white (0 and 255 for 8-bit and RGB, 0 and 65 535 for 16-bit,
/// 0 and 1 for 32-bit) and everything outside is clamped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContrastParams {
    /// Percentage of pixels allowed to saturate, split evenly between both ends.
    pub saturated_percent: f64,
}

impl Default for ContrastParams {
    fn default() -> Self {
        Self {
            saturated_percent: 0.35,
        }
    }
}

impl ContrastParams {
    pub fn validate(&self) -> Result<()> {
        check_finite("saturated percentage", self.saturated_percent)?;
        if !(0.0..50.0).contains(&self.saturated_percent) {
            return Err(Error::invalid(format!(
                "saturated percentage must be at least 0 and below 50, got {}",
                self.saturated_percent
            )));
        }
        Ok(())
    }
}

/// The (low, high) grey levels the stretch maps to black and white: the order
/// statistics at ranks t and N−1−t with t = ⌊N·s/200⌋, as ImageJ's histogram scan finds
/// them for 8-bit images.
pub fn contrast_limits(view: &ImageView, params: &ContrastParams) -> Result<(f32, f32)> {
    params.validate()?;
    view.ensure_finite()?;
    let mut values = gray_values(view);
    let n = values.len();
    let t = ((n as f64 * params.saturated_percent / 200.0) as usize).min((n - 1) / 2);
    let (_, lo, upper) = values.select_nth_unstable_by(t, f32::total_cmp);
    let lo = *lo;
    let hi_rank = n - 1 - t;
    let hi = if hi_rank == t {
        lo
    } else {
        let k = hi_rank - t - 1;
        *upper.select_nth_unstable_by(k, f32::total_cmp).1
    };
    Ok((lo, hi))
}

/// Contrast stretch; see [`ContrastParams`]. An image whose limits coincide (constant
/// or nearly so) is returned unchanged.
pub fn stretch_contrast(view: &ImageView, params: &ContrastParams) -> Result<GrayImage> {
    let (lo, hi) = contrast_limits(view, params)?;
    let values = gray_values(view);
    let white = match view.pixels() {
        Pixels::Gray8(_) | Pixels::PackedRgb(_) => 255.0,
        Pixels::Gray16(_) => 65535.0,
        Pixels::Gray32(_) => 1.0,
    };
    let data = if hi > lo {
        let scale = white / (hi as f64 - lo as f64);
        values
            .iter()
            .map(|&v| (((v as f64 - lo as f64) * scale).clamp(0.0, white)) as f32)
            .collect()
    } else {
        values
    };
    Ok(GrayImage {
        width: view.width(),
        height: view.height(),
        data,
    })
}

// ---------------------------------------------------------------------------------------
// Back to the input's bit depth

/// Converts a filter result to `bit_depth` 8 or 16 (rounded to nearest, clamped to the
/// type's range) or 32 (unchanged).
pub fn to_bit_depth(image: &GrayImage, bit_depth: u32) -> Result<OwnedImage> {
    let pixels = match bit_depth {
        8 => OwnedPixels::Gray8(
            image
                .data
                .iter()
                .map(|&v| v.round().clamp(0.0, 255.0) as u8)
                .collect(),
        ),
        16 => OwnedPixels::Gray16(
            image
                .data
                .iter()
                .map(|&v| v.round().clamp(0.0, 65535.0) as u16)
                .collect(),
        ),
        32 => OwnedPixels::Gray32(image.data.clone()),
        other => {
            return Err(Error::invalid(format!(
                "cannot convert to {other}-bit: choose 8, 16 or 32"
            )))
        }
    };
    Ok(OwnedImage {
        width: image.width,
        height: image.height,
        pixels,
    })
}

/// Converts a filter result back to the bit depth of the image it came from; RGB
/// inputs give 8-bit grey, since every filter works on luminance.
pub fn to_input_depth(image: &GrayImage, input: &ImageView) -> OwnedImage {
    let depth = match input.pixels() {
        Pixels::Gray8(_) | Pixels::PackedRgb(_) => 8,
        Pixels::Gray16(_) => 16,
        Pixels::Gray32(_) => 32,
    };
    to_bit_depth(image, depth).expect("8, 16 and 32 are supported depths")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_is_half_sample_symmetric() {
        let got: Vec<usize> = (-4..8).map(|i| reflect(i, 4)).collect();
        assert_eq!(got, [3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0]);
        assert_eq!(reflect(-1, 1), 0);
    }

    #[test]
    fn selection_and_histogram_medians_agree() {
        let (w, h) = (19, 13);
        let mut s = 12345u64;
        let values: Vec<f32> = (0..w * h)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
                (s >> 40) as f32 / 7.0 - 1000.0
            })
            .collect();
        let mut levels = values.clone();
        levels.sort_unstable_by(f32::total_cmp);
        levels.dedup();
        let ranks: Vec<u32> = values
            .iter()
            .map(|v| levels.partition_point(|l| l < v) as u32)
            .collect();
        for r in [1, 3, 9] {
            let by_hist: Vec<f32> = histogram_median(&ranks, w, h, r, 9)
                .into_iter()
                .map(|i| levels[i as usize])
                .collect();
            assert_eq!(by_hist, selection_median(&values, w, h, r), "r = {r}");
        }
    }

    #[test]
    fn lower_envelope_matches_brute_force() {
        let f = [3.0, 0.5, 7.0, 2.0, 2.0, 9.0, -1.0];
        let mut env = LowerEnvelope::new(f.len());
        let mut out = [0.0; 7];
        env.apply(&f, &mut out, 0.3);
        for (x, &o) in out.iter().enumerate() {
            let brute = (0..f.len())
                .map(|q| f[q] + 0.3 * ((x as f64 - q as f64).powi(2)))
                .fold(f64::INFINITY, f64::min);
            assert!((o - brute).abs() < 1e-12, "{x}: {o} vs {brute}");
        }
    }
}
