//! The batch engine behind `visual-ccc batch` and Fiji's *Batch Process Folder…*: the
//! published workflow ([`crate::pipeline`]) over every matching file of a folder.
//!
//! * **Order and shards.** Files are sorted by their path relative to the input folder;
//!   shard `i` of `n` takes the files whose position mod `n` is `i`, so every machine
//!   computes the same split without talking to the others.
//! * **Resumable, never half-written.** Outputs are written under `.part-` names and
//!   renamed into place; an image's summary row is appended (one synced write) only after
//!   all its outputs exist, so the row marks the image finished and a rerun skips it. A
//!   run killed at any point leaves only complete outputs and complete rows.
//! * **Workers.** `jobs` threads take files from one queue and share one model session.
//! * **Outputs.** `visual-ccc-summary.csv` (rows sorted by file when the run ends) and
//!   `visual-ccc-skipped.csv` (file, reason); a shard writes `parts/summary-I-of-N.csv`,
//!   `parts/skipped-I-of-N.csv` and, when it has finished, `parts/summary-I-of-N.done`,
//!   which [`merge()`] requires before it joins the parts.

pub mod files;
mod merge;
mod outputs;
pub mod table;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use serde::{Deserialize, Serialize};

pub use files::{discover, InputFile, Shard, DEFAULT_PATTERN};
pub use merge::{merge, MergeReport};

use crate::analysis::cluster::Calibration;
use crate::error::{Error, Result};
use crate::image::decode::decode_file;
use crate::model::runtime::RuntimeConfig;
use crate::model::{Model, ModelKind};
use crate::pipeline::{analyze, Analysis, AnalysisParams};
use table::{csv_line, number, SummaryFile};

/// The summary table of an unsharded run (and of [`merge()`]).
pub const SUMMARY_FILE: &str = "visual-ccc-summary.csv";
/// The skipped files of an unsharded run (and of [`merge()`]).
pub const SKIPPED_FILE: &str = "visual-ccc-skipped.csv";
/// Where shards write their parts.
pub const PARTS_DIR: &str = "parts";
/// Prefix of files being written.
const PART_PREFIX: &str = ".part-";
/// The stages timed in [`BatchReport::stage_seconds`].
pub const STAGES: [&str; 3] = ["decode", "analyse", "write"];

/// What to process and how. Deserialised from JSON with every missing field taking its
/// default, so bridges send only what the user set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchSettings {
    pub input: PathBuf,
    pub output: PathBuf,
    /// Also process sub-folders (the output folder is always left out).
    pub recursive: bool,
    /// Glob on file names, case-insensitive (`*.tif`, `cell_*.{png,jpg}`); empty means
    /// [`DEFAULT_PATTERN`].
    pub pattern: String,
    /// Write `heatmaps/<file>-CAM.tif` (32-bit class activation map).
    pub save_heatmaps: bool,
    /// Write `labels/<file>-clusters.tif` (8-bit cluster labels).
    pub save_labels: bool,
    /// Images processed at once; 0 = [`default_jobs`].
    pub jobs: usize,
    pub shard: Option<Shard>,
    pub analysis: AnalysisParams,
}

impl Default for BatchSettings {
    fn default() -> Self {
        Self {
            input: PathBuf::new(),
            output: PathBuf::new(),
            recursive: false,
            pattern: DEFAULT_PATTERN.into(),
            save_heatmaps: false,
            save_labels: false,
            jobs: 0,
            shard: None,
            analysis: AnalysisParams::default(),
        }
    }
}

/// One worker per core: each image's stages are mostly single-threaded at batch scale,
/// so images in parallel use the cores best.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl BatchSettings {
    pub fn from_json(text: &str) -> Result<Self> {
        let settings: Self = serde_json::from_str(text)
            .map_err(|e| Error::invalid(format!("batch settings: {e}")))?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn defaults_json() -> String {
        serde_json::to_string(&Self::default()).expect("plain struct serialises")
    }

    pub fn validate(&self) -> Result<()> {
        if self.input.as_os_str().is_empty() {
            return Err(Error::invalid("input: no input folder given"));
        }
        if !self.input.is_dir() {
            return Err(Error::invalid(format!(
                "input: {} is not a folder",
                self.input.display()
            )));
        }
        if self.output.as_os_str().is_empty() {
            return Err(Error::invalid("output: no output folder given"));
        }
        if absolute(&self.output) == absolute(&self.input) {
            return Err(Error::invalid(
                "output: the output folder must differ from the input folder",
            ));
        }
        files::matcher(&self.pattern)?;
        if let Some(shard) = &self.shard {
            shard.validate()?;
        }
        if self.jobs > 1024 {
            return Err(Error::invalid(format!(
                "jobs: at most 1024 images at once, got {}",
                self.jobs
            )));
        }
        self.analysis.validate()
    }

    /// The summary this run appends to.
    pub fn summary_path(&self) -> PathBuf {
        match self.shard {
            None => self.output.join(SUMMARY_FILE),
            Some(s) => self
                .output
                .join(PARTS_DIR)
                .join(format!("summary-{}-of-{}.csv", s.index, s.count)),
        }
    }

    fn skipped_path(&self) -> PathBuf {
        match self.shard {
            None => self.output.join(SKIPPED_FILE),
            Some(s) => self
                .output
                .join(PARTS_DIR)
                .join(format!("skipped-{}-of-{}.csv", s.index, s.count)),
        }
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// `dir/.part-name`: where `path` is written before it is renamed into place.
pub(crate) fn part_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    path.with_file_name(format!("{PART_PREFIX}{name}"))
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Processed,
    AlreadyDone,
    Skipped { reason: String },
}

/// Told after each file.
#[derive(Debug, Clone, Serialize)]
pub struct Progress<'a> {
    /// Files handled so far (processed, already done or skipped) and in all.
    pub done: usize,
    pub total: usize,
    pub file: &'a str,
    pub outcome: &'a Outcome,
    pub elapsed_s: f64,
    /// Images analysed per second so far in this run.
    pub rate: f64,
    /// Seconds left at that rate; `None` before the first analysed image.
    pub eta_s: Option<f64>,
}

/// A file that could not be processed, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skip {
    pub file: String,
    pub reason: String,
}

/// What a run did.
#[derive(Debug, Clone, Serialize)]
pub struct BatchReport {
    /// Files this run is responsible for (all matching files, or the shard's).
    pub found: usize,
    pub processed: usize,
    pub already_done: usize,
    pub skipped: Vec<Skip>,
    pub cancelled: bool,
    pub seconds: f64,
    pub jobs: usize,
    pub summary: PathBuf,
    pub model: String,
    /// Whether the model is an untrained test fixture, whose predictions mean nothing.
    pub fixture_model: bool,
    /// Seconds summed over the workers per stage ([`STAGES`]).
    pub stage_seconds: [f64; 3],
}

/// The model's label as the Model column shows it.
pub fn model_label(model: &Model) -> String {
    let info = model.info();
    let name = info
        .path
        .file_stem()
        .map_or_else(|| info.name.clone(), |s| s.to_string_lossy().into_owned());
    if info.kind == ModelKind::Fixture {
        format!("{name} (untrained test fixture)")
    } else {
        name
    }
}

/// The summary's columns for `model` and `params`.
pub fn header(model: &Model, params: &AnalysisParams) -> Vec<String> {
    let mut header: Vec<String> = ["File", "Width", "Height", "Slices", "Model", "Class"]
        .map(String::from)
        .to_vec();
    header.extend(model.info().classes.iter().map(|c| format!("P({c})")));
    header.extend((0..params.k).map(|i| format!("Fraction cluster {i}")));
    header.push("Area unit".into());
    header.extend((0..params.k).map(|i| format!("Area cluster {i}")));
    header.extend(params.texture_features.iter().cloned());
    header.extend(["Excluded rows", "Heatmap", "Labels"].map(String::from));
    header
}

/// Processes the folder with `model` (shared by all workers). `cancel` is read before
/// each file; `progress` is told after each.
pub fn run(
    settings: &BatchSettings,
    model: &Model,
    runtime: &RuntimeConfig,
    cancel: &AtomicBool,
    progress: &(dyn Fn(&Progress) + Sync),
) -> Result<BatchReport> {
    settings.validate()?;
    let start = Instant::now();
    let output = absolute(&settings.output);
    let all = discover(
        &settings.input,
        settings.recursive,
        &settings.pattern,
        &output,
    )?;
    let files: Vec<InputFile> = match settings.shard {
        None => all,
        Some(shard) => all
            .into_iter()
            .enumerate()
            .filter(|(i, _)| shard.owns(*i))
            .map(|(_, f)| f)
            .collect(),
    };
    let summary_path = settings.summary_path();
    let parent = summary_path.parent().expect("inside the output folder");
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    let done_marker = merge::done_marker(&summary_path);
    match std::fs::remove_file(&done_marker) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(Error::io(&done_marker, e))
        }
        _ => {}
    }
    let header_line = csv_line(&header(model, &settings.analysis));
    let (summary, finished) = SummaryFile::open(&summary_path, &header_line)?;
    // Only this run's own leftovers: other shards may be writing in the same folder.
    for file in &files {
        for target in outputs::paths(&output, &file.relative) {
            let _ = std::fs::remove_file(part_path(&target));
        }
    }

    let jobs = match settings.jobs {
        0 => default_jobs(),
        n => n,
    }
    .min(files.len().max(1));
    let mut analysis = settings.analysis.clone();
    if analysis.threads == 0 {
        analysis.threads = (default_jobs() / jobs).max(1);
    }
    let worker = Worker {
        settings,
        analysis,
        output: &output,
        model,
        runtime,
        label: model_label(model),
        summary: Mutex::new(summary),
        summary_path: &summary_path,
    };
    let next = AtomicUsize::new(0);
    let handled = AtomicUsize::new(0);
    let state = Mutex::new(State::default());
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                if cancel.load(Ordering::Relaxed) || stop.load(Ordering::Relaxed) {
                    break;
                }
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(file) = files.get(index) else { break };
                let outcome = if finished.contains(&file.relative) {
                    Outcome::AlreadyDone
                } else {
                    match worker.process(file) {
                        Ok(Ok(timing)) => {
                            let mut s = state.lock().expect("state lock");
                            for (total, t) in s.stage_seconds.iter_mut().zip(timing) {
                                *total += t;
                            }
                            Outcome::Processed
                        }
                        Ok(Err(reason)) => Outcome::Skipped { reason },
                        Err(error) => {
                            stop.store(true, Ordering::Relaxed);
                            failure.lock().expect("failure lock").get_or_insert(error);
                            break;
                        }
                    }
                };
                let elapsed_s = start.elapsed().as_secs_f64();
                let done = handled.fetch_add(1, Ordering::Relaxed) + 1;
                let mut s = state.lock().expect("state lock");
                match &outcome {
                    Outcome::Processed => s.processed += 1,
                    Outcome::AlreadyDone => s.already_done += 1,
                    Outcome::Skipped { reason } => s.skipped.push(Skip {
                        file: file.relative.clone(),
                        reason: reason.clone(),
                    }),
                }
                let analysed = s.processed + s.skipped.len();
                let rate = analysed as f64 / elapsed_s.max(1e-9);
                let remaining = files.len() - done;
                drop(s);
                progress(&Progress {
                    done,
                    total: files.len(),
                    file: &file.relative,
                    outcome: &outcome,
                    elapsed_s,
                    rate,
                    eta_s: (analysed > 0).then(|| remaining as f64 / rate),
                });
            });
        }
    });
    if let Some(error) = failure.into_inner().expect("failure lock") {
        return Err(error);
    }
    let state = state.into_inner().expect("state lock");
    let cancelled = handled.load(Ordering::Relaxed) < files.len();
    let mut skipped = state.skipped;
    skipped.sort_by(|a, b| a.file.cmp(&b.file));
    let mut skipped_text = csv_line(&["File", "Reason"]);
    for skip in &skipped {
        skipped_text.push_str(&csv_line(&[&skip.file, &skip.reason]));
    }
    table::write_atomically(&settings.skipped_path(), &skipped_text)?;
    if !cancelled {
        drop(worker);
        let (header, rows) = table::read_rows(&summary_path)?;
        let rows = table::sort_rows(rows)?;
        let rows_count = rows.len();
        // Workers append in completion order; a run that added rows leaves them sorted.
        if state.processed > 0 {
            table::write_atomically(&summary_path, &(header + &rows.concat()))?;
        }
        if settings.shard.is_some() {
            merge::write_done_marker(&done_marker, files.len(), rows_count, skipped.len())?;
        }
    }
    Ok(BatchReport {
        found: files.len(),
        processed: state.processed,
        already_done: state.already_done,
        skipped,
        cancelled,
        seconds: start.elapsed().as_secs_f64(),
        jobs,
        summary: summary_path,
        model: model_label(model),
        fixture_model: model.info().kind == ModelKind::Fixture,
        stage_seconds: state.stage_seconds,
    })
}

#[derive(Default)]
struct State {
    processed: usize,
    already_done: usize,
    skipped: Vec<Skip>,
    stage_seconds: [f64; 3],
}

/// What every worker shares.
struct Worker<'a> {
    settings: &'a BatchSettings,
    analysis: AnalysisParams,
    output: &'a Path,
    model: &'a Model,
    runtime: &'a RuntimeConfig,
    label: String,
    summary: Mutex<SummaryFile>,
    summary_path: &'a Path,
}

impl Worker<'_> {
    /// Analyses one file, writes its outputs and appends its row. The inner `Err` is a
    /// reason to skip the file; the outer one (an output that cannot be written) stops
    /// the run.
    fn process(&self, file: &InputFile) -> Result<std::result::Result<[f64; 3], String>> {
        let mut timing = [0.0; 3];
        let mut lap = Instant::now();
        let mut time = |stage: usize| {
            timing[stage] += lap.elapsed().as_secs_f64();
            lap = Instant::now();
        };
        let image = match decode_file(&file.path) {
            Ok(image) => image,
            Err(e) => return Ok(Err(e.to_string())),
        };
        time(0);
        let view = image.view();
        let analysis = match analyze(
            &view,
            Some(self.model),
            &AnalysisParams {
                cam: self.settings.save_heatmaps && self.analysis.cam,
                // The batch writes no texture maps.
                texture_map: false,
                ..self.analysis.clone()
            },
            // what the file records (ImageJ's own calibration of a TIFF), else pixels
            Calibration::from_tiff_file(&file.path).unwrap_or_default(),
            self.runtime.clone(),
        ) {
            Ok(analysis) => analysis,
            Err(e) => return Ok(Err(format!("could not be analysed: {e}"))),
        };
        time(1);
        let written = outputs::write(
            self.output,
            &file.relative,
            &analysis,
            self.settings.save_heatmaps,
            self.settings.save_labels,
        )?;
        let row = self.row(file, view.width(), view.height(), &analysis, &written);
        self.summary
            .lock()
            .expect("summary lock")
            .append(&csv_line(&row), self.summary_path)?;
        time(2);
        Ok(Ok(timing))
    }

    fn row(
        &self,
        file: &InputFile,
        width: usize,
        height: usize,
        analysis: &Analysis,
        written: &outputs::Written,
    ) -> Vec<String> {
        let classification = analysis
            .classification
            .as_ref()
            .expect("batch always classifies");
        let clusters = &analysis.clustering.clusters;
        let mut row = vec![
            file.relative.clone(),
            width.to_string(),
            height.to_string(),
            "1".into(),
            self.label.clone(),
            self.model.info().classes[classification.class_index].clone(),
        ];
        row.extend(
            classification
                .probabilities
                .iter()
                .map(|&p| number(p as f64)),
        );
        row.extend(clusters.iter().map(|c| number(c.area_fraction)));
        row.push(format!("{}^2", analysis.clustering.unit));
        row.extend(clusters.iter().map(|c| number(c.area)));
        row.extend(analysis.texture.iter().map(|f| number(f.value)));
        row.push(analysis.data_bar.excluded_rows().to_string());
        row.push(written.heatmap.clone().unwrap_or_default());
        row.push(written.labels.clone().unwrap_or_default());
        row
    }
}
