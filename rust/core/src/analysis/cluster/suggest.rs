//! Suggesting k from the silhouette of clusterings of a sample.

use super::*;

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
pub(super) fn silhouette(points: &[&[f64]], labels: &[usize], k: usize, d: usize) -> f64 {
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
