//! Calibrated probabilities and the "unfamiliar image" signal (docs/model-format.md,
//! *Calibration*): `visualccc.temperature` divides the logits before the softmax, and
//! `visualccc.unfamiliar` holds the threshold on the energy score
//! `−T · logsumexp(logits / T)` (averaged over an image's tiles) above which an image is
//! unlike the model's training data. Both are optional; without them T = 1 and no image
//! is flagged, so older models behave as before.

use serde::Serialize;

use super::softmax;

/// A model's calibration, read from its metadata.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Calibration {
    /// Softmax temperature T (1 = uncalibrated).
    pub temperature: f32,
    /// Energy score above which an image is reported unfamiliar; `None` when the model
    /// does not say.
    pub unfamiliar_threshold: Option<f32>,
}

impl Default for Calibration {
    fn default() -> Self {
        Self {
            temperature: 1.0,
            unfamiliar_threshold: None,
        }
    }
}

#[derive(serde::Deserialize)]
struct UnfamiliarMeta {
    score: String,
    threshold: f64,
}

impl Calibration {
    /// Parses the metadata values `visualccc.temperature` and `visualccc.unfamiliar`;
    /// the error names the bad key.
    pub fn from_metadata(
        temperature: Option<&str>,
        unfamiliar: Option<&str>,
    ) -> std::result::Result<Self, String> {
        let temperature = match temperature {
            None => 1.0,
            Some(text) => match text.trim().parse::<f32>() {
                Ok(t) if t.is_finite() && (0.01..=100.0).contains(&t) => t,
                _ => {
                    return Err(format!(
                        "bad visualccc.temperature '{text}': expected a number in 0.01..=100"
                    ))
                }
            },
        };
        let unfamiliar_threshold = match unfamiliar {
            None => None,
            Some(text) => {
                let meta: UnfamiliarMeta = serde_json::from_str(text)
                    .map_err(|err| format!("bad visualccc.unfamiliar '{text}': {err}"))?;
                if meta.score != "energy" || !meta.threshold.is_finite() {
                    return Err(format!(
                        "bad visualccc.unfamiliar '{text}': expected {{\"score\": \"energy\", \
                         \"threshold\": <finite number>}}"
                    ));
                }
                Some(meta.threshold as f32)
            }
        };
        Ok(Self {
            temperature,
            unfamiliar_threshold,
        })
    }

    /// Class probabilities: softmax(logits / T).
    pub fn probabilities(&self, logits: &[f32]) -> Vec<f32> {
        if self.temperature == 1.0 {
            return softmax(logits);
        }
        let scaled: Vec<f32> = logits.iter().map(|l| l / self.temperature).collect();
        softmax(&scaled)
    }

    /// Energy score of one input, −T · logsumexp(logits / T): low for inputs like the
    /// training data, high for inputs the model has no confident answer to.
    pub fn energy(&self, logits: &[f32]) -> f32 {
        let t = f64::from(self.temperature);
        let scaled: Vec<f64> = logits.iter().map(|&l| f64::from(l) / t).collect();
        let max = scaled.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = scaled.iter().map(|z| (z - max).exp()).sum();
        (-t * (max + sum.ln())) as f32
    }

    /// Whether an image whose (tile-averaged) energy is `energy` is unfamiliar; `None`
    /// when the model has no threshold.
    pub fn is_unfamiliar(&self, energy: f32) -> Option<bool> {
        self.unfamiliar_threshold.map(|t| energy > t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_leave_probabilities_unchanged() {
        let c = Calibration::from_metadata(None, None).unwrap();
        assert_eq!(c, Calibration::default());
        assert_eq!(c.probabilities(&[1.0, 2.0]), softmax(&[1.0, 2.0]));
        assert_eq!(c.is_unfamiliar(1e9), None);
    }

    #[test]
    fn temperature_softens_and_energy_rises_with_doubt() {
        let c = Calibration::from_metadata(
            Some("2.0"),
            Some(r#"{"score": "energy", "threshold": -3.0, "quantile": 0.95}"#),
        )
        .unwrap();
        let sharp = softmax(&[4.0, 0.0, 0.0]);
        let soft = c.probabilities(&[4.0, 0.0, 0.0]);
        assert!(soft[0] < sharp[0] && soft[0] > 0.5);
        assert!((soft.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        let confident = c.energy(&[10.0, 0.0, 0.0]);
        let doubtful = c.energy(&[0.1, 0.0, 0.0]);
        assert!(confident < doubtful);
        assert_eq!(c.is_unfamiliar(confident), Some(false));
        assert_eq!(c.is_unfamiliar(doubtful), Some(true));
    }

    #[test]
    fn bad_metadata_names_the_key() {
        for t in ["0", "-1", "nan", "x"] {
            let err = Calibration::from_metadata(Some(t), None).unwrap_err();
            assert!(err.contains("visualccc.temperature"), "{err}");
        }
        for u in ["{}", "3", r#"{"score": "maxlogit", "threshold": 1}"#] {
            let err = Calibration::from_metadata(None, Some(u)).unwrap_err();
            assert!(err.contains("visualccc.unfamiliar"), "{err}");
        }
    }
}
