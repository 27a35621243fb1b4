//! The one shape of every exported native method.

/// Declares `#[no_mangle] extern "system" fn $name(env, class, args…) -> $ret` whose
/// body runs inside [`jni::EnvUnowned::with_env`] (which catches panics) as a closure
/// returning [`crate::error::BridgeResult`], resolved by
/// [`crate::error::ThrowJavaException`]: the one error policy at the JVM boundary.
/// The symbol is exactly `$name`, so it must spell Java's `Java_<class>_<method>`.
///
/// ```ignore
/// native! { fn Java_org_visualccc_X_nativeY(env, handle: jlong) -> jint { Ok(1) } }
/// ```
macro_rules! native {
    ($(#[$attr:meta])* fn $name:ident($env:ident $(, $arg:ident: $ty:ty)* $(,)?)
        -> $ret:ty $body:block) => {
        $(#[$attr])*
        #[unsafe(no_mangle)]
        pub extern "system" fn $name<'local>(
            mut env: jni::EnvUnowned<'local>,
            _class: jni::objects::JClass<'local>,
            $($arg: $ty),*
        ) -> $ret {
            env.with_env(|$env| -> $crate::error::BridgeResult<$ret> { $body })
                .resolve::<$crate::error::ThrowJavaException>()
        }
    };
    // No return value.
    ($(#[$attr:meta])* fn $name:ident($env:ident $(, $arg:ident: $ty:ty)* $(,)?)
        $body:block) => {
        $crate::export::native! { $(#[$attr])* fn $name($env $(, $arg: $ty)*) -> () $body }
    };
}

pub(crate) use native;
