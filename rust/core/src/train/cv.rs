//! Cross-validation by image: the regularisation is chosen on images the fit never saw,
//! and the reported accuracy and confusion matrix come from those held-out images.

use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::features::ImageFeatures;
use super::fit::{standardisation, standardise, Head, Problem};
use crate::parallel::par_blocks;

/// Penalties tried, strongest first (on standardised features, per unit sample weight).
pub(crate) const LAMBDAS: [f64; 5] = [1.0, 1e-1, 1e-2, 1e-3, 1e-4];
/// The penalty used when cross-validation is impossible.
pub(crate) const DEFAULT_LAMBDA: f64 = 1e-2;
/// Most folds; fewer when a class has fewer images.
pub(crate) const MAX_FOLDS: usize = 5;

/// Labelled images' features.
pub(crate) struct Dataset<'a> {
    pub images: &'a [ImageFeatures],
    pub labels: &'a [usize],
    pub classes: usize,
    /// Inputs per feature row: pooled features, then any base logits.
    pub channels: usize,
    /// Where the base logits start in a row, and their prior weight: their standardised
    /// values are multiplied by it, so the penalty on their weights is smaller.
    pub prior: (usize, f64),
    /// Rows every fit also learns from, never held out: the base's replay prototypes
    /// (as one "image" of rows), their labels and weights (summing to the replay weight).
    pub replay: Option<(&'a ImageFeatures, &'a [usize], &'a [f64])>,
}

/// A head fitted on some images, with the standardisation it expects.
pub(crate) struct FittedHead {
    pub head: Head,
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
}

/// Held-out results of cross-validation at the chosen penalty.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CrossValidation {
    pub folds: usize,
    /// Fraction of held-out images classified correctly.
    pub accuracy: f64,
    /// Mean over classes of the fraction of each class's images classified correctly.
    pub balanced_accuracy: f64,
    /// `confusion[true][predicted]` image counts.
    pub confusion: Vec<Vec<usize>>,
    /// Class-balanced mean of −ln p(true class) over held-out images.
    pub log_loss: f64,
    pub lambda: f64,
}

impl Dataset<'_> {
    /// Fits a head on `chosen` images, every class weighing the same and every image
    /// of a class the same however many tiles it has.
    pub fn fit(&self, chosen: &[usize], lambda: f64) -> FittedHead {
        let mut per_class = vec![0usize; self.classes];
        for &i in chosen {
            per_class[self.labels[i]] += 1;
        }
        let present = per_class.iter().filter(|&&n| n > 0).count() as f64;
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        let mut weights = Vec::new();
        let mut offsets = Vec::new();
        for &i in chosen {
            let image = &self.images[i];
            let count = image.values.len() / self.channels;
            rows.extend_from_slice(&image.values);
            offsets.extend(image.offsets.iter().map(|&o| f64::from(o)));
            let label = self.labels[i];
            labels.extend(std::iter::repeat_n(label, count));
            let weight = 1.0 / (present * per_class[label] as f64 * count as f64);
            weights.extend(std::iter::repeat_n(weight, count));
        }
        // Standardised by the labelled rows alone, as without a replay set.
        let (mean, mut scale) = standardisation(&rows, self.channels);
        if let Some((replay, replay_labels, replay_weights)) = self.replay {
            rows.extend_from_slice(&replay.values);
            offsets.extend(replay.offsets.iter().map(|&o| f64::from(o)));
            labels.extend_from_slice(replay_labels);
            weights.extend_from_slice(replay_weights);
        }
        let (start, weight) = self.prior;
        if weight > 0.0 {
            scale[start..].iter_mut().for_each(|s| *s /= weight);
        }
        let x = standardise(&rows, &mean, &scale);
        let head = Problem {
            x: &x,
            labels: &labels,
            weights: &weights,
            classes: self.classes,
            features: self.channels,
            lambda,
            offsets: &offsets,
        }
        .fit();
        FittedHead { head, mean, scale }
    }

    /// An image's class probabilities as classification computes them: the mean over
    /// its tiles as they are (no augmentation) of the tile probabilities.
    pub fn predict(&self, fitted: &FittedHead, image: usize) -> Vec<f64> {
        let features = &self.images[image];
        let row_len = self.channels * features.augmentations;
        let offsets_len = if features.offsets.is_empty() {
            0
        } else {
            self.classes * features.augmentations
        };
        let mut sum = vec![0.0; self.classes];
        for (t, tile) in features.values.chunks_exact(row_len).enumerate() {
            let x = standardise(&tile[..self.channels], &fitted.mean, &fitted.scale);
            let offsets: Vec<f64> = features
                .offsets
                .get(t * offsets_len..t * offsets_len + offsets_len.min(self.classes))
                .unwrap_or_default()
                .iter()
                .map(|&o| f64::from(o))
                .collect();
            for (s, p) in sum.iter_mut().zip(fitted.head.probabilities(&x, &offsets)) {
                *s += p / features.tiles as f64;
            }
        }
        sum
    }

    /// Cross-validates every penalty in [`LAMBDAS`] and returns the best (lowest
    /// held-out log loss; the stronger penalty on ties), or `None` when some class has
    /// fewer than two images. The fits run on up to `threads` threads.
    pub fn cross_validate(&self, seed: u64, threads: usize) -> Option<CrossValidation> {
        let mut per_class = vec![0usize; self.classes];
        for &label in self.labels {
            per_class[label] += 1;
        }
        let folds = per_class.iter().copied().min()?.min(MAX_FOLDS);
        if folds < 2 {
            return None;
        }
        let fold_of = assign_folds(self.labels, self.classes, folds, seed);
        // Every (penalty, fold) fit is independent and sequential inside, so spreading
        // them over threads changes nothing in the result.
        let fits: Vec<(f64, usize)> = LAMBDAS
            .iter()
            .flat_map(|&lambda| (0..folds).map(move |fold| (lambda, fold)))
            .collect();
        let held_out = par_blocks(
            fits,
            threads,
            || (),
            |_, (lambda, fold), _| {
                let train: Vec<usize> = (0..self.labels.len())
                    .filter(|&i| fold_of[i] != fold)
                    .collect();
                let fitted = self.fit(&train, lambda);
                (0..self.labels.len())
                    .filter(|&i| fold_of[i] == fold)
                    .map(|i| (i, self.predict(&fitted, i)))
                    .collect::<Vec<_>>()
            },
        );
        let mut best: Option<CrossValidation> = None;
        for (lambda, fold_results) in LAMBDAS.iter().zip(held_out.chunks(folds)) {
            let mut probabilities = vec![Vec::new(); self.labels.len()];
            for (i, p) in fold_results.iter().flatten() {
                probabilities[*i] = p.clone();
            }
            let result = self.score(&probabilities, &per_class, folds, *lambda);
            if best.as_ref().is_none_or(|b| result.log_loss < b.log_loss) {
                best = Some(result);
            }
        }
        best
    }

    fn score(
        &self,
        probabilities: &[Vec<f64>],
        per_class: &[usize],
        folds: usize,
        lambda: f64,
    ) -> CrossValidation {
        let mut confusion = vec![vec![0usize; self.classes]; self.classes];
        let mut log_loss = 0.0;
        for (p, &label) in probabilities.iter().zip(self.labels) {
            let predicted = p
                .iter()
                .enumerate()
                .fold(0, |best, (c, &v)| if v > p[best] { c } else { best });
            confusion[label][predicted] += 1;
            log_loss -= p[label].max(1e-9).ln() / (self.classes * per_class[label]) as f64;
        }
        let correct: usize = (0..self.classes).map(|c| confusion[c][c]).sum();
        let balanced = (0..self.classes)
            .map(|c| confusion[c][c] as f64 / per_class[c] as f64)
            .sum::<f64>()
            / self.classes as f64;
        CrossValidation {
            folds,
            accuracy: correct as f64 / self.labels.len() as f64,
            balanced_accuracy: balanced,
            confusion,
            log_loss,
            lambda,
        }
    }
}

/// Stratified folds: each class's images in a seeded random order, dealt round-robin.
fn assign_folds(labels: &[usize], classes: usize, folds: usize, seed: u64) -> Vec<usize> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut fold_of = vec![0; labels.len()];
    for class in 0..classes {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        // Fisher–Yates with the seeded generator.
        for i in (1..members.len()).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            members.swap(i, j);
        }
        for (position, &image) in members.iter().enumerate() {
            fold_of[image] = position % folds;
        }
    }
    fold_of
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_are_stratified_and_seeded() {
        let labels = [0, 0, 0, 1, 1, 1, 1];
        let a = assign_folds(&labels, 2, 3, 7);
        assert_eq!(a, assign_folds(&labels, 2, 3, 7));
        for fold in 0..3 {
            assert!(labels.iter().zip(&a).any(|(&l, &f)| l == 0 && f == fold));
        }
    }
}
