//! `org.visualccc.Model`: a loaded classifier behind a native handle.
//!
//! The handle is a `Box<Model>` turned into a `jlong`. Java guarantees, with a
//! read-write lock, that no call uses a handle while `nativeClose` frees it and that it
//! is freed once; the core model is itself safe to use from several threads.

use std::path::{Path, PathBuf};

use jni::elements::ReleaseMode;
use jni::objects::{
    JByteArray, JClass, JFloatArray, JIntArray, JObject, JObjectArray, JPrimitiveArray,
    JShortArray, JString,
};
use jni::sys::{jboolean, jint, jlong};
use jni::{Env, EnvUnowned};
use visual_ccc_core::cam::CamMethod;
use visual_ccc_core::decode::decode_file;
use visual_ccc_core::model::{Model, ModelOptions};
use visual_ccc_core::preprocess::PreparedInput;
use visual_ccc_core::runtime::RuntimeConfig;
use visual_ccc_core::{ImageView, Pixels};

use crate::convert;
use crate::error::{BridgeError, BridgeResult, ThrowJavaException};
use crate::pixels;

fn model_ref<'a>(handle: jlong) -> BridgeResult<&'a Model> {
    if handle == 0 {
        return Err(BridgeError::InvalidArgument("the model is closed".into()));
    }
    // SAFETY: non-zero handles come from `intern_open` and Java's lock keeps them alive
    // for the duration of the call.
    Ok(unsafe { &*(handle as *const Model) })
}

fn intern_open(
    env: &mut Env<'_>,
    model_path: &JString<'_>,
    ort_library_path: &JString<'_>,
    ort_search_dirs: &JObjectArray<'_, JString<'_>>,
    threads: jint,
) -> BridgeResult<jlong> {
    let path = PathBuf::from(convert::string(env, model_path)?);
    let threads = usize::try_from(threads).map_err(|_| {
        BridgeError::InvalidArgument(format!("thread count must be ≥ 0, got {threads}"))
    })?;
    let options = ModelOptions {
        threads,
        runtime: RuntimeConfig {
            library_path: convert::optional_string(env, ort_library_path)?.map(PathBuf::from),
            search_dirs: convert::string_array(env, ort_search_dirs)?
                .into_iter()
                .map(PathBuf::from)
                .collect(),
        },
    };
    let model = Model::open(&path, &options)?;
    Ok(Box::into_raw(Box::new(model)) as jlong)
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

fn intern_classify_file<'local>(
    env: &mut Env<'local>,
    handle: jlong,
    image_path: &JString<'_>,
    cam_class: jint,
) -> BridgeResult<JObject<'local>> {
    let model = model_ref(handle)?;
    let path = convert::string(env, image_path)?;
    let target = convert::cam_target(cam_class)?;
    let image = decode_file(Path::new(&path))?;
    let result = model.classify(&image.view(), target)?;
    convert::classification(env, &model.info().classes, &result)
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

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_visualccc_Model_nativeActivationMap<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    pixels: JObject<'local>,
    width: jint,
    height: jint,
    cam_class: jint,
    method: JString<'local>,
) -> JObject<'local> {
    env.with_env(|env| {
        intern_activation_map(env, handle, &pixels, (width, height), cam_class, &method)
    })
    .resolve::<ThrowJavaException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_visualccc_Model_nativeOpen<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    model_path: JString<'local>,
    ort_library_path: JString<'local>,
    ort_search_dirs: JObjectArray<'local, JString<'local>>,
    threads: jint,
) -> jlong {
    env.with_env(|env| {
        intern_open(
            env,
            &model_path,
            &ort_library_path,
            &ort_search_dirs,
            threads,
        )
    })
    .resolve::<ThrowJavaException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_visualccc_Model_nativeClose<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    env.with_env(|_| -> BridgeResult<()> {
        if handle != 0 {
            // SAFETY: Java calls this once per handle, under its write lock.
            drop(unsafe { Box::from_raw(handle as *mut Model) });
        }
        Ok(())
    })
    .resolve::<ThrowJavaException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_visualccc_Model_nativeClassNames<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> JObjectArray<'local, JString<'local>> {
    env.with_env(|env| convert::new_string_array(env, &model_ref(handle)?.info().classes))
        .resolve::<ThrowJavaException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_visualccc_Model_nativeInputSize<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jint {
    env.with_env(|_| -> BridgeResult<jint> { Ok(model_ref(handle)?.info().input_size as jint) })
        .resolve::<ThrowJavaException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_visualccc_Model_nativeHasFeatures<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jboolean {
    env.with_env(|_| -> BridgeResult<jboolean> { Ok(model_ref(handle)?.info().has_cam()) })
        .resolve::<ThrowJavaException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_visualccc_Model_nativeKind<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> JString<'local> {
    env.with_env(|env| -> BridgeResult<_> {
        Ok(env.new_string(model_ref(handle)?.info().kind.name())?)
    })
    .resolve::<ThrowJavaException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_visualccc_Model_nativeDescription<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> JString<'local> {
    env.with_env(|env| -> BridgeResult<_> {
        Ok(env.new_string(&model_ref(handle)?.info().description)?)
    })
    .resolve::<ThrowJavaException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_visualccc_Model_nativeClassifyGray8<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    pixels: JByteArray<'local>,
    width: jint,
    height: jint,
    cam_class: jint,
) -> JObject<'local> {
    env.with_env(|env| {
        classify_array(
            env,
            handle,
            &pixels,
            width,
            height,
            cam_class,
            |p: &[i8]| {
                // SAFETY: i8 and u8 have the same layout; ImageJ bytes are unsigned.
                Pixels::Gray8(unsafe { std::slice::from_raw_parts(p.as_ptr().cast(), p.len()) })
            },
        )
    })
    .resolve::<ThrowJavaException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_visualccc_Model_nativeClassifyGray16<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    pixels: JShortArray<'local>,
    width: jint,
    height: jint,
    cam_class: jint,
) -> JObject<'local> {
    env.with_env(|env| {
        classify_array(
            env,
            handle,
            &pixels,
            width,
            height,
            cam_class,
            |p: &[i16]| {
                // SAFETY: i16 and u16 have the same layout; ImageJ shorts are unsigned.
                Pixels::Gray16(unsafe { std::slice::from_raw_parts(p.as_ptr().cast(), p.len()) })
            },
        )
    })
    .resolve::<ThrowJavaException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_visualccc_Model_nativeClassifyGray32<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    pixels: JFloatArray<'local>,
    width: jint,
    height: jint,
    cam_class: jint,
) -> JObject<'local> {
    env.with_env(|env| {
        classify_array(
            env,
            handle,
            &pixels,
            width,
            height,
            cam_class,
            |p: &[f32]| Pixels::Gray32(p),
        )
    })
    .resolve::<ThrowJavaException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_visualccc_Model_nativeClassifyRgb<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    pixels: JIntArray<'local>,
    width: jint,
    height: jint,
    cam_class: jint,
) -> JObject<'local> {
    env.with_env(|env| {
        classify_array(
            env,
            handle,
            &pixels,
            width,
            height,
            cam_class,
            |p: &[i32]| {
                // SAFETY: i32 and u32 have the same layout; ImageJ packs RGB as 0x00RRGGBB.
                Pixels::PackedRgb(unsafe { std::slice::from_raw_parts(p.as_ptr().cast(), p.len()) })
            },
        )
    })
    .resolve::<ThrowJavaException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_visualccc_Model_nativeClassifyFile<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    image_path: JString<'local>,
    cam_class: jint,
) -> JObject<'local> {
    env.with_env(|env| intern_classify_file(env, handle, &image_path, cam_class))
        .resolve::<ThrowJavaException>()
}
