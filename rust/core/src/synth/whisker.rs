//! Lithium whiskers / filaments and mossy deposits: stochastic tip growth of
//! near-constant-diameter filaments with kinks, rare branching and entanglement
//! (later filaments lie on top of earlier ones), on a rough substrate.
//!
//! Whiskers: long, mostly straight filaments a few pixels thick that change direction at
//! kinks. Mossy: dense clumps of short, curly, branching filaments with nodules, the
//! deposit that grows at low current density.

use super::noise::*;
use super::rng::Rng;
use super::scene::*;

/// How the filaments of one image grow, drawn once per image.
struct FilamentStyle {
    radius: f32,
    /// Typical filament length in pixels (log-normal around it).
    length: f32,
    /// Direction noise per step (radians, standard deviation).
    wander: f32,
    /// Probability per step of a kink (a sudden turn).
    kink: f32,
    /// Probability per step of a side branch.
    branch: f32,
    /// Relative radius noise along a filament.
    thickness_noise: f32,
    /// Probability that a filament carries nodules along it.
    nodules: f32,
}

pub(super) fn scene(ctx: &Ctx, rng: &mut Rng, mossy: bool) -> Scene {
    let (w, h) = (ctx.w, ctx.h);
    let area = (w * h) as f32;
    let style = if mossy {
        FilamentStyle {
            radius: (ctx.scale * rng.log_range(0.004, 0.014)).max(1.0),
            length: ctx.scale * rng.log_range(0.03, 0.12),
            wander: rng.range(0.15, 0.45),
            kink: rng.range(0.01, 0.05),
            branch: rng.range(0.02, 0.08),
            thickness_noise: rng.range(0.1, 0.35),
            nodules: rng.range(0.3, 0.8),
        }
    } else {
        FilamentStyle {
            radius: (ctx.scale * rng.log_range(0.002, 0.01)).max(0.8),
            length: ctx.scale * rng.log_range(0.15, 0.8),
            wander: rng.range(0.01, 0.07),
            kink: rng.range(0.002, 0.02),
            branch: rng.range(0.0, 0.006),
            thickness_noise: rng.range(0.0, 0.12),
            nodules: rng.range(0.0, 0.2),
        }
    };
    let coverage = if mossy {
        rng.range(0.35, 0.85)
    } else {
        rng.range(0.08, 0.45)
    };
    // Mossy filaments start around clump centres; whiskers anywhere (their roots are
    // usually hidden under other filaments or outside the field).
    let clumps: Vec<[f32; 3]> = if mossy {
        let n = rng.int(2, 12);
        (0..n)
            .map(|_| {
                [
                    rng.range(0.0, w as f32),
                    rng.range(0.0, h as f32),
                    ctx.scale * rng.range(0.05, 0.25),
                ]
            })
            .collect()
    } else {
        Vec::new()
    };
    let zscale = rng.range(0.6, 1.0);
    let mut canvas = Canvas::new(w, h);
    let target = coverage * area;
    let mut drawn = 0.0f32;
    let mut stack: Vec<([f32; 2], f32, f32)> = Vec::new();
    let max_filaments = 20_000;
    let mut filaments = 0;
    while drawn < target && filaments < max_filaments {
        let start = if let Some(c) = (!clumps.is_empty()).then(|| clumps[rng.below(clumps.len())]) {
            let (a, d) = (rng.angle(), c[2] * rng.unit().sqrt());
            [c[0] + d * a.cos(), c[1] + d * a.sin()]
        } else {
            [
                rng.range(-0.1, 1.1) * w as f32,
                rng.range(-0.1, 1.1) * h as f32,
            ]
        };
        stack.push((start, rng.angle(), 1.0));
        while let Some((pos, angle, rel_r)) = stack.pop() {
            filaments += 1;
            // Later filaments lie on top: their base height rises with the count.
            let base = filaments as f32 * 0.05 * style.radius;
            drawn += grow_filament(
                &mut canvas,
                &style,
                pos,
                angle,
                rel_r,
                base,
                zscale,
                rng,
                &mut stack,
            );
            if filaments >= max_filaments {
                break;
            }
        }
    }
    let mask: Vec<bool> = canvas.z.iter().map(|&z| z > 0.0).collect();
    substrate_scene(ctx, rng, canvas, mask, style.radius, mossy)
}

/// Grows one filament from `pos` heading `angle` and draws it; returns its approximate
/// area in pixels. Side branches are pushed onto `stack`.
#[allow(clippy::too_many_arguments)]
fn grow_filament(
    canvas: &mut Canvas,
    style: &FilamentStyle,
    mut pos: [f32; 2],
    mut angle: f32,
    rel_r: f32,
    base: f32,
    zscale: f32,
    rng: &mut Rng,
    stack: &mut Vec<([f32; 2], f32, f32)>,
) -> f32 {
    let r0 = style.radius * rel_r * rng.range(0.7, 1.3);
    let length = style.length * (0.6 * rng.normal()).exp() * rel_r;
    let step = r0.clamp(1.0, 4.0);
    let steps = (length / step).ceil().max(1.0) as usize;
    let (wf, hf) = (canvas.w as f32, canvas.h as f32);
    let mut r = r0;
    let mut area = 0.0;
    for _ in 0..steps {
        if rng.chance(style.kink) {
            angle += rng.sign() * rng.range(0.4, 1.4);
        }
        angle += style.wander * rng.normal();
        let next = [pos[0] + step * angle.cos(), pos[1] + step * angle.sin()];
        let r_next = (r0 * (1.0 + style.thickness_noise * rng.normal())).clamp(0.5 * r0, 1.6 * r0);
        canvas.capsule(pos, r, next, r_next, zscale, base);
        area += 2.0 * r * step;
        if rng.chance(style.branch) && rel_r > 0.3 {
            stack.push((next, angle + rng.sign() * rng.range(0.3, 1.2), rel_r * 0.7));
        }
        if rng.chance(style.nodules * 0.05) {
            let rn = r * rng.range(1.3, 2.5);
            canvas.capsule(next, rn, next, rn, zscale, base);
            area += 3.0 * rn * rn;
        }
        pos = next;
        r = r_next;
        let margin = 4.0 * r0 + step;
        if pos[0] < -margin || pos[1] < -margin || pos[0] > wf + margin || pos[1] > hf + margin {
            break;
        }
    }
    // Rounded tip, sometimes swollen (a growth nodule at the tip).
    if rng.chance(0.3) {
        let rt = r * rng.range(1.0, 1.8);
        canvas.capsule(pos, rt, pos, rt, zscale, base);
    }
    area
}

/// Material, substrate texture and shading around a deposit drawn into `canvas`.
pub(super) fn substrate_scene(
    ctx: &Ctx,
    rng: &mut Rng,
    mut canvas: Canvas,
    mask: Vec<bool>,
    feature: f32,
    mossy: bool,
) -> Scene {
    let (w, h) = (ctx.w, ctx.h);
    // Rough substrate (electrode foil / separator) under the deposit.
    let rough = fbm(w, h, ctx.scale * rng.range(0.02, 0.15), 3, rng);
    let rough_amp = feature * rng.range(0.0, 0.8);
    for (z, n) in canvas.z.iter_mut().zip(&rough) {
        if *z <= 0.0 {
            *z = rough_amp * n - feature;
        }
    }
    let bg = rng.range(0.05, 0.4);
    let fg = bg + rng.range(0.05, 0.4);
    let tex = fbm(w, h, ctx.scale * rng.range(0.01, 0.05), 2, rng);
    let tex_amp = rng.range(0.0, 0.08);
    let material: Vec<f32> = mask
        .iter()
        .zip(&tex)
        .map(|(&m, t)| if m { fg } else { bg } + tex_amp * t)
        .collect();
    let edge = if mossy { (0.3, 0.7) } else { (0.4, 0.9) };
    let shading = Shading {
        cavity: rng.range(0.05, 0.3),
        cavity_sigma: (feature * 2.0).max(2.0),
        ..Shading::random(rng, edge, (0.05, 0.35), 0.0)
    };
    Scene {
        height: canvas.z,
        material,
        mask,
        shading,
    }
}
