//! `org.visualccc.Thresholds`: Otsu and multi-level Otsu thresholds of one ImageJ slice
//! (scikit-image's definitions, see [`visual_ccc_core::analysis::threshold`]) and the label images
//! they give. Results come back as a `byte[]` of labels or an `org.visualccc.Thresholding`.

use jni::objects::{JByteArray, JDoubleArray, JObject, JString, JValue};
use jni::sys::jint;
use jni::{jni_sig, jni_str};
use visual_ccc_core::analysis::threshold::{self, MAX_CLASSES, MIN_CLASSES};
use visual_ccc_core::ImageView;

use crate::error::{BridgeError, BridgeResult};
use crate::export::native;
use crate::pixels;

/// The `classes - 1` thresholds: `threshold_otsu` for two classes (which also accepts a
/// constant image), `threshold_multiotsu` for three to five.
fn thresholds(view: &ImageView, classes: jint) -> BridgeResult<Vec<f64>> {
    let classes = usize::try_from(classes).map_err(|_| {
        BridgeError::InvalidArgument(format!(
            "multi-level Otsu needs between {MIN_CLASSES} and {MAX_CLASSES} classes (got {classes})"
        ))
    })?;
    Ok(if classes == 2 {
        vec![threshold::otsu(view)?]
    } else {
        threshold::multi_otsu(view, classes)?
    })
}

native! {
    fn Java_org_visualccc_Thresholds_nativeApply(env, pixels: JObject<'local>, width: jint,
        height: jint, thresholds: JDoubleArray<'local>) -> JByteArray<'local> {
        let image = pixels::image(env, &pixels, width, height)?;
        let thresholds = pixels::doubles(env, &thresholds)?;
        let labels = threshold::apply_thresholds(&image.view(), &thresholds)?;
        pixels::new_byte_array(env, &labels.data)
    }
}

native! {
    /// Builds an `org.visualccc.Thresholding(double[] thresholds, byte[] labels, int width,
    /// int height)`.
    fn Java_org_visualccc_Thresholds_nativeSegment(env, pixels: JObject<'local>, width: jint,
        height: jint, classes: jint) -> JObject<'local> {
        let image = pixels::image(env, &pixels, width, height)?;
        let view = image.view();
        let values = thresholds(&view, classes)?;
        let labels = threshold::apply_thresholds(&view, &values)?;
        let java_thresholds = pixels::new_array(env, &values)?;
        let java_labels = pixels::new_byte_array(env, &labels.data)?;
        Ok(env.new_object(
            jni_str!("org/visualccc/Thresholding"),
            jni_sig!("([D[BII)V"),
            &[
                JValue::Object(&java_thresholds),
                JValue::Object(&java_labels),
                JValue::Int(width),
                JValue::Int(height),
            ],
        )?)
    }
}

native! {
    /// `Thresholds.nativeDefaults()`: see [`threshold::defaults_json`].
    fn Java_org_visualccc_Thresholds_nativeDefaults(env) -> JString<'local> {
        Ok(env.new_string(threshold::defaults_json())?)
    }
}
