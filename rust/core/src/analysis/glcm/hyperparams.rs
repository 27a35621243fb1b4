//! Texture parameters: features, grey levels, offsets, windows; defaults and validation.

use super::*;

/// A Haralick texture feature, named as in scikit-image's `graycoprops`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feature {
    Contrast,
    Dissimilarity,
    Homogeneity,
    Asm,
    Energy,
    Correlation,
    Entropy,
    Mean,
    Variance,
}

impl Feature {
    pub const ALL: [Feature; 9] = [
        Feature::Contrast,
        Feature::Dissimilarity,
        Feature::Homogeneity,
        Feature::Asm,
        Feature::Energy,
        Feature::Correlation,
        Feature::Entropy,
        Feature::Mean,
        Feature::Variance,
    ];

    /// scikit-image's property name (`"ASM"` upper case, the others lower case).
    pub fn name(self) -> &'static str {
        match self {
            Feature::Contrast => "contrast",
            Feature::Dissimilarity => "dissimilarity",
            Feature::Homogeneity => "homogeneity",
            Feature::Asm => "ASM",
            Feature::Energy => "energy",
            Feature::Correlation => "correlation",
            Feature::Entropy => "entropy",
            Feature::Mean => "mean",
            Feature::Variance => "variance",
        }
    }

    /// Parses a property name, ignoring case.
    pub fn from_name(name: &str) -> Result<Self> {
        Feature::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| {
                let names: Vec<_> = Feature::ALL.iter().map(|f| f.name()).collect();
                Error::invalid(format!(
                    "unknown texture feature \"{name}\"; use one of {}",
                    names.join(", ")
                ))
            })
    }

    /// Features computed when the caller names none: the published workflow's texture
    /// summary (contrast, homogeneity, energy, correlation).
    pub const DEFAULT: [Feature; 4] = [
        Feature::Contrast,
        Feature::Homogeneity,
        Feature::Energy,
        Feature::Correlation,
    ];

    pub(super) fn needs_histogram(self) -> bool {
        matches!(self, Feature::Asm | Feature::Energy | Feature::Entropy)
    }
}

impl Quantization {
    /// The name used in settings and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Quantization::Auto => "auto",
            Quantization::MinMax => "minmax",
            Quantization::Direct => "direct",
        }
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How pixel values become grey levels `0..levels`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quantization {
    /// 8-bit and RGB (luminance) images: equal bins over the fixed range 0–255,
    /// `floor(v · levels / 256)`, so 256 levels is the identity and images stay comparable.
    /// 16- and 32-bit images: as [`Quantization::MinMax`].
    #[default]
    Auto,
    /// Equal bins over the image's own range: `min(levels − 1, floor((v − min) / (max − min)
    /// · levels))` in double precision; a constant image becomes all 0.
    MinMax,
    /// The values already are grey levels: integers in `0..levels` (e.g. a 0/1 mask).
    Direct,
}

/// GLCM settings shared by texture maps and whole-image features.
#[derive(Debug, Clone, PartialEq)]
pub struct GlcmParams {
    /// Number of grey levels, 2–256.
    pub levels: usize,
    /// Pixel-pair distances, each ≥ 1.
    pub distances: Vec<usize>,
    /// Pair angles in degrees, each one of [`ALLOWED_ANGLES`].
    pub angles_deg: Vec<f64>,
    /// Report the mean over the angles (per distance) instead of one result per angle.
    pub average_angles: bool,
    /// Count each pair both ways (`C + Cᵀ`).
    pub symmetric: bool,
    /// Normalise [`glcm_matrix`] to sum 1; features do not depend on it.
    pub normed: bool,
    pub quantization: Quantization,
    pub features: Vec<Feature>,
}

impl Default for GlcmParams {
    fn default() -> Self {
        Self {
            levels: 32,
            distances: vec![1],
            angles_deg: ALLOWED_ANGLES.to_vec(),
            average_angles: true,
            symmetric: true,
            normed: true,
            quantization: Quantization::Auto,
            features: Feature::DEFAULT.to_vec(),
        }
    }
}

pub(super) fn validate_levels(levels: usize) -> Result<()> {
    if !(MIN_LEVELS..=MAX_LEVELS).contains(&levels) {
        return Err(Error::invalid(format!(
            "the number of grey levels must be between {MIN_LEVELS} and {MAX_LEVELS} (got {levels})"
        )));
    }
    Ok(())
}

impl GlcmParams {
    pub fn validate(&self) -> Result<()> {
        validate_levels(self.levels)?;
        if self.distances.is_empty() {
            return Err(Error::invalid("at least one pixel-pair distance is needed"));
        }
        if self.distances.contains(&0) {
            return Err(Error::invalid(format!(
                "pixel-pair distances must be at least 1 (got {:?})",
                self.distances
            )));
        }
        if self.angles_deg.is_empty() {
            return Err(Error::invalid("at least one pixel-pair angle is needed"));
        }
        for &a in &self.angles_deg {
            angle_radians(a)?;
        }
        if self.features.is_empty() {
            return Err(Error::invalid("at least one texture feature is needed"));
        }
        Ok(())
    }

    /// (distance index, angle index, row offset, column offset) for every combination.
    pub(super) fn offsets(&self) -> Vec<(usize, usize, usize, isize)> {
        let mut out = Vec::new();
        for (di, &d) in self.distances.iter().enumerate() {
            for (ai, &a) in self.angles_deg.iter().enumerate() {
                let (dr, dc) = offset(d, a);
                out.push((di, ai, dr, dc));
            }
        }
        out
    }

    pub(super) fn keys(&self) -> Vec<(MapKey, usize, usize, Option<usize>)> {
        let mut keys = Vec::new();
        for (fi, &feature) in self.features.iter().enumerate() {
            for (di, &distance) in self.distances.iter().enumerate() {
                if self.average_angles {
                    let key = MapKey {
                        feature,
                        distance,
                        angle_deg: None,
                    };
                    keys.push((key, fi, di, None));
                } else {
                    for (ai, &angle) in self.angles_deg.iter().enumerate() {
                        let key = MapKey {
                            feature,
                            distance,
                            angle_deg: Some(angle),
                        };
                        keys.push((key, fi, di, Some(ai)));
                    }
                }
            }
        }
        keys
    }
}

pub(super) fn angle_radians(deg: f64) -> Result<f64> {
    // The same doubles as NumPy's 0, np.pi/4, np.pi/2, 3*np.pi/4.
    let radians = [0.0, FRAC_PI_4, FRAC_PI_2, 3.0 * FRAC_PI_4];
    ALLOWED_ANGLES
        .iter()
        .position(|&a| a == deg)
        .map(|i| radians[i])
        .ok_or_else(|| {
            Error::invalid(format!(
                "pixel-pair angle {deg}° is not supported; use 0, 45, 90 or 135"
            ))
        })
}

/// scikit-image's `(round(sin θ·d), round(cos θ·d))`; the row offset is never negative for
/// the allowed angles.
pub(super) fn offset(distance: usize, angle_deg: f64) -> (usize, isize) {
    let theta = angle_radians(angle_deg).unwrap_or(0.0);
    let d = distance as f64;
    (
        (theta.sin() * d).round() as usize,
        (theta.cos() * d).round() as isize,
    )
}

/// Sliding-window texture settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TextureParams {
    /// Window side, odd and at least 3.
    pub window: usize,
    pub glcm: GlcmParams,
    /// Worker threads; 0 uses all available cores. Results do not depend on it.
    pub threads: usize,
}

impl Default for TextureParams {
    fn default() -> Self {
        Self {
            window: 7,
            glcm: GlcmParams::default(),
            threads: 0,
        }
    }
}

impl TextureParams {
    /// The published tool's texture step: a 0/1 image, 5×5 windows, levels 2, distance 1,
    /// angle 0, symmetric and normed, contrast only.
    pub fn reference() -> Self {
        Self {
            window: 5,
            glcm: GlcmParams {
                levels: 2,
                distances: vec![1],
                angles_deg: vec![0.0],
                average_angles: false,
                symmetric: true,
                normed: true,
                quantization: Quantization::Direct,
                features: vec![Feature::Contrast],
            },
            threads: 0,
        }
    }

    /// These settings as a JSON object: `window`, `levels`, `distances`, `angles`,
    /// `average_angles`, `symmetric`, `quantization`, `features` (for reports, and the
    /// defaults for dialogs).
    pub fn to_json(&self) -> serde_json::Value {
        let g = &self.glcm;
        let features: Vec<_> = g.features.iter().map(|f| f.name()).collect();
        serde_json::json!({
            "window": self.window,
            "levels": g.levels,
            "distances": g.distances,
            "angles": g.angles_deg,
            "average_angles": g.average_angles,
            "symmetric": g.symmetric,
            "quantization": g.quantization.name(),
            "features": features,
        })
    }

    /// The defaults as JSON, for dialogs and scripting front ends (see [`Self::to_json`]).
    pub fn defaults_json() -> String {
        Self::default().to_json().to_string()
    }

    pub fn validate(&self) -> Result<()> {
        let w = self.window;
        if w < 3 || w & 1 == 0 || w > MAX_WINDOW {
            return Err(Error::invalid(format!(
                "the texture window must be an odd number of pixels from 3 to {MAX_WINDOW} (got {w})"
            )));
        }
        self.glcm.validate()?;
        if let Some(&d) = self.glcm.distances.iter().find(|&&d| d >= w) {
            return Err(Error::invalid(format!(
                "pixel-pair distance {d} leaves no pairs inside a {w}×{w} window; \
                 use distances smaller than the window"
            )));
        }
        Ok(())
    }
}
