//! Preprocessing filters: median, Gaussian, bilateral, CLAHE, background subtraction
//! and contrast stretching.
//!
//! Every filter takes an [`ImageView`] of any supported type and returns a [`GrayImage`]
//! (`f32`, in the input's grey units) so filters can be chained without losing precision;
//! [`to_input_depth`] / [`to_bit_depth`] convert the result back for display or saving.
//! Median, bilateral and CLAHE also write the input's depth directly
//! ([`median_same_depth`], [`bilateral_same_depth`], [`clahe_same_depth`]), skipping the
//! float image.
//! Borders are handled by half-sample symmetric reflection (`dcba|abcd`, scipy's
//! `mode="reflect"`, OpenCV's `BORDER_REFLECT`) unless a filter says otherwise, so that
//! results can be checked against those libraries.

mod background;
mod bilateral;
mod clahe;
mod contrast;
mod gaussian;
mod median;
mod simd;
mod source_rows;

pub use background::*;
pub use bilateral::*;
pub use clahe::*;
pub use contrast::*;
pub use gaussian::*;
pub use median::*;

/// The filters' defaults as one flat record, for dialogs that show them (Fiji's
/// Preprocess): each value is read from the filter's own default, nothing is restated.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FilterDefaults {
    /// Median window radius.
    pub radius: usize,
    /// Gaussian σ.
    pub sigma: f64,
    /// Bilateral spatial σ.
    pub bilateral_sigma: f64,
    /// Bilateral range σ as a fraction of the image's grey range.
    pub range_fraction: f64,
    /// CLAHE tiles across (and down).
    pub tiles: usize,
    pub clip_limit: f64,
    /// Background subtraction radius and light background.
    pub rolling: f64,
    pub light: bool,
    /// Contrast stretch: percentage of pixels saturated.
    pub saturated: f64,
}

impl Default for FilterDefaults {
    fn default() -> Self {
        let (clahe, background) = (ClaheParams::default(), BackgroundParams::default());
        Self {
            radius: MedianParams::default().radius,
            sigma: GaussianParams::default().sigma,
            bilateral_sigma: BilateralParams::DEFAULT_SPATIAL_SIGMA,
            range_fraction: BilateralParams::DEFAULT_RANGE_FRACTION,
            tiles: clahe.tiles_x,
            clip_limit: clahe.clip_limit,
            rolling: background.radius,
            light: background.light_background,
            saturated: ContrastParams::default().saturated_percent,
        }
    }
}

impl FilterDefaults {
    pub fn to_json() -> String {
        serde_json::to_string(&Self::default()).expect("plain struct serialises")
    }
}

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

/// Writes grey rows `first − r .. first + n + r` of `view` into `padded` (reflected past
/// the top and bottom), each `w + 2r + extra` long: `r` reflected pixels on either side
/// and `extra` zeros on the right, so window taps are plain offsets and vector passes
/// can read whole lanes past the last column.
pub(crate) fn padded_gray_rows(
    view: &ImageView,
    first: usize,
    n: usize,
    r: usize,
    extra: usize,
    padded: &mut Vec<f32>,
) {
    let (w, h) = (view.width(), view.height());
    let pw = w + 2 * r + extra;
    padded.resize(pw * (n + 2 * r), 0.0);
    for (py, row) in padded.chunks_exact_mut(pw).enumerate() {
        let y = reflect((first + py) as isize - r as isize, h);
        gray_row(view, y, &mut row[r..r + w]);
        for i in 0..r {
            row[i] = row[r + reflect(i as isize - r as isize, w)];
            row[r + w + i] = row[r + reflect((w + i) as isize, w)];
        }
        row[r + w + r..].fill(0.0);
    }
}

/// For a float 0 ≤ v < 2²³: whether it is a whole number, and its low bits, which are v
/// itself when it is. `v + 2²³` rounds v to a whole number and holds that in its low
/// mantissa bits: one addition for any vector width, where SSE2 has no rounding
/// instruction and conversions to integers saturate lane by lane. Used to read float
/// images of whole numbers (8- and 16-bit images as ImageJ converts them) as levels.
#[inline(always)]
pub(crate) fn whole_number_bits(v: f32) -> (bool, u32) {
    const SHIFT: f32 = 8_388_608.0;
    let shifted = v + SHIFT;
    (shifted - SHIFT == v, shifted.to_bits())
}

/// Output rows per work item when rows are split across threads.
const BAND_ROWS: usize = 32;

/// Runs `band(first_row, rows_out)` on bands of [`BAND_ROWS`] rows of `out` in parallel.
pub(crate) fn for_row_bands<T: Send>(
    out: &mut [T],
    w: usize,
    band: impl Fn(usize, &mut [T]) + Sync,
) {
    for_row_bands_of(BAND_ROWS, out, w, band)
}

/// [`for_row_bands`] with `band_rows` rows per band.
pub(crate) fn for_row_bands_of<T: Send>(
    band_rows: usize,
    out: &mut [T],
    w: usize,
    band: impl Fn(usize, &mut [T]) + Sync,
) {
    for_row_bands_with(band_rows, out, w, || (), |y0, rows, _| band(y0, rows))
}

/// [`for_row_bands_of`] with a `scratch` value per thread, made once by `scratch()` and
/// handed to every band that thread runs (a band's padded input rows, say), so large
/// buffers are allocated per thread instead of per image.
pub(crate) fn for_row_bands_with<T: Send, S>(
    band_rows: usize,
    out: &mut [T],
    w: usize,
    scratch: impl Fn() -> S + Sync,
    band: impl Fn(usize, &mut [T], &mut S) + Sync,
) {
    if out.is_empty() {
        return;
    }
    let items: Vec<&mut [T]> = out.chunks_mut(band_rows * w).collect();
    crate::parallel::par_blocks(
        items,
        crate::parallel::thread_count(0),
        scratch,
        |i, rows, s| band(i * band_rows, rows, s),
    );
}

// ---------------------------------------------------------------------------------------
// Back to the input's bit depth

/// A sample type a filter can write directly: `f32` as is, 8- and 16-bit rounded half to
/// even (as OpenCV's `saturate_cast`) and clamped to the type's range.
pub(crate) trait Sample: Copy + Default + Send + Sync {
    fn from_f32(v: f32) -> Self;

    /// `out` as bytes where `Self` is `u8`, for kernels with a byte-wide store.
    fn as_bytes(_out: &mut [Self]) -> Option<&mut [u8]> {
        None
    }

    /// `out` as 16-bit words where `Self` is `u16`, likewise.
    fn as_words(_out: &mut [Self]) -> Option<&mut [u16]> {
        None
    }

    /// `out` as floats where `Self` is `f32`, likewise (stored unrounded).
    fn as_floats(_out: &mut [Self]) -> Option<&mut [f32]> {
        None
    }
}

impl Sample for f32 {
    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        v
    }

    fn as_floats(out: &mut [Self]) -> Option<&mut [f32]> {
        Some(out)
    }
}

/// Rounds half to even without a libm call: for 0 ≤ v < 2²³ adding and subtracting 2²³
/// rounds in the FPU's (nearest-even) mode.
#[inline(always)]
pub(crate) fn round_half_even(v: f32) -> f32 {
    const TWO_23: f32 = 8_388_608.0;
    (v.max(0.0) + TWO_23) - TWO_23
}

impl Sample for u8 {
    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        round_half_even(v).min(255.0) as u8
    }

    fn as_bytes(out: &mut [Self]) -> Option<&mut [u8]> {
        Some(out)
    }
}

impl Sample for u16 {
    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        round_half_even(v).min(65535.0) as u16
    }

    fn as_words(out: &mut [Self]) -> Option<&mut [u16]> {
        Some(out)
    }
}

/// RGB luminance rounded to 8-bit levels (how [`to_input_depth`] writes an RGB input's
/// result), for filters that work on levels.
pub(crate) fn rgb_levels(p: &[u32]) -> Vec<u8> {
    p.iter()
        .map(|&v| {
            crate::image::pixels::rgb_luminance(v)
                .round()
                .clamp(0.0, 255.0) as u8
        })
        .collect()
}

/// An image of `w`×`h` in the depth of `T`, from a buffer a filter wrote.
pub(crate) fn owned<T>(
    w: usize,
    h: usize,
    data: Vec<T>,
    wrap: fn(Vec<T>) -> OwnedPixels,
) -> OwnedImage {
    OwnedImage {
        width: w,
        height: h,
        pixels: wrap(data),
    }
}

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

/// The bit depth [`to_input_depth`] writes for `input`: 8, 16 or 32 (RGB gives 8-bit
/// grey, since every filter works on luminance).
pub fn to_input_depth_bits(input: &ImageView) -> u32 {
    match input.pixels() {
        Pixels::Gray8(_) | Pixels::PackedRgb(_) => 8,
        Pixels::Gray16(_) => 16,
        Pixels::Gray32(_) => 32,
    }
}

/// Converts a filter result back to the bit depth of the image it came from; RGB
/// inputs give 8-bit grey, since every filter works on luminance.
pub fn to_input_depth(image: &GrayImage, input: &ImageView) -> OwnedImage {
    to_bit_depth(image, to_input_depth_bits(input)).expect("8, 16 and 32 are supported depths")
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
}
