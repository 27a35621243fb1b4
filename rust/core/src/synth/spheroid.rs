//! Spheroidal particles: overlapping shaded nodules with log-normal radii, as an SEM
//! (secondary electrons) or a TEM (bright field, mass-thickness contrast) shows them.

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
    // Particle size spans tiny dots to particles a third of the field wide: published
    // particle panels (the real spheroid images) are framed on a few large particles as
    // often as on many small ones.
    let r_med = (ctx.scale * rng.log_range(0.01, 0.12)).max(1.5);
    // Coverage from a few isolated particles on an empty support film to a packed layer.
    let target = rng.log_range(0.04, 1.1) * area;
    // Monodisperse colloids self-assemble into ordered monolayers (a common figure);
    // otherwise sizes are log-normal and particles clump.
    let lattice = rng.chance(0.2);
    let sigma = if lattice {
        rng.range(0.02, 0.1)
    } else {
        rng.range(0.12, 0.5)
    };
    let cluster = rng.range(0.0, 0.85);
    let flatten = rng.range(0.55, 1.0);
    let lift = rng.range(0.0, 0.4);
    let satellites = rng.chance(0.3);
    let max_count = 400_000usize;

    let mut spheres: Vec<[f32; 3]> = Vec::new();
    if lattice {
        hex_layer(&mut spheres, w, h, r_med, sigma, rng);
    } else {
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

    // Surface texture on the particles: from smooth to the wrinkled / flaky shells of
    // many real particle panels.
    let rough = if rng.chance(0.3) {
        rng.range(0.08, 0.3)
    } else {
        rng.range(0.0, 0.08)
    } * r_med;
    if rough > 0.0 {
        let n = value_noise(w, h, (r_med * rng.range(0.1, 0.3)).max(1.2), rng);
        for (z, n) in canvas.z.iter_mut().zip(&n) {
            if *z > 0.0 {
                *z += rough * n;
            }
        }
    }
    if rng.chance(0.35) {
        return tem_bright_field(ctx, rng, canvas, mask, r_med);
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

/// A hexagonal monolayer of near-equal spheres, slightly disordered, with vacancies.
fn hex_layer(out: &mut Vec<[f32; 3]>, w: usize, h: usize, r: f32, sigma: f32, rng: &mut Rng) {
    let pitch = 2.0 * r * rng.range(0.95, 1.15);
    let (s, c) = rng.angle().sin_cos();
    let jitter = rng.range(0.0, 0.08) * r;
    let vacancy = rng.range(0.0, 0.08);
    // Lattice points around the image centre, enough rows and columns to cover the
    // rotated field.
    let half = 0.5 * ((w * w + h * h) as f32).sqrt() + pitch;
    let n = (half / pitch).ceil() as i32 + 1;
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    for j in -n..=n {
        for i in -n..=n {
            let u = (i as f32 + 0.5 * (j & 1) as f32) * pitch;
            let v = j as f32 * pitch * 0.866;
            let x = cx + u * c - v * s + jitter * rng.normal();
            let y = cy + u * s + v * c + jitter * rng.normal();
            let rr = r * (sigma * rng.normal()).exp();
            let inside = x > -rr && y > -rr && x < w as f32 + rr && y < h as f32 + rr;
            if inside && !rng.chance(vacancy) {
                out.push([x, y, rr]);
            }
        }
    }
}

/// Bright-field TEM: a flat, bright support film and particles darkened by the
/// thickness they present to the beam (mass-thickness contrast, Beer–Lambert), with
/// no topographic shading; a thin bright Fresnel fringe at defocus.
fn tem_bright_field(
    ctx: &Ctx,
    rng: &mut Rng,
    canvas: Canvas,
    mask: Vec<bool>,
    r_med: f32,
) -> Scene {
    let (w, h) = (ctx.w, ctx.h);
    let film = rng.range(0.6, 0.95);
    let film_tex = rng.range(0.0, 0.04);
    let tex = fbm(w, h, (r_med * rng.range(0.05, 0.3)).max(1.5), 2, rng);
    // Absorption per pixel of thickness: particles from barely darker to near black.
    let mu = rng.log_range(0.3, 6.0) / r_med.max(1.0);
    let fringe = rng.range_or(0.4, (0.03, 0.12), 0.0);
    let mut edge = canvas.z.clone();
    blur(&mut edge, w, h, 1.0);
    let material: Vec<f32> = (0..w * h)
        .map(|i| {
            let t = canvas.z[i].max(0.0);
            let mut v = film * (1.0 + film_tex * tex[i]) * (-mu * t).exp();
            if t <= 0.0 && edge[i] > 0.0 {
                v += fringe;
            }
            v
        })
        .collect();
    let height = vec![0.0; w * h];
    let shading = Shading {
        edge: 0.0,
        directional: 0.0,
        cavity: 0.0,
        ..Shading::random(rng, (0.0, 0.0), (0.0, 0.0), 0.0)
    };
    Scene {
        height,
        material,
        mask,
        shading,
    }
}
