//! `org.visualccc.Filters`: the core's preprocessing filters on one ImageJ slice.
//!
//! Every native takes the slice's pixel array (any ImageJ type, see [`crate::pixels`]),
//! its size, the output bit depth (0 = the input's, RGB giving 8-bit grey; or 8, 16, 32)
//! and the filter's parameters, and returns a new pixel array of the requested depth.

use jni::objects::{JObject, JString};
use jni::sys::{jboolean, jdouble, jint};
use jni::Env;
use visual_ccc_core::analysis::filters::{
    self, BackgroundParams, BilateralParams, ClaheParams, ContrastParams, GaussianParams,
    MedianParams,
};
use visual_ccc_core::{GrayImage, ImageView};

use crate::error::{BridgeError, BridgeResult};
use crate::export::native;
use crate::pixels;

/// Reads the slice, runs `filter` on it and converts the result to `bit_depth`.
fn filter<'local>(
    env: &mut Env<'local>,
    pixels: &JObject<'_>,
    width: jint,
    height: jint,
    bit_depth: jint,
    filter: impl FnOnce(&ImageView) -> visual_ccc_core::Result<GrayImage>,
) -> BridgeResult<JObject<'local>> {
    if bit_depth < 0 {
        return Err(BridgeError::InvalidArgument(format!(
            "output bit depth must be 0 (same as the input), 8, 16 or 32, got {bit_depth}"
        )));
    }
    let image = pixels::image(env, pixels, width, height)?;
    let view = image.view();
    let result = filter(&view)?;
    let output = match bit_depth {
        0 => filters::to_input_depth(&result, &view),
        depth => filters::to_bit_depth(&result, depth as u32)?,
    };
    pixels::new_pixel_array(env, &output)
}

native! {
    /// `Filters.nativeDefaults()`: the filters' defaults as JSON, for the Preprocess dialog.
    fn Java_org_visualccc_Filters_nativeDefaults(env) -> JString<'local> {
        Ok(env.new_string(filters::FilterDefaults::to_json())?)
    }
}

/// Declares `Java_org_visualccc_Filters_<name>(pixels, width, height, bitDepth, args...)`:
/// builds the core parameters from the extra arguments (inside the error policy, so `?`
/// works) and runs [`filter`] with the core function.
macro_rules! filter_native {
    ($name:ident($($arg:ident: $ty:ty),*) => $function:path, $params:expr) => {
        native! {
            fn $name(env, pixels: JObject<'local>, width: jint, height: jint, bit_depth: jint,
                $($arg: $ty),*) -> JObject<'local> {
                let params = $params;
                filter(env, &pixels, width, height, bit_depth, |view| $function(view, &params))
            }
        }
    };
}

native! {
    /// `Filters.nativeMedian(pixels, width, height, bitDepth, radius)`.
    fn Java_org_visualccc_Filters_nativeMedian(env, pixels: JObject<'local>, width: jint,
        height: jint, bit_depth: jint, radius: jint) -> JObject<'local> {
        let params = MedianParams { radius: pixels::non_negative(radius, "median radius")? };
        median(env, &pixels, width, height, bit_depth, &params)
    }
}

/// [`filter`] for the median. In the input's depth the slice's copy is filtered in place
/// ([`filters::median_in_place`], equal to the float median converted back), without a
/// float image in between.
fn median<'local>(
    env: &mut Env<'local>,
    pixels: &JObject<'_>,
    width: jint,
    height: jint,
    bit_depth: jint,
    params: &MedianParams,
) -> BridgeResult<JObject<'local>> {
    if bit_depth != 0 {
        return filter(env, pixels, width, height, bit_depth, |view| {
            filters::median(view, params)
        });
    }
    let mut image = pixels::image(env, pixels, width, height)?;
    filters::median_in_place(&mut image, params)?;
    pixels::new_pixel_array(env, &image)
}

filter_native!(
    Java_org_visualccc_Filters_nativeGaussian(sigma: jdouble) => filters::gaussian,
    GaussianParams { sigma }
);

filter_native!(
    Java_org_visualccc_Filters_nativeBilateral(spatial_sigma: jdouble, range_sigma: jdouble)
        => filters::bilateral,
    BilateralParams { spatial_sigma, range_sigma }
);

filter_native!(
    Java_org_visualccc_Filters_nativeClahe(tiles_x: jint, tiles_y: jint, clip_limit: jdouble)
        => filters::clahe,
    ClaheParams {
        tiles_x: pixels::non_negative(tiles_x, "number of CLAHE tiles across")?,
        tiles_y: pixels::non_negative(tiles_y, "number of CLAHE tiles down")?,
        clip_limit,
    }
);

filter_native!(
    Java_org_visualccc_Filters_nativeSubtractBackground(radius: jdouble, light_background: jboolean)
        => filters::subtract_background,
    BackgroundParams { radius, light_background }
);

filter_native!(
    Java_org_visualccc_Filters_nativeStretchContrast(saturated_percent: jdouble)
        => filters::stretch_contrast,
    ContrastParams { saturated_percent }
);
