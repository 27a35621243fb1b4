//! `org.visualccc.NativeLibrary`.

use jni::objects::JString;

use crate::export::native;

native! {
    fn Java_org_visualccc_NativeLibrary_nativeVersion(env) -> JString<'local> {
        Ok(env.new_string(env!("CARGO_PKG_VERSION"))?)
    }
}
