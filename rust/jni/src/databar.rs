//! `org.visualccc.DataBar`: the instrument data bar of one ImageJ slice
//! ([`visual_ccc_core::image::databar`], the core's default parameters), returned as
//! `int[] {top rows, bottom rows}` to leave out.

use jni::objects::{JClass, JIntArray, JObject};
use jni::sys::jint;
use jni::{Env, EnvUnowned};
use visual_ccc_core::image::databar::{detect, DataBarParams};

use crate::error::{BridgeResult, ThrowJavaException};
use crate::pixels;

fn intern_detect<'local>(
    env: &mut Env<'local>,
    pixels: &JObject<'_>,
    width: jint,
    height: jint,
) -> BridgeResult<JIntArray<'local>> {
    let image = pixels::image(env, pixels, width, height)?;
    let bar = detect(&image.view(), &DataBarParams::default())?;
    let rows = [bar.top_rows, bar.bottom_rows].map(|r| r as jint);
    let array = env.new_int_array(2)?;
    array.set_region(env, 0, &rows)?;
    Ok(array)
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_visualccc_DataBar_nativeDetect<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    pixels: JObject<'local>,
    width: jint,
    height: jint,
) -> JIntArray<'local> {
    env.with_env(|env| intern_detect(env, &pixels, width, height))
        .resolve::<ThrowJavaException>()
}
