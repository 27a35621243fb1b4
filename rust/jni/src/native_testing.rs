//! `org.visualccc.NativeTesting`: entry points that exist only so tests can prove
//! failures inside native code reach Java as exceptions.

use jni::objects::{JClass, JString};
use jni::{Env, EnvUnowned};

use crate::error::BridgeResult;
use crate::error::ThrowJavaException;

fn intern_panic(env: &mut Env<'_>, message: &JString<'_>) -> BridgeResult<()> {
    let message = crate::convert::string(env, message)?;
    panic!("{message}");
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_visualccc_NativeTesting_nativePanic<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    message: JString<'local>,
) {
    env.with_env(|env| intern_panic(env, &message))
        .resolve::<ThrowJavaException>()
}
