//! The new head: an L2-regularised multinomial logistic regression on pooled features,
//! with per-sample weights (class balance), fitted by L-BFGS in f64.
//!
//! Written here rather than taken from `linfa-logistic` because that crate has no sample
//! weights (needed to balance classes and to let every image count once however many
//! tiles it has) and would add `argmin` to the build; the objective is small and smooth,
//! and a sequential L-BFGS keeps the result bit-for-bit reproducible.

/// Training data for one fit: `samples × features` values, already standardised.
pub(crate) struct Problem<'a> {
    pub x: &'a [f64],
    pub labels: &'a [usize],
    /// Per-sample weights summing to 1.
    pub weights: &'a [f64],
    pub classes: usize,
    pub features: usize,
    /// L2 penalty on the weights (not on the biases).
    pub lambda: f64,
    /// Fixed per-sample scores added to the head's (`samples × classes`), or empty: a
    /// residual head learns a correction of these, and the penalty shrinks it to them.
    pub offsets: &'a [f64],
}

/// A fitted linear head on standardised features: `[classes][features]` weights and
/// `classes` biases.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub weights: Vec<f64>,
    pub biases: Vec<f64>,
}

const MAX_ITERATIONS: usize = 500;
const HISTORY: usize = 10;
const GRADIENT_TOLERANCE: f64 = 1e-6;

impl Problem<'_> {
    fn stride(&self) -> usize {
        self.features + 1
    }

    /// Objective and its gradient at `params` (`[classes][features + 1]`, bias last).
    fn evaluate(&self, params: &[f64], grad: &mut [f64]) -> f64 {
        let (k, stride) = (self.features, self.stride());
        grad.iter_mut().for_each(|g| *g = 0.0);
        let mut loss = 0.0;
        let mut scores = vec![0.0; self.classes];
        for (i, (&label, &weight)) in self.labels.iter().zip(self.weights).enumerate() {
            let x = &self.x[i * k..(i + 1) * k];
            for (c, score) in scores.iter_mut().enumerate() {
                let row = &params[c * stride..(c + 1) * stride];
                *score = row[k] + dot(&row[..k], x);
            }
            if !self.offsets.is_empty() {
                let offsets = &self.offsets[i * self.classes..(i + 1) * self.classes];
                scores.iter_mut().zip(offsets).for_each(|(s, o)| *s += o);
            }
            let log_norm = log_sum_exp(&scores);
            loss += weight * (log_norm - scores[label]);
            for (c, &score) in scores.iter().enumerate() {
                let residual =
                    weight * ((score - log_norm).exp() - if c == label { 1.0 } else { 0.0 });
                let row = &mut grad[c * stride..(c + 1) * stride];
                for (g, &v) in row[..k].iter_mut().zip(x) {
                    *g += residual * v;
                }
                row[k] += residual;
            }
        }
        for c in 0..self.classes {
            let row = &params[c * stride..c * stride + k];
            loss += 0.5 * self.lambda * dot(row, row);
            for (g, &w) in grad[c * stride..c * stride + k].iter_mut().zip(row) {
                *g += self.lambda * w;
            }
        }
        loss
    }

    /// Minimises the objective from zero by L-BFGS with a backtracking (Armijo) search.
    pub fn fit(&self) -> Head {
        let n = self.classes * self.stride();
        let mut params = vec![0.0; n];
        let mut grad = vec![0.0; n];
        let mut loss = self.evaluate(&params, &mut grad);
        let mut history: Vec<(Vec<f64>, Vec<f64>, f64)> = Vec::new();
        let mut trial = vec![0.0; n];
        let mut trial_grad = vec![0.0; n];
        for _ in 0..MAX_ITERATIONS {
            if max_abs(&grad) < GRADIENT_TOLERANCE {
                break;
            }
            let mut direction = two_loop(&grad, &history);
            let mut slope = dot(&direction, &grad);
            if slope >= 0.0 {
                // Not a descent direction (curvature lost): restart from steepest descent.
                history.clear();
                direction = grad.iter().map(|g| -g).collect();
                slope = -dot(&grad, &grad);
            }
            let mut step = if history.is_empty() {
                1.0 / dot(&grad, &grad).sqrt().max(1.0)
            } else {
                1.0
            };
            let mut accepted = false;
            for _ in 0..40 {
                for ((t, p), d) in trial.iter_mut().zip(&params).zip(&direction) {
                    *t = p + step * d;
                }
                let trial_loss = self.evaluate(&trial, &mut trial_grad);
                if trial_loss <= loss + 1e-4 * step * slope {
                    let s: Vec<f64> = trial.iter().zip(&params).map(|(a, b)| a - b).collect();
                    let y: Vec<f64> = trial_grad.iter().zip(&grad).map(|(a, b)| a - b).collect();
                    let curvature = dot(&s, &y);
                    if curvature > 1e-12 {
                        if history.len() == HISTORY {
                            history.remove(0);
                        }
                        history.push((s, y, 1.0 / curvature));
                    }
                    let improvement = loss - trial_loss;
                    std::mem::swap(&mut params, &mut trial);
                    std::mem::swap(&mut grad, &mut trial_grad);
                    loss = trial_loss;
                    accepted = improvement > 1e-14 * loss.abs().max(1.0);
                    break;
                }
                step *= 0.5;
            }
            if !accepted {
                break;
            }
        }
        let stride = self.stride();
        let k = self.features;
        Head {
            weights: (0..self.classes)
                .flat_map(|c| params[c * stride..c * stride + k].to_vec())
                .collect(),
            biases: (0..self.classes).map(|c| params[c * stride + k]).collect(),
        }
    }
}

impl Head {
    /// Class probabilities of one standardised feature vector with its offsets (empty:
    /// none).
    pub fn probabilities(&self, x: &[f64], offsets: &[f64]) -> Vec<f64> {
        let k = x.len();
        let scores: Vec<f64> = self
            .biases
            .iter()
            .enumerate()
            .map(|(c, b)| {
                b + dot(&self.weights[c * k..(c + 1) * k], x) + offsets.get(c).unwrap_or(&0.0)
            })
            .collect();
        let log_norm = log_sum_exp(&scores);
        scores.iter().map(|s| (s - log_norm).exp()).collect()
    }
}

/// The L-BFGS two-loop recursion: an approximation of `-H⁻¹ g`.
fn two_loop(grad: &[f64], history: &[(Vec<f64>, Vec<f64>, f64)]) -> Vec<f64> {
    let mut q = grad.to_vec();
    let mut alphas = vec![0.0; history.len()];
    for (i, (s, y, rho)) in history.iter().enumerate().rev() {
        alphas[i] = rho * dot(s, &q);
        for (qv, yv) in q.iter_mut().zip(y) {
            *qv -= alphas[i] * yv;
        }
    }
    if let Some((s, y, _)) = history.last() {
        let gamma = dot(s, y) / dot(y, y);
        q.iter_mut().for_each(|v| *v *= gamma);
    }
    for (i, (s, y, rho)) in history.iter().enumerate() {
        let beta = rho * dot(y, &q);
        for (qv, sv) in q.iter_mut().zip(s) {
            *qv += (alphas[i] - beta) * sv;
        }
    }
    q.iter_mut().for_each(|v| *v = -*v);
    q
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn max_abs(values: &[f64]) -> f64 {
    values.iter().fold(0.0, |m, v| m.max(v.abs()))
}

fn log_sum_exp(values: &[f64]) -> f64 {
    let max = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    max + values.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

/// Per-feature mean and standard deviation (1 where a feature is constant), weighted.
pub(crate) fn standardisation(x: &[f32], features: usize) -> (Vec<f64>, Vec<f64>) {
    let samples = x.len() / features;
    let mut mean = vec![0.0; features];
    for row in x.chunks_exact(features) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += f64::from(v);
        }
    }
    mean.iter_mut().for_each(|m| *m /= samples as f64);
    let mut variance = vec![0.0; features];
    for row in x.chunks_exact(features) {
        for ((s, &v), m) in variance.iter_mut().zip(row).zip(&mean) {
            *s += (f64::from(v) - m).powi(2);
        }
    }
    let scale = variance
        .iter()
        .map(|s| {
            let sd = (s / samples as f64).sqrt();
            if sd > 1e-8 {
                sd
            } else {
                1.0
            }
        })
        .collect();
    (mean, scale)
}

/// `x` standardised by `(mean, scale)`.
pub(crate) fn standardise(x: &[f32], mean: &[f64], scale: &[f64]) -> Vec<f64> {
    x.chunks_exact(mean.len())
        .flat_map(|row| {
            row.iter()
                .zip(mean)
                .zip(scale)
                .map(|((&v, m), s)| (f64::from(v) - m) / s)
        })
        .collect()
}

/// The head on raw features: `w / scale` and `b − Σ w·mean / scale`, as f32.
pub(crate) fn unstandardise(head: &Head, mean: &[f64], scale: &[f64]) -> (Vec<f32>, Vec<f32>) {
    let k = mean.len();
    let mut weights = Vec::with_capacity(head.weights.len());
    let mut biases = Vec::with_capacity(head.biases.len());
    for (c, &bias) in head.biases.iter().enumerate() {
        let row = &head.weights[c * k..(c + 1) * k];
        let mut b = bias;
        for ((w, m), s) in row.iter().zip(mean).zip(scale) {
            weights.push((w / s) as f32);
            b -= w * m / s;
        }
        biases.push(b as f32);
    }
    (weights, biases)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_two_clusters_and_is_reproducible() {
        // Class 0 near (-1, 0), class 1 near (1, 0), class 2 near (0, 2).
        let points = [
            (-1.0, 0.1, 0),
            (-1.2, -0.1, 0),
            (1.0, 0.0, 1),
            (1.1, 0.2, 1),
            (0.0, 2.0, 2),
            (0.1, 1.8, 2),
        ];
        let x: Vec<f64> = points.iter().flat_map(|p| [p.0, p.1]).collect();
        let labels: Vec<usize> = points.iter().map(|p| p.2).collect();
        let weights = vec![1.0 / 6.0; 6];
        let problem = Problem {
            x: &x,
            labels: &labels,
            weights: &weights,
            classes: 3,
            features: 2,
            lambda: 1e-3,
            offsets: &[],
        };
        let head = problem.fit();
        for (i, &label) in labels.iter().enumerate() {
            let p = head.probabilities(&x[i * 2..i * 2 + 2], &[]);
            assert!(p[label] > 0.8, "sample {i}: {p:?}");
        }
        assert_eq!(head.weights, problem.fit().weights);
    }

    #[test]
    fn unstandardised_head_gives_the_same_scores() {
        let raw = [1.0f32, 10.0, 3.0, 30.0, 2.0, 50.0];
        let (mean, scale) = standardisation(&raw, 2);
        let x = standardise(&raw, &mean, &scale);
        let head = Head {
            weights: vec![0.5, -1.0, 2.0, 0.25],
            biases: vec![0.1, -0.2],
        };
        let (w, b) = unstandardise(&head, &mean, &scale);
        for i in 0..3 {
            for c in 0..2 {
                let standard =
                    head.biases[c] + dot(&head.weights[c * 2..c * 2 + 2], &x[i * 2..i * 2 + 2]);
                let plain = b[c] + w[c * 2] * raw[i * 2] + w[c * 2 + 1] * raw[i * 2 + 1];
                assert!((standard as f32 - plain).abs() < 1e-4);
            }
        }
    }
}
