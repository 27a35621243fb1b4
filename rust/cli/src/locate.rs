//! Where the command-line tool finds models and the ONNX Runtime library.

use std::path::{Path, PathBuf};

/// The repository this binary was built from, for runs straight from a build tree.
fn source_tree() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .nth(2)
        .unwrap_or(manifest_dir)
        .to_path_buf()
}

fn executable_dir() -> Option<PathBuf> {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
}

/// Directories searched for `libonnxruntime.so` after `--onnxruntime` and `ORT_DYLIB_PATH`.
pub fn runtime_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = executable_dir() {
        dirs.push(dir.join("../lib"));
        dirs.push(dir);
    }
    dirs.push(source_tree().join("build/onnxruntime/linux-x86_64"));
    dirs
}

/// Directories holding installed models, most specific first.
fn model_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("VISUAL_CCC_MODELS") {
        dirs.push(PathBuf::from(dir));
    }
    if let Some(dir) = executable_dir() {
        dirs.push(dir.join("../share/visual-ccc/models"));
    }
    dirs.push(source_tree().join("models"));
    dirs
}

/// The model used when none is named, if it is installed: the general morphology
/// classifier, as in the Fiji dialogs.
pub const DEFAULT_MODEL: &str = "morphology";

/// Resolves `--model`: an existing file, or the name of a model in a models folder;
/// without one, [`default_model`].
pub fn model(requested: Option<&str>) -> Result<PathBuf, String> {
    let dirs = model_dirs();
    let Some(requested) = requested else {
        return default_model();
    };
    let path = PathBuf::from(requested);
    if path.is_file() {
        return Ok(path);
    }
    let file_name = if requested.ends_with(".onnx") {
        requested.to_string()
    } else {
        format!("{requested}.onnx")
    };
    dirs.iter()
        .map(|dir| dir.join(&file_name))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            format!(
                "model '{requested}' is neither a file nor an installed model (looked in: {})",
                list(&dirs)
            )
        })
}

/// The model to use when none is named: [`DEFAULT_MODEL`] if installed, else the only
/// `.onnx` file in the models folders. `Err` explains why there is none (no model
/// installed, or several to choose from).
pub fn default_model() -> Result<PathBuf, String> {
    let dirs = model_dirs();
    let default_file = format!("{DEFAULT_MODEL}.onnx");
    if let Some(path) = dirs
        .iter()
        .map(|dir| dir.join(&default_file))
        .find(|path| path.is_file())
    {
        return Ok(path);
    }
    let mut found: Vec<PathBuf> = dirs
        .iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flat_map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "onnx"))
        .collect();
    found.sort();
    found.dedup();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(format!(
            "no model given (--model) and none installed (looked in: {})",
            list(&dirs)
        )),
        _ => Err(format!(
            "no model given and several are installed ({}); choose one with --model",
            list(&found)
        )),
    }
}

fn list(dirs: &[PathBuf]) -> String {
    dirs.iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
