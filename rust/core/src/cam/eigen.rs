//! Eigen-CAM (Muhammad & Yeasin, IJCNN 2020): the feature maps projected on their first
//! principal component. It uses neither gradients nor the class, so it shows what the
//! network finds salient in general.
//!
//! The `h·w` positions are the samples and the `K` channels the variables. The
//! component is found by power iteration on the smaller of the two Gram matrices, in
//! f64, from a fixed start vector, so the result is deterministic. A component's sign is
//! arbitrary; it is chosen so that the projection correlates positively with the mean
//! activation over channels (where the network responds, the map is high).

use super::RawMap;
use crate::error::{Error, Result};

const MAX_ITERATIONS: usize = 500;
const TOLERANCE: f64 = 1e-10;

/// Eigen-CAM of `features` (`channels` planes of `width`×`height`), ReLU applied.
pub fn eigen_cam(
    features: &[f32],
    channels: usize,
    (width, height): (usize, usize),
) -> Result<RawMap> {
    let positions = width * height;
    if channels == 0 || positions == 0 || features.len() != channels * positions {
        return Err(Error::invalid(format!(
            "Eigen-CAM: {} feature values for {channels}×{height}×{width}",
            features.len()
        )));
    }
    // x[p][k]: channel k at position p, centred per channel; non-finite values count as 0.
    let mut x = vec![0.0f64; positions * channels];
    for (k, plane) in features.chunks_exact(positions).enumerate() {
        let finite = |v: f32| if v.is_finite() { f64::from(v) } else { 0.0 };
        let mean = plane.iter().map(|&v| finite(v)).sum::<f64>() / positions as f64;
        for (p, &v) in plane.iter().enumerate() {
            x[p * channels + k] = finite(v) - mean;
        }
    }
    let projection = if positions <= channels {
        // Top eigenvector u of X·Xᵀ is the projection itself, up to scale.
        let gram = gram(&x, positions, channels, false);
        dominant_eigenvector(&gram, positions)
    } else {
        let gram = gram(&x, positions, channels, true);
        let v = dominant_eigenvector(&gram, channels);
        (0..positions)
            .map(|p| (0..channels).map(|k| x[p * channels + k] * v[k]).sum())
            .collect()
    };
    let activity: Vec<f64> = (0..positions)
        .map(|p| {
            features
                .iter()
                .skip(p)
                .step_by(positions)
                .map(|&v| if v.is_finite() { f64::from(v) } else { 0.0 })
                .sum::<f64>()
        })
        .collect();
    let sign = orientation(&projection, &activity);
    let data = projection
        .iter()
        .map(|&v| (sign * v).max(0.0) as f32)
        .collect();
    Ok(RawMap {
        width,
        height,
        data,
    })
}

/// `XᵀX` (`channels`²) when `over_channels`, else `XXᵀ` (`positions`²).
fn gram(x: &[f64], positions: usize, channels: usize, over_channels: bool) -> Vec<f64> {
    if over_channels {
        let mut g = vec![0.0; channels * channels];
        for row in x.chunks_exact(channels) {
            for (i, &a) in row.iter().enumerate() {
                if a != 0.0 {
                    for (j, &b) in row.iter().enumerate() {
                        g[i * channels + j] += a * b;
                    }
                }
            }
        }
        g
    } else {
        let rows: Vec<&[f64]> = x.chunks_exact(channels).collect();
        let mut g = vec![0.0; positions * positions];
        for i in 0..positions {
            for j in i..positions {
                let dot: f64 = rows[i].iter().zip(rows[j]).map(|(a, b)| a * b).sum();
                g[i * positions + j] = dot;
                g[j * positions + i] = dot;
            }
        }
        g
    }
}

/// Unit eigenvector of the largest eigenvalue of the symmetric positive semi-definite
/// `n`×`n` matrix `m` (zero when `m` is zero).
fn dominant_eigenvector(m: &[f64], n: usize) -> Vec<f64> {
    // A fixed start that no structured eigenvector is orthogonal to in practice.
    let mut v: Vec<f64> = (0..n)
        .map(|i| 1.0 + 0.5 * ((i as f64) * 0.7).sin())
        .collect();
    normalise_vector(&mut v);
    for _ in 0..MAX_ITERATIONS {
        let mut next: Vec<f64> = m.chunks_exact(n).map(|row| dot(row, &v)).collect();
        if normalise_vector(&mut next) == 0.0 {
            return vec![0.0; n];
        }
        let change: f64 = next.iter().zip(&v).map(|(a, b)| (a - b).powi(2)).sum();
        v = next;
        if change < TOLERANCE {
            break;
        }
    }
    v
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Scales `v` to unit length; returns its former length.
fn normalise_vector(v: &mut [f64]) -> f64 {
    let length = dot(v, v).sqrt();
    if length > 0.0 && length.is_finite() {
        v.iter_mut().for_each(|x| *x /= length);
        length
    } else {
        0.0
    }
}

/// +1 or −1: the sign that makes `projection` correlate positively with `activity`
/// (ties: the sign that makes its sum non-negative).
fn orientation(projection: &[f64], activity: &[f64]) -> f64 {
    let mean = activity.iter().sum::<f64>() / activity.len() as f64;
    let covariance: f64 = projection
        .iter()
        .zip(activity)
        .map(|(p, a)| p * (a - mean))
        .sum();
    let reference = if covariance.abs() > 1e-12 {
        covariance
    } else {
        projection.iter().sum()
    };
    if reference < 0.0 {
        -1.0
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two channels that both follow one spatial pattern, plus noise-free offsets.
    fn rank_one_features(pattern: &[f32], gains: &[f32]) -> Vec<f32> {
        gains
            .iter()
            .flat_map(|&g| pattern.iter().map(move |&p| g * p + 0.1))
            .collect()
    }

    #[test]
    fn recovers_a_shared_pattern_with_the_activation_sign() {
        let pattern = [0.0, 1.0, 2.0, 3.0, 0.0, 0.0];
        for (channels, gains) in [(2, vec![1.0, 2.0]), (8, vec![1.0; 8])] {
            let features = rank_one_features(&pattern, &gains);
            let map = eigen_cam(&features, channels, (3, 2)).unwrap();
            let mut data = map.data.clone();
            super::super::normalise(&mut data);
            // Centred pattern: positive where the pattern is above its mean.
            assert!(data[3] == 1.0, "{data:?}");
            assert!(data[2] > data[1] && data[0] == 0.0, "{data:?}");
        }
    }

    #[test]
    fn sign_follows_activity_not_the_eigenvector_sign() {
        // Negating the features' spatial pattern flips which positions are active.
        let features = rank_one_features(&[3.0, 0.0, 0.0, 0.0], &[1.0, 1.5, 0.5]);
        let map = eigen_cam(&features, 3, (2, 2)).unwrap();
        assert!(map.data[0] > 0.0 && map.data[1..].iter().all(|&v| v == 0.0));
    }

    #[test]
    fn constant_and_non_finite_features_give_a_finite_map() {
        let map = eigen_cam(&[2.0; 12], 3, (2, 2)).unwrap();
        assert!(map.data.iter().all(|&v| v == 0.0));
        let mut features = vec![1.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0];
        features[1] = f32::NAN;
        features[5] = f32::INFINITY;
        let map = eigen_cam(&features, 2, (2, 2)).unwrap();
        assert!(map.data.iter().all(|v| v.is_finite() && *v >= 0.0));
        assert!(eigen_cam(&[1.0; 5], 2, (2, 2)).is_err());
    }
}
