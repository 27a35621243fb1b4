//! The published tool's clustering (reference mode), for comparison.

use super::*;

// ---------------------------------------------------------------------------------------
// Reference mode

/// Parameters of [`cluster_reference`].
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceParams {
    pub k: usize,
    pub seed: u64,
    pub calibration: Calibration,
}

impl Default for ReferenceParams {
    fn default() -> Self {
        Self {
            k: 2,
            seed: 42,
            calibration: Calibration::default(),
        }
    }
}

/// The published tool's clustering, for comparison: grey only, the image resized to
/// 512 pixels wide (area averaging when shrinking, bilinear when enlarging), standardised,
/// k-means with 10 restarts on every pixel. Labels are at the resized size (see
/// [`Clustering::labels_resized`]); areas are calibrated for the resized pixels.
pub fn cluster_reference(view: &ImageView, params: &ReferenceParams) -> Result<Clustering> {
    view.ensure_finite()?;
    let (w, h) = (view.width(), view.height());
    let nw = REFERENCE_WIDTH;
    let nh = ((h as f64 * nw as f64 / w as f64).round() as usize).max(1);
    let grey = crate::analysis::filters::gray_values(view);
    let resized = resize_area(&grey, w, h, nw, nh);
    let image = GrayImage::new(nw, nh, resized)?;
    let cal = &params.calibration;
    let full = ClusterParams {
        k: params.k,
        features: vec![Feature::Grey],
        n_init: 10,
        seed: params.seed,
        max_samples: nw * nh,
        calibration: Calibration {
            pixel_width: cal.pixel_width * w as f64 / nw as f64,
            pixel_height: cal.pixel_height * h as f64 / nh as f64,
            unit: cal.unit.clone(),
        },
        ..ClusterParams::default()
    };
    cluster(&image.view(), &full, &[])
}
