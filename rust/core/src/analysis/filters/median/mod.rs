//! Median filter: selection networks for 3×3 and 5×5 windows ([`network`]), sliding
//! histograms for larger ones ([`histogram`]).

mod histogram;
mod network;

use super::*;
use crate::error::{Error, Result};
use crate::image::pixels::{GrayImage, ImageView, OwnedImage, OwnedPixels, Pixels};
use histogram::{histogram_median, selection_median};
use network::{network_median, network_median_in_place, NETWORK_MAX_RADIUS};

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
    let (w, h, r) = (view.width(), view.height(), params.radius);
    let mut data = vec![0f32; w * h];
    match view.pixels() {
        Pixels::Gray8(p) => level_median(p, w, h, r, &mut data),
        Pixels::Gray16(p) => level_median(p, w, h, r, &mut data),
        Pixels::Gray32(p) => float_median(p, w, h, r, &mut data)?,
        Pixels::PackedRgb(_) => float_median(&gray_values(view), w, h, r, &mut data)?,
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
            float_median(p, w, h, r, &mut out)?;
            owned(w, h, out, OwnedPixels::Gray32)
        }
    })
}

/// [`median_same_depth`] written over `image`. Grey images with a 3×3 or 5×5 window are
/// filtered in their own buffer: no second image is allocated, and the pages of a fresh
/// one are not mapped and zeroed (for a 2048 × 1536 float image that cost as much as the
/// median). Other images are replaced by [`median_same_depth`]'s result. On an error the
/// image is left as it was.
pub fn median_in_place(image: &mut OwnedImage, params: &MedianParams) -> Result<()> {
    params.validate()?;
    let (w, h, r) = (image.width, image.height, params.radius);
    match (&mut image.pixels, r <= NETWORK_MAX_RADIUS) {
        (OwnedPixels::Gray8(p), true) => network_median_in_place::<u8, u8>(p, w, r),
        (OwnedPixels::Gray16(p), true) => network_median_in_place::<u16, u16>(p, w, r),
        (OwnedPixels::Gray32(p), true) => match float_keys(p, w, h, r)? {
            FloatKeys::Bytes => network_median_in_place::<f32, ByteOfFloat>(p, w, r),
            FloatKeys::Words => network_median_in_place::<f32, WordOfFloat>(p, w, r),
            FloatKeys::Floats => network_median_in_place::<f32, FloatKey>(p, w, r),
            FloatKeys::NoNetwork => unreachable!("radius within the network's"),
        },
        _ => *image = median_same_depth(&image.view(), params)?,
    }
    Ok(())
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

/// The keys a float image's median network compares.
enum FloatKeys {
    /// Whole numbers in 0..=255.
    Bytes,
    /// Whole numbers in 0..=65 535.
    Words,
    /// Any finite values.
    Floats,
    /// The window is larger than a network's.
    NoNetwork,
}

/// Which keys a float median compares; fails on NaN or infinite values. Small windows of
/// whole numbers within 8- or 16-bit range (an 8- or 16-bit image as ImageJ converts it
/// to 32-bit) run the network on byte or word keys: a median is one of its values, so
/// narrower keys give the same result at the narrower type's speed (a register holds
/// four times as many bytes as floats).
fn float_keys(values: &[f32], w: usize, h: usize, r: usize) -> Result<FloatKeys> {
    let whole_max = (r <= NETWORK_MAX_RADIUS)
        .then(|| whole_number_ceiling(values))
        .flatten();
    if whole_max.is_none() {
        // Whole numbers within 16 bits are finite; anything else is checked.
        ImageView::new(w, h, Pixels::Gray32(values))?.ensure_finite()?;
    }
    Ok(match whole_max {
        Some(max) if max <= u8::MAX as f32 => FloatKeys::Bytes,
        Some(_) => FloatKeys::Words,
        None if r <= NETWORK_MAX_RADIUS => FloatKeys::Floats,
        None => FloatKeys::NoNetwork,
    })
}

/// Median of float grey values: by a network on [`float_keys`], or by ranks of distinct
/// levels or selection for larger windows.
fn float_median(values: &[f32], w: usize, h: usize, r: usize, out: &mut [f32]) -> Result<()> {
    match float_keys(values, w, h, r)? {
        FloatKeys::Bytes => network_median::<f32, ByteOfFloat, f32>(values, w, h, r, out),
        FloatKeys::Words => network_median::<f32, WordOfFloat, f32>(values, w, h, r, out),
        FloatKeys::Floats => network_median::<f32, FloatKey, f32>(values, w, h, r, out),
        FloatKeys::NoNetwork => wide_float_median(values, w, h, r, out),
    }
    Ok(())
}

/// [`float_median`] for radii beyond the network's.
fn wide_float_median(values: &[f32], w: usize, h: usize, r: usize, out: &mut [f32]) {
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
// Pixel types the network compares

/// A pixel type the network compares; `lo`/`hi` compile to vector min/max.
trait Lane: Copy + Default + Send + Sync {
    fn lo(a: Self, b: Self) -> Self;
    fn hi(a: Self, b: Self) -> Self;

    /// [`Lane::lo`] of `L` lanes as one instruction where they fill an AVX-512 (64-byte)
    /// or AVX2 (32-byte) register, lane by lane otherwise. The compiler's vectorisation
    /// of the lane loop fully unrolls it first and, for 16 and 32 lanes, rebuilds some
    /// of it as scalar compare-and-moves and shuffles.
    ///
    /// # Safety
    /// Only where the CPU has the instructions for the width: AVX-512 F and BW for 64
    /// bytes, AVX2 for 32.
    #[cfg(target_arch = "x86_64")]
    unsafe fn lo_registers<const L: usize>(a: [Self; L], b: [Self; L]) -> [Self; L];

    /// [`Lane::hi`] as [`Lane::lo_registers`].
    ///
    /// # Safety
    /// As [`Lane::lo_registers`].
    #[cfg(target_arch = "x86_64")]
    unsafe fn hi_registers<const L: usize>(a: [Self; L], b: [Self; L]) -> [Self; L];
}

/// `$lane` of the arrays `$a` and `$b` of `L` lanes: `$op512` or `$op256` on them as one
/// register where they fill one, else lane by lane.
#[cfg(target_arch = "x86_64")]
macro_rules! on_registers {
    ($a:ident, $b:ident, $op512:ident, $op256:ident, $lane:path) => {{
        use std::arch::x86_64::{$op256, $op512};
        use std::mem::{size_of_val, transmute_copy};
        // SAFETY: each transmute is between types of the same size (the branch checks
        // the array's); the caller guarantees the instructions for that size.
        unsafe {
            match size_of_val(&$a) {
                64 => transmute_copy(&$op512(transmute_copy(&$a), transmute_copy(&$b))),
                32 => transmute_copy(&$op256(transmute_copy(&$a), transmute_copy(&$b))),
                _ => {
                    let mut out = $a;
                    for (o, (&x, &y)) in out.iter_mut().zip($a.iter().zip(&$b)) {
                        *o = $lane(x, y);
                    }
                    out
                }
            }
        }
    }};
}

/// Integer lanes: `Ord`'s min and max, with the AVX-512 and AVX2 min and max
/// instructions for the lane type.
macro_rules! integer_lane {
    ($($t:ty: $min512:ident $max512:ident $min256:ident $max256:ident),* $(,)?) => {$(
        impl Lane for $t {
            #[inline(always)]
            fn lo(a: Self, b: Self) -> Self {
                a.min(b)
            }
            #[inline(always)]
            fn hi(a: Self, b: Self) -> Self {
                a.max(b)
            }
            #[cfg(target_arch = "x86_64")]
            #[inline(always)]
            unsafe fn lo_registers<const L: usize>(a: [Self; L], b: [Self; L]) -> [Self; L] {
                on_registers!(a, b, $min512, $min256, Self::lo)
            }
            #[cfg(target_arch = "x86_64")]
            #[inline(always)]
            unsafe fn hi_registers<const L: usize>(a: [Self; L], b: [Self; L]) -> [Self; L] {
                on_registers!(a, b, $max512, $max256, Self::hi)
            }
        }
    )*};
}

integer_lane!(
    u8: _mm512_min_epu8 _mm512_max_epu8 _mm256_min_epu8 _mm256_max_epu8,
    u16: _mm512_min_epu16 _mm512_max_epu16 _mm256_min_epu16 _mm256_max_epu16,
    ByteOfFloat: _mm512_min_epu8 _mm512_max_epu8 _mm256_min_epu8 _mm256_max_epu8,
    WordOfFloat: _mm512_min_epu16 _mm512_max_epu16 _mm256_min_epu16 _mm256_max_epu16,
    FloatKey: _mm512_min_epi32 _mm512_max_epi32 _mm256_min_epi32 _mm256_max_epi32,
);

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

/// [`WholeNumberCeiling`] of all `values`, in blocks across threads.
fn whole_number_ceiling(values: &[f32]) -> Option<f32> {
    let blocks: Vec<&[f32]> = values.chunks(1 << 18).collect();
    let threads = crate::parallel::thread_count(0);
    crate::parallel::par_blocks(
        blocks,
        threads,
        || (),
        |_, values, _| super::simd::dispatch(WholeNumberCeiling { values }),
    )
    .into_iter()
    .try_fold(0f32, |max, block| Some(max.max(block?)))
}

/// The largest value when every value is a whole number in 0..=65 535, else `None`
/// (also for NaN and infinities): one branch-free pass per block, so that it vectorises.
struct WholeNumberCeiling<'a> {
    values: &'a [f32],
}

impl super::simd::Kernel for WholeNumberCeiling<'_> {
    type Output = Option<f32>;

    #[inline(always)]
    fn run(self, _fma: bool) -> Option<f32> {
        const LANES: usize = 16;
        // Bits of a non-negative float order like its value, and −0, NaN and negative
        // values have bits above those of 65 535.
        const LIMIT: u32 = 65_535f32.to_bits();
        let whole = |v: f32| (v.to_bits() <= LIMIT) & super::whole_number_bits(v).0;
        let mut max = [0f32; LANES];
        // Blocks, so that an image of other values is left early.
        for block in self.values.chunks(1 << 12) {
            let mut ok = [true; LANES];
            let chunks = block.chunks_exact(LANES);
            let rest = chunks.remainder();
            for chunk in chunks {
                for i in 0..LANES {
                    ok[i] &= whole(chunk[i]);
                    max[i] = max[i].max(chunk[i]);
                }
            }
            if !(ok.iter().all(|&o| o) && rest.iter().all(|&v| whole(v))) {
                return None;
            }
            max[0] = rest.iter().fold(max[0], |m, &v| m.max(v));
        }
        Some(max.iter().fold(0f32, |m, &v| m.max(v)))
    }
}

/// A whole number in 0..=255 held as a float, as its byte (see [`float_median`]).
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
#[repr(transparent)]
struct ByteOfFloat(u8);

impl From<f32> for ByteOfFloat {
    #[inline(always)]
    fn from(v: f32) -> Self {
        Self(super::whole_number_bits(v).1 as u8)
    }
}

impl From<ByteOfFloat> for f32 {
    #[inline(always)]
    fn from(k: ByteOfFloat) -> Self {
        k.0 as f32
    }
}

/// A whole number in 0..=65 535 held as a float, as its 16 bits (see [`float_median`]).
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
#[repr(transparent)]
struct WordOfFloat(u16);

impl From<f32> for WordOfFloat {
    #[inline(always)]
    fn from(v: f32) -> Self {
        Self(super::whole_number_bits(v).1 as u16)
    }
}

impl From<WordOfFloat> for f32 {
    #[inline(always)]
    fn from(k: WordOfFloat) -> Self {
        k.0 as f32
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

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn random_values(w: usize, h: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..w * h)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
                (s >> 40) as f32 / 7.0 - 1000.0
            })
            .collect()
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
                float_median(&values, w, h, r, &mut by_network).unwrap();
                let mut by_selection = vec![0f32; w * h];
                selection_median(&values, w, h, r, &mut by_selection);
                assert_eq!(by_network, by_selection, "{w}x{h} r = {r}");
            }
        }
    }

    /// Every key type, with widths across a 5×5 strip (512 float keys with AVX-512,
    /// 2 048 bytes) and odd heights across a band, with ties.
    #[test]
    fn network_medians_of_every_depth_equal_selection() {
        for (w, h) in [(2100, 37), (600, 5), (5, 1), (2, 3)] {
            let values: Vec<f32> = random_values(w, h, 7)
                .into_iter()
                .map(|v| (v / 8.0).rem_euclid(256.0).floor())
                .collect();
            for r in 1..=NETWORK_MAX_RADIUS {
                let mut expected = vec![0f32; w * h];
                selection_median(&values, w, h, r, &mut expected);
                let bytes: Vec<u8> = values.iter().map(|&v| v as u8).collect();
                let mut by_bytes = vec![0f32; w * h];
                level_median(&bytes, w, h, r, &mut by_bytes);
                assert_eq!(by_bytes, expected, "8-bit {w}x{h} r = {r}");
                let words: Vec<u16> = values.iter().map(|&v| v as u16 * 257).collect();
                let mut by_words = vec![0f32; w * h];
                level_median(&words, w, h, r, &mut by_words);
                let expected_words: Vec<f32> = expected.iter().map(|v| v * 257.0).collect();
                assert_eq!(by_words, expected_words, "16-bit {w}x{h} r = {r}");
                let mut by_floats = vec![0f32; w * h];
                float_median(&values, w, h, r, &mut by_floats).unwrap();
                assert_eq!(by_floats, expected, "32-bit {w}x{h} r = {r}");
                // The same whole numbers beyond a byte (word keys) and with one half
                // among them (float keys).
                let mut wide: Vec<f32> = values.iter().map(|v| v * 257.0).collect();
                let mut by_wide = vec![0f32; w * h];
                float_median(&wide, w, h, r, &mut by_wide).unwrap();
                assert_eq!(by_wide, expected_words, "32-bit × 257 {w}x{h} r = {r}");
                wide[0] = 0.5;
                let mut expected_wide = vec![0f32; w * h];
                selection_median(&wide, w, h, r, &mut expected_wide);
                float_median(&wide, w, h, r, &mut by_wide).unwrap();
                assert_eq!(by_wide, expected_wide, "32-bit with a half {w}x{h} r = {r}");
            }
        }
    }

    /// In place equals the copying filter for every pixel type and key, across bands
    /// (odd heights, several bands per thread), tiny images and the histogram's radii.
    #[test]
    fn in_place_medians_equal_the_copying_ones() {
        for (w, h) in [(2100, 37), (90, 301), (7, 65), (5, 1), (2, 3)] {
            let values = random_values(w, h, 11);
            let bytes: Vec<f32> = values.iter().map(|v| v.rem_euclid(256.0).floor()).collect();
            let images = [
                OwnedPixels::Gray8(bytes.iter().map(|&v| v as u8).collect()),
                OwnedPixels::Gray16(
                    values
                        .iter()
                        .map(|v| (v * 37.0).rem_euclid(65_536.0) as u16)
                        .collect(),
                ),
                OwnedPixels::Gray32(bytes.clone()),
                OwnedPixels::Gray32(bytes.iter().map(|v| v * 257.0).collect()),
                OwnedPixels::Gray32(values.clone()),
                OwnedPixels::PackedRgb(values.iter().map(|v| v.to_bits() & 0xff_ffff).collect()),
            ];
            for pixels in images {
                let image = OwnedImage {
                    width: w,
                    height: h,
                    pixels,
                };
                for radius in 1..=3 {
                    let params = MedianParams { radius };
                    let expected = median_same_depth(&image.view(), &params).unwrap();
                    let mut in_place = image.clone();
                    median_in_place(&mut in_place, &params).unwrap();
                    assert_eq!(in_place.pixels, expected.pixels, "{w}×{h} r = {radius}");
                }
            }
        }
        let mut with_nan = OwnedImage {
            width: 3,
            height: 3,
            pixels: OwnedPixels::Gray32(vec![f32::NAN; 9]),
        };
        assert!(median_in_place(&mut with_nan, &MedianParams::default()).is_err());
        assert!(matches!(&with_nan.pixels, OwnedPixels::Gray32(p) if p.iter().all(|v| v.is_nan())));
    }

    #[test]
    fn whole_numbers_within_16_bits_are_recognised() {
        let ramp: Vec<f32> = (0..1000).map(|i| (i % 256) as f32).collect();
        assert_eq!(whole_number_ceiling(&ramp), Some(255.0));
        assert_eq!(whole_number_ceiling(&[]), Some(0.0));
        let mut values: Vec<f32> = (0..5000).map(|i| (i * 13) as f32).collect();
        assert_eq!(whole_number_ceiling(&values), Some(64_987.0));
        // Several blocks across threads, the largest value and a spoiler in the last.
        let mut many: Vec<f32> = (0..600_000).map(|i| (i % 1000) as f32).collect();
        many[550_000] = 60_000.0;
        assert_eq!(whole_number_ceiling(&many), Some(60_000.0));
        many[590_000] = 0.25;
        assert_eq!(whole_number_ceiling(&many), None);
        // Each spoiler, in a full block of lanes and in the remainder.
        for spoiler in [
            0.5,
            -1.0,
            -0.0,
            65_536.0,
            1e9,
            f32::NAN,
            f32::INFINITY,
            3.000_001,
        ] {
            for at in [17, 4999] {
                let kept = std::mem::replace(&mut values[at], spoiler);
                assert_eq!(whole_number_ceiling(&values), None, "{spoiler} at {at}");
                values[at] = kept;
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
}
