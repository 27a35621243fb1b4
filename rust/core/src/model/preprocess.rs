//! Turning an image into a model input tensor.
//!
//! The published tool resizes the shorter side to 1.2·S, centre-crops S×S, converts to
//! grey and scales to [0, 1]. Resizing the whole image and then cropping wastes work,
//! so the crop is mapped back into input coordinates and only that region is resampled,
//! with a triangle (antialiased bilinear) filter like PIL's `BILINEAR` resize.

use crate::error::{Error, Result};
use crate::image::pixels::ImageView;
use crate::image::resample::triangle_taps;

/// Shortest image side accepted; smaller images carry too little structure to classify.
pub const MIN_SIDE: usize = 16;

/// Ratio between the resized shorter side and the crop, as in the published method.
const CENTER_CROP_ENLARGEMENT: f64 = 1.2;

/// A rectangle of the input image, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Region {
    pub x: usize,
    pub y: usize,
    pub width: usize,
    pub height: usize,
}

/// How an image becomes the model's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputMode {
    /// Resize the shorter side to 1.2·S, crop the centred S×S square (published method).
    CenterCrop,
}

impl InputMode {
    pub fn name(self) -> &'static str {
        match self {
            InputMode::CenterCrop => "center-crop",
        }
    }

    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "center-crop" => Ok(InputMode::CenterCrop),
            other => Err(Error::invalid(format!(
                "unknown preprocessing '{other}' (supported: center-crop)"
            ))),
        }
    }
}

/// A model input of `size`×`size` grey values in [0, 1] and where it came from.
#[derive(Debug, Clone)]
pub struct PreparedInput {
    pub size: usize,
    pub data: Vec<f32>,
    pub region: Region,
}

/// Checks an image can be classified at all.
pub fn validate_image(view: &ImageView) -> Result<()> {
    let shorter = view.width().min(view.height());
    if shorter < MIN_SIDE {
        return Err(Error::invalid(format!(
            "image {}×{} is too small: classification needs at least {MIN_SIDE} pixels on the \
             shorter side",
            view.width(),
            view.height()
        )));
    }
    // Also refuses grey values whose range would overflow 32-bit arithmetic.
    view.ensure_finite()
}

/// Prepares the `size`×`size` model input for `view`.
pub fn prepare(view: &ImageView, mode: InputMode, size: usize) -> Result<PreparedInput> {
    validate_image(view)?;
    if size == 0 {
        return Err(Error::invalid("model input size must be positive"));
    }
    match mode {
        InputMode::CenterCrop => Ok(center_crop(view, size, view.unit_range())),
    }
}

/// The centre-crop input of `view`, mapping grey values `range.0..range.1` to [0, 1]
/// (for callers that already know the image's range, such as whole-image tiling).
pub fn center_crop(view: &ImageView, size: usize, range: (f32, f32)) -> PreparedInput {
    let (width, height) = (view.width(), view.height());
    let shorter = width.min(height) as f64;
    let resized_shorter = (CENTER_CROP_ENLARGEMENT * size as f64).round();
    let scale = resized_shorter / shorter;
    let side = size as f64 / scale;
    let x0 = (width as f64 - side) / 2.0;
    let y0 = (height as f64 - side) / 2.0;
    let (lo, hi) = range;
    let gain = if hi > lo { 1.0 / (hi - lo) } else { 0.0 };
    let data = resample(view, (x0, y0), (scale, scale), (size, size), |v| {
        ((v - lo) * gain).clamp(0.0, 1.0)
    });
    let region = Region {
        x: x0.round().max(0.0) as usize,
        y: y0.round().max(0.0) as usize,
        width: (side.round() as usize).min(width),
        height: (side.round() as usize).min(height),
    };
    PreparedInput { size, data, region }
}

/// The whole image resampled to `width`×`height` grey values (antialiased when shrinking).
pub fn resize(view: &ImageView, width: usize, height: usize) -> Vec<f32> {
    let scale = (
        width as f64 / view.width() as f64,
        height as f64 / view.height() as f64,
    );
    resample(view, (0.0, 0.0), scale, (width, height), |v| v)
}

/// Separable resampling of an `out_w`×`out_h` window starting at input coordinate
/// `origin`, with `scale` output pixels per input pixel along x and y, applying `map` to
/// each input value.
fn resample(
    view: &ImageView,
    origin: (f64, f64),
    scale: (f64, f64),
    (out_w, out_h): (usize, usize),
    map: impl Fn(f32) -> f32,
) -> Vec<f32> {
    let width = view.width();
    let columns = triangle_taps(origin.0, scale.0, out_w, width);
    let rows = triangle_taps(origin.1, scale.1, out_h, view.height());
    let x_start = columns.first().map_or(0, |t| t.start);
    let x_end = columns
        .iter()
        .map(|t| t.start + t.weights.len())
        .max()
        .unwrap_or(0);
    let mut row_sum = vec![0.0f32; x_end - x_start];
    let mut out = Vec::with_capacity(out_w * out_h);
    for row in &rows {
        row_sum.iter_mut().for_each(|v| *v = 0.0);
        for (dy, &wy) in row.weights.iter().enumerate() {
            let base = (row.start + dy) * width;
            for (x, acc) in (x_start..x_end).zip(row_sum.iter_mut()) {
                *acc += wy * map(view.gray_at(base + x));
            }
        }
        out.extend(columns.iter().map(|col| {
            col.weights
                .iter()
                .enumerate()
                .map(|(dx, &wx)| wx * row_sum[col.start + dx - x_start])
                .sum::<f32>()
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::pixels::Pixels;

    #[test]
    fn region_is_the_centred_square_of_side_shorter_over_1_2() {
        let pixels = vec![0u8; 300 * 200];
        let view = ImageView::new(300, 200, Pixels::Gray8(&pixels)).unwrap();
        let prepared = prepare(&view, InputMode::CenterCrop, 64).unwrap();
        assert_eq!(prepared.data.len(), 64 * 64);
        let r = prepared.region;
        assert!((r.width as i64 - 167).abs() <= 1, "{r:?}");
        assert_eq!(r.width, r.height);
        assert!((r.x as i64 - (300 - 167) / 2).abs() <= 1, "{r:?}");
    }

    #[test]
    fn constant_image_gives_constant_input() {
        let pixels = vec![51u8; 123 * 97];
        let view = ImageView::new(123, 97, Pixels::Gray8(&pixels)).unwrap();
        let prepared = prepare(&view, InputMode::CenterCrop, 32).unwrap();
        for v in prepared.data {
            assert!((v - 0.2).abs() < 1e-5, "{v}");
        }
    }

    #[test]
    fn sixteen_bit_is_stretched_to_unit_range() {
        let pixels: Vec<u16> = (0..64 * 64).map(|i| 1000 + (i % 64) as u16 * 10).collect();
        let view = ImageView::new(64, 64, Pixels::Gray16(&pixels)).unwrap();
        let prepared = prepare(&view, InputMode::CenterCrop, 16).unwrap();
        let max = prepared.data.iter().cloned().fold(0.0f32, f32::max);
        let min = prepared.data.iter().cloned().fold(1.0f32, f32::min);
        assert!(min >= 0.0 && max <= 1.0 && max - min > 0.5, "{min} {max}");
    }

    #[test]
    fn upscaling_a_small_image_keeps_values_in_range() {
        let pixels: Vec<u8> = (0..20 * 20).map(|i| (i * 7 % 256) as u8).collect();
        let view = ImageView::new(20, 20, Pixels::Gray8(&pixels)).unwrap();
        let prepared = prepare(&view, InputMode::CenterCrop, 64).unwrap();
        assert!(prepared.data.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn tiny_image_is_rejected_with_reason() {
        let view = ImageView::new(1, 1, Pixels::Gray8(&[7])).unwrap();
        let err = prepare(&view, InputMode::CenterCrop, 64).unwrap_err();
        assert!(err.to_string().contains("too small"), "{err}");
    }
}
