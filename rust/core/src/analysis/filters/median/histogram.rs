//! Median by sliding histogram (any radius, integer levels) and by selection (floats
//! with too many distinct levels for a histogram).

use super::super::{for_row_bands, reflect, Sample};

/// Sliding-window median on integer levels `0..2^bits`, visiting pixels in a snake
/// order so each step only swaps one column (or row) of 2r+1 values in and out.
/// `value` maps a level to the grey value written to `out`.
pub(super) fn histogram_median<O: Sample>(
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
pub(super) fn selection_median(values: &[f32], w: usize, h: usize, r: usize, out: &mut [f32]) {
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
    use crate::analysis::filters::median::tests::random_values;

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
}
