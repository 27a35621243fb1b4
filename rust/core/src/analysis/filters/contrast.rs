//! Linear contrast stretch.

use super::*;
use crate::error::{Error, Result};
use crate::image::pixels::{GrayImage, ImageView, Pixels};

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
