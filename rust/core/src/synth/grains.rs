//! Polycrystalline grains: jittered Voronoi tessellation, boundaries, twins, scratches.

use super::noise::*;
use super::rng::Rng;
use super::scene::*;

// ---------------------------------------------------------------------------------------
// Voronoi tessellation (grains and colonies)
// ---------------------------------------------------------------------------------------

/// Seeds bucketed in a regular grid whose cells are `cell` pixels wide; grid cell
/// `(cx, cy)` covers pixels `[(cx − 1)·cell, cx·cell)` so that one ring of cells lies
/// outside the image on each side.
pub(super) struct SeedGrid {
    pub(super) cell: f32,
    pub(super) gw: usize,
    pub(super) gh: usize,
    /// `start[k]..start[k + 1]` indexes `seeds` for grid cell `k`.
    pub(super) start: Vec<u32>,
    pub(super) seeds: Vec<[f32; 2]>,
}

impl SeedGrid {
    /// Jittered-grid seeds: per cell none (`p_drop`), one, or two (`p_extra`).
    pub(super) fn jittered(
        w: usize,
        h: usize,
        cell: f32,
        jitter: f32,
        p_drop: f32,
        p_extra: f32,
        rng: &mut Rng,
    ) -> Self {
        let gw = (w as f32 / cell).ceil() as usize + 2;
        let gh = (h as f32 / cell).ceil() as usize + 2;
        let mut start = Vec::with_capacity(gw * gh + 1);
        let mut seeds = Vec::new();
        for cy in 0..gh {
            for cx in 0..gw {
                start.push(seeds.len() as u32);
                let n = if rng.chance(p_drop) {
                    0
                } else if rng.chance(p_extra) {
                    2
                } else {
                    1
                };
                for _ in 0..n {
                    let jx = 0.5 + jitter * (rng.unit() - 0.5);
                    let jy = 0.5 + jitter * (rng.unit() - 0.5);
                    seeds.push([(cx as f32 - 1.0 + jx) * cell, (cy as f32 - 1.0 + jy) * cell]);
                }
            }
        }
        start.push(seeds.len() as u32);
        if seeds.is_empty() {
            // Guarantee at least one seed.
            seeds.push([w as f32 / 2.0, h as f32 / 2.0]);
            let k = (gh / 2) * gw + gw / 2;
            for s in start.iter_mut().skip(k + 1) {
                *s = 1;
            }
        }
        Self {
            cell,
            gw,
            gh,
            start,
            seeds,
        }
    }
}

/// Labels (seed index) and distance to the nearest cell boundary for every pixel.
pub(super) struct Tessellation {
    pub(super) labels: Vec<u32>,
    pub(super) border: Vec<f32>,
}

/// Runs of pixel indices sharing one grid column/row index (`floor(p / cell) + 1`).
pub(super) fn runs(n: usize, cell: f32) -> Vec<(usize, usize, usize)> {
    let mut out: Vec<(usize, usize, usize)> = Vec::new();
    for p in 0..n {
        let c = (p as f32 / cell) as usize + 1;
        match out.last_mut() {
            Some(last) if last.0 == c => last.2 = p + 1,
            _ => out.push((c, p, p + 1)),
        }
    }
    out
}

pub(super) fn tessellate(w: usize, h: usize, grid: &SeedGrid) -> Tessellation {
    const BLOCK: usize = 16;
    let mut labels = vec![0u32; w * h];
    let mut border = vec![f32::MAX; w * h];
    let cols = runs(w, grid.cell);
    let rows = runs(h, grid.cell);
    let mut cand: Vec<[f32; 3]> = Vec::with_capacity(64);
    let mut dist: Vec<f32> = Vec::with_capacity(64);
    let mut kept: Vec<[f32; 3]> = Vec::with_capacity(64);
    for &(cy, y0, y1) in &rows {
        for &(cx, x0, x1) in &cols {
            // Seeds of the 5×5 grid cells around this one (index stored as f32 is exact
            // below 2^24 seeds).
            cand.clear();
            for gy in cy.saturating_sub(2)..=(cy + 2).min(grid.gh - 1) {
                for gx in cx.saturating_sub(2)..=(cx + 2).min(grid.gw - 1) {
                    let k = gy * grid.gw + gx;
                    for s in grid.start[k]..grid.start[k + 1] {
                        let p = grid.seeds[s as usize];
                        cand.push([p[0], p[1], s as f32]);
                    }
                }
            }
            if cand.is_empty() {
                // Extremely sparse grid: fall back to every seed.
                cand.extend(
                    grid.seeds
                        .iter()
                        .enumerate()
                        .map(|(s, p)| [p[0], p[1], s as f32]),
                );
            }
            for by in (y0..y1).step_by(BLOCK) {
                let by1 = (by + BLOCK).min(y1);
                for bx in (x0..x1).step_by(BLOCK) {
                    let bx1 = (bx + BLOCK).min(x1);
                    // Keep only seeds that can be nearest or second nearest for some pixel
                    // of this block: within (second-smallest centre distance + 2 × reach).
                    let centre = [(bx + bx1 - 1) as f32 / 2.0, (by + by1 - 1) as f32 / 2.0];
                    let half = [(bx1 - bx) as f32 / 2.0, (by1 - by) as f32 / 2.0];
                    let reach = (half[0] * half[0] + half[1] * half[1]).sqrt();
                    dist.clear();
                    let (mut m1, mut m2) = (f32::MAX, f32::MAX);
                    for c in &cand {
                        let d = ((c[0] - centre[0]).powi(2) + (c[1] - centre[1]).powi(2)).sqrt();
                        dist.push(d);
                        if d < m1 {
                            m2 = m1;
                            m1 = d;
                        } else if d < m2 {
                            m2 = d;
                        }
                    }
                    let limit = if m2 == f32::MAX {
                        f32::MAX
                    } else {
                        m2 + 2.0 * reach
                    };
                    kept.clear();
                    kept.extend(
                        cand.iter()
                            .zip(&dist)
                            .filter(|(_, &d)| d <= limit)
                            .map(|(c, _)| *c),
                    );
                    label_block(&kept, [bx, bx1], [by, by1], w, &mut labels, &mut border);
                }
            }
        }
    }
    Tessellation { labels, border }
}

/// Nearest seed and distance to the bisector with the second-nearest seed for the
/// pixels of one block.
pub(super) fn label_block(
    kept: &[[f32; 3]],
    xs: [usize; 2],
    ys: [usize; 2],
    w: usize,
    labels: &mut [u32],
    border: &mut [f32],
) {
    for y in ys[0]..ys[1] {
        let py = y as f32;
        for x in xs[0]..xs[1] {
            let px = x as f32;
            let (mut d1, mut i1, mut d2, mut i2) = (f32::MAX, 0usize, f32::MAX, usize::MAX);
            for (j, k) in kept.iter().enumerate() {
                let dx = px - k[0];
                let dy = py - k[1];
                let d = dx * dx + dy * dy;
                if d < d2 {
                    if d < d1 {
                        d2 = d1;
                        i2 = i1;
                        d1 = d;
                        i1 = j;
                    } else {
                        d2 = d;
                        i2 = j;
                    }
                }
            }
            let i = y * w + x;
            labels[i] = kept[i1][2] as u32;
            if i2 != usize::MAX {
                let (a, b) = (kept[i1], kept[i2]);
                let sep = ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2))
                    .sqrt()
                    .max(1e-3);
                border[i] = (d2 - d1) / (2.0 * sep);
            }
        }
    }
}

/// Bends cell boundaries by looking labels up at smoothly displaced positions
/// (displacement up to about `amp` pixels, varying over `cell` pixels).
pub(super) fn warp_tessellation(
    tess: &mut Tessellation,
    w: usize,
    h: usize,
    amp: f32,
    cell: f32,
    rng: &mut Rng,
) {
    if amp < 0.5 {
        return;
    }
    let dx = fbm(w, h, cell, 2, rng);
    let dy = fbm(w, h, cell, 2, rng);
    let mut labels = vec![0u32; w * h];
    let mut border = vec![0.0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let sx = (x as f32 + 0.5 + 2.0 * amp * dx[i]).clamp(0.0, (w - 1) as f32) as usize;
            let sy = (y as f32 + 0.5 + 2.0 * amp * dy[i]).clamp(0.0, (h - 1) as f32) as usize;
            let j = sy * w + sx;
            labels[i] = tess.labels[j];
            border[i] = tess.border[j];
        }
    }
    tess.labels = labels;
    tess.border = border;
}

// ---------------------------------------------------------------------------------------
// Grains
// ---------------------------------------------------------------------------------------

pub(super) struct Grain {
    pub(super) level: f32,
    pub(super) grad: [f32; 2],
    pub(super) twin: Option<Twin>,
}

pub(super) struct Twin {
    pub(super) normal: [f32; 2],
    pub(super) offset: f32,
    pub(super) half_width: f32,
    pub(super) level: f32,
}

pub(super) fn scene(ctx: &Ctx, rng: &mut Rng) -> Scene {
    let (w, h) = (ctx.w, ctx.h);
    let size = (ctx.scale * rng.log_range(0.035, 0.15)).max(6.0);
    let grid = SeedGrid::jittered(
        w,
        h,
        size,
        rng.range(0.6, 1.0),
        rng.range(0.0, 0.3),
        rng.range(0.0, 0.3),
        rng,
    );
    let mut tess = tessellate(w, h, &grid);
    // Three looks: polished grains (flat cells, straight boundaries); spheroidised steel
    // (a ferrite matrix whose grains barely differ, crowded with small carbides, drawn
    // below); and an etched cell network (mottled cells of similar grey inside wiggly
    // boundaries of uneven width, like the carbide networks of real UHCS fields, which a
    // model that only knew straight polygon boundaries took for packed particles).
    let look = rng.unit();
    let (spheroidite, network) = (look < 0.35, look >= 0.65);
    if network {
        let wobble = size * rng.range(0.06, 0.2);
        warp_tessellation(&mut tess, w, h, wobble, size * rng.range(0.2, 0.45), rng);
    } else if rng.chance(0.5) {
        let wobble = size * rng.range(0.01, 0.06);
        warp_tessellation(&mut tess, w, h, wobble, size * 0.7, rng);
    }
    let spread = if spheroidite || network {
        rng.range(0.02, 0.2)
    } else {
        rng.range(0.15, 0.6)
    };
    let p_twin = rng.range_or(0.5, (0.1, 0.5), 0.0);
    let grad_amp = rng.range(0.0, 0.08);
    let grains: Vec<Grain> = grid
        .seeds
        .iter()
        .map(|_| {
            let level = 0.5 + spread * (rng.unit() - 0.5);
            let ga = rng.angle();
            let grad = [grad_amp * ga.cos() / size, grad_amp * ga.sin() / size];
            let twin = if rng.chance(p_twin) {
                let a = rng.angle();
                Some(Twin {
                    normal: [a.cos(), a.sin()],
                    offset: rng.range(-0.4, 0.4) * size,
                    half_width: size * rng.range(0.04, 0.2),
                    level: 0.5 + spread * (rng.unit() - 0.5),
                })
            } else {
                None
            };
            Grain { level, grad, twin }
        })
        .collect();

    let bw = if network {
        (ctx.scale * rng.log_range(0.002, 0.01)).clamp(0.8, 12.0)
    } else {
        (ctx.scale * rng.range(0.0008, 0.004)).clamp(0.6, 6.0)
    };
    let dark_boundaries = rng.chance(0.75);
    let b_contrast = match (dark_boundaries, network) {
        (true, false) => -rng.range(0.15, 0.5),
        (true, true) => -rng.range(0.3, 0.7),
        (false, _) => rng.range(0.1, 0.35),
    };
    // Network boundaries swell and thin along their length.
    let width_noise = if network {
        Some(fbm(w, h, size * rng.range(0.15, 0.5), 2, rng))
    } else {
        None
    };
    let groove = rng.range(0.0, 1.5) * bw;
    // Etched matrices are mottled down to the pixel scale (the real UHCS fields' fine
    // texture), not flat.
    let tex = fbm(w, h, size * rng.range(0.03, 0.4), 3, rng);
    let tex_amp = if network {
        rng.range(0.1, 0.3)
    } else {
        rng.range(0.0, 0.15)
    };

    let mut material = vec![0.0f32; w * h];
    let mut height = vec![0.0f32; w * h];
    let mut mask = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let s = tess.labels[i] as usize;
            let g = &grains[s];
            let seed = grid.seeds[s];
            let rel = [x as f32 - seed[0], y as f32 - seed[1]];
            let mut v = g.level + g.grad[0] * rel[0] + g.grad[1] * rel[1];
            if let Some(t) = &g.twin {
                let d = rel[0] * t.normal[0] + rel[1] * t.normal[1] - t.offset;
                let inside = smoothstep(t.half_width + 0.7, t.half_width - 0.7, d.abs());
                v += (t.level - v) * inside;
            }
            let d = tess.border[i];
            let bw_here = match &width_noise {
                Some(n) => bw * (1.0 + 0.9 * n[i]).max(0.25),
                None => bw,
            };
            let profile = gauss_profile(d / bw_here);
            v += b_contrast * profile + tex_amp * tex[i];
            material[i] = v;
            height[i] = -groove * profile;
            mask[i] = d < bw_here;
        }
    }

    if spheroidite {
        carbides(ctx, rng, &tess, bw, &mut material, &mut height);
    }

    // Polishing scratches and etch pits.
    let mut marks = Canvas::new(w, h);
    let scratches = if rng.chance(0.5) { rng.int(1, 6) } else { 0 };
    for _ in 0..scratches {
        let a = rng.angle();
        let (s, c) = a.sin_cos();
        let centre = [rng.range(0.0, w as f32), rng.range(0.0, h as f32)];
        let half = (w + h) as f32;
        let r = rng.range(0.4, 1.3);
        draw_line(&mut marks, centre, [c, s], half, r, rng.range(0.3, 1.0));
    }
    let pits = if rng.chance(0.5) {
        (w * h) as f32 / (size * size) * rng.range(0.05, 0.6)
    } else {
        0.0
    };
    for _ in 0..pits as usize {
        let p = [rng.range(0.0, w as f32), rng.range(0.0, h as f32)];
        let r = rng.range(0.6, 2.5) * (size / 40.0).clamp(0.5, 3.0);
        marks.capsule(p, r, p, r, 1.0, 0.0);
    }
    let depth = rng.range(0.1, 0.3);
    for ((z, m), v) in height.iter_mut().zip(&marks.z).zip(material.iter_mut()) {
        if *m > 0.0 {
            *z -= *m;
            *v -= depth * (*m).min(1.0);
        }
    }
    Scene {
        height,
        material,
        mask,
        shading: Shading {
            cavity_sigma: (bw * 2.0).max(1.5),
            ..Shading::random(rng, (0.05, 0.3), (0.0, 0.3), 0.05)
        },
    }
}

/// Spheroidite carbides: many small, often elongated, bright particles standing
/// slightly proud of the etched matrix, denser along the grain boundaries (where they
/// nucleate first); a few coarse ones among them. Sizes are a few pixels at the default
/// scale, much smaller than the spheroid class's particles.
fn carbides(
    ctx: &Ctx,
    rng: &mut Rng,
    tess: &Tessellation,
    bw: f32,
    material: &mut [f32],
    height: &mut [f32],
) {
    let (w, h) = (ctx.w, ctx.h);
    let r_med = (ctx.scale * rng.log_range(0.003, 0.012)).max(0.8);
    let coverage = rng.range(0.08, 0.3);
    let on_boundary = rng.range(0.1, 0.6);
    let elongation = rng.range(1.0, 2.5);
    let n = ((w * h) as f32 * coverage / (std::f32::consts::PI * r_med * r_med)) as usize;
    let mut canvas = Canvas::new(w, h);
    for _ in 0..n.min(400_000) {
        let r = (r_med * (0.45 * rng.normal()).exp()).clamp(0.6, 5.0 * r_med);
        let mut p = [rng.range(0.0, w as f32), rng.range(0.0, h as f32)];
        if rng.chance(on_boundary) {
            // A few tries for a point near a boundary; keep the last one otherwise.
            for _ in 0..8 {
                let i = (p[1] as usize).min(h - 1) * w + (p[0] as usize).min(w - 1);
                if tess.border[i] < 2.0 * bw + r {
                    break;
                }
                p = [rng.range(0.0, w as f32), rng.range(0.0, h as f32)];
            }
        }
        let half = r * (rng.range(1.0, elongation) - 1.0);
        let (s, c) = rng.angle().sin_cos();
        let a = [p[0] - half * c, p[1] - half * s];
        let b = [p[0] + half * c, p[1] + half * s];
        canvas.capsule(a, r, b, r, 0.6, 0.0);
    }
    let level = rng.range(0.25, 0.5);
    for ((v, z), &c) in material.iter_mut().zip(height.iter_mut()).zip(&canvas.z) {
        if c > 0.0 {
            *v += level * (c / 0.6).min(1.0).sqrt();
            *z += c;
        }
    }
}

/// Draws a long straight groove as a chain of short capsules (bounded boxes).
pub(super) fn draw_line(
    canvas: &mut Canvas,
    centre: [f32; 2],
    dir: [f32; 2],
    half: f32,
    r: f32,
    zscale: f32,
) {
    let seg = 24.0;
    let n = (2.0 * half / seg).ceil() as usize;
    for k in 0..n {
        let t0 = -half + k as f32 * seg;
        let t1 = t0 + seg;
        let a = [centre[0] + t0 * dir[0], centre[1] + t0 * dir[1]];
        let b = [centre[0] + t1 * dir[0], centre[1] + t1 * dir[1]];
        let lo = -r - 1.0;
        let inside = |p: [f32; 2]| {
            p[0] > lo && p[1] > lo && p[0] < canvas.w as f32 - lo && p[1] < canvas.h as f32 - lo
        };
        if inside(a) || inside(b) {
            canvas.capsule(a, r, b, r, zscale, 0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tessellation_matches_brute_force() {
        let mut rng = Rng::new(3);
        let (w, h) = (97, 61);
        let grid = SeedGrid::jittered(w, h, 11.0, 1.0, 0.2, 0.2, &mut rng);
        let t = tessellate(w, h, &grid);
        let mut wrong = 0;
        for y in 0..h {
            for x in 0..w {
                let (px, py) = (x as f32, y as f32);
                let best = grid
                    .seeds
                    .iter()
                    .map(|s| (s[0] - px).powi(2) + (s[1] - py).powi(2))
                    .fold(f32::MAX, f32::min);
                let s = grid.seeds[t.labels[y * w + x] as usize];
                let got = (s[0] - px).powi(2) + (s[1] - py).powi(2);
                if got > best + 1e-3 {
                    wrong += 1;
                }
            }
        }
        assert!(wrong * 1000 < w * h, "{wrong} pixels mislabelled");
    }
}
