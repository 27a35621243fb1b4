//! `visual-ccc cluster`: k-means segmentation on per-pixel features; writes the label
//! image and prints per-cluster statistics.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use visual_ccc_core::analysis::cluster::{
    cluster, cluster_reference, suggest_k, Calibration, ClusterParams, Clustering, Feature,
    ReferenceParams, SuggestParams, REFERENCE_WIDTH,
};
use visual_ccc_core::image::databar::EXCLUDED_LABEL;

use super::Outcome;
use super::{common, databar};
use crate::args::Args;
use crate::failure::Failure;
use crate::output;

const HELP: &str = "\
usage: visual-ccc cluster IMAGE --k N --labels-out FILE [--features LIST]
                        [--position-weight W] [--seed S] [--n-init N] [--max-iter N]
                        [--tol T] [--sample N] [--suggest-k]
                        [--pixel-size W[,H] --unit UNIT] [--threads N]
                        [--onnxruntime PATH] [--keep-data-bar] [--timings]
       visual-ccc cluster IMAGE --k N --labels-out FILE --reference [--seed S]
                        [--pixel-size W[,H] --unit UNIT] [--keep-data-bar]

k-means on per-pixel features, each standardised to zero mean and unit variance over
the image. Centroids are fitted (k-means++, best of --n-init runs) on a deterministic
random sample of pixels, then every pixel is assigned to its nearest centroid. Labels
run 0..k-1 by ascending mean grey (0 = darkest cluster). The same options always give
the same labels.

  --k N               number of clusters, 2..255 (required)
  --labels-out FILE   label image, 8-bit .png or .tif, pixel value = cluster label
                      (255 in data-bar rows)
  --features LIST     comma-separated (default smoothed:2,foreground):
                        grey           the grey value (RGB: luminance)
                        smoothed[:S]   Gaussian-smoothed grey, sigma S px (default {sigma})
                        variance[:R]   grey variance in a (2R+1)² window (default R {variance_radius})
                        foreground     learned foreground probability (0..1) from the
                                       network bundled with the program: high on compact
                                       objects such as particles, low on the background
                                       around them, whatever their grey; needs ONNX
                                       Runtime (docs/models/foreground.md)
                        x,y            pixel position (both), weighted by --position-weight
  --position-weight W weight of the standardised x and y (default 1; needs x,y)
  --seed S            random seed of sampling and k-means++ (default {seed})
  --n-init N          k-means++ restarts, the lowest inertia wins (default {n_init})
  --max-iter N        iteration limit per run (default {max_iter})
  --tol T             convergence tolerance on the centroid shift (default {tol})
  --sample N          fit on at most N pixels (default {sample}; ≥ 100)
  --suggest-k         also report the k (2..8) with the best mean silhouette; only a
                      suggestion, the clustering always uses --k
  --reference         the published tool's clustering: grey only, image resized to
                      512 px wide, k-means with 10 restarts on every pixel; the labels
                      are written at the original size (nearest neighbour)
  --pixel-size W[,H]  pixel width (and height) in --unit, for calibrated areas
                      (default: the calibration a TIFF records, as ImageJ saves it;
                      else pixels)
  --unit UNIT         length unit of --pixel-size, e.g. um (areas are in UNIT²)
  --threads N         worker threads (default 0: all cores); labels do not depend on it
  --onnxruntime PATH  libonnxruntime.so to use for the foreground feature
  --timings           add stage durations (ms) to the JSON
  --max-pixels N      refuse larger images before decoding (default {max_pixels})

Prints one JSON object: settings, \"inertia\" (sum of squared distances to the
centroids in standardised feature space, all pixels), \"clusters\" (label, pixel count,
area fraction, calibrated area, mean grey, mean of each feature) and, with --suggest-k,
\"suggested_k\".";

/// The help text with the defaults filled in from [`ClusterParams::default`].
fn help() -> String {
    let d = ClusterParams::default();
    common::fill(
        HELP,
        &[
            ("sigma", Feature::DEFAULT_SIGMA.to_string()),
            (
                "variance_radius",
                Feature::DEFAULT_VARIANCE_RADIUS.to_string(),
            ),
            ("seed", d.seed.to_string()),
            ("n_init", d.n_init.to_string()),
            ("max_iter", d.max_iterations.to_string()),
            ("tol", format!("{:e}", d.tolerance)),
            ("sample", d.max_samples.to_string()),
        ],
    )
}

const CUSTOM_OPTIONS: [&str; 8] = [
    "features",
    "onnxruntime",
    "position-weight",
    "n-init",
    "max-iter",
    "tol",
    "sample",
    "suggest-k",
];

pub fn run(raw: &[String]) -> Result<Outcome, Failure> {
    let mut options = CUSTOM_OPTIONS.to_vec();
    options.retain(|o| *o != "suggest-k");
    options.extend(["k", "seed", "pixel-size", "unit", "labels-out", "threads"]);
    let switches = ["suggest-k", "reference", databar::KEEP_SWITCH];
    let help = databar::help(&help());
    let Some(args) = common::parse("cluster", raw, &help, &switches, &options)? else {
        return Ok(Outcome::Success);
    };
    let file = common::input_path("cluster", &args)?;
    let k: usize = common::required(&args, "k", "the number of clusters")?
        .parse()
        .map_err(|_| format!("--k: cannot read '{}'", args.value("k").unwrap_or_default()))?;
    let labels_out = PathBuf::from(common::required(
        &args,
        "labels-out",
        "the label image to write",
    )?);
    output::format_for(&labels_out, false)?;
    let reference = args.switch("reference");
    let params = if reference {
        common::forbid_with(&args, "reference", &CUSTOM_OPTIONS)?;
        ClusterParams {
            k,
            seed: args.parsed_or("seed", ClusterParams::default().seed)?,
            calibration: calibration(&args, &file)?,
            ..ClusterParams::default()
        }
    } else {
        params(&args, k, &file)?
    };
    params.validate()?;

    let (mut timings, image, mut summary) = common::start(&args, &file)?;
    let bar = timings.time("data_bar", || databar::find(&args, &image.view()))?;
    let view = bar.kept(&image.view())?;
    let clustering = if reference {
        summary.insert("mode".into(), json!("reference"));
        let reference = ReferenceParams {
            k,
            seed: params.seed,
            calibration: params.calibration.clone(),
        };
        timings.time("cluster", || cluster_reference(&view, &reference))
    } else {
        summary.insert("mode".into(), json!("custom"));
        summary.extend(describe_settings(&params));
        timings.time("cluster", || cluster(&view, &params, &[]))
    }?;
    if reference {
        summary.insert("reference_width".into(), json!(REFERENCE_WIDTH));
    }
    summary.extend(describe(&clustering));
    summary.insert("data_bar".into(), databar::describe(&args, &bar));
    if args.switch("suggest-k") {
        let suggestion = timings.time("suggest_k", || {
            suggest_k(&view, &params, &[], &SuggestParams::default())
        })?;
        let scores: Vec<Value> = suggestion
            .scores
            .iter()
            .map(|&(k, s)| json!({ "k": k, "silhouette": s }))
            .collect();
        summary.insert(
            "suggested_k".into(),
            json!({
                "best_k": suggestion.best_k,
                "scores": scores,
                "criterion": "mean silhouette on a random subsample of the fitting sample",
                "applied": false,
            }),
        );
    }
    timings.time("write", || {
        let kept = labels_at(&clustering, view.width(), view.height());
        let labels = bar.expand(&kept, EXCLUDED_LABEL);
        output::write_gray8(&labels_out, bar.width, bar.height, labels)
    })?;
    summary.insert("labels".into(), json!(labels_out));
    timings.report(&mut summary);
    common::print(summary);
    Ok(Outcome::Success)
}

/// Clustering parameters from the command line (custom mode).
fn params(args: &Args, k: usize, file: &Path) -> Result<ClusterParams, String> {
    let defaults = ClusterParams::default();
    let (features, position) = match args.value("features") {
        None => (defaults.features.clone(), false),
        Some(list) => parse_features(list)?,
    };
    let position_weight = match (position, args.value("position-weight")) {
        (false, Some(_)) => {
            return Err("--position-weight needs the x,y features in --features".into())
        }
        (false, None) => 0.0,
        (true, _) => args.parsed_or("position-weight", 1.0)?,
    };
    if position && position_weight == 0.0 {
        return Err("--position-weight must be greater than 0 when x,y are features".into());
    }
    Ok(ClusterParams {
        k,
        features,
        position_weight,
        n_init: args.parsed_or("n-init", defaults.n_init)?,
        max_iterations: args.parsed_or("max-iter", defaults.max_iterations)?,
        tolerance: args.parsed_or("tol", defaults.tolerance)?,
        seed: args.parsed_or("seed", defaults.seed)?,
        max_samples: args.parsed_or("sample", defaults.max_samples)?,
        calibration: calibration(args, file)?,
        threads: args.parsed_or("threads", defaults.threads)?,
        runtime: super::classify::model_options(args)?.runtime,
    })
}

/// Image features named in `--features`, and whether x,y (position) were asked for.
fn parse_features(list: &str) -> Result<(Vec<Feature>, bool), String> {
    let mut features = Vec::new();
    let (mut x, mut y) = (false, false);
    for item in list.split(',').map(str::trim) {
        let (name, value) = match item.split_once(':') {
            Some((name, value)) => (name, Some(value)),
            None => (item, None),
        };
        let number = |default: f64| -> Result<f64, String> {
            value.map_or(Ok(default), |v| {
                v.parse()
                    .map_err(|_| format!("--features: cannot read '{v}' in '{item}'"))
            })
        };
        let feature = match name.to_ascii_lowercase().as_str() {
            "grey" | "gray" if value.is_none() => Feature::Grey,
            "foreground" if value.is_none() => Feature::Foreground,
            "smoothed" => Feature::Smoothed {
                sigma: number(Feature::DEFAULT_SIGMA)?,
            },
            "variance" => {
                let radius = number(Feature::DEFAULT_VARIANCE_RADIUS as f64)?;
                if radius.fract() != 0.0 || radius < 0.0 {
                    return Err(format!(
                        "--features: the variance radius must be a whole number, got '{item}'"
                    ));
                }
                Feature::LocalVariance {
                    radius: radius as usize,
                }
            }
            "x" if value.is_none() => {
                x = true;
                continue;
            }
            "y" if value.is_none() => {
                y = true;
                continue;
            }
            _ => {
                return Err(format!(
                    "--features: unknown clustering feature '{item}'; use grey, smoothed:SIGMA, \
                     variance:RADIUS, foreground, x, y"
                ))
            }
        };
        if features.contains(&feature) {
            return Err(format!("--features: '{item}' is listed twice"));
        }
        features.push(feature);
    }
    if x != y {
        return Err("--features: x and y come together (position is both coordinates)".into());
    }
    Ok((features, x))
}

/// `--pixel-size W[,H]` with `--unit`, else the calibration the TIFF `file` records,
/// else uncalibrated pixels.
pub fn calibration(args: &Args, file: &Path) -> Result<Calibration, String> {
    let size: Option<Vec<f64>> = args.parsed_list("pixel-size")?;
    let calibration = match (size.as_deref(), args.value("unit")) {
        (None, None) => Calibration::from_tiff_file(file).unwrap_or_default(),
        (Some(_), None) => return Err("--pixel-size needs --unit (e.g. --unit um)".into()),
        (None, Some(_)) => return Err("--unit needs --pixel-size".into()),
        (Some(&[w]), Some(unit)) | (Some(&[w, _]), Some(unit)) => Calibration {
            pixel_width: w,
            pixel_height: size.as_ref().and_then(|s| s.get(1)).copied().unwrap_or(w),
            unit: unit.to_string(),
        },
        (Some(_), Some(_)) => {
            return Err("--pixel-size takes one value (square pixels) or two: W,H".into())
        }
    };
    calibration
        .validate()
        .map_err(|e| format!("--pixel-size: {e}"))?;
    Ok(calibration)
}

fn describe_settings(params: &ClusterParams) -> Map<String, Value> {
    common::fields(json!({
        "seed": params.seed,
        "n_init": params.n_init,
        "max_iter": params.max_iterations,
        "tol": params.tolerance,
        "position_weight": params.position_weight,
    }))
}

/// The JSON fields describing a clustering: features, inertia and the clusters.
pub fn describe(clustering: &Clustering) -> Map<String, Value> {
    let clusters: Vec<Value> = clustering
        .clusters
        .iter()
        .map(|c| {
            let means = common::named_values(&clustering.feature_names, &c.feature_means);
            json!({
                "label": c.label,
                "pixel_count": c.pixel_count,
                "area_fraction": c.area_fraction,
                "area": c.area,
                "mean_grey": c.mean_grey,
                "feature_means": means,
            })
        })
        .collect();
    common::fields(json!({
        "k": clustering.clusters.len(),
        "features": clustering.feature_names,
        "analysed_size": [clustering.width, clustering.height],
        "sample_size": clustering.sample_size,
        "inertia": clustering.inertia,
        "area_unit": format!("{}²", clustering.unit),
        "clusters": clusters,
    }))
}

/// Writes the labels at `width`×`height` (resampled by nearest neighbour when the
/// clustering ran on a resized image).
pub fn write_labels(
    path: &Path,
    clustering: &Clustering,
    width: usize,
    height: usize,
) -> Result<(), Failure> {
    output::write_gray8(path, width, height, labels_at(clustering, width, height))
}

/// The labels at `width`×`height` (reference mode clusters a resized image).
fn labels_at(clustering: &Clustering, width: usize, height: usize) -> Vec<u8> {
    if (clustering.width, clustering.height) == (width, height) {
        clustering.labels.clone()
    } else {
        clustering.labels_resized(width, height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_parse_with_parameters_and_position() {
        let (features, position) =
            parse_features("grey, smoothed:1.5,variance:3,foreground,x,y").unwrap();
        assert_eq!(
            features,
            [
                Feature::Grey,
                Feature::Smoothed { sigma: 1.5 },
                Feature::LocalVariance { radius: 3 },
                Feature::Foreground
            ]
        );
        assert!(position);
        assert_eq!(
            parse_features("smoothed").unwrap().0,
            [Feature::Smoothed { sigma: 2.0 }]
        );
        for bad in [
            "glcm",
            "x",
            "variance:1.5",
            "grey,grey",
            "smoothed:abc",
            "grey:2",
            "foreground:1",
        ] {
            assert!(parse_features(bad).is_err(), "{bad}");
        }
    }
}
