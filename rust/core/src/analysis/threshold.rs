//! Global grey-level thresholds by Otsu's method, two-class and multi-level.
//!
//! # Definition matched
//!
//! The results equal scikit-image's `threshold_otsu(image, nbins=256)` and
//! `threshold_multiotsu(image, classes, nbins=256)` (scikit-image 0.26, NumPy 2),
//! reproducing their floating-point arithmetic so that ties and near-ties resolve the
//! same way. Golden values come from `tests/fixtures/threshold/make_fixtures.py`.
//!
//! * **8-bit images** use scikit-image's integer histogram: one bin per grey value from the
//!   image's minimum to its maximum (`nbins` is ignored for integer arrays), and the
//!   thresholds are grey values.
//! * **16-bit, 32-bit and RGB images** (RGB through [`crate::image::pixels::rgb_luminance`]) use
//!   the float path: 256 equal-width bins over `[min, max]`, built in single precision
//!   exactly as `numpy.histogram` does for a `float32` array; thresholds are bin centres.
//!   For 16-bit data this equals scikit-image on `image.astype(np.float32)`; on a raw
//!   `uint16` array scikit-image would use one bin per integer value, which makes its
//!   multi-level search impractically slow.
//! * A pixel is foreground when `value > threshold` (scikit-image's convention); a
//!   multi-level label is the number of thresholds the pixel exceeds. Note that
//!   `np.digitize`, shown in scikit-image's examples, puts a pixel equal to a threshold in
//!   the upper class; here it stays in the lower class, as in the variance computation.
//!
//! ImageJ's Auto Threshold "Otsu" is a different definition (its own 256-bin histogram
//! of 16/32-bit data and bin-index results), so values can differ by up to a bin.

use crate::error::{Error, Result};
use crate::image::pixels::{GrayImage, ImageView, Pixels};

/// Number of bins of the float-path histogram (`nbins=256` in scikit-image).
pub const FLOAT_BINS: usize = 256;

/// Fewest and most classes [`multi_otsu`] accepts.
pub const MIN_CLASSES: usize = 2;
pub const MAX_CLASSES: usize = 5;
/// Classes when the caller names none: plain Otsu, one threshold.
pub const DEFAULT_CLASSES: usize = MIN_CLASSES;

/// The thresholding defaults for front ends, as JSON: `classes`, `min_classes`,
/// `max_classes`.
pub fn defaults_json() -> String {
    serde_json::json!({
        "classes": DEFAULT_CLASSES,
        "min_classes": MIN_CLASSES,
        "max_classes": MAX_CLASSES,
    })
    .to_string()
}

/// A histogram as scikit-image builds it: counts and the grey value each bin stands for.
struct Histogram {
    counts: Vec<u64>,
    centers: Vec<f64>,
    /// True for the 8-bit path, whose centres scikit-image holds as int64.
    integer_centers: bool,
}

enum Source {
    /// Every pixel has this value; scikit-image's `threshold_otsu` returns it unchanged.
    Constant(f64),
    Histogram(Histogram),
}

/// Builds scikit-image's histogram of `view` (see the module documentation).
fn histogram(view: &ImageView) -> Result<Source> {
    match view.pixels() {
        Pixels::Gray8(p) => {
            let mut full = [0u64; 256];
            for &v in p {
                full[v as usize] += 1;
            }
            let lo = full.iter().position(|&c| c > 0).unwrap_or(0);
            let hi = full.iter().rposition(|&c| c > 0).unwrap_or(0);
            if lo == hi {
                return Ok(Source::Constant(lo as f64));
            }
            Ok(Source::Histogram(Histogram {
                counts: full[lo..=hi].to_vec(),
                centers: (lo..=hi).map(|v| v as f64).collect(),
                integer_centers: true,
            }))
        }
        Pixels::Gray16(_) | Pixels::Gray32(_) => {
            let (min, max) = view.finite_range()?;
            float_histogram(view, min, max)
        }
        Pixels::PackedRgb(_) => {
            let (min, max) = (0..view.width() * view.height())
                .map(|i| view.gray_at(i))
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
                    (lo.min(v), hi.max(v))
                });
            float_histogram(view, min, max)
        }
    }
}

/// `numpy.histogram(values, bins=256)` for a `float32` array, in the same single-precision
/// steps (edges by `linspace`, index by scaling, then the ±1 edge corrections), for
/// values from `min` to `max`. Their difference is finite: grey values are bounded by
/// [`crate::image::pixels::MAX_GRAY_MAGNITUDE`].
fn float_histogram(view: &ImageView, min: f32, max: f32) -> Result<Source> {
    let n = view.width() * view.height();
    if min == max {
        return Ok(Source::Constant(view.gray_at(0) as f64));
    }
    let (first, last) = (min, max);
    let delta = last - first;
    let step = delta / FLOAT_BINS as f32;
    let mut edges = [0f32; FLOAT_BINS + 1];
    for (k, e) in edges.iter_mut().enumerate() {
        *e = if step == 0.0 {
            (k as f32 / FLOAT_BINS as f32) * delta + first
        } else {
            k as f32 * step + first
        };
    }
    edges[FLOAT_BINS] = last;
    if edges.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::invalid(format!(
            "grey values span only [{min}, {max}], too narrow a range to split into \
             {FLOAT_BINS} histogram bins in single precision"
        )));
    }
    let mut counts = vec![0u64; FLOAT_BINS];
    for i in 0..n {
        let v = view.gray_at(i);
        let f = ((v - first) / delta) * FLOAT_BINS as f32;
        let mut idx = (f as usize).min(FLOAT_BINS - 1);
        if v < edges[idx] {
            idx = idx.saturating_sub(1);
        }
        if idx != FLOAT_BINS - 1 && v >= edges[idx + 1] {
            idx += 1;
        }
        counts[idx] += 1;
    }
    let centers = edges
        .windows(2)
        .map(|w| ((w[0] + w[1]) / 2.0) as f64)
        .collect();
    Ok(Source::Histogram(Histogram {
        counts,
        centers,
        integer_centers: false,
    }))
}

/// Otsu's threshold: pixels with `value > threshold` are foreground.
///
/// Matches scikit-image's `threshold_otsu(image, nbins=256)`; a constant image returns
/// its value. Fails on NaN or infinite pixels.
pub fn otsu(view: &ImageView) -> Result<f64> {
    let hist = match histogram(view)? {
        Source::Constant(v) => return Ok(v),
        Source::Histogram(h) => h,
    };
    Ok(otsu_from_histogram(
        &hist.counts,
        &hist.centers,
        hist.integer_centers,
    ))
}

/// scikit-image's two-class search with its mixed precision: counts are `float32` (its
/// histogram helper casts them), so the cumulative weights are `float32` sums; with integer
/// bin centres the class moments are `float64`, with float centres all stays `float32`.
fn otsu_from_histogram(counts: &[u64], centers: &[f64], integer_centers: bool) -> f64 {
    let n = counts.len();
    let c32: Vec<f32> = counts.iter().map(|&c| c as f32).collect();
    let (mut weight1, mut weight2) = (vec![0f32; n], vec![0f32; n]);
    let mut acc = 0f32;
    for i in 0..n {
        acc += c32[i];
        weight1[i] = acc;
    }
    acc = 0.0;
    for i in (0..n).rev() {
        acc += c32[i];
        weight2[i] = acc;
    }
    // Between-class variance of the split after bin i, in scikit-image's operation order
    // `weight1 * weight2 * (mean1 - mean2) ** 2`.
    let variance: Vec<f64> = if integer_centers {
        let prod: Vec<f64> = c32
            .iter()
            .zip(centers)
            .map(|(&c, &x)| c as f64 * x)
            .collect();
        let (mean1, mean2) = class_means(&prod, &weight1, &weight2, |w| w as f64);
        (0..n - 1)
            .map(|i| {
                let d = mean1[i] - mean2[i + 1];
                (weight1[i] * weight2[i + 1]) as f64 * (d * d)
            })
            .collect()
    } else {
        let prod: Vec<f32> = c32
            .iter()
            .zip(centers)
            .map(|(&c, &x)| c * x as f32)
            .collect();
        let (mean1, mean2) = class_means(&prod, &weight1, &weight2, |w| w);
        (0..n - 1)
            .map(|i| {
                let d = mean1[i] - mean2[i + 1];
                ((weight1[i] * weight2[i + 1]) * (d * d)) as f64
            })
            .collect()
    };
    // np.argmax: the first maximum, or the first NaN (none arise: both end bins are
    // occupied, so no weight is zero).
    let mut best = 0;
    for (i, &v) in variance.iter().enumerate() {
        if v.is_nan() {
            best = i;
            break;
        }
        if v > variance[best] {
            best = i;
        }
    }
    centers[best]
}

/// Means of the classes below and above every split: running sums of `prod` from the
/// left and from the right, divided by the matching weights, in the precision of `T`.
fn class_means<T>(
    prod: &[T],
    weight1: &[f32],
    weight2: &[f32],
    widen: impl Fn(f32) -> T,
) -> (Vec<T>, Vec<T>)
where
    T: Copy + Default + std::ops::AddAssign + std::ops::Div<Output = T>,
{
    let n = prod.len();
    let (mut mean1, mut mean2) = (vec![T::default(); n], vec![T::default(); n]);
    let mut acc = T::default();
    for i in 0..n {
        acc += prod[i];
        mean1[i] = acc / widen(weight1[i]);
    }
    acc = T::default();
    for i in (0..n).rev() {
        acc += prod[i];
        mean2[i] = acc / widen(weight2[i]);
    }
    (mean1, mean2)
}

/// Multi-level Otsu thresholds (`classes - 1` of them, ascending) splitting the image
/// into `classes` classes, 2 ≤ `classes` ≤ 5.
///
/// Matches scikit-image's `threshold_multiotsu(image, classes, nbins=256)`, including its
/// single-precision between-class variance table and its choice of the lexicographically
/// first maximum; the search is a dynamic programme plus a pruned enumeration of the
/// near-optimal candidates, not scikit-image's brute force over all combinations.
pub fn multi_otsu(view: &ImageView, classes: usize) -> Result<Vec<f64>> {
    if !(MIN_CLASSES..=MAX_CLASSES).contains(&classes) {
        return Err(Error::invalid(format!(
            "multi-level Otsu needs between {MIN_CLASSES} and {MAX_CLASSES} classes (got {classes})"
        )));
    }
    let hist = match histogram(view)? {
        Source::Constant(_) => {
            return Err(too_few_values(1, classes));
        }
        Source::Histogram(h) => h,
    };
    let total: u64 = hist.counts.iter().sum();
    let prob: Vec<f32> = hist
        .counts
        .iter()
        .map(|&c| (c as f64 / total as f64) as f32)
        .collect();
    let nvalues = prob.iter().filter(|&&p| p != 0.0).count();
    let indices = if nvalues < classes {
        return Err(too_few_values(nvalues, classes));
    } else if nvalues == classes {
        let mut nz: Vec<usize> = (0..prob.len()).filter(|&i| prob[i] != 0.0).collect();
        nz.pop();
        nz
    } else {
        multi_otsu_indices(&prob, classes - 1).ok_or_else(|| {
            Error::invalid("multi-level Otsu found no split with a positive between-class variance")
        })?
    };
    Ok(indices.into_iter().map(|i| hist.centers[i]).collect())
}

fn too_few_values(nvalues: usize, classes: usize) -> Error {
    Error::invalid(format!(
        "after binning into the histogram the image has only {nvalues} distinct value(s); \
         it cannot be split into {classes} classes"
    ))
}

/// scikit-image's lookup table of between-class terms `H(i, j) = S(i..=j)² / P(i..=j)`
/// in single precision, with its quirks kept: the cumulative first moment starts at
/// `prob[0]` (not 0) and `H(0, 0)` is left at 0.
struct VarianceTable {
    n: usize,
    h: Vec<f32>,
}

impl VarianceTable {
    fn new(prob: &[f32]) -> Self {
        let n = prob.len();
        let mut zeroth = vec![0f32; n];
        let mut first = vec![0f32; n];
        zeroth[0] = prob[0];
        first[0] = prob[0];
        for i in 1..n {
            zeroth[i] = zeroth[i - 1] + prob[i];
            first[i] = first[i - 1] + i as f32 * prob[i];
        }
        let mut h = vec![0f32; n * n];
        for j in 1..n {
            if zeroth[j] > 0.0 {
                h[j] = (first[j] * first[j]) / zeroth[j];
            }
        }
        for i in 1..n {
            for j in i..n {
                let z = zeroth[j] - zeroth[i - 1];
                if z > 0.0 {
                    let s = first[j] - first[i - 1];
                    h[i * n + j] = (s * s) / z;
                }
            }
        }
        Self { n, h }
    }

    #[inline]
    fn get(&self, i: usize, j: usize) -> f32 {
        self.h[i * self.n + j]
    }
}

/// Threshold indices maximising scikit-image's single-precision criterion
/// `H(0,t0) + H(t_last+1, n-1) + Σ H(t_k+1, t_k+1)` (summed in that order), taking the
/// lexicographically first among equal maxima as its brute force does.
///
/// A double-precision dynamic programme gives the optimum `V*` and, for every suffix, the
/// best completion; enumeration in lexicographic order then visits only branches whose
/// bound reaches `V* − margin`. The margin (1e-5 relative) is far larger than the rounding
/// error of a five-term `f32` sum, so every combination that could win in `f32` is seen.
/// A threshold on an empty bin gives exactly the same terms as one a bin lower, which
/// comes first, so such branches are skipped (except where `H(0, 0) = 0` breaks this).
fn multi_otsu_indices(prob: &[f32], thresholds: usize) -> Option<Vec<usize>> {
    let n = prob.len();
    let table = VarianceTable::new(prob);
    let h = |i: usize, j: usize| table.get(i, j) as f64;
    // best[r][s]: largest sum for the classes covering bins s..n-1 using r more thresholds.
    let mut best = vec![vec![f64::NEG_INFINITY; n + 1]; thresholds];
    for (s, b) in best[0].iter_mut().enumerate().take(n) {
        *b = h(s, n - 1);
    }
    for r in 1..thresholds {
        for s in 0..n {
            let mut m = f64::NEG_INFINITY;
            // The first of these r thresholds leaves room for the other r - 1 before n - 1.
            for t in s..n.saturating_sub(r) {
                m = m.max(h(s, t) + best[r - 1][t + 1]);
            }
            best[r][s] = m;
        }
    }
    let optimum = (0..n - thresholds)
        .map(|t| h(0, t) + best[thresholds - 1][t + 1])
        .fold(f64::NEG_INFINITY, f64::max);
    if optimum.is_nan() || optimum <= 0.0 {
        return None;
    }
    let mut search = Search {
        table: &table,
        prob,
        best: &best,
        floor: optimum - optimum * 1e-5,
        thresholds,
        current: vec![0; thresholds],
        found: None,
        sigma_max: 0.0,
    };
    search.level(0, 0, 0.0);
    search.found
}

struct Search<'a> {
    table: &'a VarianceTable,
    prob: &'a [f32],
    best: &'a [Vec<f64>],
    floor: f64,
    thresholds: usize,
    current: Vec<usize>,
    found: Option<Vec<usize>>,
    sigma_max: f32,
}

impl Search<'_> {
    fn level(&mut self, level: usize, start: usize, partial: f64) {
        let n = self.table.n;
        let remaining = self.thresholds - level;
        for t in start..n - remaining {
            if t > start && self.prob[t] == 0.0 && !(level == 0 && t == 1) {
                continue;
            }
            let term = self.table.get(start, t) as f64;
            let bound = partial + term + self.best[remaining - 1][t + 1];
            if bound < self.floor {
                continue;
            }
            self.current[level] = t;
            if remaining == 1 {
                self.leaf();
            } else {
                self.level(level + 1, t + 1, partial + term);
            }
        }
    }

    fn leaf(&mut self) {
        let (c, k, n) = (&self.current, self.thresholds, self.table.n);
        let mut sigma = self.table.get(0, c[0]) + self.table.get(c[k - 1] + 1, n - 1);
        for i in 0..k - 1 {
            sigma += self.table.get(c[i] + 1, c[i + 1]);
        }
        if sigma > self.sigma_max {
            self.sigma_max = sigma;
            self.found = Some(c.clone());
        }
    }
}

/// A label image: one small integer per pixel (0/1 for a binary mask, 0..classes-1 for
/// multi-level thresholds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

impl Labels {
    /// The labels as an 8-bit image view, e.g. to feed the GLCM texture step.
    pub fn view(&self) -> ImageView<'_> {
        ImageView::new(self.width, self.height, Pixels::Gray8(&self.data))
            .expect("labels are built with the size of a valid image")
    }

    pub fn to_gray_image(&self) -> GrayImage {
        GrayImage {
            width: self.width,
            height: self.height,
            data: self.data.iter().map(|&v| v as f32).collect(),
        }
    }
}

/// Labels each pixel with the number of thresholds its value exceeds (`value > t`), so
/// one threshold gives a 0/1 foreground mask. Thresholds must be finite and ascending,
/// at most 255 of them.
pub fn apply_thresholds(view: &ImageView, thresholds: &[f64]) -> Result<Labels> {
    view.ensure_finite()?;
    if thresholds.is_empty() || thresholds.len() > 255 {
        return Err(Error::invalid(format!(
            "between 1 and 255 thresholds are needed (got {})",
            thresholds.len()
        )));
    }
    if let Some(t) = thresholds.iter().find(|t| !t.is_finite()) {
        return Err(Error::invalid(format!(
            "threshold {t} is not a finite number"
        )));
    }
    if thresholds.windows(2).any(|w| w[0] > w[1]) {
        return Err(Error::invalid(format!(
            "thresholds must be in ascending order (got {thresholds:?})"
        )));
    }
    let label = |v: f64| thresholds.partition_point(|&t| v > t) as u8;
    let data = match view.pixels() {
        Pixels::Gray8(p) => {
            let lut: Vec<u8> = (0..=255).map(|v| label(v as f64)).collect();
            p.iter().map(|&v| lut[v as usize]).collect()
        }
        _ => (0..view.width() * view.height())
            .map(|i| label(view.gray_at(i) as f64))
            .collect(),
    };
    Ok(Labels {
        width: view.width(),
        height: view.height(),
        data,
    })
}

/// The 0/1 mask of pixels brighter than Otsu's threshold: `image > threshold_otsu(image)`.
pub fn otsu_mask(view: &ImageView) -> Result<Labels> {
    let t = otsu(view)?;
    apply_thresholds(view, &[t])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_force(prob: &[f32], k: usize) -> Vec<usize> {
        // scikit-image's recursive enumeration, for checking the pruned search.
        fn rec(
            t: &VarianceTable,
            hist_idx: usize,
            idx: usize,
            k: usize,
            cur: &mut Vec<usize>,
            best: &mut (f32, Vec<usize>),
        ) {
            let n = t.n;
            if idx < k {
                for i in hist_idx..n - k + idx {
                    cur[idx] = i;
                    rec(t, i + 1, idx + 1, k, cur, best);
                }
            } else {
                let mut s = t.get(0, cur[0]) + t.get(cur[k - 1] + 1, n - 1);
                for i in 0..k - 1 {
                    s += t.get(cur[i] + 1, cur[i + 1]);
                }
                if s > best.0 {
                    *best = (s, cur.clone());
                }
            }
        }
        let t = VarianceTable::new(prob);
        let mut best = (0f32, vec![0; k]);
        rec(&t, 0, 0, k, &mut vec![0; k], &mut best);
        best.1
    }

    fn lcg(seed: &mut u64) -> u64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *seed >> 33
    }

    #[test]
    fn pruned_search_equals_brute_force() {
        let mut seed = 7u64;
        for case in 0..60 {
            let n = 8 + (case % 5) * 7;
            let counts: Vec<u64> = (0..n)
                .map(|_| {
                    let r = lcg(&mut seed) % 10;
                    // Plenty of empty bins and exact ties.
                    if r < 4 {
                        0
                    } else {
                        lcg(&mut seed) % 50
                    }
                })
                .collect();
            let total: u64 = counts.iter().sum();
            if total == 0 {
                continue;
            }
            let prob: Vec<f32> = counts
                .iter()
                .map(|&c| (c as f64 / total as f64) as f32)
                .collect();
            let nvalues = prob.iter().filter(|&&p| p != 0.0).count();
            for k in 1..=3 {
                if nvalues <= k + 1 {
                    continue;
                }
                let fast = multi_otsu_indices(&prob, k).unwrap();
                assert_eq!(
                    fast,
                    brute_force(&prob, k),
                    "case {case}, k {k}: {counts:?}"
                );
            }
        }
    }

    #[test]
    fn labels_count_exceeded_thresholds() {
        let data = [0u8, 10, 11, 20, 21, 255];
        let view = ImageView::new(6, 1, Pixels::Gray8(&data)).unwrap();
        let labels = apply_thresholds(&view, &[10.0, 20.0]).unwrap();
        assert_eq!(labels.data, vec![0, 0, 1, 1, 2, 2]);
    }
}
