//! `org.visualccc.NativeLibrary`.

use jni::objects::{JClass, JString};
use jni::{Env, EnvUnowned};

use crate::error::{BridgeResult, ThrowJavaException};

fn intern_version<'local>(env: &mut Env<'local>) -> BridgeResult<JString<'local>> {
    Ok(env.new_string(env!("CARGO_PKG_VERSION"))?)
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_visualccc_NativeLibrary_nativeVersion<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> JString<'local> {
    env.with_env(intern_version).resolve::<ThrowJavaException>()
}
