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

mod hyperparams;
mod matrix;
mod quantize;
mod sliding;

pub use self::hyperparams::*;
use self::matrix::*;
pub use self::quantize::*;
use self::sliding::*;

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
    maps_at(view, params, |key, width, height, data| TextureMap {
        key,
        image: GrayImage {
            width,
            height,
            data,
        },
    })
}

/// As [`texture_maps`], in double precision (for exact comparisons and statistics).
pub fn texture_maps_f64(view: &ImageView, params: &TextureParams) -> Result<Vec<TextureMapF64>> {
    maps_at(view, params, |key, width, height, data| TextureMapF64 {
        key,
        width,
        height,
        data,
    })
}

/// The sliding-window maps at precision `T`, each wrapped by `wrap(key, width, height, data)`.
fn maps_at<T: Sample, M>(
    view: &ImageView,
    params: &TextureParams,
    wrap: impl Fn(MapKey, usize, usize, Vec<T>) -> M,
) -> Result<Vec<M>> {
    params.validate()?;
    let q = quantize(view, params.glcm.levels, params.glcm.quantization)?;
    Ok(sliding_maps::<T>(&q, params)
        .into_iter()
        .map(|(key, data)| wrap(key, q.width, q.height, data))
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
