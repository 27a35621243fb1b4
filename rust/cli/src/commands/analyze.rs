//! `visual-ccc analyze`: the published tool's whole pipeline on one image, at full
//! resolution: classification + CAM, Otsu segmentation, GLCM texture, k-means clustering.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use visual_ccc_core::analysis::cluster::{cluster, ClusterParams};
use visual_ccc_core::analysis::glcm::{
    glcm_features, Feature, GlcmParams, TextureParams, ALLOWED_ANGLES,
};
use visual_ccc_core::cam::CamTarget;
use visual_ccc_core::ImageView;

use super::common::{self, Timings};
use super::{classify, cluster as cluster_cmd, texture, threshold, Outcome};
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
     angle 0; -reference-contrast.tif) and whole-image GLCM features of the grey image
     (8 levels, distance 1, mean over 0/45/90/135°)
  4. k-means clustering with the default features (smoothed grey, sigma 2, and the
     learned foreground probability) (-clusters.png, values 0..k-1 by ascending mean
     grey) and the target cluster's mask (-cluster-<I>.png) and area fraction

  --out-dir DIR          where the images and summary.json go (required)
  --model PATH_OR_NAME   ONNX model file, or the name of an installed model
  --no-model             skip classification even if a model is installed
  --k N                  number of clusters, 2..255 (default 3)
  --target-cluster I     cluster whose area fraction is reported (default k-1, the
                         brightest)
  --seed S               clustering seed (default 42)
  --pixel-size W[,H]     pixel size in --unit, for calibrated areas
  --unit UNIT            length unit of --pixel-size
  --threads N            threads for ONNX Runtime, texture and clustering (default: all
                         cores); the results do not depend on it
  --onnxruntime PATH     libonnxruntime.so to use (classification and the clustering's
                         learned foreground feature)
  --timings              add stage durations (ms) to the summary

Prints the summary (the same as summary.json) as one line of JSON.";

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
    let Some(args) = common::parse("analyze", raw, HELP, &["no-model"], &options)? else {
        return Ok(Outcome::Success);
    };
    let file = common::input_path("analyze", &args)?;
    let out_dir = PathBuf::from(common::required(&args, "out-dir", "where results go")?);
    if args.switch("no-model") {
        common::forbid_with(&args, "no-model", &["model"])?;
    }
    let params = ClusterParams {
        k: args.parsed_or("k", 3)?,
        seed: args.parsed_or("seed", ClusterParams::default().seed)?,
        calibration: cluster_cmd::calibration(&args)?,
        ..ClusterParams::default()
    };
    params.validate()?;
    let target: usize = args.parsed_or("target-cluster", params.k - 1)?;
    if target >= params.k {
        return Err(Failure::Usage(format!(
            "--target-cluster {target} does not exist: with --k {} the clusters are 0..{}",
            params.k,
            params.k - 1
        )));
    }
    let threads: usize = args.parsed_or("threads", 0)?;
    let params = ClusterParams {
        threads,
        runtime: classify::model_options(&args)?.runtime,
        ..params
    };
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

    let classification = match &model {
        Ok(model) => classify_step(model, &file, &view, &out_dir, &mut timings)?,
        Err(note) => json!({ "skipped": true, "note": note }),
    };
    summary.insert("classification".into(), classification);

    // Clustering does not depend on the other stages: it runs on its own thread while
    // this one does Otsu and texture (each stage is deterministic, so the results are
    // the same as in sequence).
    let labels_path = output::named(&out_dir, &stem, "clusters.png");
    let target_path = output::named(&out_dir, &stem, &format!("cluster-{target}.png"));
    let mut cluster_timings = timings.fork();
    let (other_stages, clustered) = std::thread::scope(|scope| {
        let clustering = scope.spawn(|| -> Result<_, Failure> {
            let clustering = cluster_timings.time("cluster", || cluster(&view, &params, &[]))?;
            cluster_timings.time("write_clusters", || -> Result<(), Failure> {
                cluster_cmd::write_labels(&labels_path, &clustering, view.width(), view.height())?;
                let target_mask = clustering.mask(target as u8)?;
                output::write_gray8(&target_path, view.width(), view.height(), target_mask)
            })?;
            Ok(clustering)
        });
        let others = otsu_and_texture(&view, &file, &out_dir, &stem, threads, &mut timings);
        (
            others,
            clustering.join().expect("clustering thread panicked"),
        )
    });
    let (otsu, texture) = other_stages?;
    let clustering = clustered?;
    timings.merge(cluster_timings);
    summary.insert("otsu".into(), otsu);
    summary.insert("texture".into(), texture);

    let mut clusters = cluster_cmd::describe(&clustering);
    clusters.insert("labels".into(), json!(labels_path));
    clusters.insert("seed".into(), json!(params.seed));
    let chosen = &clustering.clusters[target];
    clusters.insert(
        "target_cluster".into(),
        json!({
            "label": target,
            "chosen": if args.present("target-cluster") { "--target-cluster" } else { "default: brightest (k-1)" },
            "pixel_count": chosen.pixel_count,
            "area_fraction": chosen.area_fraction,
            "area": chosen.area,
            "mask": target_path,
        }),
    );
    summary.insert("clustering".into(), Value::Object(clusters));

    timings.report(&mut summary);
    let summary_path = out_dir.join("summary.json");
    let pretty =
        serde_json::to_string_pretty(&summary).map_err(|err| Failure::Input(err.to_string()))?;
    std::fs::write(&summary_path, pretty + "\n")
        .map_err(|err| Failure::Input(format!("cannot write {}: {err}", summary_path.display())))?;
    common::print(summary);
    Ok(Outcome::Success)
}

/// Otsu segmentation and texture (reference map and whole-image GLCM features): their
/// summary entries, with the images written to `out_dir`.
fn otsu_and_texture(
    view: &ImageView,
    file: &Path,
    out_dir: &Path,
    stem: &str,
    threads: usize,
    timings: &mut Timings,
) -> Result<(Value, Value), Failure> {
    let (thresholds, mask) = timings.time("otsu", || threshold::compute(view, 2))?;
    let mut otsu = threshold::describe(&thresholds, &mask);
    let mask_path = output::named(out_dir, stem, "otsu.png");
    let binary: Vec<u8> = mask.data.iter().map(|&v| v * 255).collect();
    timings.time("write_otsu", || {
        output::write_gray8(&mask_path, mask.width, mask.height, binary)
    })?;
    otsu.insert("mask".into(), json!(mask_path));
    otsu.insert("mask_values".into(), json!("0 background, 255 foreground"));

    let reference = TextureParams {
        threads,
        ..TextureParams::reference()
    };
    let result = texture::compute_on_mask(&mask, &reference, timings)?;
    let maps = timings.time("write_texture", || {
        texture::write_maps(Some(out_dir), file, &result.maps, true)
    })?;
    let whole = image_glcm_params();
    let grey_features = timings.time("glcm_image_features", || glcm_features(view, &whole))?;
    let texture = json!({
        "reference_maps": maps,
        "reference_image_features": texture::features_json(&result.features),
        "image_features": texture::features_json(&grey_features),
        "image_features_settings": {
            "levels": whole.levels, "distances": whole.distances,
            "angles": whole.angles_deg, "average_angles": whole.average_angles,
            "quantization": "auto",
        },
    });
    Ok((Value::Object(otsu), texture))
}

/// Whole-image GLCM features of the grey image: every feature, 8 levels, distance 1,
/// averaged over the four angles.
fn image_glcm_params() -> GlcmParams {
    GlcmParams {
        levels: 8,
        distances: vec![1],
        angles_deg: ALLOWED_ANGLES.to_vec(),
        average_angles: true,
        features: Feature::ALL.to_vec(),
        ..GlcmParams::default()
    }
}

/// Classification, and the CAM of the predicted class when the model has one.
fn classify_step(
    model: &visual_ccc_core::model::Model,
    file: &Path,
    view: &ImageView,
    out_dir: &Path,
    timings: &mut Timings,
) -> Result<Value, Failure> {
    let info = model.info();
    let target = if info.has_cam() {
        CamTarget::Predicted
    } else {
        CamTarget::None
    };
    let result = timings.time("classify", || model.classify(view, target))?;
    let mut fields = classify::summary(model, file, &result);
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
