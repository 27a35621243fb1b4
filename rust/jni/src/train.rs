//! `org.visualccc.Trainer`: training a classifier from a folder with one subfolder per
//! class, reporting progress to (and taking cancellation from) a Java callback.

use std::path::PathBuf;

use jni::objects::{JObject, JObjectArray, JString, JValue};
use jni::sys::{jboolean, jint, jlong};
use jni::{jni_sig, jni_str, Env};
use visual_ccc_core::train::{self, folder_dataset, TrainParams};

use crate::convert;
use crate::error::{BridgeError, BridgeResult};
use crate::export::native;
use crate::model::model_options;

fn intern_train_folder<'local>(
    env: &mut Env<'local>,
    [base, dir, out]: [&JString<'_>; 3],
    (seed, tile_size, augment): (jlong, jint, jboolean),
    progress: &JObject<'_>,
    (ort_library_path, ort_search_dirs): (&JString<'_>, &JObjectArray<'_, JString<'_>>),
) -> BridgeResult<JString<'local>> {
    let base = PathBuf::from(convert::string(env, base)?);
    let dir = PathBuf::from(convert::string(env, dir)?);
    let out = PathBuf::from(convert::string(env, out)?);
    let seed = u64::try_from(seed)
        .map_err(|_| BridgeError::InvalidArgument(format!("seed must be ≥ 0, got {seed}")))?;
    // 0 means the base model's tile size.
    let tile_source_size = match usize::try_from(tile_size) {
        Ok(0) => None,
        Ok(size) => Some(size),
        Err(_) => {
            return Err(BridgeError::InvalidArgument(format!(
                "tile size must be ≥ 0 (0: the base model's), got {tile_size}"
            )))
        }
    };
    let options = model_options(env, ort_library_path, ort_search_dirs, 0)?;
    let dataset = folder_dataset(&dir)?;
    train::check_writable(&out)?;
    let params = TrainParams {
        seed,
        tile_source_size,
        augment,
        name: out
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        ..TrainParams::default()
    };
    let mut callback_error = None;
    let trained = train::train(&base, &dataset, &params, &options, &mut |done, total| {
        if progress.is_null() {
            return true;
        }
        let args = [JValue::Int(done as i32), JValue::Int(total as i32)];
        match env
            .call_method(progress, jni_str!("update"), jni_sig!("(II)Z"), &args)
            .and_then(|value| value.z())
        {
            Ok(go_on) => go_on,
            Err(err) => {
                callback_error = Some(err);
                false
            }
        }
    });
    if let Some(err) = callback_error {
        return Err(err.into());
    }
    let trained = trained?;
    let card = train::save_with_card(&trained, &out)?;
    Ok(env.new_string(trained.report.to_json(&out, &card))?)
}

native! {
    #[allow(clippy::too_many_arguments)]
    fn Java_org_visualccc_Trainer_nativeTrainFolder(env, base: JString<'local>,
        dir: JString<'local>, out: JString<'local>, seed: jlong, tile_size: jint,
        augment: jboolean, progress: JObject<'local>, ort_library_path: JString<'local>,
        ort_search_dirs: JObjectArray<'local, JString<'local>>) -> JString<'local> {
        let settings = (seed, tile_size, augment);
        let ort = (&ort_library_path, &ort_search_dirs);
        intern_train_folder(env, [&base, &dir, &out], settings, &progress, ort)
    }
}

native! {
    /// `Trainer.nativeDefaults()`: see [`TrainParams::defaults_json`].
    fn Java_org_visualccc_Trainer_nativeDefaults(env) -> JString<'local> {
        Ok(env.new_string(TrainParams::defaults_json())?)
    }
}
