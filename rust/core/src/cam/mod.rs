//! Class activation maps.
//!
//! For a head made of global average pooling and one linear layer, the class score is
//! `y_c = Σ_k w_ck · mean(A_k) + b_c`, so `∂y_c/∂A_k(i,j) = w_ck / (h·w)`: Grad-CAM's
//! channel weights are the linear weights up to a positive constant, and
//! CAM = ReLU(Σ_k w_ck · A_k) equals Grad-CAM once normalised.
//!
//! Other methods, one module each: [`score`] (Score-CAM, gradient-free), [`eigen`]
//! (Eigen-CAM, first principal component of the feature maps, class-agnostic),
//! [`occlusion`] (model-agnostic, needs only `logits`), and [`faithfulness`]
//! (deletion and insertion curves that measure how well a map explains the model).

pub mod eigen;
pub mod faithfulness;
pub mod occlusion;
pub mod score;

use crate::error::{Error, Result};

pub use occlusion::OcclusionParams;
pub use score::ScoreCamParams;

/// How a class activation map is computed.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum CamMethod {
    /// Exact CAM from the linear head (equals Grad-CAM for this head).
    #[default]
    Cam,
    /// Score-CAM: feature channels weighted by the class probability of the image
    /// masked by each channel.
    ScoreCam(ScoreCamParams),
    /// Eigen-CAM: first principal component of the feature maps (ignores the class).
    EigenCam,
    /// Occlusion sensitivity: drop of the class probability when a patch is hidden.
    Occlusion(OcclusionParams),
}

impl CamMethod {
    /// Names accepted by [`CamMethod::parse`], in the order shown to users.
    pub const NAMES: [&'static str; 4] = ["cam", "score-cam", "eigen-cam", "occlusion"];

    pub fn name(&self) -> &'static str {
        match self {
            CamMethod::Cam => "cam",
            CamMethod::ScoreCam(_) => "score-cam",
            CamMethod::EigenCam => "eigen-cam",
            CamMethod::Occlusion(_) => "occlusion",
        }
    }

    /// The method called `name`, with default parameters.
    pub fn parse(name: &str) -> Result<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "cam" | "grad-cam" => Ok(CamMethod::Cam),
            "score-cam" => Ok(CamMethod::ScoreCam(ScoreCamParams::default())),
            "eigen-cam" => Ok(CamMethod::EigenCam),
            "occlusion" => Ok(CamMethod::Occlusion(OcclusionParams::default())),
            other => Err(Error::invalid(format!(
                "unknown CAM method '{other}' (methods: {})",
                Self::NAMES.join(", ")
            ))),
        }
    }

    /// Whether the method reads the model's `features` output.
    pub fn needs_features(&self) -> bool {
        !matches!(self, CamMethod::Occlusion(_))
    }

    /// Whether the method reruns the model on altered copies of the input, so the input
    /// must be kept after the forward pass.
    pub fn perturbs_input(&self) -> bool {
        matches!(self, CamMethod::ScoreCam(_) | CamMethod::Occlusion(_))
    }

    /// Checks the parameters for a model whose input is `input_size`² pixels.
    pub fn validate(&self, input_size: usize) -> Result<()> {
        match self {
            CamMethod::ScoreCam(params) => params.validate(),
            CamMethod::Occlusion(params) => params.resolve(input_size).map(|_| ()),
            CamMethod::Cam | CamMethod::EigenCam => Ok(()),
        }
    }
}

/// A raw map at the resolution the method works at (feature map or model input),
/// before upsampling to the image.
#[derive(Debug, Clone, PartialEq)]
pub struct RawMap {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

/// Scores a batch of model inputs (`count` × size² values) and returns one number per
/// input, typically the probability of the explained class. The model splits the batch
/// further when its batch dimension is fixed.
pub type BatchScorer<'a> = dyn FnMut(&[f32], usize) -> Result<Vec<f32>> + 'a;

/// Number of `size`² inputs in `inputs`, checked.
fn input_count(inputs: &[f32], size: usize) -> Result<usize> {
    let plane = size * size;
    if plane == 0 || inputs.is_empty() || !inputs.len().is_multiple_of(plane) {
        return Err(Error::invalid(format!(
            "{} input values do not make whole {size}×{size} images",
            inputs.len()
        )));
    }
    Ok(inputs.len() / plane)
}

/// Runs `scorer` over `inputs` in chunks of at most `batch_size` images.
pub(crate) fn score_in_batches(
    inputs: &[f32],
    size: usize,
    batch_size: usize,
    scorer: &mut BatchScorer<'_>,
) -> Result<Vec<f32>> {
    let count = input_count(inputs, size)?;
    let plane = size * size;
    let mut scores = Vec::with_capacity(count);
    for chunk in inputs.chunks(batch_size.max(1) * plane) {
        let n = chunk.len() / plane;
        let chunk_scores = scorer(chunk, n)?;
        if chunk_scores.len() != n {
            return Err(Error::Runtime(format!(
                "scored {} of {n} inputs",
                chunk_scores.len()
            )));
        }
        scores.extend(chunk_scores);
    }
    Ok(scores)
}

/// Which class a map explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CamTarget {
    /// No map is computed.
    None,
    /// The predicted class.
    Predicted,
    /// A given class index.
    Class(usize),
}

/// A map of values in [0, 1], row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct CamMap {
    pub class_index: usize,
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

/// `ReLU(Σ_k w_k · A_k)` over feature maps stored `[channels][height][width]`.
pub fn class_activation(features: &[f32], channels: usize, weights: &[f32]) -> Result<Vec<f32>> {
    if channels == 0 || weights.len() != channels || !features.len().is_multiple_of(channels) {
        return Err(Error::Model(format!(
            "features hold {} values for {channels} channels but the linear layer has {} \
             weights per class",
            features.len(),
            weights.len()
        )));
    }
    let plane = features.len() / channels;
    let mut map = vec![0.0f32; plane];
    for (channel, &weight) in features.chunks_exact(plane).zip(weights) {
        for (acc, &a) in map.iter_mut().zip(channel) {
            *acc += weight * a;
        }
    }
    map.iter_mut().for_each(|v| *v = v.max(0.0));
    Ok(map)
}

/// Scales a map to [0, 1] by its maximum. NaN becomes 0, and a map without any positive
/// finite value (nothing in the image supports the class) becomes all zeros.
pub fn normalise(map: &mut [f32]) {
    for v in map.iter_mut() {
        if v.is_nan() {
            *v = 0.0;
        }
    }
    let max = map.iter().cloned().fold(0.0f32, f32::max);
    if max > 0.0 && max.is_finite() {
        map.iter_mut().for_each(|v| *v /= max);
    } else {
        map.iter_mut().for_each(|v| *v = 0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_sum_then_relu() {
        // Two channels of a 1×2 map.
        let features = [1.0, -1.0, 2.0, 0.5];
        let map = class_activation(&features, 2, &[1.0, -1.0]).unwrap();
        assert_eq!(map, vec![0.0, 0.0]);
        let map = class_activation(&features, 2, &[1.0, 1.0]).unwrap();
        assert_eq!(map, vec![3.0, 0.0]);
    }

    #[test]
    fn mismatched_weights_are_a_model_error() {
        assert!(class_activation(&[1.0; 6], 2, &[1.0; 3]).is_err());
    }

    #[test]
    fn normalise_handles_nan_and_empty_maps() {
        let mut map = [f32::NAN, 2.0, 1.0];
        normalise(&mut map);
        assert_eq!(map, [0.0, 1.0, 0.5]);
        let mut empty = [0.0, 0.0];
        normalise(&mut empty);
        assert_eq!(empty, [0.0, 0.0]);
        let mut infinite = [f32::INFINITY, 1.0];
        normalise(&mut infinite);
        assert_eq!(infinite, [0.0, 0.0]);
    }
}
