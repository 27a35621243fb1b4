//! `visual-ccc classify`: one JSON object per image on stdout.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use visual_ccc_core::cam::{CamMethod, CamTarget};
use visual_ccc_core::image::decode::{decode_file_with, DecodeLimits, TiffRows};
use visual_ccc_core::model::runtime::RuntimeConfig;
use visual_ccc_core::model::tiling::{classify_whole, TilingOptions, ViewRows, DEFAULT_BATCH};
use visual_ccc_core::model::{
    Classification, Model, ModelKind, ModelOptions, MIN_TILE_SOURCE_SIZE,
};

use super::Outcome;
use crate::args::Args;
use crate::failure::Failure;
use crate::{heatmap, locate, output};

const HELP: &str = "\
usage: visual-ccc classify [--model PATH_OR_NAME] [--mode whole|center-crop] [--overlap PX]
                           [--tile-size PX] [--batch N] [--heatmap-dir DIR] [--cam-class NAME]
                           [--cam-method METHOD] [--threads N] [--onnxruntime PATH]
                           [--keep-data-bar] IMAGE...

Classifies each image (TIFF, PNG, JPEG, BMP; 8/16/32-bit grey or RGB) and prints one JSON
object per image: {\"file\", \"class\", \"probabilities\": {class: p}, ...} or
{\"file\", \"error\"}. Images that fail do not stop the others; the exit code is 1 if any
failed. Probabilities are calibrated when the model carries a temperature; \"unfamiliar\"
is true when the image is unlike the model's training data (its energy score,
\"unfamiliarity\", is above the model's threshold; null when the model has none): treat
its class as a guess.

  --model PATH_OR_NAME  ONNX model file, or the name of an installed model (default:
                        morphology)
  --mode MODE           whole (default): cut the image into tiles of --tile-size source
                        pixels, each resized to the model's input size, and average the
                        tile probabilities; center-crop: the published method (shorter
                        side resized to 1.2 x input, centre crop)
  --tile-size PX        whole mode: source pixels one tile covers (default: the model's
                        visualccc.tile_source_size, else its input size = full resolution;
                        at least 16). Images whose shorter side is below it get one centre
                        crop. Tile regions and maps are in original image pixels
  --overlap PX          whole mode: pixels shared by neighbouring tiles, counted in
                        model-input pixels (default: a quarter of the model's input size),
                        i.e. PX x tile size / input size source pixels
  --batch N             whole mode: tiles per ONNX Runtime run (default {batch})
  --heatmap-dir DIR     write <name>-cam.tif (32-bit CAM) and <name>-cam.png (overlay); in
                        whole mode the CAM is stitched over the whole image (one cell per
                        pixel, or per few pixels for images over 2048 pixels wide) and
                        <name>-tiles.csv (per-tile class and probabilities) and
                        <name>-tiles.tif (8-bit class index per tile) are written too;
                        the whole-mode map covers the rows kept (data bar left out)
  --cam-class NAME      explain this class instead of the predicted one
  --cam-method METHOD   cam (default; equals Grad-CAM), score-cam, eigen-cam (ignores the
                        class) or occlusion (the only one for models without 'features');
                        in whole mode the methods other than cam make a second pass
  --threads N           ONNX Runtime threads (default: all cores)
  --onnxruntime PATH    libonnxruntime.so to use
  --max-pixels N        refuse images of more than N pixels before decoding them (default
                        {max_pixels}); uncompressed 8-bit TIFFs in whole mode stream
                        and are not limited";

/// The help text with the tiling defaults filled in from [`TilingOptions::default`].
fn help() -> String {
    let batch = TilingOptions::default().batch;
    let max_pixels = format!(
        "{} = {}",
        visual_ccc_core::image::decode::DEFAULT_MAX_PIXELS,
        super::common::max_pixels_text()
    );
    super::common::fill(
        HELP,
        &[("batch", batch.to_string()), ("max_pixels", max_pixels)],
    )
}

pub fn run(raw: &[String]) -> Result<Outcome, Failure> {
    let options = [
        "model",
        "mode",
        "overlap",
        "tile-size",
        "batch",
        "heatmap-dir",
        "cam-class",
        "cam-method",
        "threads",
        "onnxruntime",
        "max-pixels",
    ];
    let help = super::databar::help(&help());
    let switches = [super::databar::KEEP_SWITCH];
    let Some(args) = Args::command("classify", raw, &help, &switches, &options)? else {
        return Ok(Outcome::Success);
    };
    if args.positional.is_empty() {
        return Err(Failure::Usage(format!("no images given\n\n{help}")));
    }
    let model_path = locate::model(args.value("model")).map_err(Failure::Setup)?;
    let model = open_model(&model_path, &args)?;
    let heatmap_dir = args.value("heatmap-dir").map(PathBuf::from);
    let target = match (args.value("cam-class"), &heatmap_dir) {
        (Some(name), _) => CamTarget::Class(class_index(&model, name)?),
        (None, Some(_)) => CamTarget::Predicted,
        (None, None) => CamTarget::None,
    };
    let method = CamMethod::parse(args.value("cam-method").unwrap_or("cam"))
        .map_err(|err| format!("--cam-method: {err}"))?;
    if let Err(err) = model.check_cam(target, &method) {
        return Err(Failure::Setup(format!(
            "{}: {err}; or run without --heatmap-dir and --cam-class to classify only",
            model_path.display()
        )));
    }
    if let Some(dir) = &heatmap_dir {
        std::fs::create_dir_all(dir)
            .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    }
    let mode = Mode::from_args(&args, &model)?;
    let limits = super::common::decode_limits(&args)?;
    let mut failures = 0;
    for file in &args.positional {
        let file = Path::new(file);
        let outcome = match &mode {
            Mode::CenterCrop => classify_one(
                &model,
                file,
                (target, &method),
                heatmap_dir.as_deref(),
                &args,
                &limits,
            ),
            Mode::Whole(tiling) => {
                let options = TilingOptions {
                    cam: target,
                    method,
                    ..*tiling
                };
                classify_whole_image(
                    &model,
                    file,
                    &options,
                    heatmap_dir.as_deref(),
                    &args,
                    &limits,
                )
            }
        };
        // Each image's heatmaps appear complete or not at all.
        let outcome = match outcome {
            Ok(fields) => output::commit().map(|()| fields),
            Err(failure) => Err(failure),
        };
        let line = match outcome {
            Ok(fields) => fields,
            Err(failure) => {
                output::discard();
                failures += 1;
                json!({ "file": file, "error": failure.message() })
            }
        };
        println!("{line}");
    }
    Ok(if failures == 0 {
        Outcome::Success
    } else {
        Outcome::SomeInputsFailed
    })
}

/// How each image becomes model inputs.
enum Mode {
    CenterCrop,
    Whole(TilingOptions),
}

impl Mode {
    fn from_args(args: &Args, model: &Model) -> Result<Self, String> {
        let size = model.info().input_size;
        match args.value("mode").unwrap_or("whole") {
            "whole" => {
                let overlap =
                    args.parsed_or("overlap", TilingOptions::for_input_size(size).overlap)?;
                if overlap >= size {
                    return Err(format!(
                        "--overlap {overlap} must be smaller than the model's input size {size}"
                    ));
                }
                let batch = args.parsed_or("batch", DEFAULT_BATCH)?;
                if batch == 0 {
                    return Err("--batch must be at least 1".into());
                }
                let tile_source_size: Option<usize> = args.parsed("tile-size")?;
                if let Some(px) = tile_source_size.filter(|&px| px < MIN_TILE_SOURCE_SIZE) {
                    return Err(format!(
                        "--tile-size {px} must be at least {MIN_TILE_SOURCE_SIZE} pixels"
                    ));
                }
                Ok(Mode::Whole(TilingOptions {
                    overlap,
                    tile_source_size,
                    batch,
                    ..TilingOptions::default()
                }))
            }
            "center-crop" => {
                super::common::forbid_with(
                    args,
                    "--mode center-crop",
                    &["overlap", "tile-size", "batch"],
                )?;
                Ok(Mode::CenterCrop)
            }
            other => Err(format!(
                "--mode: unknown mode '{other}' (use whole or center-crop)"
            )),
        }
    }
}

/// Opens the model at `path` with `--threads` and `--onnxruntime` from `args`; warns on
/// stderr when it is an untrained fixture.
pub fn open_model(path: &Path, args: &Args) -> Result<Model, Failure> {
    let model = Model::open(path, &model_options(args)?)?;
    if model.info().kind == ModelKind::Fixture {
        eprintln!(
            "warning: {} is an untrained test fixture; its predictions mean nothing",
            path.display()
        );
    }
    Ok(model)
}

/// Model options from `--threads` and `--onnxruntime`.
pub fn model_options(args: &Args) -> Result<ModelOptions, String> {
    Ok(ModelOptions {
        threads: args.parsed_or("threads", 0usize)?,
        runtime: RuntimeConfig {
            library_path: args.value("onnxruntime").map(PathBuf::from),
            search_dirs: locate::runtime_dirs(),
        },
    })
}

fn class_index(model: &Model, name: &str) -> Result<usize, String> {
    let classes = &model.info().classes;
    classes.iter().position(|c| c == name).ok_or_else(|| {
        format!("--cam-class: the model has no class '{name}' (classes: {classes:?})")
    })
}

fn classify_one(
    model: &Model,
    file: &Path,
    (target, method): (CamTarget, &CamMethod),
    heatmap_dir: Option<&Path>,
    args: &Args,
    limits: &DecodeLimits,
) -> Result<Value, Failure> {
    let image = decode_file_with(file, limits)?;
    let bar = super::databar::find(args, &image.view())?;
    let kept = bar.kept(&image.view())?;
    let mut result = model.classify_with(&kept, target, method)?;
    // Regions are reported (and the CAM drawn) in the whole image's pixels.
    result.region.y += bar.top_rows;
    let mut fields = summary(model, file, &result);
    fields.insert("data_bar".into(), super::databar::describe(args, &bar));
    fields.insert("mode".into(), json!("center-crop"));
    if result.cam.is_some() {
        fields.insert("cam_method".into(), json!(method.name()));
    }
    if let (Some(dir), Some(cam)) = (heatmap_dir, &result.cam) {
        let (written, _) = heatmap::write(dir, file, &image.view(), result.region, cam)?;
        fields.insert("heatmap".into(), json!(written));
    }
    Ok(Value::Object(fields))
}

/// Whole-image mode: uncompressed 8-bit grey TIFFs stream from the file (the data bar is
/// found in a first pass over the rows), other images are decoded first.
fn classify_whole_image(
    model: &Model,
    file: &Path,
    options: &TilingOptions,
    heatmap_dir: Option<&Path>,
    args: &Args,
    limits: &DecodeLimits,
) -> Result<Value, Failure> {
    let (result, bar) = match TiffRows::open(file)? {
        Some(mut rows) => {
            let bar = super::databar::find_rows(args, &mut rows)?;
            let result = bar
                .kept_rows_of(&mut rows)
                .and_then(|mut kept| classify_whole(model, &mut kept, options));
            (result, bar)
        }
        None => {
            let image = decode_file_with(file, limits)?;
            let bar = super::databar::find(args, &image.view())?;
            let kept = bar.kept(&image.view())?;
            let result =
                ViewRows::new(kept).and_then(|mut rows| classify_whole(model, &mut rows, options));
            (result, bar)
        }
    };
    let mut result = result?;
    // Tile regions in the whole image's pixels; the stitched map covers the kept rows.
    for tile in &mut result.tiles {
        tile.region.y += bar.top_rows;
    }
    let info = model.info();
    let mut fields = base_fields(model, file, result.class_index, &result.probabilities);
    insert_unfamiliar(&mut fields, result.unfamiliarity, result.unfamiliar);
    fields.insert("mode".into(), json!("whole"));
    fields.insert("data_bar".into(), super::databar::describe(args, &bar));
    fields.insert(
        "tiles".into(),
        json!({
            "count": result.tiles.len(),
            "columns": result.columns,
            "rows": result.rows,
            "size": info.input_size,
            "source_size": result.tile_source_size,
            "overlap": options.overlap,
            "aggregation": "mean of tile probabilities",
        }),
    );
    if let Some(dir) = heatmap_dir {
        let written = heatmap::write_whole(dir, file, model, &result)?;
        if let Some(map) = &result.map {
            fields.insert("cam_class".into(), json!(info.classes[map.cam.class_index]));
            fields.insert("cam_method".into(), json!(options.method.name()));
            fields.insert("map_scale".into(), json!(map.scale));
        }
        fields.insert("heatmap".into(), json!(written));
    }
    Ok(Value::Object(fields))
}

/// The JSON fields of one classification: file, class, probabilities, model, model
/// kind, region and the class the CAM explains.
pub fn summary(model: &Model, file: &Path, result: &Classification) -> Map<String, Value> {
    let info = model.info();
    let mut fields = base_fields(model, file, result.class_index, &result.probabilities);
    insert_unfamiliar(&mut fields, result.unfamiliarity, result.unfamiliar);
    fields.insert("region".into(), json!(result.region));
    if let Some(cam) = &result.cam {
        fields.insert("cam_class".into(), json!(info.classes[cam.class_index]));
    }
    fields
}

/// `unfamiliar` (true / false, or null when the model has no threshold) and the score
/// it compares, `unfamiliarity` (docs/model-format.md, *Calibration*).
fn insert_unfamiliar(fields: &mut Map<String, Value>, score: f32, unfamiliar: Option<bool>) {
    fields.insert("unfamiliar".into(), json!(unfamiliar));
    fields.insert("unfamiliarity".into(), json!(score));
}

/// File, class, probabilities, model and model kind.
fn base_fields(
    model: &Model,
    file: &Path,
    class_index: usize,
    probabilities: &[f32],
) -> Map<String, Value> {
    let info = model.info();
    let probabilities = super::common::named_values(&info.classes, probabilities);
    let mut fields = Map::new();
    fields.insert("file".into(), json!(file));
    fields.insert("class".into(), json!(info.classes[class_index]));
    fields.insert("probabilities".into(), Value::Object(probabilities));
    fields.insert("model".into(), json!(info.name));
    fields.insert("model_kind".into(), json!(info.kind));
    fields
}
