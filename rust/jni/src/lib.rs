//! JNI bridge between the Java classes in `org.visualccc` and the Rust core.
//!
//! One module per Java class. Every exported function wraps an `intern_*` function
//! returning [`error::BridgeResult`] in [`EnvUnowned::with_env`], which catches panics,
//! and resolves it with [`error::ThrowJavaException`], the one place where errors
//! become Java exceptions. Nothing here may unwind into the JVM.
//!
//! [`EnvUnowned::with_env`]: jni::EnvUnowned::with_env

mod convert;
mod error;
mod model;
mod native_library;
mod native_testing;
