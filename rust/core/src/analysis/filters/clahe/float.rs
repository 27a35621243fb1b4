//! CLAHE of float images: their values mapped linearly onto 16-bit levels and back.

use super::*;

/// Float images: mapped linearly from their min–max onto 16 bits and back, both maps
/// in row bands over the threads. Fails on NaN or infinite values.
pub(super) fn clahe_float(
    p: &[f32],
    w: usize,
    h: usize,
    params: &ClaheParams,
    out: &mut [f32],
) -> Result<()> {
    match FloatIndices::of(p, w, h)? {
        Some(indices) => indices.clahe(params, out),
        None => out.copy_from_slice(p),
    }
    Ok(())
}

/// [`clahe_float`] written over its input: the tables and the output are computed from
/// the image's levels or offsets, held apart from it.
pub(super) fn clahe_float_in_place(
    data: &mut [f32],
    w: usize,
    h: usize,
    params: &ClaheParams,
) -> Result<()> {
    if let Some(indices) = FloatIndices::of(data, w, h)? {
        indices.clahe(params, data);
    }
    Ok(())
}

/// A float image's values as [`clahe_float`]'s 16-bit levels, `(v − lo) × scale`
/// rounded, or as byte offsets from a whole minimum, which stand for those levels.
struct FloatIndices {
    w: usize,
    h: usize,
    lo: f64,
    scale: f64,
    kind: IndexKind,
}

enum IndexKind {
    Levels(Vec<u16>),
    /// Offsets from the minimum, with the level of every offset up to the maximum.
    Offsets(Vec<u8>, Vec<u32>),
}

impl FloatIndices {
    /// `None` for an image of one value (which CLAHE leaves as it is).
    fn of(p: &[f32], w: usize, h: usize) -> Result<Option<Self>> {
        let (lo, hi) = ImageView::new(w, h, Pixels::Gray32(p))?.finite_range()?;
        if hi <= lo {
            return Ok(None);
        }
        let (lo, scale) = (lo as f64, 65535.0 / (hi as f64 - lo as f64));
        // Whole-number offsets from a whole minimum are exact in f32 (all below 2²⁴).
        let whole_span =
            lo.fract() == 0.0 && lo.abs() <= (1 << 23) as f64 && hi as f64 - lo <= 255.0;
        let kind = match whole_span
            .then(|| whole_number_offsets(p, w, lo, scale))
            .flatten()
        {
            Some(offsets) => offsets,
            None => IndexKind::Levels(levels(p, w, lo, scale)),
        };
        Ok(Some(Self {
            w,
            h,
            lo,
            scale,
            kind,
        }))
    }

    /// CLAHE of the levels, as grey values in `out`.
    fn clahe(&self, params: &ClaheParams, out: &mut [f32]) {
        let (w, h) = (self.w, self.h);
        match &self.kind {
            IndexKind::Levels(levels) => clahe_wide(levels, w, h, params, out),
            IndexKind::Offsets(offsets, levels) => {
                clahe_byte_ranks(offsets, levels, w, h, params, out)
            }
        }
        for_row_bands(out, w, |_, rows| {
            super::simd::dispatch(LevelsToFloats {
                values: rows,
                lo: self.lo,
                step: 1.0 / self.scale,
            })
        });
    }
}

/// The 16-bit levels of float grey values.
fn levels(p: &[f32], w: usize, lo: f64, scale: f64) -> Vec<u16> {
    let mut levels = vec![0u16; p.len()];
    for_row_bands(&mut levels, w, |y0, rows| {
        super::simd::dispatch(FloatsToLevels {
            values: &p[y0 * w..][..rows.len()],
            levels: rows,
            lo,
            scale,
        })
    });
    levels
}

/// For an image of whole numbers spanning at most 255 from a whole minimum `lo` (an
/// 8-bit image as ImageJ converts it to 32-bit), each value's offset from the minimum as
/// its byte index, with the levels of every offset up to the maximum; `None` when a
/// value is not a whole number. Absent offsets count nothing, so the tables at the
/// present ones are those of the levels: this saves the passes that map to 16 bits
/// and find the levels present.
fn whole_number_offsets(p: &[f32], w: usize, lo: f64, scale: f64) -> Option<IndexKind> {
    let spoilt = std::sync::atomic::AtomicBool::new(false);
    let mut offsets = vec![0u8; p.len()];
    for_row_bands(&mut offsets, w, |y0, rows| {
        let whole = super::simd::dispatch(FloatsToOffsets {
            values: &p[y0 * w..][..rows.len()],
            offsets: rows,
            lo: lo as f32,
        });
        if !whole {
            spoilt.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    });
    if spoilt.into_inner() {
        return None;
    }
    // The levels FloatsToLevels gives each whole number from the minimum to the maximum.
    let span = (65535.0 / scale).round() as u32;
    let levels = (0..=span)
        .map(|d| ((d as f64 * scale + 0.5).min(65535.0)) as u32)
        .collect();
    Some(IndexKind::Offsets(offsets, levels))
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
        let mut whole = true;
        for (o, &v) in self.offsets.iter_mut().zip(self.values) {
            let d = v - self.lo;
            let (is_whole, bits) = whole_number_bits(d);
            whole &= is_whole & (d <= 255.0);
            *o = bits as u8;
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
            // SAFETY: v and lo are finite ([`FloatIndices::of`] checks the image first) and
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

#[cfg(test)]
mod tests {
    use super::*;

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
                let offsets = whole_number_offsets(&values, w, lo, scale);
                assert_eq!(offsets.is_some(), !spoil, "span {span} from {offset}");
                if let Some(kind) = offsets {
                    let indices = |kind| FloatIndices {
                        w,
                        h,
                        lo,
                        scale,
                        kind,
                    };
                    let mut fast = vec![0f32; w * h];
                    indices(kind).clahe(&params, &mut fast);
                    let mut general = vec![0f32; w * h];
                    let levels = IndexKind::Levels(levels(&values, w, lo, scale));
                    indices(levels).clahe(&params, &mut general);
                    assert_eq!(fast, general, "span {span} from {offset}");
                }
            }
        }
    }
}
