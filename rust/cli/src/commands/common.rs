//! Pieces shared by the single-image analysis commands (preprocess, threshold, texture,
//! cluster, analyze): option parsing with `--help`, loading the input image, stage
//! timings and the JSON summary on stdout.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{json, Map, Value};
use visual_ccc_core::image::decode::{decode_file_with, DecodeLimits, DEFAULT_MAX_PIXELS};
use visual_ccc_core::image::pixels::OwnedImage;

use crate::args::Args;
use crate::failure::Failure;

/// [`Args::command`] for an analysis command, which also knows the `--timings` switch.
/// `template` with each `{name}` replaced by its value: help texts name the core's
/// defaults instead of restating them.
pub fn fill(template: &str, values: &[(&str, String)]) -> String {
    values
        .iter()
        .fold(template.to_string(), |text, (name, value)| {
            text.replace(&format!("{{{name}}}"), value)
        })
}

/// The default `--max-pixels` as help texts show it, e.g. `8192²`.
pub fn max_pixels_text() -> String {
    let side = (DEFAULT_MAX_PIXELS as f64).sqrt() as u64;
    if side * side == DEFAULT_MAX_PIXELS {
        format!("{side}²")
    } else {
        DEFAULT_MAX_PIXELS.to_string()
    }
}

pub fn parse(
    command: &str,
    raw: &[String],
    help: &str,
    switches: &[&str],
    options: &[&str],
) -> Result<Option<Args>, String> {
    let mut all_switches = switches.to_vec();
    all_switches.push("timings");
    let mut all_options = options.to_vec();
    all_options.push("max-pixels");
    let help = fill(help, &[("max_pixels", max_pixels_text())]);
    Args::command(command, raw, &help, &all_switches, &all_options)
}

/// The decoding limits, with `--max-pixels` if given.
pub fn decode_limits(args: &Args) -> Result<DecodeLimits, String> {
    let max_pixels = args.parsed_or("max-pixels", DEFAULT_MAX_PIXELS)?;
    if max_pixels == 0 {
        return Err("--max-pixels must be positive".into());
    }
    // Room for the widest pixel the decoders produce (16-bit RGBA, 8 bytes).
    let defaults = DecodeLimits::default();
    Ok(DecodeLimits {
        max_pixels,
        max_bytes: defaults.max_bytes.max(max_pixels.saturating_mul(8)),
    })
}

/// The one input image of a command.
pub fn input_path(command: &str, args: &Args) -> Result<PathBuf, String> {
    match args.positional.as_slice() {
        [one] => Ok(PathBuf::from(one)),
        [] => Err(format!(
            "no image given (see `visual-ccc {command} --help`)"
        )),
        more => Err(format!(
            "one image at a time, got {}: {}",
            more.len(),
            more.join(" ")
        )),
    }
}

/// Decodes `path` within `limits` and refuses NaN or infinite pixels up front, before
/// any output is written.
pub fn load(path: &Path, limits: &DecodeLimits) -> Result<OwnedImage, Failure> {
    let image = decode_file_with(path, limits)?;
    image
        .view()
        .ensure_finite()
        .map_err(|err| Failure::Input(format!("{}: {err}", path.display())))?;
    Ok(image)
}

/// Starts a command's timings, loads `file` (see [`load`]) and begins its summary with
/// `"file"`.
pub fn start(
    args: &Args,
    file: &Path,
) -> Result<(Timings, OwnedImage, Map<String, Value>), Failure> {
    let mut timings = Timings::new(args);
    let limits = decode_limits(args)?;
    let image = timings.time("decode", || load(file, &limits))?;
    let mut summary = Map::new();
    summary.insert("file".into(), json!(file));
    Ok((timings, image, summary))
}

/// The fields of a JSON object built with `json!({...})`.
pub fn fields(object: Value) -> Map<String, Value> {
    match object {
        Value::Object(fields) => fields,
        other => unreachable!("not a JSON object: {other}"),
    }
}

/// `{name: value}` for names and values in the same order.
pub fn named_values<'a, T: Into<Value> + Copy + 'a>(
    names: impl IntoIterator<Item = &'a String>,
    values: impl IntoIterator<Item = &'a T>,
) -> Map<String, Value> {
    names
        .into_iter()
        .zip(values)
        .map(|(name, &v)| (name.clone(), v.into()))
        .collect()
}

/// Fails when any of `names` was given together with `--{with}`.
pub fn forbid_with(args: &Args, with: &str, names: &[&str]) -> Result<(), String> {
    match args.first_present(names) {
        Some(name) => Err(format!("--{name} cannot be combined with --{with}")),
        None => Ok(()),
    }
}

/// A required option's value.
pub fn required<'a>(args: &'a Args, name: &str, what: &str) -> Result<&'a str, String> {
    args.value(name)
        .ok_or_else(|| format!("--{name} is required ({what})"))
}

/// Wall-clock durations of a command's stages, reported under `timings_ms` with
/// `--timings`.
pub struct Timings {
    enabled: bool,
    stages: Map<String, Value>,
    start: Instant,
}

impl Timings {
    pub fn new(args: &Args) -> Self {
        Self {
            enabled: args.switch("timings"),
            stages: Map::new(),
            start: Instant::now(),
        }
    }

    /// Runs `work` as stage `name` and records its duration.
    pub fn time<T>(&mut self, name: &str, work: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = work();
        let ms = start.elapsed().as_secs_f64() * 1e3;
        self.stages.insert(name.into(), json!(round3(ms)));
        out
    }

    /// Records stage `name` that took `seconds` elsewhere (in the core).
    pub fn record(&mut self, name: &str, seconds: f64) {
        self.stages
            .insert(name.into(), json!(round3(seconds * 1e3)));
    }

    /// Adds `timings_ms` (the stages and their total since [`Timings::new`]) to `summary`
    /// when timings were asked for.
    pub fn report(mut self, summary: &mut Map<String, Value>) {
        if self.enabled {
            let total = self.start.elapsed().as_secs_f64() * 1e3;
            self.stages.insert("total".into(), json!(round3(total)));
            summary.insert("timings_ms".into(), Value::Object(self.stages));
        }
    }
}

fn round3(ms: f64) -> f64 {
    (ms * 1e3).round() / 1e3
}

/// Prints a command's summary as one line of JSON.
pub fn print(summary: Map<String, Value>) {
    println!("{}", Value::Object(summary));
}

/// `counts[i] / total` for each class.
pub fn fractions(counts: &[u64]) -> Vec<f64> {
    let total: u64 = counts.iter().sum();
    counts
        .iter()
        .map(|&c| {
            if total > 0 {
                c as f64 / total as f64
            } else {
                0.0
            }
        })
        .collect()
}

/// How many pixels carry each label `0..classes`.
pub fn label_counts(labels: &[u8], classes: usize) -> Vec<u64> {
    let mut counts = vec![0u64; classes.max(1)];
    for &l in labels {
        if let Some(c) = counts.get_mut(l as usize) {
            *c += 1;
        }
    }
    counts
}
