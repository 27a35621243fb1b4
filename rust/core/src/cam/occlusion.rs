//! Occlusion sensitivity (Zeiler & Fergus, ECCV 2014): a square patch of the input is
//! replaced by a constant, and the drop of the class probability is credited to every
//! pixel the patch covered (averaged over the patches covering each pixel). It treats
//! the model as a black box, so it works for models without a `features` output.

use super::{score_in_batches, BatchScorer, RawMap};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OcclusionParams {
    /// Side of the square patch in model-input pixels; 0 = input size / 8.
    pub patch: usize,
    /// Step between patches; 0 = half the patch. At most the patch, so every pixel is covered.
    pub stride: usize,
    /// Grey value in [0, 1] the patch is filled with.
    pub baseline: f32,
    /// Occluded inputs per forward pass.
    pub batch_size: usize,
}

impl Default for OcclusionParams {
    fn default() -> Self {
        Self {
            patch: 0,
            stride: 0,
            baseline: 0.0,
            batch_size: 16,
        }
    }
}

impl OcclusionParams {
    /// The patch and stride for an `input_size`² input, checked.
    pub fn resolve(&self, input_size: usize) -> Result<(usize, usize)> {
        let patch = if self.patch == 0 {
            (input_size / 8).max(1)
        } else {
            self.patch
        };
        let stride = if self.stride == 0 {
            (patch / 2).max(1)
        } else {
            self.stride
        };
        if patch > input_size {
            return Err(Error::invalid(format!(
                "occlusion patch {patch} is larger than the {input_size}-pixel model input"
            )));
        }
        if stride > patch {
            return Err(Error::invalid(format!(
                "occlusion stride {stride} is larger than the patch {patch}: pixels would be missed"
            )));
        }
        if !(0.0..=1.0).contains(&self.baseline) {
            return Err(Error::invalid(format!(
                "occlusion baseline must be a grey value in [0, 1], got {}",
                self.baseline
            )));
        }
        if self.batch_size == 0 || self.batch_size > super::score::MAX_BATCH {
            return Err(Error::invalid(format!(
                "occlusion batch size must be 1 to {}, got {}",
                super::score::MAX_BATCH,
                self.batch_size
            )));
        }
        Ok((patch, stride))
    }
}

/// Patch origins along one axis: every `stride`, plus the last position flush with the
/// edge so the border is covered.
fn origins(size: usize, patch: usize, stride: usize) -> Vec<usize> {
    let last = size - patch;
    let mut positions: Vec<usize> = (0..=last).step_by(stride).collect();
    if positions.last() != Some(&last) {
        positions.push(last);
    }
    positions
}

/// Occlusion map at the input's resolution. `reference` is the class probability of the
/// unoccluded input; `scorer` gives it for occluded inputs.
pub fn occlusion(
    input: &[f32],
    size: usize,
    reference: f32,
    params: &OcclusionParams,
    scorer: &mut BatchScorer<'_>,
) -> Result<RawMap> {
    let (patch, stride) = params.resolve(size)?;
    if input.len() != size * size {
        return Err(Error::invalid(format!(
            "occlusion: {} input values for a {size}² input",
            input.len()
        )));
    }
    let axis = origins(size, patch, stride);
    let patches: Vec<(usize, usize)> = axis
        .iter()
        .flat_map(|&y| axis.iter().map(move |&x| (x, y)))
        .collect();
    let mut drops = Vec::with_capacity(patches.len());
    // Build and score the occluded inputs one batch at a time to bound memory.
    for group in patches.chunks(params.batch_size) {
        let mut batch = Vec::with_capacity(group.len() * size * size);
        for &(x0, y0) in group {
            let start = batch.len();
            batch.extend_from_slice(input);
            for row in batch[start..].chunks_exact_mut(size).skip(y0).take(patch) {
                row[x0..x0 + patch].fill(params.baseline);
            }
        }
        let scores = score_in_batches(&batch, size, params.batch_size, scorer)?;
        drops.extend(scores.iter().map(|&s| reference - s));
    }
    let mut total = vec![0.0f64; size * size];
    let mut count = vec![0u32; size * size];
    for (&(x0, y0), &drop) in patches.iter().zip(&drops) {
        let drop = if drop.is_finite() {
            f64::from(drop)
        } else {
            0.0
        };
        for y in y0..y0 + patch {
            for x in x0..x0 + patch {
                total[y * size + x] += drop;
                count[y * size + x] += 1;
            }
        }
    }
    let data = total
        .iter()
        .zip(&count)
        .map(|(&t, &c)| (t / f64::from(c.max(1))).max(0.0) as f32)
        .collect();
    Ok(RawMap {
        width: size,
        height: size,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_cover_every_pixel() {
        assert_eq!(origins(10, 4, 3), [0, 3, 6]);
        assert_eq!(origins(10, 4, 4), [0, 4, 6]);
        assert_eq!(origins(4, 4, 1), [0]);
    }

    #[test]
    fn hiding_the_evidence_lights_it_up() {
        // The "model" scores the brightness of the top-left 2×2 corner.
        let size = 8;
        let mut scorer = |inputs: &[f32], n: usize| -> Result<Vec<f32>> {
            Ok(inputs
                .chunks_exact(size * size)
                .take(n)
                .map(|img| (img[0] + img[1] + img[size] + img[size + 1]) / 4.0)
                .collect())
        };
        let input = vec![1.0f32; size * size];
        let params = OcclusionParams {
            patch: 2,
            stride: 2,
            baseline: 0.0,
            batch_size: 3,
        };
        let map = occlusion(&input, size, 1.0, &params, &mut scorer).unwrap();
        assert_eq!((map.width, map.height, map.data.len()), (8, 8, 64));
        assert_eq!(map.data[0], 1.0);
        assert_eq!(map.data[size + 1], 1.0);
        assert!(map.data[2..size].iter().all(|&v| v == 0.0));
    }

    #[test]
    fn parameters_are_checked_against_the_input() {
        assert_eq!(OcclusionParams::default().resolve(256).unwrap(), (32, 16));
        assert_eq!(OcclusionParams::default().resolve(4).unwrap(), (1, 1));
        let too_big = OcclusionParams {
            patch: 65,
            ..Default::default()
        };
        assert!(too_big.resolve(64).is_err());
        let gaps = OcclusionParams {
            patch: 4,
            stride: 5,
            ..Default::default()
        };
        assert!(gaps.resolve(64).is_err());
        let bad_baseline = OcclusionParams {
            baseline: f32::NAN,
            ..Default::default()
        };
        assert!(bad_baseline.resolve(64).is_err());
    }
}
