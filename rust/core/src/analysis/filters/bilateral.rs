//! Bilateral filter.

use super::*;
use crate::error::{Error, Result};
use crate::image::pixels::{
    GrayImage, ImageView, OwnedImage, OwnedPixels, Pixels, MAX_GRAY_MAGNITUDE,
};

/// Edge-preserving bilateral filter: each pixel becomes the average of its neighbours
/// weighted by spatial closeness and by similarity of grey value, so noise is smoothed
/// without blurring particle boundaries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BilateralParams {
    /// Spatial standard deviation in pixels; the window is a disc of radius ⌈2σ⌉.
    pub spatial_sigma: f64,
    /// Range standard deviation in the image's grey units (0–255 for 8-bit).
    pub range_sigma: f64,
}

impl BilateralParams {
    /// Spatial σ when none is given, in pixels.
    pub const DEFAULT_SPATIAL_SIGMA: f64 = 2.0;
    /// Range σ when none is given, as a fraction of the image's grey range.
    pub const DEFAULT_RANGE_FRACTION: f64 = 0.1;

    /// The defaults for `view`: range σ a tenth of its grey range (1 for a constant
    /// image, which any range σ leaves unchanged).
    pub fn default_for(view: &ImageView) -> Self {
        let (lo, hi) = view.unit_range();
        let range = f64::from(hi - lo);
        Self {
            spatial_sigma: Self::DEFAULT_SPATIAL_SIGMA,
            range_sigma: if range > 0.0 {
                Self::DEFAULT_RANGE_FRACTION * range
            } else {
                1.0
            },
        }
    }

    pub fn validate(&self) -> Result<()> {
        check_finite("bilateral spatial sigma", self.spatial_sigma)?;
        check_finite("bilateral range sigma", self.range_sigma)?;
        if self.spatial_sigma <= 0.0 || self.spatial_sigma > MAX_BILATERAL_SIGMA {
            return Err(Error::invalid(format!(
                "bilateral spatial sigma must be greater than 0 and at most \
                 {MAX_BILATERAL_SIGMA} pixels, got {}",
                self.spatial_sigma
            )));
        }
        if self.range_sigma <= 0.0 {
            return Err(Error::invalid(format!(
                "bilateral range sigma must be greater than 0 (grey units), got {}",
                self.range_sigma
            )));
        }
        Ok(())
    }

    /// Window radius: ⌈2σ⌉, at least 1.
    pub fn radius(&self) -> usize {
        ((2.0 * self.spatial_sigma).ceil() as usize).max(1)
    }
}

/// Pixels filtered together by one pass over the window, one per lane.
const LANES: usize = 16;

/// Output rows per band: each band reads its rows and `r` more above and below, so
/// taller bands waste less on those halos; 64 keeps a 2048-wide band's padded rows
/// (≈ 0.6 MB) in L2 cache.
const BILATERAL_BAND_ROWS: usize = 64;

/// Bilateral filter over a disc of radius ⌈2σ_s⌉ (as OpenCV's `bilateralFilter` with
/// `d = 2⌈2σ_s⌉ + 1` and `BORDER_REFLECT`). Each weight is
/// exp(−s²/2σ_s² − Δ²/2σ_r²) computed as one power of two ([`exp2`], relative error
/// below 3e-6), so 8-, 16- and 32-bit images share one vectorised kernel with no table
/// lookups (written for AVX-512 where the CPU has it, else left to the compiler). Rows
/// are split into bands across threads, each reading its own padded rows.
pub fn bilateral(view: &ImageView, params: &BilateralParams) -> Result<GrayImage> {
    let mut data = vec![0f32; view.width() * view.height()];
    bilateral_into(view, params, &mut data)?;
    Ok(GrayImage {
        width: view.width(),
        height: view.height(),
        data,
    })
}

/// [`bilateral`] written in the input's depth (8-bit and RGB → 8-bit, 16 → 16, rounded
/// half to even as OpenCV rounds; 32 → 32) without a float image in between.
pub fn bilateral_same_depth(view: &ImageView, params: &BilateralParams) -> Result<OwnedImage> {
    let (w, h) = (view.width(), view.height());
    Ok(match view.pixels() {
        Pixels::Gray8(_) | Pixels::PackedRgb(_) => {
            let mut out = vec![0u8; w * h];
            bilateral_into(view, params, &mut out)?;
            owned(w, h, out, OwnedPixels::Gray8)
        }
        Pixels::Gray16(_) => {
            let mut out = vec![0u16; w * h];
            bilateral_into(view, params, &mut out)?;
            owned(w, h, out, OwnedPixels::Gray16)
        }
        Pixels::Gray32(_) => {
            let mut out = vec![0f32; w * h];
            bilateral_into(view, params, &mut out)?;
            owned(w, h, out, OwnedPixels::Gray32)
        }
    })
}

fn bilateral_into<O: Sample>(
    view: &ImageView,
    params: &BilateralParams,
    out: &mut [O],
) -> Result<()> {
    params.validate()?;
    let (lo, hi) = view.finite_range()?;
    let w = view.width();
    let r = params.radius();
    let ri = r as isize;
    let pw = w + 2 * r + 2 * LANES;
    // Weights are powers of two: 2^(space − (k·Δ)²) with the grey values scaled by
    // k = √(log₂e / 2σ_r²) as they are read, so a tap's exponent is one fused multiply-add.
    let log2e = std::f64::consts::LOG2_E;
    let space_coeff = -0.5 / (params.spatial_sigma * params.spatial_sigma) * log2e;
    let scale = (0.5 * log2e).sqrt() / params.range_sigma;
    // Scaled grey values, their differences and k itself must stay finite in f32 (a
    // range σ of 1e-40 would otherwise turn the image into NaN, or black at 8 bits).
    let largest_value = lo.abs().max(hi.abs());
    let magnitude = f64::from(largest_value).max(1.0);
    let largest = f64::from(MAX_GRAY_MAGNITUDE);
    if scale * magnitude > largest {
        return Err(Error::invalid(format!(
            "bilateral range sigma {:.3e} is too small for grey values up to \
             {largest_value:.3e} in 32-bit arithmetic; use at least {:.1e}",
            params.range_sigma,
            1.01 * (0.5 * log2e).sqrt() * magnitude / largest
        )));
    }
    // (offset in the padded rows, spatial exponent + ½ as `exp2` takes it) for the disc.
    let mut taps: Vec<(usize, f32)> = Vec::new();
    for dy in -ri..=ri {
        for dx in -ri..=ri {
            let d2 = dx * dx + dy * dy;
            if d2 <= ri * ri {
                let offset = ((dy + ri) as usize) * pw + (dx + ri) as usize;
                taps.push((offset, (d2 as f64 * space_coeff + 0.5) as f32));
            }
        }
    }
    // The exponent needs clamping only where the image's grey range can take it below
    // −EXP2_FLOOR (see `exp2`); the default range σ never does.
    let widest = f64::from(hi - lo) * scale;
    let lowest = ri as f64 * ri as f64 * space_coeff - widest * widest;
    let clamp = lowest <= -f64::from(EXP2_FLOOR);
    for_row_bands_with(BILATERAL_BAND_ROWS, out, w, Vec::new, |y0, rows, padded| {
        let n = rows.len() / w;
        padded_gray_rows(view, y0, n, r, 2 * LANES, padded);
        padded.iter_mut().for_each(|v| *v *= scale as f32);
        let kernel = BilateralRows {
            padded,
            pw,
            r,
            taps: &taps,
            unscale: 1.0 / scale as f32,
            rows,
            w,
        };
        if clamp {
            super::simd::dispatch(Clamped(kernel))
        } else {
            super::simd::dispatch(kernel)
        }
    });
    Ok(())
}

/// Output rows of [`bilateral`] from their padded, scaled input rows.
struct BilateralRows<'a, O> {
    padded: &'a [f32],
    pw: usize,
    r: usize,
    taps: &'a [(usize, f32)],
    /// 1 / the scale applied to the grey values.
    unscale: f32,
    rows: &'a mut [O],
    w: usize,
}

impl<O: Sample> BilateralRows<'_, O> {
    #[inline(always)]
    fn filter<const CLAMP: bool>(self, fma: bool) {
        let Self {
            padded,
            pw,
            r,
            taps,
            unscale,
            rows,
            w,
        } = self;
        for (y, out_row) in rows.chunks_mut(w).enumerate() {
            let top = y * pw;
            for x0 in (0..w).step_by(LANES) {
                let centre: [f32; LANES] = padded[top + r * pw + r + x0..][..LANES]
                    .try_into()
                    .expect("lanes");
                let mut num = [0f32; LANES];
                let mut den = [0f32; LANES];
                for &(offset, space) in taps {
                    let src = &padded[top + offset + x0..][..LANES];
                    for l in 0..LANES {
                        let d = src[l] - centre[l];
                        let mut e = mul_add(-d, d, space, fma);
                        if CLAMP {
                            e = e.max(-EXP2_FLOOR);
                        }
                        let weight = exp2(e, fma);
                        num[l] = mul_add(weight, src[l], num[l], fma);
                        den[l] += weight;
                    }
                }
                let n = (w - x0).min(LANES);
                for (l, o) in out_row[x0..x0 + n].iter_mut().enumerate() {
                    *o = O::from_f32(num[l] / den[l] * unscale);
                }
            }
        }
    }
}

impl<O: Sample> super::simd::Kernel for BilateralRows<'_, O> {
    type Output = ();

    #[inline(always)]
    fn run(self, fma: bool) {
        self.filter::<false>(fma)
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn run_avx512(self) {
        // SAFETY: the caller runs this only where AVX-512 was detected.
        unsafe { self.filter_avx512::<false>() }
    }
}

#[cfg(target_arch = "x86_64")]
impl<O: Sample> BilateralRows<'_, O> {
    /// [`Self::filter`] with AVX-512's `vreduceps` (the fraction above the floor) and
    /// `vscalefps` (× 2^floor) in place of [`exp2`]'s bit manipulation: the same
    /// polynomial, so the same weights to within f32 rounding, in six instructions.
    ///
    /// # Safety
    /// Only where AVX-512F and AVX-512DQ are available.
    #[inline(always)]
    unsafe fn filter_avx512<const CLAMP: bool>(self) {
        use std::arch::x86_64::*;
        let Self {
            padded,
            pw,
            r,
            taps,
            unscale,
            rows,
            w,
        } = self;
        // vreduceps: keep no fraction bits, round down, no precision exception.
        const FRACTION: i32 = _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC;
        let c = EXP2_POLY.map(|v| _mm512_set1_ps(v));
        let floor = _mm512_set1_ps(-EXP2_FLOOR);
        let unscale = _mm512_set1_ps(unscale);
        let last_tap = taps.last().map_or(0, |t| t.0);
        let mut quotient = [0f32; 2 * LANES];
        for (y, out_row) in rows.chunks_mut(w).enumerate() {
            let top = y * pw;
            // Two vectors of LANES pixels per pass, so each tap's loop overhead is shared.
            for x0 in (0..w).step_by(2 * LANES) {
                // Every load below lies inside `padded`: rows end in 2·LANES padding
                // values, and this checks the farthest one.
                assert!(top + last_tap + x0 + 2 * LANES <= padded.len());
                // SAFETY: in bounds, as just checked.
                let at = |offset: usize| unsafe {
                    _mm512_loadu_ps(padded.as_ptr().add(top + x0 + offset))
                };
                let centre = [0, LANES].map(|l| at(r * pw + r + l));
                let mut num = [_mm512_setzero_ps(); 2];
                let mut den = [_mm512_setzero_ps(); 2];
                for &(offset, space) in taps {
                    let space = _mm512_set1_ps(space);
                    for g in 0..2 {
                        let src = at(offset + g * LANES);
                        let d = _mm512_sub_ps(src, centre[g]);
                        let mut e = _mm512_fnmadd_ps(d, d, space);
                        if CLAMP {
                            e = _mm512_max_ps(e, floor);
                        }
                        let f = _mm512_reduce_ps::<FRACTION>(e);
                        let mut p = c[4];
                        for &ci in c[..4].iter().rev() {
                            p = _mm512_fmadd_ps(p, f, ci);
                        }
                        let weight = _mm512_scalef_ps(p, e);
                        num[g] = _mm512_fmadd_ps(weight, src, num[g]);
                        den[g] = _mm512_add_ps(den[g], weight);
                    }
                }
                for g in 0..2 {
                    let q = _mm512_mul_ps(_mm512_div_ps(num[g], den[g]), unscale);
                    _mm512_storeu_ps(quotient.as_mut_ptr().add(g * LANES), q);
                }
                let n = (w - x0).min(2 * LANES);
                for (o, &q) in out_row[x0..x0 + n].iter_mut().zip(&quotient) {
                    *o = O::from_f32(q);
                }
            }
        }
    }
}

/// [`BilateralRows`] for images whose grey range can drive a weight's exponent below
/// −[`EXP2_FLOOR`].
struct Clamped<'a, O>(BilateralRows<'a, O>);

impl<O: Sample> super::simd::Kernel for Clamped<'_, O> {
    type Output = ();

    #[inline(always)]
    fn run(self, fma: bool) {
        self.0.filter::<true>(fma)
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn run_avx512(self) {
        // SAFETY: the caller runs this only where AVX-512 was detected.
        unsafe { self.0.filter_avx512::<true>() }
    }
}

/// a·b + c, fused where the CPU has FMA (a library call otherwise, so not used there).
#[inline(always)]
fn mul_add(a: f32, b: f32, c: f32, fma: bool) -> f32 {
    if fma {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// Coefficients of 2^(g − ½) on 0 ≤ g < 1, degree 4, fitted for least maximum relative
/// error (2.7e-6: a weight that far off moves an 8-bit result by under 0.001 grey
/// levels).
const EXP2_POLY: [f32; 5] = [
    0.707_108_6,
    0.490_027_73,
    0.170_725_81,
    0.036_777_66,
    0.009_570_101,
];

/// Exponents are clamped to −[`EXP2_FLOOR`] where they can go lower, so 2^n stays a
/// normal number (a weight of 2e-38, i.e. none).
const EXP2_FLOOR: f32 = 125.0;

/// 2^(e − ½) for −125 ≤ e ≤ ½ without a table or branch, so it vectorises: e = n + g
/// with n = ⌊e⌋ and 0 ≤ g < 1; 2^(g − ½) by [`EXP2_POLY`] and 2^n written into the
/// exponent bits. (The ½ lets AVX-512's `vscalefps`, which multiplies by 2^⌊e⌋, take
/// the same exponent; callers add it to the spatial term.) Below −126 the exponent bits
/// would wrap: callers clamp where that can happen.
#[inline(always)]
fn exp2(e: f32, fma: bool) -> f32 {
    let n = e.floor();
    let g = e - n;
    let mut p = EXP2_POLY[4];
    for &c in EXP2_POLY[..4].iter().rev() {
        p = mul_add(p, g, c, fma);
    }
    p * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp2_matches_std_on_the_used_range() {
        for fma in [false, true] {
            if fma && !super::super::simd::has_fma() {
                continue;
            }
            for i in 0..=125_500 {
                let e = 0.5 - (i as f32) / 1000.0;
                let want = (e as f64 - 0.5).exp2();
                let got = exp2(e, fma) as f64;
                assert!((got - want).abs() <= 3e-6 * want, "{e}: {got} vs {want}");
            }
        }
    }

    /// The portable kernel and the AVX-512 one give the same result on a noisy image
    /// (each alone is checked against OpenCV in tests/filters.rs, but only one of them
    /// runs there on a given CPU).
    #[test]
    fn portable_and_avx512_kernels_agree() {
        #[cfg(target_arch = "x86_64")]
        {
            use crate::image::pixels::Pixels;
            if !super::super::simd::has_avx512() {
                return;
            }
            let (w, h, r) = (45, 23, 4);
            let values: Vec<u8> = (0..w * h).map(|i| ((i * 7919) % 251) as u8).collect();
            let view = ImageView::new(w, h, Pixels::Gray8(&values)).unwrap();
            let pw = w + 2 * r + 2 * LANES;
            let mut padded = Vec::new();
            padded_gray_rows(&view, 0, h, r, 2 * LANES, &mut padded);
            // Grey differences of a few units, so weights span the whole exponent range.
            padded.iter_mut().for_each(|v| *v *= 0.05);
            let taps: Vec<(usize, f32)> = (0..=2 * r)
                .flat_map(|dy| {
                    (0..=2 * r).map(move |dx| (dy * pw + dx, -((dx + dy) as f32) / 8.0 + 0.5))
                })
                .collect();
            let run = |avx512: bool| {
                let mut out = vec![0f32; w * h];
                let kernel = BilateralRows {
                    padded: &padded,
                    pw,
                    r,
                    taps: &taps,
                    unscale: 1.0,
                    rows: &mut out,
                    w,
                };
                if avx512 {
                    // SAFETY: AVX-512 was detected above.
                    unsafe { kernel.filter_avx512::<true>() }
                } else {
                    kernel.filter::<true>(false)
                }
                out
            };
            for (a, b) in run(false).iter().zip(run(true)) {
                assert!((a - b).abs() <= 1e-4 * a.abs().max(1.0), "{a} vs {b}");
            }
        }
    }
}
