//! `visual-ccc`: the Visual-CCC core on the command line.

mod args;
mod commands;
mod failure;
mod heatmap;
mod locate;
mod logging;
mod output;

use std::process::ExitCode;

use failure::Failure;

const USAGE: &str = "\
usage: visual-ccc [-v|-vv|-q] <command> [options]

commands:
  classify   classify micrographs with a model; JSON Lines on stdout
  synth      generate synthetic micrographs (see `visual-ccc synth --help`)
  preprocess filter one image (median, gaussian, bilateral, clahe, background, stretch)
  threshold  Otsu / multi-level Otsu thresholds, area fractions, label image
  texture    GLCM texture maps (32-bit TIFFs) and whole-image GLCM features
  cluster    k-means segmentation: label image and per-cluster statistics
  analyze    the whole pipeline on one image: classify + CAM, Otsu, texture, clusters
  batch      the pipeline over a folder: resumable, --jobs, --shard I/N for clusters
  merge      join the shard summaries of `batch --shard` into one
  import-model  import a BioImage Model Zoo classifier (RDF 0.5, ONNX) as a model
  cam-eval   faithfulness of the CAM methods: deletion and insertion AUC over a folder
  train      train a classifier from a folder of class subfolders (new ONNX model)
  help       show this message

Run `visual-ccc <command> --help` for a command's options.

  -v, -vv    show the core's log lines (info; debug) on stderr
  -q         show errors only (no warnings)
";

fn main() -> ExitCode {
    visual_ccc_core::panics::install_panic_hook();
    let (verbosity, raw) = logging::split_flags(std::env::args().skip(1));
    logging::init(verbosity);
    let Some((command, rest)) = raw.split_first() else {
        eprintln!("{USAGE}\n{}", failure::EXIT_CODES);
        return ExitCode::from(Failure::Usage(String::new()).exit_code());
    };
    let outcome = match command.as_str() {
        "classify" => commands::classify::run(rest),
        "synth" => commands::synth::run(rest),
        "preprocess" => commands::preprocess::run(rest),
        "threshold" => commands::threshold::run(rest),
        "texture" => commands::texture::run(rest),
        "cluster" => commands::cluster::run(rest),
        "analyze" => commands::analyze::run(rest),
        "batch" => commands::batch::run(rest),
        "merge" => commands::batch::merge(rest),
        "import-model" => commands::import_model::run(rest),
        "cam-eval" => commands::cam_eval::run(rest),
        "train" => commands::train::run(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}\n{}", failure::EXIT_CODES);
            return ExitCode::SUCCESS;
        }
        "--version" | "version" => {
            println!("visual-ccc {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        other => Err(Failure::Usage(format!(
            "unknown command '{other}'\n\n{USAGE}"
        ))),
    };
    // Outputs were written under temporary names: keep them only when the command ran.
    let outcome = match outcome {
        Ok(done) => output::commit()
            .map(|()| done)
            .inspect_err(|_| output::discard()),
        Err(message) => {
            output::discard();
            Err(message)
        }
    };
    match outcome {
        Ok(commands::Outcome::Success) => ExitCode::SUCCESS,
        Ok(commands::Outcome::SomeInputsFailed) => {
            ExitCode::from(Failure::Input(String::new()).exit_code())
        }
        Err(failure) => {
            eprintln!("visual-ccc {command}: {}", failure.message());
            ExitCode::from(failure.exit_code())
        }
    }
}
