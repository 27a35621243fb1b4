//! Granular / nodular lithium: packed rounded grains of varied size and faceting.

use std::f32::consts::{PI, TAU};

use super::rng::Rng;
use super::scene::*;
use super::whisker::substrate_scene;

/// Granular / nodular lithium: densely packed rounded grains of varied size, some with
/// flat facets, on a substrate that shows through the gaps.
pub(super) fn scene(ctx: &Ctx, rng: &mut Rng) -> Scene {
    let (w, h) = (ctx.w, ctx.h);
    let area = (w * h) as f32;
    let r_med = (ctx.scale * rng.log_range(0.012, 0.08)).max(2.0);
    let sigma = rng.range(0.15, 0.55);
    let packing = rng.range(0.7, 1.6);
    let facet_prob = rng.range(0.0, 1.0);
    let flat_top = rng.range_or(0.3, (0.6, 0.9), 1.0);
    let zscale = rng.range(0.5, 1.0);
    let mut canvas = Canvas::new(w, h);
    let mut sum = 0.0f32;
    let target = packing * area;
    let mut count = 0;
    while sum < target && count < 200_000 {
        let r = (r_med * (sigma * rng.normal()).exp()).clamp(1.5, 5.0 * r_med);
        let c = [rng.range(-r, w as f32 + r), rng.range(-r, h as f32 + r)];
        let facets = if rng.chance(facet_prob) {
            rng.int(5, 9)
        } else {
            0
        };
        let grain = Grain {
            centre: c,
            radius: r,
            facets,
            rotation: rng.angle(),
            elongation: rng.range(1.0, 1.35),
            flat_top,
            zscale,
            base: rng.range(0.0, 0.3) * r,
        };
        grain.stamp(&mut canvas);
        sum += PI * r * r;
        count += 1;
    }
    let mask: Vec<bool> = canvas.z.iter().map(|&z| z > 0.0).collect();
    substrate_scene(ctx, rng, canvas, mask, r_med * 0.3, true)
}

struct Grain {
    centre: [f32; 2],
    radius: f32,
    /// Number of flat side facets (0: round).
    facets: usize,
    rotation: f32,
    elongation: f32,
    /// Height (fraction of the radius) at which the top is cut flat.
    flat_top: f32,
    zscale: f32,
    base: f32,
}

impl Grain {
    /// Max-blends the grain's height into `canvas`: a spherical cap over a distance that
    /// is Euclidean for round grains and polygonal (largest facet-normal projection)
    /// for faceted ones.
    fn stamp(&self, canvas: &mut Canvas) {
        let r = self.radius;
        let reach = r * self.elongation + 1.0;
        let x0 = (self.centre[0] - reach).floor().max(0.0) as usize;
        let y0 = (self.centre[1] - reach).floor().max(0.0) as usize;
        let x1 = ((self.centre[0] + reach).ceil() as isize).min(canvas.w as isize - 1);
        let y1 = ((self.centre[1] + reach).ceil() as isize).min(canvas.h as isize - 1);
        if x1 < x0 as isize || y1 < y0 as isize {
            return;
        }
        let (s, c) = self.rotation.sin_cos();
        let normals: Vec<[f32; 2]> = (0..self.facets)
            .map(|k| {
                let a = self.rotation + k as f32 * TAU / self.facets as f32;
                [a.cos(), a.sin()]
            })
            .collect();
        // A regular polygon's inscribed radius is r·cos(π/n): scale so area stays similar.
        let poly_scale = if self.facets > 0 {
            1.0 / (PI / self.facets as f32).cos()
        } else {
            1.0
        };
        let top = self.flat_top * r;
        for y in y0..=y1 as usize {
            let dy = y as f32 - self.centre[1];
            for x in x0..=x1 as usize {
                let dx = x as f32 - self.centre[0];
                // Elongated along the grain's rotation.
                let u = (dx * c + dy * s) / self.elongation;
                let v = -dx * s + dy * c;
                let d = if normals.is_empty() {
                    (u * u + v * v).sqrt()
                } else {
                    normals
                        .iter()
                        .map(|n| u * n[0] + v * n[1])
                        .fold(0.0f32, f32::max)
                        * poly_scale
                };
                let q = r * r - d * d;
                if q > 0.0 {
                    let z = self.base + self.zscale * q.sqrt().min(top);
                    let cell = &mut canvas.z[y * canvas.w + x];
                    if z > *cell {
                        *cell = z;
                    }
                }
            }
        }
    }
}
