//! Scene description (height field, material, mask) and secondary-electron shading;
//! the capsule canvas that growth models draw into.

use super::noise::blur;
use super::rng::Rng;

// ---------------------------------------------------------------------------------------
// Scene description and shading
// ---------------------------------------------------------------------------------------

pub(super) struct Ctx {
    pub(super) w: usize,
    pub(super) h: usize,
    /// Reference length for feature sizes: sqrt(w × h) × feature scale.
    pub(super) scale: f32,
}

/// How the height field turns into brightness.
pub(super) struct Shading {
    /// Weight of secondary-electron edge brightening (yield rising with surface tilt).
    pub(super) edge: f32,
    /// Gain on 1 − cos θ (θ the surface tilt) before edge brightening saturates at 1.
    pub(super) edge_clamp: f32,
    /// Weight of directional (detector-side, Lambert-like) shading.
    pub(super) directional: f32,
    /// Unit direction towards the detector in the image plane.
    pub(super) light: [f32; 2],
    /// Darkening of crevices (height below its local average).
    pub(super) cavity: f32,
    /// Length scale in pixels of the local average used for cavities.
    pub(super) cavity_sigma: f32,
}

impl Shading {
    pub(super) fn random(
        rng: &mut Rng,
        edge: (f32, f32),
        directional: (f32, f32),
        cavity: f32,
    ) -> Self {
        let a = rng.angle();
        Shading {
            edge: rng.range(edge.0, edge.1),
            edge_clamp: rng.range(1.0, 2.0),
            directional: rng.range(directional.0, directional.1),
            light: [a.cos(), a.sin()],
            cavity,
            cavity_sigma: 4.0,
        }
    }
}

pub(super) struct Scene {
    /// Surface height in pixels.
    pub(super) height: Vec<f32>,
    /// Intrinsic brightness (composition, channelling contrast), about [0, 1].
    pub(super) material: Vec<f32>,
    pub(super) mask: Vec<bool>,
    pub(super) shading: Shading,
}

pub(super) fn shade(scene: &Scene, w: usize, h: usize) -> Vec<f32> {
    let s = &scene.shading;
    let z = &scene.height;
    let smooth_z = if s.cavity > 0.0 {
        let mut b = z.clone();
        blur(&mut b, w, h, s.cavity_sigma);
        Some(b)
    } else {
        None
    };
    let mut out = vec![0.0f32; w * h];
    for y in 0..h {
        let ym = y.saturating_sub(1);
        let yp = (y + 1).min(h - 1);
        let dy = (yp - ym).max(1) as f32;
        for x in 0..w {
            let xm = x.saturating_sub(1);
            let xp = (x + 1).min(w - 1);
            let dx = (xp - xm).max(1) as f32;
            let i = y * w + x;
            let gx = (z[y * w + xp] - z[y * w + xm]) / dx;
            let gy = (z[yp * w + x] - z[ym * w + x]) / dy;
            let sec = (1.0 + gx * gx + gy * gy).sqrt();
            // Secondary-electron yield rises with tilt θ: 1 − cos θ, saturating.
            let edge = ((1.0 - 1.0 / sec) * s.edge_clamp).min(1.0);
            let facing = -(gx * s.light[0] + gy * s.light[1]) / sec;
            let mut v = scene.material[i] * (1.0 + s.directional * facing) + s.edge * edge;
            if let Some(b) = &smooth_z {
                let depth = ((b[i] - z[i]) / s.cavity_sigma).clamp(0.0, 1.0);
                v -= s.cavity * depth;
            }
            out[i] = v;
        }
    }
    out
}

/// A height field being drawn into by stamping rounded capsules.
pub(super) struct Canvas {
    pub(super) w: usize,
    pub(super) h: usize,
    pub(super) z: Vec<f32>,
}

impl Canvas {
    pub(super) fn new(w: usize, h: usize) -> Self {
        Self {
            w,
            h,
            z: vec![0.0; w * h],
        }
    }

    /// Max-blends a tapered capsule from `a` (radius `ra`) to `b` (radius `rb`) whose
    /// cross-section is an ellipse of height `zscale × radius` sitting on `base`.
    pub(super) fn capsule(
        &mut self,
        a: [f32; 2],
        ra: f32,
        b: [f32; 2],
        rb: f32,
        zscale: f32,
        base: f32,
    ) {
        let rmax = ra.max(rb);
        let x0 = (a[0].min(b[0]) - rmax).floor().max(0.0) as usize;
        let y0 = (a[1].min(b[1]) - rmax).floor().max(0.0) as usize;
        let x1 = (a[0].max(b[0]) + rmax).ceil().min(self.w as f32 - 1.0);
        let y1 = (a[1].max(b[1]) + rmax).ceil().min(self.h as f32 - 1.0);
        if x1 < 0.0 || y1 < 0.0 || x0 as f32 > x1 || y0 as f32 > y1 {
            return;
        }
        let (x1, y1) = (x1 as usize, y1 as usize);
        let d = [b[0] - a[0], b[1] - a[1]];
        let len2 = d[0] * d[0] + d[1] * d[1];
        let inv = if len2 > 1e-12 { 1.0 / len2 } else { 0.0 };
        for y in y0..=y1 {
            let py = y as f32 - a[1];
            let row = &mut self.z[y * self.w..(y + 1) * self.w];
            for (x, cell) in row.iter_mut().enumerate().take(x1 + 1).skip(x0) {
                let px = x as f32 - a[0];
                let t = ((px * d[0] + py * d[1]) * inv).clamp(0.0, 1.0);
                let ex = px - t * d[0];
                let ey = py - t * d[1];
                let r = ra + t * (rb - ra);
                let q = r * r - (ex * ex + ey * ey);
                if q > 0.0 {
                    let v = base + zscale * q.sqrt();
                    if v > *cell {
                        *cell = v;
                    }
                }
            }
        }
    }

    /// Max-blends a grain of radius `r` centred on `c`: a dome, or with `facet` = Some(angle)
    /// a square pyramid turned by that angle, whose flat sides shade like crystal facets.
    pub(super) fn grain(&mut self, c: [f32; 2], r: f32, zscale: f32, facet: Option<f32>) {
        let Some(angle) = facet else {
            self.capsule(c, r, c, r, zscale, 0.0);
            return;
        };
        let (sin, cos) = angle.sin_cos();
        // A pyramid's corners reach r·√2 from the centre.
        let reach = r * std::f32::consts::SQRT_2;
        let x0 = (c[0] - reach).floor().max(0.0) as usize;
        let y0 = (c[1] - reach).floor().max(0.0) as usize;
        let x1 = (c[0] + reach).ceil().min(self.w as f32 - 1.0);
        let y1 = (c[1] + reach).ceil().min(self.h as f32 - 1.0);
        if x1 < 0.0 || y1 < 0.0 || x0 as f32 > x1 || y0 as f32 > y1 {
            return;
        }
        for y in y0..=y1 as usize {
            let dy = y as f32 - c[1];
            let row = &mut self.z[y * self.w..(y + 1) * self.w];
            for (x, cell) in row.iter_mut().enumerate().take(x1 as usize + 1).skip(x0) {
                let dx = x as f32 - c[0];
                let u = (cos * dx + sin * dy).abs();
                let v = (-sin * dx + cos * dy).abs();
                let q = r - u.max(v);
                if q > 0.0 {
                    let z = zscale * q;
                    if z > *cell {
                        *cell = z;
                    }
                }
            }
        }
    }

    pub(super) fn coverage(&self) -> f32 {
        self.z.iter().filter(|&&v| v > 0.0).count() as f32 / self.z.len() as f32
    }
}

/// Capsules recorded while growing, drawn once at the end (so that their thickness can
/// still be adjusted).
#[derive(Default)]
pub(super) struct Sketch {
    pub(super) caps: Vec<([f32; 2], f32, [f32; 2], f32)>,
}

impl Sketch {
    pub(super) fn capsule(&mut self, a: [f32; 2], ra: f32, b: [f32; 2], rb: f32) {
        self.caps.push((a, ra, b, rb));
    }

    pub(super) fn scale_radii(&mut self, factor: f32) {
        for c in &mut self.caps {
            c.1 *= factor;
            c.3 *= factor;
        }
    }

    pub(super) fn render(&self, w: usize, h: usize, zscale: f32) -> Canvas {
        let mut canvas = Canvas::new(w, h);
        for &(a, ra, b, rb) in &self.caps {
            canvas.capsule(a, ra, b, rb, zscale, 0.0);
        }
        canvas
    }

    /// Draws every branch as a thinner core studded with crystallites, as electrodeposited
    /// metal dendrites look in the SEM at higher magnification: arms of rounded or faceted
    /// grains, wider than the arm, about one grain per `spacing` × radius of branch length.
    pub(super) fn render_crystalline(
        &self,
        size: (usize, usize),
        zscale: f32,
        spacing: f32,
        facet: Option<f32>,
        rng: &mut Rng,
    ) -> Canvas {
        let mut canvas = Canvas::new(size.0, size.1);
        for &(a, ra, b, rb) in &self.caps {
            canvas.capsule(a, 0.6 * ra, b, 0.6 * rb, zscale, 0.0);
            let len = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
            let r = 0.5 * (ra + rb);
            if rng.chance((len / (spacing * r).max(0.5)).min(1.0)) {
                let t = rng.unit();
                let c = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
                let tilt = facet.map(|f| f + rng.range(-0.2, 0.2));
                canvas.grain(c, r * rng.range(1.0, 1.7), zscale, tilt);
            }
        }
        canvas
    }
}
