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

use std::path::Path;
use std::time::Instant;

use serde_json::json;
use sha2::{Digest, Sha256};

pub use self::cv::CrossValidation;
pub use self::dataset::{folder_dataset, Dataset, ImageData, Skipped, TrainingImage};
use self::features::{extract, ImageFeatures, AUGMENTATIONS};
use crate::error::{Error, ErrorKind, Result};
use crate::image::decode::decode_bytes;
use crate::model::onnx_edit::{metadata, replace_head, NewHead};
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
            batch: DEFAULT_BATCH,
            date: None,
            name: "trained".into(),
        }
    }
}

impl TrainParams {
    /// The defaults a front end shows, as JSON: `seed`, `augment`, `tile_size` (0: the
    /// base model's), `prior_weight`, `batch`.
    pub fn defaults_json() -> String {
        let d = Self::default();
        serde_json::json!({
            "seed": d.seed,
            "augment": d.augment,
            "tile_size": d.tile_source_size.unwrap_or(0),
            "prior_weight": d.prior_weight,
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
    dataset.validate()?;
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
    let classes = dataset.classes.len();
    let mut image_counts = vec![0usize; classes];
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
    if let Some(head) = &base_head {
        images
            .iter_mut()
            .for_each(|image| append_logits(image, head, channels));
    }
    let inputs = channels + base_head.as_ref().map_or(0, |h| h.len() / channels);
    let features_seconds = started.elapsed().as_secs_f64();

    let data = cv::Dataset {
        images: &images,
        labels: &labels,
        classes,
        channels: inputs,
        prior: (channels, params.prior_weight),
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
        skipped,
        base_model: base_name,
        base_sha256,
        seed: params.seed,
        date: params.date.clone().unwrap_or_else(today),
        seconds: StageSeconds::default(),
    };
    let mut metadata = new_metadata(&base_bytes, &report, &files, params)?;
    metadata.retain(|(key, _)| key != "visualccc.tile_source_size");
    if tile_source_size != size {
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
        ("visualccc.train.seed".into(), params.seed.to_string()),
        ("visualccc.train.date".into(), report.date.clone()),
    ]);
    Ok(entries)
}

/// The base model's linear head (`[classes][channels]`, row-major) when a prior is
/// asked for.
fn base_head(model: &Model, prior_weight: f64) -> Result<Option<Vec<f32>>> {
    if !(prior_weight.is_finite() && prior_weight >= 0.0) {
        return Err(Error::invalid(format!(
            "prior weight {prior_weight} must be a number of at least 0"
        )));
    }
    if prior_weight == 0.0 {
        return Ok(None);
    }
    let rows: Option<Vec<&[f32]>> = (0..model.info().classes.len())
        .map(|c| model.linear_head_row(c))
        .collect();
    Ok(rows.map(|rows| rows.concat()))
}

/// Appends to every feature row of `image` the base logits (without bias) it gives.
fn append_logits(image: &mut ImageFeatures, head: &[f32], channels: usize) {
    let extended = image
        .values
        .chunks_exact(channels)
        .flat_map(|row| {
            let logits: Vec<f32> = head
                .chunks_exact(channels)
                .map(|w| {
                    w.iter()
                        .zip(row)
                        .map(|(a, b)| f64::from(a * b))
                        .sum::<f64>() as f32
                })
                .collect();
            row.iter().copied().chain(logits).collect::<Vec<_>>()
        })
        .collect();
    image.values = extended;
}

/// Weights on `[features, base logits]` folded into weights on the features alone:
/// each logit is `head · features`, so its weight adds that multiple of the head row.
fn fold_logits(weights: &[f32], head: &[f32], channels: usize) -> Vec<f32> {
    let inputs = channels + head.len() / channels;
    weights
        .chunks_exact(inputs)
        .flat_map(|row| {
            let mut folded: Vec<f64> = row[..channels].iter().map(|&w| f64::from(w)).collect();
            for (&w, base_row) in row[channels..].iter().zip(head.chunks_exact(channels)) {
                for (f, &b) in folded.iter_mut().zip(base_row) {
                    *f += f64::from(w) * f64::from(b);
                }
            }
            folded.into_iter().map(|v| v as f32).collect::<Vec<_>>()
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `bytes` to `path` through a temporary file in the same folder, so a failed
/// write leaves no half-written model.
pub fn save_model(bytes: &[u8], path: &Path) -> Result<()> {
    let temporary = partial_path(path)?;
    std::fs::write(&temporary, bytes).map_err(|err| {
        let _ = std::fs::remove_file(&temporary);
        Error::io(path, err)
    })?;
    std::fs::rename(&temporary, path).map_err(|err| {
        let _ = std::fs::remove_file(&temporary);
        Error::io(path, err)
    })
}

/// Writes the model to `path` (see [`save_model`]) and its card, a Markdown summary of
/// the data, counts, cross-validation, base model and date, next to it as `<name>.md`.
/// Returns the card's path.
pub fn save_with_card(trained: &TrainedModel, path: &Path) -> Result<std::path::PathBuf> {
    let card_path = path.with_extension("md");
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    save_model(trained.bytes.as_slice(), path)?;
    save_model(model_card(&name, &trained.report).as_bytes(), &card_path)?;
    Ok(card_path)
}

/// The model card of a trained model.
pub fn model_card(name: &str, report: &TrainReport) -> String {
    let mut card = format!(
        "# {name}\n\nA Visual-CCC classifier trained on {} labelled images on {}: the \
         `{}` model's backbone (sha256 `{}`) with a new linear head (L2 penalty {}, base logits \
         as a prior with weight {}, seed {}).\n\n## Data\n\n| class | images |\n|---|---|\n",
        report.image_counts.iter().sum::<usize>(),
        report.date,
        report.base_model,
        report.base_sha256,
        report.lambda,
        report.prior_weight,
        report.seed,
    );
    for (class, count) in report.classes.iter().zip(&report.image_counts) {
        card += &format!("| {class} | {count} |\n");
    }
    card += &format!(
        "\n{} tiles, {} feature vectors (with augmentation, if any).\n\n## Cross-validation\n\n",
        report.tiles, report.samples
    );
    match (
        &report.cross_validation,
        &report.cross_validation_unavailable,
    ) {
        (Some(cv), _) => {
            card += &format!(
                "{}-fold, by image: accuracy {:.3}, balanced accuracy {:.3}.\n\n\
                 Confusion matrix (rows: true class, columns: predicted):\n\n| |{}|\n|---|{}\n",
                cv.folds,
                cv.accuracy,
                cv.balanced_accuracy,
                report.classes.join("|"),
                "---|".repeat(report.classes.len()),
            );
            for (class, row) in report.classes.iter().zip(&cv.confusion) {
                let cells: Vec<String> = row.iter().map(usize::to_string).collect();
                card += &format!("| {class} |{}|\n", cells.join("|"));
            }
        }
        (None, reason) => card += &format!("Not done: {}.\n", reason.clone().unwrap_or_default()),
    }
    if !report.skipped.is_empty() {
        card += "\n## Skipped\n\n";
        for skipped in &report.skipped {
            card += &format!("- {}: {}\n", skipped.file, skipped.reason);
        }
    }
    card += "\nThe training files and their sha256 are in the model's metadata \
             (`visualccc.train.files`).\n";
    card
}

/// Fails with the reason when `path` cannot be written, before any work is done.
pub fn check_writable(path: &Path) -> Result<()> {
    if path.is_dir() {
        return Err(Error::invalid(format!(
            "{}: is a folder; give the model's file name (…/name.onnx)",
            path.display()
        )));
    }
    let probe = partial_path(path)?;
    std::fs::write(&probe, b"").map_err(|err| Error::io(path, err))?;
    std::fs::remove_file(&probe).map_err(|err| Error::io(&probe, err))
}

/// The temporary file a model is written to before it is renamed into place.
fn partial_path(path: &Path) -> Result<std::path::PathBuf> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::invalid(format!("{}: not a file path", path.display())))?;
    Ok(folder.join(format!(".{}.partial", name.to_string_lossy())))
}

/// Today's date in UTC (or `SOURCE_DATE_EPOCH`'s) as YYYY-MM-DD.
fn today() -> String {
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    // Days to the civil calendar (H. Hinnant's algorithm).
    let z = (seconds / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn folded_logit_weights_give_the_same_scores() {
        // Two features, one base class with head row (2, -1); the new head weighs
        // [features, base logit] as (0.5, 0.25, 3).
        let (features, head) = ([1.5f32, -2.0], [2.0f32, -1.0]);
        let logit: f32 = head.iter().zip(&features).map(|(a, b)| a * b).sum();
        let direct = 0.5 * features[0] + 0.25 * features[1] + 3.0 * logit;
        let folded = super::fold_logits(&[0.5, 0.25, 3.0], &head, 2);
        let score: f32 = folded.iter().zip(&features).map(|(a, b)| a * b).sum();
        assert!((score - direct).abs() < 1e-5, "{score} != {direct}");
    }

    #[test]
    fn civil_dates() {
        std::env::set_var("SOURCE_DATE_EPOCH", "1796515200");
        assert_eq!(super::today(), "2026-12-06");
        std::env::remove_var("SOURCE_DATE_EPOCH");
    }
}
