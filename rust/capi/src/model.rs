//! Opening models and classifying images with them.

use std::ffi::{c_char, c_int, CStr, CString};
use std::path::{Path, PathBuf};

use visual_ccc_core::cam::CamTarget;
use visual_ccc_core::image::resample::upsample;
use visual_ccc_core::model::runtime::RuntimeConfig;
use visual_ccc_core::model::tiling::{classify_whole, TilingOptions, ViewRows};
use visual_ccc_core::model::{Model, ModelOptions};
use visual_ccc_core::{Error, ImageView, Pixels, Result};

use crate::pixels;
use crate::status::{report, report_ptr};

/// The trained models built into the library, by name.
const BUNDLED: [(&str, &[u8]); 2] = [
    (
        "morphology",
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../models/morphology.onnx"
        )),
    ),
    (
        "uhcs",
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../models/uhcs.onnx"
        )),
    ),
];

/// A loaded classifier. Opaque to C; one model may be shared by several threads.
pub struct VcccModel {
    model: Model,
    /// The class names as C strings, owned here so that callers can borrow them.
    class_names: Vec<CString>,
}

/// Where ONNX Runtime is looked for after `ORT_DYLIB_PATH`: beside this library, then in
/// `../lib` from it (the layout of an installed prefix).
pub(crate) fn runtime_config() -> RuntimeConfig {
    let mut search_dirs = Vec::new();
    if let Some(dir) = own_directory() {
        search_dirs.push(dir.join("../lib"));
        search_dirs.insert(0, dir);
    }
    RuntimeConfig {
        library_path: None,
        search_dirs,
    }
}

/// The directory of the shared object this code was loaded from.
fn own_directory() -> Option<PathBuf> {
    let mut info = libc::Dl_info {
        dli_fname: std::ptr::null(),
        dli_fbase: std::ptr::null_mut(),
        dli_sname: std::ptr::null(),
        dli_saddr: std::ptr::null_mut(),
    };
    // SAFETY: dladdr only reads the address and fills `info`; `dli_fname` then points to
    // a NUL-terminated path owned by the dynamic loader.
    let found = unsafe { libc::dladdr(runtime_config as *const libc::c_void, &mut info) };
    if found == 0 || info.dli_fname.is_null() {
        return None;
    }
    let path = unsafe { CStr::from_ptr(info.dli_fname) }.to_str().ok()?;
    let path = std::fs::canonicalize(path).ok()?;
    path.parent().map(Path::to_path_buf)
}

fn intern_model_open(name_or_path: *const c_char) -> Result<*mut VcccModel> {
    if name_or_path.is_null() {
        return Err(Error::InvalidArgument("name_or_path is NULL".into()));
    }
    // SAFETY: the caller passes a NUL-terminated string (checked non-NULL above).
    let requested = unsafe { CStr::from_ptr(name_or_path) }
        .to_str()
        .map_err(|_| Error::InvalidArgument("name_or_path is not UTF-8".into()))?;
    let options = ModelOptions {
        threads: 0,
        runtime: runtime_config(),
    };
    let model = match BUNDLED.iter().find(|(name, _)| *name == requested) {
        Some((name, bytes)) => Model::from_bytes(name, bytes, &options)?,
        None if Path::new(requested).is_file() => Model::open(Path::new(requested), &options)?,
        None => {
            let names: Vec<&str> = BUNDLED.iter().map(|(name, _)| *name).collect();
            return Err(Error::Model(format!(
                "'{requested}' is neither a bundled model ({}) nor a model file",
                names.join(", ")
            )));
        }
    };
    let class_names = model
        .info()
        .classes
        .iter()
        .map(|name| CString::new(name.replace('\0', " ")).unwrap_or_default())
        .collect();
    Ok(Box::into_raw(Box::new(VcccModel { model, class_names })))
}

/// Opens a bundled model by name ("morphology", "uhcs") or an ONNX model file that meets
/// the model contract. NULL on error (see vccc_last_error()). Free with vccc_model_free().
#[unsafe(no_mangle)]
pub extern "C" fn vccc_model_open(name_or_path: *const c_char) -> *mut VcccModel {
    report_ptr(|| intern_model_open(name_or_path))
}

/// Frees a model from vccc_model_open(); NULL is a no-op. The model must not be in use.
///
/// # Safety
/// `model` is NULL or a pointer from vccc_model_open() not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vccc_model_free(model: *mut VcccModel) {
    if !model.is_null() {
        // Dropping a model cannot fail; a panic here would be a defect, so it is caught.
        let _ = std::panic::catch_unwind(|| drop(Box::from_raw(model)));
    }
}

/// Number of classes of `model` (0 for NULL).
///
/// # Safety
/// `model` is NULL or a live pointer from vccc_model_open().
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vccc_model_class_count(model: *const VcccModel) -> usize {
    model.as_ref().map_or(0, |m| m.class_names.len())
}

/// Name of class `index` (owned by the model, valid until vccc_model_free()), or NULL for
/// a NULL model or an index out of range.
///
/// # Safety
/// `model` is NULL or a live pointer from vccc_model_open().
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vccc_model_class_name(
    model: *const VcccModel,
    index: usize,
) -> *const c_char {
    model
        .as_ref()
        .and_then(|m| m.class_names.get(index))
        .map_or(std::ptr::null(), |name| name.as_ptr())
}

/// The model behind `model`, or an error for NULL.
///
/// # Safety
/// `model` is NULL or a live pointer from vccc_model_open().
unsafe fn model_ref<'a>(model: *const VcccModel) -> Result<&'a Model> {
    model
        .as_ref()
        .map(|m| &m.model)
        .ok_or_else(|| Error::InvalidArgument("model is NULL".into()))
}

/// Whole-image classification as `visual-ccc classify` does it by default.
fn classify_into(model: &Model, view: ImageView, probabilities: *mut f32) -> Result<()> {
    let classes = model.info().classes.len();
    // SAFETY: the caller provides room for vccc_model_class_count() floats.
    let out = unsafe { pixels::slice_mut(probabilities, classes, "probabilities")? };
    let options = TilingOptions::for_input_size(model.info().input_size);
    let result = classify_whole(model, &mut ViewRows::new(view)?, &options)?;
    out.copy_from_slice(&result.probabilities);
    Ok(())
}

/// Whole-image classification of 8-bit grey pixels (row-major, stride = width), as
/// `visual-ccc classify` does by default; writes vccc_model_class_count() probabilities.
/// Returns 0 or a VcccStatus code.
///
/// # Safety
/// `model` as for vccc_model_class_count(); `pixels` holds width × height bytes;
/// `probabilities` has room for vccc_model_class_count() floats.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vccc_classify_u8(
    model: *const VcccModel,
    pixels: *const u8,
    width: usize,
    height: usize,
    probabilities: *mut f32,
) -> c_int {
    report(|| {
        classify_into(
            model_ref(model)?,
            pixels::gray(pixels, width, height, Pixels::Gray8)?,
            probabilities,
        )
    })
}

/// vccc_classify_u8() for 16-bit grey pixels.
///
/// # Safety
/// As for vccc_classify_u8(), with width × height 16-bit values.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vccc_classify_u16(
    model: *const VcccModel,
    pixels: *const u16,
    width: usize,
    height: usize,
    probabilities: *mut f32,
) -> c_int {
    report(|| {
        classify_into(
            model_ref(model)?,
            pixels::gray(pixels, width, height, Pixels::Gray16)?,
            probabilities,
        )
    })
}

/// Class activation map of 8-bit grey pixels over the whole image, written as
/// width × height floats in [0, 1]; `class_index` < 0 explains the predicted class.
/// Returns 0 or a VcccStatus code.
///
/// # Safety
/// As for vccc_classify_u8(); `map` has room for width × height floats.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vccc_cam_u8(
    model: *const VcccModel,
    pixels: *const u8,
    width: usize,
    height: usize,
    class_index: i32,
    map: *mut f32,
) -> c_int {
    report(|| {
        let model = model_ref(model)?;
        let view = pixels::gray(pixels, width, height, Pixels::Gray8)?;
        let out = pixels::slice_mut(map, width * height, "map")?;
        let classes = model.info().classes.len();
        let cam = match usize::try_from(class_index) {
            Err(_) => CamTarget::Predicted,
            Ok(index) if index < classes => CamTarget::Class(index),
            Ok(index) => {
                return Err(Error::InvalidArgument(format!(
                    "class_index {index} is out of range: the model has {classes} classes"
                )))
            }
        };
        model.check_cam(cam, &Default::default())?;
        let options = TilingOptions {
            cam,
            ..TilingOptions::for_input_size(model.info().input_size)
        };
        let result = classify_whole(model, &mut ViewRows::new(view)?, &options)?;
        let stitched = result
            .map
            .ok_or_else(|| Error::Model("the model produced no class activation map".into()))?;
        let cam = stitched.cam;
        if (cam.width, cam.height) == (width, height) {
            out.copy_from_slice(&cam.data);
        } else {
            out.copy_from_slice(&upsample(&cam.data, cam.width, cam.height, width, height));
        }
        Ok(())
    })
}
