//! Borrowed and owned grey-level images. Callers hand the core their own pixel
//! buffers (an ImageJ processor's array, a decoded file) without copying.

use crate::error::{Error, Result};

/// Largest image side accepted, to catch corrupt headers before allocating.
pub const MAX_SIDE: usize = 1 << 20;

/// The largest grey value magnitude a 32-bit image may hold: a quarter of `f32::MAX`, so
/// that sums of two values (symmetric kernels) and differences (background subtraction,
/// grey ranges) stay finite.
pub const MAX_GRAY_MAGNITUDE: f32 = f32::MAX / 4.0;

/// Pixel storage of a single-plane image in row-major order.
#[derive(Debug, Clone, Copy)]
pub enum Pixels<'a> {
    Gray8(&'a [u8]),
    Gray16(&'a [u16]),
    Gray32(&'a [f32]),
    /// Packed `0x00RRGGBB` as ImageJ's `ColorProcessor` stores it.
    PackedRgb(&'a [u32]),
}

impl Pixels<'_> {
    fn len(&self) -> usize {
        match self {
            Pixels::Gray8(p) => p.len(),
            Pixels::Gray16(p) => p.len(),
            Pixels::Gray32(p) => p.len(),
            Pixels::PackedRgb(p) => p.len(),
        }
    }

    pub fn bit_depth(&self) -> u32 {
        match self {
            Pixels::Gray8(_) => 8,
            Pixels::Gray16(_) => 16,
            Pixels::Gray32(_) => 32,
            Pixels::PackedRgb(_) => 24,
        }
    }
}

/// Luminance of a packed RGB pixel with ImageJ's default (unweighted) conversion
/// replaced by Rec. 601 weights, matching PIL's `convert("L")` used by the published tool.
#[inline]
pub fn rgb_luminance(rgb: u32) -> f32 {
    let r = ((rgb >> 16) & 0xff) as f32;
    let g = ((rgb >> 8) & 0xff) as f32;
    let b = (rgb & 0xff) as f32;
    0.299 * r + 0.587 * g + 0.114 * b
}

/// A validated, borrowed view of an image.
#[derive(Debug, Clone, Copy)]
pub struct ImageView<'a> {
    width: usize,
    height: usize,
    pixels: Pixels<'a>,
}

impl<'a> ImageView<'a> {
    pub fn new(width: usize, height: usize, pixels: Pixels<'a>) -> Result<Self> {
        if width == 0 || height == 0 {
            return Err(Error::invalid(format!(
                "image is empty ({width}×{height} pixels)"
            )));
        }
        if width > MAX_SIDE || height > MAX_SIDE {
            return Err(Error::invalid(format!(
                "image {width}×{height} exceeds the largest supported side of {MAX_SIDE} pixels"
            )));
        }
        let expected = width
            .checked_mul(height)
            .ok_or_else(|| Error::invalid("image size overflows"))?;
        if pixels.len() != expected {
            return Err(Error::invalid(format!(
                "pixel buffer holds {} values but a {width}×{height} image needs {expected}",
                pixels.len()
            )));
        }
        Ok(Self {
            width,
            height,
            pixels,
        })
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    pub fn pixels(&self) -> Pixels<'a> {
        self.pixels
    }

    /// The rows `rows` of this image as a view of the same pixels (rows are contiguous in
    /// row-major storage, so nothing is copied). Fails on an empty or out-of-range span.
    pub fn rows(&self, rows: std::ops::Range<usize>) -> Result<ImageView<'a>> {
        if rows.start >= rows.end || rows.end > self.height {
            return Err(Error::invalid(format!(
                "rows {}..{} are not a non-empty part of a {}-row image",
                rows.start, rows.end, self.height
            )));
        }
        let span = rows.start * self.width..rows.end * self.width;
        let pixels = match self.pixels {
            Pixels::Gray8(p) => Pixels::Gray8(&p[span]),
            Pixels::Gray16(p) => Pixels::Gray16(&p[span]),
            Pixels::Gray32(p) => Pixels::Gray32(&p[span]),
            Pixels::PackedRgb(p) => Pixels::PackedRgb(&p[span]),
        };
        Ok(ImageView {
            width: self.width,
            height: rows.end - rows.start,
            pixels,
        })
    }

    /// Raw grey value at a linear index: 0–255 for 8-bit and RGB, 0–65535 for 16-bit,
    /// the stored value for 32-bit.
    #[inline]
    pub fn gray_at(&self, index: usize) -> f32 {
        match self.pixels {
            Pixels::Gray8(p) => p[index] as f32,
            Pixels::Gray16(p) => p[index] as f32,
            Pixels::Gray32(p) => p[index],
            Pixels::PackedRgb(p) => rgb_luminance(p[index]),
        }
    }

    /// Fails with a clear message when a 32-bit image holds NaN or infinite values,
    /// which no downstream step can interpret, or values beyond ±[`MAX_GRAY_MAGNITUDE`],
    /// whose sums and differences would overflow 32-bit arithmetic.
    pub fn ensure_finite(&self) -> Result<()> {
        if let Pixels::Gray32(p) = self.pixels {
            // One pass that vectorises (a branch-free test per block; false for NaN);
            // counting only where something is wrong.
            let usable = |block: &[f32]| {
                block
                    .iter()
                    .fold(true, |ok, v| ok & (v.abs() <= MAX_GRAY_MAGNITUDE))
            };
            if p.chunks(4096).all(usable) {
                return Ok(());
            }
            let nan = p.iter().filter(|v| v.is_nan()).count();
            let inf = p.iter().filter(|v| v.is_infinite()).count();
            if nan + inf > 0 {
                return Err(Error::invalid(format!(
                    "32-bit image contains {nan} NaN and {inf} infinite pixel(s); replace them \
                     first (in Fiji: Process › Math › Remove NaNs… and Process › Math › Set…)"
                )));
            }
            let huge = p.iter().filter(|v| v.abs() > MAX_GRAY_MAGNITUDE).count();
            return Err(Error::invalid(format!(
                "32-bit image has {huge} pixel(s) beyond ±{MAX_GRAY_MAGNITUDE:e}, where sums \
                 and differences of grey values overflow 32-bit arithmetic; scale it down \
                 first (in Fiji: Process › Math › Multiply…)"
            )));
        }
        Ok(())
    }

    /// [`ensure_finite`](Self::ensure_finite) and [`unit_range`](Self::unit_range) in
    /// one pass over a 32-bit image.
    pub fn finite_range(&self) -> Result<(f32, f32)> {
        let Pixels::Gray32(p) = self.pixels else {
            return Ok(self.unit_range());
        };
        let usable = |v: f32| v.abs() <= MAX_GRAY_MAGNITUDE;
        match finite_extremes(p).filter(|&(lo, hi)| usable(lo) && usable(hi)) {
            Some(range) => Ok(range),
            // Something is wrong: ensure_finite says what.
            None => self.ensure_finite().map(|()| self.unit_range()),
        }
    }

    /// The linear map that sends this image's grey values to [0, 1]: 8-bit and RGB
    /// divide by 255 (as the published tool does); 16- and 32-bit images, whose useful
    /// range depends on the detector, are stretched between their minimum and maximum.
    pub fn unit_range(&self) -> (f32, f32) {
        match self.pixels {
            Pixels::Gray8(_) | Pixels::PackedRgb(_) => (0.0, 255.0),
            Pixels::Gray16(p) => {
                let (lo, hi) = p
                    .iter()
                    .fold((u16::MAX, u16::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
                (lo as f32, hi as f32)
            }
            Pixels::Gray32(p) => finite_extremes(p).unwrap_or_else(|| {
                // Non-finite values are skipped.
                p.iter()
                    .filter(|v| v.is_finite())
                    .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                        (lo.min(v), hi.max(v))
                    })
            }),
        }
    }
}

/// Minimum and maximum of `values`, or `None` when one of them is NaN or infinite.
/// Sixteen running extremes and plain comparisons, so that the loop is vectorised;
/// `v × 0` is ±0 for finite values and NaN otherwise, so `spoilt` stays 0 only when
/// every value is finite.
fn finite_extremes(values: &[f32]) -> Option<(f32, f32)> {
    const LANES: usize = 16;
    let (mut lo, mut hi) = ([f32::INFINITY; LANES], [f32::NEG_INFINITY; LANES]);
    let mut spoilt = [0f32; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for l in 0..LANES {
            let v = chunk[l];
            spoilt[l] += v * 0.0;
            lo[l] = if v < lo[l] { v } else { lo[l] };
            hi[l] = if v > hi[l] { v } else { hi[l] };
        }
    }
    if spoilt.iter().any(|s| *s != 0.0) || !rest.iter().all(|v| v.is_finite()) {
        return None;
    }
    let lo = rest.iter().chain(&lo).fold(f32::INFINITY, |a, &v| a.min(v));
    let hi = rest
        .iter()
        .chain(&hi)
        .fold(f32::NEG_INFINITY, |a, &v| a.max(v));
    Some((lo, hi))
}

/// An owned single-channel image with `f32` samples, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct GrayImage {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

impl GrayImage {
    pub fn new(width: usize, height: usize, data: Vec<f32>) -> Result<Self> {
        ImageView::new(width, height, Pixels::Gray32(&data))?;
        Ok(Self {
            width,
            height,
            data,
        })
    }

    pub fn filled(width: usize, height: usize, value: f32) -> Self {
        Self {
            width,
            height,
            data: vec![value; width * height],
        }
    }

    pub fn view(&self) -> ImageView<'_> {
        ImageView {
            width: self.width,
            height: self.height,
            pixels: Pixels::Gray32(&self.data),
        }
    }

    #[inline]
    pub fn get(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.width + x]
    }
}

/// An owned image as decoded from a file, keeping its original bit depth.
#[derive(Debug, Clone, PartialEq)]
pub enum OwnedPixels {
    Gray8(Vec<u8>),
    Gray16(Vec<u16>),
    Gray32(Vec<f32>),
    PackedRgb(Vec<u32>),
}

#[derive(Debug, Clone)]
pub struct OwnedImage {
    pub width: usize,
    pub height: usize,
    pub pixels: OwnedPixels,
}

impl OwnedImage {
    /// Number of stored pixels.
    pub fn view_len(&self) -> usize {
        match &self.pixels {
            OwnedPixels::Gray8(p) => p.len(),
            OwnedPixels::Gray16(p) => p.len(),
            OwnedPixels::Gray32(p) => p.len(),
            OwnedPixels::PackedRgb(p) => p.len(),
        }
    }

    pub fn view(&self) -> ImageView<'_> {
        let pixels = match &self.pixels {
            OwnedPixels::Gray8(p) => Pixels::Gray8(p),
            OwnedPixels::Gray16(p) => Pixels::Gray16(p),
            OwnedPixels::Gray32(p) => Pixels::Gray32(p),
            OwnedPixels::PackedRgb(p) => Pixels::PackedRgb(p),
        };
        ImageView {
            width: self.width,
            height: self.height,
            pixels,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_mismatched_buffer() {
        let data = [0u8; 5];
        let err = ImageView::new(2, 3, Pixels::Gray8(&data)).unwrap_err();
        assert!(err.to_string().contains("needs 6"), "{err}");
    }

    #[test]
    fn rejects_empty_image() {
        assert!(ImageView::new(0, 3, Pixels::Gray8(&[])).is_err());
    }

    #[test]
    fn finds_non_finite_values() {
        let data = [1.0, f32::NAN, f32::INFINITY, f32::NEG_INFINITY];
        let view = ImageView::new(2, 2, Pixels::Gray32(&data)).unwrap();
        let err = view.ensure_finite().unwrap_err().to_string();
        assert!(err.contains("1 NaN and 2 infinite"), "{err}");
    }

    #[test]
    fn refuses_values_too_large_for_filter_arithmetic() {
        let mut data = vec![1.0f32; 40];
        let view = ImageView::new(8, 5, Pixels::Gray32(&data)).unwrap();
        assert!(view.ensure_finite().is_ok());
        for (at, value) in [(3, f32::MAX), (37, -f32::MAX / 2.0)] {
            data[at] = value;
            let view = ImageView::new(8, 5, Pixels::Gray32(&data)).unwrap();
            for err in [
                view.ensure_finite().unwrap_err(),
                view.finite_range().unwrap_err(),
            ] {
                assert!(err.to_string().contains("beyond ±8.5"), "{err}");
            }
        }
        data[3] = MAX_GRAY_MAGNITUDE;
        data[37] = -MAX_GRAY_MAGNITUDE;
        let view = ImageView::new(8, 5, Pixels::Gray32(&data)).unwrap();
        assert_eq!(
            view.finite_range().unwrap(),
            (-MAX_GRAY_MAGNITUDE, MAX_GRAY_MAGNITUDE)
        );
    }

    #[test]
    fn finite_range_checks_and_measures_in_one_pass() {
        // 37 values: two blocks of sixteen and a remainder of five.
        let mut data: Vec<f32> = (0..37).map(|i| (i as f32 * 7.3).sin() * 8e37).collect();
        data[20] = -8.5e37;
        let view = ImageView::new(37, 1, Pixels::Gray32(&data)).unwrap();
        assert_eq!(view.finite_range().unwrap(), view.unit_range());
        assert_eq!(view.finite_range().unwrap().0, -8.5e37);
        // Fewer values than lanes: the remainder alone.
        let view = ImageView::new(5, 1, Pixels::Gray32(&data[..5])).unwrap();
        assert_eq!(view.finite_range().unwrap(), view.unit_range());
        for at in [3, 35] {
            for bad in [f32::NAN, f32::INFINITY] {
                let mut spoilt = data.clone();
                spoilt[at] = bad;
                let view = ImageView::new(37, 1, Pixels::Gray32(&spoilt)).unwrap();
                let err = view.finite_range().unwrap_err().to_string();
                assert!(err.contains("NaN and"), "{err}");
            }
        }
    }

    #[test]
    fn unit_range_of_16_bit_is_min_max() {
        let data = [100u16, 200, 4000, 300];
        let view = ImageView::new(2, 2, Pixels::Gray16(&data)).unwrap();
        assert_eq!(view.unit_range(), (100.0, 4000.0));
    }
}
