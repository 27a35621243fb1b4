//! Contrast-limited adaptive histogram equalisation.

mod float;
mod mapping;

use super::*;
use crate::error::{Error, Result};
use crate::image::pixels::{GrayImage, ImageView, OwnedImage, OwnedPixels, Pixels};
use float::{clahe_float, clahe_float_in_place};
use mapping::{ByteTables, Indices, MappedRow};

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
    let (w, h) = (view.width(), view.height());
    params.validate_for(w, h)?;
    let mut data = vec![0f32; w * h];
    match view.pixels() {
        Pixels::Gray8(p) => clahe_bytes(p, w, h, params, &mut data),
        Pixels::PackedRgb(p) => clahe_bytes(&rgb_levels(p), w, h, params, &mut data),
        Pixels::Gray16(p) => clahe_wide(p, w, h, params, &mut data),
        Pixels::Gray32(p) => clahe_float(p, w, h, params, &mut data)?,
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
    let (w, h) = (view.width(), view.height());
    params.validate_for(w, h)?;
    Ok(match view.pixels() {
        Pixels::Gray8(p) => {
            let mut out = vec![0u8; w * h];
            clahe_bytes(p, w, h, params, &mut out);
            owned(w, h, out, OwnedPixels::Gray8)
        }
        Pixels::PackedRgb(p) => {
            let mut out = vec![0u8; w * h];
            clahe_bytes(&rgb_levels(p), w, h, params, &mut out);
            owned(w, h, out, OwnedPixels::Gray8)
        }
        Pixels::Gray16(p) => {
            let mut out = vec![0u16; w * h];
            clahe_wide(p, w, h, params, &mut out);
            owned(w, h, out, OwnedPixels::Gray16)
        }
        Pixels::Gray32(p) => {
            let mut out = vec![0f32; w * h];
            clahe_float(p, w, h, params, &mut out)?;
            owned(w, h, out, OwnedPixels::Gray32)
        }
    })
}

/// [`clahe_same_depth`] written over `image`: 16- and 32-bit images are mapped from
/// indices held apart from them, so no second image is allocated (whose fresh pages the
/// kernel would map and zero); 8-bit and RGB images, whose mapping reads the levels
/// themselves, are replaced by [`clahe_same_depth`]'s result. On an error the image is
/// left as it was.
pub fn clahe_in_place(image: &mut OwnedImage, params: &ClaheParams) -> Result<()> {
    let (w, h) = (image.width, image.height);
    params.validate_for(w, h)?;
    match &mut image.pixels {
        OwnedPixels::Gray16(data) => clahe_wide_in_place(data, w, h, params),
        OwnedPixels::Gray32(data) => clahe_float_in_place(data, w, h, params)?,
        OwnedPixels::Gray8(_) | OwnedPixels::PackedRgb(_) => {
            *image = clahe_same_depth(&image.view(), params)?
        }
    }
    Ok(())
}

/// CLAHE on 8-bit levels.
fn clahe_bytes<O: Sample>(levels: &[u8], w: usize, h: usize, p: &ClaheParams, out: &mut [O]) {
    let identity: Vec<u32> = (0..256).collect();
    let rank = |v: u8| v as usize;
    clahe_ranked(levels, w, h, 256, &identity, rank, Some(levels), p, out);
}

/// CLAHE on 16-bit levels. They are first mapped to the ranks of the levels the image
/// contains ([`LevelRanks`]), so tile work scales with the levels present rather than
/// with 65 536 bins and the tables stay small; the mapping is computed in closed form
/// at those levels, so results equal OpenCV's full-histogram ones.
fn clahe_wide<O: Sample>(levels: &[u16], w: usize, h: usize, p: &ClaheParams, out: &mut [O]) {
    let ranks = LevelRanks::of(levels);
    match byte_ranks(levels, w, &ranks) {
        Some(indices) => clahe_byte_ranks(&indices, &ranks.present, w, h, p, out),
        None => clahe_many_levels(levels, &ranks, w, h, p, out),
    }
}

/// [`clahe_wide`] written over its input: from byte indices held apart from it, or (more
/// than 256 levels, whose mapping reads the levels) from a copy.
fn clahe_wide_in_place(data: &mut [u16], w: usize, h: usize, p: &ClaheParams) {
    let ranks = LevelRanks::of(data);
    match byte_ranks(data, w, &ranks) {
        Some(indices) => clahe_byte_ranks(&indices, &ranks.present, w, h, p, data),
        None => {
            let levels = data.to_vec();
            clahe_many_levels(&levels, &ranks, w, h, p, data)
        }
    }
}

/// Each pixel's rank among the levels present, as a byte, where at most 256 are: few
/// enough for the byte-table kernel.
fn byte_ranks(levels: &[u16], w: usize, ranks: &LevelRanks) -> Option<Vec<u8>> {
    if ranks.present.len() > 256 {
        return None;
    }
    // A table of one byte per level, indexed without bounds checks, halves the lookups'
    // cache footprint.
    let byte_rank: Box<[u8; WIDE_LEVELS]> = ranks
        .rank
        .iter()
        .map(|&r| r as u8)
        .collect::<Box<[u8]>>()
        .try_into()
        .expect("one rank per level");
    let mut indices = vec![0u8; levels.len()];
    for_row_bands(&mut indices, w, |y0, rows| {
        for (i, &v) in rows.iter_mut().zip(&levels[y0 * w..]) {
            *i = byte_rank[usize::from(v)];
        }
    });
    Some(indices)
}

/// CLAHE from byte indices into the 16-bit levels `present` (ranks of a 16-bit image's
/// levels, or a float image's offsets from its minimum).
fn clahe_byte_ranks<O: Sample>(
    indices: &[u8],
    present: &[u32],
    w: usize,
    h: usize,
    p: &ClaheParams,
    out: &mut [O],
) {
    let rank = |v: u8| v as usize;
    let bytes = Some(indices);
    clahe_ranked(indices, w, h, WIDE_LEVELS, present, rank, bytes, p, out);
}

/// [`clahe_wide`] for more than 256 levels present.
fn clahe_many_levels<O: Sample>(
    levels: &[u16],
    ranks: &LevelRanks,
    w: usize,
    h: usize,
    p: &ClaheParams,
    out: &mut [O],
) {
    let bins = WIDE_LEVELS;
    if ranks.present.len() > WIDE_LEVELS / 2 {
        // Most levels present: tables over every level, indexed by the level itself, are
        // hardly larger and save a rank lookup per pixel in both passes.
        let every: Vec<u32> = (0..WIDE_LEVELS as u32).collect();
        clahe_ranked(levels, w, h, bins, &every, usize::from, None, p, out);
    } else {
        let rank = |v: u16| ranks.rank[usize::from(v)] as usize;
        clahe_ranked(levels, w, h, bins, &ranks.present, rank, None, p, out);
    }
}

/// One tile's table from its clipped cumulative counts at the levels present, through
/// [`super::simd::dispatch`] so that it is compiled with AVX2 or AVX-512 (the SSE2
/// baseline has no unsigned conversions or 64-bit multiplies to vectorise it with): on
/// an image with 64 000 levels this loop took two thirds of each tile's time.
struct TileTable<'a> {
    cumulative: &'a [u32],
    present: &'a [u32],
    /// Clipped excess given to every bin, and the bins that get one more.
    batch: u32,
    residual: u32,
    by_step: Quotient,
    lut_scale: f32,
    max_level: u16,
    lut: &'a mut [u16],
}

impl super::simd::Kernel for TileTable<'_> {
    type Output = ();

    #[inline(always)]
    fn run(self, _fma: bool) {
        let (batch, residual, by_step) = (self.batch, self.residual, self.by_step);
        let entries = self.lut.iter_mut().zip(self.cumulative).zip(self.present);
        for ((l, &sum), &level) in entries {
            // (No residual: the min is 0.)
            let spread = (level + 1) * batch + (by_step.of(level) + 1).min(residual);
            // Whole grey levels, rounded half to even as OpenCV does.
            let value = round_half_even((sum + spread) as f32 * self.lut_scale);
            *l = (value as u16).min(self.max_level);
        }
    }
}

/// Division by a fixed divisor as a multiplication: `n / d` for `n` and `d` up to 2¹⁶ is
/// `n · ⌈2³²/d⌉ >> 32` exactly (the error, below n/2³² ≤ 2⁻¹⁶ ≤ 1/d, cannot carry a
/// quotient's fraction, at most 1 − 1/d, past the next integer). A tile table divides
/// every level by the same step, and vector units have no integer division.
#[derive(Clone, Copy)]
struct Quotient {
    reciprocal: u64,
}

impl Quotient {
    fn by(d: u32) -> Self {
        debug_assert!((1..=1 << 16).contains(&d));
        Self {
            reciprocal: (1u64 << 32).div_ceil(u64::from(d)),
        }
    }

    #[inline(always)]
    fn of(self, n: u32) -> u32 {
        debug_assert!(n <= 1 << 16);
        ((u64::from(n) * self.reciprocal) >> 32) as u32
    }
}

/// Levels of a 16-bit image (and of a 32-bit one mapped onto 16 bits).
const WIDE_LEVELS: usize = 1 << 16;

/// The distinct levels of an image, ascending, and each level's index among them.
struct LevelRanks {
    present: Vec<u32>,
    rank: Vec<u16>,
}

impl LevelRanks {
    fn of(levels: &[u16]) -> Self {
        // The levels each block of pixels holds, found in parallel as one byte per level:
        // plain stores, where a bit set's read–modify–write of one word chains runs of
        // similar neighbours (about twice the time in a profile).
        let blocks: Vec<&[u16]> = levels.chunks(1 << 18).collect();
        let seen_in = crate::parallel::par_blocks(
            blocks,
            crate::parallel::thread_count(0),
            || (),
            |_, block, _| {
                let mut seen: Box<[u8; WIDE_LEVELS]> =
                    vec![0; WIDE_LEVELS].try_into().expect("one byte per level");
                for &v in block {
                    seen[usize::from(v)] = 1;
                }
                seen
            },
        );
        let mut seen = vec![0u8; WIDE_LEVELS];
        for block in &seen_in {
            seen.iter_mut().zip(block.iter()).for_each(|(s, b)| *s |= b);
        }
        let mut present = Vec::new();
        let mut rank = vec![0u16; WIDE_LEVELS];
        for (v, &s) in seen.iter().enumerate() {
            if s != 0 {
                rank[v] = present.len() as u16;
                present.push(v as u32);
            }
        }
        Self { present, rank }
    }
}

/// CLAHE over `levels` whose values `rank` maps to indices into `present` (the levels
/// that occur, ascending, out of `0..bins`); `bytes` is `levels` itself where they are
/// byte indices (rank the identity), for the byte-table kernel. Tile
/// histograms are built in parallel, then the bilinear mapping runs in row bands.
#[allow(clippy::too_many_arguments)]
fn clahe_ranked<T: Copy + Sync, O: Sample>(
    levels: &[T],
    w: usize,
    h: usize,
    bins: usize,
    present: &[u32],
    rank: impl Fn(T) -> usize + Sync,
    bytes: Option<&[u8]>,
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
    let max_level = (bins - 1) as u16;
    let small = k <= 256;
    // Each tile's table of whole grey levels (at most 65 535, so 16 bits hold them
    // exactly and halve the lookups' cache footprint against floats), in one buffer.
    let mut luts = vec![0u16; tx * ty * k];
    crate::parallel::par_blocks(
        luts.chunks_mut(k).enumerate().collect(),
        crate::parallel::thread_count(0),
        || (vec![0u32; k], vec![0u32; if small { 4 * k } else { 0 }]),
        |_, (t, lut), (hist, quad)| {
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
            // Branch-free: with many levels, bins fall either side of a clip of one or
            // two counts at random, and a branch mispredicted about half the time.
            let mut clipped = 0u32;
            for c in hist.iter_mut() {
                let excess = c.saturating_sub(clip);
                clipped += excess;
                *c -= excess;
            }
            let batch = clipped / bins as u32;
            let residual = clipped - batch * bins as u32;
            let step = (bins as u32).checked_div(residual).map_or(1, |s| s.max(1));
            let by_step = Quotient::by(step);
            // The cumulative counts first: a loop carrying a running sum does not
            // vectorise, the table's arithmetic after it does.
            let mut sum = 0u32;
            for c in hist.iter_mut() {
                sum += *c;
                *c = sum;
            }
            super::simd::dispatch(TileTable {
                cumulative: hist,
                present,
                batch,
                residual,
                by_step,
                lut_scale,
                max_level,
                lut,
            });
        },
    );
    // For the byte-table kernel: each table padded to 256 entries, as low bytes and (for
    // more than 256 levels) high bytes.
    let planes: [Vec<u8>; 2] = match bytes {
        Some(_) => [0, 8].map(|shift| {
            luts.chunks(k)
                .flat_map(|t| (0..256).map(move |j| t.get(j).map_or(0, |&v| (v >> shift) as u8)))
                .collect()
        }),
        None => [Vec::new(), Vec::new()],
    };
    let wide = bins > 256;
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
    for_row_bands_with(BAND_ROWS, out, w, Vec::new, |y0, rows, ranks| {
        for (i, out_row) in rows.chunks_mut(w).enumerate() {
            let y = y0 + i;
            let tyf = y as f32 * inv_th - 0.5;
            let t1 = tyf.floor();
            let t1i = t1 as isize;
            let (top, bottom) = (
                t1i.max(0) as usize * tx * k,
                ((t1i + 1) as usize).min(ty - 1) * tx * k,
            );
            let indices = match bytes {
                Some(b) => Indices::Bytes(ByteTables {
                    row: &b[y * w..][..w],
                    top: planes.each_ref().map(|p| &p[top / k * 256..][..tx * 256]),
                    bottom: planes
                        .each_ref()
                        .map(|p| &p[bottom / k * 256..][..tx * 256]),
                    k,
                    wide,
                }),
                None => {
                    ranks.clear();
                    ranks.extend(levels[y * w..][..w].iter().map(|&v| rank(v) as u16));
                    Indices::Ranks(ranks)
                }
            };
            super::simd::dispatch(MappedRow {
                top: &luts[top..][..tx * k],
                bottom: &luts[bottom..][..tx * k],
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
        if let Some(step) = bins.checked_div(residual) {
            let step = step.max(1);
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
    fn quotients_by_multiplication_are_exact() {
        for d in 1..=1u32 << 16 {
            let q = Quotient::by(d);
            // Around every multiple of d, where an error would show, and the ends.
            let multiples = (d..=1 << 16).step_by(d as usize).take(64);
            for n in multiples
                .flat_map(|m| [m - 1, m])
                .chain([0, 1, 65_535, 65_536])
            {
                assert_eq!(q.of(n), n / d, "{n} / {d}");
            }
        }
    }

    #[test]
    fn ranked_levels_equal_the_full_histogram() {
        let (w, h) = (512, 256);
        let params = ClaheParams {
            tiles_x: 1,
            tiles_y: 1,
            clip_limit: 0.5,
        };
        // About 7000 levels (the general kernel) and 200 (byte indices, so the
        // byte-table kernel where the CPU has it).
        for (distinct, spread) in [(1000, 7), (200, 1)] {
            let levels: Vec<u16> = (0..w * h)
                .map(|i| ((i * 37 % distinct) * 60 + i % spread) as u16)
                .collect();
            let mut out = vec![0u16; w * h];
            clahe_wide(&levels, w, h, &params, &mut out);
            assert_eq!(
                out,
                full_histogram_clahe(&levels, 0.5),
                "{distinct} × {spread}"
            );
        }
        // Every level, twice (tables over all levels, indexed by the level itself).
        let every: Vec<u16> = (0..w * h).map(|i| (i * 40_503 % 65_536) as u16).collect();
        let mut out = vec![0u16; w * h];
        clahe_wide(&every, w, h, &params, &mut out);
        assert_eq!(out, full_histogram_clahe(&every, 0.5), "every level");
    }

    /// 8- and 16-bit output (the byte-table kernel where the CPU has it) equals the float
    /// output (always the portable kernel) rounded half to even.
    #[test]
    fn same_depth_equals_rounded_float() {
        let (w, h) = (300, 200);
        let params = ClaheParams {
            tiles_x: 4,
            tiles_y: 3,
            clip_limit: 2.0,
        };
        let bytes: Vec<u8> = (0..w * h)
            .map(|i| ((i * 7919 + i / w * 13) % 241) as u8)
            .collect();
        let words: Vec<u16> = bytes.iter().map(|&v| v as u16 * 257).collect();
        for view in [
            ImageView::new(w, h, Pixels::Gray8(&bytes)).unwrap(),
            ImageView::new(w, h, Pixels::Gray16(&words)).unwrap(),
        ] {
            let float = clahe(&view, &params).unwrap();
            let rounded: Vec<u32> = float
                .data
                .iter()
                .map(|&v| v.round_ties_even() as u32)
                .collect();
            let same: Vec<u32> = match clahe_same_depth(&view, &params).unwrap().pixels {
                OwnedPixels::Gray8(p) => p.iter().map(|&v| v as u32).collect(),
                OwnedPixels::Gray16(p) => p.iter().map(|&v| v as u32).collect(),
                _ => unreachable!(),
            };
            assert_eq!(same, rounded);
        }
    }

    /// In place equals the copying CLAHE for every pixel type and index kind: 16-bit
    /// with byte ranks and with many levels; 32-bit whole numbers, any values and a
    /// constant image.
    #[test]
    fn in_place_equals_the_copying_clahe() {
        let (w, h) = (130, 70);
        let params = ClaheParams {
            tiles_x: 4,
            tiles_y: 3,
            clip_limit: 2.0,
        };
        let seq: Vec<usize> = (0..w * h).map(|i| i * 7919 + i / w * 13).collect();
        let images = [
            OwnedPixels::Gray8(seq.iter().map(|&i| (i % 241) as u8).collect()),
            OwnedPixels::PackedRgb(seq.iter().map(|&i| (i % 0xff_ffff) as u32).collect()),
            OwnedPixels::Gray16(seq.iter().map(|&i| (i % 241 * 257) as u16).collect()),
            OwnedPixels::Gray16(seq.iter().map(|&i| (i % 5000 * 3) as u16).collect()),
            OwnedPixels::Gray16(seq.iter().map(|&i| (i % 65_536) as u16).collect()),
            OwnedPixels::Gray32(seq.iter().map(|&i| (i % 200) as f32 - 50.0).collect()),
            OwnedPixels::Gray32(seq.iter().map(|&i| (i % 1000) as f32 / 7.0).collect()),
            OwnedPixels::Gray32(vec![3.5; w * h]),
        ];
        for pixels in images {
            let image = OwnedImage {
                width: w,
                height: h,
                pixels,
            };
            let expected = clahe_same_depth(&image.view(), &params).unwrap();
            let mut in_place = image.clone();
            clahe_in_place(&mut in_place, &params).unwrap();
            assert_eq!(in_place.pixels, expected.pixels);
        }
        let mut with_nan = OwnedImage {
            width: w,
            height: h,
            pixels: OwnedPixels::Gray32(vec![f32::NAN; w * h]),
        };
        assert!(clahe_in_place(&mut with_nan, &params).is_err());
        assert!(matches!(&with_nan.pixels, OwnedPixels::Gray32(p) if p.iter().all(|v| v.is_nan())));
    }
}
