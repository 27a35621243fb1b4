//! Unsupervised segmentation by k-means on per-pixel feature vectors.
//!
//! The user picks the features (grey, smoothed grey, local variance, the learned
//! foreground probability of [`crate::analysis::cluster::foreground`], maps supplied by the caller such as
//! GLCM or CAM heatmaps, optional weighted coordinates). Each feature
//! is standardised (zero mean, unit variance over the whole image; a constant feature
//! contributes nothing) so no unit dominates the Euclidean distance.
//!
//! Large images never have their full feature matrix in f64: a first pass over row
//! blocks (in parallel) computes the raw f32 features (kept for the second pass when they
//! fit in 64 MiB, else computed again), the standardisation statistics and a
//! deterministic stratified random sample of at most [`ClusterParams::max_samples`]
//! pixels. linfa-clustering's k-means (best of `n_init` k-means++ runs) is fitted on a
//! subsample of that sample to choose the start, then plain Lloyd iterations on the whole
//! sample run to a fixed point; a second parallel pass assigns every pixel to its nearest
//! centroid.
//!
//! Results are reproducible: the sample and k-means++ both draw from
//! `Xoshiro256Plus::seed_from_u64(seed)`, linfa's parallel loops only compute
//! independent per-sample values (sums stay sequential), and the row blocks of both
//! passes are fixed by the image width, not by the thread count, with their partial sums
//! reduced in block order, so labels and inertia do not depend on the number of threads.
//! Labels are ordered by the clusters' mean grey value (darkest = 0) so the same
//! material gets the same label from run to run.

pub mod foreground;

use linfa::prelude::*;
use linfa_clustering::{KMeans, KMeansInit};

use ndarray::{s, Array2, ArrayView2};
use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256Plus;

use crate::analysis::cluster::foreground::ForegroundModel;
use crate::analysis::filters::{gaussian_kernel, gray_row, separable_rows, MAX_SIGMA};
use crate::error::{Error, Result};
use crate::image::pixels::{GrayImage, ImageView};
use crate::image::resample::{resize_area, Upsampler};
use crate::model::runtime::RuntimeConfig;
use crate::parallel::{par_blocks, thread_count};

/// Most clusters accepted (labels are `u8`).
pub const MAX_K: usize = 255;
/// Largest local-variance window radius accepted.
pub const MAX_WINDOW_RADIUS: usize = 500;
/// Width the reference mode resizes images to, as the published tool does.
pub const REFERENCE_WIDTH: usize = 512;
/// Fewest pixels the fitting sample may be limited to.
pub const MIN_SAMPLES: usize = 100;

/// Pixels per streamed row block: large enough that the halo rows of the smoothing
/// features are a small overhead, small enough to stay in cache-sized buffers.
const BLOCK_PIXELS: usize = 1 << 18;
/// Most raw feature values (f32) kept between the two passes (64 MiB); larger images
/// compute their features again in the second pass.
const CACHE_VALUES: usize = 1 << 24;
/// Most sample rows linfa's k-means++ restarts are fitted on (see [`fit_centroids`]).
const LINFA_SUBSAMPLE: usize = 8192;

/// A per-pixel feature computed from the image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Feature {
    /// The grey value itself (RGB through luminance).
    Grey,
    /// Gaussian-smoothed grey (σ in pixels, reflected borders): suppresses noise so
    /// clusters follow regions rather than individual noisy pixels.
    Smoothed { sigma: f64 },
    /// Grey-value variance in a (2r+1)² window: separates textured from flat regions
    /// of similar mean grey.
    LocalVariance { radius: usize },
    /// Learned foreground probability (0–1) from the network bundled with this library
    /// ([`crate::analysis::cluster::foreground`]): high on compact objects (particles, precipitates) and low
    /// on the background around them, whatever their grey. Needs ONNX Runtime
    /// ([`ClusterParams::runtime`]).
    Foreground,
}

impl Feature {
    pub fn name(&self) -> String {
        match self {
            Feature::Grey => "grey".into(),
            Feature::Smoothed { sigma } => format!("smoothed grey (sigma {sigma})"),
            Feature::LocalVariance { radius } => format!("local variance (radius {radius})"),
            Feature::Foreground => "foreground (learned)".into(),
        }
    }

    fn validate(&self) -> Result<()> {
        match *self {
            Feature::Grey | Feature::Foreground => Ok(()),
            Feature::Smoothed { sigma } => {
                if !(sigma.is_finite() && sigma > 0.0 && sigma <= MAX_SIGMA) {
                    return Err(Error::invalid(format!(
                        "smoothed-grey feature: sigma must be a finite number greater than 0 \
                         and at most {MAX_SIGMA} pixels, got {sigma}"
                    )));
                }
                Ok(())
            }
            Feature::LocalVariance { radius } => {
                if radius == 0 || radius > MAX_WINDOW_RADIUS {
                    return Err(Error::invalid(format!(
                        "local-variance feature: window radius must be between 1 and \
                         {MAX_WINDOW_RADIUS} pixels, got {radius}"
                    )));
                }
                Ok(())
            }
        }
    }
}

/// Physical size of a pixel, for calibrated areas.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    pub pixel_width: f64,
    pub pixel_height: f64,
    /// Length unit of `pixel_width` and `pixel_height` (areas are in unit²).
    pub unit: String,
}

impl Default for Calibration {
    fn default() -> Self {
        Self {
            pixel_width: 1.0,
            pixel_height: 1.0,
            unit: "pixel".into(),
        }
    }
}

impl Calibration {
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [("width", self.pixel_width), ("height", self.pixel_height)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::invalid(format!(
                    "pixel {name} must be a finite number greater than 0, got {v}"
                )));
            }
        }
        Ok(())
    }
}

/// Parameters of [`cluster`].
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterParams {
    /// Number of clusters, 2–255.
    pub k: usize,
    /// Features computed from the image; caller-supplied maps are added after these.
    pub features: Vec<Feature>,
    /// Weight of the standardised x and y coordinates; 0 leaves position out. Position
    /// makes clusters spatially compact, which helps little for particles spread over
    /// the field, so it is off by default.
    pub position_weight: f64,
    /// Number of k-means++ restarts; the run with the lowest inertia is kept.
    pub n_init: usize,
    /// Iteration limit of each run.
    pub max_iterations: u64,
    /// Convergence tolerance on the centroid shift (standardised units).
    pub tolerance: f64,
    /// Seed of the sampling and k-means++ random generator.
    pub seed: u64,
    /// At most this many pixels (a deterministic random sample) are used for fitting;
    /// all pixels are then assigned.
    pub max_samples: usize,
    /// Pixel size for calibrated areas.
    pub calibration: Calibration,
    /// Worker threads for the feature and assignment passes; 0 uses every core. The
    /// result does not depend on it.
    pub threads: usize,
    /// Where to find ONNX Runtime for [`Feature::Foreground`].
    pub runtime: RuntimeConfig,
}

/// Default features: grey smoothed at σ = 2 px and the learned foreground probability.
/// On the EMPS nanoparticle masks (k = 2, `examples/emps_iou.rs`) smoothed grey alone
/// gives a mean foreground IoU of 0.721 against 0.695 for Otsu on raw grey and 0.699 for
/// the reference mode, and no other hand-made feature, scale or clean-up did better
/// (docs/benchmarks.md, "Image-analysis validity"). Adding the learned map lifts it to
/// about 0.80 on images the network was not trained on (0.813 and 0.784 on the two
/// halves; docs/models/foreground.md).
pub const DEFAULT_FEATURES: [Feature; 2] = [Feature::Smoothed { sigma: 2.0 }, Feature::Foreground];

impl Default for ClusterParams {
    fn default() -> Self {
        Self {
            k: 2,
            features: DEFAULT_FEATURES.to_vec(),
            position_weight: 0.0,
            n_init: 4,
            max_iterations: 300,
            tolerance: 1e-4,
            seed: 42,
            max_samples: 100_000,
            calibration: Calibration::default(),
            threads: 0,
            runtime: RuntimeConfig::default(),
        }
    }
}

impl ClusterParams {
    pub fn validate(&self) -> Result<()> {
        if !(2..=MAX_K).contains(&self.k) {
            return Err(Error::invalid(format!(
                "number of clusters k must be between 2 and {MAX_K}, got {}",
                self.k
            )));
        }
        for feature in &self.features {
            feature.validate()?;
        }
        if !(self.position_weight.is_finite() && self.position_weight >= 0.0) {
            return Err(Error::invalid(format!(
                "position weight must be a finite number ≥ 0 (0 = off), got {}",
                self.position_weight
            )));
        }
        if self.n_init == 0 || self.n_init > 1000 {
            return Err(Error::invalid(format!(
                "number of k-means restarts (n_init) must be between 1 and 1000, got {}",
                self.n_init
            )));
        }
        if self.max_iterations == 0 || self.max_iterations > 100_000 {
            return Err(Error::invalid(format!(
                "k-means iteration limit must be between 1 and 100000, got {}",
                self.max_iterations
            )));
        }
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) {
            return Err(Error::invalid(format!(
                "k-means tolerance must be a finite number greater than 0, got {}",
                self.tolerance
            )));
        }
        if self.max_samples < MIN_SAMPLES {
            return Err(Error::invalid(format!(
                "the fitting sample must allow at least {MIN_SAMPLES} pixels, got {}",
                self.max_samples
            )));
        }
        self.calibration.validate()
    }
}

/// Summary of one cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterSummary {
    /// Label in [`Clustering::labels`].
    pub label: u8,
    pub pixel_count: u64,
    /// Fraction of the image's pixels.
    pub area_fraction: f64,
    /// Area in calibrated units² (`pixel_count` × pixel width × pixel height).
    pub area: f64,
    /// Mean grey value, which orders the labels.
    pub mean_grey: f64,
    /// Mean of each feature in its original units, in [`Clustering::feature_names`] order.
    pub feature_means: Vec<f64>,
}

/// The outcome of a clustering.
#[derive(Debug, Clone, PartialEq)]
pub struct Clustering {
    /// Size of the label image (the resized size in reference mode).
    pub width: usize,
    pub height: usize,
    /// One label per pixel, 0..k−1, ordered by ascending cluster mean grey.
    pub labels: Vec<u8>,
    pub feature_names: Vec<String>,
    /// Clusters in label order.
    pub clusters: Vec<ClusterSummary>,
    /// Sum over all pixels of the squared distance to their centroid, in standardised
    /// feature space (scikit-learn's `inertia_` when every pixel is in the sample).
    pub inertia: f64,
    /// Number of pixels the centroids were fitted on.
    pub sample_size: usize,
    /// Unit of [`ClusterSummary::area`] (squared).
    pub unit: String,
}

impl Clustering {
    /// Binary mask of one cluster: 255 where the label is `label`, 0 elsewhere (ImageJ's
    /// binary convention).
    pub fn mask(&self, label: u8) -> Result<Vec<u8>> {
        if label as usize >= self.clusters.len() {
            return Err(Error::invalid(format!(
                "cluster {label} does not exist: labels run from 0 to {}",
                self.clusters.len() - 1
            )));
        }
        Ok(self
            .labels
            .iter()
            .map(|&l| if l == label { 255 } else { 0 })
            .collect())
    }

    /// The label image resampled to `width`×`height` by nearest neighbour (pixel
    /// centres), e.g. to overlay a reference-mode result on the original image.
    pub fn labels_resized(&self, width: usize, height: usize) -> Vec<u8> {
        let xs: Vec<usize> = (0..width)
            .map(|x| nearest_source(x, width, self.width))
            .collect();
        let mut out = Vec::with_capacity(width * height);
        for y in 0..height {
            let row = nearest_source(y, height, self.height) * self.width;
            out.extend(xs.iter().map(|&sx| self.labels[row + sx]));
        }
        out
    }
}

fn nearest_source(i: usize, dst: usize, src: usize) -> usize {
    ((((i as f64 + 0.5) * src as f64 / dst as f64) - 0.5)
        .round()
        .max(0.0) as usize)
        .min(src - 1)
}

// ---------------------------------------------------------------------------------------
// Feature extraction over row blocks

/// Computes raw (unstandardised) feature vectors for blocks of rows.
#[derive(Clone)]
struct FeatureSource<'a> {
    view: ImageView<'a>,
    features: Vec<Feature>,
    extras: Vec<&'a GrayImage>,
    /// The [`Feature::Foreground`] map at the network's working size and its enlargement
    /// to the image size (row by row, so the full-size map is never held).
    foreground: Option<(&'a GrayImage, Upsampler)>,
    position: bool,
    /// Subtracted from grey before squaring in local variance, against cancellation.
    variance_offset: f32,
    kernels: Vec<Option<Vec<f32>>>,
    block_rows: usize,
    scratch: Vec<f32>,
    scratch2: Vec<f32>,
}

impl<'a> FeatureSource<'a> {
    fn new(
        view: ImageView<'a>,
        features: &[Feature],
        extras: &[(&str, &'a GrayImage)],
        position: bool,
    ) -> Self {
        let kernels = features
            .iter()
            .map(|f| match *f {
                Feature::Grey | Feature::Foreground => None,
                Feature::Smoothed { sigma } => Some(gaussian_kernel(sigma)),
                Feature::LocalVariance { radius } => {
                    Some(vec![1.0 / (2 * radius + 1) as f32; 2 * radius + 1])
                }
            })
            .collect();
        let (lo, hi) = view.unit_range();
        Self {
            view,
            features: features.to_vec(),
            extras: extras.iter().map(|(_, m)| *m).collect(),
            foreground: None,
            position,
            variance_offset: 0.5 * (lo + hi),
            kernels,
            block_rows: (BLOCK_PIXELS / view.width()).clamp(1, view.height()),
            scratch: Vec::new(),
            scratch2: Vec::new(),
        }
    }

    /// Supplies the map of [`Feature::Foreground`] (at any size; enlarged bilinearly).
    fn with_foreground(mut self, map: Option<&'a GrayImage>) -> Self {
        let (w, h) = (self.view.width(), self.view.height());
        self.foreground = map.map(|m| (m, Upsampler::new(m.width, m.height, w, h)));
        self
    }

    fn dims(&self) -> usize {
        self.features.len() + self.extras.len() + if self.position { 2 } else { 0 }
    }

    /// Raw features of rows `y0..y1`, pixel-major (`out[p * dims + j]`), plus the grey
    /// value of each pixel in `grey`.
    fn fill(&mut self, y0: usize, y1: usize, out: &mut Vec<f32>, grey: &mut Vec<f32>) {
        let (w, h) = (self.view.width(), self.view.height());
        let n = (y1 - y0) * w;
        let d = self.dims();
        out.resize(n * d, 0.0);
        grey.resize(n, 0.0);
        for (i, y) in (y0..y1).enumerate() {
            gray_row(&self.view, y, &mut grey[i * w..(i + 1) * w]);
        }
        self.scratch.resize(n, 0.0);
        for (j, feature) in self.features.iter().enumerate() {
            let view = self.view;
            match *feature {
                Feature::Grey => {
                    for (p, &g) in grey.iter().enumerate() {
                        out[p * d + j] = g;
                    }
                }
                Feature::Foreground => {
                    let (map, upsampler) = self
                        .foreground
                        .as_ref()
                        .expect("foreground map computed up front");
                    // `scratch` holds n ≥ w values (resized above).
                    for (i, y) in (y0..y1).enumerate() {
                        upsampler.row(&map.data, y, &mut self.scratch[..w]);
                        for (x, &v) in self.scratch[..w].iter().enumerate() {
                            out[(i * w + x) * d + j] = v;
                        }
                    }
                }
                Feature::Smoothed { .. } => {
                    let kernel = self.kernels[j].as_ref().expect("kernel built");
                    separable_rows(
                        w,
                        h,
                        kernel,
                        &mut |y, row| gray_row(&view, y, row),
                        y0,
                        y1,
                        &mut self.scratch,
                    );
                    for (p, &v) in self.scratch.iter().enumerate() {
                        out[p * d + j] = v;
                    }
                }
                Feature::LocalVariance { .. } => {
                    let kernel = self.kernels[j].as_ref().expect("kernel built");
                    let offset = self.variance_offset;
                    separable_rows(
                        w,
                        h,
                        kernel,
                        &mut |y, row| {
                            gray_row(&view, y, row);
                            row.iter_mut().for_each(|v| *v -= offset);
                        },
                        y0,
                        y1,
                        &mut self.scratch,
                    );
                    self.scratch2.resize(n, 0.0);
                    separable_rows(
                        w,
                        h,
                        kernel,
                        &mut |y, row| {
                            gray_row(&view, y, row);
                            row.iter_mut()
                                .for_each(|v| *v = (*v - offset) * (*v - offset));
                        },
                        y0,
                        y1,
                        &mut self.scratch2,
                    );
                    for (p, (&m, &m2)) in self.scratch.iter().zip(&self.scratch2).enumerate() {
                        out[p * d + j] = (m2 - m * m).max(0.0);
                    }
                }
            }
        }
        let mut j = self.features.len();
        for map in &self.extras {
            for (p, &v) in map.data[y0 * w..y1 * w].iter().enumerate() {
                out[p * d + j] = v;
            }
            j += 1;
        }
        if self.position {
            for (i, y) in (y0..y1).enumerate() {
                for x in 0..w {
                    let p = i * w + x;
                    out[p * d + j] = x as f32;
                    out[p * d + j + 1] = y as f32;
                }
            }
        }
    }
}

/// Per-feature affine map to standardised (and weighted) units.
struct Standardiser {
    mean: Vec<f64>,
    /// 1/σ × weight, or 0 for a constant feature.
    scale: Vec<f64>,
}

impl Standardiser {
    #[inline]
    fn apply(&self, raw: &[f32], z: &mut [f64]) {
        for j in 0..z.len() {
            z[j] = (raw[j] as f64 - self.mean[j]) * self.scale[j];
        }
    }
}

/// Result of the first pass: standardisation, the fitting sample and, for images small
/// enough, every pixel's raw features so the second pass need not compute them again.
struct Prepared {
    standardiser: Standardiser,
    /// Standardised sample, one row per sampled pixel.
    sample: Array2<f64>,
    /// Raw features of every pixel (`[p * dims + j]`), when they fit in [`CACHE_VALUES`].
    cache: Option<Vec<f32>>,
}

fn validate_inputs(
    view: &ImageView,
    params: &ClusterParams,
    extras: &[(&str, &GrayImage)],
) -> Result<()> {
    params.validate()?;
    view.ensure_finite()?;
    if params.features.is_empty() && extras.is_empty() && params.position_weight == 0.0 {
        return Err(Error::invalid(
            "no features chosen: pick at least one image feature or supply a feature map",
        ));
    }
    let n = view.width() * view.height();
    if n < params.k {
        return Err(Error::invalid(format!(
            "the image has {n} pixel(s), fewer than the {} clusters requested",
            params.k
        )));
    }
    let mut names: Vec<&str> = Vec::new();
    for (name, map) in extras {
        if name.trim().is_empty() {
            return Err(Error::invalid("every feature map needs a name"));
        }
        if names.contains(name) {
            return Err(Error::invalid(format!(
                "feature map name '{name}' is used twice"
            )));
        }
        names.push(name);
        if map.width != view.width() || map.height != view.height() || map.data.len() != n {
            return Err(Error::invalid(format!(
                "feature map '{name}' is {}×{} but the image is {}×{}",
                map.width,
                map.height,
                view.width(),
                view.height()
            )));
        }
        if let Some(i) = map.data.iter().position(|v| !v.is_finite()) {
            return Err(Error::invalid(format!(
                "feature map '{name}' holds a non-finite value ({}) at pixel ({}, {})",
                map.data[i],
                i % map.width,
                i / map.width
            )));
        }
    }
    Ok(())
}

fn feature_names(params: &ClusterParams, extras: &[(&str, &GrayImage)]) -> Vec<String> {
    let mut names: Vec<String> = params.features.iter().map(Feature::name).collect();
    names.extend(extras.iter().map(|(n, _)| n.to_string()));
    if params.position_weight > 0.0 {
        names.push("x".into());
        names.push("y".into());
    }
    names
}

/// Per-thread buffers for computing a block's features.
struct BlockScratch<'a> {
    source: FeatureSource<'a>,
    features: Vec<f32>,
    grey: Vec<f32>,
}

impl<'a> BlockScratch<'a> {
    fn new(source: &FeatureSource<'a>) -> Self {
        Self {
            source: source.clone(),
            features: Vec::new(),
            grey: Vec::new(),
        }
    }
}

/// Mean and sum of squared deviations of each feature over some pixels (combined across
/// blocks with Chan et al.'s pairwise update, which stays accurate for large images).
#[derive(Clone)]
struct Moments {
    count: f64,
    mean: Vec<f64>,
    m2: Vec<f64>,
}

impl Moments {
    /// One pass, with sums taken about the block's first pixel (close to the data, so
    /// the shifted sum of squares does not cancel).
    fn of(pixels: &[f32], d: usize) -> Self {
        let count = (pixels.len() / d) as f64;
        let shift: Vec<f32> = pixels[..d].to_vec();
        let mut s1 = vec![0f64; d];
        let mut s2 = vec![0f64; d];
        for px in pixels.chunks_exact(d) {
            for j in 0..d {
                let t = (px[j] - shift[j]) as f64;
                s1[j] += t;
                s2[j] += t * t;
            }
        }
        let mean = (0..d).map(|j| shift[j] as f64 + s1[j] / count).collect();
        let m2 = (0..d)
            .map(|j| (s2[j] - s1[j] * s1[j] / count).max(0.0))
            .collect();
        Self { count, mean, m2 }
    }

    fn merge(&mut self, other: &Moments) {
        let total = self.count + other.count;
        for j in 0..self.mean.len() {
            let delta = other.mean[j] - self.mean[j];
            self.mean[j] += delta * other.count / total;
            self.m2[j] += other.m2[j] + delta * delta * self.count * other.count / total;
        }
        self.count = total;
    }
}

/// Sorted pixel indices of the fitting sample: `m` of the `n` pixels, one drawn
/// uniformly from each of `m` equal runs of the scan order (every pixel has the same
/// chance m/n, and the sample is spread over the whole image).
fn sample_indices(n: usize, m: usize, seed: u64) -> Vec<usize> {
    if m >= n {
        return (0..n).collect();
    }
    let mut rng = Xoshiro256Plus::seed_from_u64(seed);
    let bound = |i: usize| ((i as u128 * n as u128) / m as u128) as usize;
    (0..m)
        .map(|i| {
            let (lo, hi) = (bound(i), bound(i + 1));
            lo + (rng.next_u64() % (hi - lo) as u64) as usize
        })
        .collect()
}

/// First pass: per-feature mean and standard deviation over all pixels, and the
/// features of the fitting sample; row blocks run in parallel.
fn prepare(source: &FeatureSource, params: &ClusterParams, cache_limit: usize) -> Prepared {
    let (w, h) = (source.view.width(), source.view.height());
    let n = w * h;
    let d = source.dims();
    let indices = sample_indices(n, params.max_samples, params.seed);
    let block_pixels = source.block_rows * w;
    let n_blocks = h.div_ceil(source.block_rows);
    let mut cache = (n * d <= cache_limit).then(|| vec![0f32; n * d]);
    let items: Vec<Option<&mut [f32]>> = match cache.as_mut() {
        Some(c) => c.chunks_mut(block_pixels * d).map(Some).collect(),
        None => (0..n_blocks).map(|_| None).collect(),
    };
    let results = par_blocks(
        items,
        thread_count(params.threads),
        || BlockScratch::new(source),
        |b, cached, s| {
            let y0 = b * source.block_rows;
            let y1 = (y0 + source.block_rows).min(h);
            s.source.fill(y0, y1, &mut s.features, &mut s.grey);
            if let Some(c) = cached {
                c.copy_from_slice(&s.features);
            }
            let (p0, p1) = (y0 * w, y1 * w);
            let first = indices.partition_point(|&i| i < p0);
            let last = indices.partition_point(|&i| i < p1);
            let mut rows = Vec::with_capacity((last - first) * d);
            for &i in &indices[first..last] {
                rows.extend_from_slice(&s.features[(i - p0) * d..(i - p0 + 1) * d]);
            }
            (Moments::of(&s.features, d), rows)
        },
    );
    let mut moments = results[0].0.clone();
    for (m, _) in &results[1..] {
        moments.merge(m);
    }
    let n_image = params.features.len() + source.extras.len();
    let scale = (0..d)
        .map(|j| {
            let sd = (moments.m2[j] / moments.count).max(0.0).sqrt();
            // Constant (to rounding) features carry no information: give them no weight.
            let tiny = 1e-7 * (moments.mean[j].abs() + sd).max(f64::MIN_POSITIVE);
            let weight = if j >= n_image {
                params.position_weight
            } else {
                1.0
            };
            if sd > tiny {
                weight / sd
            } else {
                0.0
            }
        })
        .collect();
    let standardiser = Standardiser {
        mean: moments.mean,
        scale,
    };
    let mut sample = Array2::<f64>::zeros((indices.len(), d));
    let raw = results.iter().flat_map(|(_, rows)| rows.chunks_exact(d));
    for (z, px) in sample
        .as_slice_mut()
        .expect("standard layout")
        .chunks_exact_mut(d)
        .zip(raw)
    {
        standardiser.apply(px, z);
    }
    Prepared {
        standardiser,
        sample,
        cache,
    }
}

/// Fits k centroids to the standardised sample. linfa's k-means chooses the start: the
/// best (lowest inertia) of `n_init` k-means++ runs, fitted on an evenly spaced subsample
/// of at most [`LINFA_SUBSAMPLE`] rows (the sample is already random, and a fit on
/// thousands of points finds the same basin as one on all of them). Lloyd iterations on
/// the whole sample then run to a fixed point (no sample changes cluster), so the result
/// is exact k-means on the sample whatever linfa's own stopping rule and damped update.
fn fit_centroids(sample: ArrayView2<f64>, params: &ClusterParams, k: usize) -> Result<Array2<f64>> {
    let rng = Xoshiro256Plus::seed_from_u64(params.seed);
    let stride = sample.nrows().div_ceil(LINFA_SUBSAMPLE).max(1);
    let subsample = sample.slice(s![..;stride, ..]);
    let dataset = DatasetBase::from(subsample);
    let model = KMeans::params_with_rng(k, rng)
        .n_runs(params.n_init)
        .max_n_iterations(params.max_iterations)
        .tolerance(params.tolerance)
        .init_method(KMeansInit::KMeansPlusPlus)
        .fit(&dataset)
        .map_err(|err| Error::invalid(format!("k-means failed: {err}")))?;
    let mut centroids = model.centroids().clone();
    let c = centroids.as_slice_mut().expect("standard layout");
    lloyd(
        sample.as_slice().expect("standard layout"),
        sample.ncols(),
        c,
        params.max_iterations,
    );
    Ok(centroids)
}

/// Plain Lloyd iterations over `points` (rows of `d` values) until the assignment is
/// stable (empty clusters keep their centroid). Never increases the inertia.
fn lloyd(points: &[f64], d: usize, centroids: &mut [f64], max_iterations: u64) {
    match d {
        1 => lloyd_d::<1>(points, d, centroids, max_iterations),
        2 => lloyd_d::<2>(points, d, centroids, max_iterations),
        3 => lloyd_d::<3>(points, d, centroids, max_iterations),
        _ => lloyd_d::<0>(points, d, centroids, max_iterations),
    }
}

/// [`lloyd`] with `D` features, or any number when `D` is 0 (see [`assign_block`]).
fn lloyd_d<const D: usize>(
    points: &[f64],
    dims: usize,
    centroids: &mut [f64],
    max_iterations: u64,
) {
    let d = if D > 0 { D } else { dims };
    let k = centroids.len() / d;
    let mut labels = vec![u8::MAX; points.len() / d];
    let mut sums = vec![0f64; k * d];
    let mut counts = vec![0usize; k];
    for _ in 0..max_iterations {
        let mut changed = false;
        sums.fill(0.0);
        counts.fill(0);
        for (label, z) in labels.iter_mut().zip(points.chunks_exact(d)) {
            let best = nearest(centroids, &z[..d], k).0;
            if *label as usize != best {
                *label = best as u8;
                changed = true;
            }
            counts[best] += 1;
            let sum = &mut sums[best * d..best * d + d];
            for j in 0..d {
                sum[j] += z[j];
            }
        }
        if !changed {
            break;
        }
        for c in 0..k {
            if counts[c] > 0 {
                for j in 0..d {
                    centroids[c * d + j] = sums[c * d + j] / counts[c] as f64;
                }
            }
        }
    }
}

/// Index of the centroid nearest to `z` (first on ties) and the squared distance.
#[inline]
fn nearest(centroids: &[f64], z: &[f64], k: usize) -> (usize, f64) {
    let d = z.len();
    let mut best = (0, f64::INFINITY);
    for c in 0..k {
        let cent = &centroids[c * d..(c + 1) * d];
        let mut dist = 0.0;
        for j in 0..d {
            let t = z[j] - cent[j];
            dist += t * t;
        }
        if dist < best.1 {
            best = (c, dist);
        }
    }
    best
}

/// Clusters the pixels of `view`. `extras` are caller-supplied feature maps of the same
/// size as the image (e.g. GLCM contrast, a CAM heatmap), each with a name.
pub fn cluster(
    view: &ImageView,
    params: &ClusterParams,
    extras: &[(&str, &GrayImage)],
) -> Result<Clustering> {
    validate_inputs(view, params, extras)?;
    let position = params.position_weight > 0.0;
    let foreground = foreground_map(view, params)?;
    let source = FeatureSource::new(*view, &params.features, extras, position)
        .with_foreground(foreground.as_ref());
    cluster_from(&source, params, extras, CACHE_VALUES)
}

/// The learned foreground map of `view` when [`Feature::Foreground`] is among the
/// features (one whole-image network run, before the streamed passes).
fn foreground_map(view: &ImageView, params: &ClusterParams) -> Result<Option<GrayImage>> {
    if !params.features.contains(&Feature::Foreground) {
        return Ok(None);
    }
    let model = ForegroundModel::bundled(&params.runtime).map_err(|err| match err {
        Error::Runtime(message) => Error::Runtime(format!(
            "{message}. The learned foreground feature (part of the default features) needs \
             it; choose features without it (e.g. smoothed grey only) to cluster without \
             ONNX Runtime"
        )),
        other => other,
    })?;
    model.working_probability(view).map(Some)
}

/// [`cluster`] after validation, keeping the raw features between the passes when they
/// are at most `cache_limit` values.
fn cluster_from(
    source: &FeatureSource,
    params: &ClusterParams,
    extras: &[(&str, &GrayImage)],
    cache_limit: usize,
) -> Result<Clustering> {
    let prepared = prepare(source, params, cache_limit);
    let centroids = fit_centroids(prepared.sample.view(), params, params.k)?;
    let mut result = assign(source, &prepared, &centroids, params)?;
    result.feature_names = feature_names(params, extras);
    result.sample_size = prepared.sample.nrows();
    Ok(result)
}

/// One block's share of the per-cluster statistics.
struct BlockTotals {
    counts: Vec<u64>,
    grey_sums: Vec<f64>,
    feature_sums: Vec<f64>,
    inertia: f64,
}

/// One row block of the second pass.
struct Block<'b> {
    /// Raw features, `dims` per pixel.
    features: &'b [f32],
    grey: &'b [f32],
    labels: &'b mut [u8],
}

/// Labels a block and adds its per-cluster sums to `t`. `D` is the number of features
/// when it is small (so the compiler unrolls the loops over them), or 0 for any number.
fn assign_block<const D: usize>(
    block: Block,
    standardiser: &Standardiser,
    centroids: &[f64],
    t: &mut BlockTotals,
) {
    let d = if D > 0 { D } else { standardiser.mean.len() };
    let k = t.counts.len();
    let mut z = vec![0f64; d];
    let pixels = block.labels.iter_mut().zip(block.grey);
    for ((label, &g), px) in pixels.zip(block.features.chunks_exact(d)) {
        standardiser.apply(px, &mut z[..d]);
        let (best, dist) = nearest(centroids, &z[..d], k);
        *label = best as u8;
        t.inertia += dist;
        t.counts[best] += 1;
        t.grey_sums[best] += g as f64;
        let sums = &mut t.feature_sums[best * d..best * d + d];
        for j in 0..d {
            sums[j] += px[j] as f64;
        }
    }
}

/// Second pass: nearest centroid for every pixel, per-cluster statistics, label order.
fn assign(
    source: &FeatureSource,
    prepared: &Prepared,
    centroids: &Array2<f64>,
    params: &ClusterParams,
) -> Result<Clustering> {
    let (w, h) = (source.view.width(), source.view.height());
    let d = source.dims();
    let k = centroids.nrows();
    let c = centroids.as_slice().expect("standard layout");
    let standardiser = &prepared.standardiser;
    let mut labels = vec![0u8; w * h];
    let block_pixels = source.block_rows * w;
    let items: Vec<(&mut [u8], Option<&[f32]>)> = match &prepared.cache {
        Some(cache) => labels
            .chunks_mut(block_pixels)
            .zip(cache.chunks(block_pixels * d).map(Some))
            .collect(),
        None => labels.chunks_mut(block_pixels).map(|l| (l, None)).collect(),
    };
    let totals = par_blocks(
        items,
        thread_count(params.threads),
        || BlockScratch::new(source),
        |b, (out, cached), s| {
            let y0 = b * source.block_rows;
            let y1 = (y0 + source.block_rows).min(h);
            let features: &[f32] = match cached {
                Some(f) => {
                    s.grey.resize((y1 - y0) * w, 0.0);
                    for (i, y) in (y0..y1).enumerate() {
                        gray_row(&source.view, y, &mut s.grey[i * w..(i + 1) * w]);
                    }
                    f
                }
                None => {
                    s.source.fill(y0, y1, &mut s.features, &mut s.grey);
                    &s.features
                }
            };
            let mut t = BlockTotals {
                counts: vec![0; k],
                grey_sums: vec![0.0; k],
                feature_sums: vec![0.0; k * d],
                inertia: 0.0,
            };
            let block = Block {
                features,
                grey: &s.grey,
                labels: out,
            };
            match d {
                1 => assign_block::<1>(block, standardiser, c, &mut t),
                2 => assign_block::<2>(block, standardiser, c, &mut t),
                3 => assign_block::<3>(block, standardiser, c, &mut t),
                _ => assign_block::<0>(block, standardiser, c, &mut t),
            }
            t
        },
    );
    let mut counts = vec![0u64; k];
    let mut grey_sums = vec![0f64; k];
    let mut feature_sums = vec![0f64; k * d];
    let mut inertia = 0f64;
    for t in &totals {
        inertia += t.inertia;
        for c in 0..k {
            counts[c] += t.counts[c];
            grey_sums[c] += t.grey_sums[c];
        }
        feature_sums
            .iter_mut()
            .zip(&t.feature_sums)
            .for_each(|(a, b)| *a += b);
    }
    // Order clusters by mean grey, darkest first; empty clusters last.
    let mean_grey: Vec<f64> = (0..k)
        .map(|c| {
            if counts[c] > 0 {
                grey_sums[c] / counts[c] as f64
            } else {
                f64::INFINITY
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| mean_grey[a].total_cmp(&mean_grey[b]));
    let mut relabel = vec![0u8; k];
    for (new, &old) in order.iter().enumerate() {
        relabel[old] = new as u8;
    }
    if order.iter().enumerate().any(|(new, &old)| new != old) {
        labels.iter_mut().for_each(|l| *l = relabel[*l as usize]);
    }
    let n = (w * h) as f64;
    let cal = &params.calibration;
    let clusters = order
        .iter()
        .enumerate()
        .map(|(new, &old)| {
            let count = counts[old];
            ClusterSummary {
                label: new as u8,
                pixel_count: count,
                area_fraction: count as f64 / n,
                area: count as f64 * cal.pixel_width * cal.pixel_height,
                mean_grey: if count > 0 { mean_grey[old] } else { f64::NAN },
                feature_means: (0..d)
                    .map(|j| {
                        if count > 0 {
                            feature_sums[old * d + j] / count as f64
                        } else {
                            f64::NAN
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(Clustering {
        width: w,
        height: h,
        labels,
        feature_names: Vec::new(),
        clusters,
        inertia,
        sample_size: 0,
        unit: cal.unit.clone(),
    })
}

// ---------------------------------------------------------------------------------------
// Choosing k

/// Parameters of [`suggest_k`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SuggestParams {
    pub k_min: usize,
    pub k_max: usize,
    /// Pixels the silhouette is computed on (its cost grows with the square).
    pub silhouette_samples: usize,
}

impl Default for SuggestParams {
    fn default() -> Self {
        Self {
            k_min: 2,
            k_max: 8,
            silhouette_samples: 2000,
        }
    }
}

impl SuggestParams {
    pub fn validate(&self) -> Result<()> {
        if self.k_min < 2 || self.k_max > MAX_K || self.k_min > self.k_max {
            return Err(Error::invalid(format!(
                "k range must satisfy 2 ≤ k_min ≤ k_max ≤ {MAX_K}, got {}..={}",
                self.k_min, self.k_max
            )));
        }
        if !(10..=20_000).contains(&self.silhouette_samples) {
            return Err(Error::invalid(format!(
                "silhouette sample size must be between 10 and 20000, got {}",
                self.silhouette_samples
            )));
        }
        Ok(())
    }
}

/// Mean silhouette score for each k tried, and the best k.
#[derive(Debug, Clone, PartialEq)]
pub struct KSuggestion {
    /// (k, mean silhouette) for each k tried; NaN where fewer than two clusters were
    /// populated in the silhouette sample.
    pub scores: Vec<(usize, f64)>,
    pub best_k: usize,
}

/// Suggests a number of clusters by the mean silhouette (on a random subsample of the
/// fitting sample) of the k-means solution for each k in the range. Only a suggestion:
/// [`cluster`] always uses the k it is given. `params.k` is ignored.
pub fn suggest_k(
    view: &ImageView,
    params: &ClusterParams,
    extras: &[(&str, &GrayImage)],
    suggest: &SuggestParams,
) -> Result<KSuggestion> {
    suggest.validate()?;
    let mut checked = params.clone();
    checked.k = suggest.k_min;
    validate_inputs(view, &checked, extras)?;
    let position = params.position_weight > 0.0;
    let foreground = foreground_map(view, params)?;
    let source = FeatureSource::new(*view, &params.features, extras, position)
        .with_foreground(foreground.as_ref());
    let prepared = prepare(&source, params, 0);
    let sample = prepared.sample.view();
    let (n, d) = sample.dim();
    // Deterministic subsample for the silhouette (partial Fisher–Yates).
    let m = suggest.silhouette_samples.min(n);
    let mut idx: Vec<usize> = (0..n).collect();
    let mut rng = Xoshiro256Plus::seed_from_u64(params.seed ^ 0x5111_0E77_E5C0_4E5A);
    for i in 0..m {
        let j = i + (rng.next_u64() % (n - i) as u64) as usize;
        idx.swap(i, j);
    }
    let sub: Vec<&[f64]> = idx[..m]
        .iter()
        .map(|&i| sample.row(i).to_slice().expect("standard layout"))
        .collect();
    let mut scores = Vec::new();
    for k in suggest.k_min..=suggest.k_max.min(n) {
        let centroids = fit_centroids(sample, params, k)?;
        let c = centroids.as_slice().expect("standard layout");
        let labels: Vec<usize> = sub.iter().map(|z| nearest(c, z, k).0).collect();
        scores.push((k, silhouette(&sub, &labels, k, d)));
    }
    let best_k = scores
        .iter()
        .filter(|(_, s)| s.is_finite())
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|&(k, _)| k)
        .unwrap_or(suggest.k_min);
    Ok(KSuggestion { scores, best_k })
}

/// Mean silhouette (scikit-learn's definition: points alone in their cluster score 0).
fn silhouette(points: &[&[f64]], labels: &[usize], k: usize, d: usize) -> f64 {
    let mut sizes = vec![0usize; k];
    labels.iter().for_each(|&l| sizes[l] += 1);
    if sizes.iter().filter(|&&s| s > 0).count() < 2 {
        return f64::NAN;
    }
    let mut total = 0.0;
    let mut sums = vec![0f64; k];
    for (i, a) in points.iter().enumerate() {
        sums.fill(0.0);
        for (j, b) in points.iter().enumerate() {
            if i != j {
                let dist: f64 = (0..d)
                    .map(|t| (a[t] - b[t]) * (a[t] - b[t]))
                    .sum::<f64>()
                    .sqrt();
                sums[labels[j]] += dist;
            }
        }
        let own = labels[i];
        if sizes[own] <= 1 {
            continue;
        }
        let a_i = sums[own] / (sizes[own] - 1) as f64;
        let b_i = (0..k)
            .filter(|&c| c != own && sizes[c] > 0)
            .map(|c| sums[c] / sizes[c] as f64)
            .fold(f64::INFINITY, f64::min);
        let denom = a_i.max(b_i);
        if denom > 0.0 {
            total += (b_i - a_i) / denom;
        }
    }
    total / points.len() as f64
}

// ---------------------------------------------------------------------------------------
// Reference mode

/// Parameters of [`cluster_reference`].
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceParams {
    pub k: usize,
    pub seed: u64,
    pub calibration: Calibration,
}

impl Default for ReferenceParams {
    fn default() -> Self {
        Self {
            k: 2,
            seed: 42,
            calibration: Calibration::default(),
        }
    }
}

/// The published tool's clustering, for comparison: grey only, the image resized to
/// 512 pixels wide (area averaging when shrinking, bilinear when enlarging), standardised,
/// k-means with 10 restarts on every pixel. Labels are at the resized size (see
/// [`Clustering::labels_resized`]); areas are calibrated for the resized pixels.
pub fn cluster_reference(view: &ImageView, params: &ReferenceParams) -> Result<Clustering> {
    view.ensure_finite()?;
    let (w, h) = (view.width(), view.height());
    let nw = REFERENCE_WIDTH;
    let nh = ((h as f64 * nw as f64 / w as f64).round() as usize).max(1);
    let grey = crate::analysis::filters::gray_values(view);
    let resized = resize_area(&grey, w, h, nw, nh);
    let image = GrayImage::new(nw, nh, resized)?;
    let cal = &params.calibration;
    let full = ClusterParams {
        k: params.k,
        features: vec![Feature::Grey],
        n_init: 10,
        seed: params.seed,
        max_samples: nw * nh,
        calibration: Calibration {
            pixel_width: cal.pixel_width * w as f64 / nw as f64,
            pixel_height: cal.pixel_height * h as f64 / nh as f64,
            unit: cal.unit.clone(),
        },
        ..ClusterParams::default()
    };
    cluster(&image.view(), &full, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_features_match_whole_image_filters() {
        let (w, h) = (37, 29);
        let data: Vec<f32> = (0..w * h)
            .map(|i| ((i * 7919) % 251) as f32 + (i % w) as f32)
            .collect();
        let img = GrayImage::new(w, h, data).unwrap();
        let extra = GrayImage::filled(w, h, 3.0);
        let features = [
            Feature::Grey,
            Feature::Smoothed { sigma: 1.7 },
            Feature::LocalVariance { radius: 2 },
        ];
        let whole = {
            let mut s = FeatureSource::new(img.view(), &features, &[("e", &extra)], true);
            let (mut out, mut grey) = (Vec::new(), Vec::new());
            s.fill(0, h, &mut out, &mut grey);
            out
        };
        let mut s = FeatureSource::new(img.view(), &features, &[("e", &extra)], true);
        s.block_rows = 4;
        let d = s.dims();
        let (mut out, mut grey) = (Vec::new(), Vec::new());
        let mut y0 = 0;
        while y0 < h {
            let y1 = (y0 + 4).min(h);
            s.fill(y0, y1, &mut out, &mut grey);
            assert_eq!(&whole[y0 * w * d..y1 * w * d], &out[..]);
            y0 = y1;
        }
        // Smoothed grey equals the Gaussian filter; variance equals a brute-force window.
        let g = crate::analysis::filters::gaussian(
            &img.view(),
            &crate::analysis::filters::GaussianParams { sigma: 1.7 },
        )
        .unwrap();
        for p in 0..w * h {
            assert!((whole[p * d + 1] - g.data[p]).abs() < 1e-3);
            let (x, y) = ((p % w) as isize, (p / w) as isize);
            let mut vals = Vec::new();
            for dy in -2..=2 {
                for dx in -2..=2 {
                    let sx = crate::analysis::filters::reflect(x + dx, w);
                    let sy = crate::analysis::filters::reflect(y + dy, h);
                    vals.push(img.data[sy * w + sx] as f64);
                }
            }
            let m = vals.iter().sum::<f64>() / 25.0;
            let v = vals.iter().map(|a| (a - m) * (a - m)).sum::<f64>() / 25.0;
            assert!(
                (whole[p * d + 2] as f64 - v).abs() < 1e-2 * v.max(1.0),
                "{p}"
            );
            assert_eq!(whole[p * d + 3], 3.0);
            assert_eq!(whole[p * d + 4], x as f32);
            assert_eq!(whole[p * d + 5], y as f32);
        }
    }

    #[test]
    fn same_result_for_any_thread_count_with_or_without_the_feature_cache() {
        let (w, h) = (61, 47);
        let data: Vec<f32> = (0..w * h)
            .map(|i| ((i * 7919) % 251) as f32 + 2.0 * (i / w) as f32)
            .collect();
        let img = GrayImage::new(w, h, data).unwrap();
        let params = ClusterParams {
            k: 4,
            features: vec![
                Feature::Grey,
                Feature::Smoothed { sigma: 1.5 },
                Feature::LocalVariance { radius: 2 },
            ],
            position_weight: 0.5,
            max_samples: 500,
            ..ClusterParams::default()
        };
        let run = |threads: usize, cache: usize| {
            let mut source = FeatureSource::new(img.view(), &params.features, &[], true);
            source.block_rows = 5; // 10 blocks
            let params = ClusterParams {
                threads,
                ..params.clone()
            };
            cluster_from(&source, &params, &[], cache).unwrap()
        };
        let first = run(1, usize::MAX);
        assert_eq!(first.sample_size, 500);
        for (threads, cache) in [(1, 0), (3, usize::MAX), (4, 0), (16, usize::MAX)] {
            assert_eq!(
                run(threads, cache),
                first,
                "{threads} threads, cache {cache}"
            );
        }
    }

    #[test]
    fn sample_is_spread_sorted_and_distinct() {
        let idx = sample_indices(1000, 300, 7);
        assert_eq!(idx.len(), 300);
        assert!(idx.windows(2).all(|p| p[0] < p[1]));
        assert!(*idx.last().unwrap() < 1000);
        assert_eq!(sample_indices(50, 300, 7), (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn area_resize_preserves_the_mean() {
        let src: Vec<f32> = (0..35).map(|i| i as f32).collect();
        let out = resize_area(&src, 7, 5, 3, 2);
        let mean_in = src.iter().sum::<f32>() / 35.0;
        let mean_out = out.iter().sum::<f32>() / 6.0;
        assert!((mean_in - mean_out).abs() < 1e-4);
        let same = resize_area(&src, 7, 5, 7, 5);
        assert_eq!(same, src);
    }

    #[test]
    fn silhouette_of_two_tight_groups_is_near_one() {
        let pts: Vec<[f64; 1]> = vec![[0.0], [0.1], [10.0], [10.1]];
        let refs: Vec<&[f64]> = pts.iter().map(|p| &p[..]).collect();
        let s = silhouette(&refs, &[0, 0, 1, 1], 2, 1);
        assert!(s > 0.98, "{s}");
    }
}
