//! Background subtraction with a rolling paraboloid.

use super::*;
use crate::error::{Error, Result};
use crate::image::pixels::{GrayImage, ImageView, Pixels};

/// Background subtraction with a *rolling paraboloid*: the background is the grey-level
/// opening of the image by the paraboloid z = −(dx² + dy²)/(2R), the osculating
/// paraboloid of ImageJ's rolling ball of radius R (grey units counted as pixels, as
/// ImageJ does). Unlike a ball the paraboloid is separable, so the opening is exact and
/// costs O(pixels) for any radius (Felzenszwalb–Huttenlocher lower envelopes). No
/// shrinking and no pre-smoothing are applied, unlike ImageJ's default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackgroundParams {
    /// Radius R of the ball the paraboloid approximates, in pixels; use a value larger
    /// than the largest object that is not background.
    pub radius: f64,
    /// Objects darker than a light background: the background is the closing instead
    /// of the opening, and the result is offset so the background becomes white.
    pub light_background: bool,
}

impl Default for BackgroundParams {
    fn default() -> Self {
        Self {
            radius: 50.0,
            light_background: false,
        }
    }
}

impl BackgroundParams {
    pub fn validate(&self) -> Result<()> {
        check_finite("background radius", self.radius)?;
        if self.radius <= 0.0 || self.radius > MAX_BACKGROUND_RADIUS {
            return Err(Error::invalid(format!(
                "background radius must be greater than 0 and at most \
                 {MAX_BACKGROUND_RADIUS} pixels, got {}",
                self.radius
            )));
        }
        Ok(())
    }
}

/// The background estimated by the rolling paraboloid (see [`BackgroundParams`]).
pub fn background(view: &ImageView, params: &BackgroundParams) -> Result<GrayImage> {
    params.validate()?;
    view.ensure_finite()?;
    let (w, h) = (view.width(), view.height());
    let mut data: Vec<f64> = gray_values(view).into_iter().map(f64::from).collect();
    let sign = if params.light_background { -1.0 } else { 1.0 };
    let c = 1.0 / (2.0 * params.radius);
    // Opening = erosion then dilation; dilation(f) = −erosion(−f). A closing flips signs.
    data.iter_mut().for_each(|v| *v *= sign);
    erode_parabolic(&mut data, w, h, c);
    data.iter_mut().for_each(|v| *v = -*v);
    erode_parabolic(&mut data, w, h, c);
    Ok(GrayImage {
        width: w,
        height: h,
        data: data.into_iter().map(|v| (-sign * v) as f32).collect(),
    })
}

/// Image minus its rolling-paraboloid background. For a dark background the result is
/// ≥ 0; for a light background it is offset so the background sits at white (255 for
/// 8-bit and RGB, 65 535 for 16-bit, the image maximum for 32-bit).
pub fn subtract_background(view: &ImageView, params: &BackgroundParams) -> Result<GrayImage> {
    let bg = background(view, params)?;
    let values = gray_values(view);
    let offset = if params.light_background {
        match view.pixels() {
            Pixels::Gray8(_) | Pixels::PackedRgb(_) => 255.0,
            Pixels::Gray16(_) => 65535.0,
            Pixels::Gray32(_) => view.unit_range().1,
        }
    } else {
        0.0
    };
    let data = values
        .iter()
        .zip(&bg.data)
        .map(|(&v, &b)| v - b + offset)
        .collect();
    Ok(GrayImage { data, ..bg })
}

/// In place: f(p) ← min_q f(q) + c·|p − q|², separably along rows then columns.
fn erode_parabolic(data: &mut [f64], w: usize, h: usize, c: f64) {
    let n = w.max(h);
    let mut env = LowerEnvelope::new(n);
    let mut line = vec![0f64; n];
    for y in 0..h {
        let row = &mut data[y * w..(y + 1) * w];
        line[..w].copy_from_slice(row);
        env.apply(&line[..w], row, c);
    }
    let mut col = vec![0f64; h];
    for x in 0..w {
        for y in 0..h {
            line[y] = data[y * w + x];
        }
        env.apply(&line[..h], &mut col, c);
        for y in 0..h {
            data[y * w + x] = col[y];
        }
    }
}

/// Lower envelope of parabolas c·(x − q)² + f(q) (Felzenszwalb & Huttenlocher 2012).
struct LowerEnvelope {
    vertex: Vec<usize>,
    bound: Vec<f64>,
}

impl LowerEnvelope {
    fn new(n: usize) -> Self {
        Self {
            vertex: vec![0; n],
            bound: vec![0.0; n + 1],
        }
    }

    fn apply(&mut self, f: &[f64], out: &mut [f64], c: f64) {
        let n = f.len();
        // Work with g = f / c so the parabolas are (x − q)² + g(q).
        let g = |q: usize| f[q] / c;
        let cross = |q: usize, p: usize| -> f64 {
            ((g(q) + (q * q) as f64) - (g(p) + (p * p) as f64)) / (2.0 * (q as f64 - p as f64))
        };
        let mut k = 0usize;
        self.vertex[0] = 0;
        self.bound[0] = f64::NEG_INFINITY;
        self.bound[1] = f64::INFINITY;
        for q in 1..n {
            let mut s = cross(q, self.vertex[k]);
            while s <= self.bound[k] {
                k -= 1;
                s = cross(q, self.vertex[k]);
            }
            k += 1;
            self.vertex[k] = q;
            self.bound[k] = s;
            self.bound[k + 1] = f64::INFINITY;
        }
        k = 0;
        for (x, o) in out.iter_mut().enumerate() {
            while self.bound[k + 1] < x as f64 {
                k += 1;
            }
            let q = self.vertex[k];
            let d = x as f64 - q as f64;
            *o = f[q] + c * d * d;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_envelope_matches_brute_force() {
        let f = [3.0, 0.5, 7.0, 2.0, 2.0, 9.0, -1.0];
        let mut env = LowerEnvelope::new(f.len());
        let mut out = [0.0; 7];
        env.apply(&f, &mut out, 0.3);
        for (x, &o) in out.iter().enumerate() {
            let brute = (0..f.len())
                .map(|q| f[q] + 0.3 * ((x as f64 - q as f64).powi(2)))
                .fold(f64::INFINITY, f64::min);
            assert!((o - brute).abs() < 1e-12, "{x}: {o} vs {brute}");
        }
    }
}
