//! `visual-ccc batch` and `visual-ccc merge`: the core's batch engine over a folder, one
//! shard of it, and joining the shards' summaries.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use visual_ccc_core::batch::{self, BatchSettings, Outcome as FileOutcome, Progress, Shard};
use visual_ccc_core::model::ModelOptions;
use visual_ccc_core::pipeline::AnalysisParams;

use super::{classify, Outcome};
use crate::args::Args;
use crate::failure::Failure;
use crate::locate;

const HELP: &str = "\
usage: visual-ccc batch INPUT --out OUT [--model M] [--k K] [--seed S] [--recursive]
                        [--pattern GLOB] [--save-heatmaps] [--save-labels] [--jobs J]
                        [--shard I/N] [--onnxruntime PATH]

Runs the published workflow (classification, clustering, whole-image texture) on every
image file of INPUT and writes OUT/visual-ccc-summary.csv (one row per image, sorted by
file) and OUT/visual-ccc-skipped.csv (files that could not be read, with the reason).

Resumable: a row is appended only when all of its image's outputs exist, and a rerun
skips the files that have one, so a run killed at any point can simply be started again.

  --out OUT          output folder (required; not INPUT)
  --model M          ONNX model file or installed model name (default: morphology)
  --k K              number of clusters (default {k})
  --seed S           clustering seed (default {seed})
  --recursive        also process sub-folders
  --pattern GLOB     file-name pattern, case-insensitive (default *.{tif,tiff,png,jpg,jpeg,bmp})
  --save-heatmaps    write OUT/heatmaps/<file>-CAM.tif (32-bit class activation map)
  --save-labels      write OUT/labels/<file>-clusters.tif (8-bit cluster labels)
  --keep-data-bar    analyse instrument data bars too (by default their rows are left
                     out; the summary's 'Excluded rows' column counts them)
  --jobs J           images processed at once, sharing one model (default: one per core)
  --shard I/N        process only shard I of N (the sorted files whose index mod N is I);
                     writes OUT/parts/summary-I-of-N.csv; join the shards with
                     `visual-ccc merge OUT`
  --onnxruntime PATH libonnxruntime.so to use

Progress goes to stderr: a bar with rate and ETA on a terminal, else one JSON line per
file. The run's report is printed on stdout as one line of JSON. Exit status 1 when some
files were skipped.";

/// The help text with the recipe's defaults filled in from [`AnalysisParams::default`].
fn help() -> String {
    let d = AnalysisParams::default();
    super::common::fill(
        HELP,
        &[("k", d.k.to_string()), ("seed", d.seed.to_string())],
    )
}

const MERGE_HELP: &str = "\
usage: visual-ccc merge OUT

Joins the shard summaries OUT/parts/summary-I-of-N.csv of `visual-ccc batch --shard I/N`
into OUT/visual-ccc-summary.csv (rows sorted by file, the same table as one unsharded
run) and OUT/visual-ccc-skipped.csv. Refuses when a shard is missing or has not finished.";

pub fn run(raw: &[String]) -> Result<Outcome, Failure> {
    let options = [
        "out",
        "model",
        "k",
        "seed",
        "pattern",
        "jobs",
        "shard",
        "onnxruntime",
    ];
    let switches = ["recursive", "save-heatmaps", "save-labels", "keep-data-bar"];
    let Some(args) = Args::command("batch", raw, &help(), &switches, &options)? else {
        return Ok(Outcome::Success);
    };
    let input = match args.positional.as_slice() {
        [one] => PathBuf::from(one),
        [] => return Err("no input folder given (see `visual-ccc batch --help`)".into()),
        more => return Err(format!("one input folder, got {}", more.len()).into()),
    };
    let output = args
        .value("out")
        .ok_or("--out is required: the folder the summary and outputs go to")?;
    let defaults = BatchSettings::default();
    let analysis_defaults = AnalysisParams::default();
    let settings = BatchSettings {
        input,
        output: PathBuf::from(output),
        recursive: args.switch("recursive"),
        pattern: args.value("pattern").unwrap_or(&defaults.pattern).into(),
        save_heatmaps: args.switch("save-heatmaps"),
        save_labels: args.switch("save-labels"),
        jobs: args.parsed_or("jobs", defaults.jobs)?,
        shard: args
            .value("shard")
            .map(Shard::parse)
            .transpose()
            .map_err(|e| format!("--{e}"))?,
        analysis: AnalysisParams {
            k: args.parsed_or("k", analysis_defaults.k)?,
            seed: args.parsed_or("seed", analysis_defaults.seed)?,
            exclude_data_bar: analysis_defaults.exclude_data_bar && !args.switch("keep-data-bar"),
            ..analysis_defaults
        },
    };
    settings
        .validate()
        .map_err(|e| Failure::Usage(format!("--{e}")))?;
    let model_path = locate::model(args.value("model")).map_err(Failure::Setup)?;
    // Workers share one session; each run of it uses one thread so that images, not
    // operators, use the cores.
    let options = ModelOptions {
        threads: 1,
        ..classify::model_options(&args)?
    };
    let model = visual_ccc_core::model::Model::open(&model_path, &options)?;
    let reporter = Reporter::new();
    let cancel = AtomicBool::new(false);
    let report = batch::run(&settings, &model, &options.runtime, &cancel, &|p| {
        reporter.show(p)
    })?;
    reporter.finish();
    if report.fixture_model {
        eprintln!("warning: the model is an untrained test fixture; its predictions mean nothing");
    }
    let skipped = report.skipped.len();
    println!("{}", json!(report));
    Ok(if skipped > 0 {
        Outcome::SomeInputsFailed
    } else {
        Outcome::Success
    })
}

pub fn merge(raw: &[String]) -> Result<Outcome, Failure> {
    let Some(args) = Args::command("merge", raw, MERGE_HELP, &[], &[])? else {
        return Ok(Outcome::Success);
    };
    let [output] = args.positional.as_slice() else {
        return Err("give exactly one output folder (see `visual-ccc merge --help`)".into());
    };
    let report = batch::merge(&PathBuf::from(output))?;
    println!("{}", json!(report));
    Ok(Outcome::Success)
}

/// Progress on stderr: a bar on a terminal, JSON lines otherwise (logs of cluster jobs).
struct Reporter {
    bar: Option<Mutex<Option<ProgressBar>>>,
}

impl Reporter {
    fn new() -> Self {
        Reporter {
            bar: std::io::stderr().is_terminal().then(|| Mutex::new(None)),
        }
    }

    fn show(&self, progress: &Progress) {
        let Some(bar) = &self.bar else {
            eprintln!("{}", json!({ "progress": progress }));
            return;
        };
        let mut bar = bar.lock().expect("bar lock");
        let bar = bar.get_or_insert_with(|| {
            let bar = ProgressBar::new(progress.total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} images  {per_sec}  ETA {eta}  {msg}",
                )
                .expect("valid template"),
            );
            bar
        });
        bar.set_position(progress.done as u64);
        if let FileOutcome::Skipped { reason } = progress.outcome {
            bar.println(format!("skipped {}: {reason}", progress.file));
        }
        bar.set_message(progress.file.to_string());
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            if let Some(bar) = bar.lock().expect("bar lock").take() {
                bar.finish_and_clear();
            }
        }
    }
}
