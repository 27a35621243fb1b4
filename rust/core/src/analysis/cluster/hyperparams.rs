//! What the user chooses: the features, their weights and the k-means settings,
//! with the defaults and the validation that runs before any pixel is read.

use super::*;

/// A per-pixel feature computed from the image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Feature {
    /// The grey value itself (RGB through luminance).
    Grey,
    /// Gaussian-smoothed grey (σ in pixels, reflected borders): suppresses noise so
    /// clusters follow regions rather than individual noisy pixels.
    Smoothed { sigma: f64 },
    /// Grey-value variance in a (2r+1)² window: separates textured from flat regions
    /// of similar mean grey.
    LocalVariance { radius: usize },
    /// Learned foreground probability (0–1) from the network bundled with this library
    /// ([`crate::analysis::cluster::foreground`]): high on compact objects (particles, precipitates) and low
    /// on the background around them, whatever their grey. Needs ONNX Runtime
    /// ([`ClusterParams::runtime`]).
    Foreground,
}

impl Feature {
    /// σ of the smoothed-grey feature when none is given.
    pub const DEFAULT_SIGMA: f64 = 2.0;
    /// Window radius of the local-variance feature when none is given (a 7×7 window).
    pub const DEFAULT_VARIANCE_RADIUS: usize = 3;

    pub fn name(&self) -> String {
        match self {
            Feature::Grey => "grey".into(),
            Feature::Smoothed { sigma } => format!("smoothed grey (sigma {sigma})"),
            Feature::LocalVariance { radius } => format!("local variance (radius {radius})"),
            Feature::Foreground => "foreground (learned)".into(),
        }
    }

    pub(super) fn validate(&self) -> Result<()> {
        match *self {
            Feature::Grey | Feature::Foreground => Ok(()),
            Feature::Smoothed { sigma } => {
                if !(sigma.is_finite() && sigma > 0.0 && sigma <= MAX_SIGMA) {
                    return Err(Error::invalid(format!(
                        "smoothed-grey feature: sigma must be a finite number greater than 0 \
                         and at most {MAX_SIGMA} pixels, got {sigma}"
                    )));
                }
                Ok(())
            }
            Feature::LocalVariance { radius } => {
                if radius == 0 || radius > MAX_WINDOW_RADIUS {
                    return Err(Error::invalid(format!(
                        "local-variance feature: window radius must be between 1 and \
                         {MAX_WINDOW_RADIUS} pixels, got {radius}"
                    )));
                }
                Ok(())
            }
        }
    }
}

pub use crate::image::calibration::Calibration;

/// Parameters of [`cluster`].
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterParams {
    /// Number of clusters, 2–255.
    pub k: usize,
    /// Features computed from the image; caller-supplied maps are added after these.
    pub features: Vec<Feature>,
    /// Weight of the standardised x and y coordinates; 0 leaves position out. Position
    /// makes clusters spatially compact, which helps little for particles spread over
    /// the field, so it is off by default.
    pub position_weight: f64,
    /// Number of k-means++ restarts; the run with the lowest inertia is kept.
    pub n_init: usize,
    /// Iteration limit of each run.
    pub max_iterations: u64,
    /// Convergence tolerance on the centroid shift (standardised units).
    pub tolerance: f64,
    /// Seed of the sampling and k-means++ random generator.
    pub seed: u64,
    /// At most this many pixels (a deterministic random sample) are used for fitting;
    /// all pixels are then assigned.
    pub max_samples: usize,
    /// Pixel size for calibrated areas.
    pub calibration: Calibration,
    /// Worker threads for the feature and assignment passes; 0 uses every core. The
    /// result does not depend on it.
    pub threads: usize,
    /// Where to find ONNX Runtime for [`Feature::Foreground`].
    pub runtime: RuntimeConfig,
}

/// Default features: grey smoothed at σ = 2 px and the learned foreground probability.
/// On the EMPS nanoparticle masks (k = 2, `examples/emps_iou.rs`) smoothed grey alone
/// gives a mean foreground IoU of 0.721 against 0.695 for Otsu on raw grey and 0.699 for
/// the reference mode, and no other hand-made feature, scale or clean-up did better
/// (docs/benchmarks.md, "Image-analysis validity"). Adding the learned map lifts it well
/// above that on images the network was not trained on (the halves' figures are in
/// docs/models/foreground.md).
pub const DEFAULT_FEATURES: [Feature; 2] = [
    Feature::Smoothed {
        sigma: Feature::DEFAULT_SIGMA,
    },
    Feature::Foreground,
];

impl Default for ClusterParams {
    fn default() -> Self {
        Self {
            k: 2,
            features: DEFAULT_FEATURES.to_vec(),
            position_weight: 0.0,
            n_init: 4,
            max_iterations: 300,
            tolerance: 1e-4,
            seed: 42,
            max_samples: 100_000,
            calibration: Calibration::default(),
            threads: 0,
            runtime: RuntimeConfig::default(),
        }
    }
}

impl ClusterParams {
    pub fn validate(&self) -> Result<()> {
        if !(2..=MAX_K).contains(&self.k) {
            return Err(Error::invalid(format!(
                "number of clusters k must be between 2 and {MAX_K}, got {}",
                self.k
            )));
        }
        for feature in &self.features {
            feature.validate()?;
        }
        if !(self.position_weight.is_finite() && self.position_weight >= 0.0) {
            return Err(Error::invalid(format!(
                "position weight must be a finite number ≥ 0 (0 = off), got {}",
                self.position_weight
            )));
        }
        if self.n_init == 0 || self.n_init > 1000 {
            return Err(Error::invalid(format!(
                "number of k-means restarts (n_init) must be between 1 and 1000, got {}",
                self.n_init
            )));
        }
        if self.max_iterations == 0 || self.max_iterations > 100_000 {
            return Err(Error::invalid(format!(
                "k-means iteration limit must be between 1 and 100000, got {}",
                self.max_iterations
            )));
        }
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) {
            return Err(Error::invalid(format!(
                "k-means tolerance must be a finite number greater than 0, got {}",
                self.tolerance
            )));
        }
        if self.max_samples < MIN_SAMPLES {
            return Err(Error::invalid(format!(
                "the fitting sample must allow at least {MIN_SAMPLES} pixels, got {}",
                self.max_samples
            )));
        }
        self.calibration.validate()
    }
}

pub(super) fn validate_inputs(
    view: &ImageView,
    params: &ClusterParams,
    extras: &[(&str, &GrayImage)],
) -> Result<()> {
    params.validate()?;
    view.ensure_finite()?;
    if params.features.is_empty() && extras.is_empty() && params.position_weight == 0.0 {
        return Err(Error::invalid(
            "no features chosen: pick at least one image feature or supply a feature map",
        ));
    }
    let n = view.width() * view.height();
    if n < params.k {
        return Err(Error::invalid(format!(
            "the image has {n} pixel(s), fewer than the {} clusters requested",
            params.k
        )));
    }
    let mut names: Vec<&str> = Vec::new();
    for (name, map) in extras {
        if name.trim().is_empty() {
            return Err(Error::invalid("every feature map needs a name"));
        }
        if names.contains(name) {
            return Err(Error::invalid(format!(
                "feature map name '{name}' is used twice"
            )));
        }
        names.push(name);
        if map.width != view.width() || map.height != view.height() || map.data.len() != n {
            return Err(Error::invalid(format!(
                "feature map '{name}' is {}×{} but the image is {}×{}",
                map.width,
                map.height,
                view.width(),
                view.height()
            )));
        }
        if let Some(i) = map.data.iter().position(|v| !v.is_finite()) {
            return Err(Error::invalid(format!(
                "feature map '{name}' holds a non-finite value ({}) at pixel ({}, {})",
                map.data[i],
                i % map.width,
                i / map.width
            )));
        }
    }
    Ok(())
}

pub(super) fn feature_names(params: &ClusterParams, extras: &[(&str, &GrayImage)]) -> Vec<String> {
    let mut names: Vec<String> = params.features.iter().map(Feature::name).collect();
    names.extend(extras.iter().map(|(n, _)| n.to_string()));
    if params.position_weight > 0.0 {
        names.push("x".into());
        names.push("y".into());
    }
    names
}
