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

mod algorithm;
mod features;
mod hyperparams;
mod reference;
mod settings;
mod suggest;

use self::algorithm::*;
use self::features::*;
pub use self::hyperparams::*;
pub use self::reference::*;
pub use self::settings::ClusterSettings;
pub use self::suggest::*;

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
    log::debug!(
        "k-means: k = {}, features {:?} (foreground weight {}), fitted on {} of {} pixels, \
         inertia {:.4}",
        params.k,
        result.feature_names,
        source.foreground_weight,
        result.sample_size,
        result.labels.len(),
        result.inertia
    );
    Ok(result)
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
