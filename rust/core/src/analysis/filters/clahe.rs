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

/// CLAHE on integer levels `0..bins`. Tile histograms are built in parallel, then the
/// bilinear mapping runs in row bands.
fn clahe_levels<T: Copy + Into<u32> + Sync, O: Sample>(
    levels: &[T],
    w: usize,
    h: usize,
    bins: usize,
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
    let total = tw * th;
    let lut_scale = (bins - 1) as f32 / total as f32;
    let clip = ((p.clip_limit * total as f64 / bins as f64) as i64).max(1) as u32;
    let max_level = (bins - 1) as f32;
    let tile_luts = crate::parallel::par_blocks(
        (0..tx * ty).collect(),
        crate::parallel::thread_count(0),
        || (vec![0u32; bins], vec![0u32; 4 * bins.min(256)]),
        |_, t, (hist, quad)| {
            let (cx, cy) = (t % tx, t / tx);
            hist.fill(0);
            let cols = &columns[cx * tw..(cx + 1) * tw];
            let small = bins <= 256;
            if small {
                quad.fill(0);
            }
            for y in cy * th..(cy + 1) * th {
                let row = &levels[reflect101(y, h) * w..][..w];
                if cx * tw + tw <= w && small {
                    // Four histograms in turn, so runs of equal neighbours do not wait
                    // on each other's increments.
                    let span = &row[cx * tw..cx * tw + tw];
                    let mut quads = span.chunks_exact(4);
                    for q in &mut quads {
                        for (k, &v) in q.iter().enumerate() {
                            quad[k * bins + v.into() as usize] += 1;
                        }
                    }
                    for &v in quads.remainder() {
                        hist[v.into() as usize] += 1;
                    }
                } else if cx * tw + tw <= w {
                    for &v in &row[cx * tw..cx * tw + tw] {
                        hist[v.into() as usize] += 1;
                    }
                } else {
                    for &x in cols {
                        hist[row[x].into() as usize] += 1;
                    }
                }
            }
            if small {
                for (i, c) in hist.iter_mut().enumerate() {
                    *c += quad[i] + quad[bins + i] + quad[2 * bins + i] + quad[3 * bins + i];
                }
            }
            let mut clipped = 0u32;
            for c in hist.iter_mut() {
                if *c > clip {
                    clipped += *c - clip;
                    *c = clip;
                }
            }
            let batch = clipped / bins as u32;
            let mut residual = clipped as usize - batch as usize * bins;
            for c in hist.iter_mut() {
                *c += batch;
            }
            if let Some(step) = bins.checked_div(residual) {
                let step = step.max(1);
                let mut i = 0;
                while i < bins && residual > 0 {
                    hist[i] += 1;
                    i += step;
                    residual -= 1;
                }
            }
            // Whole grey levels, as u16 so that the 8-bit tables stay in L1 cache.
            let mut lut = vec![0u16; bins];
            let mut sum = 0u32;
            for (l, &c) in lut.iter_mut().zip(hist.iter()) {
                sum += c;
                // Round half to even as OpenCV does.
                *l = round_half_even(sum as f32 * lut_scale).min(max_level) as u16;
            }
            lut
        },
    );
    let luts: Vec<u16> = tile_luts.concat();
    let (inv_tw, inv_th) = (1.0 / tw as f32, 1.0 / th as f32);
    // Per column: offsets of the left and right tiles' tables, and the right weight.
    let cols: Vec<(usize, usize, f32)> = (0..w)
        .map(|x| {
            let txf = x as f32 * inv_tw - 0.5;
            let t1 = txf.floor();
            let a = txf - t1;
            let t1 = t1 as isize;
            let lo = t1.max(0) as usize;
            let hi = ((t1 + 1) as usize).min(tx - 1);
            (lo * bins, hi * bins, a)
        })
        .collect();
    for_row_bands(out, w, |y0, rows| {
        for (i, out_row) in rows.chunks_mut(w).enumerate() {
            let y = y0 + i;
            let tyf = y as f32 * inv_th - 0.5;
            let t1 = tyf.floor();
            let ya = tyf - t1;
            let t1 = t1 as isize;
            let top_row = &luts[t1.max(0) as usize * tx * bins..][..tx * bins];
            let bottom_row = &luts[((t1 + 1) as usize).min(ty - 1) * tx * bins..][..tx * bins];
            for ((o, &v), &(c1, c2, xa)) in out_row.iter_mut().zip(&levels[y * w..]).zip(&cols) {
                let v = v.into() as usize;
                let l = |table: &[u16], c: usize| table[c + v] as f32;
                let top = l(top_row, c1) * (1.0 - xa) + l(top_row, c2) * xa;
                let bottom = l(bottom_row, c1) * (1.0 - xa) + l(bottom_row, c2) * xa;
                *o = O::from_f32(top * (1.0 - ya) + bottom * ya);
            }
        }
    });
}
