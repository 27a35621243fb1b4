//! `visual-ccc import-model`: a BioImage Model Zoo classifier becomes a Visual-CCC model.

use std::path::Path;

use serde_json::json;
use visual_ccc_core::model::bioimageio;

use super::Outcome;
use crate::args::Args;
use crate::failure::Failure;

const HELP: &str = "\
usage: visual-ccc import-model PACKAGE --out DIR [--threads N] [--onnxruntime PATH]

Imports a BioImage Model Zoo image classifier (model RDF 0.5 with ONNX weights: one input
[batch, channel = 1, y, x], one output [batch, channel]) as DIR/<name>.onnx following the
Visual-CCC model contract, with the package's preprocessing (scale_linear,
fixed_zero_mean_unit_variance, zero_mean_unit_variance, scale_range, clip) inside the graph.
PACKAGE is the package's .zip, its rdf.yaml / bioimageio.yaml, or the folder holding it.
The package's test input must reproduce its test output, else nothing is written.
Prints a JSON summary. DIR can be a models folder, e.g.
Fiji.app/models/visual-ccc. The imported model has no 'features' output: it classifies but
gives no class activation maps.";

pub fn run(raw: &[String]) -> Result<Outcome, Failure> {
    let options = ["out", "threads", "onnxruntime"];
    let Some(args) = Args::command("import-model", raw, HELP, &[], &options)? else {
        return Ok(Outcome::Success);
    };
    let [package] = args.positional.as_slice() else {
        return Err(Failure::Usage(format!(
            "give exactly one package\n\n{HELP}"
        )));
    };
    let out = super::common::required(&args, "out", "the folder for the imported model")?;
    let options = super::classify::model_options(&args)?;
    let imported = bioimageio::import(Path::new(package), Path::new(out), &options)?;
    println!(
        "{}",
        json!({
            "model": imported.path,
            "classes": imported.classes,
            "input_size": imported.input_size,
            "test_output_max_difference": imported.max_difference,
            "cam": "unavailable: the model has no 'features' output",
        })
    );
    Ok(Outcome::Success)
}
