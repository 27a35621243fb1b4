//! Blending the tiles' maps into one image-sized map.

use super::*;

/// Overlap-weighted blending of per-tile maps into one map per class. Each tile's map is
/// sampled bilinearly at the map cells whose centres it covers and weighted by a tent
/// that falls from the tile centre to its border, so overlapping tiles fade into each
/// other; dividing by the summed weights makes a constant input give a constant map.
pub struct Stitcher {
    scale: usize,
    width: usize,
    height: usize,
    classes: usize,
    pub(super) sums: Vec<f32>,
    weights: Vec<f32>,
}

/// For one map cell inside a tile: the two source indices, the weight of the second
/// and the blending weight.
type Tap = (usize, usize, f32, f32);

impl Stitcher {
    pub fn new(scale: usize, width: usize, height: usize, classes: usize) -> Self {
        Self {
            scale,
            width,
            height,
            classes,
            sums: vec![0.0; classes * width * height],
            weights: vec![0.0; width * height],
        }
    }

    /// Adds a tile over `region` whose maps (`classes` planes of `map_w`×`map_h`) cover it.
    pub fn add(&mut self, region: Region, maps: &[f32], map_w: usize, map_h: usize) {
        let (first_x, x_taps) = self.taps(region.x, region.width, map_w, self.width);
        let (first_y, y_taps) = self.taps(region.y, region.height, map_h, self.height);
        let plane = map_w * map_h;
        for (dy, &(y0, y1, fy, wy)) in y_taps.iter().enumerate() {
            let row = (first_y + dy) * self.width + first_x;
            for (dx, &(x0, x1, fx, wx)) in x_taps.iter().enumerate() {
                let weight = wy * wx;
                let cell = row + dx;
                self.weights[cell] += weight;
                for class in 0..self.classes {
                    let m = &maps[class * plane..][..plane];
                    let top = m[y0 * map_w + x0] + (m[y0 * map_w + x1] - m[y0 * map_w + x0]) * fx;
                    let bottom =
                        m[y1 * map_w + x0] + (m[y1 * map_w + x1] - m[y1 * map_w + x0]) * fx;
                    let value = top + (bottom - top) * fy;
                    self.sums[class * self.width * self.height + cell] += weight * value;
                }
            }
        }
    }

    /// Map cells whose centres fall in `start..start + extent` pixels, with their taps.
    pub(super) fn taps(
        &self,
        start: usize,
        extent: usize,
        source: usize,
        cells: usize,
    ) -> (usize, Vec<Tap>) {
        let scale = self.scale as f64;
        let first = ((start as f64 / scale - 0.5).ceil().max(0.0) as usize).min(cells);
        let end = ((((start + extent) as f64) / scale - 0.5).ceil().max(0.0) as usize).min(cells);
        let half = extent as f64 / 2.0;
        let taps = (first..end)
            .map(|cell| {
                let inside = (cell as f64 + 0.5) * scale - start as f64;
                let pos =
                    (inside / extent as f64 * source as f64 - 0.5).clamp(0.0, (source - 1) as f64);
                let i0 = pos.floor() as usize;
                let i1 = (i0 + 1).min(source - 1);
                let tent = (inside.min(extent as f64 - inside) / half) as f32;
                (i0, i1, (pos - i0 as f64) as f32, tent.max(MIN_BLEND_WEIGHT))
            })
            .collect();
        (first, taps)
    }

    /// The blended map of `class`, normalised to [0, 1] by its maximum.
    pub fn finish(&self, class: usize) -> Vec<f32> {
        let cells = self.width * self.height;
        let mut map: Vec<f32> = self.sums[class * cells..][..cells]
            .iter()
            .zip(&self.weights)
            .map(|(&s, &w)| if w > 0.0 { s / w } else { 0.0 })
            .collect();
        cam::normalise(&mut map);
        map
    }
}
