//! Dendrites: stochastic branching growth and diffusion-limited aggregation.

use std::f32::consts::{FRAC_PI_2, PI, TAU};

use super::noise::*;
use super::rng::Rng;
use super::scene::*;

// ---------------------------------------------------------------------------------------
// Dendrites
// ---------------------------------------------------------------------------------------

/// Parameters of the stochastic branching walker, drawn once per image.
pub(super) struct BranchStyle {
    pub(super) step: f32,
    pub(super) wander: f32,
    pub(super) pull: f32,
    pub(super) taper: f32,
    pub(super) r_stop: f32,
    pub(super) side_spacing: f32,
    pub(super) side_prob: f32,
    pub(super) side_angle: f32,
    pub(super) side_radius: f32,
    pub(super) side_length: f32,
    pub(super) side_bend: f32,
    pub(super) alternate: bool,
    pub(super) split_prob: f32,
    pub(super) split_angle: f32,
    pub(super) max_gen: u8,
    /// Steps before a tip starts checking for collisions (so it can leave its parent).
    pub(super) grace: u32,
}

#[derive(Clone)]
pub(super) struct Tip {
    pub(super) pos: [f32; 2],
    pub(super) angle: f32,
    pub(super) pref: f32,
    pub(super) r0: f32,
    pub(super) len: f32,
    pub(super) total: f32,
    pub(super) gen: u8,
    pub(super) id: u32,
    pub(super) parent: u32,
    pub(super) age: u32,
    pub(super) next_side: f32,
    pub(super) side_sign: f32,
}

/// Coarse grid recording which branch occupies each cell, so tips stop when they run
/// into another branch instead of crossing it.
pub(super) struct Occupancy {
    pub(super) cell: f32,
    pub(super) gw: usize,
    pub(super) gh: usize,
    pub(super) ids: Vec<u32>,
    /// Branch order of every id handed out (index 0: no branch).
    pub(super) gens: Vec<u8>,
}

impl Occupancy {
    pub(super) fn new(w: usize, h: usize, cell: f32) -> Self {
        let gw = (w as f32 / cell).ceil() as usize + 1;
        let gh = (h as f32 / cell).ceil() as usize + 1;
        Self {
            cell,
            gw,
            gh,
            ids: vec![0; gw * gh],
            gens: vec![0],
        }
    }

    pub(super) fn new_id(&mut self, gen: u8) -> u32 {
        self.gens.push(gen);
        (self.gens.len() - 1) as u32
    }

    pub(super) fn get(&self, p: [f32; 2]) -> u32 {
        if p[0] < 0.0 || p[1] < 0.0 {
            return 0;
        }
        let (cx, cy) = ((p[0] / self.cell) as usize, (p[1] / self.cell) as usize);
        if cx >= self.gw || cy >= self.gh {
            0
        } else {
            self.ids[cy * self.gw + cx]
        }
    }

    pub(super) fn mark(&mut self, p: [f32; 2], r: f32, id: u32) {
        let c = self.cell;
        let x0 = ((p[0] - r) / c).floor().max(0.0) as usize;
        let y0 = ((p[1] - r) / c).floor().max(0.0) as usize;
        let x1 = (((p[0] + r) / c).floor().max(-1.0) as isize).min(self.gw as isize - 1);
        let y1 = (((p[1] + r) / c).floor().max(-1.0) as isize).min(self.gh as isize - 1);
        for cy in y0 as isize..=y1 {
            for cx in x0 as isize..=x1 {
                self.ids[cy as usize * self.gw + cx as usize] = id;
            }
        }
    }
}

pub(super) fn wrap_angle(a: f32) -> f32 {
    (a + PI).rem_euclid(TAU) - PI
}

pub(super) fn scene(ctx: &Ctx, rng: &mut Rng) -> Scene {
    let (w, h) = (ctx.w, ctx.h);
    let dla = rng.chance(0.35);
    let mut sketch = Sketch::default();
    let mut r_trunk = if dla {
        dla_forest(ctx, rng, &mut sketch)
    } else {
        branching_growth(ctx, rng, &mut sketch)
    };
    // Draw, then thicken or thin every branch if needed so that the deposit covers a
    // plausible fraction of the field (coverage grows about linearly with thickness).
    let zscale = rng.range(0.5, 1.0);
    let (lo, hi) = (0.07, 0.5);
    let mut canvas = sketch.render(w, h, zscale);
    for _ in 0..3 {
        let cov = canvas.coverage();
        let factor = if cov < lo {
            (lo * 1.15 / cov.max(1e-3)).min(4.0)
        } else if cov > hi {
            hi * 0.95 / cov
        } else {
            break;
        };
        sketch.scale_radii(factor);
        r_trunk *= factor;
        canvas = sketch.render(w, h, zscale);
    }

    // A third of the images show the arms as chains of crystallites (rounded, or faceted
    // with one lattice orientation per image), the rest as smooth tapered branches.
    if rng.chance(0.35) {
        let facet = rng.chance(0.5).then(|| rng.angle());
        canvas = sketch.render_crystalline((w, h), zscale, rng.range(0.8, 2.0), facet, rng);
    }

    let bg = rng.range(0.15, 0.4);
    let fg = bg + rng.range(0.15, 0.45);
    let tex_amp = rng.range(0.01, 0.06);
    let tex = fbm(w, h, ctx.scale * rng.range(0.005, 0.03), 3, rng);
    let streaks = rng.chance(0.4);
    let streak_tex = if streaks {
        Some(streak_noise(w, h, rng))
    } else {
        None
    };
    let edge_soft = r_trunk.clamp(1.0, 3.0);
    let mut material = vec![0.0f32; w * h];
    let mut mask = vec![false; w * h];
    for i in 0..w * h {
        let z = canvas.z[i];
        let cov = (z / edge_soft).clamp(0.0, 1.0);
        let mut b = bg + tex_amp * tex[i];
        if let Some(s) = &streak_tex {
            b += 0.04 * s[i];
        }
        material[i] = b + (fg - b) * cov;
        mask[i] = z > 0.0;
    }

    // Nodular surface roughness on the deposit, relative to the local height.
    let rough = rng.range(0.0, 0.4);
    if rough > 0.0 {
        let n = value_noise(w, h, (r_trunk * rng.range(0.5, 1.2)).max(1.5), rng);
        for (z, n) in canvas.z.iter_mut().zip(&n) {
            *z *= 1.0 + rough * n;
        }
    }
    let cavity = rng.range(0.05, 0.2);
    Scene {
        height: canvas.z,
        material,
        mask,
        shading: Shading {
            cavity_sigma: (r_trunk * 3.0).max(2.0),
            ..Shading::random(rng, (0.15, 0.45), (0.1, 0.45), cavity)
        },
    }
}

/// Grows branched dendrites with a stochastic walker (trunks, side branches at a
/// preferred angle, tip splitting, tapering), from one edge or from nuclei. Returns the
/// trunk radius.
pub(super) fn branching_growth(ctx: &Ctx, rng: &mut Rng, sketch: &mut Sketch) -> f32 {
    let (w, h) = (ctx.w as f32, ctx.h as f32);
    let r0 = (ctx.scale * rng.log_range(0.003, 0.015)).max(1.0);
    let fern = rng.chance(0.5);
    let style = BranchStyle {
        step: (0.5 * r0).max(0.75),
        wander: if fern {
            rng.range(0.01, 0.06)
        } else {
            rng.range(0.05, 0.2)
        },
        pull: rng.range(0.02, 0.15),
        taper: rng.range(0.3, 0.7),
        r_stop: 0.45,
        side_spacing: r0 * rng.range(2.5, 8.0),
        side_prob: rng.range(0.5, 1.0),
        side_angle: if fern {
            [FRAC_PI_2, PI / 3.0, PI / 4.0][rng.below(3)]
        } else {
            rng.range(0.4, 1.2)
        },
        side_radius: rng.range(0.5, 0.8),
        side_length: rng.range(0.15, 0.5),
        side_bend: if fern { 0.0 } else { rng.range(0.0, 0.7) },
        alternate: rng.chance(0.5),
        split_prob: if fern {
            0.0
        } else {
            (0.5 * r0 / (r0 * rng.range(12.0, 60.0))).min(0.05)
        },
        split_angle: rng.range(0.25, 0.6),
        max_gen: rng.int(2, 3) as u8,
        grace: 0,
    };
    let style = BranchStyle {
        grace: (2.5 * r0 / style.step).ceil() as u32 + 2,
        ..style
    };
    let target = rng.range(0.1, 0.4);
    let cap = 0.55 * w * h;
    let mut occ = Occupancy::new(ctx.w, ctx.h, r0.max(2.0));
    let from_edge = rng.chance(0.7);
    let edge = rng.below(4);
    let mut area = 0.0f32;
    for batch in 0..6 {
        let mut tips = Vec::new();
        if from_edge {
            // Edge 0: bottom, 1: top, 2: left, 3: right; growth goes inwards.
            let (along, across) = if edge < 2 { (w, h) } else { (h, w) };
            let inward = [-FRAC_PI_2, FRAC_PI_2, 0.0, PI][edge];
            let n = ((along / (ctx.scale * rng.range(0.08, 0.25))).round() as usize).clamp(1, 40);
            for k in 0..n {
                let t = (k as f32 + rng.range(0.2, 0.8)) / n as f32 * along;
                let pos = match edge {
                    0 => [t, h + r0],
                    1 => [t, -r0],
                    2 => [-r0, t],
                    _ => [w + r0, t],
                };
                let len = across * rng.range(0.3, 0.95) + if batch > 0 { 0.0 } else { r0 };
                let angle = inward + rng.range(-0.35, 0.35);
                if batch > 0 {
                    // Later batches only start where the electrode is still free.
                    let reach = 4.0 * r0 + occ.cell;
                    let probe = [pos[0] + reach * inward.cos(), pos[1] + reach * inward.sin()];
                    if occ.get(probe) != 0 {
                        continue;
                    }
                }
                tips.push(new_tip(
                    pos,
                    angle,
                    angle,
                    r0 * rng.range(0.7, 1.3),
                    len,
                    0,
                    &mut occ,
                    0,
                    &style,
                    rng,
                ));
            }
        } else {
            let n = rng.int(1, 4);
            for _ in 0..n {
                let pos = [rng.range(0.1, 0.9) * w, rng.range(0.1, 0.9) * h];
                let arms = if rng.chance(0.4) { 6 } else { rng.int(3, 8) };
                let rot = rng.angle();
                let nucleus = occ.new_id(0);
                let rr = r0 * rng.range(0.8, 1.4);
                sketch.capsule(pos, rr * 1.3, pos, rr * 1.3);
                occ.mark(pos, rr * 1.3, nucleus);
                for k in 0..arms {
                    let angle = rot + TAU * k as f32 / arms as f32 + rng.range(-0.15, 0.15);
                    let len = ctx.scale * rng.range(0.12, 0.35);
                    tips.push(new_tip(
                        pos, angle, angle, rr, len, 0, &mut occ, nucleus, &style, rng,
                    ));
                }
            }
        }
        grow(
            &mut tips,
            &style,
            sketch,
            [w, h],
            &mut occ,
            &mut area,
            cap,
            rng,
        );
        if area >= target * w * h {
            break;
        }
    }
    r0
}

#[allow(clippy::too_many_arguments)]
pub(super) fn new_tip(
    pos: [f32; 2],
    angle: f32,
    pref: f32,
    r0: f32,
    len: f32,
    gen: u8,
    occ: &mut Occupancy,
    parent: u32,
    style: &BranchStyle,
    rng: &mut Rng,
) -> Tip {
    let id = occ.new_id(gen);
    Tip {
        pos,
        angle,
        pref,
        r0,
        len,
        total: len,
        gen,
        id,
        parent,
        age: 0,
        next_side: style.side_spacing * rng.range(0.3, 1.0),
        side_sign: rng.sign(),
    }
}

/// Advances all tips one step per round until every tip has stopped.
#[allow(clippy::too_many_arguments)]
pub(super) fn grow(
    tips: &mut Vec<Tip>,
    style: &BranchStyle,
    sketch: &mut Sketch,
    size: [f32; 2],
    occ: &mut Occupancy,
    area: &mut f32,
    cap: f32,
    rng: &mut Rng,
) {
    let [w, h] = size;
    let mut next = Vec::with_capacity(tips.len());
    let mut rounds = 0usize;
    let max_rounds = (4.0 * (w + h) / style.step) as usize + 16;
    while !tips.is_empty() && rounds < max_rounds && *area < cap {
        rounds += 1;
        for mut t in tips.drain(..) {
            let progress = 1.0 - t.len / t.total;
            let r_prev = t.r0 * (1.0 - style.taper * progress);
            t.angle += style.pull * wrap_angle(t.pref - t.angle) + style.wander * rng.normal();
            let (s, c) = t.angle.sin_cos();
            let step = style.step.min(t.len.max(0.25));
            let np = [t.pos[0] + step * c, t.pos[1] + step * s];
            t.len -= step;
            let r = t.r0 * (1.0 - style.taper * (1.0 - t.len / t.total));
            let margin = r + 2.0;
            let outside =
                np[0] < -margin || np[1] < -margin || np[0] > w + margin || np[1] > h + margin;
            let inside_now = np[0] >= 0.0 && np[1] >= 0.0 && np[0] < w && np[1] < h;
            if outside && t.age > style.grace {
                continue;
            }
            if t.age > style.grace && inside_now {
                let ahead = r + occ.cell * 1.2;
                let probe = [np[0] + ahead * c, np[1] + ahead * s];
                let other = occ.get(probe);
                if other != 0
                    && other != t.id
                    && other != t.parent
                    && occ.gens[other as usize] <= t.gen
                {
                    // Fuse with a branch of the same or lower order and stop; finer
                    // branches are overgrown.
                    sketch.capsule(t.pos, r_prev, probe, r * 0.8);
                    continue;
                }
            }
            sketch.capsule(t.pos, r_prev, np, r);
            occ.mark(np, r, t.id);
            *area += 2.0 * r * step;
            t.pos = np;
            t.age += 1;

            if t.gen < style.max_gen {
                t.next_side -= step;
                if t.next_side <= 0.0 {
                    t.next_side = style.side_spacing * rng.range(0.7, 1.3);
                    if rng.chance(style.side_prob) && r * style.side_radius > style.r_stop {
                        let sign = if style.alternate {
                            t.side_sign = -t.side_sign;
                            t.side_sign
                        } else {
                            rng.sign()
                        };
                        let angle = t.angle + sign * style.side_angle * rng.range(0.85, 1.15);
                        let pref = angle + style.side_bend * wrap_angle(t.pref - angle);
                        let len = t.total
                            * style.side_length
                            * rng.range(0.5, 1.5)
                            * (1.0 - 0.5 * progress);
                        let child = new_tip(
                            t.pos,
                            angle,
                            pref,
                            r * style.side_radius,
                            len,
                            t.gen + 1,
                            occ,
                            t.id,
                            style,
                            rng,
                        );
                        next.push(child);
                    }
                }
            }
            if t.len > 0.0 && r > style.r_stop && rng.chance(style.split_prob) {
                // Tip splitting: two children continue from here, the tip ends.
                let a = style.split_angle * rng.range(0.7, 1.3);
                for sign in [-1.0, 1.0] {
                    let mut child = new_tip(
                        t.pos,
                        t.angle + sign * a,
                        t.pref,
                        t.r0 * 0.85,
                        t.len,
                        t.gen,
                        occ,
                        t.id,
                        style,
                        rng,
                    );
                    child.total = t.total;
                    next.push(child);
                }
                continue;
            }
            if t.len > 0.0 && r > style.r_stop {
                next.push(t);
            }
        }
        std::mem::swap(tips, &mut next);
    }
}

/// Grows a forest of dendrites from one edge by on-lattice diffusion-limited aggregation
/// with drift towards the electrode, then draws each particle as a capsule to its parent
/// with a thickness that grows with the mass it carries. Returns the trunk radius.
pub(super) fn dla_forest(ctx: &Ctx, rng: &mut Rng, sketch: &mut Sketch) -> f32 {
    let edge = rng.below(4);
    // Canonical frame: growth upwards from the bottom row.
    let (cw, ch) = if edge < 2 {
        (ctx.w as f32, ctx.h as f32)
    } else {
        (ctx.h as f32, ctx.w as f32)
    };
    let cell = (ctx.scale * rng.range(0.003, 0.007)).max(2.0);
    let gw = (cw / cell).ceil() as usize;
    let gh = (ch / cell).ceil() as usize;
    let p_stick = rng.range(0.3, 1.0);
    let drift = rng.range(0.03, 0.15);
    let p_nuc = rng.range(0.003, 0.03);
    let stop_row = (gh as f32 * (1.0 - rng.range(0.5, 0.95))) as usize;
    let max_nodes = (gw * gh) / 4;
    // Move thresholds out of 256: down (towards electrode), up, left, right.
    let t_down = ((0.25 + drift) * 256.0) as u32;
    let t_up = t_down + ((0.25 - drift) * 256.0) as u32;
    let t_left = t_up + (256 - t_up) / 2;

    let mut grid = vec![-1i32; gw * gh];
    let mut adjacent = vec![false; gw * gh];
    let mut nodes: Vec<(u32, u32, i32)> = Vec::new();
    let mut front = gh; // smallest occupied row
    let launch_gap = 6usize;
    let kill_gap = 30usize;
    let mut budget: u64 = 600 * (gw * gh) as u64 + 100_000;
    'outer: while nodes.len() < max_nodes && front > stop_row && budget > 0 {
        let mut x = rng.below(gw);
        let mut y = front.saturating_sub(launch_gap).min(gh - 1);
        let mut bits = 0u64;
        let mut nbits = 0;
        loop {
            if budget == 0 {
                break 'outer;
            }
            budget -= 1;
            let i = y * gw + x;
            let at_electrode = y == gh - 1;
            if adjacent[i] || at_electrode {
                let p = if adjacent[i] { p_stick } else { p_nuc };
                if rng.chance(p) {
                    // Parent: first occupied 8-neighbour from a random start.
                    let mut parent = -1i32;
                    if adjacent[i] {
                        let start = rng.below(8);
                        for k in 0..8 {
                            let (dx, dy) = NEIGHBOURS[(start + k) % 8];
                            let (nx, ny) = (x as isize + dx, y as isize + dy);
                            if nx >= 0 && ny >= 0 && (nx as usize) < gw && (ny as usize) < gh {
                                let g = grid[ny as usize * gw + nx as usize];
                                if g >= 0 {
                                    parent = g;
                                    break;
                                }
                            }
                        }
                    }
                    grid[i] = nodes.len() as i32;
                    nodes.push((x as u32, y as u32, parent));
                    for (dx, dy) in NEIGHBOURS {
                        let (nx, ny) = (x as isize + dx, y as isize + dy);
                        if nx >= 0 && ny >= 0 && (nx as usize) < gw && (ny as usize) < gh {
                            adjacent[ny as usize * gw + nx as usize] = true;
                        }
                    }
                    front = front.min(y);
                    continue 'outer;
                }
            }
            if nbits == 0 {
                bits = rng.u64();
                nbits = 8;
            }
            let m = (bits & 0xff) as u32;
            bits >>= 8;
            nbits -= 1;
            let (nx, ny) = if m < t_down {
                (x, (y + 1).min(gh - 1))
            } else if m < t_up {
                if y == 0 {
                    (x, y)
                } else {
                    (x, y - 1)
                }
            } else if m < t_left {
                (x.saturating_sub(1), y)
            } else {
                ((x + 1).min(gw - 1), y)
            };
            if grid[ny * gw + nx] < 0 {
                x = nx;
                y = ny;
            }
            if y + kill_gap < front {
                continue 'outer;
            }
        }
    }

    // Mass carried by each node (children are always created after their parents).
    let mut mass = vec![1.0f32; nodes.len()];
    for k in (0..nodes.len()).rev() {
        let p = nodes[k].2;
        if p >= 0 {
            mass[p as usize] += mass[k];
        }
    }
    let r_tip = cell * rng.range(0.3, 0.5);
    let beta = rng.range(0.2, 0.35);
    let r_cap = cell * rng.range(1.2, 2.5);
    let jitter: Vec<[f32; 2]> = (0..nodes.len())
        .map(|_| [rng.range(-0.3, 0.3), rng.range(-0.3, 0.3)])
        .collect();
    let to_image = |p: [f32; 2]| -> [f32; 2] {
        match edge {
            0 => p,
            1 => [p[0], ch - p[1]],
            2 => [ch - p[1], p[0]],
            _ => [p[1], p[0]],
        }
    };
    let centre = |k: usize| -> [f32; 2] {
        let (x, y, _) = nodes[k];
        [
            (x as f32 + 0.5 + jitter[k][0]) * cell,
            (y as f32 + 0.5 + jitter[k][1]) * cell,
        ]
    };
    let radius = |m: f32| (r_tip * m.powf(beta)).min(r_cap);
    for k in 0..nodes.len() {
        let a = centre(k);
        let ra = radius(mass[k]);
        let (b, rb) = if nodes[k].2 >= 0 {
            let p = nodes[k].2 as usize;
            (centre(p), radius(mass[p]))
        } else {
            ([a[0], ch + cell], ra)
        };
        sketch.capsule(to_image(a), ra, to_image(b), rb);
    }
    r_cap.min(radius(nodes.len().max(1) as f32))
}

pub(super) const NEIGHBOURS: [(isize, isize); 8] = [
    (-1, -1),
    (0, -1),
    (1, -1),
    (1, 0),
    (1, 1),
    (0, 1),
    (-1, 1),
    (-1, 0),
];

/// Anisotropic texture of horizontal-ish streaks (rolled foil / polishing marks).
pub(super) fn streak_noise(w: usize, h: usize, rng: &mut Rng) -> Vec<f32> {
    let len = rng.range(4.0, 20.0);
    let mut n = value_noise_xy(w, h, 2.0 * len, 1.5, rng);
    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
    for &v in &n {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    let span = (hi - lo).max(1e-6);
    for v in &mut n {
        *v = (*v - lo) / span * 2.0 - 1.0;
    }
    n
}
