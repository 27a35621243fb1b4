//! Median filter.

use super::*;
use crate::error::{Error, Result};
use crate::image::pixels::{GrayImage, ImageView, Pixels};

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

/// Median filter. 8- and 16-bit images, and any image with at most 65 536 distinct
/// grey levels, use a sliding two-level histogram (Huang's algorithm with a coarse
/// histogram on top), so the cost per pixel grows with the radius, not its square.
/// Float images with more distinct levels fall back to a selection window.
pub fn median(view: &ImageView, params: &MedianParams) -> Result<GrayImage> {
    params.validate()?;
    view.ensure_finite()?;
    let (w, h, r) = (view.width(), view.height(), params.radius);
    let data = match view.pixels() {
        Pixels::Gray8(p) => {
            let ranks: Vec<u32> = p.iter().map(|&v| v as u32).collect();
            let out = histogram_median(&ranks, w, h, r, 8);
            out.into_iter().map(|v| v as f32).collect()
        }
        Pixels::Gray16(p) => {
            let ranks: Vec<u32> = p.iter().map(|&v| v as u32).collect();
            let out = histogram_median(&ranks, w, h, r, 16);
            out.into_iter().map(|v| v as f32).collect()
        }
        Pixels::Gray32(_) | Pixels::PackedRgb(_) => {
            let values = gray_values(view);
            let mut levels = values.clone();
            levels.sort_unstable_by(f32::total_cmp);
            levels.dedup();
            if levels.len() <= 1 << 16 {
                let ranks: Vec<u32> = values
                    .iter()
                    .map(|v| levels.partition_point(|l| l < v) as u32)
                    .collect();
                let bits = (usize::BITS - (levels.len() - 1).leading_zeros()).max(2);
                let out = histogram_median(&ranks, w, h, r, bits);
                out.into_iter().map(|i| levels[i as usize]).collect()
            } else {
                selection_median(&values, w, h, r)
            }
        }
    };
    Ok(GrayImage {
        width: w,
        height: h,
        data,
    })
}

/// Sliding-window median on integer levels `0..2^bits`, visiting pixels in a snake
/// order so each step only swaps one column (or row) of 2r+1 values in and out.
fn histogram_median(levels: &[u32], w: usize, h: usize, r: usize, bits: u32) -> Vec<u32> {
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
        row(&mut hist, 0, dy, true);
    }
    let mut out = vec![0u32; w * h];
    let mut x: isize = 0;
    for y in 0..h as isize {
        let forward = y % 2 == 0;
        loop {
            out[y as usize * w + x as usize] = hist.select(rank);
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
        if y + 1 < h as isize {
            row(&mut hist, x, y - ri, false);
            row(&mut hist, x, y + ri + 1, true);
        }
    }
    out
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
fn selection_median(values: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let ri = r as isize;
    let mut window = Vec::with_capacity((2 * r + 1) * (2 * r + 1));
    let mut out = vec![0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            window.clear();
            for dy in -ri..=ri {
                let base = reflect(y as isize + dy, h) * w;
                for dx in -ri..=ri {
                    window.push(values[base + reflect(x as isize + dx, w)]);
                }
            }
            let mid = window.len() / 2;
            let (_, m, _) = window.select_nth_unstable_by(mid, f32::total_cmp);
            out[y * w + x] = *m;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_and_histogram_medians_agree() {
        let (w, h) = (19, 13);
        let mut s = 12345u64;
        let values: Vec<f32> = (0..w * h)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
                (s >> 40) as f32 / 7.0 - 1000.0
            })
            .collect();
        let mut levels = values.clone();
        levels.sort_unstable_by(f32::total_cmp);
        levels.dedup();
        let ranks: Vec<u32> = values
            .iter()
            .map(|v| levels.partition_point(|l| l < v) as u32)
            .collect();
        for r in [1, 3, 9] {
            let by_hist: Vec<f32> = histogram_median(&ranks, w, h, r, 9)
                .into_iter()
                .map(|i| levels[i as usize])
                .collect();
            assert_eq!(by_hist, selection_median(&values, w, h, r), "r = {r}");
        }
    }
}
