//! `org.visualccc.NativeTesting`: entry points that exist only so tests can prove
//! failures inside native code reach Java as exceptions.

use jni::objects::JString;

use crate::export::native;

native! {
    fn Java_org_visualccc_NativeTesting_nativePanic(env, message: JString<'local>) {
        let message = crate::convert::string(env, &message)?;
        panic!("{message}");
    }
}
