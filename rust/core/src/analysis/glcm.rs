//! Grey-level co-occurrence matrix (GLCM) texture: Haralick features in a sliding window
//! (one map per feature) and for a whole image (one value per feature).
//!
//! # Definitions (scikit-image `graycomatrix` / `graycoprops`, ≥ 0.25)
//!
//! `P` is the co-occurrence matrix of one offset, normalised to sum 1 (`C + Cᵀ` when
//! symmetric); `i` is the reference pixel's level and `j` its neighbour's. Then
//! contrast `Σ P(i−j)²`, dissimilarity `Σ P|i−j|`, homogeneity `Σ P/(1+(i−j)²)`,
//! ASM `Σ P²`, energy `√ASM`, correlation `Σ P(i−μi)(j−μj)/(σi σj)` (1 where σi or σj is 0),
//! entropy `−Σ P ln P` (natural log), mean `μi = Σ i P`, variance `Σ P (i−μi)²`.
//!
//! * **Offsets** are scikit-image's: angle θ and distance d give the neighbour
//!   `(row + round(sin θ·d), col + round(cos θ·d))`, rounding half away from zero. So 90°
//!   pairs a pixel with the one d rows *below*, and 45° at d = 2 is the offset (1, 1).
//! * **Windows**: each pixel's window is the `window × window` square centred on it, cut
//!   from the quantised image zero-padded by `window / 2` ("zero borders": outside pixels
//!   count as grey level 0 and form pairs like any other). A pair is counted when both of its
//!   pixels lie in the window, as `graycomatrix` on that crop does.
//! * **Angles**: one map per (feature, distance, angle), or with `average_angles` the mean
//!   of the feature over the angles for each distance (`graycoprops(P, f)[d].mean()`).
//! * **`normed`** only changes [`glcm_matrix`]; features are the same either way because
//!   `graycoprops` normalises the matrix itself.
//! * **Quantisation** into `levels` grey levels: see [`Quantization`].
//!
//! # Algorithm
//!
//! All features except ASM, energy and entropy are sums over the window's pixel pairs of
//! a function of the two levels (Σa, Σb, Σa², Σb², Σab, Σ(a−b)², Σ|a−b|, Σ1/(1+(a−b)²)),
//! so they are running box sums of per-pair images: O(1) per pixel whatever the window.
//! ASM and entropy need the matrix itself: it is kept as a running histogram that, as the
//! window moves one pixel right, loses the pairs of the leaving column and gains those of
//! the entering one (O(window) per pixel), together with running `Σ n²` and `Σ n ln n`.
//! All running sums are integers (homogeneity weights and `n ln n` in fixed point with
//! resolution 2⁻⁴⁶ and 2⁻⁴⁰), so nothing drifts along a row, values are within ~1e-12 of
//! exact, and the maps are bit-identical for any number of threads (rows are split among
//! threads). Moments use exact integer numerators, so a window whose reference or
//! neighbour levels are all equal gets correlation exactly 1; scikit-image's floating
//! point can leave a residue above its 1e-15 cut-off there (non-symmetric, non-zero level)
//! and return an arbitrary ratio instead.

use std::f64::consts::{FRAC_PI_2, FRAC_PI_4};
use std::fmt;

use crate::error::{Error, Result};
use crate::image::pixels::{GrayImage, ImageView, Pixels};
use crate::parallel::{par_blocks, thread_count};

/// Largest accepted window side; bounds the running sums well inside `i64`.
pub const MAX_WINDOW: usize = 255;
pub const MIN_LEVELS: usize = 2;
pub const MAX_LEVELS: usize = 256;
/// The angles scikit-image users pass as `0, π/4, π/2, 3π/4`, in degrees.
pub const ALLOWED_ANGLES: [f64; 4] = [0.0, 45.0, 90.0, 135.0];

/// Fixed-point scale of the homogeneity weights `1/(1+d²)`.
const HOM_SCALE: f64 = (1u64 << 46) as f64;
/// Fixed-point scale of the `n ln n` entropy terms.
const ENT_SCALE: f64 = (1u64 << 40) as f64;

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

    fn needs_histogram(self) -> bool {
        matches!(self, Feature::Asm | Feature::Energy | Feature::Entropy)
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
            features: Feature::ALL.to_vec(),
        }
    }
}

fn validate_levels(levels: usize) -> Result<()> {
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
    fn offsets(&self) -> Vec<(usize, usize, usize, isize)> {
        let mut out = Vec::new();
        for (di, &d) in self.distances.iter().enumerate() {
            for (ai, &a) in self.angles_deg.iter().enumerate() {
                let (dr, dc) = offset(d, a);
                out.push((di, ai, dr, dc));
            }
        }
        out
    }

    fn keys(&self) -> Vec<(MapKey, usize, usize, Option<usize>)> {
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

fn angle_radians(deg: f64) -> Result<f64> {
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
fn offset(distance: usize, angle_deg: f64) -> (usize, isize) {
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

/// An image of grey levels `0..levels`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quantized {
    pub width: usize,
    pub height: usize,
    pub levels: usize,
    pub data: Vec<u8>,
}

/// Maps an image to `levels` grey levels (see [`Quantization`]). Fails on NaN or infinite
/// pixels, and for [`Quantization::Direct`] on values that are not levels.
pub fn quantize(view: &ImageView, levels: usize, mode: Quantization) -> Result<Quantized> {
    validate_levels(levels)?;
    view.ensure_finite()?;
    let (width, height) = (view.width(), view.height());
    let n = width * height;
    let top = levels - 1;
    let data: Vec<u8> = match (mode, view.pixels()) {
        (Quantization::Direct, Pixels::Gray8(p)) if p.iter().all(|&v| (v as usize) < levels) => {
            p.to_vec()
        }
        (Quantization::Direct, _) => {
            let mut data = Vec::with_capacity(n);
            for i in 0..n {
                let v = view.gray_at(i);
                if v < 0.0 || v > top as f32 || v.fract() != 0.0 {
                    return Err(Error::invalid(format!(
                        "pixel ({}, {}) has value {v}, not a grey level 0–{top}; direct \
                         quantisation needs integer levels below {levels}",
                        i % width,
                        i / width
                    )));
                }
                data.push(v as u8);
            }
            data
        }
        (Quantization::Auto, Pixels::Gray8(p)) => p
            .iter()
            .map(|&v| (v as usize * levels / 256) as u8)
            .collect(),
        (Quantization::Auto, Pixels::PackedRgb(_)) => (0..n)
            .map(|i| {
                let v = view.gray_at(i) as f64;
                ((v * levels as f64 / 256.0).floor() as usize).min(top) as u8
            })
            .collect(),
        _ => {
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for i in 0..n {
                let v = view.gray_at(i) as f64;
                lo = lo.min(v);
                hi = hi.max(v);
            }
            if hi == lo {
                vec![0; n]
            } else {
                let range = hi - lo;
                (0..n)
                    .map(|i| {
                        let v = view.gray_at(i) as f64;
                        ((((v - lo) / range) * levels as f64).floor() as usize).min(top) as u8
                    })
                    .collect()
            }
        }
    };
    Ok(Quantized {
        width,
        height,
        levels,
        data,
    })
}

/// What a map or value describes: a feature at one distance, for one angle or (`None`)
/// averaged over the requested angles.
#[derive(Debug, Clone, PartialEq)]
pub struct MapKey {
    pub feature: Feature,
    pub distance: usize,
    pub angle_deg: Option<f64>,
}

impl fmt::Display for MapKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.angle_deg {
            Some(a) => write!(f, "{} d={} {}°", self.feature, self.distance, a),
            None => write!(f, "{} d={} mean", self.feature, self.distance),
        }
    }
}

/// A feature map with the input's size, in single precision for ImageJ.
#[derive(Debug, Clone, PartialEq)]
pub struct TextureMap {
    pub key: MapKey,
    pub image: GrayImage,
}

/// A feature map in double precision (row-major, the input's size).
#[derive(Debug, Clone, PartialEq)]
pub struct TextureMapF64 {
    pub key: MapKey,
    pub width: usize,
    pub height: usize,
    pub data: Vec<f64>,
}

/// One whole-image feature value.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureValue {
    pub key: MapKey,
    pub value: f64,
}

/// Sliding-window feature maps, one per requested feature × distance (× angle unless
/// averaged), in that order.
pub fn texture_maps(view: &ImageView, params: &TextureParams) -> Result<Vec<TextureMap>> {
    params.validate()?;
    let q = quantize(view, params.glcm.levels, params.glcm.quantization)?;
    Ok(sliding_maps::<f32>(&q, params)
        .into_iter()
        .map(|(key, data)| TextureMap {
            key,
            image: GrayImage {
                width: q.width,
                height: q.height,
                data,
            },
        })
        .collect())
}

/// As [`texture_maps`], in double precision (for exact comparisons and statistics).
pub fn texture_maps_f64(view: &ImageView, params: &TextureParams) -> Result<Vec<TextureMapF64>> {
    params.validate()?;
    let q = quantize(view, params.glcm.levels, params.glcm.quantization)?;
    Ok(sliding_maps::<f64>(&q, params)
        .into_iter()
        .map(|(key, data)| TextureMapF64 {
            key,
            width: q.width,
            height: q.height,
            data,
        })
        .collect())
}

/// The published tool's texture map: the 0/1 mask `image > Otsu threshold` (see
/// [`crate::analysis::threshold`]), then 5×5-window GLCM contrast ([`TextureParams::reference`]).
/// The polarity matters at the borders, where the zero padding pairs with the mask.
pub fn reference_contrast(view: &ImageView) -> Result<TextureMapF64> {
    let mask = crate::analysis::threshold::otsu_mask(view)?;
    reference_contrast_of_mask(&mask.view())
}

/// The reference contrast map of an image that already is a 0/1 mask.
pub fn reference_contrast_of_mask(mask: &ImageView) -> Result<TextureMapF64> {
    let mut maps = texture_maps_f64(mask, &TextureParams::reference())?;
    Ok(maps.remove(0))
}

/// The co-occurrence matrix of the whole quantised image for one distance and angle, as
/// `graycomatrix(image, [distance], [angle], levels, symmetric, normed)[:, :, 0, 0]`:
/// `levels × levels`, row-major, row = reference level.
pub fn glcm_matrix(
    q: &Quantized,
    distance: usize,
    angle_deg: f64,
    symmetric: bool,
    normed: bool,
) -> Result<Vec<f64>> {
    if distance == 0 {
        return Err(Error::invalid(
            "pixel-pair distance must be at least 1 (got 0)",
        ));
    }
    angle_radians(angle_deg)?;
    let counts = image_counts(q, distance, angle_deg, symmetric);
    let total: u64 = counts.iter().sum();
    let scale = if normed && total > 0 {
        1.0 / total as f64
    } else {
        1.0
    };
    Ok(counts
        .iter()
        .map(|&c| if normed { c as f64 * scale } else { c as f64 })
        .collect())
}

/// Whole-image features (no padding; pairs leaving the image are not counted), one value
/// per feature × distance (× angle unless averaged), for a results table.
pub fn glcm_features(view: &ImageView, params: &GlcmParams) -> Result<Vec<FeatureValue>> {
    params.validate()?;
    let q = quantize(view, params.levels, params.quantization)?;
    let na = params.angles_deg.len();
    // values[(di * na + ai)][feature]
    let values: Vec<[f64; 9]> = params
        .offsets()
        .iter()
        .map(|&(di, ai, _, _)| {
            let counts = image_counts(
                &q,
                params.distances[di],
                params.angles_deg[ai],
                params.symmetric,
            );
            features_from_counts(&counts, q.levels)
        })
        .collect();
    let index = |f: Feature| Feature::ALL.iter().position(|&g| g == f).unwrap_or(0);
    Ok(params
        .keys()
        .into_iter()
        .map(|(key, _, di, ai)| {
            let fi = index(key.feature);
            let value = match ai {
                Some(ai) => values[di * na + ai][fi],
                None => {
                    values[di * na..(di + 1) * na]
                        .iter()
                        .map(|v| v[fi])
                        .sum::<f64>()
                        / na as f64
                }
            };
            FeatureValue { key, value }
        })
        .collect())
}

/// Pair counts of the whole image (`C + Cᵀ` when symmetric).
fn image_counts(q: &Quantized, distance: usize, angle_deg: f64, symmetric: bool) -> Vec<u64> {
    let (dr, dc) = offset(distance, angle_deg);
    let l = q.levels;
    let mut counts = vec![0u64; l * l];
    let (w, h) = (q.width, q.height);
    // Columns c whose partner c + dc is inside the row.
    let (c0, c1) = if dc >= 0 {
        (0, w.saturating_sub(dc as usize))
    } else {
        ((-dc) as usize, w)
    };
    if c0 < c1 {
        for r in 0..h.saturating_sub(dr) {
            let from = &q.data[r * w + c0..r * w + c1];
            let start = ((r + dr) * w + c0) as isize + dc;
            let to = &q.data[start as usize..start as usize + (c1 - c0)];
            for (&a, &b) in from.iter().zip(to) {
                counts[a as usize * l + b as usize] += 1;
            }
        }
    }
    if symmetric {
        for a in 0..l {
            for b in a + 1..l {
                let sum = counts[a * l + b] + counts[b * l + a];
                counts[a * l + b] = sum;
                counts[b * l + a] = sum;
            }
            counts[a * l + a] *= 2;
        }
    }
    counts
}

/// All nine features of one matrix of counts, in [`Feature::ALL`] order. Moments use exact
/// integer sums; a matrix without pairs gives scikit-image's values for an all-zero `P`.
fn features_from_counts(counts: &[u64], levels: usize) -> [f64; 9] {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0];
    }
    let t = total as i128;
    let (mut a, mut b, mut aa, mut bb, mut ab, mut con, mut dis) = (0i128, 0, 0, 0, 0, 0, 0);
    let (mut hom, mut sq, mut ent) = (0f64, 0u128, 0f64);
    for i in 0..levels {
        for j in 0..levels {
            let n = counts[i * levels + j];
            if n == 0 {
                continue;
            }
            let (c, ii, jj) = (n as i128, i as i128, j as i128);
            a += c * ii;
            b += c * jj;
            aa += c * ii * ii;
            bb += c * jj * jj;
            ab += c * ii * jj;
            con += c * (ii - jj) * (ii - jj);
            dis += c * (ii - jj).abs();
            hom += n as f64 / (1.0 + ((i as f64) - (j as f64)).powi(2));
            sq += (n as u128) * (n as u128);
            let p = n as f64 / total as f64;
            ent -= p * p.ln();
        }
    }
    let tf = total as f64;
    let asm = sq as f64 / (tf * tf);
    let var_i = t * aa - a * a;
    let var_j = t * bb - b * b;
    let cov = t * ab - a * b;
    [
        con as f64 / tf,
        dis as f64 / tf,
        hom / tf,
        asm,
        asm.sqrt(),
        correlation(cov, var_i, var_j),
        ent,
        a as f64 / tf,
        var_i as f64 / (tf * tf),
    ]
}

/// `cov / (σi σj)` from integer numerators `T·Σxy − ΣxΣy` etc.; 1 for a zero spread, as
/// scikit-image returns when σ < 1e-15.
#[inline]
fn correlation(cov: i128, var_i: i128, var_j: i128) -> f64 {
    if var_i == 0 || var_j == 0 {
        1.0
    } else if var_i == var_j {
        cov as f64 / var_i as f64
    } else {
        cov as f64 / ((var_i as f64) * (var_j as f64)).sqrt()
    }
}

/// Output element of the sliding-window maps.
trait Sample: Copy + Default + Send {
    fn from_f64(v: f64) -> Self;
}

impl Sample for f32 {
    #[inline]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

impl Sample for f64 {
    #[inline]
    fn from_f64(v: f64) -> Self {
        v
    }
}

/// A per-pair quantity summed over windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sum {
    A,
    B,
    Aa,
    Bb,
    Ab,
    Con,
    Dis,
    Hom,
}

/// Everything about one offset that the row workers need.
struct OffsetPlan {
    /// Row offset (≥ 0) and column offset of the neighbour.
    dr: usize,
    dc: isize,
    /// Rows and columns of reference pixels whose neighbour stays in the window.
    nh: usize,
    nw: usize,
    /// First padded column of reference pixels, `max(0, −dc)`.
    x0: usize,
    /// Pairs per window, and matrix total (twice that when symmetric).
    pairs: i64,
    total: i64,
}

struct Plan<'a> {
    qp: &'a [u8],
    wp: usize,
    width: usize,
    levels: usize,
    symmetric: bool,
    offsets: Vec<OffsetPlan>,
    sums: Vec<Sum>,
    histogram: bool,
    features: Vec<Feature>,
    /// round(2^46 / (1 + d²)) by |a − b|.
    hom: Vec<i64>,
    /// round(2^40 · n ln n) for n up to the largest matrix total.
    ent: Vec<i64>,
    /// Changes of `Σ n²` and of the fixed-point `Σ n ln n` when a cell goes from n to
    /// n + 1: one row of `table_row` entries, plus a second row for diagonal cells in
    /// symmetric mode (see `histogram_row`).
    dsq: Vec<i64>,
    dent: Vec<i64>,
    table_row: usize,
}

fn sums_needed(features: &[Feature], symmetric: bool) -> Vec<Sum> {
    let mut sums = Vec::new();
    let mut need = |s: Sum| {
        if !sums.contains(&s) {
            sums.push(s);
        }
    };
    for &f in features {
        match f {
            Feature::Contrast => need(Sum::Con),
            Feature::Dissimilarity => need(Sum::Dis),
            Feature::Homogeneity => need(Sum::Hom),
            Feature::Mean => {
                need(Sum::A);
                if symmetric {
                    need(Sum::B);
                }
            }
            Feature::Variance => {
                need(Sum::A);
                need(Sum::Aa);
                if symmetric {
                    need(Sum::B);
                    need(Sum::Bb);
                }
            }
            Feature::Correlation => {
                for s in [Sum::A, Sum::B, Sum::Aa, Sum::Bb, Sum::Ab] {
                    need(s);
                }
            }
            Feature::Asm | Feature::Energy | Feature::Entropy => {}
        }
    }
    sums
}

/// Computes the maps of a validated parameter set.
fn sliding_maps<T: Sample>(q: &Quantized, params: &TextureParams) -> Vec<(MapKey, Vec<T>)> {
    let g = &params.glcm;
    let (width, height) = (q.width, q.height);
    let w = params.window;
    let half = w / 2;
    let wp = width + 2 * half;
    let mut qp = vec![0u8; wp * (height + 2 * half)];
    for (y, row) in q.data.chunks_exact(width).enumerate() {
        let start = (y + half) * wp + half;
        qp[start..start + width].copy_from_slice(row);
    }
    let offsets: Vec<OffsetPlan> = g
        .offsets()
        .into_iter()
        .map(|(_, _, dr, dc)| {
            let (nh, nw) = (w - dr, w - dc.unsigned_abs());
            let pairs = (nh * nw) as i64;
            OffsetPlan {
                dr,
                dc,
                nh,
                nw,
                x0: (-dc).max(0) as usize,
                pairs,
                total: if g.symmetric { 2 * pairs } else { pairs },
            }
        })
        .collect();
    let histogram = g.features.iter().any(|f| f.needs_histogram());
    let max_total = offsets.iter().map(|o| o.total).max().unwrap_or(0) as usize;
    // A cell holds at most `total` (non-symmetric) or `total / 2` (symmetric) pairs.
    let table_row = if histogram { max_total + 1 } else { 0 };
    let ent: Vec<i64> = (0..if histogram { max_total + 3 } else { 0 })
        .map(|n| {
            let n = n as f64;
            if n > 1.0 {
                (n * n.ln() * ENT_SCALE).round() as i64
            } else {
                0
            }
        })
        .collect();
    let (mut dsq, mut dent) = (Vec::new(), Vec::new());
    for n in 0..table_row {
        let n2 = 2 * n as i64 + 1;
        if g.symmetric {
            dsq.push(2 * n2);
            dent.push(2 * (ent[n + 1] - ent[n]));
        } else {
            dsq.push(n2);
            dent.push(ent[n + 1] - ent[n]);
        }
    }
    if g.symmetric {
        for n in 0..table_row {
            dsq.push(4 * (2 * n as i64 + 1));
            dent.push(if 2 * n + 2 < ent.len() {
                ent[2 * n + 2] - ent[2 * n]
            } else {
                0
            });
        }
    }
    let plan = Plan {
        qp: &qp,
        wp,
        width,
        levels: g.levels,
        symmetric: g.symmetric,
        sums: sums_needed(&g.features, g.symmetric),
        histogram,
        features: g.features.clone(),
        hom: (0..g.levels)
            .map(|d| (HOM_SCALE / (1.0 + (d * d) as f64)).round() as i64)
            .collect(),
        dsq,
        dent,
        table_row,
        ent,
        offsets,
    };

    let keys = g.keys();
    let mut outputs: Vec<Vec<T>> = keys
        .iter()
        .map(|_| vec![T::default(); width * height])
        .collect();
    let rows_per_band = height.div_ceil(thread_count(params.threads).clamp(1, height));
    // Cut every output map into the same row bands, one work item per band.
    let mut bands: Vec<Vec<&mut [T]>> = Vec::new();
    for out in outputs.iter_mut() {
        for (b, chunk) in out.chunks_mut(rows_per_band * width).enumerate() {
            if bands.len() <= b {
                bands.push(Vec::new());
            }
            bands[b].push(chunk);
        }
    }
    let (plan, keys_ref, na) = (&plan, &keys, g.angles_deg.len());
    let band_count = bands.len();
    par_blocks(
        bands,
        band_count,
        || (),
        |b, slices, _| {
            let r0 = b * rows_per_band;
            let r1 = (r0 + rows_per_band).min(height);
            Worker::new(plan).run(r0, r1, slices, keys_ref, na)
        },
    );
    keys.into_iter().map(|k| k.0).zip(outputs).collect()
}

/// Row-band state: running column sums, the running matrix and per-row feature buffers.
struct Worker<'a> {
    plan: &'a Plan<'a>,
    /// Column sums per (offset, sum), then their window sums along the current row.
    columns: Vec<Vec<i64>>,
    windows: Vec<Vec<i64>>,
    cells: Vec<u32>,
    bases: Vec<(usize, usize)>,
    /// `Σ n²` and fixed-point `Σ n ln n` of the matrix at each window of the row.
    sq: Vec<i64>,
    ent_sum: Vec<i64>,
    /// Feature values per (offset, feature) along the current row.
    values: Vec<Vec<f64>>,
}

impl<'a> Worker<'a> {
    fn new(plan: &'a Plan<'a>) -> Self {
        let (ns, nf, width) = (plan.sums.len(), plan.features.len(), plan.width);
        let mut columns = Vec::new();
        for o in &plan.offsets {
            for _ in 0..ns {
                columns.push(vec![0i64; width + o.nw - 1]);
            }
        }
        let hist_len = if plan.histogram {
            plan.levels * plan.levels
        } else {
            0
        };
        Self {
            plan,
            windows: vec![vec![0i64; width]; columns.len()],
            columns,
            cells: vec![0; hist_len],
            bases: Vec::new(),
            sq: vec![0; if plan.histogram { width } else { 0 }],
            ent_sum: vec![0; if plan.histogram { width } else { 0 }],
            values: vec![vec![0.0; width]; plan.offsets.len() * nf],
        }
    }

    fn run<T: Sample>(
        &mut self,
        r0: usize,
        r1: usize,
        mut out: Vec<&mut [T]>,
        keys: &[(MapKey, usize, usize, Option<usize>)],
        na: usize,
    ) {
        let plan = self.plan;
        let (width, nf) = (plan.width, plan.features.len());
        for r in r0..r1 {
            for oi in 0..plan.offsets.len() {
                self.window_sums(oi, r, r == r0);
                if plan.histogram {
                    self.histogram_row(oi, r);
                }
                self.features(oi);
            }
            let row = (r - r0) * width;
            for ((_, fi, di, ai), dst) in keys.iter().zip(out.iter_mut()) {
                let dst = &mut dst[row..row + width];
                match *ai {
                    Some(ai) => {
                        let src = &self.values[(di * na + ai) * nf + fi];
                        for (d, &v) in dst.iter_mut().zip(src) {
                            *d = T::from_f64(v);
                        }
                    }
                    None => {
                        for (c, d) in dst.iter_mut().enumerate() {
                            let sum: f64 = (0..na)
                                .map(|ai| self.values[(di * na + ai) * nf + fi][c])
                                .sum();
                            *d = T::from_f64(sum / na as f64);
                        }
                    }
                }
            }
        }
    }

    /// Updates the column sums of offset `oi` for output row `r` (from scratch on the
    /// band's first row, else by dropping the row that left and adding the one that came
    /// in) and slides them along the row into window sums.
    fn window_sums(&mut self, oi: usize, r: usize, fresh: bool) {
        let plan = self.plan;
        let o = &plan.offsets[oi];
        let ns = plan.sums.len();
        for (si, &sum) in plan.sums.iter().enumerate() {
            let col = &mut self.columns[oi * ns + si];
            if fresh {
                col.fill(0);
                for y in r..r + o.nh {
                    accumulate(plan, o, sum, y, col, true);
                }
            } else {
                accumulate(plan, o, sum, r - 1, col, false);
                accumulate(plan, o, sum, r + o.nh - 1, col, true);
            }
            let win = &mut self.windows[oi * ns + si];
            let mut acc: i64 = col[..o.nw].iter().sum();
            win[0] = acc;
            for c in 1..plan.width {
                acc += col[c + o.nw - 1] - col[c - 1];
                win[c] = acc;
            }
        }
    }

    /// Running `Σ n²` and `Σ n ln n` (fixed point) of the matrix of offset `oi` at every
    /// window along output row `r`, for ASM and entropy.
    ///
    /// Non-symmetric: one cell per ordered pair (a, b). Symmetric: one cell per unordered
    /// pair {a, b}; off the diagonal a count n stands for the two equal cells (a, b) and
    /// (b, a) of `C + Cᵀ`, on it for the cell 2n. Either way an update changes the sums by
    /// a table entry picked by index, with no data-dependent branch.
    fn histogram_row(&mut self, oi: usize, r: usize) {
        let plan = self.plan;
        let o = &plan.offsets[oi];
        let (l, qp) = (plan.levels, plan.qp);
        let symmetric = plan.symmetric;
        // Start of each window row's reference pixels and of their neighbours, so that
        // column x pairs qp[ra + x] with qp[rb + x].
        self.bases.clear();
        for y in r..r + o.nh {
            let rb = ((y + o.dr) * plan.wp) as isize + o.dc;
            self.bases.push((y * plan.wp, rb as usize));
        }
        let bases = &self.bases[..];
        // cell index and the offset of its row in the update tables.
        let cell = |base: (usize, usize), x: usize| -> (usize, usize) {
            let (a, b) = (qp[base.0 + x] as usize, qp[base.1 + x] as usize);
            if symmetric {
                (
                    a.min(b) * l + a.max(b),
                    usize::from(a == b) * plan.table_row,
                )
            } else {
                (a * l + b, 0)
            }
        };
        let (dsq, dent) = (&plan.dsq[..], &plan.dent[..]);
        let cells = &mut self.cells[..];
        let (mut sq, mut e) = (0i64, 0i64);
        macro_rules! add {
            ($c:expr) => {{
                let (i, t) = $c;
                let n = cells[i] as usize;
                cells[i] += 1;
                sq += dsq[t + n];
                e += dent[t + n];
            }};
        }
        for &base in bases {
            for x in o.x0..o.x0 + o.nw {
                add!(cell(base, x));
            }
        }
        for c in 0..plan.width {
            if c > 0 {
                let leave = c - 1 + o.x0;
                let enter = leave + o.nw;
                for &base in bases {
                    let (i0, t0) = cell(base, leave);
                    let (i1, t1) = cell(base, enter);
                    if i0 != i1 {
                        let n = cells[i0] as usize - 1;
                        cells[i0] -= 1;
                        sq -= dsq[t0 + n];
                        e -= dent[t0 + n];
                        add!((i1, t1));
                    }
                }
            }
            self.sq[c] = sq;
            self.ent_sum[c] = e;
        }
        // Empty the matrix for the next row by removing the last window's pairs.
        let last = plan.width - 1 + o.x0;
        for &base in bases {
            for x in last..last + o.nw {
                cells[cell(base, x).0] -= 1;
            }
        }
    }

    /// Feature values of offset `oi` along the current row. Window sums are bounded by
    /// 2·255²·255² per window, so the moment numerators (≤ ~1.1e15) fit `i64` exactly.
    fn features(&mut self, oi: usize) {
        let plan = self.plan;
        let o = &plan.offsets[oi];
        let (ns, nf) = (plan.sums.len(), plan.features.len());
        let windows = &self.windows;
        let empty: &[i64] = &[];
        let sum = |s: Sum| -> &[i64] {
            plan.sums
                .iter()
                .position(|&x| x == s)
                .map_or(empty, |i| &windows[oi * ns + i])
        };
        let (a, b, aa, bb, ab) = (
            sum(Sum::A),
            sum(Sum::B),
            sum(Sum::Aa),
            sum(Sum::Bb),
            sum(Sum::Ab),
        );
        let (pairs, n, total) = (o.pairs as f64, o.pairs, o.total);
        let symmetric = plan.symmetric;
        let t2 = (total * total) as f64;
        let t_ln_t = plan.ent.get(total as usize).copied().unwrap_or(0);
        for (fi, &feature) in plan.features.iter().enumerate() {
            let out = &mut self.values[oi * nf + fi];
            match feature {
                Feature::Contrast => fill(out, sum(Sum::Con), |v| v as f64 / pairs),
                Feature::Dissimilarity => fill(out, sum(Sum::Dis), |v| v as f64 / pairs),
                Feature::Homogeneity => fill(out, sum(Sum::Hom), |v| v as f64 / HOM_SCALE / pairs),
                Feature::Asm => fill(out, &self.sq, |v| v as f64 / t2),
                Feature::Energy => fill(out, &self.sq, |v| (v as f64 / t2).sqrt()),
                Feature::Entropy => fill(out, &self.ent_sum, |v| {
                    (t_ln_t - v) as f64 / ENT_SCALE / total as f64
                }),
                Feature::Mean if symmetric => {
                    for ((d, &x), &y) in out.iter_mut().zip(a).zip(b) {
                        *d = (x + y) as f64 / (2.0 * pairs);
                    }
                }
                Feature::Mean => fill(out, a, |v| v as f64 / pairs),
                Feature::Variance => {
                    let denom = (total * total) as f64;
                    for (c, d) in out.iter_mut().enumerate() {
                        let (s, ss) = if symmetric {
                            (a[c] + b[c], aa[c] + bb[c])
                        } else {
                            (a[c], aa[c])
                        };
                        *d = (total * ss - s * s) as f64 / denom;
                    }
                }
                Feature::Correlation => {
                    for (c, d) in out.iter_mut().enumerate() {
                        *d = if symmetric {
                            let (s, ss) = (a[c] + b[c], aa[c] + bb[c]);
                            let var = 2 * n * ss - s * s;
                            correlation((4 * n * ab[c] - s * s).into(), var.into(), var.into())
                        } else {
                            correlation(
                                (n * ab[c] - a[c] * b[c]).into(),
                                (n * aa[c] - a[c] * a[c]).into(),
                                (n * bb[c] - b[c] * b[c]).into(),
                            )
                        };
                    }
                }
            }
        }
    }
}

#[inline]
fn fill(out: &mut [f64], src: &[i64], f: impl Fn(i64) -> f64) {
    for (d, &v) in out.iter_mut().zip(src) {
        *d = f(v);
    }
}

/// Adds (or subtracts) one padded row's pair values of `sum` to the column sums.
fn accumulate(plan: &Plan, o: &OffsetPlan, sum: Sum, y: usize, col: &mut [i64], add: bool) {
    let n = col.len();
    let a = &plan.qp[y * plan.wp + o.x0..][..n];
    let b = &plan.qp[(y + o.dr) * plan.wp + (o.x0 as isize + o.dc) as usize..][..n];
    let hom = &plan.hom;
    match sum {
        Sum::A => apply(col, a, b, add, |x, _| x as i64),
        Sum::B => apply(col, a, b, add, |_, y| y as i64),
        Sum::Aa => apply(col, a, b, add, |x, _| (x as i64) * (x as i64)),
        Sum::Bb => apply(col, a, b, add, |_, y| (y as i64) * (y as i64)),
        Sum::Ab => apply(col, a, b, add, |x, y| (x as i64) * (y as i64)),
        Sum::Con => apply(col, a, b, add, |x, y| {
            let d = x as i64 - y as i64;
            d * d
        }),
        Sum::Dis => apply(col, a, b, add, |x, y| x.abs_diff(y) as i64),
        Sum::Hom => apply(col, a, b, add, |x, y| hom[x.abs_diff(y) as usize]),
    }
}

#[inline(always)]
fn apply(col: &mut [i64], a: &[u8], b: &[u8], add: bool, f: impl Fn(u8, u8) -> i64) {
    if add {
        for ((c, &x), &y) in col.iter_mut().zip(a).zip(b) {
            *c += f(x, y);
        }
    } else {
        for ((c, &x), &y) in col.iter_mut().zip(a).zip(b) {
            *c -= f(x, y);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg_image(width: usize, height: usize, levels: usize, seed: u64) -> Vec<u8> {
        let mut s = seed;
        (0..width * height)
            .map(|i| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                // Patches of constant level as well as noise.
                if (i / 7) % 3 == 0 {
                    ((i / 13) % levels) as u8
                } else {
                    ((s >> 33) % levels as u64) as u8
                }
            })
            .collect()
    }

    /// Brute force: the matrix of every window from scratch, then `features_from_counts`.
    fn brute_force(q: &Quantized, p: &TextureParams) -> Vec<Vec<f64>> {
        let g = &p.glcm;
        let half = p.window / 2;
        let (w, h, l) = (q.width, q.height, q.levels);
        let level = |y: isize, x: isize| -> usize {
            if y < 0 || x < 0 || y >= h as isize || x >= w as isize {
                0
            } else {
                q.data[y as usize * w + x as usize] as usize
            }
        };
        let offs = g.offsets();
        let mut per_offset = vec![vec![[0f64; 9]; w * h]; offs.len()];
        for (oi, &(_, _, dr, dc)) in offs.iter().enumerate() {
            for r in 0..h {
                for c in 0..w {
                    let mut counts = vec![0u64; l * l];
                    let (top, left) = (r as isize - half as isize, c as isize - half as isize);
                    let ws = p.window as isize;
                    for y in top..top + ws {
                        for x in left..left + ws {
                            let (y2, x2) = (y + dr as isize, x + dc);
                            if y2 >= top + ws || x2 < left || x2 >= left + ws {
                                continue;
                            }
                            let (a, b) = (level(y, x), level(y2, x2));
                            counts[a * l + b] += 1;
                            if g.symmetric {
                                counts[b * l + a] += 1;
                            }
                        }
                    }
                    per_offset[oi][r * w + c] = features_from_counts(&counts, l);
                }
            }
        }
        let na = g.angles_deg.len();
        g.keys()
            .iter()
            .map(|(key, _, di, ai)| {
                let fi = Feature::ALL.iter().position(|&f| f == key.feature).unwrap();
                (0..w * h)
                    .map(|i| match ai {
                        Some(ai) => per_offset[di * na + ai][i][fi],
                        None => {
                            (0..na).map(|a| per_offset[di * na + a][i][fi]).sum::<f64>() / na as f64
                        }
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn sliding_maps_equal_brute_force() {
        for (levels, window, symmetric, average, seed, (w, h)) in [
            (5, 3, true, false, 1, (23, 17)),
            (8, 5, false, false, 2, (23, 17)),
            (3, 7, true, true, 3, (23, 17)),
            (16, 5, false, true, 4, (23, 17)),
            (4, 5, true, false, 5, (1, 1)),
            (4, 3, false, false, 6, (1, 6)),
            (4, 7, true, false, 7, (5, 2)),
        ] {
            let data = lcg_image(w, h, levels, seed);
            let q = Quantized {
                width: w,
                height: h,
                levels,
                data,
            };
            let params = TextureParams {
                window,
                glcm: GlcmParams {
                    levels,
                    distances: vec![1, 2],
                    angles_deg: ALLOWED_ANGLES.to_vec(),
                    average_angles: average,
                    symmetric,
                    normed: true,
                    quantization: Quantization::Direct,
                    features: Feature::ALL.to_vec(),
                },
                threads: 3,
            };
            let fast = sliding_maps::<f64>(&q, &params);
            let slow = brute_force(&q, &params);
            for ((key, a), b) in fast.iter().zip(&slow) {
                for (i, (x, y)) in a.iter().zip(b).enumerate() {
                    assert!(
                        (x - y).abs() <= 1e-12,
                        "{key} levels {levels} window {window} pixel {i}: {x} vs {y}"
                    );
                }
            }
        }
    }

    #[test]
    fn skimage_offsets() {
        assert_eq!(offset(1, 0.0), (0, 1));
        assert_eq!(offset(1, 45.0), (1, 1));
        assert_eq!(offset(2, 45.0), (1, 1));
        assert_eq!(offset(3, 45.0), (2, 2));
        assert_eq!(offset(2, 90.0), (2, 0));
        assert_eq!(offset(1, 135.0), (1, -1));
        assert_eq!(offset(3, 135.0), (2, -2));
    }
}
