//! `org.visualccc.Texture`: GLCM (Haralick) texture of one ImageJ slice, as sliding-window
//! feature maps and/or whole-image values, returned as an `org.visualccc.TextureResult`.

use jni::objects::{JClass, JDoubleArray, JIntArray, JObject, JObjectArray, JString, JValue};
use jni::sys::{jboolean, jint};
use jni::{jni_sig, jni_str, Env, EnvUnowned};
use visual_ccc_core::analysis::glcm::{
    self, Feature, GlcmParams, MapKey, Quantization, TextureParams,
};
use visual_ccc_core::analysis::threshold;
use visual_ccc_core::ImageView;

use crate::convert;
use crate::error::{BridgeError, BridgeResult, ThrowJavaException};
use crate::pixels;

/// `Texture.Quantization` ordinals on the Java side.
fn quantization(value: jint) -> BridgeResult<Quantization> {
    match value {
        0 => Ok(Quantization::Auto),
        1 => Ok(Quantization::MinMax),
        2 => Ok(Quantization::Direct),
        other => Err(BridgeError::InvalidArgument(format!(
            "unknown quantisation {other}"
        ))),
    }
}

/// Map and column names: the bare feature name when the settings give one result per
/// feature (one distance, and one angle or the mean over angles), else the feature with
/// its distance and angle, in ASCII so that tables save cleanly in any locale.
fn names(keys: &[&MapKey], single: bool) -> Vec<String> {
    keys.iter()
        .map(|key| {
            if single {
                return key.feature.name().to_string();
            }
            match key.angle_deg {
                Some(angle) => format!("{} d={} {}deg", key.feature, key.distance, angle),
                None => format!("{} d={} mean", key.feature, key.distance),
            }
        })
        .collect()
}

/// Names, maps (if asked for) and whole-image values (if asked for).
type Analysis = (Vec<String>, Option<Vec<Vec<f32>>>, Option<Vec<f64>>);

fn analyse(
    view: &ImageView,
    params: &TextureParams,
    want_maps: bool,
    want_values: bool,
) -> BridgeResult<Analysis> {
    params.validate()?;
    let maps = want_maps
        .then(|| glcm::texture_maps(view, params))
        .transpose()?;
    let values = want_values
        .then(|| glcm::glcm_features(view, &params.glcm))
        .transpose()?;
    let keys: Vec<&MapKey> = match (&maps, &values) {
        (Some(maps), _) => maps.iter().map(|m| &m.key).collect(),
        (None, Some(values)) => values.iter().map(|v| &v.key).collect(),
        (None, None) => Vec::new(),
    };
    let glcm = &params.glcm;
    let single = glcm.distances.len() == 1 && (glcm.average_angles || glcm.angles_deg.len() == 1);
    let names = names(&keys, single);
    Ok((
        names,
        maps.map(|maps| maps.into_iter().map(|m| m.image.data).collect()),
        values.map(|values| values.into_iter().map(|v| v.value).collect()),
    ))
}

/// The published tool's texture step: the 0/1 mask `image > Otsu`, then GLCM contrast in
/// 5×5 windows ([`TextureParams::reference`]); whole-image values use the same settings
/// on the mask.
fn analyse_reference(
    view: &ImageView,
    want_maps: bool,
    want_values: bool,
) -> BridgeResult<Analysis> {
    let mask = threshold::otsu_mask(view)?;
    let maps = want_maps
        .then(|| glcm::reference_contrast_of_mask(&mask.view()))
        .transpose()?
        .map(|map| vec![map.data.iter().map(|&v| v as f32).collect()]);
    let values = want_values
        .then(|| glcm::glcm_features(&mask.view(), &TextureParams::reference().glcm))
        .transpose()?
        .map(|values| values.into_iter().map(|v| v.value).collect());
    Ok((vec![Feature::Contrast.name().to_string()], maps, values))
}

/// Builds an `org.visualccc.TextureResult(String[] names, float[][] maps, double[] values,
/// int width, int height)`; `maps` or `values` is null when not asked for. `params` is
/// `None` in reference mode.
fn intern_analyse<'local>(
    env: &mut Env<'local>,
    pixels: &JObject<'_>,
    width: jint,
    height: jint,
    params: Option<&TextureParams>,
    want_maps: jboolean,
    want_values: jboolean,
) -> BridgeResult<JObject<'local>> {
    if !want_maps && !want_values {
        return Err(BridgeError::InvalidArgument(
            "ask for texture maps, whole-image values or both".into(),
        ));
    }
    let image = pixels::image(env, pixels, width, height)?;
    let view = image.view();
    let (names, maps, values) = match params {
        None => analyse_reference(&view, want_maps, want_values)?,
        Some(params) => analyse(&view, params, want_maps, want_values)?,
    };
    let java_names = convert::new_string_array(env, &names)?;
    let java_maps: JObject = match &maps {
        Some(maps) => pixels::new_float_arrays(env, maps)?.into(),
        None => JObject::null(),
    };
    let java_values: JObject = match &values {
        Some(values) => pixels::new_double_array(env, values)?.into(),
        None => JObject::null(),
    };
    Ok(env.new_object(
        jni_str!("org/visualccc/TextureResult"),
        jni_sig!("([Ljava/lang/String;[[F[DII)V"),
        &[
            JValue::Object(&java_names),
            JValue::Object(&java_maps),
            JValue::Object(&java_values),
            JValue::Int(width),
            JValue::Int(height),
        ],
    )?)
}

#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_org_visualccc_Texture_nativeAnalyse<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    pixels: JObject<'local>,
    width: jint,
    height: jint,
    window: jint,
    levels: jint,
    distances: JIntArray<'local>,
    angles: JDoubleArray<'local>,
    average_angles: jboolean,
    symmetric: jboolean,
    quantization_index: jint,
    features: JObjectArray<'local, JString<'local>>,
    threads: jint,
    reference: jboolean,
    want_maps: jboolean,
    want_values: jboolean,
) -> JObject<'local> {
    env.with_env(|env| {
        let params = if reference {
            None
        } else {
            let distances = pixels::ints(env, &distances)?
                .into_iter()
                .map(|d| pixels::non_negative(d, "pixel-pair distance"))
                .collect::<BridgeResult<Vec<_>>>()?;
            let features = convert::string_array(env, &features)?
                .iter()
                .map(|name| Feature::from_name(name))
                .collect::<visual_ccc_core::Result<Vec<_>>>()?;
            Some(TextureParams {
                window: pixels::non_negative(window, "texture window")?,
                glcm: GlcmParams {
                    levels: pixels::non_negative(levels, "number of grey levels")?,
                    distances,
                    angles_deg: pixels::doubles(env, &angles)?,
                    average_angles,
                    symmetric,
                    normed: true,
                    quantization: quantization(quantization_index)?,
                    features,
                },
                threads: pixels::non_negative(threads, "thread count")?,
            })
        };
        intern_analyse(
            env,
            &pixels,
            width,
            height,
            params.as_ref(),
            want_maps,
            want_values,
        )
    })
    .resolve::<ThrowJavaException>()
}

crate::export::native! {
    /// `Texture.nativeDefaults()`: see [`TextureParams::defaults_json`].
    fn Java_org_visualccc_Texture_nativeDefaults(env) -> JString<'local> {
        Ok(env.new_string(TextureParams::defaults_json())?)
    }
}
