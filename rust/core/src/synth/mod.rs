//! Synthetic SEM-like micrographs for training and testing classifiers.
//!
//! Every morphology class ([`SynthClass`]) is drawn as a clean scene (a height field
//! plus a material map, shaded with a secondary-electron model) and then passed through
//! a randomised image-formation model: point-spread blur, shot and detector noise,
//! scan-line artefacts, uneven illumination / charging, and contrast and gamma changes.
//!
//! Everything is drawn from one `rand_xoshiro::Xoshiro256PlusPlus` stream seeded with
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

use std::fmt;
use std::path::Path;
use std::str::FromStr;

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
    /// radii, often touching in clusters, sometimes an ordered monolayer or a few large
    /// particles on an empty field; about a third as bright-field TEM shows them (dark,
    /// unshaded particles on a bright support film).
    Spheroid,
    /// Polycrystalline grains: Voronoi cells with per-grain grey levels, grain-boundary
    /// grooves, occasional annealing twins, pits and polishing scratches; or spheroidised
    /// steel (small carbides crowding a ferrite matrix); or an etched network of mottled
    /// cells inside wiggly boundaries of uneven width.
    Grains,
    /// Lamellar (pearlite-like) colonies: Voronoi colonies filled with parallel, bent and
    /// often broken plates of random orientation and spacing, sometimes enclosed by a
    /// proeutectoid carbide network along prior grain boundaries.
    Lamellar,
    /// Lithium whiskers / filaments: long, near-constant-diameter filaments with kinks
    /// and rare branches, entangled (later ones lie on top), on a rough substrate.
    Whisker,
    /// Mossy lithium: dense clumps of short, curly, branching filaments with nodules.
    Mossy,
    /// Granular / nodular lithium: packed rounded grains of varied size, some faceted,
    /// with the substrate showing through the gaps.
    Granular,
}

impl SynthClass {
    /// Every class, in a fixed order.
    pub const ALL: [SynthClass; 7] = [
        SynthClass::Dendrite,
        SynthClass::Spheroid,
        SynthClass::Grains,
        SynthClass::Lamellar,
        SynthClass::Whisker,
        SynthClass::Mossy,
        SynthClass::Granular,
    ];

    /// The lowercase name used on the command line and in file names.
    pub fn name(self) -> &'static str {
        match self {
            SynthClass::Dendrite => "dendrite",
            SynthClass::Spheroid => "spheroid",
            SynthClass::Grains => "grains",
            SynthClass::Lamellar => "lamellar",
            SynthClass::Whisker => "whisker",
            SynthClass::Mossy => "mossy",
            SynthClass::Granular => "granular",
        }
    }

    /// What [`Synthesis::mask`] marks for this class.
    pub fn mask_meaning(self) -> &'static str {
        match self {
            SynthClass::Dendrite => "dendrite body",
            SynthClass::Spheroid => "particles",
            SynthClass::Grains => "grain boundaries",
            SynthClass::Lamellar => "lamellae (plates)",
            SynthClass::Whisker => "filaments",
            SynthClass::Mossy => "deposit",
            SynthClass::Granular => "grains",
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
                let names: Vec<&str> = SynthClass::ALL.iter().map(|c| c.name()).collect();
                Error::invalid(format!(
                    "unknown synthetic class '{text}'; expected one of {}",
                    names.join(", ")
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
    /// Burn in what real SEM images carry (after imaging): an instrument data bar of
    /// random layout (text fields, scale bar) along the bottom or top, and/or a scale
    /// bar with its label and a panel letter on the image; the mask is cleared beneath
    /// them. `false` by default.
    pub annotate: bool,
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
            annotate: false,
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
        SynthClass::Dendrite => dendrite::scene(&ctx, &mut rng),
        SynthClass::Spheroid => spheroid::scene(&ctx, &mut rng),
        SynthClass::Grains => grains::scene(&ctx, &mut rng),
        SynthClass::Lamellar => lamellar::scene(&ctx, &mut rng),
        SynthClass::Whisker => whisker::scene(&ctx, &mut rng, false),
        SynthClass::Mossy => whisker::scene(&ctx, &mut rng, true),
        SynthClass::Granular => granular::scene(&ctx, &mut rng),
    };
    let mut data = shade(&scene, w, h);
    if params.imaging {
        imaging::form_image(&mut data, &ctx, &mut rng);
    } else {
        imaging::stretch_unit(&mut data);
    }
    let mut mask = scene.mask;
    if params.annotate {
        annotate::draw(&mut data, &mut mask, w, h, &mut rng);
    }
    Ok(Synthesis {
        image: GrayImage {
            width: w,
            height: h,
            data,
        },
        mask,
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

/// Detector counts of a 16-bit acquisition of `image`: a dark-level offset and a gain drawn
/// from `seed`, so that the grey values fill a random part of 0..=65535 as real 16-bit SEM
/// frames do (rarely the full range). Deterministic in `seed`.
pub fn to_gray16(image: &GrayImage, seed: u64) -> Vec<u16> {
    let mut rng = Rng::new(seed ^ 0x16B1_7DE7_EC70_5EED);
    let offset = rng.range(0.0, 0.25) * 65535.0;
    let span = rng.range(0.1, 1.0) * (65535.0 - offset);
    image
        .data
        .iter()
        .map(|&v| (offset + v.clamp(0.0, 1.0) * span).round() as u16)
        .collect()
}

/// Writes [`to_gray16`]`(image, seed)` as a 16-bit grey file, with the format rule of
/// [`save_gray8`].
pub fn save_gray16(image: &GrayImage, seed: u64, path: &Path) -> Result<()> {
    let (w, h) = dimensions(image.width, image.height)?;
    let buffer =
        image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_raw(w, h, to_gray16(image, seed))
            .ok_or_else(|| Error::invalid("pixel count does not match the image size"))?;
    save_image(image::DynamicImage::ImageLuma16(buffer), path)
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
    let (w, h) = dimensions(width, height)?;
    let buffer = image::GrayImage::from_raw(w, h, bytes.to_vec())
        .ok_or_else(|| Error::invalid("pixel count does not match the image size"))?;
    save_image(image::DynamicImage::ImageLuma8(buffer), path)
}

fn dimensions(width: usize, height: usize) -> Result<(u32, u32)> {
    Ok((
        u32::try_from(width).map_err(|_| Error::invalid("image too wide to save"))?,
        u32::try_from(height).map_err(|_| Error::invalid("image too tall to save"))?,
    ))
}

/// TIFF when `path` ends in `.tif`/`.tiff` (any case), PNG otherwise.
fn save_image(image: image::DynamicImage, path: &Path) -> Result<()> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let format = match ext.as_deref() {
        Some("tif" | "tiff") => image::ImageFormat::Tiff,
        _ => image::ImageFormat::Png,
    };
    image.save_with_format(path, format).map_err(|e| match e {
        image::ImageError::IoError(source) => Error::io(path, source),
        other => Error::io(path, std::io::Error::other(other.to_string())),
    })
}

mod annotate;
mod dendrite;
mod grains;
mod granular;
mod imaging;
mod lamellar;
mod noise;
mod rng;
mod scene;
mod spheroid;
mod whisker;

use rng::Rng;
use scene::{shade, Ctx};
