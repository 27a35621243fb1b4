//! Training a classifier from a few labelled images: a base model's pooled `features`
//! over the tiles whole-image mode classifies (optionally with flips and quarter turns), a
//! class-balanced L2 multinomial logistic regression whose penalty is chosen by
//! cross-validation over images, and a new ONNX model made of the base backbone and the
//! new `Gemm` head. The result follows the model contract (docs/model-format.md), so
//! classification, tiling, every CAM method and the morphology map work on it as on the
//! shipped models. The same images, base model and parameters give the same bytes.

mod cv;
mod dataset;
mod features;
mod fit;
mod head;
mod replay;
mod save;

use std::path::Path;
use std::time::Instant;

use serde_json::json;
use sha2::{Digest, Sha256};

pub use self::cv::CrossValidation;
pub use self::dataset::{folder_dataset, Dataset, ImageData, Skipped, TrainingImage};
use self::features::{extract, ImageFeatures, AUGMENTATIONS};
use self::head::{append_logits, base_head, fold_logits, residual_base, ResidualBase};
pub use self::replay::{Replay, REPLAY_KEY};
use self::save::today;
pub use self::save::{check_writable, model_card, save_model, save_with_card};
use crate::error::{Error, ErrorKind, Result};
use crate::image::decode::decode_bytes;
use crate::model::onnx_edit::{metadata, replace_head, with_metadata, NewHead};
use crate::model::tiling::{TilingOptions, ViewRows, DEFAULT_BATCH};
use crate::model::{Model, ModelOptions, MIN_TILE_SOURCE_SIZE};
use crate::parallel::{par_blocks_observed, thread_count};

/// Base-model metadata a trained model keeps: how its input is made.
const KEPT_METADATA: [&str; 5] = [
    "visualccc.format",
    "visualccc.input_size",
    "visualccc.preprocessing",
    "visualccc.tile_source_size",
    "visualccc.input_scale",
];

/// [`TrainParams::prior_weight`] by default, chosen on the few-shot proxies of
/// docs/benchmarks.md ("Training a classifier").
pub const DEFAULT_PRIOR_WEIGHT: f64 = 1.0;

/// [`TrainParams::residual`] by default: on the few-shot proxies of docs/benchmarks.md a
/// head fitted from scratch on 5 images per source lost what the base model knew.
pub const DEFAULT_RESIDUAL: bool = true;

/// [`TrainParams::replay_weight`] by default: the labelled images and the base's
/// replay prototypes weigh the same.
pub const DEFAULT_REPLAY_WEIGHT: f64 = 1.0;

/// How to train.
#[derive(Debug, Clone)]
pub struct TrainParams {
    /// Seeds the cross-validation folds.
    pub seed: u64,
    /// Add the flipped and turned copies of every tile (8 per tile). Off by default:
    /// it multiplies feature extraction by 8 and, on UHCS steel with 5 images per class
    /// (docs/benchmarks.md), moved held-out accuracy by under 1 %.
    pub augment: bool,
    /// Pixels shared by neighbouring tiles, in model-input pixels; `None`: the default
    /// of classification ([`TilingOptions::for_input_size`]).
    pub overlap: Option<usize>,
    /// Source pixels one tile covers; `None`: the base model's. Recorded in the new
    /// model, so classification tiles images as training did.
    pub tile_source_size: Option<usize>,
    /// Weight of the base model's logits as a prior: they join the pooled features as
    /// extra inputs of the new head, scaled so that this many standard deviations cost
    /// the penalty of one on an ordinary feature. Where the new classes overlap the
    /// base model's, the head can lean on what the base already knows; where they do
    /// not, cross-validation gives them little weight. 0: no prior. The logits are a
    /// linear function of the pooled features, so the saved head is still one `Gemm`.
    pub prior_weight: f64,
    /// When every class is one of the base model's (by name, ignoring case), fit the
    /// head as a correction of the base: its scores are the base's calibrated logits
    /// plus a linear function of the features whose penalty shrinks it to zero, so a
    /// strong penalty gives back the base model and cross-validation decides how far
    /// the labelled images may move it. Classes the base does not have, or `false`: a
    /// head from scratch.
    pub residual: bool,
    /// Total weight of the base's replay prototypes ([`Replay`], when the base has them
    /// and the head is residual) against 1 for the labelled images: they keep the base's
    /// classes where its own training data put them. 0: not used.
    pub replay_weight: f64,
    /// Tiles per ONNX Runtime run.
    pub batch: usize,
    /// Recorded as the training date (YYYY-MM-DD); `None`: today in UTC, or the day
    /// of `SOURCE_DATE_EPOCH` when set, so reruns on one day give the same bytes.
    pub date: Option<String>,
    /// The new model's name, recorded in its description.
    pub name: String,
}

impl Default for TrainParams {
    fn default() -> Self {
        Self {
            seed: 0,
            augment: false,
            overlap: None,
            tile_source_size: None,
            prior_weight: DEFAULT_PRIOR_WEIGHT,
            residual: DEFAULT_RESIDUAL,
            replay_weight: DEFAULT_REPLAY_WEIGHT,
            batch: DEFAULT_BATCH,
            date: None,
            name: "trained".into(),
        }
    }
}

impl TrainParams {
    /// The defaults a front end shows, as JSON: `seed`, `augment`, `tile_size` (0: the
    /// base model's), `prior_weight`, `residual`, `replay_weight`, `batch`.
    pub fn defaults_json() -> String {
        let d = Self::default();
        serde_json::json!({
            "seed": d.seed,
            "augment": d.augment,
            "tile_size": d.tile_source_size.unwrap_or(0),
            "prior_weight": d.prior_weight,
            "residual": d.residual,
            "replay_weight": d.replay_weight,
            "batch": d.batch,
        })
        .to_string()
    }
}

/// Seconds spent per stage.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct StageSeconds {
    pub features: f64,
    pub cross_validation: f64,
    pub fit: f64,
    pub write: f64,
}

/// What training did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrainReport {
    pub classes: Vec<String>,
    /// Images used per class, in class order.
    pub image_counts: Vec<usize>,
    pub tiles: usize,
    /// Feature vectors the head was fitted on (tiles × augmentations).
    pub samples: usize,
    pub channels: usize,
    /// `None` when some class has a single image.
    pub cross_validation: Option<CrossValidation>,
    /// Why there is no cross-validation, if there is none.
    pub cross_validation_unavailable: Option<String>,
    /// The L2 penalty of the final fit.
    pub lambda: f64,
    /// The weight of the base logits as a prior ([`TrainParams::prior_weight`]).
    pub prior_weight: f64,
    /// Whether the head is a correction of the base model's ([`TrainParams::residual`]
    /// asked for and every class is the base's).
    pub residual: bool,
    /// Prototypes of the base's replay set the head was also fitted on (0: none).
    pub replay_prototypes: usize,
    /// Their total weight ([`TrainParams::replay_weight`]; 0 when none were used).
    pub replay_weight: f64,
    pub skipped: Vec<Skipped>,
    pub base_model: String,
    pub base_sha256: String,
    pub seed: u64,
    pub date: String,
    pub seconds: StageSeconds,
}

impl TrainReport {
    /// The report as one JSON object, with where the model and its card were saved.
    pub fn to_json(&self, model: &Path, card: &Path) -> String {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        value["model"] = json!(model);
        value["card"] = json!(card);
        value.to_string()
    }
}

/// A trained model: its ONNX bytes and the report.
#[derive(Debug, Clone)]
pub struct TrainedModel {
    pub bytes: Vec<u8>,
    pub report: TrainReport,
}

/// Called after each image with (done, total); returning `false` cancels training.
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize) -> bool;

/// What the feature stage gives: every readable image's features, label and file
/// record, the images skipped, and the base model's head as training needs it.
struct Extracted {
    images: Vec<ImageFeatures>,
    labels: Vec<usize>,
    files: Vec<serde_json::Value>,
    skipped: Vec<Skipped>,
    image_counts: Vec<usize>,
    /// Pooled feature channels of the base.
    channels: usize,
    tile_source_size: usize,
    input_size: usize,
    workers: usize,
    base_bytes: Vec<u8>,
    /// The base's head rows (for the prior inputs) and its residual form, if used.
    base_head: Option<Vec<f32>>,
    residual: Option<ResidualBase>,
    seconds: f64,
}

/// Opens `base`, checks the parameters against it and runs it over every image of
/// `dataset` (the feature stage shared by [`train`] and [`make_replay`]).
fn extract_dataset(
    base: &Path,
    dataset: &Dataset,
    params: &TrainParams,
    options: &ModelOptions,
    progress: Progress,
) -> Result<Extracted> {
    dataset.validate()?;
    if !(params.replay_weight.is_finite() && params.replay_weight >= 0.0) {
        return Err(Error::invalid(format!(
            "replay weight {} must be a number of at least 0",
            params.replay_weight
        )));
    }
    let base_bytes = std::fs::read(base).map_err(|err| Error::io(base, err))?;
    // Each worker thread runs its own single-threaded session (see below).
    let single = ModelOptions {
        threads: 1,
        ..options.clone()
    };
    let model = Model::open(base, &single)?;
    if !model.info().has_cam() {
        return Err(Error::Model(format!(
            "{}: the base model cannot be trained on: {}",
            base.display(),
            model.info().cam_unavailable.clone().unwrap_or_default()
        )));
    }
    let size = model.info().input_size;
    let overlap = params
        .overlap
        .unwrap_or(TilingOptions::for_input_size(size).overlap);
    if overlap >= size {
        return Err(Error::invalid(format!(
            "overlap {overlap} must be smaller than the base model's input size {size}"
        )));
    }
    let augmentations = if params.augment { AUGMENTATIONS } else { 1 };
    let base_head = base_head(&model, params.prior_weight)?;
    let residual = match params.residual {
        true => residual_base(&model, &base_bytes, &dataset.classes)?,
        false => None,
    };
    let tile_source_size = params
        .tile_source_size
        .unwrap_or(model.info().tile_source_size);
    if tile_source_size < MIN_TILE_SOURCE_SIZE {
        return Err(Error::invalid(format!(
            "tile source size {tile_source_size} is below {MIN_TILE_SOURCE_SIZE} pixels"
        )));
    }

    let started = Instant::now();
    // Images are spread over worker threads, each with its own single-threaded session:
    // on a busy 2-core machine one session with two intra-op threads spends most of its
    // time waiting for the slower thread (docs/benchmarks.md), and the decoding of one
    // image overlaps the inference of another. A tile's features do not depend on the
    // worker, so the model is the same for any thread count.
    let workers = thread_count(options.threads).min(dataset.images.len());
    let first = std::sync::Mutex::new(Some(model));
    let scratch = || {
        let taken = first.lock().unwrap_or_else(|p| p.into_inner()).take();
        taken.map_or_else(|| Model::open(base, &single), Ok)
    };
    let tiling = (tile_source_size, overlap, augmentations, params.batch);
    let work = |_, image: &TrainingImage, model: &mut Result<Model>| match model {
        Ok(model) => image_features(model, image, tiling),
        Err(err) => Err(Error::Runtime(err.to_string())),
    };
    let total = dataset.images.len();
    let mut runtime_failure = None;
    let observe = |done, result: &Result<_>| match result {
        // Runtime failures are not the image's fault: they stop training.
        Err(err) if err.kind() == ErrorKind::Runtime => {
            runtime_failure = Some(err.to_string());
            false
        }
        _ => progress(done, total),
    };
    let results = par_blocks_observed(
        dataset.images.iter().collect(),
        workers,
        scratch,
        work,
        observe,
    )
    .ok_or_else(|| match runtime_failure.take() {
        Some(message) => Error::Runtime(message),
        None => Error::invalid("training was cancelled"),
    })?;
    let mut images: Vec<ImageFeatures> = Vec::new();
    let mut labels = Vec::new();
    let mut files = Vec::new();
    let mut skipped = dataset.skipped.clone();
    for (image, result) in dataset.images.iter().zip(results) {
        match result {
            Ok((features, sha256)) => {
                images.push(features);
                labels.push(image.class);
                files.push(json!({
                    "file": image.name,
                    "class": dataset.classes[image.class],
                    "sha256": sha256,
                }));
            }
            Err(err) => skipped.push(Skipped {
                file: image.name.clone(),
                reason: err.to_string(),
            }),
        }
    }
    let mut image_counts = vec![0usize; dataset.classes.len()];
    for &label in &labels {
        image_counts[label] += 1;
    }
    if let Some(empty) = image_counts.iter().position(|&n| n == 0) {
        return Err(Error::invalid(format!(
            "class '{}' has no readable image (skipped: {})",
            dataset.classes[empty],
            skipped
                .iter()
                .map(|s| format!("{}: {}", s.file, s.reason))
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    let channels = images[0].values.len() / (images[0].tiles * augmentations);
    Ok(Extracted {
        images,
        labels,
        files,
        skipped,
        image_counts,
        channels,
        tile_source_size,
        input_size: size,
        workers,
        base_bytes,
        base_head,
        residual,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Trains a new head on `base` (a model file following the contract, with a `Gemm`
/// head and a `features` output) from `dataset`. Images that cannot be read are
/// skipped and listed in the report; a class left without images is an error.
pub fn train(
    base: &Path,
    dataset: &Dataset,
    params: &TrainParams,
    options: &ModelOptions,
    progress: Progress,
) -> Result<TrainedModel> {
    let Extracted {
        mut images,
        labels,
        files,
        skipped,
        image_counts,
        channels,
        tile_source_size,
        input_size,
        workers,
        base_bytes,
        base_head,
        residual,
        seconds: features_seconds,
        ..
    } = extract_dataset(base, dataset, params, options, progress)?;
    let started = Instant::now();
    let classes = dataset.classes.len();
    // The base's replay prototypes join the fit when the head is a correction of the
    // base (their labels are the base's classes).
    let mut replay = match (&residual, params.replay_weight > 0.0) {
        (Some(residual), true) => replay_rows(&base_bytes, residual, dataset, channels, params)?,
        _ => None,
    };
    let extended: Vec<&mut ImageFeatures> = images
        .iter_mut()
        .chain(replay.as_mut().map(|(rows, _, _)| rows))
        .collect();
    for image in extended {
        if let Some(head) = &base_head {
            append_logits(image, head, channels);
        }
        if let Some(base) = &residual {
            base.set_offsets(image);
        }
    }
    let inputs = channels + base_head.as_ref().map_or(0, |h| h.len() / channels);
    let features_seconds = features_seconds + started.elapsed().as_secs_f64();

    let data = cv::Dataset {
        images: &images,
        labels: &labels,
        classes,
        channels: inputs,
        prior: (channels, params.prior_weight),
        replay: replay
            .as_ref()
            .map(|(rows, labels, weights)| (rows, labels.as_slice(), weights.as_slice())),
    };
    let started = Instant::now();
    let cross_validation = data.cross_validate(params.seed, workers);
    let cv_seconds = started.elapsed().as_secs_f64();
    let lambda = cross_validation
        .as_ref()
        .map_or(cv::DEFAULT_LAMBDA, |cv| cv.lambda);
    let cross_validation_unavailable = cross_validation.is_none().then(|| {
        let single = image_counts.iter().position(|&n| n < 2).unwrap_or(0);
        format!(
            "class '{}' has only one image: cross-validation needs at least two per class \
             (the model is trained, but its accuracy is unknown)",
            dataset.classes[single]
        )
    });

    let started = Instant::now();
    let all: Vec<usize> = (0..images.len()).collect();
    let fitted = data.fit(&all, lambda);
    let (weights, biases) = fit::unstandardise(&fitted.head, &fitted.mean, &fitted.scale);
    let weights = match &base_head {
        Some(head) => fold_logits(&weights, head, channels),
        None => weights,
    };
    let (weights, biases) = match &residual {
        Some(base) => base.fold(&weights, &biases),
        None => (weights, biases),
    };
    let fit_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let base_sha256 = hex(&Sha256::digest(&base_bytes));
    let base_name = base
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut report = TrainReport {
        classes: dataset.classes.clone(),
        image_counts,
        tiles: images.iter().map(|i| i.tiles).sum(),
        samples: images.iter().map(|i| i.tiles * i.augmentations).sum(),
        channels,
        cross_validation,
        cross_validation_unavailable,
        lambda,
        prior_weight: params.prior_weight,
        residual: residual.is_some(),
        replay_prototypes: replay.as_ref().map_or(0, |(_, labels, _)| labels.len()),
        replay_weight: if replay.is_some() {
            params.replay_weight
        } else {
            0.0
        },
        skipped,
        base_model: base_name,
        base_sha256,
        seed: params.seed,
        date: params.date.clone().unwrap_or_else(today),
        seconds: StageSeconds::default(),
    };
    let mut metadata = new_metadata(&base_bytes, &report, &files, params)?;
    metadata.retain(|(key, _)| key != "visualccc.tile_source_size");
    if tile_source_size != input_size {
        metadata.push((
            "visualccc.tile_source_size".into(),
            tile_source_size.to_string(),
        ));
    }
    let bytes = replace_head(
        &base_bytes,
        &NewHead {
            weights: &weights,
            biases: &biases,
            metadata: &metadata,
        },
    )?;
    report.seconds = StageSeconds {
        features: features_seconds,
        cross_validation: cv_seconds,
        fit: fit_seconds,
        write: started.elapsed().as_secs_f64(),
    };
    Ok(TrainedModel { bytes, report })
}

/// Replay prototypes as one pseudo-image of rows, their labels and their weights.
type ReplayRows = (ImageFeatures, Vec<usize>, Vec<f64>);

/// The base's replay prototypes of the new classes as one pseudo-image of rows (with
/// the base's logits), their new-class labels and their weights: each class's share of
/// `params.replay_weight` split as the prototypes' weights are. `None` when the base
/// has no replay set.
fn replay_rows(
    base_bytes: &[u8],
    residual: &ResidualBase,
    dataset: &Dataset,
    channels: usize,
    params: &TrainParams,
) -> Result<Option<ReplayRows>> {
    let Some((_, text)) = metadata(base_bytes)?
        .into_iter()
        .find(|(key, _)| key == REPLAY_KEY)
    else {
        return Ok(None);
    };
    let replay = Replay::from_metadata(&text)?;
    if replay.channels != channels {
        return Err(Error::Model(format!(
            "the base's replay set has {} channels, its features {channels}",
            replay.channels
        )));
    }
    // Replay class → new class, by name.
    let class_of: Vec<Option<usize>> = replay
        .classes
        .iter()
        .map(|r| {
            dataset
                .classes
                .iter()
                .position(|c| c.eq_ignore_ascii_case(r))
        })
        .collect();
    let present = class_of.iter().flatten().count().max(1) as f64;
    let (mut values, mut labels, mut weights) = (Vec::new(), Vec::new(), Vec::new());
    for (i, row) in replay.rows.chunks_exact(channels).enumerate() {
        if let Some(class) = class_of[replay.labels[i]] {
            values.extend_from_slice(row);
            labels.push(class);
            weights.push(replay.weights[i] * params.replay_weight / present);
        }
    }
    if labels.is_empty() {
        return Ok(None);
    }
    let logits = residual.base_logits(&values, channels);
    let rows = ImageFeatures {
        tiles: labels.len(),
        augmentations: 1,
        values,
        logits,
        offsets: Vec::new(),
    };
    Ok(Some((rows, labels, weights)))
}

/// Builds `base`'s replay set from `dataset` (one folder per class of the base) and
/// returns the base's bytes with it in their metadata (replacing any earlier one), and
/// the set. The classes must be the base's: the set keeps the base's classes' names.
pub fn make_replay(
    base: &Path,
    dataset: &Dataset,
    params: &TrainParams,
    options: &ModelOptions,
    progress: Progress,
) -> Result<(Vec<u8>, Replay)> {
    let params = TrainParams {
        augment: false,
        residual: true,
        ..params.clone()
    };
    let extracted = extract_dataset(base, dataset, &params, options, progress)?;
    if extracted.residual.is_none() {
        return Err(Error::invalid(
            "a replay set needs one folder per class of the base model, named like them",
        ));
    }
    let channels = extracted.channels;
    let mut rows_of = vec![Vec::new(); dataset.classes.len()];
    for (image, &label) in extracted.images.iter().zip(&extracted.labels) {
        rows_of[label].extend_from_slice(&image.values);
    }
    let replay = Replay::build(&dataset.classes, channels, &rows_of, params.seed);
    let mut entries: Vec<(String, String)> = metadata(&extracted.base_bytes)?
        .into_iter()
        .filter(|(key, _)| key != REPLAY_KEY)
        .collect();
    entries.push((REPLAY_KEY.into(), replay.to_metadata()));
    Ok((with_metadata(&extracted.base_bytes, &entries)?, replay))
}

/// One image's pooled features and the SHA-256 of its file (or of its pixels).
fn image_features(
    model: &Model,
    image: &TrainingImage,
    (tile_source_size, overlap, augmentations, batch): (usize, usize, usize, usize),
) -> Result<(ImageFeatures, String)> {
    let run = |view| {
        let mut rows = ViewRows::new(view)?;
        extract(
            model,
            &mut rows,
            tile_source_size,
            overlap,
            augmentations,
            batch,
        )
    };
    match &image.data {
        ImageData::File(path) => {
            let bytes = std::fs::read(path).map_err(|err| Error::io(path, err))?;
            let decoded = decode_bytes(&bytes)?;
            Ok((run(decoded.view())?, hex(&Sha256::digest(&bytes))))
        }
        ImageData::Pixels(owned) => {
            let mut hasher = Sha256::new();
            hasher.update((owned.width as u64).to_le_bytes());
            hasher.update((owned.height as u64).to_le_bytes());
            let view = owned.view();
            for i in 0..owned.width * owned.height {
                hasher.update(view.gray_at(i).to_le_bytes());
            }
            Ok((run(view)?, hex(&hasher.finalize())))
        }
    }
}

/// The new model's metadata: the base's input description, the new classes, and how
/// it was trained.
fn new_metadata(
    base: &[u8],
    report: &TrainReport,
    files: &[serde_json::Value],
    params: &TrainParams,
) -> Result<Vec<(String, String)>> {
    let mut entries: Vec<(String, String)> = metadata(base)?
        .into_iter()
        .filter(|(key, _)| KEPT_METADATA.contains(&key.as_str()))
        .collect();
    let counts: Vec<String> = report
        .classes
        .iter()
        .zip(&report.image_counts)
        .map(|(c, n)| format!("{n} {c}"))
        .collect();
    let accuracy = report.cross_validation.as_ref().map_or_else(
        || "no cross-validation".to_string(),
        |cv| format!("cross-validated accuracy {:.3}", cv.accuracy),
    );
    let description = format!(
        "{}: trained with Visual-CCC on {} images ({}) over the '{}' backbone; {accuracy}",
        params.name,
        report.image_counts.iter().sum::<usize>(),
        counts.join(", "),
        report.base_model,
    );
    let json = |value: serde_json::Value| value.to_string();
    entries.extend([
        ("visualccc.classes".into(), json(json!(report.classes))),
        ("visualccc.kind".into(), "trained".into()),
        ("visualccc.description".into(), description),
        (
            "visualccc.train.base_model".into(),
            report.base_model.clone(),
        ),
        (
            "visualccc.train.base_sha256".into(),
            report.base_sha256.clone(),
        ),
        ("visualccc.train.files".into(), json(json!(files))),
        (
            "visualccc.train.cross_validation".into(),
            json(json!(report.cross_validation)),
        ),
        ("visualccc.train.lambda".into(), report.lambda.to_string()),
        (
            "visualccc.train.augmented".into(),
            params.augment.to_string(),
        ),
        (
            "visualccc.train.prior_weight".into(),
            params.prior_weight.to_string(),
        ),
        (
            "visualccc.train.residual".into(),
            report.residual.to_string(),
        ),
        (
            "visualccc.train.replay".into(),
            json(json!({"prototypes": report.replay_prototypes, "weight": report.replay_weight})),
        ),
        ("visualccc.train.seed".into(), params.seed.to_string()),
        ("visualccc.train.date".into(), report.date.clone()),
    ]);
    Ok(entries)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
