//! Learned foreground probability: a per-pixel map from a small U-Net that the default
//! clustering uses as a feature next to smoothed grey.
//!
//! k-means on smoothed grey alone splits a particle micrograph at a grey level, which
//! cuts through grainy or shaded backgrounds and through particles whose faces match the
//! background (0.72 mean IoU on the EMPS masks). The network instead predicts which
//! pixels belong to compact objects on a background: closed outlines, filled interiors,
//! background grain that is not an object. It was trained with the grey scale randomly
//! inverted, so it finds dark (TEM) and bright (SEM) particles alike, from their shape
//! and surroundings rather than from which grey they have. It is trained by
//! `training/train_foreground.py` on the EMPS masks (docs/models/foreground.md) and
//! bundled into this library, so clustering needs no model file, only ONNX Runtime.
//!
//! Input normalisation (mirrored by the training script):
//! 1. grey shrunk with the antialiasing triangle filter so the longer side is at most
//!    the model's working size, its `visualccc.working_size` metadata (never enlarged);
//! 2. `z = (v − median) / h`, where `h` is half the range between the 2 % and 98 %
//!    percentiles (so panel borders, labels and scale bars do not set the scale), clipped
//!    to ±[`CLIP`];
//! 3. edge-padded to a multiple of 32 (up to five 2× poolings); the output is cropped
//!    back and bilinearly enlarged to the image size;
//! 4. the network sees the input in the four [`ORIENTATIONS`] (one batch) and its maps,
//!    turned back, are averaged.

use std::path::Path;
use std::sync::{Arc, Mutex};

use ort::session::Session;

use crate::error::{Error, Result};
use crate::image::pixels::{GrayImage, ImageView};
use crate::model::preprocess;
use crate::model::runtime::RuntimeConfig;
use crate::model::{model_error, new_session, run_locked, ModelOptions, MAX_INPUT_SIZE};

/// Metadata key: the longest side, in pixels, of the image the network was trained to
/// see (written by the training script, so the size lives with the weights).
const WORKING_SIZE_KEY: &str = "visualccc.working_size";
/// Working sizes a model may ask for: up to the side any model input may have.
const WORKING_SIZES: std::ops::RangeInclusive<usize> = MULTIPLE..=MAX_INPUT_SIZE;
/// Normalised input values are clipped to ±CLIP.
pub const CLIP: f32 = 3.0;
/// The network's input sides must be multiples of this.
const MULTIPLE: usize = 32;
/// Mirrorings (left–right, top–bottom) of the input the network sees; their maps are
/// averaged. The map of a mirrored image is then the mirrored map, and the average is
/// steadier than one run: mean foreground IoU on the EMPS halves the
/// network never saw 0.836 → 0.845 and 0.811 → 0.824, for four times the network work at
/// the working size (docs/models/foreground.md).
const ORIENTATIONS: [(bool, bool); 4] =
    [(false, false), (true, false), (false, true), (true, true)];
/// A map whose mean confidence, mean |2p − 1|, reaches this, and which puts at least
/// [`MIN_SIDE_FRACTION`] of the image on each side of p = 0.5, has found particles:
/// [`clustering_weight`] then weighs it [`CONFIDENT_MAP_WEIGHT`]. On the EMPS halves
/// the network never saw, 96 % of the images pass; of the images without particles we
/// tried, plain two-region images score 0.04–0.57 and UHCS steel fields mostly 0.35–0.79
/// (docs/models/foreground.md).
const CONFIDENT_MAP: f64 = 0.85;
/// See [`CONFIDENT_MAP`]: a confident map that finds no particles (or nothing else)
/// carries only its noise, which weight would amplify.
const MIN_SIDE_FRACTION: f64 = 0.002;
/// The weight of a confident map against 1 for smoothed grey: k-means then follows the
/// map where grey alone cuts through rim-bright particles or shaded backgrounds (mean
/// IoU on the unseen halves 0.867 → 0.900; docs/models/foreground.md). Other maps weigh
/// 1, because on an image without particles the map can mark region boundaries and
/// one side, and a heavier weight split plain two-region images wrongly.
const CONFIDENT_MAP_WEIGHT: f64 = 1.5;

/// The weight of the foreground feature in the clustering, given its map (at any
/// size): [`CONFIDENT_MAP_WEIGHT`] for a confident map that finds particles, else 1.
pub fn clustering_weight(map: &GrayImage) -> f64 {
    let n = map.data.len().max(1) as f64;
    let confidence = map
        .data
        .iter()
        .map(|&p| (2.0 * p - 1.0).abs() as f64)
        .sum::<f64>()
        / n;
    let foreground = map.data.iter().filter(|&&p| p > 0.5).count() as f64 / n;
    let both_sides = (MIN_SIDE_FRACTION..=1.0 - MIN_SIDE_FRACTION).contains(&foreground);
    if confidence >= CONFIDENT_MAP && both_sides {
        CONFIDENT_MAP_WEIGHT
    } else {
        1.0
    }
}

/// The bundled model (see the module documentation).
const BUNDLED: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../models/features/foreground.onnx"
));
/// Name of the bundled model in errors.
const BUNDLED_NAME: &str = "bundled foreground model (models/features/foreground.onnx)";

/// A loaded foreground network. Runs are serialised by a lock (`ort` needs exclusive
/// access to a session while it runs).
pub struct ForegroundModel {
    input_name: String,
    /// Longest side of the network input (see [`WORKING_SIZE_KEY`]).
    working_size: usize,
    session: Mutex<Session>,
}

impl std::fmt::Debug for ForegroundModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForegroundModel").finish_non_exhaustive()
    }
}

/// The bundled model, loaded once per process (a failed load is retried next time).
static BUNDLED_MODEL: Mutex<Option<Arc<ForegroundModel>>> = Mutex::new(None);

impl ForegroundModel {
    /// The model bundled into this library; loads ONNX Runtime (from `runtime`) if needed.
    /// It runs on one ONNX Runtime thread, so that its map, and the labels of clusterings
    /// that use it, do not depend on the thread count (the network is small).
    pub fn bundled(runtime: &RuntimeConfig) -> Result<Arc<Self>> {
        let mut cached = BUNDLED_MODEL
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(model) = cached.as_ref() {
            return Ok(model.clone());
        }
        let options = ModelOptions {
            threads: 1,
            runtime: runtime.clone(),
        };
        let model = Arc::new(Self::from_bytes(
            BUNDLED,
            Path::new(BUNDLED_NAME),
            &options,
        )?);
        *cached = Some(model.clone());
        Ok(model)
    }

    /// A foreground model from ONNX bytes (`path` names it in errors): one float input
    /// `[N,1,H,W]`, a float output `probability` of the same shape and its working size
    /// in the metadata.
    pub fn from_bytes(bytes: &[u8], path: &Path, options: &ModelOptions) -> Result<Self> {
        let session = new_session(bytes, options, path)?;
        let input_name = match session.inputs.as_slice() {
            [input] => input.name.clone(),
            inputs => {
                return Err(model_error(
                    path,
                    format!("expected one input [N,1,H,W], found {}", inputs.len()),
                ))
            }
        };
        if !session.outputs.iter().any(|o| o.name == "probability") {
            return Err(model_error(path, "no output named 'probability'"));
        }
        let working_size = {
            let metadata = session
                .metadata()
                .map_err(|err| model_error(path, format!("cannot read metadata: {err}")))?;
            parse_working_size(metadata.custom(WORKING_SIZE_KEY).ok().flatten())
                .map_err(|message| model_error(path, message))?
        };
        Ok(Self {
            input_name,
            working_size,
            session: Mutex::new(session),
        })
    }

    /// Foreground probability (0–1) of every pixel of `view`, row-major at its size.
    pub fn probability(&self, view: &ImageView) -> Result<GrayImage> {
        let small = self.working_probability(view)?;
        let data = crate::image::resample::upsample(
            &small.data,
            small.width,
            small.height,
            view.width(),
            view.height(),
        );
        GrayImage::new(view.width(), view.height(), data)
    }

    /// Foreground probability at the working size (longer side at most the model's
    /// working size): the network's own output, which
    /// [`ForegroundModel::probability`] enlarges bilinearly to the image size.
    pub fn working_probability(&self, view: &ImageView) -> Result<GrayImage> {
        view.ensure_finite()?;
        let input = normalised_input(view, self.working_size);
        let (w, h) = (input.width, input.height);
        let (pw, ph) = (w.next_multiple_of(MULTIPLE), h.next_multiple_of(MULTIPLE));
        // Each orientation mirrored first, then edge-padded on the right and bottom, as
        // if the image had been taken that way.
        let mut batch = Vec::with_capacity(ORIENTATIONS.len() * pw * ph);
        for &(mirror_x, mirror_y) in &ORIENTATIONS {
            for y in 0..ph {
                let y = y.min(h - 1);
                let row = &input.data[if mirror_y { h - 1 - y } else { y } * w..][..w];
                if mirror_x {
                    batch.extend(row.iter().rev());
                    batch.extend(std::iter::repeat_n(row[0], pw - w));
                } else {
                    batch.extend_from_slice(row);
                    batch.extend(std::iter::repeat_n(row[w - 1], pw - w));
                }
            }
        }
        let shape = [ORIENTATIONS.len(), 1, ph, pw];
        let averaged = run_locked(&self.session, &self.input_name, shape, batch, |outputs| {
            let (_, values) =
                outputs["probability"]
                    .try_extract_tensor::<f32>()
                    .map_err(|err| {
                        Error::Model(format!(
                            "foreground 'probability' is not a float tensor: {err}"
                        ))
                    })?;
            if values.len() != ORIENTATIONS.len() * pw * ph {
                return Err(Error::Model(format!(
                    "foreground 'probability' has {} values, expected {}×{pw}×{ph}",
                    values.len(),
                    ORIENTATIONS.len()
                )));
            }
            let mut sum = vec![0f32; w * h];
            for (map, &(mirror_x, mirror_y)) in values.chunks_exact(pw * ph).zip(&ORIENTATIONS) {
                for (y, row) in map.chunks_exact(pw).take(h).enumerate() {
                    let out = &mut sum[if mirror_y { h - 1 - y } else { y } * w..][..w];
                    for (x, &v) in row[..w].iter().enumerate() {
                        out[if mirror_x { w - 1 - x } else { x }] += v;
                    }
                }
            }
            let scale = 1.0 / ORIENTATIONS.len() as f32;
            Ok(sum.into_iter().map(|v| v * scale).collect())
        })?;
        GrayImage::new(w, h, averaged)
    }
}

/// The working size from the model's [`WORKING_SIZE_KEY`] metadata, or what is wrong with it.
fn parse_working_size(text: Option<String>) -> std::result::Result<usize, String> {
    let text = text.ok_or_else(|| format!("no {WORKING_SIZE_KEY} in its metadata"))?;
    text.trim()
        .parse::<usize>()
        .ok()
        .filter(|size| WORKING_SIZES.contains(size))
        .ok_or_else(|| {
            format!(
                "{WORKING_SIZE_KEY} '{text}' is not a whole number from {} to {}",
                WORKING_SIZES.start(),
                WORKING_SIZES.end()
            )
        })
}

/// Size of the image the network sees for a `width`×`height` image, when its longer
/// side may be at most `limit`.
fn working_size(width: usize, height: usize, limit: usize) -> (usize, usize) {
    let scale = (limit as f64 / width.max(height) as f64).min(1.0);
    let side = |n: usize| ((n as f64 * scale).round() as usize).max(1);
    (side(width), side(height))
}

/// The network input for `view` at [`working_size`] with longer side at most `limit`
/// (steps 1–2 of the module documentation).
fn normalised_input(view: &ImageView, limit: usize) -> GrayImage {
    let (w, h) = working_size(view.width(), view.height(), limit);
    let mut data = preprocess::resize(view, w, h);
    let mut sorted = data.clone();
    sorted.sort_unstable_by(f32::total_cmp);
    let median = percentile(&sorted, 50.0);
    let half_range = 0.5 * (percentile(&sorted, 98.0) - percentile(&sorted, 2.0));
    let gain = 1.0 / half_range.max(1e-6);
    for v in &mut data {
        *v = ((*v - median) * gain).clamp(-CLIP, CLIP);
    }
    GrayImage {
        width: w,
        height: h,
        data,
    }
}

/// The `q` % percentile of ascending `sorted` values, interpolated linearly between
/// neighbouring ranks (NumPy's default, which the training script uses).
fn percentile(sorted: &[f32], q: f64) -> f32 {
    let rank = q / 100.0 * (sorted.len() - 1) as f64;
    let below = rank.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    let fraction = rank - below as f64;
    (sorted[below] as f64 + fraction * (sorted[above] as f64 - sorted[below] as f64)) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::pixels::Pixels;

    #[test]
    fn only_a_confident_map_with_both_sides_weighs_more() {
        let map = |values: Vec<f32>| GrayImage::new(values.len(), 1, values).unwrap();
        // Particles on background, sure of both: weighs more.
        let particles: Vec<f32> = (0..1000)
            .map(|i| if i % 4 == 0 { 0.98 } else { 0.01 })
            .collect();
        assert_eq!(
            clustering_weight(&map(particles.clone())),
            CONFIDENT_MAP_WEIGHT
        );
        // Sure there is nothing (or only particles): its noise must not weigh more.
        assert_eq!(clustering_weight(&map(vec![0.01; 1000])), 1.0);
        assert_eq!(clustering_weight(&map(vec![0.99; 1000])), 1.0);
        let one_speck: Vec<f32> = (0..1000)
            .map(|i| if i == 0 { 0.99 } else { 0.01 })
            .collect();
        assert_eq!(clustering_weight(&map(one_speck)), 1.0);
        // Unsure (a region boundary and one side, half-heartedly): weight 1.
        let unsure: Vec<f32> = particles.iter().map(|p| 0.5 + (p - 0.5) * 0.7).collect();
        assert_eq!(clustering_weight(&map(unsure)), 1.0);
    }

    #[test]
    fn working_size_caps_the_longer_side_and_never_enlarges() {
        assert_eq!(working_size(512, 384, 256), (256, 192));
        assert_eq!(working_size(100, 3000, 256), (9, 256));
        assert_eq!(working_size(200, 120, 256), (200, 120));
    }

    #[test]
    fn working_size_comes_from_the_metadata_and_is_checked() {
        assert_eq!(parse_working_size(Some(" 384\n".into())), Ok(384));
        for bad in [
            None,
            Some("0".into()),
            Some("-1".into()),
            Some("1e9".into()),
        ] {
            let message = parse_working_size(bad).unwrap_err();
            assert!(message.contains(WORKING_SIZE_KEY), "{message}");
        }
    }

    #[test]
    fn percentile_interpolates_between_ranks_like_numpy() {
        let sorted = [1.0, 2.0, 4.0, 8.0, 16.0];
        assert_eq!(percentile(&sorted, 50.0), 4.0);
        assert_eq!(percentile(&sorted, 0.0), 1.0);
        assert_eq!(percentile(&sorted, 100.0), 16.0);
        // rank 0.1 * 4 = 0.4 → 1 + 0.4 × (2 − 1)
        assert!((percentile(&sorted, 10.0) - 1.4).abs() < 1e-6);
    }

    #[test]
    fn input_is_centred_on_the_median_and_keeps_the_grey_polarity() {
        for (particle, background) in [(200u8, 50u8), (50, 200)] {
            let pixels: Vec<u8> = (0..64 * 64i32)
                .map(|i| {
                    let (x, y) = (i % 64, i / 64);
                    if (x - 32).pow(2) + (y - 32).pow(2) < 100 {
                        particle
                    } else {
                        background
                    }
                })
                .collect();
            let view = ImageView::new(64, 64, Pixels::Gray8(&pixels)).unwrap();
            let input = normalised_input(&view, 256);
            // The background is the median (0); the 2–98 % range spans both greys, so
            // the particle lies one full range (2 half ranges) away, on its own side.
            let expected = if particle > background { 2.0 } else { -2.0 };
            assert_eq!(input.data[32 * 64 + 32], expected);
            assert_eq!(input.data[0], 0.0);
        }
    }
}
