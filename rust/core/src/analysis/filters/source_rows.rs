//! Where a neighbourhood filter's row band reads its source rows: the input image, or,
//! when the filter writes over its input, the band's own rows (read before they are
//! overwritten) and copies of the rows around the band, taken before any band writes.
//!
//! Filtering in place saves allocating the output. For a fresh multi-megabyte buffer
//! that is not only memory: the kernel maps and zeroes every page on first touch, which
//! on a 2048 × 1536 float image cost about as much as a 5×5 median itself.

use super::{for_row_bands_of, reflect};

/// Source rows for the band of output rows from `y0`.
pub(crate) trait SourceRows<T, O>: Sync {
    /// Source row `y`, which may lie outside the image (read reflected at its edges);
    /// `band` is the band's output rows, which in place are also its source rows.
    fn row<'s>(&'s self, y: isize, band: &'s [O]) -> &'s [T];
}

/// Rows of a separate input image.
pub(crate) struct ImageRows<'a, T> {
    pub(crate) pixels: &'a [T],
    pub(crate) w: usize,
    pub(crate) h: usize,
}

impl<T: Sync, O> SourceRows<T, O> for ImageRows<'_, T> {
    #[inline]
    fn row<'s>(&'s self, y: isize, _band: &'s [O]) -> &'s [T] {
        &self.pixels[reflect(y, self.h) * self.w..][..self.w]
    }
}

/// Rows of a band filtered in place: its own rows from the band itself, the `reach`
/// rows on either side from copies.
pub(crate) struct InPlaceRows<'a, T> {
    w: usize,
    reach: usize,
    y0: usize,
    y1: usize,
    /// The rows `y0 − reach..y0`, then `y1..y1 + reach`, each as it was before filtering.
    halo: &'a [T],
}

impl<T: Sync> SourceRows<T, T> for InPlaceRows<'_, T> {
    #[inline]
    fn row<'s>(&'s self, y: isize, band: &'s [T]) -> &'s [T] {
        let (y0, y1, reach) = (self.y0 as isize, self.y1 as isize, self.reach as isize);
        let copy = if y < y0 {
            y - (y0 - reach)
        } else if y >= y1 {
            reach + y - y1
        } else {
            return &band[(y - y0) as usize * self.w..][..self.w];
        };
        &self.halo[copy as usize * self.w..][..self.w]
    }
}

/// Runs `band(y0, rows, source)` on bands of `data` (a `w`-pixel-wide image) in parallel,
/// each band overwriting its own rows. `source` reads the image as it was before any
/// band wrote, for windows reaching `reach` rows above and below an output row,
/// provided each band reads a source row of its own before it writes that row.
pub(crate) fn for_row_bands_in_place<T: Copy + Send + Sync>(
    data: &mut [T],
    w: usize,
    reach: usize,
    band: impl Fn(usize, &mut [T], &InPlaceRows<T>) + Sync,
) {
    if data.is_empty() {
        return;
    }
    let h = data.len() / w;
    // Bands several times the thread count, so that threads stay busy, but tall, so
    // that the copied rows stay a small part of the image.
    let threads = crate::parallel::thread_count(0);
    let band_rows = h.div_ceil(8 * threads).max(32).next_multiple_of(2);
    let bands = h.div_ceil(band_rows);
    let mut halo = Vec::with_capacity(bands * 2 * reach * w);
    for b in 0..bands {
        let (y0, y1) = (b * band_rows, ((b + 1) * band_rows).min(h));
        let above = (y0 as isize - reach as isize)..y0 as isize;
        let below = y1 as isize..(y1 + reach) as isize;
        for y in above.chain(below) {
            halo.extend_from_slice(&data[reflect(y, h) * w..][..w]);
        }
    }
    for_row_bands_of(band_rows, data, w, |y0, rows| {
        let b = y0 / band_rows;
        let source = InPlaceRows {
            w,
            reach,
            y0,
            y1: y0 + rows.len() / w,
            halo: &halo[b * 2 * reach * w..][..2 * reach * w],
        };
        band(y0, rows, &source)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each band copies its rows, then writes over them with a 3-row window sum of the
    /// original: equal to the sum computed from a separate input.
    #[test]
    fn in_place_bands_read_the_image_as_it_was() {
        for (w, h) in [(3, 1), (5, 2), (4, 33), (7, 100), (2, 700)] {
            let original: Vec<u32> = (0..w * h).map(|i| (i * 7919 % 1000) as u32).collect();
            let sum_of = |source: &dyn Fn(isize) -> Vec<u32>, y: usize| -> Vec<u32> {
                let rows = [
                    source(y as isize - 1),
                    source(y as isize),
                    source(y as isize + 1),
                ];
                (0..w).map(|x| rows.iter().map(|r| r[x]).sum()).collect()
            };
            let image = ImageRows {
                pixels: &original,
                w,
                h,
            };
            let expected: Vec<u32> = (0..h)
                .flat_map(|y| sum_of(&|v| SourceRows::<u32, u32>::row(&image, v, &[]).to_vec(), y))
                .collect();
            let mut data = original.clone();
            for_row_bands_in_place(&mut data, w, 1, |y0, rows, source| {
                let n = rows.len() / w;
                // Read one row ahead of the write, as a sliding kernel does.
                let mut window: Vec<Vec<u32>> = (-1..1)
                    .map(|d| source.row(y0 as isize + d, rows).to_vec())
                    .collect();
                for i in 0..n {
                    window.push(source.row((y0 + i + 1) as isize, rows).to_vec());
                    let sum: Vec<u32> = (0..w).map(|x| window.iter().map(|r| r[x]).sum()).collect();
                    rows[i * w..(i + 1) * w].copy_from_slice(&sum);
                    window.remove(0);
                }
            });
            assert_eq!(data, expected, "{w}×{h}");
        }
    }
}
