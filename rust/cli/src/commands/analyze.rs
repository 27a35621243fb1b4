//! `visual-ccc analyze`: the published tool's whole pipeline on one image, at full
//! resolution: classification + CAM, Otsu segmentation, GLCM texture, k-means clustering.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use visual_ccc_core::image::databar::EXCLUDED_LABEL;
use visual_ccc_core::pipeline::{self, Analysis, AnalysisParams};
use visual_ccc_core::ImageView;

use super::common::{self, Timings};
use super::{classify, cluster as cluster_cmd, databar, texture, threshold, Outcome};
use crate::failure::Failure;
use crate::{heatmap, locate, output};

const HELP: &str = "\
usage: visual-ccc analyze IMAGE --out-dir DIR [--model PATH_OR_NAME | --no-model]
                          [--k N] [--target-cluster I] [--seed S]
                          [--pixel-size W[,H] --unit UNIT] [--threads N]
                          [--onnxruntime PATH] [--timings]

Runs the published Visual-CCC pipeline on one image at full resolution and writes its
images and a summary.json into DIR (files are named after the image, <name>-…):

  1. classification and class activation map (-cam.tif 32-bit, -cam.png overlay), with --model
     or the installed default (morphology, else the only model); otherwise skipped with a note
  2. Otsu segmentation (-otsu.png: 255 where value > t, as scikit-image threshold_otsu)
  3. texture: the reference contrast map (Otsu mask, 5×5 windows, 2 levels, distance 1,
     angle 0; -reference-contrast.tif) and whole-image GLCM contrast, homogeneity,
     energy and correlation of the grey image (32 levels, distance 1, mean over
     0/45/90/135°), the same values as `batch` reports
  4. k-means clustering with the default features (smoothed grey, sigma 2, and the
     learned foreground probability) (-clusters.png, values 0..k-1 by ascending mean
     grey) and the target cluster's mask (-cluster-<I>.png) and area fraction

  --out-dir DIR          where the images and summary.json go (required)
  --model PATH_OR_NAME   ONNX model file, or the name of an installed model
  --no-model             skip classification even if a model is installed
  --k N                  number of clusters, 2..255 (default {k})
  --target-cluster I     cluster whose area fraction is reported (default k-1, the
                         brightest)
  --seed S               clustering seed (default {seed})
  --pixel-size W[,H]     pixel size in --unit, for calibrated areas (default: the
                         calibration a TIFF records, as ImageJ saves it; else pixels)
  --unit UNIT            length unit of --pixel-size
  --threads N            threads for ONNX Runtime, texture and clustering (default: all
                         cores); the results do not depend on it
  --onnxruntime PATH     libonnxruntime.so to use (classification and the clustering's
                         learned foreground feature)
  --timings              add stage durations (ms) to the summary
  --max-pixels N         refuse larger images before decoding (default {max_pixels})

Prints the summary (the same as summary.json) as one line of JSON.";

/// The help text with the recipe's defaults filled in from [`AnalysisParams::default`].
fn help() -> String {
    let d = AnalysisParams::default();
    common::fill(
        HELP,
        &[("k", d.k.to_string()), ("seed", d.seed.to_string())],
    )
}

pub fn run(raw: &[String]) -> Result<Outcome, Failure> {
    let options = [
        "out-dir",
        "model",
        "k",
        "target-cluster",
        "seed",
        "pixel-size",
        "unit",
        "threads",
        "onnxruntime",
    ];
    let Some(args) = common::parse(
        "analyze",
        raw,
        &help(),
        &["no-model", "keep-data-bar"],
        &options,
    )?
    else {
        return Ok(Outcome::Success);
    };
    let file = common::input_path("analyze", &args)?;
    let out_dir = PathBuf::from(common::required(&args, "out-dir", "where results go")?);
    if args.switch("no-model") {
        common::forbid_with(&args, "no-model", &["model"])?;
    }
    // Only what the user set; every other setting is the core's default.
    let defaults = AnalysisParams::default();
    let threads: usize = args.parsed_or("threads", defaults.threads)?;
    let params = AnalysisParams {
        k: args.parsed_or("k", defaults.k)?,
        seed: args.parsed_or("seed", defaults.seed)?,
        target_cluster: args.parsed("target-cluster")?,
        threads,
        exclude_data_bar: defaults.exclude_data_bar && !args.switch(databar::KEEP_SWITCH),
        ..defaults
    };
    params
        .validate()
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let target = params.target();
    let calibration = cluster_cmd::calibration(&args, &file)?;
    let runtime = classify::model_options(&args)?.runtime;
    // Open the model before the image work so that a bad --model fails at once.
    let model = if args.switch("no-model") {
        Err("skipped: --no-model".to_string())
    } else {
        match args.value("model") {
            Some(name) => Ok(classify::open_model(
                &locate::model(Some(name)).map_err(Failure::Setup)?,
                &args,
            )?),
            None => match locate::default_model() {
                Ok(path) => Ok(classify::open_model(&path, &args)?),
                Err(reason) => Err(format!("skipped: {reason}")),
            },
        }
    };
    let (mut timings, image, mut summary) = common::start(&args, &file)?;
    let view = image.view();
    output::ensure_dir(&out_dir)?;
    let stem = output::stem(&file);
    summary.insert("width".into(), json!(view.width()));
    summary.insert("height".into(), json!(view.height()));
    summary.insert("bit_depth".into(), json!(view.pixels().bit_depth()));
    summary.insert("resolution".into(), json!("full"));

    let analysis = timings.time("analyze", || {
        pipeline::analyze(&view, model.as_ref().ok(), &params, calibration, runtime)
    })?;
    summary.insert(
        "data_bar".into(),
        databar::describe(&args, &analysis.data_bar),
    );
    for (stage, seconds) in &analysis.stage_seconds {
        timings.record(stage, *seconds);
    }

    let classification = match (&model, &analysis.classification) {
        (Ok(model), Some(result)) => {
            classification_summary(model, result, &file, &view, &out_dir, &mut timings)?
        }
        (Err(note), _) => json!({ "skipped": true, "note": note }),
        (Ok(_), None) => unreachable!("the pipeline classifies when given a model"),
    };
    summary.insert("classification".into(), classification);

    let clustering = &analysis.clustering;
    let labels_path = output::named(&out_dir, &stem, "clusters.png");
    let target_path = output::named(&out_dir, &stem, &format!("cluster-{target}.png"));
    timings.time("write_clusters", || -> Result<(), Failure> {
        cluster_cmd::write_labels(&labels_path, clustering, view.width(), view.height())?;
        let target_mask = clustering.mask(target as u8)?;
        output::write_gray8(&target_path, view.width(), view.height(), target_mask)
    })?;
    let (otsu, texture) =
        otsu_and_texture(&analysis, &params, &file, &out_dir, &stem, &mut timings)?;
    summary.insert("otsu".into(), otsu);
    summary.insert("texture".into(), texture);

    let mut clusters = cluster_cmd::describe(clustering);
    clusters.insert("labels".into(), json!(labels_path));
    clusters.insert("seed".into(), json!(params.seed));
    let chosen = &clustering.clusters[target];
    clusters.insert(
        "target_cluster".into(),
        json!({
            "label": target,
            "chosen": if args.present("target-cluster") { "--target-cluster" } else { "default: brightest (k-1)" },
            "pixel_count": chosen.pixel_count,
            "area_fraction": analysis.target_fraction(),
            "area": chosen.area,
            "mask": target_path,
        }),
    );
    summary.insert("clustering".into(), Value::Object(clusters));

    timings.report(&mut summary);
    let summary_path = out_dir.join("summary.json");
    let pretty =
        serde_json::to_string_pretty(&summary).map_err(|err| Failure::Input(err.to_string()))?;
    std::fs::write(output::staged(&summary_path), pretty + "\n")
        .map_err(|err| Failure::Input(format!("cannot write {}: {err}", summary_path.display())))?;
    common::print(summary);
    Ok(Outcome::Success)
}

/// Otsu's mask and texture (the reference contrast map on that mask, and the pipeline's
/// whole-image GLCM features): their summary entries, with the images written to
/// `out_dir`.
fn otsu_and_texture(
    analysis: &Analysis,
    params: &AnalysisParams,
    file: &Path,
    out_dir: &Path,
    stem: &str,
    timings: &mut Timings,
) -> Result<(Value, Value), Failure> {
    let mask = &analysis.otsu_mask;
    let mut otsu = threshold::describe(&[analysis.otsu_threshold], mask);
    let mask_path = output::named(out_dir, stem, "otsu.png");
    let binary: Vec<u8> = mask
        .data
        .iter()
        .map(|&v| match v {
            0 => 0,
            EXCLUDED_LABEL => 128,
            _ => 255,
        })
        .collect();
    timings.time("write_otsu", || {
        output::write_gray8(&mask_path, mask.width, mask.height, binary)
    })?;
    otsu.insert("mask".into(), json!(mask_path));
    otsu.insert(
        "mask_values".into(),
        json!("0 background, 255 foreground, 128 data bar (excluded)"),
    );

    let reference = analysis
        .reference_texture
        .as_ref()
        .ok_or_else(|| Failure::Input("the pipeline made no texture map".into()))?;
    let maps = timings.time("write_texture", || {
        texture::write_maps(
            Some(out_dir),
            file,
            std::slice::from_ref(&reference.map),
            true,
        )
    })?;
    let whole = params.glcm_params()?;
    let texture = json!({
        "reference_maps": maps,
        "reference_image_features": texture::features_json(&reference.features),
        "image_features": texture::features_json(&analysis.texture),
        "image_features_settings": {
            "levels": whole.levels, "distances": whole.distances,
            "angles": whole.angles_deg, "average_angles": whole.average_angles,
            "quantization": "auto",
        },
    });
    Ok((Value::Object(otsu), texture))
}

/// The classification's summary entries, with the CAM of the predicted class written
/// when there is one.
fn classification_summary(
    model: &visual_ccc_core::model::Model,
    result: &visual_ccc_core::model::Classification,
    file: &Path,
    view: &ImageView,
    out_dir: &Path,
    timings: &mut Timings,
) -> Result<Value, Failure> {
    let info = model.info();
    let mut fields = classify::summary(model, file, result);
    fields.remove("file");
    fields.insert("skipped".into(), json!(false));
    if let Some(cam) = &result.cam {
        let (tiff, png) = timings.time("write_cam", || {
            heatmap::write(out_dir, file, view, result.region, cam)
        })?;
        fields.insert("cam".into(), json!(tiff));
        fields.insert("cam_overlay".into(), json!(png));
    } else if let Some(reason) = &info.cam_unavailable {
        fields.insert("cam_note".into(), json!(format!("no CAM: {reason}")));
    }
    if info.kind == visual_ccc_core::model::ModelKind::Fixture {
        fields.insert(
            "note".into(),
            json!("untrained test fixture: its predictions mean nothing"),
        );
    }
    Ok(Value::Object(fields))
}
