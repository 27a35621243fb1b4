//! `org.visualccc.Model`: a loaded classifier behind a native handle.
//!
//! The handle is a `Box<Model>` turned into a `jlong`. Java guarantees, with a
//! read-write lock, that no call uses a handle while `nativeClose` frees it and that it
//! is freed once; the core model is itself safe to use from several threads.

use std::path::{Path, PathBuf};

use jni::elements::ReleaseMode;
use jni::objects::{
    JByteArray, JFloatArray, JIntArray, JObject, JObjectArray, JPrimitiveArray, JShortArray,
    JString, TypeArray,
};
use jni::sys::{jboolean, jint, jlong};
use jni::Env;
use visual_ccc_core::cam::CamMethod;
use visual_ccc_core::image::decode::decode_file;
use visual_ccc_core::model::bioimageio;
use visual_ccc_core::model::preprocess::PreparedInput;
use visual_ccc_core::model::runtime::RuntimeConfig;
use visual_ccc_core::model::tiling::{classify_whole, RowSource, TilingOptions, ViewRows};
use visual_ccc_core::model::{Model, ModelOptions};
use visual_ccc_core::Error as CoreError;
use visual_ccc_core::{ImageView, Pixels};

use crate::convert;
use crate::error::{BridgeError, BridgeResult};
use crate::export::native;
use crate::pixels;

pub(crate) fn model_ref<'a>(handle: jlong) -> BridgeResult<&'a Model> {
    if handle == 0 {
        return Err(BridgeError::InvalidArgument("the model is closed".into()));
    }
    // SAFETY: non-zero handles come from `intern_open` and Java's lock keeps them alive
    // for the duration of the call.
    Ok(unsafe { &*(handle as *const Model) })
}

/// Model options from Java's thread count and ONNX Runtime location.
pub(crate) fn model_options(
    env: &mut Env<'_>,
    ort_library_path: &JString<'_>,
    ort_search_dirs: &JObjectArray<'_, JString<'_>>,
    threads: jint,
) -> BridgeResult<ModelOptions> {
    let threads = usize::try_from(threads).map_err(|_| {
        BridgeError::InvalidArgument(format!("thread count must be ≥ 0, got {threads}"))
    })?;
    Ok(ModelOptions {
        threads,
        runtime: RuntimeConfig {
            library_path: convert::optional_string(env, ort_library_path)?.map(PathBuf::from),
            search_dirs: convert::string_array(env, ort_search_dirs)?
                .into_iter()
                .map(PathBuf::from)
                .collect(),
        },
    })
}

/// Reads pixels straight from the Java array inside a critical section that lasts only
/// as long as preprocessing, then classifies without holding it.
fn classify_array<'local, T: jni::objects::TypeArray>(
    env: &mut Env<'local>,
    handle: jlong,
    pixels: &JPrimitiveArray<'_, T>,
    width: jint,
    height: jint,
    cam_class: jint,
    wrap: impl Fn(&[T]) -> Pixels<'_>,
) -> BridgeResult<JObject<'local>> {
    let model = model_ref(handle)?;
    let (width, height) = (
        convert::dimension(width, "width")?,
        convert::dimension(height, "height")?,
    );
    let target = convert::cam_target(cam_class)?;
    model.check_cam_target(target)?;
    if pixels.is_null() {
        return Err(BridgeError::InvalidArgument("pixel array is null".into()));
    }
    let prepared: PreparedInput = {
        // SAFETY: no JNI calls are made while the critical section is held.
        let elements = unsafe { pixels.get_elements_critical(env, ReleaseMode::NoCopyBack)? };
        let view = ImageView::new(width, height, wrap(&elements))?;
        model.prepare(&view)?
    };
    let result = model.classify_prepared(prepared, target)?;
    convert::classification(env, &model.info().classes, &result)
}

/// Rows of an 8-bit or RGB ImageJ slice read from its Java array one band at a time, so
/// that a whole-image run holds a band rather than a copy of the slice. (16- and 32-bit
/// slices are copied: mapping them to [0, 1] needs their range over the whole slice.)
struct JavaRows<'a, 'e, T: TypeArray> {
    env: &'a Env<'e>,
    array: &'a JPrimitiveArray<'e, T>,
    width: usize,
    height: usize,
    wrap: for<'p> fn(&'p [T]) -> Pixels<'p>,
    band: Vec<T>,
}

impl<'a, 'e, T: TypeArray + Default + Clone> JavaRows<'a, 'e, T> {
    fn new(
        env: &'a Env<'e>,
        array: &'a JPrimitiveArray<'e, T>,
        width: usize,
        height: usize,
        wrap: for<'p> fn(&'p [T]) -> Pixels<'p>,
    ) -> BridgeResult<Self> {
        let length = array.len(env)?;
        if length != width * height {
            return Err(BridgeError::InvalidArgument(format!(
                "pixel buffer holds {length} values but a {width}×{height} image needs {}",
                width * height
            )));
        }
        Ok(Self {
            env,
            array,
            width,
            height,
            wrap,
            band: Vec::new(),
        })
    }
}

impl<T: TypeArray + Default + Clone> RowSource for JavaRows<'_, '_, T> {
    fn width(&self) -> usize {
        self.width
    }

    fn height(&self) -> usize {
        self.height
    }

    fn read_rows(&mut self, y: usize, out: &mut [f32]) -> visual_ccc_core::Result<()> {
        self.band.resize(out.len(), T::default());
        // Java arrays are indexed by `int`; the length check in `new` keeps this in range.
        let start = jint::try_from(y * self.width)
            .map_err(|_| CoreError::InvalidArgument("row beyond the pixel array".into()))?;
        self.array
            .get_region(self.env, start, &mut self.band)
            .map_err(|err| CoreError::InvalidArgument(format!("cannot read the pixels: {err}")))?;
        // The same mapping to [0, 1] as for an in-memory image.
        let view = ImageView::new(self.width, out.len() / self.width, (self.wrap)(&self.band))?;
        ViewRows::new(view)?.read_rows(0, out)
    }
}

fn gray8(p: &[i8]) -> Pixels<'_> {
    // SAFETY: i8 and u8 have the same layout; ImageJ bytes are unsigned.
    Pixels::Gray8(unsafe { std::slice::from_raw_parts(p.as_ptr().cast(), p.len()) })
}

fn gray16(p: &[i16]) -> Pixels<'_> {
    // SAFETY: i16 and u16 have the same layout; ImageJ shorts are unsigned.
    Pixels::Gray16(unsafe { std::slice::from_raw_parts(p.as_ptr().cast(), p.len()) })
}

fn packed_rgb(p: &[i32]) -> Pixels<'_> {
    // SAFETY: i32 and u32 have the same layout; ImageJ packs RGB as 0x00RRGGBB.
    Pixels::PackedRgb(unsafe { std::slice::from_raw_parts(p.as_ptr().cast(), p.len()) })
}

/// Whole-image classification of one slice.
fn intern_classify_whole<'local>(
    env: &mut Env<'local>,
    handle: jlong,
    pixels: &JObject<'_>,
    (width, height): (jint, jint),
    (overlap, batch, cam_class): (jint, jint, jint),
) -> BridgeResult<JObject<'local>> {
    let model = model_ref(handle)?;
    let options = &TilingOptions {
        overlap: pixels::non_negative(overlap, "tile overlap")?,
        batch: convert::dimension(batch, "batch size")?,
        cam: convert::cam_target(cam_class)?,
        ..TilingOptions::default()
    };
    let (w, h) = (
        pixels::non_negative(width, "width")?,
        pixels::non_negative(height, "height")?,
    );
    if pixels.is_null() {
        return Err(BridgeError::InvalidArgument("pixel array is null".into()));
    }
    let result = {
        let env: &Env<'local> = env;
        if let Ok(array) = env.as_cast::<JByteArray>(pixels) {
            classify_whole(
                model,
                &mut JavaRows::new(env, &array, w, h, gray8)?,
                options,
            )?
        } else if let Ok(array) = env.as_cast::<JIntArray>(pixels) {
            classify_whole(
                model,
                &mut JavaRows::new(env, &array, w, h, packed_rgb)?,
                options,
            )?
        } else {
            let image = pixels::image(env, pixels, width, height)?;
            classify_whole(model, &mut ViewRows::new(image.view())?, options)?
        }
    };
    convert::whole_image_classification(env, &model.info().classes, &result)
}

/// Classifies a slice and explains `cam_class` with the named method. The pixels are
/// copied rather than pinned: Score-CAM and occlusion run the model many times.
fn intern_activation_map<'local>(
    env: &mut Env<'local>,
    handle: jlong,
    pixels: &JObject<'_>,
    (width, height): (jint, jint),
    cam_class: jint,
    method: &JString<'_>,
) -> BridgeResult<JObject<'local>> {
    let model = model_ref(handle)?;
    let method = CamMethod::parse(&convert::string(env, method)?)?;
    let target = convert::cam_target(cam_class)?;
    model.check_cam(target, &method)?;
    let image = pixels::image(env, pixels, width, height)?;
    let result = model.classify_with(&image.view(), target, &method)?;
    convert::classification(env, &model.info().classes, &result)
}

native! {
    fn Java_org_visualccc_Model_nativeActivationMap(env, handle: jlong, pixels: JObject<'local>,
        width: jint, height: jint, cam_class: jint, method: JString<'local>) -> JObject<'local> {
        intern_activation_map(env, handle, &pixels, (width, height), cam_class, &method)
    }
}

native! {
    fn Java_org_visualccc_Model_nativeOpen(env, model_path: JString<'local>,
        ort_library_path: JString<'local>, ort_search_dirs: JObjectArray<'local, JString<'local>>,
        threads: jint) -> jlong {
        let path = PathBuf::from(convert::string(env, &model_path)?);
        let options = model_options(env, &ort_library_path, &ort_search_dirs, threads)?;
        Ok(Box::into_raw(Box::new(Model::open(&path, &options)?)) as jlong)
    }
}

native! {
    fn Java_org_visualccc_Model_nativeClose(_env, handle: jlong) {
        if handle != 0 {
            // SAFETY: Java calls this once per handle, under its write lock.
            drop(unsafe { Box::from_raw(handle as *mut Model) });
        }
        Ok(())
    }
}

native! {
    fn Java_org_visualccc_Model_nativeClassNames(env, handle: jlong)
        -> JObjectArray<'local, JString<'local>> {
        convert::new_string_array(env, &model_ref(handle)?.info().classes)
    }
}

native! {
    fn Java_org_visualccc_Model_nativeInputSize(_env, handle: jlong) -> jint {
        Ok(model_ref(handle)?.info().input_size as jint)
    }
}

native! {
    fn Java_org_visualccc_Model_nativeHasFeatures(_env, handle: jlong) -> jboolean {
        Ok(model_ref(handle)?.info().has_cam())
    }
}

native! {
    fn Java_org_visualccc_Model_nativeKind(env, handle: jlong) -> JString<'local> {
        Ok(env.new_string(model_ref(handle)?.info().kind.name())?)
    }
}

native! {
    fn Java_org_visualccc_Model_nativeDescription(env, handle: jlong) -> JString<'local> {
        Ok(env.new_string(&model_ref(handle)?.info().description)?)
    }
}

/// Declares `Java_org_visualccc_Model_<name>(handle, pixels, width, height, camClass)` for
/// one ImageJ pixel array type; the pixels are read in place ([`classify_array`]).
macro_rules! classify_export {
    ($name:ident, $array:ty, $wrap:expr) => {
        native! {
            fn $name(env, handle: jlong, pixels: $array, width: jint, height: jint,
                cam_class: jint) -> JObject<'local> {
                classify_array(env, handle, &pixels, width, height, cam_class, $wrap)
            }
        }
    };
}

classify_export!(
    Java_org_visualccc_Model_nativeClassifyGray8,
    JByteArray<'local>,
    gray8
);
classify_export!(
    Java_org_visualccc_Model_nativeClassifyGray16,
    JShortArray<'local>,
    gray16
);
classify_export!(
    Java_org_visualccc_Model_nativeClassifyGray32,
    JFloatArray<'local>,
    |p: &[f32]| { Pixels::Gray32(p) }
);
classify_export!(
    Java_org_visualccc_Model_nativeClassifyRgb,
    JIntArray<'local>,
    packed_rgb
);

native! {
    fn Java_org_visualccc_Model_nativeClassifyFile(env, handle: jlong, image_path: JString<'local>,
        cam_class: jint) -> JObject<'local> {
        let model = model_ref(handle)?;
        let path = convert::string(env, &image_path)?;
        let target = convert::cam_target(cam_class)?;
        let image = decode_file(Path::new(&path))?;
        let result = model.classify(&image.view(), target)?;
        convert::classification(env, &model.info().classes, &result)
    }
}

native! {
    #[allow(clippy::too_many_arguments)]
    fn Java_org_visualccc_Model_nativeClassifyWhole(env, handle: jlong, pixels: JObject<'local>,
        width: jint, height: jint, overlap: jint, batch: jint, cam_class: jint) -> JObject<'local> {
        let tiling = (overlap, batch, cam_class);
        intern_classify_whole(env, handle, &pixels, (width, height), tiling)
    }
}

native! {
    /// Imports a BioImage Model Zoo package; returns the written model's path.
    fn Java_org_visualccc_Model_nativeImportBioimageio(env, package: JString<'local>,
        out_dir: JString<'local>, ort_library_path: JString<'local>,
        ort_search_dirs: JObjectArray<'local, JString<'local>>) -> JString<'local> {
        let package = PathBuf::from(convert::string(env, &package)?);
        let out_dir = PathBuf::from(convert::string(env, &out_dir)?);
        let options = model_options(env, &ort_library_path, &ort_search_dirs, 0)?;
        let imported = bioimageio::import(&package, &out_dir, &options)?;
        Ok(env.new_string(imported.path.to_string_lossy())?)
    }
}

native! {
    /// `Model.nativeTilingDefaults()`: see [`TilingOptions::defaults_json`].
    fn Java_org_visualccc_Model_nativeTilingDefaults(env) -> JString<'local> {
        Ok(env.new_string(TilingOptions::defaults_json())?)
    }
}
