//! Per-pixel feature vectors, computed in row blocks, and their standardisation.

use super::*;

// ---------------------------------------------------------------------------------------
// Feature extraction over row blocks

/// Computes raw (unstandardised) feature vectors for blocks of rows.
#[derive(Clone)]
pub(super) struct FeatureSource<'a> {
    pub(super) view: ImageView<'a>,
    pub(super) features: Vec<Feature>,
    pub(super) extras: Vec<&'a GrayImage>,
    /// The [`Feature::Foreground`] map at the network's working size and its enlargement
    /// to the image size (row by row, so the full-size map is never held).
    pub(super) foreground: Option<(&'a GrayImage, Upsampler)>,
    /// The weight of [`Feature::Foreground`] ([`foreground::clustering_weight`]).
    pub(super) foreground_weight: f64,
    pub(super) position: bool,
    /// Subtracted from grey before squaring in local variance, against cancellation.
    pub(super) variance_offset: f32,
    pub(super) kernels: Vec<Option<Vec<f32>>>,
    pub(super) block_rows: usize,
    pub(super) scratch: Vec<f32>,
    pub(super) scratch2: Vec<f32>,
}

impl<'a> FeatureSource<'a> {
    pub(super) fn new(
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
            foreground_weight: 1.0,
            position,
            variance_offset: 0.5 * (lo + hi),
            kernels,
            block_rows: (BLOCK_PIXELS / view.width()).clamp(1, view.height()),
            scratch: Vec::new(),
            scratch2: Vec::new(),
        }
    }

    /// Supplies the map of [`Feature::Foreground`] (at any size; enlarged bilinearly).
    pub(super) fn with_foreground(mut self, map: Option<&'a GrayImage>) -> Self {
        let (w, h) = (self.view.width(), self.view.height());
        self.foreground = map.map(|m| (m, Upsampler::new(m.width, m.height, w, h)));
        self.foreground_weight = map.map_or(1.0, foreground::clustering_weight);
        self
    }

    pub(super) fn dims(&self) -> usize {
        self.features.len() + self.extras.len() + if self.position { 2 } else { 0 }
    }

    /// Raw features of rows `y0..y1`, pixel-major (`out[p * dims + j]`), plus the grey
    /// value of each pixel in `grey`.
    pub(super) fn fill(&mut self, y0: usize, y1: usize, out: &mut Vec<f32>, grey: &mut Vec<f32>) {
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
pub(super) struct Standardiser {
    pub(super) mean: Vec<f64>,
    /// 1/σ × weight, or 0 for a constant feature.
    pub(super) scale: Vec<f64>,
}

impl Standardiser {
    #[inline]
    pub(super) fn apply(&self, raw: &[f32], z: &mut [f64]) {
        for j in 0..z.len() {
            z[j] = (raw[j] as f64 - self.mean[j]) * self.scale[j];
        }
    }
}

/// Per-thread buffers for computing a block's features.
pub(super) struct BlockScratch<'a> {
    pub(super) source: FeatureSource<'a>,
    pub(super) features: Vec<f32>,
    pub(super) grey: Vec<f32>,
}

impl<'a> BlockScratch<'a> {
    pub(super) fn new(source: &FeatureSource<'a>) -> Self {
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
pub(super) struct Moments {
    pub(super) count: f64,
    pub(super) mean: Vec<f64>,
    pub(super) m2: Vec<f64>,
}

impl Moments {
    /// One pass, with sums taken about the block's first pixel (close to the data, so
    /// the shifted sum of squares does not cancel).
    pub(super) fn of(pixels: &[f32], d: usize) -> Self {
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

    pub(super) fn merge(&mut self, other: &Moments) {
        let total = self.count + other.count;
        for j in 0..self.mean.len() {
            let delta = other.mean[j] - self.mean[j];
            self.mean[j] += delta * other.count / total;
            self.m2[j] += other.m2[j] + delta * delta * self.count * other.count / total;
        }
        self.count = total;
    }
}
