//! Importing a BioImage Model Zoo image classifier (model RDF 0.5 with ONNX weights) as a
//! model that follows the Visual-CCC contract (docs/model-format.md).
//!
//! The package must be an image classifier: one input with axes
//! `[batch, channel (1), y, x]` and a square test tensor of side S, one output
//! `[batch, channel]`. The wrapped model takes `input` `[N,1,S,S]` in [0, 1], multiplies
//! it by 255 (the raw 8-bit range the package's preprocessing expects), runs the package's
//! preprocessing as ONNX operators, then the network; its output becomes `logits` (its
//! log when the package ends in a softmax). The package's test input (÷ 255) must
//! reproduce its test output, else nothing is written. The package is an `rdf.yaml` /
//! `bioimageio.yaml`, the folder holding it, or a `.zip` of that folder's contents.

use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;

use crate::error::{Error, Result};
use crate::model::onnx_edit::{self, Attribute, Builder, Wrapping};
use crate::model::{Model, ModelOptions};

/// The raw value range Visual-CCC's [0, 1] input stands for (8-bit images).
const RAW_SCALE: f32 = 255.0;
/// The default `eps` of the BioImage Model Zoo normalisations.
const EPS: f32 = 1e-6;

/// What an import produced.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImportedModel {
    pub path: PathBuf,
    pub classes: Vec<String>,
    pub input_size: usize,
    /// Largest difference from the package's test output.
    pub max_difference: f32,
}

/// Largest file a package may hold (declared and actually unpacked), 256 MiB: larger
/// than any classifier the importer targets, small enough to hold in memory.
pub const MAX_ENTRY_BYTES: u64 = 256 << 20;
/// Largest total unpacked size of a package, 512 MiB.
pub const MAX_PACKAGE_BYTES: u64 = 512 << 20;

fn bad(message: impl std::fmt::Display) -> Error {
    Error::Model(format!("BioImage Model Zoo package: {message}"))
}

/// Imports the package described by `rdf` (`rdf.yaml`/`bioimageio.yaml`, or the folder
/// holding it) into `out_dir`, validating it on its test tensors.
pub fn import(rdf: &Path, out_dir: &Path, options: &ModelOptions) -> Result<ImportedModel> {
    let unpacked = Unpacked::zip(rdf)?;
    let rdf_path = locate_rdf(unpacked.as_ref().map_or(rdf, |u| u.0.as_path()))?;
    let root = rdf_path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let text = String::from_utf8(read_bounded(&rdf_path)?)
        .map_err(|_| bad(format!("{} is not UTF-8 text", rdf_path.display())))?;
    let rdf: Value = serde_yaml_ng::from_str(&text).map_err(|err| bad(format!("{err}")))?;
    let (input, output) = check_classifier(&rdf)?;
    // Files the importer does not read must still not point outside the package.
    let documents = std::iter::once(&rdf["documentation"])
        .chain(rdf["covers"].as_sequence().into_iter().flatten());
    for document in documents.filter(|d| d.as_str().is_some_and(|s| !s.contains("://"))) {
        if !is_inside(Path::new(document.as_str().unwrap_or_default())) {
            return Err(bad(format!(
                "{} is outside the package",
                document.as_str().unwrap_or_default()
            )));
        }
    }

    let (test_shape, test_input) = read_npy(&package_file(
        &root,
        &input["test_tensor"],
        "input test tensor",
    )?)?;
    let (_, test_output) = read_npy(&package_file(
        &root,
        &output["test_tensor"],
        "output test tensor",
    )?)?;
    if test_shape.len() != 4
        || test_shape[0] != 1
        || test_shape[1] != 1
        || test_shape[2] != test_shape[3]
    {
        return Err(bad(format!(
            "test input has shape {test_shape:?}; Visual-CCC needs a square [1,1,S,S] input"
        )));
    }
    let size = test_shape[2];
    let classes: Vec<String> = match output["axes"][1]["channel_names"].as_sequence() {
        Some(names) => names
            .iter()
            .map(|n| n.as_str().unwrap_or("?").to_string())
            .collect(),
        None => (0..test_output.len())
            .map(|i| format!("class_{i}"))
            .collect(),
    };
    if classes.len() != test_output.len() {
        return Err(bad(format!(
            "{} class names for a test output of {} values",
            classes.len(),
            test_output.len()
        )));
    }

    let weights = package_file(&root, &rdf["weights"]["onnx"], "ONNX weights")?;
    let original = read_bounded(&weights)?;
    let opset = onnx_edit::opset(&original)?;
    let mut prefix = Builder::default();
    let scale = prefix.scalar(RAW_SCALE);
    let raw = prefix.op("Mul", &["input", &scale], 1, Vec::new());
    let prefix_output = preprocessing(&mut prefix, raw, &input["preprocessing"], opset)?;
    let softmax = output["postprocessing"]
        .as_sequence()
        .is_some_and(|steps| steps.iter().any(|s| s["id"].as_str() == Some("softmax")));
    let name = sanitise(rdf["name"].as_str().unwrap_or("bioimageio-model"));
    let description = format!(
        "{} (BioImage Model Zoo {}): {}",
        rdf["name"].as_str().unwrap_or(&name),
        rdf["id"].as_str().unwrap_or("package"),
        rdf["description"].as_str().unwrap_or("")
    );
    let metadata = [
        ("visualccc.format", "1".to_string()),
        (
            "visualccc.classes",
            serde_json::to_string(&classes).unwrap_or_default(),
        ),
        ("visualccc.input_size", size.to_string()),
        ("visualccc.preprocessing", "center-crop".to_string()),
        ("visualccc.kind", "trained".to_string()),
        ("visualccc.description", description),
    ];
    let wrapped = onnx_edit::wrap(
        &original,
        &Wrapping {
            input_size: size,
            classes: classes.len(),
            prefix,
            prefix_output,
            tail_op: if softmax { "Log" } else { "Identity" },
            metadata: &metadata,
        },
    )?;

    std::fs::create_dir_all(out_dir).map_err(|err| Error::io(out_dir, err))?;
    let path = out_dir.join(format!("{name}.onnx"));
    let partial = out_dir.join(format!(".{name}.onnx.part"));
    std::fs::write(&partial, &wrapped).map_err(|err| Error::io(&partial, err))?;
    let checked = validate(&partial, options, test_input, &test_output, softmax);
    let max_difference = match checked {
        Ok(difference) => difference,
        Err(err) => {
            std::fs::remove_file(&partial).ok();
            return Err(err);
        }
    };
    std::fs::rename(&partial, &path).map_err(|err| Error::io(&path, err))?;
    Ok(ImportedModel {
        path,
        classes,
        input_size: size,
        max_difference,
    })
}

/// A zip package unpacked into a temporary folder, removed when dropped.
struct Unpacked(PathBuf);

impl Unpacked {
    /// Unpacks `path` if it is a zip file.
    fn zip(path: &Path) -> Result<Option<Self>> {
        let mut magic = [0u8; 4];
        let is_zip = std::fs::File::open(path)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
            .is_ok()
            && magic == *b"PK\x03\x04";
        if !is_zip {
            return Ok(None);
        }
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("visual-ccc-bmz-{}-{stamp}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|err| Error::io(&dir, err))?;
        let unpacked = Unpacked(dir);
        let file = std::fs::File::open(path).map_err(|err| Error::io(path, err))?;
        let cannot =
            |err: zip::result::ZipError| bad(format!("{}: cannot unpack: {err}", path.display()));
        let mut archive = zip::ZipArchive::new(file).map_err(cannot)?;
        let mut total = 0u64;
        for index in 0..archive.len() {
            let mut entry = archive.by_index(index).map_err(cannot)?;
            let name = entry.name().to_string();
            let refuse = |why: String| bad(format!("{}: entry '{name}' {why}", path.display()));
            if entry.is_symlink() {
                return Err(refuse(
                    "is a symbolic link; packages must hold plain files".into(),
                ));
            }
            let Some(relative) = entry.enclosed_name() else {
                return Err(refuse("points outside the package".into()));
            };
            let target = unpacked.0.join(relative);
            if entry.is_dir() {
                std::fs::create_dir_all(&target).map_err(|err| Error::io(&target, err))?;
                continue;
            }
            // The declared size is checked first, then the bytes actually inflated, so
            // that a lying header cannot unpack more than the limit either.
            if entry.size() > MAX_ENTRY_BYTES {
                return Err(refuse(format!(
                    "declares {} bytes, over the limit of {MAX_ENTRY_BYTES} bytes per file",
                    entry.size()
                )));
            }
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|err| Error::io(parent, err))?;
            }
            let mut out = std::fs::File::create(&target).map_err(|err| Error::io(&target, err))?;
            let written = std::io::copy(
                &mut std::io::Read::take(&mut entry, MAX_ENTRY_BYTES + 1),
                &mut out,
            )
            .map_err(|err| refuse(format!("cannot be unpacked: {err}")))?;
            if written > MAX_ENTRY_BYTES {
                return Err(refuse(format!(
                    "holds more than the limit of {MAX_ENTRY_BYTES} bytes per file"
                )));
            }
            total += written;
            if total > MAX_PACKAGE_BYTES {
                return Err(bad(format!(
                    "{}: unpacks to more than the limit of {MAX_PACKAGE_BYTES} bytes",
                    path.display()
                )));
            }
        }
        Ok(Some(unpacked))
    }
}

impl Drop for Unpacked {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

fn locate_rdf(path: &Path) -> Result<PathBuf> {
    if path.is_dir() {
        return ["rdf.yaml", "bioimageio.yaml"]
            .iter()
            .map(|n| path.join(n))
            .find(|p| p.is_file())
            .ok_or_else(|| {
                bad(format!(
                    "{} holds no rdf.yaml or bioimageio.yaml",
                    path.display()
                ))
            });
    }
    Ok(path.to_path_buf())
}

fn axis_types(tensor: &Value) -> Vec<&str> {
    tensor["axes"]
        .as_sequence()
        .map(|axes| {
            axes.iter()
                .map(|a| a["type"].as_str().unwrap_or("?"))
                .collect()
        })
        .unwrap_or_default()
}

fn check_classifier(rdf: &Value) -> Result<(&Value, &Value)> {
    if rdf["type"].as_str() != Some("model") {
        return Err(bad(format!("not a model RDF (type: {:?})", rdf["type"])));
    }
    let version = match &rdf["format_version"] {
        Value::String(v) => v.clone(),
        other => format!("{other:?}"),
    };
    if !version.starts_with("0.5") {
        return Err(bad(format!(
            "format_version {version}: only RDF 0.5 is supported"
        )));
    }
    if rdf["weights"]["onnx"].is_null() {
        return Err(bad("no ONNX weights; export the model to ONNX first"));
    }
    let (inputs, outputs) = (
        rdf["inputs"].as_sequence().map_or(0, Vec::len),
        rdf["outputs"].as_sequence().map_or(0, Vec::len),
    );
    if inputs != 1 || outputs != 1 {
        return Err(bad(format!(
            "expected one input and one output, found {inputs} and {outputs}"
        )));
    }
    let (input, output) = (&rdf["inputs"][0], &rdf["outputs"][0]);
    if axis_types(input) != ["batch", "channel", "space", "space"] {
        return Err(bad(format!(
            "input axes {:?}: expected [batch, channel, space y, space x]",
            axis_types(input)
        )));
    }
    let channel = &input["axes"][1];
    let channels = channel["channel_names"]
        .as_sequence()
        .map(Vec::len)
        .or_else(|| channel["size"].as_u64().map(|s| s as usize))
        .unwrap_or(1);
    if channels != 1 {
        return Err(bad(format!(
            "the input has {channels} channels; Visual-CCC feeds one grey channel"
        )));
    }
    if axis_types(output) != ["batch", "channel"] {
        return Err(bad(format!(
            "output axes {:?}: not an image classifier (expected [batch, channel])",
            axis_types(output)
        )));
    }
    Ok((input, output))
}

/// The package file `entry` names, which must resolve inside `root` (no absolute path,
/// no `..`, no symbolic link out) and be a plain file.
fn package_file(root: &Path, entry: &Value, what: &str) -> Result<PathBuf> {
    let source = entry["source"].as_str().or_else(|| entry.as_str());
    let Some(source) = source.filter(|s| !s.contains("://")) else {
        return Err(bad(format!(
            "{what}: only files inside the package are supported"
        )));
    };
    let outside = || bad(format!("{what}: {source} is outside the package"));
    let relative = Path::new(source);
    if !is_inside(relative) {
        return Err(outside());
    }
    let path = root.join(relative);
    let is_link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
    let (Ok(real_root), Ok(real_path)) = (root.canonicalize(), path.canonicalize()) else {
        return Err(bad(format!("{what}: {source} is not in the package")));
    };
    if is_link || !real_path.starts_with(&real_root) {
        return Err(outside());
    }
    if !real_path.is_file() {
        return Err(bad(format!("{what}: {source} is not in the package")));
    }
    Ok(path)
}

/// Whether a relative path stays below its base by its components alone (no root, no
/// `..`).
fn is_inside(relative: &Path) -> bool {
    use std::path::Component::{CurDir, Normal};
    relative
        .components()
        .all(|c| matches!(c, Normal(_) | CurDir))
}

/// Reads a package file, refusing one over [`MAX_ENTRY_BYTES`] before reading it.
fn read_bounded(path: &Path) -> Result<Vec<u8>> {
    let size = std::fs::metadata(path)
        .map_err(|err| Error::io(path, err))?
        .len();
    if size > MAX_ENTRY_BYTES {
        return Err(bad(format!(
            "{} has {size} bytes, over the limit of {MAX_ENTRY_BYTES} bytes per file",
            path.display()
        )));
    }
    std::fs::read(path).map_err(|err| Error::io(path, err))
}

fn sanitise(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let cleaned = cleaned.trim_matches('-').to_string();
    if cleaned.is_empty() {
        "bioimageio-model".into()
    } else {
        cleaned
    }
}

/// One number from kwargs: a scalar or a one-element list.
fn number(kwargs: &Value, key: &str, default: Option<f32>) -> Result<f32> {
    let value = &kwargs[key];
    let value = match value.as_sequence() {
        Some(list) if list.len() == 1 => &list[0],
        Some(list) => {
            return Err(bad(format!(
                "{key} has {} values; per-channel values need one channel",
                list.len()
            )))
        }
        None => value,
    };
    value
        .as_f64()
        .map(|v| v as f32)
        .or(default)
        .ok_or_else(|| bad(format!("missing {key}")))
}

/// Reduction over y and x keeping the axes (opset 18 moved `axes` to an input).
fn reduce(b: &mut Builder, op: &'static str, x: &str, axes: &[i64], opset: i64) -> String {
    if opset >= 18 {
        let axes = b.int64s(axes);
        b.op(op, &[x, &axes], 1, vec![Attribute::Int("keepdims", 1)])
    } else {
        b.op(
            op,
            &[x],
            1,
            vec![
                Attribute::Ints("axes", axes.to_vec()),
                Attribute::Int("keepdims", 1),
            ],
        )
    }
}

/// Per-sample q-th percentile over y and x: exact minimum/maximum for 0 and 100, else
/// the nearest rank (the ⌈(1 − q/100)·n⌉-th largest value, via TopK).
fn percentile(b: &mut Builder, x: &str, q: f32, opset: i64) -> String {
    if q <= 0.0 {
        return reduce(b, "ReduceMin", x, &[2, 3], opset);
    }
    if q >= 100.0 {
        return reduce(b, "ReduceMax", x, &[2, 3], opset);
    }
    let flat_shape = b.int64s(&[0, 1, -1]);
    let flat = b.op("Reshape", &[x, &flat_shape], 1, Vec::new());
    let shape = b.op("Shape", &[&flat], 1, Vec::new());
    let last = b.int64s(&[2]);
    let count = b.op("Gather", &[&shape, &last], 1, Vec::new());
    let count = b.op("Cast", &[&count], 1, vec![Attribute::Int("to", 1)]);
    let fraction = b.scalar(1.0 - q / 100.0);
    let k = b.op("Mul", &[&count, &fraction], 1, Vec::new());
    let k = b.op("Ceil", &[&k], 1, Vec::new());
    let one = b.float(&[1], &[1.0]);
    let k = b.op("Max", &[&k, &one], 1, Vec::new());
    let k = b.op("Cast", &[&k], 1, vec![Attribute::Int("to", 7)]);
    let top = b.op(
        "TopK",
        &[&flat, &k],
        2,
        vec![Attribute::Int("axis", 2), Attribute::Int("largest", 1)],
    );
    let kth = reduce(b, "ReduceMin", &top, &[2], opset);
    let stat_shape = b.int64s(&[0, 1, 1, 1]);
    b.op("Reshape", &[&kth, &stat_shape], 1, Vec::new())
}

/// The package's preprocessing of tensor `x` as nodes; returns the result's name.
fn preprocessing(b: &mut Builder, mut x: String, steps: &Value, opset: i64) -> Result<String> {
    let empty = Vec::new();
    for step in steps.as_sequence().unwrap_or(&empty) {
        let kwargs = &step["kwargs"];
        let eps = number(kwargs, "eps", Some(EPS))?;
        x = match step["id"].as_str().unwrap_or("?") {
            "scale_linear" => {
                let gain = b.scalar(number(kwargs, "gain", Some(1.0))?);
                let offset = b.scalar(number(kwargs, "offset", Some(0.0))?);
                let scaled = b.op("Mul", &[&x, &gain], 1, Vec::new());
                b.op("Add", &[&scaled, &offset], 1, Vec::new())
            }
            "fixed_zero_mean_unit_variance" => {
                let mean = b.scalar(number(kwargs, "mean", None)?);
                let std = b.scalar(number(kwargs, "std", None)? + eps);
                let centred = b.op("Sub", &[&x, &mean], 1, Vec::new());
                b.op("Div", &[&centred, &std], 1, Vec::new())
            }
            "zero_mean_unit_variance" => {
                let mean = reduce(b, "ReduceMean", &x, &[2, 3], opset);
                let centred = b.op("Sub", &[&x, &mean], 1, Vec::new());
                let squared = b.op("Mul", &[&centred, &centred], 1, Vec::new());
                let variance = reduce(b, "ReduceMean", &squared, &[2, 3], opset);
                let std = b.op("Sqrt", &[&variance], 1, Vec::new());
                let eps = b.scalar(eps);
                let std = b.op("Add", &[&std, &eps], 1, Vec::new());
                b.op("Div", &[&centred, &std], 1, Vec::new())
            }
            "scale_range" => {
                let low = percentile(b, &x, number(kwargs, "min_percentile", Some(0.0))?, opset);
                let high = percentile(b, &x, number(kwargs, "max_percentile", Some(100.0))?, opset);
                let span = b.op("Sub", &[&high, &low], 1, Vec::new());
                let eps = b.scalar(eps);
                let span = b.op("Add", &[&span, &eps], 1, Vec::new());
                let shifted = b.op("Sub", &[&x, &low], 1, Vec::new());
                b.op("Div", &[&shifted, &span], 1, Vec::new())
            }
            "clip" => {
                let low = b.scalar(number(kwargs, "min", None)?);
                let high = b.scalar(number(kwargs, "max", None)?);
                b.op("Clip", &[&x, &low, &high], 1, Vec::new())
            }
            "ensure_dtype" if kwargs["dtype"].as_str().unwrap_or("float32") == "float32" => x,
            other => {
                return Err(bad(format!(
                    "preprocessing '{other}' is not supported (supported: scale_linear, \
                     fixed_zero_mean_unit_variance, zero_mean_unit_variance, scale_range, clip, \
                     ensure_dtype float32)"
                )))
            }
        };
    }
    Ok(x)
}

/// Runs the wrapped model on the test input and compares with the test output.
fn validate(
    path: &Path,
    options: &ModelOptions,
    test_input: Vec<f32>,
    expected: &[f32],
    softmax: bool,
) -> Result<f32> {
    let model = Model::open(path, options)?;
    let input: Vec<f32> = test_input.iter().map(|v| v / RAW_SCALE).collect();
    let logits = model.forward(input, 1, false)?.logits;
    let got: Vec<f32> = if softmax {
        logits.iter().map(|l| l.exp()).collect()
    } else {
        logits
    };
    let mut largest = 0.0f32;
    for (g, e) in got.iter().zip(expected) {
        let difference = (g - e).abs();
        if difference > 1e-4 + 1e-3 * e.abs() || !difference.is_finite() {
            return Err(bad(format!(
                "the package's test output is not reproduced: expected {expected:?}, got {got:?}"
            )));
        }
        largest = largest.max(difference);
    }
    Ok(largest)
}

/// Reads a little-endian `.npy` array of float32, float64 or unsigned 8/16-bit values as
/// float32, with its shape.
pub fn read_npy(path: &Path) -> Result<(Vec<usize>, Vec<f32>)> {
    let bytes = read_bounded(path)?;
    let corrupt = || bad(format!("{} is not a readable .npy array", path.display()));
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(corrupt());
    }
    let (header_len, start) = if bytes[6] == 1 {
        (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10)
    } else {
        let len = bytes.get(8..12).ok_or_else(corrupt)?;
        (u32::from_le_bytes(len.try_into().unwrap()) as usize, 12)
    };
    let header = std::str::from_utf8(bytes.get(start..start + header_len).ok_or_else(corrupt)?)
        .map_err(|_| corrupt())?;
    let field = |key: &str| -> Option<&str> {
        let at = header.find(&format!("'{key}':"))? + key.len() + 3;
        Some(header[at..].trim_start())
    };
    let descr = field("descr")
        .and_then(|d| d.split('\'').nth(1))
        .ok_or_else(corrupt)?;
    if field("fortran_order").is_some_and(|f| f.starts_with("True")) {
        return Err(bad(format!(
            "{}: Fortran-ordered arrays are not supported",
            path.display()
        )));
    }
    let shape_text = field("shape")
        .and_then(|s| s.strip_prefix('('))
        .and_then(|s| s.split(')').next());
    let shape: Vec<usize> = shape_text
        .ok_or_else(corrupt)?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| corrupt()))
        .collect::<Result<_>>()?;
    let data = &bytes[start + header_len..];
    let count = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(corrupt)?;
    let values: Vec<f32> = match descr {
        "<f4" => data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect(),
        "<f8" => data
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32)
            .collect(),
        "|u1" => data.iter().map(|&v| f32::from(v)).collect(),
        "<u2" => data
            .chunks_exact(2)
            .map(|c| f32::from(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
        other => {
            return Err(bad(format!(
                "{}: unsupported dtype {other}",
                path.display()
            )))
        }
    };
    if values.len() != count {
        return Err(corrupt());
    }
    Ok((shape, values))
}
