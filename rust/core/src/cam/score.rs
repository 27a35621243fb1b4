//! Score-CAM (Wang et al., CVPR-W 2020): gradient-free. Each feature channel, upsampled
//! to the input and scaled to [0, 1], masks the input; the class probability of the
//! masked input becomes that channel's weight, and the map is `ReLU(Σ_k s_k · A_k)`.
//!
//! One forward pass per channel is expensive (256 for the published network), so only
//! the `top_channels` channels with the largest mean activation are scored by default;
//! the others, which barely light up the image, get weight 0.

use super::{score_in_batches, BatchScorer, RawMap};
use crate::error::{Error, Result};
use crate::image::resample::upsample;

/// Largest batch of masked inputs sent to the model at once.
pub const MAX_BATCH: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreCamParams {
    /// Masked inputs per forward pass (1 to [`MAX_BATCH`]).
    pub batch_size: usize,
    /// Channels scored, by decreasing mean activation; 0 scores all of them.
    pub top_channels: usize,
}

impl Default for ScoreCamParams {
    fn default() -> Self {
        Self {
            batch_size: 16,
            top_channels: 32,
        }
    }
}

impl ScoreCamParams {
    pub fn validate(&self) -> Result<()> {
        if self.batch_size == 0 || self.batch_size > MAX_BATCH {
            return Err(Error::invalid(format!(
                "Score-CAM batch size must be 1 to {MAX_BATCH}, got {}",
                self.batch_size
            )));
        }
        Ok(())
    }
}

/// Score-CAM over `features` (`channels` planes of `width`×`height`) for the `size`²
/// model `input`; `scorer` returns the explained class's probability per input.
pub fn score_cam(
    input: &[f32],
    size: usize,
    features: &[f32],
    channels: usize,
    (width, height): (usize, usize),
    params: &ScoreCamParams,
    scorer: &mut BatchScorer<'_>,
) -> Result<RawMap> {
    params.validate()?;
    let plane = width * height;
    if input.len() != size * size || plane == 0 || features.len() != channels * plane {
        return Err(Error::invalid(format!(
            "Score-CAM: {} input values for {size}², {} feature values for {channels}×{height}×{width}",
            input.len(),
            features.len()
        )));
    }
    let planes: Vec<&[f32]> = features.chunks_exact(plane).collect();
    let selected = strongest_channels(&planes, params.top_channels);

    let mut masked = Vec::new();
    let mut used = Vec::new();
    for &k in &selected {
        let Some(mask) = unit_mask(planes[k], width, height, size) else {
            continue; // a constant channel masks nothing in particular
        };
        masked.extend(input.iter().zip(&mask).map(|(x, m)| x * m));
        used.push(k);
    }
    let mut data = vec![0.0f32; plane];
    if !used.is_empty() {
        let scores = score_in_batches(&masked, size, params.batch_size, scorer)?;
        for (&k, &score) in used.iter().zip(&scores) {
            for (acc, &a) in data.iter_mut().zip(planes[k]) {
                *acc += score * a;
            }
        }
    }
    data.iter_mut().for_each(|v| *v = v.max(0.0));
    Ok(RawMap {
        width,
        height,
        data,
    })
}

/// Indices of the `top` channels with the largest mean activation (all when `top` is 0),
/// ties broken by index so the choice is deterministic.
fn strongest_channels(planes: &[&[f32]], top: usize) -> Vec<usize> {
    let means: Vec<f64> = planes
        .iter()
        .map(|p| p.iter().map(|&v| f64::from(v)).sum::<f64>() / p.len() as f64)
        .collect();
    let mut order: Vec<usize> = (0..planes.len()).collect();
    order.sort_by(|&a, &b| means[b].total_cmp(&means[a]).then(a.cmp(&b)));
    if top > 0 {
        order.truncate(top);
    }
    order
}

/// A channel upsampled to `size`² and scaled to [0, 1]; `None` when it is constant or
/// not finite.
fn unit_mask(channel: &[f32], width: usize, height: usize, size: usize) -> Option<Vec<f32>> {
    let (lo, hi) = channel
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let range = hi - lo;
    if !(range > 0.0 && range.is_finite()) {
        return None;
    }
    let mut mask = upsample(channel, width, height, size, size);
    mask.iter_mut()
        .for_each(|v| *v = ((*v - lo) / range).clamp(0.0, 1.0));
    Some(mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model whose class probability is the mean of the input's left half.
    fn left_half_scorer(size: usize) -> impl FnMut(&[f32], usize) -> Result<Vec<f32>> {
        move |inputs, n| {
            Ok(inputs
                .chunks_exact(size * size)
                .take(n)
                .map(|img| {
                    let sum: f32 = img
                        .chunks_exact(size)
                        .flat_map(|row| &row[..size / 2])
                        .sum();
                    sum / (size * size / 2) as f32
                })
                .collect())
        }
    }

    #[test]
    fn channels_covering_the_evidence_get_the_weight() {
        let size = 8;
        let input = vec![1.0f32; size * size];
        // Channel 0 lights the left column, channel 1 the right one, channel 2 is flat.
        let features = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.5, 0.5, 0.5, 0.5];
        let mut scorer = left_half_scorer(size);
        let params = ScoreCamParams {
            batch_size: 2,
            top_channels: 0,
        };
        let map = score_cam(&input, size, &features, 3, (2, 2), &params, &mut scorer).unwrap();
        assert_eq!((map.width, map.height), (2, 2));
        assert!(map.data[0] > map.data[1], "{:?}", map.data);
        assert_eq!(map.data[0], map.data[2]);
        assert!(map.data.iter().all(|v| v.is_finite() && *v >= 0.0));
    }

    #[test]
    fn top_channels_and_constant_channels() {
        let planes: [&[f32]; 3] = [&[0.0, 1.0], &[5.0, 5.0], &[2.0, 3.0]];
        assert_eq!(strongest_channels(&planes, 2), [1, 2]);
        assert_eq!(strongest_channels(&planes, 0), [1, 2, 0]);
        assert!(unit_mask(&[5.0, 5.0], 2, 1, 4).is_none());
        assert!(unit_mask(&[f32::NAN, 5.0], 2, 1, 4).is_none());
        let mask = unit_mask(&[0.0, 2.0], 2, 1, 4).unwrap();
        assert!(mask.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn batch_size_is_validated() {
        let params = ScoreCamParams {
            batch_size: 0,
            top_channels: 0,
        };
        assert!(params.validate().is_err());
    }
}
