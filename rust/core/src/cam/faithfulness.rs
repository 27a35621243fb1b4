//! Deletion and insertion curves (Petsiuk et al., RISE, BMVC 2018): how fast the class
//! probability falls when the pixels a map ranks highest are removed first (deletion,
//! lower area is better), and how fast it rises when they are restored first into a
//! blurred copy (insertion, higher area is better). A random map is the baseline any
//! useful method must beat.
//!
//! "Removed" pixels take the value of the same blurred copy in both curves, which keeps
//! the two measurements comparable and avoids the out-of-distribution black holes of
//! zero-filling. Ties in the ranking (flat regions of a map) are broken by a seeded
//! random order, so a constant map scores like a random one.

use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::{score_in_batches, BatchScorer};
use crate::analysis::filters::{self, GaussianParams};
use crate::error::{Error, Result};
use crate::image::pixels::{ImageView, Pixels};

/// Most steps a curve may have.
pub const MAX_STEPS: usize = 1024;

/// Class probability after removing (deletion) or restoring (insertion) the first
/// `i/steps` of the ranked pixels, for `i = 0..=steps`.
#[derive(Debug, Clone, PartialEq)]
pub struct Curves {
    pub deletion: Vec<f32>,
    pub insertion: Vec<f32>,
}

impl Curves {
    pub fn deletion_auc(&self) -> f64 {
        area(&self.deletion)
    }

    pub fn insertion_auc(&self) -> f64 {
        area(&self.insertion)
    }
}

/// Area under a curve sampled evenly on [0, 1] (trapezoid rule).
pub fn area(curve: &[f32]) -> f64 {
    if curve.len() < 2 {
        return curve.first().map_or(0.0, |&v| f64::from(v));
    }
    let width = 1.0 / (curve.len() - 1) as f64;
    curve
        .windows(2)
        .map(|w| (f64::from(w[0]) + f64::from(w[1])) * 0.5 * width)
        .sum()
}

/// The blurred copy removed pixels are replaced with: Gaussian, σ = size/16.
pub fn blurred(input: &[f32], size: usize) -> Result<Vec<f32>> {
    let view = ImageView::new(size, size, Pixels::Gray32(input))?;
    let sigma = (size as f64 / 16.0).max(1.0);
    Ok(filters::gaussian(&view, &GaussianParams { sigma })?.data)
}

/// A map of uniform random values, the baseline for the curves.
pub fn random_map(size: usize, seed: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..size * size)
        .map(|_| (rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32)
        .collect()
}

/// Pixel indices by decreasing saliency; NaN counts as least salient, ties in seeded
/// random order.
fn ranking(saliency: &[f32], seed: u64) -> Vec<usize> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let tie_break: Vec<u64> = saliency.iter().map(|_| rng.next_u64()).collect();
    let key = |v: f32| if v.is_nan() { f32::NEG_INFINITY } else { v };
    let mut order: Vec<usize> = (0..saliency.len()).collect();
    order.sort_by(|&a, &b| {
        key(saliency[b])
            .total_cmp(&key(saliency[a]))
            .then(tie_break[a].cmp(&tie_break[b]))
    });
    order
}

/// Deletion and insertion curves of `saliency` (size², any scale) for the `size`² model
/// `input`; `scorer` returns the explained class's probability per input.
pub fn curves(
    input: &[f32],
    size: usize,
    saliency: &[f32],
    steps: usize,
    seed: u64,
    batch_size: usize,
    scorer: &mut BatchScorer<'_>,
) -> Result<Curves> {
    let plane = size * size;
    if input.len() != plane || saliency.len() != plane {
        return Err(Error::invalid(format!(
            "faithfulness: {} input and {} map values for a {size}² input",
            input.len(),
            saliency.len()
        )));
    }
    if steps == 0 || steps > MAX_STEPS {
        return Err(Error::invalid(format!(
            "faithfulness steps must be 1 to {MAX_STEPS}, got {steps}"
        )));
    }
    let background = blurred(input, size)?;
    let order = ranking(saliency, seed);
    let mut inputs = Vec::with_capacity(2 * (steps + 1) * plane);
    for (from, to) in [(input, &background[..]), (&background[..], input)] {
        let mut image = from.to_vec();
        let mut done = 0;
        for step in 0..=steps {
            let target = (step * plane + steps / 2) / steps;
            for &p in &order[done..target] {
                image[p] = to[p];
            }
            done = target;
            inputs.extend_from_slice(&image);
        }
    }
    let scores = score_in_batches(&inputs, size, batch_size, scorer)?;
    let (deletion, insertion) = scores.split_at(steps + 1);
    Ok(Curves {
        deletion: deletion.to_vec(),
        insertion: insertion.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_of_simple_curves() {
        assert_eq!(area(&[1.0, 1.0, 1.0]), 1.0);
        assert_eq!(area(&[1.0, 0.0]), 0.5);
        assert_eq!(area(&[0.25]), 0.25);
    }

    #[test]
    fn a_map_of_the_evidence_beats_a_random_one() {
        // The "model" scores the mean of the first row; the map points at that row.
        let size = 16;
        let mut input = vec![0.0f32; size * size];
        input[..size].fill(1.0);
        let mut scorer = |inputs: &[f32], n: usize| -> Result<Vec<f32>> {
            Ok(inputs
                .chunks_exact(size * size)
                .take(n)
                .map(|img| img[..size].iter().sum::<f32>() / size as f32)
                .collect())
        };
        let good: Vec<f32> = (0..size * size)
            .map(|i| if i < size { 1.0 } else { 0.0 })
            .collect();
        let random = random_map(size, 7);
        assert!(random.iter().all(|v| (0.0..1.0).contains(v)));
        let good = curves(&input, size, &good, 16, 1, 5, &mut scorer).unwrap();
        let random = curves(&input, size, &random, 16, 1, 5, &mut scorer).unwrap();
        assert_eq!(good.deletion.len(), 17);
        assert_eq!(good.deletion[0], 1.0);
        assert!(good.deletion_auc() < random.deletion_auc());
        assert!(good.insertion_auc() > random.insertion_auc());
        assert!(curves(&input, size, &[0.0; 3], 16, 1, 5, &mut scorer).is_err());
        assert!(curves(&input, size, &random_map(size, 1), 0, 1, 5, &mut scorer).is_err());
    }

    #[test]
    fn ranking_puts_nan_last_and_is_seeded() {
        let order = ranking(&[f32::NAN, 0.5, 0.5, 1.0], 3);
        assert_eq!(order[0], 3);
        assert_eq!(order[3], 0);
        assert_eq!(order, ranking(&[f32::NAN, 0.5, 0.5, 1.0], 3));
    }
}
