//! CLAHE's second pass: each pixel's value from the four tile tables around it.

use super::*;

/// One output row of CLAHE: each pixel's value from the four tile tables around it.
pub(super) struct MappedRow<'a, O> {
    /// The tables of the tile row above and below (tiles × `k` entries each).
    pub(super) top: &'a [u16],
    pub(super) bottom: &'a [u16],
    pub(super) k: usize,
    /// Column spans with their left and right tables' offsets.
    pub(super) spans: &'a [(std::ops::Range<usize>, usize, usize)],
    pub(super) left_weights: &'a [f32],
    pub(super) right_weights: &'a [f32],
    pub(super) bottom_weight: f32,
    pub(super) indices: Indices<'a>,
    pub(super) out: &'a mut [O],
}

/// Each pixel's table index in a row of CLAHE.
pub(super) enum Indices<'a> {
    /// Ranks among the levels present (below 65 536).
    Ranks(&'a [u16]),
    /// Byte indices, with the tables as byte planes for the byte-table kernel.
    Bytes(ByteTables<'a>),
}

/// A row's byte indices and the tables above and below it as planes of low and high
/// bytes, 256 entries a tile.
#[derive(Clone, Copy)]
pub(super) struct ByteTables<'a> {
    pub(super) row: &'a [u8],
    pub(super) top: [&'a [u8]; 2],
    pub(super) bottom: [&'a [u8]; 2],
    /// Entries per tile of the float tables (the spans' offsets count in those).
    pub(super) k: usize,
    /// Whether the tables hold more than 8 bits (the high-byte plane is used).
    pub(super) wide: bool,
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
