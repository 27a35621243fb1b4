//! A base model's *replay set*: prototypes of the pooled tile features of the images it
//! was trained on, with their classes, stored in its metadata (`visualccc.replay`).
//!
//! Why: a head fitted on five images per source cannot tell which directions of the
//! feature space vary inside a class the base already knows (five UHCS fields do not
//! show every steel constituent), so the correction it learns for a new appearance
//! also moves unseen images of the known classes (docs/benchmarks.md, "Training a
//! classifier"). Fitting the head on the labelled images *and* on these prototypes keeps
//! the base's classes where its training data put them. Prototypes (k-means centroids
//! weighted by their share of the class's tiles) rather than every tile keep the model
//! small and the fits fast.

use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::error::{Error, Result};

/// The metadata key holding the replay set.
pub const REPLAY_KEY: &str = "visualccc.replay";
/// Prototypes per class at most when a replay set is made.
pub const PROTOTYPES_PER_CLASS: usize = 128;
const KMEANS_ITERATIONS: usize = 50;

/// Feature prototypes with their class and weight (each class's weights sum to 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    pub classes: Vec<String>,
    pub channels: usize,
    /// `labels.len() × channels` values.
    pub rows: Vec<f32>,
    pub labels: Vec<usize>,
    pub weights: Vec<f64>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    classes: Vec<String>,
    channels: usize,
    labels: Vec<usize>,
    weights: Vec<f64>,
    /// The rows as little-endian f32, base64.
    rows: String,
}

impl Replay {
    /// Per class, at most [`PROTOTYPES_PER_CLASS`] k-means centroids of its rows
    /// (`rows_of[c]`: that class's `n × channels` values), seeded by `seed`.
    pub fn build(classes: &[String], channels: usize, rows_of: &[Vec<f32>], seed: u64) -> Self {
        let mut replay = Self {
            classes: classes.to_vec(),
            channels,
            rows: Vec::new(),
            labels: Vec::new(),
            weights: Vec::new(),
        };
        for (class, rows) in rows_of.iter().enumerate() {
            let n = rows.len() / channels;
            if n == 0 {
                continue;
            }
            let (centroids, counts) = kmeans(rows, channels, PROTOTYPES_PER_CLASS.min(n), seed);
            for (centroid, &count) in centroids.chunks_exact(channels).zip(&counts) {
                if count > 0 {
                    replay.rows.extend_from_slice(centroid);
                    replay.labels.push(class);
                    replay.weights.push(count as f64 / n as f64);
                }
            }
        }
        replay
    }

    /// The metadata value.
    pub fn to_metadata(&self) -> String {
        let bytes: Vec<u8> = self.rows.iter().flat_map(|v| v.to_le_bytes()).collect();
        serde_json::to_string(&Stored {
            classes: self.classes.clone(),
            channels: self.channels,
            labels: self.labels.clone(),
            weights: self.weights.clone(),
            rows: base64_encode(&bytes),
        })
        .unwrap_or_default()
    }

    /// Parses a metadata value, checking that its parts agree.
    pub fn from_metadata(text: &str) -> Result<Self> {
        let bad = |why: &str| Error::Model(format!("bad {REPLAY_KEY}: {why}"));
        let stored: Stored = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
        let bytes = base64_decode(&stored.rows).ok_or_else(|| bad("rows are not base64"))?;
        let rows: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let n = stored.labels.len();
        if stored.channels == 0
            || bytes.len() != 4 * n * stored.channels
            || stored.weights.len() != n
            || stored.labels.iter().any(|&l| l >= stored.classes.len())
            || rows.iter().any(|v| !v.is_finite())
            || stored.weights.iter().any(|w| !(w.is_finite() && *w >= 0.0))
        {
            return Err(bad("rows, labels, weights and classes do not agree"));
        }
        Ok(Self {
            classes: stored.classes,
            channels: stored.channels,
            rows,
            labels: stored.labels,
            weights: stored.weights,
        })
    }
}

/// Lloyd's k-means from a k-means++ start, sequential and seeded so that the result is
/// reproducible: (`k × channels` centroids, members per centroid).
fn kmeans(rows: &[f32], channels: usize, k: usize, seed: u64) -> (Vec<f32>, Vec<usize>) {
    let n = rows.len() / channels;
    let row = |i: usize| &rows[i * channels..(i + 1) * channels];
    let distance = |a: &[f32], b: &[f32]| -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
            .sum()
    };
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let uniform =
        |rng: &mut Xoshiro256PlusPlus| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let mut centroids: Vec<f32> = row((rng.next_u64() % n as u64) as usize).to_vec();
    let mut nearest: Vec<f64> = (0..n).map(|i| distance(row(i), &centroids)).collect();
    while centroids.len() < k * channels {
        let total: f64 = nearest.iter().sum();
        let mut target = uniform(&mut rng) * total;
        let mut chosen = n - 1;
        for (i, d) in nearest.iter().enumerate() {
            if target < *d {
                chosen = i;
                break;
            }
            target -= d;
        }
        let start = centroids.len();
        centroids.extend_from_slice(row(chosen));
        for (i, d) in nearest.iter_mut().enumerate() {
            *d = d.min(distance(row(i), &centroids[start..]));
        }
    }
    let mut assignment = vec![0usize; n];
    for _ in 0..KMEANS_ITERATIONS {
        let mut changed = false;
        for (i, a) in assignment.iter_mut().enumerate() {
            let best = (0..k)
                .map(|c| distance(row(i), &centroids[c * channels..(c + 1) * channels]))
                .enumerate()
                .fold(
                    (0, f64::INFINITY),
                    |b, (c, d)| if d < b.1 { (c, d) } else { b },
                )
                .0;
            changed |= best != *a;
            *a = best;
        }
        let mut sums = vec![0.0f64; k * channels];
        let mut counts = vec![0usize; k];
        for (i, &a) in assignment.iter().enumerate() {
            counts[a] += 1;
            for (s, &v) in sums[a * channels..(a + 1) * channels]
                .iter_mut()
                .zip(row(i))
            {
                *s += f64::from(v);
            }
        }
        for c in (0..k).filter(|&c| counts[c] > 0) {
            for (dst, s) in centroids[c * channels..(c + 1) * channels]
                .iter_mut()
                .zip(&sums[c * channels..(c + 1) * channels])
            {
                *dst = (s / counts[c] as f64) as f32;
            }
        }
        if !changed {
            break;
        }
    }
    let mut counts = vec![0usize; k];
    assignment.iter().for_each(|&a| counts[a] += 1);
    (centroids, counts)
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0);
    for &c in text {
        let value = ALPHABET.iter().position(|&a| a == c)? as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for len in 0..10 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 5) as u8).collect();
            assert_eq!(base64_decode(&base64_encode(&bytes)).unwrap(), bytes);
        }
        assert_eq!(base64_encode(b"Man"), "TWFu");
        assert_eq!(base64_encode(b"Ma"), "TWE=");
    }

    #[test]
    fn prototypes_summarise_each_class_and_round_trip() {
        // Class 0: two tight groups; class 1: one.
        let rows_of = vec![
            vec![0.0, 0.0, 0.1, 0.0, 5.0, 5.0, 5.1, 5.0, 5.0, 5.1],
            vec![-3.0, 1.0, -3.1, 1.0],
        ];
        let replay = Replay::build(&["a".into(), "b".into()], 2, &rows_of, 1);
        let per_class: Vec<f64> = (0..2)
            .map(|c| {
                (0..replay.labels.len())
                    .filter(|&i| replay.labels[i] == c)
                    .map(|i| replay.weights[i])
                    .sum()
            })
            .collect();
        assert!(
            per_class.iter().all(|w| (w - 1.0).abs() < 1e-12),
            "{per_class:?}"
        );
        assert_eq!(
            replay,
            Replay::build(&["a".into(), "b".into()], 2, &rows_of, 1)
        );
        assert_eq!(
            Replay::from_metadata(&replay.to_metadata()).unwrap(),
            replay
        );
        assert!(Replay::from_metadata(
            "{\"classes\":[],\"channels\":2,\"labels\":[0],\"weights\":[1],\"rows\":\"\"}"
        )
        .is_err());
    }
}
