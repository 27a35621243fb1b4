//! `org.visualccc.DataBar`: the instrument data bar of one ImageJ slice
//! ([`visual_ccc_core::image::databar`], the core's default parameters), returned as
//! `int[] {top rows, bottom rows}` to leave out.

use jni::objects::{JIntArray, JObject};
use jni::sys::jint;
use visual_ccc_core::image::databar::{detect, DataBarParams};

use crate::export::native;
use crate::pixels;

native! {
    fn Java_org_visualccc_DataBar_nativeDetect(env, pixels: JObject<'local>, width: jint,
        height: jint) -> JIntArray<'local> {
        let image = pixels::image(env, &pixels, width, height)?;
        let bar = detect(&image.view(), &DataBarParams::default())?;
        pixels::new_array(env, &[bar.top_rows, bar.bottom_rows].map(|r| r as jint))
    }
}
