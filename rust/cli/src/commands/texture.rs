//! `visual-ccc texture`: sliding-window GLCM feature maps (32-bit TIFFs) and whole-image
//! GLCM features.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use visual_ccc_core::analysis::glcm::{
    glcm_features, texture_maps, Feature, FeatureValue, GlcmParams, MapKey, Quantization,
    TextureMap, TextureParams,
};
use visual_ccc_core::image::databar::DataBar;
use visual_ccc_core::ImageView;

use super::common::{self, Timings};
use super::databar;
use super::Outcome;
use crate::args::Args;
use crate::failure::Failure;
use crate::output;

const HELP: &str = "\
usage: visual-ccc texture IMAGE [--features LIST|all] [--window W] [--levels L]
                        [--distances D,...] [--angles A,...] [--average-angles]
                        [--quantization auto|minmax|direct] [--threads N]
                        [--out-dir DIR] [--keep-data-bar] [--timings]
       visual-ccc texture IMAGE --reference [--out-dir DIR] [--keep-data-bar] [--timings]

Grey-level co-occurrence (GLCM) texture, defined as scikit-image's graycomatrix /
graycoprops (symmetric, normed): one map per feature × distance × angle, each pixel
holding the feature of the W×W window centred on it (zero-padded borders), and the same
features for the whole image.

  --features LIST     comma-separated: contrast, dissimilarity, homogeneity, ASM, energy,
                      correlation, entropy, mean, variance, or all
                      (default contrast,homogeneity,energy,correlation)
  --window W          odd window side, 3..255 (default 5)
  --levels L          grey levels, 2..256 (default 8)
  --distances D,...   pixel-pair distances, each ≥ 1 and < W (default 1)
  --angles A,...      pixel-pair angles in degrees: 0, 45, 90, 135 (default all four)
  --average-angles    one map per feature and distance: the mean over the angles
  --quantization Q    auto (8-bit/RGB: fixed 0–255 bins; 16/32-bit: image min–max),
                      minmax, or direct (values already are levels 0..L-1); default auto
  --threads N         worker threads (default: all cores; results do not depend on it)
  --reference         the published tool's texture step: Otsu mask (value > t) of the
                      image, then 5×5 windows, 2 levels, distance 1, angle 0, contrast
  --out-dir DIR       write one 32-bit TIFF per map: <name>-<feature>-d<D>-a<A>.tif
                      (-mean.tif when averaged; <name>-reference-contrast.tif); NaN in
                      data-bar rows
  --timings           add stage durations (ms) to the JSON
  --max-pixels N      refuse larger images before decoding (default 8192²)

Prints one JSON object: the settings, \"image_features\" (whole image) and \"maps\"
(per map: feature, distance, angle, mean over the image, file).";

const CUSTOM_OPTIONS: [&str; 7] = [
    "features",
    "window",
    "levels",
    "distances",
    "angles",
    "average-angles",
    "quantization",
];

/// Default features when `--features` is not given.
const DEFAULT_FEATURES: [Feature; 4] = [
    Feature::Contrast,
    Feature::Homogeneity,
    Feature::Energy,
    Feature::Correlation,
];

pub fn run(raw: &[String]) -> Result<Outcome, Failure> {
    let mut options = CUSTOM_OPTIONS.to_vec();
    options.retain(|o| *o != "average-angles");
    options.extend(["threads", "out-dir"]);
    let switches = ["average-angles", "reference", databar::KEEP_SWITCH];
    let help = databar::help(HELP);
    let Some(args) = common::parse("texture", raw, &help, &switches, &options)? else {
        return Ok(Outcome::Success);
    };
    let file = common::input_path("texture", &args)?;
    let reference = args.switch("reference");
    let params = if reference {
        common::forbid_with(&args, "reference", &CUSTOM_OPTIONS)?;
        TextureParams::reference()
    } else {
        custom_params(&args)?
    };
    let params = TextureParams {
        threads: args.parsed_or("threads", 0usize)?,
        ..params
    };
    params.validate()?;
    let out_dir = args.value("out-dir").map(PathBuf::from);

    let (mut timings, image, mut summary) = common::start(&args, &file)?;
    let bar = timings.time("data_bar", || databar::find(&args, &image.view()))?;
    let view = bar.kept(&image.view())?;
    let mut result = if reference {
        let (thresholds, mask) = timings.time("otsu", || super::threshold::compute(&view, 2))?;
        summary.insert("otsu_threshold".into(), json!(thresholds[0]));
        summary.insert(
            "threshold_definition".into(),
            json!(super::threshold::DEFINITION),
        );
        compute_on_mask(&mask.view(), &params, &mut timings)?
    } else {
        compute(&view, &params, &params.glcm, &mut timings)?
    };
    summary.insert(
        "mode".into(),
        json!(if reference { "reference" } else { "custom" }),
    );
    summary.extend(describe_settings(&params));
    summary.insert("image_features".into(), features_json(&result.features));
    summary.insert("data_bar".into(), databar::describe(&args, &bar));
    expand_maps(&bar, &mut result.maps);
    let maps = timings.time("write", || {
        write_maps(out_dir.as_deref(), &file, &result.maps, reference)
    })?;
    summary.insert("maps".into(), Value::Array(maps));
    timings.report(&mut summary);
    common::print(summary);
    Ok(Outcome::Success)
}

fn custom_params(args: &Args) -> Result<TextureParams, String> {
    let features = match args.value("features") {
        None => DEFAULT_FEATURES.to_vec(),
        Some(list) if list.trim().eq_ignore_ascii_case("all") => Feature::ALL.to_vec(),
        Some(list) => list
            .split(',')
            .map(|name| Feature::from_name(name).map_err(|e| format!("--features: {e}")))
            .collect::<Result<_, _>>()?,
    };
    let quantization = args.choice(
        "quantization",
        "auto",
        &[
            ("auto", Quantization::Auto),
            ("minmax", Quantization::MinMax),
            ("direct", Quantization::Direct),
        ],
    )?;
    Ok(TextureParams {
        window: args.parsed_or("window", 5)?,
        glcm: GlcmParams {
            levels: args.parsed_or("levels", 8)?,
            distances: args.parsed_list("distances")?.unwrap_or(vec![1]),
            angles_deg: args
                .parsed_list("angles")?
                .unwrap_or(visual_ccc_core::analysis::glcm::ALLOWED_ANGLES.to_vec()),
            average_angles: args.switch("average-angles"),
            quantization,
            features,
            ..GlcmParams::default()
        },
        threads: 0,
    })
}

/// Feature maps and whole-image features of one run.
pub struct Texture {
    pub maps: Vec<TextureMap>,
    pub features: Vec<FeatureValue>,
}

/// Maps of `view` with `params`, and whole-image features with `whole` (which may differ,
/// e.g. more features than are mapped).
pub fn compute(
    view: &ImageView,
    params: &TextureParams,
    whole: &GlcmParams,
    timings: &mut Timings,
) -> Result<Texture, Failure> {
    let maps = timings.time("texture_maps", || texture_maps(view, params))?;
    let features = timings.time("texture_features", || glcm_features(view, whole))?;
    Ok(Texture { maps, features })
}

/// The reference texture step on a 0/1 Otsu mask (`params` from
/// [`TextureParams::reference`], possibly with a thread count).
pub fn compute_on_mask(
    mask: &ImageView,
    params: &TextureParams,
    timings: &mut Timings,
) -> Result<Texture, Failure> {
    compute(mask, params, &params.glcm, timings)
}

/// Maps of the kept rows back at the image's size, NaN in the data bar's rows.
pub fn expand_maps(bar: &DataBar, maps: &mut [TextureMap]) {
    for map in maps {
        map.image.data = bar.expand(&map.image.data, f32::NAN);
        (map.image.width, map.image.height) = (bar.width, bar.height);
    }
}

fn describe_settings(params: &TextureParams) -> Map<String, Value> {
    let g = &params.glcm;
    common::fields(json!({
        "window": params.window,
        "levels": g.levels,
        "distances": g.distances,
        "angles": g.angles_deg,
        "average_angles": g.average_angles,
        "symmetric": g.symmetric,
        "quantization": format!("{:?}", g.quantization).to_lowercase(),
        "definition": "scikit-image graycomatrix/graycoprops (symmetric, normed); maps: window \
                       centred on each pixel, zero-padded borders; whole image: no padding",
    }))
}

fn key_fields(key: &MapKey) -> Map<String, Value> {
    let angle = match key.angle_deg {
        Some(a) => json!(a),
        None => json!("mean"),
    };
    common::fields(json!({
        "feature": key.feature.name(),
        "distance": key.distance,
        "angle": angle,
    }))
}

/// Whole-image features as `[{feature, distance, angle, value}]`.
pub fn features_json(features: &[FeatureValue]) -> Value {
    features
        .iter()
        .map(|f| {
            let mut fields = key_fields(&f.key);
            fields.insert("value".into(), json!(f.value));
            Value::Object(fields)
        })
        .collect()
}

/// `<name>-<feature>-d<D>-a<A>.tif`, `…-mean.tif`, or `<name>-reference-contrast.tif`.
fn map_file_name(stem: &str, key: &MapKey, reference: bool) -> String {
    let feature = key.feature.name().to_lowercase();
    if reference {
        return format!("{stem}-reference-{feature}.tif");
    }
    match key.angle_deg {
        Some(a) => format!("{stem}-{feature}-d{}-a{a}.tif", key.distance),
        None => format!("{stem}-{feature}-d{}-mean.tif", key.distance),
    }
}

/// Writes the maps into `dir` (when given) and describes each: key, mean, file.
pub fn write_maps(
    dir: Option<&Path>,
    source: &Path,
    maps: &[TextureMap],
    reference: bool,
) -> Result<Vec<Value>, Failure> {
    if let Some(dir) = dir {
        output::ensure_dir(dir)?;
    }
    let stem = output::stem(source);
    maps.iter()
        .map(|map| {
            let mut fields = key_fields(&map.key);
            let data = &map.image.data;
            // NaN marks data-bar rows, which are not part of the image's texture.
            let kept: Vec<f64> = data
                .iter()
                .filter(|v| !v.is_nan())
                .map(|&v| v as f64)
                .collect();
            let mean = kept.iter().sum::<f64>() / kept.len().max(1) as f64;
            fields.insert("mean".into(), json!(mean));
            if let Some(dir) = dir {
                let path = dir.join(map_file_name(&stem, &map.key, reference));
                output::write_float_tiff(&path, map.image.width, map.image.height, data)?;
                fields.insert("file".into(), json!(path));
            }
            Ok(Value::Object(fields))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_names_say_feature_distance_and_angle() {
        let key = |angle_deg| MapKey {
            feature: Feature::Asm,
            distance: 2,
            angle_deg,
        };
        assert_eq!(
            map_file_name("a", &key(Some(45.0)), false),
            "a-asm-d2-a45.tif"
        );
        assert_eq!(map_file_name("a", &key(None), false), "a-asm-d2-mean.tif");
        assert_eq!(
            map_file_name("a", &key(Some(0.0)), true),
            "a-reference-asm.tif"
        );
    }
}
