//! The two streamed passes: sample and statistics, k-means fit, then assignment.

use super::*;

/// Result of the first pass: standardisation, the fitting sample and, for images small
/// enough, every pixel's raw features so the second pass need not compute them again.
pub(super) struct Prepared {
    pub(super) standardiser: Standardiser,
    /// Standardised sample, one row per sampled pixel.
    pub(super) sample: Array2<f64>,
    /// Raw features of every pixel (`[p * dims + j]`), when they fit in [`CACHE_VALUES`].
    pub(super) cache: Option<Vec<f32>>,
}

/// Sorted pixel indices of the fitting sample: `m` of the `n` pixels, one drawn
/// uniformly from each of `m` equal runs of the scan order (every pixel has the same
/// chance m/n, and the sample is spread over the whole image).
pub(super) fn sample_indices(n: usize, m: usize, seed: u64) -> Vec<usize> {
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
pub(super) fn prepare(
    source: &FeatureSource,
    params: &ClusterParams,
    cache_limit: usize,
) -> Prepared {
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
            let weight = match source.features.get(j) {
                _ if j >= n_image => params.position_weight,
                Some(Feature::Foreground) => source.foreground_weight,
                _ => 1.0,
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
pub(super) fn fit_centroids(
    sample: ArrayView2<f64>,
    params: &ClusterParams,
    k: usize,
) -> Result<Array2<f64>> {
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
pub(super) fn lloyd(points: &[f64], d: usize, centroids: &mut [f64], max_iterations: u64) {
    match d {
        1 => lloyd_d::<1>(points, d, centroids, max_iterations),
        2 => lloyd_d::<2>(points, d, centroids, max_iterations),
        3 => lloyd_d::<3>(points, d, centroids, max_iterations),
        _ => lloyd_d::<0>(points, d, centroids, max_iterations),
    }
}

/// [`lloyd`] with `D` features, or any number when `D` is 0 (see [`assign_block`]).
pub(super) fn lloyd_d<const D: usize>(
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
pub(super) fn nearest(centroids: &[f64], z: &[f64], k: usize) -> (usize, f64) {
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

/// One block's share of the per-cluster statistics.
pub(super) struct BlockTotals {
    pub(super) counts: Vec<u64>,
    pub(super) grey_sums: Vec<f64>,
    pub(super) feature_sums: Vec<f64>,
    pub(super) inertia: f64,
}

/// One row block of the second pass.
pub(super) struct Block<'b> {
    /// Raw features, `dims` per pixel.
    pub(super) features: &'b [f32],
    pub(super) grey: &'b [f32],
    pub(super) labels: &'b mut [u8],
}

/// Labels a block and adds its per-cluster sums to `t`. `D` is the number of features
/// when it is small (so the compiler unrolls the loops over them), or 0 for any number.
pub(super) fn assign_block<const D: usize>(
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
pub(super) fn assign(
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
