//! Contrast-limited adaptive histogram equalisation.

use super::*;
use crate::error::{Error, Result};
use crate::image::pixels::{GrayImage, ImageView, OwnedImage, OwnedPixels, Pixels};

/// Contrast-limited adaptive histogram equalisation with OpenCV's semantics
/// (`cv2.createCLAHE(clipLimit, tileGridSize)`): per-tile histograms (256 bins for 8-bit
/// and RGB, 65 536 for 16-bit), clipped at `clip_limit` × the mean bin count with the
/// excess spread over all bins, and bilinear interpolation between tile mappings.
/// Float images are mapped linearly from their min–max onto 16 bits and back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClaheParams {
    /// Number of tiles across.
    pub tiles_x: usize,
    /// Number of tiles down.
    pub tiles_y: usize,
    /// Clip limit relative to the mean histogram bin count (OpenCV's `clipLimit`).
    pub clip_limit: f64,
}

impl Default for ClaheParams {
    fn default() -> Self {
        Self {
            tiles_x: 8,
            tiles_y: 8,
            clip_limit: 2.0,
        }
    }
}

impl ClaheParams {
    pub fn validate(&self) -> Result<()> {
        for (name, n) in [("across", self.tiles_x), ("down", self.tiles_y)] {
            if n == 0 || n > MAX_CLAHE_TILES {
                return Err(Error::invalid(format!(
                    "CLAHE needs between 1 and {MAX_CLAHE_TILES} tiles {name}, got {n}"
                )));
            }
        }
        check_finite("CLAHE clip limit", self.clip_limit)?;
        if self.clip_limit <= 0.0 {
            return Err(Error::invalid(format!(
                "CLAHE clip limit must be greater than 0, got {}",
                self.clip_limit
            )));
        }
        Ok(())
    }

    fn validate_for(&self, w: usize, h: usize) -> Result<()> {
        self.validate()?;
        if self.tiles_x > w || self.tiles_y > h {
            return Err(Error::invalid(format!(
                "CLAHE tile grid {}×{} is finer than the {w}×{h} image",
                self.tiles_x, self.tiles_y
            )));
        }
        Ok(())
    }
}

/// CLAHE; see [`ClaheParams`]. The result stays in the input's grey units.
pub fn clahe(view: &ImageView, params: &ClaheParams) -> Result<GrayImage> {
    view.ensure_finite()?;
    let (w, h) = (view.width(), view.height());
    params.validate_for(w, h)?;
    let mut data = vec![0f32; w * h];
    match view.pixels() {
        Pixels::Gray8(p) => clahe_levels(p, w, h, 256, params, &mut data),
        Pixels::PackedRgb(p) => clahe_levels(&rgb_levels(p), w, h, 256, params, &mut data),
        Pixels::Gray16(p) => clahe_levels(p, w, h, 1 << 16, params, &mut data),
        Pixels::Gray32(p) => clahe_float(p, view, params, &mut data),
    }
    Ok(GrayImage {
        width: w,
        height: h,
        data,
    })
}

/// [`clahe`] in the input's depth without a float image in between: 8-bit (and RGB) →
/// 8-bit, 16 → 16, rounded half to even as OpenCV rounds (so equal to OpenCV's output,
/// and to [`to_input_depth`] of [`clahe`] except that exact halves go to even); 32 → 32.
pub fn clahe_same_depth(view: &ImageView, params: &ClaheParams) -> Result<OwnedImage> {
    view.ensure_finite()?;
    let (w, h) = (view.width(), view.height());
    params.validate_for(w, h)?;
    Ok(match view.pixels() {
        Pixels::Gray8(p) => {
            let mut out = vec![0u8; w * h];
            clahe_levels(p, w, h, 256, params, &mut out);
            owned(w, h, out, OwnedPixels::Gray8)
        }
        Pixels::PackedRgb(p) => {
            let mut out = vec![0u8; w * h];
            clahe_levels(&rgb_levels(p), w, h, 256, params, &mut out);
            owned(w, h, out, OwnedPixels::Gray8)
        }
        Pixels::Gray16(p) => {
            let mut out = vec![0u16; w * h];
            clahe_levels(p, w, h, 1 << 16, params, &mut out);
            owned(w, h, out, OwnedPixels::Gray16)
        }
        Pixels::Gray32(p) => {
            let mut out = vec![0f32; w * h];
            clahe_float(p, view, params, &mut out);
            owned(w, h, out, OwnedPixels::Gray32)
        }
    })
}

/// Float images: mapped linearly from their min–max onto 16 bits and back.
fn clahe_float(p: &[f32], view: &ImageView, params: &ClaheParams, out: &mut [f32]) {
    let (w, h) = (view.width(), view.height());
    let (lo, hi) = view.unit_range();
    if hi <= lo {
        out.copy_from_slice(p);
        return;
    }
    let scale = 65535.0 / (hi as f64 - lo as f64);
    let levels: Vec<u16> = p
        .iter()
        .map(|&v| ((v as f64 - lo as f64) * scale).round() as u16)
        .collect();
    clahe_levels(&levels, w, h, 1 << 16, params, out);
    for v in out.iter_mut() {
        *v = (*v as f64 / scale + lo as f64) as f32;
    }
}

/// CLAHE on integer levels `0..bins`. Images with more than 256 levels are first mapped
/// to the ranks of the levels they contain ([`LevelRanks`]), so tile work scales with the
/// levels present rather than with 65 536 bins and the tables stay small; the mapping
/// is computed in closed form at those levels, so results equal OpenCV's full-histogram
/// ones. Tile histograms are built in parallel, then the bilinear mapping runs in row
/// bands.
fn clahe_levels<T: Copy + Into<u32> + Sync, O: Sample>(
    levels: &[T],
    w: usize,
    h: usize,
    bins: usize,
    p: &ClaheParams,
    out: &mut [O],
) {
    if bins <= 256 {
        let identity: Vec<u32> = (0..bins as u32).collect();
        clahe_ranked(levels, w, h, bins, &identity, |v| v.into() as usize, p, out);
    } else {
        let ranks = LevelRanks::of(levels, bins);
        let rank = |v: T| ranks.rank[v.into() as usize] as usize;
        clahe_ranked(levels, w, h, bins, &ranks.present, rank, p, out);
    }
}

/// The distinct levels of an image, ascending, and each level's index among them.
struct LevelRanks {
    present: Vec<u32>,
    rank: Vec<u16>,
}

impl LevelRanks {
    fn of<T: Copy + Into<u32>>(levels: &[T], bins: usize) -> Self {
        let mut seen = vec![false; bins];
        for &v in levels {
            seen[v.into() as usize] = true;
        }
        let mut present = Vec::new();
        let mut rank = vec![0u16; bins];
        for (v, &s) in seen.iter().enumerate() {
            if s {
                rank[v] = present.len() as u16;
                present.push(v as u32);
            }
        }
        Self { present, rank }
    }
}

/// CLAHE over `levels` whose values `rank` maps to indices into `present` (the levels
/// that occur, ascending, out of `0..bins`).
#[allow(clippy::too_many_arguments)]
fn clahe_ranked<T: Copy + Sync, O: Sample>(
    levels: &[T],
    w: usize,
    h: usize,
    bins: usize,
    present: &[u32],
    rank: impl Fn(T) -> usize + Sync,
    p: &ClaheParams,
    out: &mut [O],
) {
    let (tx, ty) = (p.tiles_x, p.tiles_y);
    // OpenCV pads (reflect-101) when either side does not divide into whole tiles, and
    // then pads both sides by `tiles - side % tiles` (a whole extra tile row or column
    // when that side did divide); follow it so results agree.
    let (rx, ry) = (w % tx, h % ty);
    let (ew, eh) = if rx == 0 && ry == 0 {
        (w, h)
    } else {
        (w + tx - rx, h + ty - ry)
    };
    let reflect101 = |i: usize, n: usize| -> usize {
        if n == 1 {
            0
        } else {
            let period = 2 * (n - 1);
            let m = i % period;
            if m >= n {
                period - m
            } else {
                m
            }
        }
    };
    let (tw, th) = (ew / tx, eh / ty);
    // Source column of every padded column, so the histogram loop has no arithmetic.
    let columns: Vec<usize> = (0..ew).map(|x| reflect101(x, w)).collect();
    let k = present.len();
    let total = tw * th;
    let lut_scale = (bins - 1) as f32 / total as f32;
    let clip = ((p.clip_limit * total as f64 / bins as f64) as i64).max(1) as u32;
    let max_level = (bins - 1) as f32;
    let small = k <= 256;
    let tile_luts = crate::parallel::par_blocks(
        (0..tx * ty).collect(),
        crate::parallel::thread_count(0),
        || (vec![0u32; k], vec![0u32; if small { 4 * k } else { 0 }]),
        |_, t, (hist, quad)| {
            let (cx, cy) = (t % tx, t / tx);
            hist.fill(0);
            quad.fill(0);
            let cols = &columns[cx * tw..(cx + 1) * tw];
            for y in cy * th..(cy + 1) * th {
                let row = &levels[reflect101(y, h) * w..][..w];
                if cx * tw + tw <= w && small {
                    // Four histograms in turn, so runs of equal neighbours do not wait
                    // on each other's increments.
                    let span = &row[cx * tw..cx * tw + tw];
                    let mut quads = span.chunks_exact(4);
                    for q in &mut quads {
                        for (i, &v) in q.iter().enumerate() {
                            quad[i * k + rank(v)] += 1;
                        }
                    }
                    for &v in quads.remainder() {
                        hist[rank(v)] += 1;
                    }
                } else if cx * tw + tw <= w {
                    for &v in &row[cx * tw..cx * tw + tw] {
                        hist[rank(v)] += 1;
                    }
                } else {
                    for &x in cols {
                        hist[rank(row[x])] += 1;
                    }
                }
            }
            if small {
                for (i, c) in hist.iter_mut().enumerate() {
                    *c += quad[i] + quad[k + i] + quad[2 * k + i] + quad[3 * k + i];
                }
            }
            // OpenCV clips every bin at `clip`, adds the excess evenly to all `bins`
            // bins (`batch` each) and one more to `residual` bins spaced `step` apart
            // from 0; bins of absent levels hold no excess, so the cumulative count at a
            // present level follows in closed form.
            let mut clipped = 0u32;
            for c in hist.iter_mut() {
                if *c > clip {
                    clipped += *c - clip;
                    *c = clip;
                }
            }
            let batch = clipped / bins as u32;
            let residual = clipped - batch * bins as u32;
            let step = (bins as u32).checked_div(residual).map(|s| s.max(1));
            let mut lut = vec![0f32; k];
            let mut sum = 0u32;
            for ((l, &c), &level) in lut.iter_mut().zip(hist.iter()).zip(present) {
                sum += c;
                let spread =
                    (level + 1) * batch + step.map_or(0, |step| (level / step + 1).min(residual));
                // Whole grey levels, rounded half to even as OpenCV does.
                *l = round_half_even((sum + spread) as f32 * lut_scale).min(max_level);
            }
            lut
        },
    );
    let luts: Vec<f32> = tile_luts.concat();
    let (inv_tw, inv_th) = (1.0 / tw as f32, 1.0 / th as f32);
    // Column spans between tile centres (the same left and right tables throughout),
    // and each column's right weight and left weight (1 − right, as OpenCV keeps both).
    let mut spans: Vec<(std::ops::Range<usize>, usize, usize)> = Vec::new();
    let mut right_weights: Vec<f32> = Vec::with_capacity(w);
    for x in 0..w {
        let txf = x as f32 * inv_tw - 0.5;
        let t1 = txf.floor();
        right_weights.push(txf - t1);
        let t1 = t1 as isize;
        let (lo, hi) = (t1.max(0) as usize, ((t1 + 1) as usize).min(tx - 1));
        match spans.last_mut() {
            Some((range, l, r)) if (*l, *r) == (lo * k, hi * k) => range.end = x + 1,
            _ => spans.push((x..x + 1, lo * k, hi * k)),
        }
    }
    let left_weights: Vec<f32> = right_weights.iter().map(|a| 1.0 - a).collect();
    for_row_bands_with(BAND_ROWS, out, w, Vec::new, |y0, rows, indices| {
        indices.resize(w, 0);
        for (i, out_row) in rows.chunks_mut(w).enumerate() {
            let y = y0 + i;
            let tyf = y as f32 * inv_th - 0.5;
            let t1 = tyf.floor();
            let t1i = t1 as isize;
            for (j, &v) in indices.iter_mut().zip(&levels[y * w..][..w]) {
                *j = rank(v) as u32;
            }
            super::simd::dispatch(MappedRow {
                top: &luts[t1i.max(0) as usize * tx * k..][..tx * k],
                bottom: &luts[((t1i + 1) as usize).min(ty - 1) * tx * k..][..tx * k],
                k,
                spans: &spans,
                left_weights: &left_weights,
                right_weights: &right_weights,
                bottom_weight: tyf - t1,
                indices,
                out: out_row,
            });
        }
    });
}

/// One output row of CLAHE: each pixel's value from the four tile tables around it.
struct MappedRow<'a, O> {
    /// The tables of the tile row above and below (tiles × `k` entries each).
    top: &'a [f32],
    bottom: &'a [f32],
    k: usize,
    /// Column spans with their left and right tables' offsets.
    spans: &'a [(std::ops::Range<usize>, usize, usize)],
    left_weights: &'a [f32],
    right_weights: &'a [f32],
    bottom_weight: f32,
    /// Each pixel's table index.
    indices: &'a [u32],
    out: &'a mut [O],
}

impl<O: Sample> super::simd::Kernel for MappedRow<'_, O> {
    type Output = ();

    #[inline(always)]
    fn run(self, _fma: bool) {
        let (ya, ya1) = (self.bottom_weight, 1.0 - self.bottom_weight);
        let k = self.k;
        for (span, left, right) in self.spans {
            let (tl, tr) = (&self.top[*left..][..k], &self.top[*right..][..k]);
            let (bl, br) = (&self.bottom[*left..][..k], &self.bottom[*right..][..k]);
            for x in span.clone() {
                let j = self.indices[x] as usize;
                let (xa1, xa) = (self.left_weights[x], self.right_weights[x]);
                // OpenCV's expression, term for term, so roundings agree.
                let res = (tl[j] * xa1 + tr[j] * xa) * ya1 + (bl[j] * xa1 + br[j] * xa) * ya;
                self.out[x] = O::from_f32(res);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One tile, OpenCV's algorithm step by step over all 65 536 bins.
    fn full_histogram_clahe(levels: &[u16], clip_limit: f64) -> Vec<u16> {
        let bins = 1usize << 16;
        let mut hist = vec![0u32; bins];
        levels.iter().for_each(|&v| hist[v as usize] += 1);
        let clip = ((clip_limit * levels.len() as f64 / bins as f64) as i64).max(1) as u32;
        let mut clipped = 0;
        for c in hist.iter_mut() {
            if *c > clip {
                clipped += *c - clip;
                *c = clip;
            }
        }
        let batch = clipped / bins as u32;
        let mut residual = clipped as usize - batch as usize * bins;
        hist.iter_mut().for_each(|c| *c += batch);
        if residual > 0 {
            let step = (bins / residual).max(1);
            let mut i = 0;
            while i < bins && residual > 0 {
                hist[i] += 1;
                i += step;
                residual -= 1;
            }
        }
        let scale = (bins - 1) as f32 / levels.len() as f32;
        let mut sum = 0;
        let lut: Vec<u16> = hist
            .iter()
            .map(|&c| {
                sum += c;
                (sum as f32 * scale).round_ties_even().min(65535.0) as u16
            })
            .collect();
        levels.iter().map(|&v| lut[v as usize]).collect()
    }

    /// The closed form at the levels present equals the full histogram, including clip
    /// excess large enough to add to every bin (batch > 0) and a residual.
    #[test]
    fn ranked_levels_equal_the_full_histogram() {
        let (w, h) = (512, 256);
        let levels: Vec<u16> = (0..w * h)
            .map(|i| ((i * 37 % 1000) * 60 + i % 7) as u16)
            .collect();
        let params = ClaheParams {
            tiles_x: 1,
            tiles_y: 1,
            clip_limit: 0.5,
        };
        let mut out = vec![0u16; w * h];
        clahe_levels(&levels, w, h, 1 << 16, &params, &mut out);
        assert_eq!(out, full_histogram_clahe(&levels, 0.5));
    }
}
