//! The clustering settings as a person or a macro chooses them: one flat record,
//! exchanged as JSON with the Fiji plugin, whose defaults are [`ClusterParams::default`]'s
//! (so the dialog and the core cannot disagree).

use serde::{Deserialize, Serialize};

use super::*;

/// Flat, serialisable form of [`ClusterParams`] without the run-time fields (threads,
/// ONNX Runtime location). Every field is optional in JSON; missing ones take the
/// defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterSettings {
    pub k: usize,
    /// Grey value feature.
    pub grey: bool,
    /// Smoothed grey feature, Gaussian σ in pixels.
    pub smoothed: bool,
    pub sigma: f64,
    /// Local variance feature, window radius in pixels.
    pub local_variance: bool,
    pub variance_radius: usize,
    /// Learned foreground feature (needs ONNX Runtime).
    pub foreground: bool,
    pub position_weight: f64,
    pub seed: u64,
    pub n_init: usize,
    pub max_iterations: u64,
    pub tolerance: f64,
    pub max_samples: usize,
    pub pixel_width: f64,
    pub pixel_height: f64,
    pub unit: String,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        let p = ClusterParams::default();
        let sigma = p.features.iter().find_map(|f| match f {
            Feature::Smoothed { sigma } => Some(*sigma),
            _ => None,
        });
        let radius = p.features.iter().find_map(|f| match f {
            Feature::LocalVariance { radius } => Some(*radius),
            _ => None,
        });
        Self {
            k: p.k,
            grey: p.features.contains(&Feature::Grey),
            smoothed: sigma.is_some(),
            sigma: sigma.unwrap_or(Feature::DEFAULT_SIGMA),
            local_variance: radius.is_some(),
            variance_radius: radius.unwrap_or(Feature::DEFAULT_VARIANCE_RADIUS),
            foreground: p.features.contains(&Feature::Foreground),
            position_weight: p.position_weight,
            seed: p.seed,
            n_init: p.n_init,
            max_iterations: p.max_iterations,
            tolerance: p.tolerance,
            max_samples: p.max_samples,
            pixel_width: p.calibration.pixel_width,
            pixel_height: p.calibration.pixel_height,
            unit: p.calibration.unit,
        }
    }
}

impl ClusterSettings {
    /// Reads settings from JSON; an unknown key or a value of the wrong type is an error
    /// that names the field.
    pub fn from_json(text: &str) -> Result<Self> {
        let deserializer = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(deserializer).map_err(|err| {
            let field = err.path().to_string();
            Error::invalid(format!("clustering setting '{field}': {}", err.inner()))
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("settings serialise")
    }

    /// The parameters these settings describe (features in the order grey, smoothed,
    /// variance, foreground), validated.
    pub fn to_params(&self, threads: usize, runtime: RuntimeConfig) -> Result<ClusterParams> {
        let mut features = Vec::new();
        if self.grey {
            features.push(Feature::Grey);
        }
        if self.smoothed {
            features.push(Feature::Smoothed { sigma: self.sigma });
        }
        if self.local_variance {
            features.push(Feature::LocalVariance {
                radius: self.variance_radius,
            });
        }
        if self.foreground {
            features.push(Feature::Foreground);
        }
        let params = ClusterParams {
            k: self.k,
            features,
            position_weight: self.position_weight,
            n_init: self.n_init,
            max_iterations: self.max_iterations,
            tolerance: self.tolerance,
            seed: self.seed,
            max_samples: self.max_samples,
            calibration: Calibration {
                pixel_width: self.pixel_width,
                pixel_height: self.pixel_height,
                unit: self.unit.clone(),
            },
            threads,
            runtime,
        };
        params.validate()?;
        Ok(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_params_defaults() {
        let params = ClusterSettings::default()
            .to_params(0, RuntimeConfig::default())
            .unwrap();
        assert_eq!(params, ClusterParams::default());
    }

    #[test]
    fn missing_fields_take_defaults_and_errors_name_the_field() {
        let settings = ClusterSettings::from_json(r#"{"k": 5, "grey": true}"#).unwrap();
        assert_eq!(settings.k, 5);
        assert!(settings.grey);
        assert_eq!(settings.seed, ClusterSettings::default().seed);
        let err = ClusterSettings::from_json(r#"{"k": "five"}"#).unwrap_err();
        assert!(err.to_string().contains("'k'"), "{err}");
        let err = ClusterSettings::from_json(r#"{"kay": 5}"#).unwrap_err();
        assert!(err.to_string().contains("kay"), "{err}");
        let err = ClusterSettings::from_json(r#"{"k": 1}"#)
            .unwrap()
            .to_params(0, RuntimeConfig::default())
            .unwrap_err();
        assert!(err.to_string().contains("k must be"), "{err}");
    }
}
