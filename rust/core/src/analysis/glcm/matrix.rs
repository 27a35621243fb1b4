//! The co-occurrence matrix of a whole image and the features computed from it.

use super::*;

/// Pair counts of the whole image (`C + Cᵀ` when symmetric).
pub(super) fn image_counts(
    q: &Quantized,
    distance: usize,
    angle_deg: f64,
    symmetric: bool,
) -> Vec<u64> {
    let (dr, dc) = offset(distance, angle_deg);
    let l = q.levels;
    let mut counts = vec![0u64; l * l];
    let (w, h) = (q.width, q.height);
    // Columns c whose partner c + dc is inside the row.
    let (c0, c1) = if dc >= 0 {
        (0, w.saturating_sub(dc as usize))
    } else {
        ((-dc) as usize, w)
    };
    if c0 < c1 {
        for r in 0..h.saturating_sub(dr) {
            let from = &q.data[r * w + c0..r * w + c1];
            let start = ((r + dr) * w + c0) as isize + dc;
            let to = &q.data[start as usize..start as usize + (c1 - c0)];
            for (&a, &b) in from.iter().zip(to) {
                counts[a as usize * l + b as usize] += 1;
            }
        }
    }
    if symmetric {
        for a in 0..l {
            for b in a + 1..l {
                let sum = counts[a * l + b] + counts[b * l + a];
                counts[a * l + b] = sum;
                counts[b * l + a] = sum;
            }
            counts[a * l + a] *= 2;
        }
    }
    counts
}

/// All nine features of one matrix of counts, in [`Feature::ALL`] order. Moments use exact
/// integer sums; a matrix without pairs gives scikit-image's values for an all-zero `P`.
pub(super) fn features_from_counts(counts: &[u64], levels: usize) -> [f64; 9] {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0];
    }
    let t = total as i128;
    let (mut a, mut b, mut aa, mut bb, mut ab, mut con, mut dis) = (0i128, 0, 0, 0, 0, 0, 0);
    let (mut hom, mut sq, mut ent) = (0f64, 0u128, 0f64);
    for i in 0..levels {
        for j in 0..levels {
            let n = counts[i * levels + j];
            if n == 0 {
                continue;
            }
            let (c, ii, jj) = (n as i128, i as i128, j as i128);
            a += c * ii;
            b += c * jj;
            aa += c * ii * ii;
            bb += c * jj * jj;
            ab += c * ii * jj;
            con += c * (ii - jj) * (ii - jj);
            dis += c * (ii - jj).abs();
            hom += n as f64 / (1.0 + ((i as f64) - (j as f64)).powi(2));
            sq += (n as u128) * (n as u128);
            let p = n as f64 / total as f64;
            ent -= p * p.ln();
        }
    }
    let tf = total as f64;
    let asm = sq as f64 / (tf * tf);
    let var_i = t * aa - a * a;
    let var_j = t * bb - b * b;
    let cov = t * ab - a * b;
    [
        con as f64 / tf,
        dis as f64 / tf,
        hom / tf,
        asm,
        asm.sqrt(),
        correlation(cov, var_i, var_j),
        ent,
        a as f64 / tf,
        var_i as f64 / (tf * tf),
    ]
}

/// `cov / (σi σj)` from integer numerators `T·Σxy − ΣxΣy` etc.; 1 for a zero spread, as
/// scikit-image returns when σ < 1e-15.
#[inline]
pub(super) fn correlation(cov: i128, var_i: i128, var_j: i128) -> f64 {
    if var_i == 0 || var_j == 0 {
        1.0
    } else if var_i == var_j {
        cov as f64 / var_i as f64
    } else {
        cov as f64 / ((var_i as f64) * (var_j as f64)).sqrt()
    }
}
