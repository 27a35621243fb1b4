//! Lamellar (pearlite-like) colonies.

use super::grains::*;
use super::noise::*;
use super::rng::Rng;
use super::scene::*;

// ---------------------------------------------------------------------------------------
// Lamellar colonies
// ---------------------------------------------------------------------------------------

pub(super) struct Colony {
    pub(super) normal: [f32; 2],
    pub(super) inv_spacing: f32,
    pub(super) phase: f32,
    pub(super) ferrite: bool,
    pub(super) level: f32,
}

pub(super) fn scene(ctx: &Ctx, rng: &mut Rng) -> Scene {
    let (w, h) = (ctx.w, ctx.h);
    let colony = (ctx.scale * rng.log_range(0.12, 0.35)).max(12.0);
    let spacing = (ctx.scale * rng.log_range(0.009, 0.03)).max(6.0);
    let grid = SeedGrid::jittered(
        w,
        h,
        colony,
        rng.range(0.7, 1.0),
        0.0,
        rng.range(0.0, 0.3),
        rng,
    );
    let mut tess = tessellate(w, h, &grid);
    let wobble = colony * rng.range(0.03, 0.12);
    warp_tessellation(&mut tess, w, h, wobble, colony * 0.5, rng);
    let p_ferrite = rng.range_or(0.5, (0.05, 0.3), 0.0);
    let ferrite_level = rng.range(0.25, 0.45);
    let colonies: Vec<Colony> = grid
        .seeds
        .iter()
        .map(|_| {
            let a = rng.angle();
            let lam = spacing * rng.range(0.75, 1.4);
            Colony {
                normal: [a.cos(), a.sin()],
                inv_spacing: 1.0 / lam,
                phase: rng.unit(),
                ferrite: rng.chance(p_ferrite),
                level: ferrite_level + rng.range(-0.05, 0.05),
            }
        })
        .collect();
    let duty = rng.range(0.15, 0.45);
    // Real pearlite lamellae bend and fan within a colony, often by several spacings.
    let warp_amp = rng.range(0.2, 4.0);
    let warp = fbm(w, h, spacing * rng.range(6.0, 20.0), 2, rng);
    // Degenerate (broken) lamellae: each plate is interrupted independently, by 1-D
    // noise along the plate hashed from (salt, colony, plate index, segment).
    // Etched UHCS pearlite is mostly broken into short, bright carbide plates on a dark
    // ferrite ground at high contrast; unbroken, low-contrast stripes are the minority.
    let fragment = rng.chance(0.6);
    let frag_salt = rng.u64();
    let frag_inv_len = 1.0 / (spacing * rng.range(1.5, 6.0));
    let frag_gap = rng.range(0.15, 0.45);
    let plate_level = ferrite_level + rng.range(0.15, 0.65);
    let relief = rng.range(0.3, 1.5) * spacing * duty;
    let boundary = rng.range(0.0, 0.15);

    let mut material = vec![0.0f32; w * h];
    let mut height = vec![0.0f32; w * h];
    let mut mask = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let c = &colonies[tess.labels[i] as usize];
            let mut v = c.level;
            let mut plate = 0.0;
            if !c.ferrite {
                let u = (x as f32 * c.normal[0] + y as f32 * c.normal[1]) * c.inv_spacing
                    + c.phase
                    + warp_amp * warp[i];
                let tri = (u - fast_floor(u) - 0.5).abs(); // 0 at plate centre, 0.5 midway
                let aa = 0.6 * c.inv_spacing;
                plate = smoothstep(0.5 * duty + aa, 0.5 * duty - aa, tri);
                if fragment && plate > 0.0 {
                    let key = frag_salt
                        ^ (u64::from(tess.labels[i]) << 40)
                        ^ (fast_floor(u) as i64 as u64);
                    let along = (y as f32 * c.normal[0] - x as f32 * c.normal[1]) * frag_inv_len;
                    let j = fast_floor(along);
                    let t = along - j;
                    let j = j as i64 as u64;
                    let a = hash_unit(key, j);
                    let b = hash_unit(key, j.wrapping_add(1));
                    let n = a + (b - a) * t * t * (3.0 - 2.0 * t);
                    plate *= smoothstep(frag_gap - 0.08, frag_gap + 0.08, n);
                }
                v += (plate_level - c.level) * plate;
            }
            v -= boundary * gauss_profile(tess.border[i]);
            material[i] = v;
            height[i] = relief * plate;
            mask[i] = plate > 0.5;
        }
    }
    if rng.chance(0.4) {
        carbide_network(ctx, rng, colony, plate_level, &mut material, &mut height);
    }
    Scene {
        height,
        material,
        mask,
        shading: Shading {
            cavity_sigma: (spacing * 0.7).max(1.5),
            ..Shading::random(rng, (0.1, 0.4), (0.05, 0.3), 0.1)
        },
    }
}

/// Hypereutectoid steel's proeutectoid carbide network: thick, uneven bands along the
/// prior austenite grain boundaries (cells a few colonies across) enclosing the pearlite,
/// brighter than the plates and standing proud after etching.
fn carbide_network(
    ctx: &Ctx,
    rng: &mut Rng,
    colony: f32,
    plate_level: f32,
    material: &mut [f32],
    height: &mut [f32],
) {
    let (w, h) = (ctx.w, ctx.h);
    let cell = colony * rng.range(1.5, 3.5);
    let grid = SeedGrid::jittered(w, h, cell, rng.range(0.7, 1.0), 0.0, 0.1, rng);
    let mut tess = tessellate(w, h, &grid);
    warp_tessellation(
        &mut tess,
        w,
        h,
        cell * rng.range(0.03, 0.1),
        cell * 0.4,
        rng,
    );
    let width = (ctx.scale * rng.log_range(0.003, 0.015)).max(1.0);
    let unevenness = fbm(w, h, width * rng.range(2.0, 8.0), 2, rng);
    let level = plate_level + rng.range(-0.1, 0.3);
    let relief = width * rng.range(0.2, 1.0);
    for (i, (v, z)) in material.iter_mut().zip(height.iter_mut()).enumerate() {
        let half = width * (1.0 + 0.6 * unevenness[i]).max(0.2);
        let band = smoothstep(half + 0.7, half - 0.7, tess.border[i]);
        if band > 0.0 {
            *v += (level - *v) * band;
            *z = z.max(relief * band);
        }
    }
}
