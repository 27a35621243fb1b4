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

/// The help text, with every default read from the core's [`TextureParams::default`].
fn help() -> String {
    let defaults = TextureParams::default();
    let g = &defaults.glcm;
    let join = |items: Vec<String>| items.join(",");
    let features = join(g.features.iter().map(|f| f.name().to_string()).collect());
    let distances = join(g.distances.iter().map(usize::to_string).collect());
    let angles = join(g.angles_deg.iter().map(f64::to_string).collect());
    let (average, per_angle) = if g.average_angles {
        (" (default)", "")
    } else {
        ("", " (default)")
    };
    format!(
        "\
usage: visual-ccc texture IMAGE [--features LIST|all] [--window W] [--levels L]
                        [--distances D,...] [--angles A,...] [--average-angles|--per-angle]
                        [--quantization auto|minmax|direct] [--threads N]
                        [--out-dir DIR] [--keep-data-bar] [--timings]
       visual-ccc texture IMAGE --reference [--out-dir DIR] [--keep-data-bar] [--timings]

Grey-level co-occurrence (GLCM) texture, defined as scikit-image's graycomatrix /
graycoprops (symmetric, normed): one map per feature × distance × angle, each pixel
holding the feature of the W×W window centred on it (zero-padded borders), and the same
features for the whole image.

  --features LIST     comma-separated: contrast, dissimilarity, homogeneity, ASM, energy,
                      correlation, entropy, mean, variance, or all (default {features})
  --window W          odd window side, 3..255 (default {window})
  --levels L          grey levels, 2..256 (default {levels})
  --distances D,...   pixel-pair distances, each ≥ 1 and < W (default {distances})
  --angles A,...      pixel-pair angles in degrees: 0, 45, 90, 135 (default {angles})
  --average-angles    one map per feature and distance: the mean over the angles{average}
  --per-angle         one map per feature, distance and angle{per_angle}
  --quantization Q    auto (8-bit/RGB: fixed 0–255 bins; 16/32-bit: image min–max),
                      minmax, or direct (values already are levels 0..L-1); default {quantization}
  --threads N         worker threads (default: all cores; results do not depend on it)
  --reference         the published tool's texture step: Otsu mask (value > t) of the
                      image, then 5×5 windows, 2 levels, distance 1, angle 0, contrast
  --out-dir DIR       write one 32-bit TIFF per map: <name>-<feature>-d<D>-a<A>.tif
                      (-mean.tif when averaged; <name>-reference-contrast.tif); NaN in
                      data-bar rows
  --timings           add stage durations (ms) to the JSON
  --max-pixels N      refuse larger images before decoding (default {{max_pixels}})

Prints one JSON object: the settings, \"image_features\" (whole image) and \"maps\"
(per map: feature, distance, angle, mean over the image, file).",
        window = defaults.window,
        levels = g.levels,
        quantization = g.quantization.name(),
    )
}

const CUSTOM_OPTIONS: [&str; 8] = [
    "features",
    "window",
    "levels",
    "distances",
    "angles",
    "average-angles",
    "per-angle",
    "quantization",
];

pub fn run(raw: &[String]) -> Result<Outcome, Failure> {
    let mut options = CUSTOM_OPTIONS.to_vec();
    options.retain(|o| !matches!(*o, "average-angles" | "per-angle"));
    options.extend(["threads", "out-dir"]);
    let switches = [
        "average-angles",
        "per-angle",
        "reference",
        databar::KEEP_SWITCH,
    ];
    let help = databar::help(&help());
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

/// The settings the user gave, every other one the core's default.
fn custom_params(args: &Args) -> Result<TextureParams, String> {
    let defaults = TextureParams::default();
    let glcm = defaults.glcm;
    let features = match args.value("features") {
        None => glcm.features,
        Some(list) if list.trim().eq_ignore_ascii_case("all") => Feature::ALL.to_vec(),
        Some(list) => list
            .split(',')
            .map(|name| Feature::from_name(name).map_err(|e| format!("--features: {e}")))
            .collect::<Result<_, _>>()?,
    };
    let quantization = args.choice(
        "quantization",
        glcm.quantization.name(),
        &[
            ("auto", Quantization::Auto),
            ("minmax", Quantization::MinMax),
            ("direct", Quantization::Direct),
        ],
    )?;
    if args.switch("average-angles") && args.switch("per-angle") {
        return Err("--average-angles and --per-angle exclude each other".into());
    }
    let average_angles = if args.switch("per-angle") {
        false
    } else {
        args.switch("average-angles") || glcm.average_angles
    };
    Ok(TextureParams {
        window: args.parsed_or("window", defaults.window)?,
        glcm: GlcmParams {
            levels: args.parsed_or("levels", glcm.levels)?,
            distances: args.parsed_list("distances")?.unwrap_or(glcm.distances),
            angles_deg: args.parsed_list("angles")?.unwrap_or(glcm.angles_deg),
            average_angles,
            quantization,
            features,
            ..glcm
        },
        threads: defaults.threads,
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
    let mut fields = common::fields(params.to_json());
    fields.insert(
        "definition".into(),
        json!(
            "scikit-image graycomatrix/graycoprops (symmetric, normed); maps: window \
             centred on each pixel, zero-padded borders; whole image: no padding"
        ),
    );
    fields
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
