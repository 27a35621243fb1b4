//! `visual-ccc threshold`: Otsu and multi-level Otsu thresholds, class area fractions and
//! an optional label image.

use std::path::PathBuf;

use serde_json::{json, Map, Value};
use visual_ccc_core::analysis::threshold::{
    apply_thresholds, multi_otsu, otsu, Labels, DEFAULT_CLASSES, MAX_CLASSES, MIN_CLASSES,
};
use visual_ccc_core::ImageView;

use super::Outcome;
use super::{common, databar};
use crate::failure::Failure;
use crate::output;

const HELP: &str = "\
usage: visual-ccc threshold IMAGE [--classes N] [--out LABELS] [--keep-data-bar] [--timings]

Global grey-level thresholds by Otsu's method (two classes) or multi-level Otsu (3–5
classes), defined exactly as scikit-image's threshold_otsu / threshold_multiotsu with
nbins=256 (8-bit images: one bin per grey value; 16/32-bit and RGB luminance: 256
equal bins, thresholds are bin centres). A pixel belongs to class i when it exceeds
exactly i thresholds (foreground = value > t).

  --classes N    number of classes, 2..5 (default {classes}: one threshold)
  --out LABELS   write the label image (.png or .tif, 8-bit, values 0..N-1; 255 in
                 data-bar rows)
  --timings      add stage durations (ms) to the JSON
  --max-pixels N  refuse larger images before decoding (default {max_pixels})

Prints one JSON object: {\"file\", \"classes\", \"thresholds\", \"definition\",
\"pixel_counts\", \"area_fractions\"[, \"labels\"]}.";

/// What the thresholds mean, as reported in every summary.
pub const DEFINITION: &str = "scikit-image threshold_otsu/threshold_multiotsu, nbins=256; \
                              foreground = value > t (class = number of thresholds exceeded)";

pub fn run(raw: &[String]) -> Result<Outcome, Failure> {
    let help = databar::help(&common::fill(
        HELP,
        &[("classes", DEFAULT_CLASSES.to_string())],
    ));
    let switches = [databar::KEEP_SWITCH];
    let Some(args) = common::parse("threshold", raw, &help, &switches, &["classes", "out"])? else {
        return Ok(Outcome::Success);
    };
    let file = common::input_path("threshold", &args)?;
    let classes: usize = args.parsed_or("classes", DEFAULT_CLASSES)?;
    if !(MIN_CLASSES..=MAX_CLASSES).contains(&classes) {
        return Err(Failure::Usage(format!(
            "--classes must be between {MIN_CLASSES} and {MAX_CLASSES}, got {classes}"
        )));
    }
    let out = args.value("out").map(PathBuf::from);
    if let Some(out) = &out {
        output::format_for(out, false)?;
    }
    let (mut timings, image, mut summary) = common::start(&args, &file)?;
    let view = image.view();
    let bar = timings.time("data_bar", || databar::find(&args, &view))?;
    let kept = bar.kept(&view)?;
    let (thresholds, labels) = timings.time("threshold", || compute(&kept, classes))?;
    let labels = databar::expand_labels(&bar, labels);
    summary.extend(describe(&thresholds, &labels));
    summary.insert("data_bar".into(), databar::describe(&args, &bar));
    if let Some(out) = out {
        timings.time("write", || {
            output::write_gray8(&out, labels.width, labels.height, labels.data)
        })?;
        summary.insert("labels".into(), json!(out));
    }
    timings.report(&mut summary);
    common::print(summary);
    Ok(Outcome::Success)
}

/// Thresholds (one for two classes, `classes − 1` otherwise) and the label image.
pub fn compute(view: &ImageView, classes: usize) -> Result<(Vec<f64>, Labels), Failure> {
    let thresholds = match classes {
        2 => vec![otsu(view)?],
        n => multi_otsu(view, n).map_err(|e| format!("--classes {n}: {e}"))?,
    };
    let labels = apply_thresholds(view, &thresholds)?;
    Ok((thresholds, labels))
}

/// The JSON fields describing a thresholding.
pub fn describe(thresholds: &[f64], labels: &Labels) -> Map<String, Value> {
    let counts = common::label_counts(&labels.data, thresholds.len() + 1);
    common::fields(json!({
        "classes": thresholds.len() + 1,
        "thresholds": thresholds,
        "definition": DEFINITION,
        "area_fractions": common::fractions(&counts),
        "pixel_counts": counts,
    }))
}
