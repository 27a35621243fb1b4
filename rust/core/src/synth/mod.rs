//! Synthetic SEM-like micrographs for training and testing classifiers.
//!
//! Four morphology classes ([`SynthClass`]) are drawn as a clean scene (a height field
//! plus a material map, shaded with a secondary-electron model) and then passed through
//! a randomised image-formation model: point-spread blur, shot and detector noise,
//! scan-line artefacts, uneven illumination / charging, and contrast and gamma changes.
//!
//! Everything is drawn from one [`Xoshiro256PlusPlus`] stream seeded with
//! [`SynthParams::seed`], consumed in a fixed order on the calling thread (no global RNG,
//! no hash-map iteration), so the same parameters always give bit-identical pixels on a
//! given platform, whatever else runs in parallel.
//!
//! Brightness and contrast are randomised per image (mean grey drawn uniformly, the
//! 1st–99th percentile span scaled to a random width), so global grey-level statistics
//! carry little class information. [`generate_labeled`] also returns a ground-truth mask
//! (see [`SynthClass::mask_meaning`]).
//!
//! Cost is roughly linear in the pixel count: a 512×512 image takes tens of
//! milliseconds in a release build on one core, 2048×1536 a few hundred.
//!
//! ```
//! use visual_ccc_core::synth::{generate, to_gray8, SynthClass, SynthParams};
//! let params = SynthParams::new(SynthClass::Grains, 96, 64, 7);
//! let image = generate(&params).unwrap();
//! assert_eq!(image, generate(&params).unwrap()); // deterministic
//! let bytes = to_gray8(&image); // row-major, 0..=255
//! assert_eq!(bytes.len(), 96 * 64);
//! ```

use std::f32::consts::{FRAC_PI_2, PI, TAU};
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::error::{Error, Result};
use crate::image::pixels::GrayImage;

/// Smallest accepted image side.
pub const MIN_SIDE: usize = 16;
/// Largest accepted image side.
pub const MAX_SIDE: usize = 8192;
/// Accepted range of [`SynthParams::feature_scale`].
pub const FEATURE_SCALE_RANGE: (f32, f32) = (0.25, 4.0);

// ---------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------

/// Morphology drawn by [`generate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SynthClass {
    /// Dendritic metal (lithium) growth: bright branched structures on a darker
    /// substrate, grown from one edge or from nuclei (stochastic branching or
    /// diffusion-limited aggregation).
    Dendrite,
    /// Spheroidal deposits / nanoparticles: overlapping shaded nodules with log-normal
    /// radii, often touching in clusters.
    Spheroid,
    /// Polycrystalline grains: Voronoi cells with per-grain grey levels, grain-boundary
    /// grooves, occasional annealing twins, pits and polishing scratches.
    Grains,
    /// Lamellar (pearlite-like) colonies: Voronoi colonies filled with parallel plates of
    /// random orientation and spacing.
    Lamellar,
}

impl SynthClass {
    /// Every class, in a fixed order.
    pub const ALL: [SynthClass; 4] = [
        SynthClass::Dendrite,
        SynthClass::Spheroid,
        SynthClass::Grains,
        SynthClass::Lamellar,
    ];

    /// The lowercase name used on the command line and in file names.
    pub fn name(self) -> &'static str {
        match self {
            SynthClass::Dendrite => "dendrite",
            SynthClass::Spheroid => "spheroid",
            SynthClass::Grains => "grains",
            SynthClass::Lamellar => "lamellar",
        }
    }

    /// What [`Synthesis::mask`] marks for this class.
    pub fn mask_meaning(self) -> &'static str {
        match self {
            SynthClass::Dendrite => "dendrite body",
            SynthClass::Spheroid => "particles",
            SynthClass::Grains => "grain boundaries",
            SynthClass::Lamellar => "lamellae (plates)",
        }
    }
}

impl fmt::Display for SynthClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SynthClass {
    type Err = Error;

    /// Parses a lowercase class name (`dendrite`, `spheroid`, `grains`, `lamellar`).
    fn from_str(text: &str) -> Result<Self> {
        SynthClass::ALL
            .into_iter()
            .find(|c| c.name() == text)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown synthetic class '{text}'; expected one of dendrite, spheroid, \
                     grains, lamellar"
                ))
            })
    }
}

/// What to generate. Build with [`SynthParams::new`] and adjust the public fields.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthParams {
    pub class: SynthClass,
    /// Image width in pixels, [`MIN_SIDE`]`..=`[`MAX_SIDE`].
    pub width: usize,
    /// Image height in pixels, [`MIN_SIDE`]`..=`[`MAX_SIDE`].
    pub height: usize,
    /// Seed of the single random stream every random choice is drawn from.
    pub seed: u64,
    /// Multiplies the size of the structures (branch thickness, particle radius, grain
    /// and colony size, lamellar spacing); 1.0 by default, within
    /// [`FEATURE_SCALE_RANGE`]. Sizes are otherwise proportional to
    /// `sqrt(width × height)` with random magnification.
    pub feature_scale: f32,
    /// Apply the image-formation model (blur, noise, scan lines, illumination,
    /// contrast/gamma); `true` by default. When `false` the clean shaded scene is
    /// returned, stretched to [0, 1].
    pub imaging: bool,
}

impl SynthParams {
    /// Parameters with the default feature scale (1.0) and imaging on.
    pub fn new(class: SynthClass, width: usize, height: usize, seed: u64) -> Self {
        Self {
            class,
            width,
            height,
            seed,
            feature_scale: 1.0,
            imaging: true,
        }
    }

    /// Checks sizes and the feature scale, with a message naming the bad value.
    pub fn validate(&self) -> Result<()> {
        for (name, value) in [("width", self.width), ("height", self.height)] {
            if !(MIN_SIDE..=MAX_SIDE).contains(&value) {
                return Err(Error::invalid(format!(
                    "synthetic image {name} {value} is outside the supported range \
                     {MIN_SIDE}..={MAX_SIDE} pixels"
                )));
            }
        }
        let (lo, hi) = FEATURE_SCALE_RANGE;
        if !(self.feature_scale.is_finite() && (lo..=hi).contains(&self.feature_scale)) {
            return Err(Error::invalid(format!(
                "feature scale {} is outside the supported range {lo}..={hi}",
                self.feature_scale
            )));
        }
        Ok(())
    }
}

/// An image together with its ground-truth mask.
#[derive(Debug, Clone, PartialEq)]
pub struct Synthesis {
    /// Grey values in [0, 1].
    pub image: GrayImage,
    /// Row-major, one entry per pixel: `true` on the structure that
    /// [`SynthClass::mask_meaning`] names (dendrite body, particles, grain boundaries,
    /// lamellae). Pixel-accurate before blur; the image itself is blurred.
    pub mask: Vec<bool>,
}

/// Generates one image; see [`generate_labeled`] for the ground-truth mask.
pub fn generate(params: &SynthParams) -> Result<GrayImage> {
    generate_labeled(params).map(|s| s.image)
}

/// Generates one image and its ground-truth mask. Deterministic in `params`.
pub fn generate_labeled(params: &SynthParams) -> Result<Synthesis> {
    params.validate()?;
    let (w, h) = (params.width, params.height);
    let mut rng = Rng::new(params.seed);
    let ctx = Ctx {
        w,
        h,
        scale: ((w * h) as f32).sqrt() * params.feature_scale,
    };
    let scene = match params.class {
        SynthClass::Dendrite => dendrite_scene(&ctx, &mut rng),
        SynthClass::Spheroid => spheroid_scene(&ctx, &mut rng),
        SynthClass::Grains => grains_scene(&ctx, &mut rng),
        SynthClass::Lamellar => lamellar_scene(&ctx, &mut rng),
    };
    let mut data = shade(&scene, w, h);
    if params.imaging {
        form_image(&mut data, &ctx, &mut rng);
    } else {
        stretch_unit(&mut data);
    }
    Ok(Synthesis {
        image: GrayImage {
            width: w,
            height: h,
            data,
        },
        mask: scene.mask,
    })
}

/// Converts grey values in [0, 1] to 8-bit (clamped, rounded; NaN becomes 0).
pub fn to_gray8(image: &GrayImage) -> Vec<u8> {
    image
        .data
        .iter()
        .map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
        .collect()
}

/// Writes `image` as an 8-bit grey file: TIFF when `path` ends in `.tif`/`.tiff`
/// (any case), PNG otherwise.
pub fn save_gray8(image: &GrayImage, path: &Path) -> Result<()> {
    save_bytes(&to_gray8(image), image.width, image.height, path)
}

/// Writes a mask as an 8-bit file (0 / 255), with the same format rule as [`save_gray8`].
pub fn save_mask(mask: &[bool], width: usize, height: usize, path: &Path) -> Result<()> {
    if mask.len() != width * height {
        return Err(Error::invalid(format!(
            "mask holds {} values but a {width}×{height} image needs {}",
            mask.len(),
            width * height
        )));
    }
    let bytes: Vec<u8> = mask.iter().map(|&m| if m { 255 } else { 0 }).collect();
    save_bytes(&bytes, width, height, path)
}

fn save_bytes(bytes: &[u8], width: usize, height: usize, path: &Path) -> Result<()> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let format = match ext.as_deref() {
        Some("tif" | "tiff") => image::ImageFormat::Tiff,
        _ => image::ImageFormat::Png,
    };
    let (w, h) = (
        u32::try_from(width).map_err(|_| Error::invalid("image too wide to save"))?,
        u32::try_from(height).map_err(|_| Error::invalid("image too tall to save"))?,
    );
    image::save_buffer_with_format(path, bytes, w, h, image::ColorType::L8, format).map_err(|e| {
        match e {
            image::ImageError::IoError(source) => Error::io(path, source),
            other => Error::io(path, std::io::Error::other(other.to_string())),
        }
    })
}

// ---------------------------------------------------------------------------------------
// Random numbers
// ---------------------------------------------------------------------------------------

/// The single random stream; every draw goes through it in program order.
struct Rng {
    inner: Xoshiro256PlusPlus,
    spare: Option<f32>,
}

impl Rng {
    fn new(seed: u64) -> Self {
        Self {
            inner: Xoshiro256PlusPlus::seed_from_u64(seed),
            spare: None,
        }
    }

    #[inline]
    fn u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// Uniform in [0, 1).
    #[inline]
    fn unit(&mut self) -> f32 {
        (self.u64() >> 40) as f32 * (1.0 / 16_777_216.0)
    }

    #[inline]
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }

    /// Log-uniform in [lo, hi] (both positive).
    fn log_range(&mut self, lo: f32, hi: f32) -> f32 {
        self.range(lo.ln(), hi.ln()).exp()
    }

    /// Uniform integer in [0, n).
    #[inline]
    fn below(&mut self, n: usize) -> usize {
        ((self.u64() as u128 * n as u128) >> 64) as usize
    }

    /// Uniform integer in [lo, hi].
    fn int(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    #[inline]
    fn chance(&mut self, p: f32) -> bool {
        self.unit() < p
    }

    fn sign(&mut self) -> f32 {
        if self.chance(0.5) {
            1.0
        } else {
            -1.0
        }
    }

    fn angle(&mut self) -> f32 {
        self.range(0.0, TAU)
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f32 {
        if let Some(v) = self.spare.take() {
            return v;
        }
        let u1 = (self.unit() + 1.0 / 33_554_432.0).min(1.0);
        let u2 = self.unit();
        let r = (-2.0 * u1.ln()).sqrt();
        let (s, c) = (TAU * u2).sin_cos();
        self.spare = Some(r * s);
        r * c
    }

    /// Approximately normal (Irwin–Hall of four uniforms, unit variance), for
    /// per-pixel noise where speed matters more than tails.
    #[inline]
    fn fast_normal(&mut self) -> f32 {
        let v = self.u64();
        let sum = (v & 0xffff) + ((v >> 16) & 0xffff) + ((v >> 32) & 0xffff) + (v >> 48);
        (sum as f32 * (1.0 / 65_536.0) - 2.0) * 1.732_050_8
    }
}

// ---------------------------------------------------------------------------------------
// Scene description and shading
// ---------------------------------------------------------------------------------------

struct Ctx {
    w: usize,
    h: usize,
    /// Reference length for feature sizes: sqrt(w × h) × feature scale.
    scale: f32,
}

/// How the height field turns into brightness.
struct Shading {
    /// Weight of secondary-electron edge brightening (yield rising with surface tilt).
    edge: f32,
    /// Gain on 1 − cos θ (θ the surface tilt) before edge brightening saturates at 1.
    edge_clamp: f32,
    /// Weight of directional (detector-side, Lambert-like) shading.
    directional: f32,
    /// Unit direction towards the detector in the image plane.
    light: [f32; 2],
    /// Darkening of crevices (height below its local average).
    cavity: f32,
    /// Length scale in pixels of the local average used for cavities.
    cavity_sigma: f32,
}

impl Shading {
    fn random(rng: &mut Rng, edge: (f32, f32), directional: (f32, f32), cavity: f32) -> Self {
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

struct Scene {
    /// Surface height in pixels.
    height: Vec<f32>,
    /// Intrinsic brightness (composition, channelling contrast), about [0, 1].
    material: Vec<f32>,
    mask: Vec<bool>,
    shading: Shading,
}

fn shade(scene: &Scene, w: usize, h: usize) -> Vec<f32> {
    let s = &scene.shading;
    let z = &scene.height;
    let smooth_z = if s.cavity > 0.0 {
        let mut b = z.clone();
        blur(&mut b, w, h, s.cavity_sigma, s.cavity_sigma);
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

// ---------------------------------------------------------------------------------------
// Dendrites
// ---------------------------------------------------------------------------------------

/// A height field being drawn into by stamping rounded capsules.
struct Canvas {
    w: usize,
    h: usize,
    z: Vec<f32>,
}

impl Canvas {
    fn new(w: usize, h: usize) -> Self {
        Self {
            w,
            h,
            z: vec![0.0; w * h],
        }
    }

    /// Max-blends a tapered capsule from `a` (radius `ra`) to `b` (radius `rb`) whose
    /// cross-section is an ellipse of height `zscale × radius` sitting on `base`.
    fn capsule(&mut self, a: [f32; 2], ra: f32, b: [f32; 2], rb: f32, zscale: f32, base: f32) {
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

    fn coverage(&self) -> f32 {
        self.z.iter().filter(|&&v| v > 0.0).count() as f32 / self.z.len() as f32
    }
}

/// Capsules recorded while growing, drawn once at the end (so that their thickness can
/// still be adjusted).
#[derive(Default)]
struct Sketch {
    caps: Vec<([f32; 2], f32, [f32; 2], f32)>,
}

impl Sketch {
    fn capsule(&mut self, a: [f32; 2], ra: f32, b: [f32; 2], rb: f32) {
        self.caps.push((a, ra, b, rb));
    }

    fn scale_radii(&mut self, factor: f32) {
        for c in &mut self.caps {
            c.1 *= factor;
            c.3 *= factor;
        }
    }

    fn render(&self, w: usize, h: usize, zscale: f32) -> Canvas {
        let mut canvas = Canvas::new(w, h);
        for &(a, ra, b, rb) in &self.caps {
            canvas.capsule(a, ra, b, rb, zscale, 0.0);
        }
        canvas
    }
}

/// Parameters of the stochastic branching walker, drawn once per image.
struct BranchStyle {
    step: f32,
    wander: f32,
    pull: f32,
    taper: f32,
    r_stop: f32,
    side_spacing: f32,
    side_prob: f32,
    side_angle: f32,
    side_radius: f32,
    side_length: f32,
    side_bend: f32,
    alternate: bool,
    split_prob: f32,
    split_angle: f32,
    max_gen: u8,
    /// Steps before a tip starts checking for collisions (so it can leave its parent).
    grace: u32,
}

#[derive(Clone)]
struct Tip {
    pos: [f32; 2],
    angle: f32,
    pref: f32,
    r0: f32,
    len: f32,
    total: f32,
    gen: u8,
    id: u32,
    parent: u32,
    age: u32,
    next_side: f32,
    side_sign: f32,
}

/// Coarse grid recording which branch occupies each cell, so tips stop when they run
/// into another branch instead of crossing it.
struct Occupancy {
    cell: f32,
    gw: usize,
    gh: usize,
    ids: Vec<u32>,
    /// Branch order of every id handed out (index 0: no branch).
    gens: Vec<u8>,
}

impl Occupancy {
    fn new(w: usize, h: usize, cell: f32) -> Self {
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

    fn new_id(&mut self, gen: u8) -> u32 {
        self.gens.push(gen);
        (self.gens.len() - 1) as u32
    }

    fn get(&self, p: [f32; 2]) -> u32 {
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

    fn mark(&mut self, p: [f32; 2], r: f32, id: u32) {
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

fn wrap_angle(a: f32) -> f32 {
    (a + PI).rem_euclid(TAU) - PI
}

fn dendrite_scene(ctx: &Ctx, rng: &mut Rng) -> Scene {
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
fn branching_growth(ctx: &Ctx, rng: &mut Rng, sketch: &mut Sketch) -> f32 {
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
fn new_tip(
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
fn grow(
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
fn dla_forest(ctx: &Ctx, rng: &mut Rng, sketch: &mut Sketch) -> f32 {
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

const NEIGHBOURS: [(isize, isize); 8] = [
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
fn streak_noise(w: usize, h: usize, rng: &mut Rng) -> Vec<f32> {
    let mut n: Vec<f32> = (0..w * h).map(|_| rng.fast_normal()).collect();
    let len = rng.range(4.0, 20.0);
    blur(&mut n, w, h, len, 0.6);
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

// ---------------------------------------------------------------------------------------
// Spheroids
// ---------------------------------------------------------------------------------------

fn spheroid_scene(ctx: &Ctx, rng: &mut Rng) -> Scene {
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

// ---------------------------------------------------------------------------------------
// Voronoi tessellation (grains and colonies)
// ---------------------------------------------------------------------------------------

/// Seeds bucketed in a regular grid whose cells are `cell` pixels wide; grid cell
/// `(cx, cy)` covers pixels `[(cx − 1)·cell, cx·cell)` so that one ring of cells lies
/// outside the image on each side.
struct SeedGrid {
    cell: f32,
    gw: usize,
    gh: usize,
    /// `start[k]..start[k + 1]` indexes `seeds` for grid cell `k`.
    start: Vec<u32>,
    seeds: Vec<[f32; 2]>,
}

impl SeedGrid {
    /// Jittered-grid seeds: per cell none (`p_drop`), one, or two (`p_extra`).
    fn jittered(
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
struct Tessellation {
    labels: Vec<u32>,
    border: Vec<f32>,
}

/// Runs of pixel indices sharing one grid column/row index (`floor(p / cell) + 1`).
fn runs(n: usize, cell: f32) -> Vec<(usize, usize, usize)> {
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

fn tessellate(w: usize, h: usize, grid: &SeedGrid) -> Tessellation {
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
fn label_block(
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
fn warp_tessellation(
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

struct Grain {
    level: f32,
    grad: [f32; 2],
    twin: Option<Twin>,
}

struct Twin {
    normal: [f32; 2],
    offset: f32,
    half_width: f32,
    level: f32,
}

fn grains_scene(ctx: &Ctx, rng: &mut Rng) -> Scene {
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
    if rng.chance(0.5) {
        let wobble = size * rng.range(0.01, 0.06);
        warp_tessellation(&mut tess, w, h, wobble, size * 0.7, rng);
    }
    let spread = rng.range(0.15, 0.6);
    let p_twin = if rng.chance(0.5) {
        rng.range(0.1, 0.5)
    } else {
        0.0
    };
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

    let bw = (ctx.scale * rng.range(0.0008, 0.004)).clamp(0.6, 6.0);
    let dark_boundaries = rng.chance(0.75);
    let b_contrast = if dark_boundaries {
        -rng.range(0.15, 0.5)
    } else {
        rng.range(0.1, 0.35)
    };
    let groove = rng.range(0.0, 1.5) * bw;
    let tex = fbm(w, h, size * rng.range(0.1, 0.4), 2, rng);
    let tex_amp = rng.range(0.0, 0.05);

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
            let profile = gauss_profile(d / bw);
            v += b_contrast * profile + tex_amp * tex[i];
            material[i] = v;
            height[i] = -groove * profile;
            mask[i] = d < bw;
        }
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

/// Draws a long straight groove as a chain of short capsules (bounded boxes).
fn draw_line(canvas: &mut Canvas, centre: [f32; 2], dir: [f32; 2], half: f32, r: f32, zscale: f32) {
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

// ---------------------------------------------------------------------------------------
// Lamellar colonies
// ---------------------------------------------------------------------------------------

struct Colony {
    normal: [f32; 2],
    inv_spacing: f32,
    phase: f32,
    ferrite: bool,
    level: f32,
}

fn lamellar_scene(ctx: &Ctx, rng: &mut Rng) -> Scene {
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
    let p_ferrite = if rng.chance(0.5) {
        rng.range(0.05, 0.3)
    } else {
        0.0
    };
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
    let warp_amp = rng.range(0.2, 2.5);
    let warp = fbm(w, h, spacing * rng.range(6.0, 20.0), 2, rng);
    // Degenerate (broken) lamellae: each plate is interrupted independently, by 1-D
    // noise along the plate hashed from (salt, colony, plate index, segment).
    let fragment = rng.chance(0.35);
    let frag_salt = rng.u64();
    let frag_inv_len = 1.0 / (spacing * rng.range(1.5, 6.0));
    let frag_gap = rng.range(0.15, 0.45);
    let plate_level = ferrite_level + rng.range(0.15, 0.45);
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

// ---------------------------------------------------------------------------------------
// Image formation
// ---------------------------------------------------------------------------------------

/// Applies contrast standardisation, uneven illumination and charging, gamma, the
/// point-spread function, scan jitter, shot and detector noise and scan-line artefacts.
fn form_image(data: &mut [f32], ctx: &Ctx, rng: &mut Rng) {
    let (w, h) = (ctx.w, ctx.h);

    // 1. Random brightness and contrast, so that mean grey is no class cue: the mean
    //    goes to a random level, and the 1st–99th percentile range to a random span
    //    (percentiles rather than the standard deviation, so that a faint background
    //    texture is not blown up when the structure covers little of the field).
    let mean = (data.iter().map(|&v| v as f64).sum::<f64>() / data.len() as f64) as f32;
    let stride = (data.len() / 65_536).max(1);
    let mut sample: Vec<f32> = data.iter().step_by(stride).copied().collect();
    let last = sample.len() - 1;
    let p_lo = *sample.select_nth_unstable_by(last / 100, f32::total_cmp).1;
    let p_hi = *sample
        .select_nth_unstable_by(last - last / 100, f32::total_cmp)
        .1;
    let target_mean = rng.range(0.28, 0.6);
    let span = rng.range(0.35, 0.75);
    let mut k = span / (p_hi - p_lo).max(1e-6);
    if p_hi > mean {
        k = k.min((1.05 - target_mean) / (p_hi - mean));
    }
    if mean > p_lo {
        k = k.min((target_mean + 0.05) / (mean - p_lo));
    }
    for v in data.iter_mut() {
        *v = target_mean + (*v - mean) * k;
    }

    // 2. Uneven illumination (linear ramp + smooth blotches) and charging glow.
    let side = ctx.w.max(ctx.h) as f32;
    let ramp_amp = rng.range(0.0, 0.25);
    let ramp_dir = rng.angle();
    let (rs, rc) = ramp_dir.sin_cos();
    let blotch_amp = rng.range(0.0, 0.15);
    let blotch = fbm(w, h, side * rng.range(0.2, 0.6), 2, rng);
    let glow_amp = if rng.chance(0.4) {
        rng.range(0.02, 0.15)
    } else {
        0.0
    };
    let glow = if glow_amp > 0.0 {
        Some(fbm(w, h, side * rng.range(0.15, 0.4), 2, rng))
    } else {
        None
    };
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let t = ((x as f32 - cx) * rc + (y as f32 - cy) * rs) / side;
            let mut gain = 1.0 + ramp_amp * t + blotch_amp * blotch[i];
            gain = gain.max(0.2);
            let mut v = data[i] * gain;
            if let Some(g) = &glow {
                v += glow_amp * g[i].max(0.0) * 2.0;
            }
            data[i] = v;
        }
    }

    // 3. Gamma.
    let gamma = rng.range(-0.35, 0.35).exp();
    const STEPS: usize = 1024;
    let lut: Vec<f32> = (0..=STEPS + 1)
        .map(|k| (k.min(STEPS) as f32 / STEPS as f32).powf(gamma))
        .collect();
    for v in data.iter_mut() {
        let t = v.clamp(0.0, 1.0) * STEPS as f32;
        let k = t as usize;
        *v = lut[k] + (lut[k + 1] - lut[k]) * (t - k as f32);
    }

    // 4. Point-spread function, sometimes astigmatic.
    let sigma = rng.range(0.4, 1.6) * (side / 1024.0).clamp(0.5, 1.5).sqrt();
    let astig = if rng.chance(0.3) {
        rng.range(0.7, 1.4)
    } else {
        1.0
    };
    blur(data, w, h, sigma * astig, sigma / astig);

    // 5. Scan jitter: rows displaced sideways by a slowly wandering offset.
    let jitter_amp = if rng.chance(0.5) {
        rng.range(0.1, 1.2)
    } else {
        0.0
    };
    if jitter_amp > 0.0 {
        let mut offset = 0.0f32;
        let mut row = vec![0.0f32; w];
        for y in 0..h {
            offset = 0.8 * offset + 0.6 * jitter_amp * rng.normal();
            let shift = offset.clamp(-3.0, 3.0);
            let src = &data[y * w..(y + 1) * w];
            for (x, out) in row.iter_mut().enumerate() {
                let sx = (x as f32 - shift).clamp(0.0, (w - 1) as f32);
                let x0 = sx.floor() as usize;
                let x1 = (x0 + 1).min(w - 1);
                let f = sx - x0 as f32;
                *out = src[x0] + (src[x1] - src[x0]) * f;
            }
            data[y * w..(y + 1) * w].copy_from_slice(&row);
        }
    }

    // 6. Shot noise (signal-dependent) and detector noise, slightly correlated along
    //    the scan direction.
    let electrons = rng.log_range(25.0, 1000.0);
    let detector = rng.range(0.003, 0.025);
    let corr = rng.range(0.0, 0.5);
    let norm = 1.0 / (1.0 + 2.0 * corr * corr).sqrt();
    let mut prev = rng.fast_normal();
    let mut cur = rng.fast_normal();
    for y in 0..h {
        for x in 0..w {
            let next = rng.fast_normal();
            let n = (cur + corr * (prev + next)) * norm;
            prev = cur;
            cur = next;
            let i = y * w + x;
            let v = data[i].max(0.0);
            data[i] = v + (v / electrons).sqrt() * n + detector * rng.fast_normal();
        }
    }

    // 7. Scan-line artefacts: per-row offset and gain jitter, a few glitch lines.
    let row_offset = rng.range(0.0, 0.02);
    let row_gain = rng.range(0.0, 0.03);
    let glitches = if rng.chance(0.3) { rng.int(1, 4) } else { 0 };
    let mut offsets: Vec<f32> = (0..h).map(|_| row_offset * rng.normal()).collect();
    let gains: Vec<f32> = (0..h).map(|_| 1.0 + row_gain * rng.normal()).collect();
    for _ in 0..glitches {
        let y = rng.below(h);
        let len = rng.int(1, 3);
        let amp = rng.sign() * rng.range(0.03, 0.12);
        for o in offsets.iter_mut().skip(y).take(len) {
            *o += amp;
        }
    }
    for y in 0..h {
        let (g, o) = (gains[y], offsets[y]);
        for v in &mut data[y * w..(y + 1) * w] {
            *v = (*v * g + o).clamp(0.0, 1.0);
        }
    }
}

/// Stretches values linearly onto [0, 1] (constant images become 0.5).
fn stretch_unit(data: &mut [f32]) {
    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
    for &v in data.iter() {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if hi - lo < 1e-9 {
        data.fill(0.5);
    } else {
        let k = 1.0 / (hi - lo);
        for v in data.iter_mut() {
            *v = ((*v - lo) * k).clamp(0.0, 1.0);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Noise fields and filters
// ---------------------------------------------------------------------------------------

/// Uniform value in [0, 1) from two integers (SplitMix64 finaliser), for noise that
/// must be addressed by key rather than drawn in sequence.
#[inline]
fn hash_unit(key: u64, j: u64) -> f32 {
    let mut z = key ^ j.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 40) as f32 * (1.0 / 16_777_216.0)
}

/// exp(−t²), exactly zero beyond |t| = 4 (avoids slow underflow paths).
#[inline]
fn gauss_profile(t: f32) -> f32 {
    if t.abs() < 4.0 {
        (-t * t).exp()
    } else {
        0.0
    }
}

/// Floor without a libm call (values well inside the i32 range).
#[inline]
fn fast_floor(x: f32) -> f32 {
    let i = x as i32 as f32;
    if i > x {
        i - 1.0
    } else {
        i
    }
}

#[inline]
fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Smooth value noise in [−1, 1] with features about `cell` pixels across.
fn value_noise(w: usize, h: usize, cell: f32, rng: &mut Rng) -> Vec<f32> {
    let cell = cell.max(1.0);
    let gw = (w as f32 / cell).ceil() as usize + 2;
    let gh = (h as f32 / cell).ceil() as usize + 2;
    let lattice: Vec<f32> = (0..gw * gh).map(|_| rng.unit() * 2.0 - 1.0).collect();
    let (ox, oy) = (rng.unit(), rng.unit());
    let fade = |t: f32| t * t * (3.0 - 2.0 * t);
    let cols: Vec<(usize, f32)> = (0..w)
        .map(|x| {
            let f = x as f32 / cell + ox;
            let i = f.floor();
            ((i as usize).min(gw - 2), fade(f - i))
        })
        .collect();
    let mut out = vec![0.0f32; w * h];
    let mut mixed = vec![0.0f32; gw];
    for (y, row) in out.chunks_exact_mut(w).enumerate() {
        let f = y as f32 / cell + oy;
        let iy = (f.floor() as usize).min(gh - 2);
        let ty = fade(f - f.floor());
        let r0 = &lattice[iy * gw..(iy + 1) * gw];
        let r1 = &lattice[(iy + 1) * gw..(iy + 2) * gw];
        for ((m, &a), &b) in mixed.iter_mut().zip(r0).zip(r1) {
            *m = a + (b - a) * ty;
        }
        for (o, &(ix, tx)) in row.iter_mut().zip(&cols) {
            let a = mixed[ix];
            *o = a + (mixed[ix + 1] - a) * tx;
        }
    }
    out
}

/// Fractal sum of value noise: `octaves` layers, each half the size and amplitude of
/// the previous, normalised to about [−1, 1].
fn fbm(w: usize, h: usize, cell: f32, octaves: usize, rng: &mut Rng) -> Vec<f32> {
    let mut out = value_noise(w, h, cell, rng);
    let mut amp = 1.0;
    let mut total = 1.0;
    for k in 1..octaves {
        amp *= 0.5;
        total += amp;
        let layer = value_noise(w, h, cell / (1 << k) as f32, rng);
        for (o, l) in out.iter_mut().zip(&layer) {
            *o += amp * l;
        }
    }
    for o in &mut out {
        *o /= total;
    }
    out
}

/// Gaussian blur with separate horizontal and vertical sigmas (pixels), clamped edges.
/// Sigmas above 3 use three box passes.
fn blur(data: &mut [f32], w: usize, h: usize, sx: f32, sy: f32) {
    let mut tmp = vec![0.0f32; w * h];
    if sx > 0.2 {
        if sx > 3.0 {
            let r = box_radius(sx);
            for _ in 0..3 {
                box_rows(data, &mut tmp, w, h, r);
                data.copy_from_slice(&tmp);
            }
        } else {
            gauss_rows(data, &mut tmp, w, h, &kernel(sx));
            data.copy_from_slice(&tmp);
        }
    }
    if sy > 0.2 {
        if sy > 3.0 {
            let r = box_radius(sy);
            for _ in 0..3 {
                box_cols(data, &mut tmp, w, h, r);
                data.copy_from_slice(&tmp);
            }
        } else {
            gauss_cols(data, &mut tmp, w, h, &kernel(sy));
            data.copy_from_slice(&tmp);
        }
    }
}

fn kernel(sigma: f32) -> Vec<f32> {
    let r = (3.0 * sigma).ceil() as isize;
    let mut k: Vec<f32> = (-r..=r)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let s: f32 = k.iter().sum();
    for v in &mut k {
        *v /= s;
    }
    k
}

/// Radius of a box whose three-fold repetition approximates a Gaussian of `sigma`.
fn box_radius(sigma: f32) -> usize {
    let width = (4.0 * sigma * sigma + 1.0).sqrt();
    (((width - 1.0) / 2.0).round() as usize).max(1)
}

fn gauss_rows(src: &[f32], dst: &mut [f32], w: usize, h: usize, k: &[f32]) {
    let r = k.len() / 2;
    let mut padded = vec![0.0f32; w + 2 * r];
    for y in 0..h {
        let row = &src[y * w..(y + 1) * w];
        padded[r..r + w].copy_from_slice(row);
        let (first, last) = (row[0], row[w - 1]);
        padded[..r].fill(first);
        padded[r + w..].fill(last);
        let out = &mut dst[y * w..(y + 1) * w];
        out.fill(0.0);
        for (j, &kv) in k.iter().enumerate() {
            for (o, &v) in out.iter_mut().zip(&padded[j..j + w]) {
                *o += kv * v;
            }
        }
    }
}

fn gauss_cols(src: &[f32], dst: &mut [f32], w: usize, h: usize, k: &[f32]) {
    let r = k.len() / 2;
    for y in 0..h {
        let out = &mut dst[y * w..(y + 1) * w];
        out.fill(0.0);
        for (j, &kv) in k.iter().enumerate() {
            let yy = (y + j).saturating_sub(r).min(h - 1);
            let row = &src[yy * w..(yy + 1) * w];
            for (o, &v) in out.iter_mut().zip(row) {
                *o += kv * v;
            }
        }
    }
}

fn box_rows(src: &[f32], dst: &mut [f32], w: usize, h: usize, r: usize) {
    let norm = 1.0 / (2 * r + 1) as f32;
    for y in 0..h {
        let row = &src[y * w..(y + 1) * w];
        let at = |i: isize| row[i.clamp(0, w as isize - 1) as usize];
        let mut acc: f32 = (-(r as isize)..=r as isize).map(at).sum();
        let out = &mut dst[y * w..(y + 1) * w];
        for (x, o) in out.iter_mut().enumerate() {
            *o = acc * norm;
            let x = x as isize;
            acc += at(x + r as isize + 1) - at(x - r as isize);
        }
    }
}

fn box_cols(src: &[f32], dst: &mut [f32], w: usize, h: usize, r: usize) {
    let norm = 1.0 / (2 * r + 1) as f32;
    let row = |i: isize| {
        let y = i.clamp(0, h as isize - 1) as usize;
        &src[y * w..(y + 1) * w]
    };
    let mut acc = vec![0.0f32; w];
    for i in -(r as isize)..=r as isize {
        for (a, &v) in acc.iter_mut().zip(row(i)) {
            *a += v;
        }
    }
    for y in 0..h {
        for ((o, &a), _) in dst[y * w..(y + 1) * w].iter_mut().zip(&acc).zip(0..) {
            *o = a * norm;
        }
        let (add, sub) = (
            row(y as isize + r as isize + 1),
            row(y as isize - r as isize),
        );
        for ((a, &p), &m) in acc.iter_mut().zip(add).zip(sub) {
            *a += p - m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blur_preserves_constant_images() {
        let (w, h) = (23, 17);
        for sigma in [0.5, 2.0, 6.0] {
            let mut d = vec![0.25f32; w * h];
            blur(&mut d, w, h, sigma, sigma);
            assert!(d.iter().all(|v| (v - 0.25).abs() < 1e-5), "sigma {sigma}");
        }
    }

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

    #[test]
    fn rng_helpers_stay_in_range() {
        let mut rng = Rng::new(1);
        for _ in 0..10_000 {
            let u = rng.unit();
            assert!((0.0..1.0).contains(&u));
            assert!(rng.below(7) < 7);
            let n = rng.fast_normal();
            assert!(n.abs() < 3.5);
        }
    }
}
