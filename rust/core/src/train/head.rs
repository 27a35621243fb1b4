//! The base model's head as training uses it: its logits as prior inputs of the new
//! head, and as the offsets of a residual head (with the replay prototypes' logits).

use super::features::ImageFeatures;
use crate::error::{Error, Result};
use crate::model::onnx_head::gemm_bias;
use crate::model::Model;

/// The base model's linear head (`[classes][channels]`, row-major) when a prior is
/// asked for.
pub(super) fn base_head(model: &Model, prior_weight: f64) -> Result<Option<Vec<f32>>> {
    if !(prior_weight.is_finite() && prior_weight >= 0.0) {
        return Err(Error::invalid(format!(
            "prior weight {prior_weight} must be a number of at least 0"
        )));
    }
    if prior_weight == 0.0 {
        return Ok(None);
    }
    let rows: Option<Vec<&[f32]>> = (0..model.info().classes.len())
        .map(|c| model.linear_head_row(c))
        .collect();
    Ok(rows.map(|rows| rows.concat()))
}

/// The base model's head restricted to the new classes, for a residual head: row `c`
/// is the base's row of the class named like new class `c`, divided by the base's
/// temperature so that the offsets are its calibrated logits.
pub(super) struct ResidualBase {
    /// New class → base class.
    map: Vec<usize>,
    base_classes: usize,
    temperature: f64,
    /// `[base classes][channels]` and `base classes`, as the base computes its logits.
    weights: Vec<f32>,
    biases: Vec<f32>,
}

/// The base's head for a residual fit when every class of `classes` names a distinct
/// base class (ignoring case), otherwise `None`.
pub(super) fn residual_base(
    model: &Model,
    bytes: &[u8],
    classes: &[String],
) -> Result<Option<ResidualBase>> {
    let base_classes = &model.info().classes;
    let map: Option<Vec<usize>> = classes
        .iter()
        .map(|c| base_classes.iter().position(|b| b.eq_ignore_ascii_case(c)))
        .collect();
    let Some(map) = map else { return Ok(None) };
    if (1..map.len()).any(|i| map[..i].contains(&map[i])) {
        return Ok(None);
    }
    let rows: Option<Vec<&[f32]>> = (0..base_classes.len())
        .map(|c| model.linear_head_row(c))
        .collect();
    let Some(rows) = rows else { return Ok(None) };
    Ok(Some(ResidualBase {
        map,
        base_classes: base_classes.len(),
        temperature: f64::from(model.info().calibration.temperature),
        weights: rows.concat(),
        biases: gemm_bias(bytes, "logits", base_classes.len())?,
    }))
}

impl ResidualBase {
    /// The base's logits of feature rows (`n × channels`), as its head computes them.
    pub(super) fn base_logits(&self, rows: &[f32], channels: usize) -> Vec<f32> {
        rows.chunks_exact(channels)
            .flat_map(|row| {
                self.weights
                    .chunks_exact(channels)
                    .zip(&self.biases)
                    .map(|(w, &b)| {
                        let dot: f64 = w
                            .iter()
                            .zip(row)
                            .map(|(a, x)| f64::from(*a) * f64::from(*x))
                            .sum();
                        (dot + f64::from(b)) as f32
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Sets `image`'s offsets from the base logits of its rows.
    pub(super) fn set_offsets(&self, image: &mut ImageFeatures) {
        image.offsets = image
            .logits
            .chunks_exact(self.base_classes)
            .flat_map(|row| {
                self.map
                    .iter()
                    .map(|&b| (f64::from(row[b]) / self.temperature) as f32)
            })
            .collect();
    }

    /// A head on raw features plus the offsets, as one head: the base's rows over the
    /// temperature added to the correction's.
    pub(super) fn fold(&self, weights: &[f32], biases: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let channels = weights.len() / biases.len();
        let mut folded_weights = Vec::with_capacity(weights.len());
        let mut folded_biases = Vec::with_capacity(biases.len());
        for (c, &b) in self.map.iter().enumerate() {
            let base_row = &self.weights[b * channels..(b + 1) * channels];
            let row = &weights[c * channels..(c + 1) * channels];
            folded_weights.extend(
                row.iter()
                    .zip(base_row)
                    .map(|(&w, &v)| (f64::from(w) + f64::from(v) / self.temperature) as f32),
            );
            folded_biases
                .push((f64::from(biases[c]) + f64::from(self.biases[b]) / self.temperature) as f32);
        }
        (folded_weights, folded_biases)
    }
}

/// Appends to every feature row of `image` the base logits (without bias) it gives.
pub(super) fn append_logits(image: &mut ImageFeatures, head: &[f32], channels: usize) {
    let extended = image
        .values
        .chunks_exact(channels)
        .flat_map(|row| {
            let logits: Vec<f32> = head
                .chunks_exact(channels)
                .map(|w| {
                    w.iter()
                        .zip(row)
                        .map(|(a, b)| f64::from(a * b))
                        .sum::<f64>() as f32
                })
                .collect();
            row.iter().copied().chain(logits).collect::<Vec<_>>()
        })
        .collect();
    image.values = extended;
}

/// Weights on `[features, base logits]` folded into weights on the features alone:
/// each logit is `head · features`, so its weight adds that multiple of the head row.
pub(super) fn fold_logits(weights: &[f32], head: &[f32], channels: usize) -> Vec<f32> {
    let inputs = channels + head.len() / channels;
    weights
        .chunks_exact(inputs)
        .flat_map(|row| {
            let mut folded: Vec<f64> = row[..channels].iter().map(|&w| f64::from(w)).collect();
            for (&w, base_row) in row[channels..].iter().zip(head.chunks_exact(channels)) {
                for (f, &b) in folded.iter_mut().zip(base_row) {
                    *f += f64::from(w) * f64::from(b);
                }
            }
            folded.into_iter().map(|v| v as f32).collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn folded_logit_weights_give_the_same_scores() {
        // Two features, one base class with head row (2, -1); the new head weighs
        // [features, base logit] as (0.5, 0.25, 3).
        let (features, head) = ([1.5f32, -2.0], [2.0f32, -1.0]);
        let logit: f32 = head.iter().zip(&features).map(|(a, b)| a * b).sum();
        let direct = 0.5 * features[0] + 0.25 * features[1] + 3.0 * logit;
        let folded = super::fold_logits(&[0.5, 0.25, 3.0], &head, 2);
        let score: f32 = folded.iter().zip(&features).map(|(a, b)| a * b).sum();
        assert!((score - direct).abs() < 1e-5, "{score} != {direct}");
    }
}
