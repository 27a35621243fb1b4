//! ImageJ pixel arrays to core images and back, for the analysis classes (`Filters`,
//! `Thresholds`, `Texture`, `KMeans`).
//!
//! ImageJ keeps a slice as `byte[]` (8-bit, unsigned), `short[]` (16-bit, unsigned),
//! `float[]` or `int[]` (packed `0x00RRGGBB`). The analysis natives take any of them as an
//! `Object` and dispatch here, so each operation needs one native method instead of four.
//!
//! Pixels are copied out of the Java array (`GetArrayRegion`) instead of being read in a
//! critical section as `Model` does: these analyses run for a long time and allocate,
//! which a critical section forbids, and copying one slice costs little next to them.

use jni::objects::{
    JByteArray, JDoubleArray, JFloatArray, JIntArray, JObject, JObjectArray, JPrimitiveArray,
    JShortArray, TypeArray,
};
use jni::sys::jint;
use jni::{jni_str, Env};
use visual_ccc_core::image::pixels::{OwnedImage, OwnedPixels};
use visual_ccc_core::ImageView;

use crate::error::{BridgeError, BridgeResult};

/// A count or size from Java that must not be negative; 0 is passed on so that the core
/// reports it in its own words (e.g. "image is empty").
pub fn non_negative(value: jint, name: &str) -> BridgeResult<usize> {
    usize::try_from(value).map_err(|_| {
        BridgeError::InvalidArgument(format!("{name} must not be negative, got {value}"))
    })
}

/// Copies a Java primitive array.
fn read<T: TypeArray + Default + Clone>(
    env: &Env<'_>,
    array: &JPrimitiveArray<'_, T>,
) -> BridgeResult<Vec<T>> {
    let mut values = vec![T::default(); array.len(env)?];
    array.get_region(env, 0, &mut values)?;
    Ok(values)
}

/// A `double[]` (null is an empty list).
pub fn doubles(env: &Env<'_>, array: &JDoubleArray<'_>) -> BridgeResult<Vec<f64>> {
    read_optional(env, array)
}

/// An `int[]` (null is an empty list).
pub fn ints(env: &Env<'_>, array: &JIntArray<'_>) -> BridgeResult<Vec<i32>> {
    read_optional(env, array)
}

/// Copies a Java primitive array that may be null (an empty list).
fn read_optional<T: TypeArray + Default + Clone>(
    env: &Env<'_>,
    array: &JPrimitiveArray<'_, T>,
) -> BridgeResult<Vec<T>> {
    if array.is_null() {
        return Ok(Vec::new());
    }
    read(env, array)
}

/// Copies an ImageJ pixel array of a `width`×`height` slice into an owned core image,
/// checking the size as [`ImageView::new`] does.
pub fn image(
    env: &Env<'_>,
    pixels: &JObject<'_>,
    width: jint,
    height: jint,
) -> BridgeResult<OwnedImage> {
    let width = non_negative(width, "width")?;
    let height = non_negative(height, "height")?;
    if pixels.is_null() {
        return Err(BridgeError::InvalidArgument("pixel array is null".into()));
    }
    let pixels = if let Ok(array) = env.as_cast::<JByteArray>(pixels) {
        // ImageJ bytes and shorts are unsigned.
        OwnedPixels::Gray8(read(env, &array)?.into_iter().map(|v| v as u8).collect())
    } else if let Ok(array) = env.as_cast::<JShortArray>(pixels) {
        OwnedPixels::Gray16(read(env, &array)?.into_iter().map(|v| v as u16).collect())
    } else if let Ok(array) = env.as_cast::<JFloatArray>(pixels) {
        OwnedPixels::Gray32(read(env, &array)?)
    } else if let Ok(array) = env.as_cast::<JIntArray>(pixels) {
        OwnedPixels::PackedRgb(read(env, &array)?.into_iter().map(|v| v as u32).collect())
    } else {
        return Err(BridgeError::InvalidArgument(
            "unsupported pixel array: expected byte[], short[], float[] or int[]".into(),
        ));
    };
    let image = OwnedImage {
        width,
        height,
        pixels,
    };
    ImageView::new(width, height, image.view().pixels())?;
    Ok(image)
}

/// `float[][]` → one `Vec<f32>` per element; null elements are an error.
pub fn float_arrays(
    env: &mut Env<'_>,
    arrays: &JObjectArray<'_, JFloatArray<'_>>,
    name: &str,
) -> BridgeResult<Vec<Vec<f32>>> {
    if arrays.is_null() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for index in 0..arrays.len(env)? {
        let element = arrays.get_element(env, index)?;
        if element.is_null() {
            return Err(BridgeError::InvalidArgument(format!(
                "{name} {} is null",
                index + 1
            )));
        }
        out.push(read(env, &element)?);
        env.delete_local_ref(element);
    }
    Ok(out)
}

/// A new Java array holding `image` as ImageJ stores that type: `byte[]`, `short[]`,
/// `float[]` or `int[]`.
pub fn new_pixel_array<'local>(
    env: &mut Env<'local>,
    image: &OwnedImage,
) -> BridgeResult<JObject<'local>> {
    // ImageJ's integer pixel types are signed Java primitives of the same width.
    Ok(match &image.pixels {
        OwnedPixels::Gray8(p) => new_byte_array(env, p)?.into(),
        OwnedPixels::Gray16(p) => {
            new_array(env, &p.iter().map(|&v| v as i16).collect::<Vec<_>>())?.into()
        }
        OwnedPixels::Gray32(p) => new_array(env, p)?.into(),
        OwnedPixels::PackedRgb(p) => {
            new_array(env, &p.iter().map(|&v| v as i32).collect::<Vec<_>>())?.into()
        }
    })
}

/// A new Java primitive array (`int[]`, `float[]`, `double[]`, …) holding `values`.
pub fn new_array<'local, T: TypeArray>(
    env: &mut Env<'local>,
    values: &[T],
) -> BridgeResult<JPrimitiveArray<'local, T>> {
    let array = JPrimitiveArray::<T>::new(env, values.len())?;
    array.set_region(env, 0, values)?;
    Ok(array)
}

/// A `byte[]` of unsigned values, as ImageJ keeps labels and 8-bit pixels.
pub fn new_byte_array<'local>(
    env: &mut Env<'local>,
    values: &[u8],
) -> BridgeResult<JByteArray<'local>> {
    new_array(env, &values.iter().map(|&v| v as i8).collect::<Vec<_>>())
}

pub fn new_double_array<'local>(
    env: &mut Env<'local>,
    values: &[f64],
) -> BridgeResult<JDoubleArray<'local>> {
    new_array(env, values)
}

/// A `float[][]` with one element per map; each element's local reference is released
/// as soon as it is stored, so any number of maps fits in the JNI local frame.
pub fn new_float_arrays<'local>(
    env: &mut Env<'local>,
    maps: &[Vec<f32>],
) -> BridgeResult<JObjectArray<'local, JFloatArray<'local>>> {
    let length = jint::try_from(maps.len())
        .map_err(|_| BridgeError::InvalidArgument(format!("{} maps are too many", maps.len())))?;
    let array = env.new_object_array(length, jni_str!("[F"), JObject::null())?;
    let array = JObjectArray::<JFloatArray>::cast_local(env, array)?;
    for (index, map) in maps.iter().enumerate() {
        let element = new_array(env, map)?;
        array.set_element(env, index, &element)?;
        env.delete_local_ref(element);
    }
    Ok(array)
}
