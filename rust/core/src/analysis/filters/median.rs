//! Median filter.

use super::*;
use crate::error::{Error, Result};
use crate::image::pixels::{GrayImage, ImageView, OwnedImage, OwnedPixels, Pixels};

/// Median filter over a square (2r+1)×(2r+1) window (scipy `median_filter(size=2r+1)`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MedianParams {
    pub radius: usize,
}

impl Default for MedianParams {
    fn default() -> Self {
        Self { radius: 2 }
    }
}

impl MedianParams {
    pub fn validate(&self) -> Result<()> {
        if self.radius == 0 || self.radius > MAX_MEDIAN_RADIUS {
            return Err(Error::invalid(format!(
                "median radius must be between 1 and {MAX_MEDIAN_RADIUS} pixels, got {}",
                self.radius
            )));
        }
        Ok(())
    }
}

/// Median filter. Radii 1 and 2 (3×3 and 5×5, the common cases) run a selection
/// network on vector lanes for every pixel type. Larger radii on 8- and 16-bit images,
/// and on any image with at most 65 536 distinct grey levels, use a sliding two-level
/// histogram (Huang's algorithm with a coarse histogram on top), so the cost per pixel
/// grows with the radius, not its square; float images with more distinct levels fall
/// back to a selection window. Rows are split into bands across threads.
pub fn median(view: &ImageView, params: &MedianParams) -> Result<GrayImage> {
    params.validate()?;
    view.ensure_finite()?;
    let (w, h, r) = (view.width(), view.height(), params.radius);
    let mut data = vec![0f32; w * h];
    match view.pixels() {
        Pixels::Gray8(p) => level_median(p, w, h, r, &mut data),
        Pixels::Gray16(p) => level_median(p, w, h, r, &mut data),
        Pixels::Gray32(p) => float_median(p, w, h, r, &mut data),
        Pixels::PackedRgb(_) => float_median(&gray_values(view), w, h, r, &mut data),
    }
    Ok(GrayImage {
        width: w,
        height: h,
        data,
    })
}

/// [`median`] in the input's depth: 8-bit in, 8-bit out (no float image in between, as a
/// median of levels is a level), 16 → 16, 32 → 32; RGB gives the median of its luminance
/// rounded to 8-bit levels. Equal to [`to_input_depth`] of [`median`].
pub fn median_same_depth(view: &ImageView, params: &MedianParams) -> Result<OwnedImage> {
    params.validate()?;
    view.ensure_finite()?;
    let (w, h, r) = (view.width(), view.height(), params.radius);
    Ok(match view.pixels() {
        Pixels::Gray8(p) => {
            let mut out = vec![0u8; w * h];
            level_median(p, w, h, r, &mut out);
            owned(w, h, out, OwnedPixels::Gray8)
        }
        Pixels::PackedRgb(p) => {
            let mut out = vec![0u8; w * h];
            level_median(&rgb_levels(p), w, h, r, &mut out);
            owned(w, h, out, OwnedPixels::Gray8)
        }
        Pixels::Gray16(p) => {
            let mut out = vec![0u16; w * h];
            level_median(p, w, h, r, &mut out);
            owned(w, h, out, OwnedPixels::Gray16)
        }
        Pixels::Gray32(p) => {
            let mut out = vec![0f32; w * h];
            float_median(p, w, h, r, &mut out);
            owned(w, h, out, OwnedPixels::Gray32)
        }
    })
}

/// Median of 8- or 16-bit levels, written as any type a level converts to exactly.
fn level_median<T: Level, O: From<T> + Sample>(
    p: &[T],
    w: usize,
    h: usize,
    r: usize,
    out: &mut [O],
) {
    if r <= NETWORK_MAX_RADIUS {
        network_median::<T, T, O>(p, w, h, r, out);
    } else {
        let ranks: Vec<u32> = p.iter().map(|&v| v.into()).collect();
        let bits = 8 * std::mem::size_of::<T>() as u32;
        histogram_median(&ranks, w, h, r, bits, out, |v| O::from(T::from_level(v)));
    }
}

/// Median of float grey values: by network, by ranks of distinct levels, or by selection.
fn float_median(values: &[f32], w: usize, h: usize, r: usize, out: &mut [f32]) {
    if r <= NETWORK_MAX_RADIUS {
        return network_median::<f32, FloatKey, f32>(values, w, h, r, out);
    }
    let mut levels = values.to_vec();
    levels.sort_unstable_by(f32::total_cmp);
    levels.dedup();
    if levels.len() <= 1 << 16 {
        let ranks: Vec<u32> = values
            .iter()
            .map(|v| levels.partition_point(|l| l < v) as u32)
            .collect();
        let bits = (usize::BITS - (levels.len() - 1).leading_zeros()).max(2);
        histogram_median(&ranks, w, h, r, bits, out, |i| levels[i as usize]);
    } else {
        selection_median(values, w, h, r, out);
    }
}

// ---------------------------------------------------------------------------------------
// Selection network

/// Radii up to this use the selection network; its size grows with the window area.
const NETWORK_MAX_RADIUS: usize = 2;

/// A pixel type the network compares; `lo`/`hi` compile to vector min/max.
trait Lane: Copy + Default + Send + Sync {
    fn lo(a: Self, b: Self) -> Self;
    fn hi(a: Self, b: Self) -> Self;
}

/// Integer lanes: `Ord`'s min and max.
macro_rules! integer_lane {
    ($($t:ty),*) => {$(
        impl Lane for $t {
            #[inline(always)]
            fn lo(a: Self, b: Self) -> Self {
                a.min(b)
            }
            #[inline(always)]
            fn hi(a: Self, b: Self) -> Self {
                a.max(b)
            }
        }
    )*};
}

integer_lane!(u8, u16);

/// An integer level type (8- or 16-bit) for the histogram path.
trait Level: Lane + Into<u32> {
    fn from_level(v: u32) -> Self;
}

impl Level for u8 {
    fn from_level(v: u32) -> Self {
        v as u8
    }
}

impl Level for u16 {
    fn from_level(v: u32) -> Self {
        v as u16
    }
}

/// A float as an integer that sorts like it: the sign bit kept and, for negative values,
/// the magnitude bits flipped, so that integer min/max order finite floats exactly
/// (−0 before +0). The network compares these: float compare-and-select lanes were
/// vectorised across wires with shuffles instead of across pixels, about 9× slower than
/// OpenCV's 32-bit median; integer lanes compile like the 8- and 16-bit ones.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
#[repr(transparent)]
struct FloatKey(i32);

impl FloatKey {
    /// The flip is its own inverse.
    #[inline(always)]
    fn flip(bits: i32) -> i32 {
        bits ^ (((bits >> 31) as u32) >> 1) as i32
    }
}

impl From<f32> for FloatKey {
    #[inline(always)]
    fn from(v: f32) -> Self {
        Self(Self::flip(v.to_bits() as i32))
    }
}

impl From<FloatKey> for f32 {
    #[inline(always)]
    fn from(k: FloatKey) -> Self {
        f32::from_bits(FloatKey::flip(k.0) as u32)
    }
}

integer_lane!(FloatKey);

#[cfg(test)]
/// Which outputs of a compare–exchange the median still needs.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Keep {
    Both,
    Min,
    Max,
}

#[cfg(test)]
/// Wire `lo` receives the smaller value and wire `hi` the larger.
#[derive(Debug, Clone, Copy)]
struct CompareExchange {
    lo: usize,
    hi: usize,
    keep: Keep,
}

/// A selection network for the median of `n` values: Batcher's odd–even merge sort on
/// the next power of two, with the padding wires (+∞) resolved while building, then
/// pruned backwards to the comparators the middle output depends on, keeping only the
/// min or the max where only one is used (113 comparators for 25 values). Returns the
/// wire holding the median and the comparators in order. The kernel runs it written out
/// ([`network_9`], [`network_25`]); this builder is their reference.
#[cfg(test)]
fn median_network(n: usize) -> (usize, Vec<CompareExchange>) {
    let size = n.next_power_of_two();
    // Physical wire holding each sorted position, and whether it holds padding.
    let mut wire: Vec<usize> = (0..size).collect();
    let mut padding: Vec<bool> = (0..size).map(|i| i >= n).collect();
    let mut ops = Vec::new();
    let mut p = 1;
    while p < size {
        let mut k = p;
        while k >= 1 {
            let mut j = k % p;
            while j + k < size {
                for i in 0..k.min(size - j - k) {
                    let (a, b) = (i + j, i + j + k);
                    if a / (2 * p) != b / (2 * p) || padding[b] {
                        continue;
                    }
                    if padding[a] {
                        // +∞ moves up; only the labels change.
                        wire.swap(a, b);
                        padding.swap(a, b);
                    } else {
                        ops.push((wire[a], wire[b]));
                    }
                }
                j += 2 * k;
            }
            k /= 2;
        }
        p *= 2;
    }
    let out = wire[n / 2];
    let mut live = vec![false; size];
    live[out] = true;
    let mut kept = Vec::new();
    for &(lo, hi) in ops.iter().rev() {
        let keep = match (live[lo], live[hi]) {
            (false, false) => continue,
            (true, true) => Keep::Both,
            (true, false) => Keep::Min,
            (false, true) => Keep::Max,
        };
        live[lo] = true;
        live[hi] = true;
        kept.push(CompareExchange { lo, hi, keep });
    }
    kept.reverse();
    (out, kept)
}

/// Median of (2r+1)² windows through [`median_network`], `LANES` pixels at a time.
fn network_median<T: Copy + Sync, K: Lane + From<T>, O: From<K> + Sample>(
    pixels: &[T],
    w: usize,
    h: usize,
    r: usize,
    out: &mut [O],
) {
    // One register of lanes per wire: 512 bits with AVX-512, else 256.
    let wide = super::simd::has_avx512();
    for_row_bands(out, w, |y0, rows| {
        macro_rules! run {
            ($lanes:literal) => {
                super::simd::dispatch(NetworkRows::<T, K, O, $lanes> {
                    pixels,
                    w,
                    h,
                    r,
                    y0,
                    rows,
                    key: std::marker::PhantomData,
                })
            };
        }
        match (std::mem::size_of::<K>(), wide) {
            (1, true) => run!(64),
            (1, false) | (2, true) => run!(32),
            (2, false) | (_, true) => run!(16),
            _ => run!(8),
        }
    });
}

/// Output rows from `y0` of [`network_median`]: pixels `T` are compared as keys `K`
/// (the pixels themselves, or [`FloatKey`]s of floats), `L` of which fill one register.
struct NetworkRows<'a, T, K, O, const L: usize> {
    pixels: &'a [T],
    w: usize,
    h: usize,
    r: usize,
    y0: usize,
    rows: &'a mut [O],
    key: std::marker::PhantomData<K>,
}

/// Calls `$then!($($args)*; lo hi keep, ...)` with the comparators of
/// `median_network(9)` written out (`B` both outputs, `m` min only, `M` max only), so
/// that the kernel is straight-line code with its wires in registers; the test
/// `written_networks_are_the_built_ones` checks them against [`median_network`].
macro_rules! network_9 {
    ($then:ident!($($args:tt)*)) => { $then!($($args)*;
        0 1 B, 2 3 B, 4 5 B, 6 7 B, 0 2 B, 1 3 B, 4 6 B, 5 7 B, 1 2 B, 5 6 B, 0 4 B,
        1 5 B, 2 6 B, 3 7 m, 2 4 B, 3 5 B, 1 2 M, 3 4 B, 5 6 m, 0 8 M, 4 8 m, 2 4 M,
        3 5 m, 3 4 M
    ) };
}

/// As [`network_9`], for `median_network(25)`.
macro_rules! network_25 {
    ($then:ident!($($args:tt)*)) => { $then!($($args)*;
        0 1 B, 2 3 B, 4 5 B, 6 7 B, 8 9 B, 10 11 B, 12 13 B, 14 15 B, 16 17 B, 18 19
        B, 20 21 B, 22 23 B, 0 2 B, 1 3 B, 4 6 B, 5 7 B, 8 10 B, 9 11 B, 12 14 B, 13
        15 B, 16 18 B, 17 19 B, 20 22 B, 21 23 B, 1 2 B, 5 6 B, 9 10 B, 13 14 B, 17
        18 B, 21 22 B, 0 4 B, 1 5 B, 2 6 B, 3 7 B, 8 12 B, 9 13 B, 10 14 B, 11 15 B,
        16 20 B, 17 21 B, 18 22 B, 19 23 B, 2 4 B, 3 5 B, 10 12 B, 11 13 B, 18 20 B,
        19 21 B, 1 2 B, 3 4 B, 5 6 B, 9 10 B, 11 12 B, 13 14 B, 17 18 B, 19 20 B, 21
        22 B, 0 8 B, 1 9 B, 2 10 B, 3 11 B, 4 12 B, 5 13 B, 6 14 B, 7 15 m, 16 24 B,
        4 8 B, 5 9 B, 6 10 B, 7 11 B, 20 24 B, 2 4 B, 3 5 B, 6 8 B, 7 9 B, 10 12 B,
        11 13 B, 18 20 B, 19 21 B, 22 24 B, 1 2 B, 3 4 B, 5 6 B, 7 8 B, 9 10 B, 11
        12 B, 13 14 m, 17 18 B, 19 20 B, 21 22 B, 23 24 B, 0 16 M, 1 17 M, 2 18 M, 3
        19 M, 4 20 M, 5 21 M, 6 22 m, 7 23 m, 8 24 m, 8 16 M, 9 17 M, 10 18 m, 11 19
        m, 12 20 m, 13 21 m, 6 10 M, 7 11 M, 12 16 m, 13 17 m, 10 12 M, 11 13 m, 11
        12 M
    ) };
}

/// Applies written-out comparators to the array of wires `$w`.
macro_rules! compare_exchange {
    ($w:ident; $($lo:literal $hi:literal $keep:ident),* $(,)?) => {
        $(compare_exchange!(@ $w, $lo, $hi, $keep);)*
    };
    (@ $w:ident, $lo:literal, $hi:literal, B) => {{
        let (s, t) = ($w[$lo], $w[$hi]);
        $w[$lo] = lanes_lo(s, t);
        $w[$hi] = lanes_hi(s, t);
    }};
    (@ $w:ident, $lo:literal, $hi:literal, m) => {
        $w[$lo] = lanes_lo($w[$lo], $w[$hi]);
    };
    (@ $w:ident, $lo:literal, $hi:literal, M) => {
        $w[$hi] = lanes_hi($w[$lo], $w[$hi]);
    };
}

/// Loads the wires `$k` of the windows of `L` pixels from column `$x0`, wire k from
/// window row k / side (starting at `$base[k / side]`) and column k % side. Written out
/// per wire (constant indices) so that the wires live in registers, not on the stack.
macro_rules! load_window {
    ($rows:ident, $base:ident, $x0:expr, $side:literal, $lanes:ident; $($k:literal)*) => {
        [$(lanes::<K, $lanes>($rows, $base[$k / $side] + $x0 + $k % $side)),*]
    };
}

/// `L` values from `start`.
#[inline(always)]
fn lanes<T: Copy, const L: usize>(values: &[T], start: usize) -> [T; L] {
    values[start..start + L].try_into().expect("L values")
}

#[inline(always)]
fn lanes_lo<T: Lane, const L: usize>(a: [T; L], b: [T; L]) -> [T; L] {
    let mut out = a;
    for l in 0..L {
        out[l] = T::lo(a[l], b[l]);
    }
    out
}

#[inline(always)]
fn lanes_hi<T: Lane, const L: usize>(a: [T; L], b: [T; L]) -> [T; L] {
    let mut out = a;
    for l in 0..L {
        out[l] = T::hi(a[l], b[l]);
    }
    out
}

impl<T: Copy, K: Lane + From<T>, O: From<K> + Sample, const L: usize> super::simd::Kernel
    for NetworkRows<'_, T, K, O, L>
{
    type Output = ();

    #[inline(always)]
    fn run(self, _fma: bool) {
        let Self {
            pixels,
            w,
            h,
            r,
            y0,
            rows,
            ..
        } = self;
        let side = 2 * r + 1;
        // The window's rows, reflected at the sides and with a pass's worth more on the
        // right so every pass reads whole lanes, in a ring of `side` rows: each output
        // row pads one new source row (in cache) instead of the whole image up front.
        let pw = w + 2 * r + L;
        let mut ring = vec![K::default(); side * pw];
        let pad = |ring: &mut [K], py: usize| {
            let src = &pixels[reflect(py as isize - r as isize, h) * w..][..w];
            let dst = &mut ring[(py % side) * pw..][..pw];
            for i in 0..r {
                dst[i] = K::from(src[reflect(i as isize - r as isize, w)]);
                dst[r + w + i] = K::from(src[reflect((w + i) as isize, w)]);
            }
            for (d, &s) in dst[r..r + w].iter_mut().zip(src) {
                *d = K::from(s);
            }
        };
        for py in y0..y0 + side - 1 {
            pad(&mut ring, py);
        }
        for (i, out_row) in rows.chunks_mut(w).enumerate() {
            let y = y0 + i;
            pad(&mut ring, y + side - 1);
            let ring = &ring[..];
            // Start of each window row in the ring.
            let mut base = [0usize; 2 * NETWORK_MAX_RADIUS + 1];
            for (dy, b) in base.iter_mut().enumerate().take(side) {
                *b = ((y + dy) % side) * pw;
            }
            for x0 in (0..w).step_by(L) {
                let median: [K; L] = if side == 3 {
                    let mut wires = load_window!(ring, base, x0, 3, L; 0 1 2 3 4 5 6 7 8);
                    network_9!(compare_exchange!(wires));
                    wires[4]
                } else {
                    let mut wires = load_window!(ring, base, x0, 5, L;
                        0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24);
                    network_25!(compare_exchange!(wires));
                    wires[12]
                };
                let n = (w - x0).min(L);
                out_row[x0..x0 + n]
                    .iter_mut()
                    .zip(median)
                    .for_each(|(o, v)| *o = O::from(v));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Histogram and selection

/// Sliding-window median on integer levels `0..2^bits`, visiting pixels in a snake
/// order so each step only swaps one column (or row) of 2r+1 values in and out.
/// `value` maps a level to the grey value written to `out`.
fn histogram_median<O: Sample>(
    levels: &[u32],
    w: usize,
    h: usize,
    r: usize,
    bits: u32,
    out: &mut [O],
    value: impl Fn(u32) -> O + Sync,
) {
    for_row_bands(out, w, |y0, rows| {
        histogram_median_rows(levels, w, h, r, bits, y0, rows, &value)
    });
}

#[allow(clippy::too_many_arguments)]
fn histogram_median_rows<O>(
    levels: &[u32],
    w: usize,
    h: usize,
    r: usize,
    bits: u32,
    y0: usize,
    rows: &mut [O],
    value: &impl Fn(u32) -> O,
) {
    let (y0, y1) = (y0 as isize, (y0 + rows.len() / w) as isize);
    let coarse_bits = bits.div_ceil(2);
    let shift = bits - coarse_bits;
    let mut hist = TwoLevelHistogram {
        fine: vec![0; 1 << bits],
        coarse: vec![0; 1 << coarse_bits],
        shift,
        block: 0,
        below: 0,
    };
    let ri = r as isize;
    // Reflected coordinates for every offset the window can reach.
    let xs: Vec<usize> = (-ri - 1..w as isize + ri + 1)
        .map(|x| reflect(x, w))
        .collect();
    let ys: Vec<usize> = (-ri - 1..h as isize + ri + 1)
        .map(|y| reflect(y, h))
        .collect();
    let xi = |x: isize| xs[(x + ri + 1) as usize];
    let yi = |y: isize| ys[(y + ri + 1) as usize];
    let side = 2 * r + 1;
    let rank = (side * side / 2) as u32;

    let column = |hist: &mut TwoLevelHistogram, x: isize, y: isize, add: bool| {
        let sx = xi(x);
        for dy in -ri..=ri {
            hist.update(levels[yi(y + dy) * w + sx], add);
        }
    };
    let row = |hist: &mut TwoLevelHistogram, x: isize, y: isize, add: bool| {
        let base = yi(y) * w;
        for dx in -ri..=ri {
            hist.update(levels[base + xi(x + dx)], add);
        }
    };

    for dy in -ri..=ri {
        row(&mut hist, 0, y0 + dy, true);
    }
    let mut x: isize = 0;
    for y in y0..y1 {
        let forward = (y - y0) % 2 == 0;
        loop {
            rows[(y - y0) as usize * w + x as usize] = value(hist.select(rank));
            if forward {
                if x == w as isize - 1 {
                    break;
                }
                column(&mut hist, x - ri, y, false);
                column(&mut hist, x + ri + 1, y, true);
                x += 1;
            } else {
                if x == 0 {
                    break;
                }
                column(&mut hist, x + ri, y, false);
                column(&mut hist, x - ri - 1, y, true);
                x -= 1;
            }
        }
        if y + 1 < y1 {
            row(&mut hist, x, y - ri, false);
            row(&mut hist, x, y + ri + 1, true);
        }
    }
}

/// A fine histogram with a coarse one on top; `block` tracks the coarse bin holding the
/// median and `below` the count in lower coarse bins, so finding the median moves a few
/// coarse bins and then scans one block of fine bins.
struct TwoLevelHistogram {
    fine: Vec<u32>,
    coarse: Vec<u32>,
    shift: u32,
    block: usize,
    below: u32,
}

impl TwoLevelHistogram {
    #[inline]
    fn update(&mut self, v: u32, add: bool) {
        let b = (v >> self.shift) as usize;
        if add {
            self.fine[v as usize] += 1;
            self.coarse[b] += 1;
            if b < self.block {
                self.below += 1;
            }
        } else {
            self.fine[v as usize] -= 1;
            self.coarse[b] -= 1;
            if b < self.block {
                self.below -= 1;
            }
        }
    }

    /// The level of 0-based rank `rank` in the window.
    #[inline]
    fn select(&mut self, rank: u32) -> u32 {
        while self.below > rank {
            self.block -= 1;
            self.below -= self.coarse[self.block];
        }
        while self.below + self.coarse[self.block] <= rank {
            self.below += self.coarse[self.block];
            self.block += 1;
        }
        let start = self.block << self.shift;
        let mut acc = self.below;
        for (i, &c) in self.fine[start..start + (1 << self.shift)]
            .iter()
            .enumerate()
        {
            acc += c;
            if acc > rank {
                return (start + i) as u32;
            }
        }
        unreachable!("the coarse bin holds the median")
    }
}

/// Median by selection in each window; for float images with too many distinct levels
/// for a histogram. The cost grows with r².
fn selection_median(values: &[f32], w: usize, h: usize, r: usize, out: &mut [f32]) {
    let ri = r as isize;
    for_row_bands(out, w, |y0, rows| {
        let mut window = Vec::with_capacity((2 * r + 1) * (2 * r + 1));
        for (i, row) in rows.chunks_mut(w).enumerate() {
            let y = y0 + i;
            for (x, o) in row.iter_mut().enumerate() {
                window.clear();
                for dy in -ri..=ri {
                    let base = reflect(y as isize + dy, h) * w;
                    for dx in -ri..=ri {
                        window.push(values[base + reflect(x as isize + dx, w)]);
                    }
                }
                let mid = window.len() / 2;
                let (_, m, _) = window.select_nth_unstable_by(mid, f32::total_cmp);
                *o = *m;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_values(w: usize, h: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..w * h)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
                (s >> 40) as f32 / 7.0 - 1000.0
            })
            .collect()
    }

    #[test]
    fn selection_and_histogram_medians_agree() {
        let (w, h) = (19, 75);
        let values = random_values(w, h, 12345);
        let mut levels = values.clone();
        levels.sort_unstable_by(f32::total_cmp);
        levels.dedup();
        let ranks: Vec<u32> = values
            .iter()
            .map(|v| levels.partition_point(|l| l < v) as u32)
            .collect();
        for r in [1, 3, 9] {
            let mut by_hist = vec![0f32; w * h];
            histogram_median(&ranks, w, h, r, 11, &mut by_hist, |i| levels[i as usize]);
            let mut by_selection = vec![0f32; w * h];
            selection_median(&values, w, h, r, &mut by_selection);
            assert_eq!(by_hist, by_selection, "r = {r}");
        }
    }

    #[test]
    fn network_and_selection_medians_agree() {
        // Wider than a lane pass and taller than a band, with ties (few levels).
        for (w, h) in [(150, 70), (3, 2), (1, 1)] {
            let values: Vec<f32> = random_values(w, h, 99)
                .into_iter()
                .map(|v| (v / 50.0).round())
                .collect();
            for r in 1..=NETWORK_MAX_RADIUS {
                let mut by_network = vec![0f32; w * h];
                float_median(&values, w, h, r, &mut by_network);
                let mut by_selection = vec![0f32; w * h];
                selection_median(&values, w, h, r, &mut by_selection);
                assert_eq!(by_network, by_selection, "{w}x{h} r = {r}");
            }
        }
    }

    #[test]
    fn float_keys_sort_like_their_floats() {
        let mut floats = vec![
            f32::MIN,
            -1e30,
            -2.5,
            -1.0,
            -f32::MIN_POSITIVE,
            -1e-40,
            -0.0,
            0.0,
            1e-40,
            f32::MIN_POSITIVE,
            0.1,
            1.0,
            255.0,
            1e30,
            f32::MAX,
        ];
        floats.extend(random_values(40, 1, 7));
        for &a in &floats {
            assert_eq!(f32::from(FloatKey::from(a)).to_bits(), a.to_bits());
            for &b in &floats {
                assert_eq!(
                    FloatKey::from(a).cmp(&FloatKey::from(b)),
                    a.total_cmp(&b),
                    "{a} vs {b}"
                );
            }
        }
    }

    macro_rules! listed {
        (; $($lo:literal $hi:literal $keep:ident),* $(,)?) => {
            vec![$(($lo, $hi, stringify!($keep))),*]
        };
    }

    #[test]
    fn written_networks_are_the_built_ones() {
        let name = |k: Keep| match k {
            Keep::Both => "B",
            Keep::Min => "m",
            Keep::Max => "M",
        };
        for (n, written, wire) in [
            (9, network_9!(listed!()), 4),
            (25, network_25!(listed!()), 12),
        ] {
            let (out, built) = median_network(n);
            let built: Vec<(usize, usize, &str)> =
                built.iter().map(|c| (c.lo, c.hi, name(c.keep))).collect();
            assert_eq!((out, built), (wire, written), "median of {n}");
        }
    }

    /// By the 0–1 principle a comparator network selects the median of every input
    /// if it does for every input of zeros and ones; 64 inputs per word.
    #[test]
    fn median_networks_select_the_median_of_every_binary_input() {
        for side in [3usize, 5] {
            let n = side * side;
            let (out, network) = median_network(n);
            for base in (0u64..1 << n).step_by(64) {
                // Bit b of wire i is bit i of the input base + b (base is a multiple of 64).
                let mut wires: Vec<u64> = (0..n)
                    .map(|i| match i {
                        0..6 => (0..64).fold(0, |acc, b| acc | ((b >> i) & 1) << b),
                        _ if (base >> i) & 1 == 1 => !0,
                        _ => 0,
                    })
                    .collect();
                for op in &network {
                    let (u, v) = (wires[op.lo], wires[op.hi]);
                    if op.keep != Keep::Max {
                        wires[op.lo] = u & v;
                    }
                    if op.keep != Keep::Min {
                        wires[op.hi] = u | v;
                    }
                }
                let expected = (0..64).fold(0u64, |acc, b| {
                    let ones = (base + b).count_ones() as usize;
                    acc | ((ones > n / 2) as u64) << b
                });
                assert_eq!(wires[out], expected, "side {side}, inputs from {base}");
            }
        }
    }
}
