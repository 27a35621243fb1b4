//! `visual-ccc cam-eval`: how faithful each CAM method is, by deletion and insertion AUC
//! over a folder of images, against a random map.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{json, Value};
use visual_ccc_core::cam::{faithfulness, CamMethod, CamTarget};
use visual_ccc_core::image::decode::{decode_file, has_image_extension};
use visual_ccc_core::model::{argmax, softmax, Model};

use super::Outcome;
use crate::args::Args;
use crate::failure::Failure;
use crate::locate;

const HELP: &str = "\
usage: visual-ccc cam-eval [--model PATH_OR_NAME] [--methods LIST] [--steps N] [--seed S]
                           [--format markdown|json] [--threads N] [--onnxruntime PATH] DIR

For every image in DIR (TIFF, PNG, JPEG, BMP), explains the predicted class with each
method and measures its faithfulness: the class probability as the pixels the map ranks
highest are removed first (deletion AUC, lower is better) or restored first into a
blurred copy (insertion AUC, higher is better), against a random map. Also reports each
method's time per image (the map only). Prints a markdown table or one JSON object.

  --model PATH_OR_NAME  ONNX model file, or the name of an installed model (default:
                        morphology)
  --methods LIST        comma-separated, from cam, score-cam, eigen-cam, occlusion
                        (default: all the model supports)
  --steps N             points per curve after the first (default 32)
  --seed S              seed of the random maps and of tie-breaking (default 0)
  --format FORMAT       markdown (default) or json
  --threads N           ONNX Runtime threads (default: all cores)
  --onnxruntime PATH    libonnxruntime.so to use";

/// Name of the random-map baseline row.
const RANDOM: &str = "random";
/// Curve inputs per forward pass.
const CURVE_BATCH: usize = 16;

/// Per-image results of one method.
#[derive(Default)]
struct Scores {
    deletion: Vec<f64>,
    insertion: Vec<f64>,
    map_ms: Vec<f64>,
}

pub fn run(raw: &[String]) -> Result<Outcome, Failure> {
    let options = [
        "model",
        "methods",
        "steps",
        "seed",
        "format",
        "threads",
        "onnxruntime",
    ];
    let Some(args) = Args::command("cam-eval", raw, HELP, &[], &options)? else {
        return Ok(Outcome::Success);
    };
    let [dir] = args.positional.as_slice() else {
        return Err(Failure::Usage(format!(
            "give exactly one folder of images\n\n{HELP}"
        )));
    };
    let steps: usize = args.parsed_or("steps", 32)?;
    let seed: u64 = args.parsed_or("seed", 0)?;
    let markdown = args.choice("format", "markdown", &[("markdown", true), ("json", false)])?;
    let model_path = locate::model(args.value("model")).map_err(Failure::Setup)?;
    let model = super::classify::open_model(&model_path, &args)?;
    let methods = chosen_methods(&model, args.value("methods"))?;
    let files = image_files(Path::new(dir))?;

    let mut results: Vec<(String, Scores)> = methods
        .iter()
        .map(|m| m.name().to_string())
        .chain([RANDOM.to_string()])
        .map(|name| (name, Scores::default()))
        .collect();
    let mut failures = 0;
    for (index, file) in files.iter().enumerate() {
        let image_seed = seed.wrapping_add(index as u64);
        if let Err(message) = evaluate(&model, file, &methods, (steps, image_seed), &mut results) {
            eprintln!("{}: {message}", file.display());
            failures += 1;
        }
    }
    let evaluated = files.len() - failures;
    if evaluated == 0 {
        return Err(Failure::Input(format!(
            "no image in {dir} could be evaluated"
        )));
    }
    let info = model.info();
    if markdown {
        println!(
            "Model `{}` ({}), {evaluated} images of {dir}, {steps} steps, seed {seed}\n",
            info.name,
            info.kind.name()
        );
        println!("| Method | Deletion AUC ↓ | Insertion AUC ↑ | Map time per image |");
        println!("|--------|---------------:|----------------:|-------------------:|");
        for (name, scores) in &results {
            let time = if name == RANDOM {
                "–".to_string()
            } else {
                format!("{:.2} ms", mean(&scores.map_ms))
            };
            println!(
                "| {name} | {} | {} | {time} |",
                mean_sd(&scores.deletion),
                mean_sd(&scores.insertion)
            );
        }
    } else {
        let rows: Vec<Value> = results
            .iter()
            .map(|(name, s)| {
                json!({
                    "method": name,
                    "deletion_auc": mean(&s.deletion),
                    "deletion_auc_sd": sd(&s.deletion),
                    "insertion_auc": mean(&s.insertion),
                    "insertion_auc_sd": sd(&s.insertion),
                    "map_ms": (name != RANDOM).then(|| mean(&s.map_ms)),
                })
            })
            .collect();
        let summary = json!({
            "model": info.name,
            "model_kind": info.kind,
            "folder": dir,
            "images": evaluated,
            "failed": failures,
            "steps": steps,
            "seed": seed,
            "methods": rows,
        });
        println!("{summary}");
    }
    Ok(if failures == 0 {
        Outcome::Success
    } else {
        Outcome::SomeInputsFailed
    })
}

/// The methods named in `list`, or all that the model supports.
fn chosen_methods(model: &Model, list: Option<&str>) -> Result<Vec<CamMethod>, Failure> {
    let methods = match list {
        Some(list) => list
            .split(',')
            .map(|name| CamMethod::parse(name).map_err(|err| format!("--methods: {err}")))
            .collect::<Result<Vec<_>, _>>()?,
        None => CamMethod::NAMES
            .iter()
            .map(|name| CamMethod::parse(name).expect("known method"))
            .filter(|m| model.info().has_cam() || !m.needs_features())
            .collect(),
    };
    for method in &methods {
        model.check_cam(CamTarget::Predicted, method)?;
    }
    Ok(methods)
}

/// Image files directly inside `dir`, sorted by name.
fn image_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|err| format!("cannot read {}: {err}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && has_image_extension(p))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no images in {}", dir.display()));
    }
    Ok(files)
}

/// Adds one image's curve areas and map times to `results` (methods, then random).
fn evaluate(
    model: &Model,
    file: &Path,
    methods: &[CamMethod],
    (steps, seed): (usize, u64),
    results: &mut [(String, Scores)],
) -> Result<(), String> {
    let text = |err: visual_ccc_core::Error| err.to_string();
    let image = decode_file(file).map_err(text)?;
    let input = model.prepare(&image.view()).map_err(text)?.data;
    let size = model.info().input_size;
    let output = model
        .forward(input.clone(), 1, model.info().has_cam())
        .map_err(text)?;
    let class = argmax(&softmax(&output.logits));
    let mut maps = Vec::with_capacity(methods.len() + 1);
    for method in methods {
        let start = Instant::now();
        let map = model
            .raw_map(&input, &output, class, method)
            .map_err(text)?;
        let map = visual_ccc_core::image::resample::upsample(
            &map.data, map.width, map.height, size, size,
        );
        maps.push((map, start.elapsed().as_secs_f64() * 1e3));
    }
    maps.push((faithfulness::random_map(size, seed), 0.0));
    for ((map, ms), (_, scores)) in maps.iter().zip(results.iter_mut()) {
        let curves = faithfulness::curves(
            &input,
            size,
            map,
            steps,
            seed,
            CURVE_BATCH,
            &mut model.class_scorer(class),
        )
        .map_err(text)?;
        scores.deletion.push(curves.deletion_auc());
        scores.insertion.push(curves.insertion_auc());
        scores.map_ms.push(*ms);
    }
    Ok(())
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

fn sd(values: &[f64]) -> f64 {
    let m = mean(values);
    let n = values.len();
    if n < 2 {
        return 0.0;
    }
    (values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
}

fn mean_sd(values: &[f64]) -> String {
    format!("{:.3} ± {:.3}", mean(values), sd(values))
}
