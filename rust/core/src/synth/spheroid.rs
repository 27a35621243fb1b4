//! Spheroidal particles: overlapping shaded nodules with log-normal radii.

use std::f32::consts::PI;

use super::noise::*;
use super::rng::Rng;
use super::scene::*;

// ---------------------------------------------------------------------------------------
// Spheroids
// ---------------------------------------------------------------------------------------

pub(super) fn scene(ctx: &Ctx, rng: &mut Rng) -> Scene {
    let (w, h) = (ctx.w, ctx.h);
    let area = (w * h) as f32;
    let r_med = (ctx.scale * rng.log_range(0.01, 0.05)).max(1.5);
    let sigma = rng.range(0.12, 0.5);
    let target = rng.range(0.3, 1.1) * area;
    let cluster = rng.range(0.0, 0.85);
    let flatten = rng.range(0.55, 1.0);
    let lift = rng.range(0.0, 0.4);
    let satellites = rng.chance(0.3);
    let max_count = 400_000usize;

    let mut spheres: Vec<[f32; 3]> = Vec::new();
    let mut sum = 0.0f32;
    while sum < target && spheres.len() < max_count {
        let r = (r_med * (sigma * rng.normal()).exp()).clamp(0.8, 6.0 * r_med);
        let pos = if !spheres.is_empty() && rng.chance(cluster) {
            let j = spheres[rng.below(spheres.len())];
            let a = rng.angle();
            let d = (j[2] + r) * rng.range(0.75, 1.02);
            [j[0] + d * a.cos(), j[1] + d * a.sin()]
        } else {
            [rng.range(-r, w as f32 + r), rng.range(-r, h as f32 + r)]
        };
        spheres.push([pos[0], pos[1], r]);
        sum += PI * r * r;
    }
    if satellites {
        let n = (area / (PI * r_med * r_med) * rng.range(0.05, 0.3)) as usize;
        for _ in 0..n.min(max_count) {
            let r = (r_med * rng.range(0.12, 0.3)).max(0.7);
            spheres.push([rng.range(0.0, w as f32), rng.range(0.0, h as f32), r]);
        }
    }
    let mut canvas = Canvas::new(w, h);
    for s in &spheres {
        let base = lift * s[2] * rng.unit();
        canvas.capsule([s[0], s[1]], s[2], [s[0], s[1]], s[2], flatten, base);
    }
    let mask: Vec<bool> = canvas.z.iter().map(|&z| z > 0.0).collect();

    // Fine surface texture on the particles.
    let rough = rng.range(0.0, 0.08) * r_med;
    if rough > 0.0 {
        let n = value_noise(w, h, (r_med * 0.3).max(1.2), rng);
        for (z, n) in canvas.z.iter_mut().zip(&n) {
            if *z > 0.0 {
                *z += rough * n;
            }
        }
    }
    let bg = rng.range(0.1, 0.45);
    let fg = bg + rng.range(0.0, 0.35);
    let tex = fbm(w, h, ctx.scale * rng.range(0.01, 0.06), 3, rng);
    let tex_amp = rng.range(0.0, 0.1);
    let material: Vec<f32> = (0..w * h)
        .map(|i| {
            let cov = (canvas.z[i] / 1.5).clamp(0.0, 1.0);
            let b = bg + tex_amp * tex[i];
            b + (fg - b) * cov
        })
        .collect();
    let lambert = rng.chance(0.35);
    let shading = if lambert {
        Shading::random(rng, (0.05, 0.2), (0.35, 0.7), 0.0)
    } else {
        Shading::random(rng, (0.3, 0.6), (0.05, 0.25), 0.0)
    };
    let shading = Shading {
        cavity: rng.range(0.1, 0.35),
        cavity_sigma: r_med.max(2.0),
        ..shading
    };
    Scene {
        height: canvas.z,
        material,
        mask,
        shading,
    }
}
