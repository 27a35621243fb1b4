//! `org.visualccc.KMeans`: k-means clustering of the pixels of one ImageJ slice (see
//! [`visual_ccc_core::analysis::cluster`]), returned as an `org.visualccc.Clustering`.

use jni::objects::{JClass, JFloatArray, JObject, JObjectArray, JString, JValue};
use jni::sys::{jboolean, jdouble, jint, jlong};
use jni::{jni_sig, jni_str, Env, EnvUnowned};
use visual_ccc_core::analysis::cluster::{self, Calibration, ClusterParams, Clustering, Feature};
use visual_ccc_core::GrayImage;

use crate::convert;
use crate::error::{BridgeError, BridgeResult, ThrowJavaException};
use crate::model;
use crate::pixels;

/// The image features chosen on the Java side, in `Clustering.featureNames()` order.
fn features(
    grey: jboolean,
    smoothed: jboolean,
    sigma: jdouble,
    local_variance: jboolean,
    variance_radius: jint,
    foreground: jboolean,
) -> BridgeResult<Vec<Feature>> {
    let mut features = Vec::new();
    if grey {
        features.push(Feature::Grey);
    }
    if smoothed {
        features.push(Feature::Smoothed { sigma });
    }
    if local_variance {
        features.push(Feature::LocalVariance {
            radius: pixels::non_negative(variance_radius, "local-variance radius")?,
        });
    }
    if foreground {
        features.push(Feature::Foreground);
    }
    Ok(features)
}

/// Builds an `org.visualccc.Clustering(byte[] labels, int width, int height, String[]
/// featureNames, long[] pixelCounts, double[] areaFractions, double[] areas, double[]
/// meanGrey, double[] featureMeans (cluster-major), double inertia, int sampleSize,
/// String unit)`.
fn clustering<'local>(env: &mut Env<'local>, result: &Clustering) -> BridgeResult<JObject<'local>> {
    let labels = pixels::new_byte_array(env, &result.labels)?;
    let names = convert::new_string_array(env, &result.feature_names)?;
    let counts: Vec<i64> = result
        .clusters
        .iter()
        .map(|c| i64::try_from(c.pixel_count).unwrap_or(i64::MAX))
        .collect();
    let java_counts = env.new_long_array(counts.len())?;
    java_counts.set_region(env, 0, &counts)?;
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
    width: jint,
    height: jint,
    params: &ClusterParams,
    extra_maps: &JObjectArray<'_, JFloatArray<'_>>,
    extra_names: &JObjectArray<'_, JString<'_>>,
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

#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_org_visualccc_KMeans_nativeCluster<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    pixels: JObject<'local>,
    width: jint,
    height: jint,
    k: jint,
    grey: jboolean,
    smoothed: jboolean,
    sigma: jdouble,
    local_variance: jboolean,
    variance_radius: jint,
    foreground: jboolean,
    position_weight: jdouble,
    extra_maps: JObjectArray<'local, JFloatArray<'local>>,
    extra_names: JObjectArray<'local, JString<'local>>,
    seed: jlong,
    n_init: jint,
    max_iterations: jlong,
    tolerance: jdouble,
    max_samples: jint,
    pixel_width: jdouble,
    pixel_height: jdouble,
    unit: JString<'local>,
    ort_library_path: JString<'local>,
    ort_search_dirs: JObjectArray<'local, JString<'local>>,
) -> JObject<'local> {
    env.with_env(|env| {
        let params = ClusterParams {
            k: pixels::non_negative(k, "number of clusters k")?,
            features: features(
                grey,
                smoothed,
                sigma,
                local_variance,
                variance_radius,
                foreground,
            )?,
            position_weight,
            n_init: pixels::non_negative(n_init, "number of k-means restarts")?,
            max_iterations: u64::try_from(max_iterations).map_err(|_| {
                BridgeError::InvalidArgument(format!(
                    "k-means iteration limit must not be negative, got {max_iterations}"
                ))
            })?,
            tolerance,
            // Any 64-bit pattern is a valid seed; Java's signed long is reinterpreted.
            seed: seed as u64,
            max_samples: pixels::non_negative(max_samples, "sample size")?,
            calibration: Calibration {
                pixel_width,
                pixel_height,
                unit: convert::optional_string(env, &unit)?.unwrap_or_else(|| "pixel".into()),
            },
            // Every core; the labels do not depend on the thread count.
            threads: 0,
            runtime: model::model_options(env, &ort_library_path, &ort_search_dirs, 0)?.runtime,
        };
        intern_cluster(
            env,
            &pixels,
            width,
            height,
            &params,
            &extra_maps,
            &extra_names,
        )
    })
    .resolve::<ThrowJavaException>()
}
