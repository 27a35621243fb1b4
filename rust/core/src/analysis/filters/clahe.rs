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
    let (w, h) = (view.width(), view.height());
    params.validate_for(w, h)?;
    let mut data = vec![0f32; w * h];
    match view.pixels() {
        Pixels::Gray8(p) => clahe_bytes(p, w, h, params, &mut data),
        Pixels::PackedRgb(p) => clahe_bytes(&rgb_levels(p), w, h, params, &mut data),
        Pixels::Gray16(p) => clahe_wide(p, w, h, params, &mut data),
        Pixels::Gray32(p) => clahe_float(p, view, params, &mut data)?,
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
            clahe_float(p, view, params, &mut out)?;
            owned(w, h, out, OwnedPixels::Gray32)
        }
    })
}

/// Float images: mapped linearly from their min–max onto 16 bits and back, both maps
/// in row bands over the threads. Fails on NaN or infinite values.
fn clahe_float(p: &[f32], view: &ImageView, params: &ClaheParams, out: &mut [f32]) -> Result<()> {
    let (w, h) = (view.width(), view.height());
    let (lo, hi) = view.finite_range()?;
    if hi <= lo {
        out.copy_from_slice(p);
        return Ok(());
    }
    let (lo, scale) = (lo as f64, 65535.0 / (hi as f64 - lo as f64));
    let image = FloatLevels {
        values: p,
        w,
        h,
        lo,
        scale,
    };
    // Whole-number offsets from a whole minimum are exact in f32 (all below 2²⁴).
    let whole_span = lo.fract() == 0.0 && lo.abs() <= (1 << 23) as f64 && hi as f64 - lo <= 255.0;
    if !(whole_span && image.clahe_whole_numbers(params, out)) {
        image.clahe_any(params, out);
    }
    for_row_bands(out, w, |_, rows| {
        super::simd::dispatch(LevelsToFloats {
            values: rows,
            lo,
            step: 1.0 / scale,
        })
    });
    Ok(())
}

/// A float image and [`clahe_float`]'s linear map of its values onto 16-bit levels,
/// `(v − lo) × scale` rounded.
struct FloatLevels<'a> {
    values: &'a [f32],
    w: usize,
    h: usize,
    lo: f64,
    scale: f64,
}

impl FloatLevels<'_> {
    /// CLAHE of the 16-bit levels, written as levels into `out`.
    fn clahe_any(&self, params: &ClaheParams, out: &mut [f32]) {
        let (p, w) = (self.values, self.w);
        let mut levels = vec![0u16; p.len()];
        for_row_bands(&mut levels, w, |y0, rows| {
            super::simd::dispatch(FloatsToLevels {
                values: &p[y0 * w..][..rows.len()],
                levels: rows,
                lo: self.lo,
                scale: self.scale,
            })
        });
        clahe_wide(&levels, w, self.h, params, out);
    }

    /// [`clahe_any`](Self::clahe_any) for an image of whole numbers spanning at most 255
    /// from a whole minimum (an 8-bit image as ImageJ converts it to 32-bit); false, with
    /// nothing computed, when a value is not a whole number. Each value's offset from the
    /// minimum is its byte index, and the tables are built at the levels of every offset
    /// up to the maximum (absent levels count nothing, so the tables at the present ones
    /// are those of [`clahe_wide`]): this saves the passes that map to 16 bits and find
    /// the levels present.
    fn clahe_whole_numbers(&self, params: &ClaheParams, out: &mut [f32]) -> bool {
        let (p, w) = (self.values, self.w);
        let spoilt = std::sync::atomic::AtomicBool::new(false);
        let mut offsets = vec![0u8; p.len()];
        for_row_bands(&mut offsets, w, |y0, rows| {
            let whole = super::simd::dispatch(FloatsToOffsets {
                values: &p[y0 * w..][..rows.len()],
                offsets: rows,
                lo: self.lo as f32,
            });
            if !whole {
                spoilt.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        });
        if spoilt.into_inner() {
            return false;
        }
        // The levels FloatsToLevels gives each whole number from the minimum to the maximum.
        let span = (65535.0 / self.scale).round() as u32;
        let levels: Vec<u32> = (0..=span)
            .map(|d| ((d as f64 * self.scale + 0.5).min(65535.0)) as u32)
            .collect();
        let rank = |v: u8| v as usize;
        clahe_ranked(
            &offsets,
            w,
            self.h,
            WIDE_LEVELS,
            &levels,
            rank,
            Some(&offsets),
            params,
            out,
        );
        true
    }
}

/// Whole-number float grey values as their offsets from the (whole) minimum `lo`, when
/// all are whole and within 255 of it (returns whether they were).
struct FloatsToOffsets<'a> {
    values: &'a [f32],
    offsets: &'a mut [u8],
    lo: f32,
}

impl super::simd::Kernel for FloatsToOffsets<'_> {
    type Output = bool;

    #[inline(always)]
    fn run(self, _fma: bool) -> bool {
        // 2²³ + d holds a whole d < 2²³ in its mantissa's low bits, and rounds any other d
        // ≥ 0 to a whole number (one addition for any vector width).
        const SHIFT: f32 = 8_388_608.0;
        let mut whole = true;
        for (o, &v) in self.offsets.iter_mut().zip(self.values) {
            let d = v - self.lo;
            let shifted = d + SHIFT;
            whole &= (shifted - SHIFT == d) & (d <= 255.0);
            *o = shifted.to_bits() as u8;
        }
        whole
    }
}

/// Float grey values to 16-bit levels, `(v − lo) × scale` rounded to nearest.
struct FloatsToLevels<'a> {
    values: &'a [f32],
    levels: &'a mut [u16],
    lo: f64,
    scale: f64,
}

impl super::simd::Kernel for FloatsToLevels<'_> {
    type Output = ();

    #[inline(always)]
    fn run(self, _fma: bool) {
        for (level, &v) in self.levels.iter_mut().zip(self.values) {
            // v ≥ lo, so adding ½ and truncating rounds to nearest, ties up as
            // f64::round does for positive values (a libm call per pixel without SSE4.1);
            // through i32 because that conversion has a vector instruction.
            let x = ((v as f64 - self.lo) * self.scale + 0.5).min(65535.0);
            // SAFETY: v and lo are finite ([`clahe_float`] checks the image first) and
            // v ≥ lo (lo is the minimum), so x lies in [0.5, 65535]: the unchecked
            // conversion (one vector instruction, where the saturating one checks each
            // value for NaN) is exact.
            *level = unsafe { x.to_int_unchecked::<i32>() } as u16;
        }
    }
}

/// 16-bit levels (held as floats) back to grey values, in place: `lo + v × step`.
struct LevelsToFloats<'a> {
    values: &'a mut [f32],
    lo: f64,
    step: f64,
}

impl super::simd::Kernel for LevelsToFloats<'_> {
    type Output = ();

    #[inline(always)]
    fn run(self, _fma: bool) {
        for v in self.values.iter_mut() {
            *v = (*v as f64 * self.step + self.lo) as f32;
        }
    }
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
    let bins = WIDE_LEVELS;
    let ranks = LevelRanks::of(levels);
    if ranks.present.len() <= 256 {
        // Few enough levels for byte indices, and so for the byte-table kernel; a table
        // of one byte per level, indexed without bounds checks, halves the lookups' cache
        // footprint.
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
        let rank = |v: u8| v as usize;
        clahe_ranked(
            &indices,
            w,
            h,
            bins,
            &ranks.present,
            rank,
            Some(&indices),
            p,
            out,
        );
    } else if ranks.present.len() > WIDE_LEVELS / 2 {
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

/// One output row of CLAHE: each pixel's value from the four tile tables around it.
struct MappedRow<'a, O> {
    /// The tables of the tile row above and below (tiles × `k` entries each).
    top: &'a [u16],
    bottom: &'a [u16],
    k: usize,
    /// Column spans with their left and right tables' offsets.
    spans: &'a [(std::ops::Range<usize>, usize, usize)],
    left_weights: &'a [f32],
    right_weights: &'a [f32],
    bottom_weight: f32,
    indices: Indices<'a>,
    out: &'a mut [O],
}

/// Each pixel's table index in a row of CLAHE.
enum Indices<'a> {
    /// Ranks among the levels present (below 65 536).
    Ranks(&'a [u16]),
    /// Byte indices, with the tables as byte planes for the byte-table kernel.
    Bytes(ByteTables<'a>),
}

/// A row's byte indices and the tables above and below it as planes of low and high
/// bytes, 256 entries a tile.
#[derive(Clone, Copy)]
struct ByteTables<'a> {
    row: &'a [u8],
    top: [&'a [u8]; 2],
    bottom: [&'a [u8]; 2],
    /// Entries per tile of the float tables (the spans' offsets count in those).
    k: usize,
    /// Whether the tables hold more than 8 bits (the high-byte plane is used).
    wide: bool,
}

impl<O: Sample> super::simd::Kernel for MappedRow<'_, O> {
    type Output = ();

    #[inline(always)]
    fn run(self, _fma: bool) {
        match self.indices {
            Indices::Ranks(ranks) => self.map(ranks),
            Indices::Bytes(tables) => self.map(tables.row),
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn run_avx512(self) {
        if let Indices::Bytes(tables) = self.indices {
            // Whether the output takes the kernel's store: bytes for 8-bit tables, words
            // for wide ones, floats for either (asked of an empty slice, so `self.out`
            // stays for `run`).
            let fits = O::as_floats(&mut []).is_some()
                || if tables.wide {
                    O::as_words(&mut []).is_some()
                } else {
                    O::as_bytes(&mut []).is_some()
                };
            if fits && std::arch::is_x86_feature_detected!("avx512vbmi") {
                let weights = (self.left_weights, self.right_weights);
                let out = if O::as_floats(&mut []).is_some() {
                    Output::Floats(O::as_floats(self.out).expect("checked above"))
                } else if let Some(words) = O::as_words(self.out) {
                    Output::Words(words)
                } else {
                    Output::Bytes(O::as_bytes(self.out).expect("checked above"))
                };
                // SAFETY: AVX-512 VBMI was just detected.
                return unsafe { map_bytes(self.spans, tables, weights, self.bottom_weight, out) };
            }
        }
        self.run(true)
    }
}

impl<O: Sample> MappedRow<'_, O> {
    /// The portable kernel, one pixel at a time.
    #[inline(always)]
    fn map<I: Copy>(self, indices: &[I])
    where
        usize: From<I>,
    {
        let (ya, ya1) = (self.bottom_weight, 1.0 - self.bottom_weight);
        let k = self.k;
        for (span, left, right) in self.spans {
            let (tl, tr) = (&self.top[*left..][..k], &self.top[*right..][..k]);
            let (bl, br) = (&self.bottom[*left..][..k], &self.bottom[*right..][..k]);
            for x in span.clone() {
                let j = usize::from(indices[x]);
                let (xa1, xa) = (self.left_weights[x], self.right_weights[x]);
                // OpenCV's expression, term for term, so roundings agree.
                let [tl, tr, bl, br] = [tl[j], tr[j], bl[j], br[j]].map(f32::from);
                let res = (tl * xa1 + tr * xa) * ya1 + (bl * xa1 + br * xa) * ya;
                self.out[x] = O::from_f32(res);
            }
        }
    }
}

/// Where [`map_bytes`] writes: 8-bit tables to bytes, wide ones to 16-bit words, either
/// to floats (unrounded, as [`Sample::from_f32`] leaves them).
#[cfg(target_arch = "x86_64")]
enum Output<'a> {
    Bytes(&'a mut [u8]),
    Words(&'a mut [u16]),
    Floats(&'a mut [f32]),
}

/// [`MappedRow`] for byte indices, 64 pixels at a time: each 256-entry byte plane of the
/// four tables sits in four registers and is read with byte permutes (`vpermi2b`)
/// instead of one load per pixel; the arithmetic is OpenCV's expression term for term in
/// f32, and `vcvtps2dq` rounds half to even as [`Sample::from_f32`] does, so the result
/// is the same as the portable kernel's.
///
/// # Safety
/// Only where AVX-512F, BW and VBMI are available.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
unsafe fn map_bytes(
    spans: &[(std::ops::Range<usize>, usize, usize)],
    tables: ByteTables,
    (left_weights, right_weights): (&[f32], &[f32]),
    bottom_weight: f32,
    mut out: Output,
) {
    use std::arch::x86_64::*;
    let (ya, ya1) = (
        _mm512_set1_ps(bottom_weight),
        _mm512_set1_ps(1.0 - bottom_weight),
    );
    let planes = if tables.wide { 2 } else { 1 };
    // The 256-entry plane of the tile whose float table starts at `offset`, in four
    // registers of 64 entries.
    let load = |rows: &[&[u8]; 2], offset: usize, plane: usize| -> [__m512i; 4] {
        let t = &rows[plane][offset / tables.k * 256..][..256];
        let mut quarters = [_mm512_setzero_si512(); 4];
        for (quarter, o) in quarters.iter_mut().zip((0..256).step_by(64)) {
            // SAFETY: reads the 64 bytes of `t` from `o`.
            *quarter = unsafe { _mm512_loadu_si512(t[o..o + 64].as_ptr().cast()) };
        }
        quarters
    };
    // Entry `v` of `t` for 64 bytes `v`: the low 7 bits pick among the first or last 128
    // entries, the top bit between the two.
    let look = |t: &[__m512i; 4], v: __m512i| {
        let low = _mm512_permutex2var_epi8(t[0], v, t[1]);
        let high = _mm512_permutex2var_epi8(t[2], v, t[3]);
        _mm512_mask_blend_epi8(_mm512_movepi8_mask(v), low, high)
    };
    // Looked-up bytes: [table][plane], tables top-left, top-right, bottom-left, -right.
    let mut looked = [[[0u8; 64]; 2]; 4];
    for (span, left, right) in spans {
        let sides = [
            (&tables.top, *left),
            (&tables.top, *right),
            (&tables.bottom, *left),
            (&tables.bottom, *right),
        ];
        // Filled in place: built with array `map`s, the 2 KiB of registers went through
        // memmove calls once the closures were not inlined.
        let mut regs = [[[_mm512_setzero_si512(); 4]; 2]; 4];
        for (side, &(rows, offset)) in regs.iter_mut().zip(&sides) {
            for (plane, reg) in side.iter_mut().enumerate().take(planes) {
                *reg = load(rows, offset, plane);
            }
        }
        for x0 in span.clone().step_by(64) {
            let n = (span.end - x0).min(64);
            let indices = &tables.row[x0..x0 + n];
            // SAFETY: the masked load reads the n bytes of `indices`; the stores write
            // whole local arrays.
            unsafe {
                let v = _mm512_maskz_loadu_epi8(u64::MAX >> (64 - n), indices.as_ptr().cast());
                for (buf, t) in looked.iter_mut().zip(&regs) {
                    for plane in 0..planes {
                        _mm512_storeu_si512(buf[plane].as_mut_ptr().cast(), look(&t[plane], v));
                    }
                }
            }
            for q in 0..n.div_ceil(16) {
                let m = (n - 16 * q).min(16);
                let at = x0 + 16 * q;
                let (xa1, xa) = (&left_weights[at..at + m], &right_weights[at..at + m]);
                // SAFETY: every masked load and store touches the m values of the
                // slices named; the byte loads read 16 bytes inside 64-byte arrays.
                unsafe {
                    let mask = (u32::MAX >> (32 - m)) as __mmask16;
                    // By reference: mapping the arrays themselves copied 512 bytes per
                    // 16 pixels (a memmove call where the closure was not inlined).
                    let entries = looked.each_ref().map(|buf| {
                        let byte = |plane: usize| {
                            let bytes = _mm_loadu_si128(buf[plane][16 * q..].as_ptr().cast());
                            _mm512_cvtepu8_epi32(bytes)
                        };
                        let value = if planes == 2 {
                            _mm512_or_si512(byte(0), _mm512_slli_epi32::<8>(byte(1)))
                        } else {
                            byte(0)
                        };
                        _mm512_cvtepi32_ps(value)
                    });
                    let xa1 = _mm512_maskz_loadu_ps(mask, xa1.as_ptr());
                    let xa = _mm512_maskz_loadu_ps(mask, xa.as_ptr());
                    let upper = _mm512_add_ps(
                        _mm512_mul_ps(entries[0], xa1),
                        _mm512_mul_ps(entries[1], xa),
                    );
                    let lower = _mm512_add_ps(
                        _mm512_mul_ps(entries[2], xa1),
                        _mm512_mul_ps(entries[3], xa),
                    );
                    let res = _mm512_add_ps(_mm512_mul_ps(upper, ya1), _mm512_mul_ps(lower, ya));
                    if let Output::Floats(o) = &mut out {
                        _mm512_mask_storeu_ps(o[at..at + m].as_mut_ptr(), mask, res);
                        continue;
                    }
                    let res = _mm512_cvtps_epi32(res);
                    match &mut out {
                        Output::Bytes(o) => {
                            let dst = o[at..at + m].as_mut_ptr();
                            _mm512_mask_cvtusepi32_storeu_epi8(dst.cast(), mask, res)
                        }
                        Output::Words(o) => {
                            let dst = o[at..at + m].as_mut_ptr();
                            _mm512_mask_cvtusepi32_storeu_epi16(dst.cast(), mask, res)
                        }
                        Output::Floats(_) => unreachable!("stored above"),
                    }
                }
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

    /// Whole-number float images take byte offsets instead of 16-bit levels; the levels
    /// and so the results are the same (spans of 255 and fewer, minimum 0, negative,
    /// positive; one non-whole value sends the image down the general path).
    #[test]
    fn whole_number_floats_equal_the_general_path() {
        let (w, h) = (300, 200);
        let params = ClaheParams {
            tiles_x: 4,
            tiles_y: 3,
            clip_limit: 2.0,
        };
        // (minimum, levels, step between them): the last leaves most offsets absent.
        for (offset, n, step) in [
            (0.0, 256, 1),
            (-100.0, 241, 1),
            (17.0, 101, 1),
            (1e3, 4, 1),
            (5.0, 86, 3),
        ] {
            let mut values: Vec<f32> = (0..w * h)
                .map(|i| offset + ((i * 7919 + i / w * 13) % n * step) as f32)
                .collect();
            let span = (n - 1) * step;
            let (lo, hi) = (offset as f64, offset as f64 + span as f64);
            let scale = 65535.0 / (hi - lo);
            for spoil in [false, true] {
                if spoil {
                    values[w * h / 2] = offset + 0.5;
                }
                let image = FloatLevels {
                    values: &values,
                    w,
                    h,
                    lo,
                    scale,
                };
                let mut fast = vec![0f32; w * h];
                let whole = image.clahe_whole_numbers(&params, &mut fast);
                assert_eq!(whole, !spoil, "span {span} from {offset}");
                if whole {
                    let mut general = vec![0f32; w * h];
                    image.clahe_any(&params, &mut general);
                    assert_eq!(fast, general, "span {span} from {offset}");
                }
            }
        }
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
}
