//! Learned foreground probability: a per-pixel map from a small U-Net that the default
//! clustering uses as a feature next to smoothed grey.
//!
//! k-means on smoothed grey alone splits a particle micrograph at a grey level, which
//! cuts through grainy or shaded backgrounds and through particles whose faces match the
//! background (0.72 mean IoU on the EMPS masks). The network sees the image normalised by
//! exactly that split and predicts which pixels belong to the split's minority side after
//! clean-up, i.e. what a compact object on a background looks like. It never has to learn
//! which grey means "particle", so TEM (dark particles) and SEM (bright) images are alike
//! to it. It is trained by `training/train_foreground.py` on the EMPS masks
//! (docs/models/foreground.md) and bundled into this library, so clustering needs no model
//! file, only ONNX Runtime.
//!
//! Input normalisation (mirrored by the training script):
//! 1. grey shrunk with the antialiasing triangle filter so the longer side is at most
//!    [`WORKING_SIZE`] (never enlarged);
//! 2. the two-means threshold `t` of the shrunk grey and the means `lo < hi` of both sides;
//! 3. `z = (v − t) / (hi − lo)`, negated when more than half the pixels lie above `t`,
//!    clipped to ±[`CLIP`];
//! 4. edge-padded to a multiple of 8 (three 2× poolings); the output is cropped back and
//!    bilinearly enlarged to the image size.

use std::path::Path;
use std::sync::{Arc, Mutex};

use ort::session::Session;

use crate::cam;
use crate::error::{Error, Result};
use crate::model::{model_error, new_session, run_locked, ModelOptions};
use crate::pixels::{GrayImage, ImageView};
use crate::preprocess;

/// Longest side, in pixels, of the image the network sees.
pub const WORKING_SIZE: usize = 256;
/// Normalised input values are clipped to ±CLIP.
pub const CLIP: f32 = 3.0;
/// The network's input sides must be multiples of this.
const MULTIPLE: usize = 8;
/// The bundled model (see the module documentation).
const BUNDLED: &[u8] = include_bytes!("../../../models/features/foreground.onnx");
/// Name of the bundled model in errors.
const BUNDLED_NAME: &str = "bundled foreground model (models/features/foreground.onnx)";

/// A loaded foreground network. Runs are serialised by a lock (`ort` needs exclusive
/// access to a session while it runs).
pub struct ForegroundModel {
    input_name: String,
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
    /// The model bundled into this library; loads ONNX Runtime if needed.
    pub fn bundled(options: &ModelOptions) -> Result<Arc<Self>> {
        let mut cached = BUNDLED_MODEL
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(model) = cached.as_ref() {
            return Ok(model.clone());
        }
        let model = Arc::new(Self::from_bytes(BUNDLED, Path::new(BUNDLED_NAME), options)?);
        *cached = Some(model.clone());
        Ok(model)
    }

    /// A foreground model from ONNX bytes (`path` names it in errors): one float input
    /// `[N,1,H,W]` and a float output `probability` of the same shape.
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
        Ok(Self {
            input_name,
            session: Mutex::new(session),
        })
    }

    /// Foreground probability (0–1) of every pixel of `view`, row-major at its size.
    pub fn probability(&self, view: &ImageView) -> Result<GrayImage> {
        let small = self.working_probability(view)?;
        let data = cam::upsample(
            &small.data,
            small.width,
            small.height,
            view.width(),
            view.height(),
        );
        GrayImage::new(view.width(), view.height(), data)
    }

    /// Foreground probability at [`working_size`]: the network's own output, which
    /// [`ForegroundModel::probability`] enlarges bilinearly to the image size.
    pub fn working_probability(&self, view: &ImageView) -> Result<GrayImage> {
        view.ensure_finite()?;
        let input = normalised_input(view);
        let (w, h) = (input.width, input.height);
        let (pw, ph) = (w.next_multiple_of(MULTIPLE), h.next_multiple_of(MULTIPLE));
        let mut padded = Vec::with_capacity(pw * ph);
        for y in 0..ph {
            let row = &input.data[y.min(h - 1) * w..][..w];
            padded.extend_from_slice(row);
            padded.extend(std::iter::repeat_n(row[w - 1], pw - w));
        }
        let shape = [1, 1, ph, pw];
        let cropped = run_locked(&self.session, &self.input_name, shape, padded, |outputs| {
            let (_, values) =
                outputs["probability"]
                    .try_extract_tensor::<f32>()
                    .map_err(|err| {
                        Error::Model(format!(
                            "foreground 'probability' is not a float tensor: {err}"
                        ))
                    })?;
            if values.len() != pw * ph {
                return Err(Error::Model(format!(
                    "foreground 'probability' has {} values, expected {pw}×{ph}",
                    values.len()
                )));
            }
            Ok(values
                .chunks_exact(pw)
                .take(h)
                .flat_map(|row| &row[..w])
                .copied()
                .collect())
        })?;
        GrayImage::new(w, h, cropped)
    }
}

/// Size of the image the network sees for a `width`×`height` image.
fn working_size(width: usize, height: usize) -> (usize, usize) {
    let scale = (WORKING_SIZE as f64 / width.max(height) as f64).min(1.0);
    let side = |n: usize| ((n as f64 * scale).round() as usize).max(1);
    (side(width), side(height))
}

/// The network input for `view` at [`working_size`] (steps 1–3 of the module
/// documentation).
fn normalised_input(view: &ImageView) -> GrayImage {
    let (w, h) = working_size(view.width(), view.height());
    let mut data = preprocess::resize(view, w, h);
    let (t, lo, hi) = two_means(&data);
    let above = data.iter().filter(|&&v| v > t).count();
    let sign = if 2 * above > data.len() { -1.0 } else { 1.0 };
    let gain = sign / (hi - lo).max(1e-6);
    for v in &mut data {
        *v = ((*v - t) * gain).clamp(-CLIP, CLIP);
    }
    GrayImage {
        width: w,
        height: h,
        data,
    }
}

/// The two-means (isodata) threshold of `values` and the means of both sides: start at
/// the minimum and maximum, move each mean to the mean of its side until they settle.
fn two_means(values: &[f32]) -> (f32, f32, f32) {
    let (mut lo, mut hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v as f64), b.max(v as f64))
        });
    for _ in 0..100 {
        let t = 0.5 * (lo + hi);
        let (mut sums, mut counts) = ([0.0f64; 2], [0usize; 2]);
        for &v in values {
            let side = usize::from(v as f64 > t);
            sums[side] += v as f64;
            counts[side] += 1;
        }
        if counts[0] == 0 || counts[1] == 0 {
            break;
        }
        let (new_lo, new_hi) = (sums[0] / counts[0] as f64, sums[1] / counts[1] as f64);
        if new_lo == lo && new_hi == hi {
            break;
        }
        (lo, hi) = (new_lo, new_hi);
    }
    ((0.5 * (lo + hi)) as f32, lo as f32, hi as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pixels::Pixels;

    #[test]
    fn working_size_caps_the_longer_side_and_never_enlarges() {
        assert_eq!(working_size(512, 384), (256, 192));
        assert_eq!(working_size(100, 3000), (9, 256));
        assert_eq!(working_size(200, 120), (200, 120));
    }

    #[test]
    fn two_means_splits_two_levels_in_the_middle() {
        let values: Vec<f32> = (0..100).map(|i| if i < 70 { 10.0 } else { 50.0 }).collect();
        let (t, lo, hi) = two_means(&values);
        assert_eq!((t, lo, hi), (30.0, 10.0, 50.0));
    }

    #[test]
    fn minority_side_is_positive_whatever_its_grey() {
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
            let input = normalised_input(&view);
            assert_eq!(input.data[32 * 64 + 32], 0.5);
            assert_eq!(input.data[0], -0.5);
        }
    }
}
