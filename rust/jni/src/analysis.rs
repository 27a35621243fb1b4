//! `org.visualccc.Analysis`: the published workflow on one ImageJ slice, run by the core's
//! [`pipeline::analyze`] (the same code as `visual-ccc analyze` and the batch engine).

use jni::objects::{JObject, JObjectArray, JString, JValue};
use jni::sys::{jint, jlong};
use jni::{jni_sig, jni_str, Env};
use serde_json::json;
use visual_ccc_core::analysis::cluster::Calibration;
use visual_ccc_core::analysis::glcm::FeatureValue;
use visual_ccc_core::model::runtime::RuntimeConfig;
use visual_ccc_core::pipeline::{self, Analysis, AnalysisParams};

use crate::convert;
use crate::error::BridgeResult;
use crate::export::native;
use crate::kmeans;
use crate::model;
use crate::pixels;

/// The measured numbers as JSON (the images travel as arrays beside it).
fn numbers(analysis: &Analysis) -> String {
    let features = |values: &[FeatureValue]| -> serde_json::Map<String, serde_json::Value> {
        values
            .iter()
            .map(|f| (f.key.feature.name().to_string(), json!(f.value)))
            .collect()
    };
    let bar = &analysis.data_bar;
    json!({
        "otsu_threshold": analysis.otsu_threshold,
        "otsu_fraction": analysis.otsu_fraction(),
        "texture": features(&analysis.texture),
        "reference_texture": analysis.reference_texture.as_ref().map(|r| features(&r.features)),
        "target_cluster": analysis.target_cluster,
        "target_fraction": analysis.target_fraction(),
        "data_bar": { "top_rows": bar.top_rows, "bottom_rows": bar.bottom_rows },
    })
    .to_string()
}

/// Builds an `org.visualccc.Analysis(String numbersJson, Classification classification,
/// Clustering clustering, byte[] otsuLabels, float[] textureMap, int width, int height)`.
fn intern_analyze<'local>(
    env: &mut Env<'local>,
    handle: jlong,
    pixels: &JObject<'_>,
    (width, height): (jint, jint),
    settings: &JString<'_>,
    calibration: Calibration,
    runtime: RuntimeConfig,
) -> BridgeResult<JObject<'local>> {
    let params = AnalysisParams::from_json(&convert::string(env, settings)?)?;
    let model = if handle == 0 {
        None
    } else {
        Some(model::model_ref(handle)?)
    };
    let image = pixels::image(env, pixels, width, height)?;
    let analysis = pipeline::analyze(&image.view(), model, &params, calibration, runtime)?;
    let json = env.new_string(numbers(&analysis))?;
    let classification = match (model, &analysis.classification) {
        (Some(model), Some(result)) => convert::classification(env, &model.info().classes, result)?,
        _ => JObject::null(),
    };
    let clustering = kmeans::clustering(env, &analysis.clustering)?;
    let otsu = pixels::new_byte_array(env, &analysis.otsu_mask.data)?;
    let texture = match &analysis.reference_texture {
        Some(reference) => JObject::from(pixels::new_array(env, &reference.map.image.data)?),
        None => JObject::null(),
    };
    Ok(env.new_object(
        jni_str!("org/visualccc/Analysis"),
        jni_sig!(
            "(Ljava/lang/String;Lorg/visualccc/Classification;Lorg/visualccc/Clustering;[B[FII)V"
        ),
        &[
            JValue::Object(&json),
            JValue::Object(&classification),
            JValue::Object(&clustering),
            JValue::Object(&otsu),
            JValue::Object(&texture),
            JValue::Int(width),
            JValue::Int(height),
        ],
    )?)
}

native! {
    /// `Analysis.nativeAnalyze(modelHandle, pixels, width, height, settingsJson, pixelWidth,
    /// pixelHeight, unit, ortPath, ortDirs)`: `modelHandle` 0 runs without classification;
    /// the settings are the JSON of [`AnalysisParams`] holding only what the user set.
    #[allow(clippy::too_many_arguments)]
    fn Java_org_visualccc_Analysis_nativeAnalyze(env, handle: jlong, pixels: JObject<'local>,
        width: jint, height: jint, settings: JString<'local>, pixel_width: f64,
        pixel_height: f64, unit: JString<'local>, ort_library_path: JString<'local>,
        ort_search_dirs: JObjectArray<'local, JString<'local>>) -> JObject<'local> {
        let calibration = Calibration {
            pixel_width,
            pixel_height,
            unit: convert::string(env, &unit)?,
        };
        let runtime = model::model_options(env, &ort_library_path, &ort_search_dirs, 0)?.runtime;
        intern_analyze(env, handle, &pixels, (width, height), &settings, calibration, runtime)
    }
}

native! {
    /// `Analysis.nativeDefaults()`: the JSON of the default [`AnalysisParams`].
    fn Java_org_visualccc_Analysis_nativeDefaults(env) -> JString<'local> {
        Ok(env.new_string(AnalysisParams::defaults_json())?)
    }
}
