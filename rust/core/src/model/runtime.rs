//! Finding and loading the ONNX Runtime shared library.
//!
//! `ort` is built with `load-dynamic`, so nothing is linked at build time and the
//! library is located at run time, in this order: an explicit path given by the caller
//! (a Java system property or CLI flag), the `ORT_DYLIB_PATH` environment variable,
//! then each search directory (next to our own native library, Fiji's `lib/linux64/`).
//! An explicit path or `ORT_DYLIB_PATH` that points nowhere is an error rather than a
//! reason to keep looking: the user asked for that file.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// ONNX Runtime release the project is built and tested against.
pub const ONNXRUNTIME_VERSION: &str = "1.22.1";

/// File names tried in each search directory, most specific first.
const LIBRARY_NAMES: &[&str] = &[
    "libonnxruntime.so.1.22.1",
    "libonnxruntime.so",
    "libonnxruntime.so.1",
];

/// Where to look for the ONNX Runtime library.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuntimeConfig {
    /// Explicit library file; takes precedence over everything else.
    pub library_path: Option<PathBuf>,
    /// Directories searched when neither the explicit path nor `ORT_DYLIB_PATH` is set.
    pub search_dirs: Vec<PathBuf>,
}

/// The library loaded into this process, once loading succeeded.
static LOADED: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Loads ONNX Runtime once per process; later calls return the library already loaded.
pub fn ensure_initialised(config: &RuntimeConfig) -> Result<PathBuf> {
    let mut loaded = LOADED.lock().unwrap_or_else(|poison| poison.into_inner());
    if let Some(path) = loaded.as_ref() {
        return Ok(path.clone());
    }
    let path = locate(
        config,
        std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from),
    )?;
    load(&path)?;
    log::info!("loaded ONNX Runtime from {}", path.display());
    *loaded = Some(path.clone());
    Ok(path)
}

/// Resolves the library file without loading it.
fn locate(config: &RuntimeConfig, env_path: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(path) = &config.library_path {
        return check_library_file(path, "the explicit setting");
    }
    if let Some(path) = env_path.filter(|p| !p.as_os_str().is_empty()) {
        return check_library_file(&path, "ORT_DYLIB_PATH");
    }
    let mut tried = Vec::new();
    for dir in &config.search_dirs {
        for name in LIBRARY_NAMES {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return check_library_file(&candidate, "the search path");
            }
            tried.push(candidate);
        }
    }
    let tried = if tried.is_empty() {
        "  (no search directories were given)".to_string()
    } else {
        tried
            .iter()
            .map(|p| format!("  {}", p.display()))
            .collect::<Vec<_>>()
            .join("\n")
    };
    Err(Error::Runtime(format!(
        "ONNX Runtime {ONNXRUNTIME_VERSION} library not found. No explicit path was set \
         and ORT_DYLIB_PATH is unset; looked for:\n{tried}\nInstall libonnxruntime.so.\
         {ONNXRUNTIME_VERSION} next to libvisual_ccc.so (Fiji: lib/linux64/), or point to it \
         with -Dvisualccc.onnxruntime=PATH (Java), --onnxruntime PATH (CLI) or ORT_DYLIB_PATH."
    )))
}

fn check_library_file(path: &Path, source: &str) -> Result<PathBuf> {
    use std::io::Read;
    let mut magic = [0u8; 4];
    let read = std::fs::File::open(path).and_then(|mut file| file.read_exact(&mut magic));
    if let Err(err) = read {
        return Err(Error::Runtime(format!(
            "ONNX Runtime library {} (from {source}) cannot be read: {err}",
            path.display()
        )));
    }
    if &magic != b"\x7fELF" {
        return Err(Error::Runtime(format!(
            "{} (from {source}) is not a shared library",
            path.display()
        )));
    }
    Ok(path.to_path_buf())
}

/// Opens `path` on its own and checks that it is an ONNX Runtime offering the API
/// version `ort` needs, before `ort` sees it: `ort` panics on a library that is not one
/// (such as libz) or is too old, and its panic message would reach stderr.
fn probe(path: &Path) -> Result<()> {
    use std::ffi::{c_char, CStr};
    #[repr(C)]
    struct ApiBase {
        get_api: Option<unsafe extern "C" fn(u32) -> *const std::ffi::c_void>,
        get_version_string: Option<unsafe extern "C" fn() -> *const c_char>,
    }
    let fail = |why: String| Error::Runtime(format!("{} {why}", path.display()));
    // SAFETY: loading runs the library's initialisers, as `ort` would do next anyway;
    // the file was checked to be an ELF shared library.
    let library = unsafe { libloading::Library::new(path) }
        .map_err(|err| fail(format!("cannot be loaded as a shared library: {err}")))?;
    // SAFETY: `OrtGetApiBase` has this signature in every ONNX Runtime release.
    let get_api_base =
        unsafe { library.get::<unsafe extern "C" fn() -> *const ApiBase>(b"OrtGetApiBase\0") }
            .map_err(|_| fail("is not ONNX Runtime: it has no OrtGetApiBase symbol".to_string()))?;
    // SAFETY: the returned table is static in the library, which stays loaded here.
    unsafe {
        let base = get_api_base();
        let (Some(get_api), Some(get_version_string)) = base
            .as_ref()
            .map_or((None, None), |b| (b.get_api, b.get_version_string))
        else {
            return Err(fail("is not a usable ONNX Runtime (no API table)".into()));
        };
        if get_api(ort::sys::ORT_API_VERSION).is_null() {
            let version = CStr::from_ptr(get_version_string()).to_string_lossy();
            return Err(fail(format!(
                "is ONNX Runtime {version}, which lacks API version {} (ONNX Runtime \
                 {ONNXRUNTIME_VERSION} or newer is needed)",
                ort::sys::ORT_API_VERSION
            )));
        }
    }
    // `ort` opens the same library next and keeps it for the process's lifetime;
    // keeping this handle too spares unloading and reloading ONNX Runtime in between.
    std::mem::forget(library);
    Ok(())
}

/// `ort` panics when the library cannot be opened or has an incompatible API version;
/// [`probe`] rules out those cases first, and anything left is turned into an error
/// instead of unwinding into a caller such as the JVM.
fn load(path: &Path) -> Result<()> {
    probe(path)?;
    let path_text = path.to_string_lossy().into_owned();
    let outcome = std::panic::catch_unwind(|| {
        ort::init_from(path_text)
            .with_name("visual-ccc")
            .commit()
            .map(|_| ())
    });
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(Error::Runtime(format!(
            "cannot initialise ONNX Runtime from {}: {err}",
            path.display()
        ))),
        Err(panic) => Err(Error::Runtime(format!(
            "cannot load ONNX Runtime from {}: {}. This process cannot retry with another \
             library; restart it after fixing the installation.",
            path.display(),
            panic_message(panic.as_ref())
        ))),
    }
}

/// Text of a panic payload, for error messages.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "unknown panic".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_path_that_points_nowhere_is_reported() {
        let config = RuntimeConfig {
            library_path: Some("/nonexistent/libonnxruntime.so".into()),
            search_dirs: vec!["/tmp".into()],
        };
        let err = locate(&config, None).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/libonnxruntime.so"), "{err}");
        assert!(err.contains("explicit setting"), "{err}");
    }

    #[test]
    fn lists_every_place_searched() {
        let config = RuntimeConfig {
            library_path: None,
            search_dirs: vec!["/nonexistent-a".into(), "/nonexistent-b".into()],
        };
        let err = locate(&config, None).unwrap_err().to_string();
        assert!(
            err.contains("/nonexistent-a/libonnxruntime.so.1.22.1"),
            "{err}"
        );
        assert!(err.contains("/nonexistent-b/libonnxruntime.so"), "{err}");
        assert!(err.contains("ORT_DYLIB_PATH"), "{err}");
    }

    #[test]
    fn environment_variable_comes_after_explicit_path() {
        let config = RuntimeConfig::default();
        let err = locate(&config, Some("/nonexistent/env.so".into()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("ORT_DYLIB_PATH"), "{err}");
    }

    #[test]
    fn rejects_a_file_that_is_not_a_library() {
        let dir = std::env::temp_dir().join(format!("vccc-rt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fake = dir.join("libonnxruntime.so");
        std::fs::write(&fake, b"not a library").unwrap();
        let config = RuntimeConfig {
            library_path: None,
            search_dirs: vec![dir.clone()],
        };
        let err = locate(&config, None).unwrap_err().to_string();
        assert!(err.contains("not a shared library"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
