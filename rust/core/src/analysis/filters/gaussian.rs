//! The core's one Gaussian: kernel, separable row filtering (also used by the clustering
//! features) and the Gaussian blur filter.

use super::*;
use crate::error::{Error, Result};
use crate::image::pixels::{GrayImage, ImageView, Pixels};

/// Kernel half-width in sigmas for the Gaussian (as scipy's default `truncate=4.0`).
const GAUSSIAN_TRUNCATE: f64 = 4.0;

/// Output rows per band of the Gaussian filter.
const GAUSSIAN_BAND_ROWS: usize = 128;

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
    separable_rows_xy(width, height, kernel, kernel, row_source, y0, y1, out)
}

/// [`separable_rows`] with `kernel_x` along rows and `kernel_y` along columns.
#[allow(clippy::too_many_arguments)]
pub(crate) fn separable_rows_xy(
    width: usize,
    height: usize,
    kernel_x: &[f32],
    kernel_y: &[f32],
    row_source: &mut dyn FnMut(usize, &mut [f32]),
    y0: usize,
    y1: usize,
    out: &mut [f32],
) {
    let symmetric = |k: &[f32]| k.len() % 2 == 1 && k.iter().eq(k.iter().rev());
    debug_assert!(
        symmetric(kernel_x) && symmetric(kernel_y),
        "odd symmetric kernels"
    );
    debug_assert!(y0 < y1 && y1 <= height);
    debug_assert_eq!(out.len(), (y1 - y0) * width);
    let (rx, r) = (kernel_x.len() / 2, kernel_y.len() / 2);
    // Source rows that reflection can reach from the block.
    let lo = y0.saturating_sub(r);
    let hi = (y1 + r).min(height);
    let (lo, hi) = if r >= height { (0, height) } else { (lo, hi) };
    let mut padded = vec![0f32; width + 2 * rx];
    let mut tmp = vec![0f32; (hi - lo) * width];
    // Source column of each padded position outside the row (the inside is copied).
    let left: Vec<usize> = (0..rx)
        .map(|j| reflect(j as isize - rx as isize, width))
        .collect();
    let right: Vec<usize> = (0..rx)
        .map(|j| reflect((width + j) as isize, width))
        .collect();
    for (i, y) in (lo..hi).enumerate() {
        let (head, rest) = padded.split_at_mut(rx);
        let (middle, tail) = rest.split_at_mut(width);
        row_source(y, middle);
        head.iter_mut()
            .zip(&left)
            .for_each(|(p, &x)| *p = middle[x]);
        tail.iter_mut()
            .zip(&right)
            .for_each(|(p, &x)| *p = middle[x]);
        let dst = &mut tmp[i * width..(i + 1) * width];
        convolve_row(&padded, kernel_x, dst);
    }
    let mut rows: Vec<&[f32]> = Vec::with_capacity(kernel_y.len());
    for (i, y) in (y0..y1).enumerate() {
        rows.clear();
        rows.extend((0..kernel_y.len()).map(|k| {
            let sy = reflect(y as isize + k as isize - r as isize, height) - lo;
            &tmp[sy * width..(sy + 1) * width]
        }));
        let dst = &mut out[i * width..(i + 1) * width];
        combine_rows(&rows, kernel_y, dst);
    }
}

/// `dst[x] = Σ_k kernel[k] · padded[x + k]` for a symmetric kernel: mirrored taps are
/// added before multiplying (half the multiplications).
fn convolve_row(padded: &[f32], kernel: &[f32], dst: &mut [f32]) {
    super::simd::dispatch(ConvolveRow {
        padded,
        kernel,
        dst,
    })
}

struct ConvolveRow<'a> {
    padded: &'a [f32],
    kernel: &'a [f32],
    dst: &'a mut [f32],
}

impl super::simd::Kernel for ConvolveRow<'_> {
    type Output = ();

    #[inline(always)]
    fn run(self, _fma: bool) {
        convolve_row_inline(self.padded, self.kernel, self.dst)
    }
}

struct CombineRows<'a, 'b> {
    rows: &'a [&'b [f32]],
    kernel: &'a [f32],
    dst: &'a mut [f32],
}

impl super::simd::Kernel for CombineRows<'_, '_> {
    type Output = ();

    #[inline(always)]
    fn run(self, _fma: bool) {
        combine_rows_inline(self.rows, self.kernel, self.dst)
    }
}

#[inline(always)]
fn convolve_row_inline(padded: &[f32], kernel: &[f32], dst: &mut [f32]) {
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
    super::simd::dispatch(CombineRows { rows, kernel, dst })
}

#[inline(always)]
fn combine_rows_inline(rows: &[&[f32]], kernel: &[f32], dst: &mut [f32]) {
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

/// Gaussian blur of a float buffer (row-major, `width` × `height`) with its own sigma
/// along x and along y, in pixels; a sigma of 0 leaves that axis alone. The same kernel,
/// borders and kernels as [`gaussian`], for callers that hold plain buffers (synthetic
/// scenes, anisotropic blurs).
pub fn gaussian_xy(
    values: &[f32],
    width: usize,
    height: usize,
    sigma_x: f64,
    sigma_y: f64,
) -> Result<Vec<f32>> {
    let view = ImageView::new(width, height, Pixels::Gray32(values))?;
    view.ensure_finite()?;
    let kernel = |name: &str, sigma: f64| -> Result<Vec<f32>> {
        if sigma == 0.0 {
            return Ok(vec![1.0]);
        }
        GaussianParams { sigma }
            .validate()
            .map_err(|e| Error::invalid(format!("{name}: {e}")))?;
        Ok(gaussian_kernel(sigma))
    };
    let (kx, ky) = (kernel("sigma x", sigma_x)?, kernel("sigma y", sigma_y)?);
    let mut data = vec![0f32; width * height];
    for_row_bands_of(GAUSSIAN_BAND_ROWS, &mut data, width, |y0, rows| {
        let y1 = y0 + rows.len() / width;
        let mut source =
            |y: usize, row: &mut [f32]| row.copy_from_slice(&values[y * width..(y + 1) * width]);
        separable_rows_xy(width, height, &kx, &ky, &mut source, y0, y1, rows);
    });
    Ok(data)
}

/// Separable Gaussian blur, kernel truncated at 4σ, reflected borders.
pub fn gaussian(view: &ImageView, params: &GaussianParams) -> Result<GrayImage> {
    params.validate()?;
    view.ensure_finite()?;
    let (w, h) = (view.width(), view.height());
    let kernel = gaussian_kernel(params.sigma);
    let mut data = vec![0f32; w * h];
    // Bands of many rows: each band filters its r-row margins along rows again.
    for_row_bands_of(GAUSSIAN_BAND_ROWS, &mut data, w, |y0, rows| {
        let y1 = y0 + rows.len() / w;
        separable_rows(
            w,
            h,
            &kernel,
            &mut |y, row| gray_row(view, y, row),
            y0,
            y1,
            rows,
        );
    });
    Ok(GrayImage {
        width: w,
        height: h,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussian_xy_matches_gaussian_and_blurs_one_axis_alone() {
        let (w, h) = (37, 29);
        let values: Vec<f32> = (0..w * h).map(|i| ((i * 7919) % 251) as f32).collect();
        let view = ImageView::new(w, h, Pixels::Gray32(&values)).unwrap();
        let both = gaussian(&view, &GaussianParams { sigma: 1.5 })
            .unwrap()
            .data;
        assert_eq!(gaussian_xy(&values, w, h, 1.5, 1.5).unwrap(), both);
        // Along x only: every row is blurred on its own.
        let along_x = gaussian_xy(&values, w, h, 2.0, 0.0).unwrap();
        for y in 0..h {
            let row = &values[y * w..(y + 1) * w];
            let view = ImageView::new(w, 1, Pixels::Gray32(row)).unwrap();
            let alone = gaussian(&view, &GaussianParams { sigma: 2.0 })
                .unwrap()
                .data;
            // The 1-row image's vertical pass only rounds (weights sum to 1 ± ε).
            for (a, b) in along_x[y * w..(y + 1) * w].iter().zip(&alone) {
                assert!((a - b).abs() <= 1e-4, "row {y}: {a} vs {b}");
            }
        }
        assert_eq!(gaussian_xy(&values, w, h, 0.0, 0.0).unwrap(), values);
        let err = gaussian_xy(&values, w, h, -1.0, 1.0).unwrap_err();
        assert!(err.to_string().contains("sigma x"), "{err}");
    }
}
