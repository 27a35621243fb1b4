//! Resampling: the one place that computes how output pixels are made of input pixels.
//!
//! Three filters, each kept for the outputs it must reproduce:
//! - [`triangle_taps`]: the antialiased bilinear (triangle) filter of PIL's `BILINEAR`
//!   resize, for model inputs (the published tool resizes with PIL);
//! - [`area_taps`]: exact area averaging when shrinking, bilinear when enlarging, for
//!   whole-image tiling and the reference-mode clustering;
//! - [`Upsampler`]: plain bilinear interpolation of low-resolution maps (CAMs, the
//!   foreground probability) to image size, one row at a time.
//!
//! All three align pixel centres and replicate edges.

/// The source pixels (or rows) one resampled pixel (or row) is made of, with weights.
#[derive(Debug, Clone)]
pub(crate) struct Taps {
    pub start: usize,
    pub weights: Vec<f32>,
}

impl Taps {
    /// Weight of source index `index`, if it contributes.
    pub fn weight(&self, index: usize) -> Option<f32> {
        index
            .checked_sub(self.start)
            .and_then(|i| self.weights.get(i).copied())
    }

    /// The weighted sum of this tap's values in `line`.
    pub fn apply(&self, line: &[f32]) -> f32 {
        let values = &line[self.start..][..self.weights.len()];
        values.iter().zip(&self.weights).map(|(v, w)| v * w).sum()
    }
}

/// Position in source pixels of output pixel `o`'s centre when `ratio` source pixels make
/// one output pixel, clamped to the source's first and last pixel centres.
fn centre_position(o: usize, ratio: f64, source: usize) -> f64 {
    ((o as f64 + 0.5) * ratio - 0.5).clamp(0.0, (source - 1) as f64)
}

/// Triangle-filter taps for `count` output samples starting at input coordinate `origin`
/// with `scale` output pixels per input pixel, clamped to `[0, extent)`.
pub(crate) fn triangle_taps(origin: f64, scale: f64, count: usize, extent: usize) -> Vec<Taps> {
    // Widen the filter when shrinking so every input pixel contributes (antialiasing).
    let support = if scale < 1.0 { 1.0 / scale } else { 1.0 };
    (0..count)
        .map(|o| {
            let centre = origin + (o as f64 + 0.5) / scale;
            let first = ((centre - support).floor().max(0.0)) as usize;
            let last = ((centre + support).ceil() as usize).min(extent);
            let start = first.min(last.saturating_sub(1));
            let mut weights: Vec<f32> = (start..last.max(start + 1))
                .map(|i| (1.0 - ((i as f64 + 0.5 - centre) / support).abs()).max(0.0) as f32)
                .collect();
            let total: f32 = weights.iter().sum();
            if total > 0.0 {
                weights.iter_mut().for_each(|w| *w /= total);
            } else {
                // The centre lies beyond the border: replicate the nearest pixel.
                weights.iter_mut().for_each(|w| *w = 0.0);
                let nearest = if centre < start as f64 {
                    0
                } else {
                    weights.len() - 1
                };
                weights[nearest] = 1.0;
            }
            Taps { start, weights }
        })
        .collect()
}

/// Weights along one axis of `source` pixels resized to `target`: the area each target
/// pixel covers when shrinking, bilinear when enlarging, identity when equal.
pub(crate) fn area_taps(source: usize, target: usize) -> Vec<Taps> {
    let ratio = source as f64 / target as f64;
    (0..target)
        .map(|i| {
            if target < source {
                let (from, to) = (i as f64 * ratio, (i + 1) as f64 * ratio);
                let start = from.floor() as usize;
                let end = (to.ceil() as usize).min(source);
                let weights = (start..end)
                    .map(|s| ((to.min(s as f64 + 1.0) - from.max(s as f64)) / ratio) as f32)
                    .collect();
                Taps { start, weights }
            } else if target > source {
                let pos = centre_position(i, ratio, source);
                let start = pos.floor() as usize;
                let frac = (pos - start as f64) as f32;
                let weights = if start + 1 < source && frac > 0.0 {
                    vec![1.0 - frac, frac]
                } else {
                    vec![1.0]
                };
                Taps { start, weights }
            } else {
                Taps {
                    start: i,
                    weights: vec![1.0],
                }
            }
        })
        .collect()
}

/// A `w`×`h` grid of values resized to `nw`×`nh` with [`area_taps`] (rows first).
pub(crate) fn resize_area(src: &[f32], w: usize, h: usize, nw: usize, nh: usize) -> Vec<f32> {
    let wx = area_taps(w, nw);
    let wy = area_taps(h, nh);
    let mut tmp = vec![0f32; nw * h];
    for (row, out) in src.chunks_exact(w).zip(tmp.chunks_exact_mut(nw)) {
        for (o, taps) in out.iter_mut().zip(&wx) {
            *o = taps.apply(row);
        }
    }
    let mut out = vec![0f32; nw * nh];
    for (dst, taps) in out.chunks_exact_mut(nw).zip(&wy) {
        for (dy, &wt) in taps.weights.iter().enumerate() {
            let s = &tmp[(taps.start + dy) * nw..][..nw];
            dst.iter_mut().zip(s).for_each(|(d, &v)| *d += wt * v);
        }
    }
    out
}

/// Bilinear upsampling treating each source cell as covering an equal share of the
/// output (pixel-centre alignment), replicating edges.
pub fn upsample(
    map: &[f32],
    width: usize,
    height: usize,
    out_width: usize,
    out_height: usize,
) -> Vec<f32> {
    let upsampler = Upsampler::new(width, height, out_width, out_height);
    let mut out = vec![0.0; out_width * out_height];
    for (y, row) in out.chunks_exact_mut(out_width).enumerate() {
        upsampler.row(map, y, row);
    }
    out
}

/// [`upsample`] one output row at a time, for callers that stream rows.
#[derive(Debug, Clone)]
pub struct Upsampler {
    width: usize,
    x_taps: Vec<(usize, usize, f32)>,
    y_taps: Vec<(usize, usize, f32)>,
}

impl Upsampler {
    pub fn new(width: usize, height: usize, out_width: usize, out_height: usize) -> Self {
        Self {
            width,
            x_taps: linear_taps(width, out_width),
            y_taps: linear_taps(height, out_height),
        }
    }

    /// Output row `y` of the `width`×`height` `map` into `out` (`out_width` values).
    pub fn row(&self, map: &[f32], y: usize, out: &mut [f32]) {
        let (y0, y1, fy) = self.y_taps[y];
        let w = self.width;
        let (row0, row1) = (&map[y0 * w..][..w], &map[y1 * w..][..w]);
        for (o, &(x0, x1, fx)) in out.iter_mut().zip(&self.x_taps) {
            let top = row0[x0] + (row0[x1] - row0[x0]) * fx;
            let bottom = row1[x0] + (row1[x1] - row1[x0]) * fx;
            *o = top + (bottom - top) * fy;
        }
    }
}

/// For each output index: the two source indices and the weight of the second.
fn linear_taps(source: usize, target: usize) -> Vec<(usize, usize, f32)> {
    let ratio = source as f64 / target as f64;
    (0..target)
        .map(|o| {
            let pos = centre_position(o, ratio, source);
            let i0 = pos.floor() as usize;
            let i1 = (i0 + 1).min(source - 1);
            (i0, i1, (pos - i0 as f64) as f32)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_taps_cover_each_source_pixel_once_when_shrinking() {
        let taps = area_taps(10, 3);
        let mut total = [0.0f32; 10];
        for t in &taps {
            for (i, w) in t.weights.iter().enumerate() {
                total[t.start + i] += w * 10.0 / 3.0;
            }
        }
        assert!(total.iter().all(|&v| (v - 1.0).abs() < 1e-5), "{total:?}");
    }

    #[test]
    fn triangle_taps_sum_to_one() {
        for t in triangle_taps(0.0, 0.37, 20, 54) {
            let s: f32 = t.weights.iter().sum();
            assert!((s - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn upsampling_a_constant_map_is_constant_and_bounded() {
        let up = upsample(&[0.25; 4], 2, 2, 7, 5);
        assert_eq!(up.len(), 35);
        assert!(up.iter().all(|&v| (v - 0.25).abs() < 1e-7));
        let up = upsample(&[0.0, 1.0, 1.0, 0.0], 2, 2, 9, 9);
        assert!(up.iter().all(|&v| (0.0..=1.0).contains(&v)));
        assert_eq!(up[0], 0.0);
        assert_eq!(up[8], 1.0);
    }

    #[test]
    fn resize_area_of_identity_size_is_a_copy() {
        let src: Vec<f32> = (0..12).map(|v| v as f32).collect();
        assert_eq!(resize_area(&src, 4, 3, 4, 3), src);
    }
}
