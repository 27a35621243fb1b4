//! `org.visualccc.KMeans`: k-means clustering of the pixels of one ImageJ slice (see
//! [`visual_ccc_core::analysis::cluster`]), returned as an `org.visualccc.Clustering`.

use jni::objects::{JFloatArray, JObject, JObjectArray, JString, JValue};
use jni::sys::jint;
use jni::{jni_sig, jni_str, Env};
use visual_ccc_core::analysis::cluster::{self, ClusterParams, ClusterSettings, Clustering};
use visual_ccc_core::GrayImage;

use crate::convert;
use crate::error::{BridgeError, BridgeResult};
use crate::export::native;
use crate::model;
use crate::pixels;

/// Builds an `org.visualccc.Clustering(byte[] labels, int width, int height, String[]
/// featureNames, long[] pixelCounts, double[] areaFractions, double[] areas, double[]
/// meanGrey, double[] featureMeans (cluster-major), double inertia, int sampleSize,
/// String unit)`.
pub(crate) fn clustering<'local>(
    env: &mut Env<'local>,
    result: &Clustering,
) -> BridgeResult<JObject<'local>> {
    let labels = pixels::new_byte_array(env, &result.labels)?;
    let names = convert::new_string_array(env, &result.feature_names)?;
    let counts: Vec<i64> = result
        .clusters
        .iter()
        .map(|c| i64::try_from(c.pixel_count).unwrap_or(i64::MAX))
        .collect();
    let java_counts = pixels::new_array(env, &counts)?;
    let column = |f: fn(&cluster::ClusterSummary) -> f64| -> Vec<f64> {
        result.clusters.iter().map(f).collect()
    };
    let fractions = pixels::new_double_array(env, &column(|c| c.area_fraction))?;
    let areas = pixels::new_double_array(env, &column(|c| c.area))?;
    let mean_grey = pixels::new_double_array(env, &column(|c| c.mean_grey))?;
    let feature_means: Vec<f64> = result
        .clusters
        .iter()
        .flat_map(|c| c.feature_means.iter().copied())
        .collect();
    let feature_means = pixels::new_double_array(env, &feature_means)?;
    let unit = env.new_string(&result.unit)?;
    Ok(env.new_object(
        jni_str!("org/visualccc/Clustering"),
        jni_sig!("([BII[Ljava/lang/String;[J[D[D[D[DDILjava/lang/String;)V"),
        &[
            JValue::Object(&labels),
            JValue::Int(result.width as jint),
            JValue::Int(result.height as jint),
            JValue::Object(&names),
            JValue::Object(&java_counts),
            JValue::Object(&fractions),
            JValue::Object(&areas),
            JValue::Object(&mean_grey),
            JValue::Object(&feature_means),
            JValue::Double(result.inertia),
            JValue::Int(jint::try_from(result.sample_size).unwrap_or(jint::MAX)),
            JValue::Object(&unit),
        ],
    )?)
}

fn intern_cluster<'local>(
    env: &mut Env<'local>,
    pixels: &JObject<'_>,
    (width, height): (jint, jint),
    params: &ClusterParams,
    (extra_maps, extra_names): (
        &JObjectArray<'_, JFloatArray<'_>>,
        &JObjectArray<'_, JString<'_>>,
    ),
) -> BridgeResult<JObject<'local>> {
    params.validate()?;
    let names = convert::string_array(env, extra_names)?;
    let maps = pixels::float_arrays(env, extra_maps, "feature map")?;
    if names.len() != maps.len() {
        return Err(BridgeError::InvalidArgument(format!(
            "{} feature maps but {} names",
            maps.len(),
            names.len()
        )));
    }
    let image = pixels::image(env, pixels, width, height)?;
    let view = image.view();
    let n = view.width() * view.height();
    let mut extras = Vec::with_capacity(maps.len());
    for (name, data) in names.iter().zip(maps) {
        if data.len() != n {
            return Err(BridgeError::InvalidArgument(format!(
                "feature map '{name}' holds {} values but the {}×{} image has {n} pixels",
                data.len(),
                view.width(),
                view.height()
            )));
        }
        extras.push(GrayImage {
            width: view.width(),
            height: view.height(),
            data,
        });
    }
    let extras: Vec<(&str, &GrayImage)> = names
        .iter()
        .map(String::as_str)
        .zip(extras.iter())
        .collect();
    let result = cluster::cluster(&view, params, &extras)?;
    clustering(env, &result)
}

native! {
    /// `KMeans.nativeCluster(pixels, width, height, settingsJson, maps, names, ortPath,
    /// ortDirs)`: the settings are the JSON of [`ClusterSettings`], holding only what the
    /// user set; the core fills in the rest.
    #[allow(clippy::too_many_arguments)]
    fn Java_org_visualccc_KMeans_nativeCluster(env, pixels: JObject<'local>, width: jint,
        height: jint, settings: JString<'local>,
        extra_maps: JObjectArray<'local, JFloatArray<'local>>,
        extra_names: JObjectArray<'local, JString<'local>>, ort_library_path: JString<'local>,
        ort_search_dirs: JObjectArray<'local, JString<'local>>) -> JObject<'local> {
        let settings = ClusterSettings::from_json(&convert::string(env, &settings)?)?;
        let runtime = model::model_options(env, &ort_library_path, &ort_search_dirs, 0)?.runtime;
        // Every core; the labels do not depend on the thread count.
        let params = settings.to_params(0, runtime)?;
        let extras = (&extra_maps, &extra_names);
        intern_cluster(env, &pixels, (width, height), &params, extras)
    }
}

native! {
    /// `KMeans.nativeDefaults()`: the JSON of the default [`ClusterSettings`], which the
    /// Fiji dialog shows.
    fn Java_org_visualccc_KMeans_nativeDefaults(env) -> JString<'local> {
        Ok(env.new_string(ClusterSettings::default().to_json())?)
    }
}
