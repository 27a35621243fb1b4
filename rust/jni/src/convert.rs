//! Conversions between Java values and core types.

use jni::objects::{JDoubleArray, JFloatArray, JObject, JObjectArray, JString, JValue};
use jni::{jni_sig, jni_str, Env};
use visual_ccc_core::cam::{CamMap, CamTarget};
use visual_ccc_core::model::tiling::WholeImageClassification;
use visual_ccc_core::model::Classification;

use crate::error::{BridgeError, BridgeResult};
use crate::pixels;

/// `Model.CAM_PREDICTED` and `Model.CAM_NONE` on the Java side.
const CAM_PREDICTED: i32 = -1;
const CAM_NONE: i32 = -2;

pub fn string(env: &Env<'_>, value: &JString<'_>) -> BridgeResult<String> {
    if value.is_null() {
        return Err(BridgeError::InvalidArgument(
            "a required string is null".into(),
        ));
    }
    Ok(value.try_to_string(env)?)
}

pub fn optional_string(env: &Env<'_>, value: &JString<'_>) -> BridgeResult<Option<String>> {
    if value.is_null() {
        Ok(None)
    } else {
        string(env, value).map(Some)
    }
}

/// A `String[]` that may be null; null elements are skipped.
pub fn string_array(
    env: &mut Env<'_>,
    array: &JObjectArray<'_, JString<'_>>,
) -> BridgeResult<Vec<String>> {
    if array.is_null() {
        return Ok(Vec::new());
    }
    let mut strings = Vec::new();
    for index in 0..array.len(env)? {
        let element = array.get_element(env, index)?;
        if let Some(text) = optional_string(env, &element)? {
            strings.push(text);
        }
    }
    Ok(strings)
}

pub fn new_string_array<'local>(
    env: &mut Env<'local>,
    strings: &[String],
) -> BridgeResult<JObjectArray<'local, JString<'local>>> {
    let array = env.new_object_array(
        strings.len() as i32,
        jni_str!("java/lang/String"),
        JObject::null(),
    )?;
    let array = JObjectArray::<JString>::cast_local(env, array)?;
    for (index, text) in strings.iter().enumerate() {
        let element = env.new_string(text)?;
        array.set_element(env, index, &element)?;
    }
    Ok(array)
}

pub fn dimension(value: i32, name: &str) -> BridgeResult<usize> {
    usize::try_from(value)
        .ok()
        .filter(|&v| v > 0)
        .ok_or_else(|| {
            BridgeError::InvalidArgument(format!("{name} must be positive, got {value}"))
        })
}

pub fn cam_target(value: i32) -> BridgeResult<CamTarget> {
    match value {
        CAM_NONE => Ok(CamTarget::None),
        CAM_PREDICTED => Ok(CamTarget::Predicted),
        class if class >= 0 => Ok(CamTarget::Class(class as usize)),
        other => Err(BridgeError::InvalidArgument(format!(
            "CAM class {other} is neither a class index nor CAM_PREDICTED/CAM_NONE"
        ))),
    }
}

/// Builds an `org.visualccc.Classification`.
pub fn classification<'local>(
    env: &mut Env<'local>,
    class_names: &[String],
    result: &Classification,
) -> BridgeResult<JObject<'local>> {
    let common = Common::new(env, class_names, &result.probabilities, result.cam.as_ref())?;
    let region = result.region;
    Ok(env.new_object(
        jni_str!("org/visualccc/Classification"),
        jni_sig!("([Ljava/lang/String;I[DI[FIIIIIIDI)V"),
        &[
            JValue::Object(&common.names),
            JValue::Int(result.class_index as i32),
            JValue::Object(&common.probabilities),
            JValue::Int(common.cam_class),
            JValue::Object(&common.cam),
            JValue::Int(common.cam_width),
            JValue::Int(common.cam_height),
            JValue::Int(region.x as i32),
            JValue::Int(region.y as i32),
            JValue::Int(region.width as i32),
            JValue::Int(region.height as i32),
            JValue::Double(f64::from(result.unfamiliarity)),
            JValue::Int(unfamiliar_flag(result.unfamiliar)),
        ],
    )?)
}

/// Builds an `org.visualccc.WholeImageClassification`: per-tile regions (x, y, width,
/// height), classes and probabilities as flat arrays, and the stitched CAM if any.
pub fn whole_image_classification<'local>(
    env: &mut Env<'local>,
    class_names: &[String],
    result: &WholeImageClassification,
) -> BridgeResult<JObject<'local>> {
    let cam = result.map.as_ref().map(|map| &map.cam);
    let common = Common::new(env, class_names, &result.probabilities, cam)?;
    let tiles = &result.tiles;
    let regions: Vec<i32> = tiles
        .iter()
        .flat_map(|t| [t.region.x, t.region.y, t.region.width, t.region.height])
        .map(|v| v as i32)
        .collect();
    let regions = pixels::new_array(env, &regions)?;
    let classes: Vec<i32> = tiles.iter().map(|t| t.class_index as i32).collect();
    let classes = pixels::new_array(env, &classes)?;
    let tile_probabilities: Vec<f32> = tiles
        .iter()
        .flat_map(|t| t.probabilities.iter().copied())
        .collect();
    let tile_probabilities = pixels::new_array(env, &tile_probabilities)?;
    let map_scale = result.map.as_ref().map_or(0, |map| map.scale as i32);
    Ok(env.new_object(
        jni_str!("org/visualccc/WholeImageClassification"),
        jni_sig!("([Ljava/lang/String;I[DII[I[I[FI[FIIIDI)V"),
        &[
            JValue::Object(&common.names),
            JValue::Int(result.class_index as i32),
            JValue::Object(&common.probabilities),
            JValue::Int(result.columns as i32),
            JValue::Int(result.rows as i32),
            JValue::Object(&regions),
            JValue::Object(&classes),
            JValue::Object(&tile_probabilities),
            JValue::Int(common.cam_class),
            JValue::Object(&common.cam),
            JValue::Int(common.cam_width),
            JValue::Int(common.cam_height),
            JValue::Int(map_scale),
            JValue::Double(f64::from(result.unfamiliarity)),
            JValue::Int(unfamiliar_flag(result.unfamiliar)),
        ],
    )?)
}

/// What both classification results hold: class names, probabilities and the CAM
/// (class -1, a null array and size 0 × 0 when there is none).
struct Common<'local> {
    names: JObjectArray<'local, JString<'local>>,
    probabilities: JDoubleArray<'local>,
    cam_class: i32,
    cam: JFloatArray<'local>,
    cam_width: i32,
    cam_height: i32,
}

impl<'local> Common<'local> {
    fn new(
        env: &mut Env<'local>,
        class_names: &[String],
        probabilities: &[f32],
        cam: Option<&CamMap>,
    ) -> BridgeResult<Self> {
        let probabilities: Vec<f64> = probabilities.iter().map(|&p| f64::from(p)).collect();
        let mut common = Self {
            names: new_string_array(env, class_names)?,
            probabilities: pixels::new_array(env, &probabilities)?,
            cam_class: -1,
            cam: JFloatArray::null(),
            cam_width: 0,
            cam_height: 0,
        };
        if let Some(map) = cam {
            common.cam_class = map.class_index as i32;
            common.cam = pixels::new_array(env, &map.data)?;
            common.cam_width = map.width as i32;
            common.cam_height = map.height as i32;
        }
        Ok(common)
    }
}

/// The Java side's unfamiliar flag: 1, 0, or -1 when the model has no threshold.
fn unfamiliar_flag(unfamiliar: Option<bool>) -> i32 {
    match unfamiliar {
        Some(true) => 1,
        Some(false) => 0,
        None => -1,
    }
}
