//! `visual-ccc train`: a new classifier from a folder with one subfolder per class.

use std::path::Path;

use visual_ccc_core::train::{self, folder_dataset, TrainParams};

use super::Outcome;
use crate::args::Args;
use crate::failure::Failure;
use crate::locate;

/// The help text, with the defaults read from [`TrainParams::default`].
fn help() -> String {
    let d = TrainParams::default();
    format!(
        "\
usage: visual-ccc train DIR --out MODEL.onnx [--base morphology|uhcs|PATH] [--seed N]
                        [--augment] [--overlap PX] [--tile-size PX] [--prior-weight W]
                        [--no-residual] [--replay-weight W] [--batch N] [--threads N]
                        [--onnxruntime PATH]

Trains a classifier from labelled images: DIR holds one subfolder per class (the class
name is the folder name; nested folders and TIFF, PNG, JPEG and BMP files allowed). The
base model runs over each image's tiles as whole-image classification does, its pooled
'features' (one vector per tile) train a class-balanced
logistic-regression head whose regularisation is chosen by cross-validation over images,
and MODEL.onnx is the base backbone with the new head: it classifies, maps and explains
(every CAM method) like the shipped models. Same inputs and seed give the same file.

  --out PATH      the new model (.onnx), with its card (.md) next to it; its name is the
                  file name without .onnx.
                  Put it into a models folder (e.g. Fiji.app/models/visual-ccc) to offer
                  it by name
  --base MODEL    the backbone: an installed model's name or an ONNX file with a Gemm
                  head and a 'features' output (default: morphology)
  --seed N        seeds the cross-validation folds (default {seed})
  --augment       add the 8 flips and quarter turns of every tile (8 times slower)
  --overlap PX    tile overlap in model-input pixels (default: a quarter of the input)
  --tile-size PX  source pixels one tile covers, recorded in the new model (default: the
                  base model's)
  --prior-weight W  weight of the base model's logits as extra inputs of the new head
                  (a prior for classes that overlap the base's; 0: none; default {prior_weight})
  --no-residual   fit the head from scratch even when every class is one of the base's
                  (by default it is then fitted as a correction of the base's
                  calibrated logits, shrunk towards them, so what the base reads right
                  stays right unless the labelled images say otherwise)
  --replay-weight W  weight of the base's replay set (prototypes of its own training
                  images' features, stored in it) against 1 for the labelled images,
                  when the head is a correction of the base (0: none; default {replay_weight})
  --make-replay   instead of training a head, store DIR's features (one folder per
                  class of the base) in a copy of the base written to --out, as its
                  replay set
  --batch N       tiles per ONNX Runtime run (default {batch})
  --threads N     images processed at once, one ONNX Runtime thread each (default: all
                  cores)
  --onnxruntime PATH  libonnxruntime.so to use

Prints one JSON object: classes, image counts, cross-validated accuracy and confusion
matrix (rows: true class, columns: predicted), seconds per stage and the files skipped
with the reason. Exit code 1 either when nothing was written (fewer than two classes, an
empty class, output not writable) or when the model was written but files were skipped
or a class has a single image (no cross-validation; a warning says so); 2 when the base
model or ONNX Runtime is unusable.",
        seed = d.seed,
        prior_weight = d.prior_weight,
        replay_weight = d.replay_weight,
        batch = d.batch,
    )
}

pub fn run(raw: &[String]) -> Result<Outcome, Failure> {
    let options = [
        "out",
        "base",
        "seed",
        "overlap",
        "tile-size",
        "prior-weight",
        "replay-weight",
        "batch",
        "threads",
        "onnxruntime",
    ];
    let Some(args) = Args::command(
        "train",
        raw,
        &help(),
        &["augment", "no-residual", "make-replay"],
        &options,
    )?
    else {
        return Ok(Outcome::Success);
    };
    let [dir] = args.positional.as_slice() else {
        return Err(Failure::Usage(
            "give exactly one folder of class subfolders (see `visual-ccc train --help`)".into(),
        ));
    };
    let out = Path::new(super::common::required(
        &args,
        "out",
        "the new model's file",
    )?);
    let base = locate::model(args.value("base")).map_err(Failure::Setup)?;
    let defaults = TrainParams::default();
    let params = TrainParams {
        seed: args.parsed_or("seed", defaults.seed)?,
        augment: args.switch("augment"),
        overlap: args.parsed("overlap")?,
        tile_source_size: args.parsed("tile-size")?,
        prior_weight: args.parsed_or("prior-weight", defaults.prior_weight)?,
        residual: !args.switch("no-residual"),
        replay_weight: args.parsed_or("replay-weight", defaults.replay_weight)?,
        batch: args.parsed_or("batch", defaults.batch)?,
        name: out
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        ..defaults
    };
    if params.batch == 0 {
        return Err(Failure::Usage("--batch must be at least 1".into()));
    }
    let model_options = super::classify::model_options(&args)?;
    let dataset = folder_dataset(Path::new(dir))?;
    train::check_writable(out)
        .map_err(|err| Failure::Input(format!("cannot write the model: {err}")))?;
    if args.switch("make-replay") {
        let (bytes, replay) =
            train::make_replay(&base, &dataset, &params, &model_options, &mut |_, _| true)?;
        train::save_model(&bytes, out)?;
        println!(
            "{}",
            serde_json::json!({
                "model": out,
                "classes": replay.classes,
                "prototypes": replay.labels.len(),
                "channels": replay.channels,
                "skipped": dataset.skipped.len(),
            })
        );
        return Ok(Outcome::Success);
    }
    let trained = train::train(&base, &dataset, &params, &model_options, &mut |_, _| true)?;
    let card = train::save_with_card(&trained, out)?;
    let report = &trained.report;
    println!("{}", report.to_json(out, &card));
    if let Some(reason) = &report.cross_validation_unavailable {
        eprintln!("visual-ccc train: warning: {reason}");
    }
    for skipped in &report.skipped {
        eprintln!(
            "visual-ccc train: skipped {}: {}",
            skipped.file, skipped.reason
        );
    }
    if report.skipped.is_empty() && report.cross_validation.is_some() {
        Ok(Outcome::Success)
    } else {
        Ok(Outcome::SomeInputsFailed)
    }
}
