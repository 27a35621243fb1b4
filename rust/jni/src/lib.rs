//! JNI bridge between the Java classes in `org.visualccc` and the Rust core.
//!
//! One module per Java class. Every exported function is declared with
//! `export::native!`, which runs its body (returning [`error::BridgeResult`]) in
//! [`EnvUnowned::with_env`], which catches panics, and resolves it with
//! [`error::ThrowJavaException`], the one place where errors become Java exceptions.
//! Nothing here may unwind into the JVM.
//!
//! [`EnvUnowned::with_env`]: jni::EnvUnowned::with_env

mod analysis;
mod batch;
mod convert;
mod databar;
mod error;
mod export;
mod filters;
mod kmeans;
mod log_bridge;
mod model;
mod native_library;
mod native_testing;
mod pixels;
mod texture;
mod thresholds;
mod train;

/// Called by the JVM when the library loads: replaces Rust's default panic message
/// (with a backtrace when `RUST_BACKTRACE` is set) by one line, because every panic in
/// a native call is caught and reaches Java as a `VisualCccException` anyway.
#[unsafe(no_mangle)]
pub extern "system" fn JNI_OnLoad(
    _vm: *mut jni::sys::JavaVM,
    _reserved: *mut std::ffi::c_void,
) -> jni::sys::jint {
    std::panic::set_hook(Box::new(|info| {
        // A decoder's panic on a corrupt file becomes an ordinary error: nothing to print.
        if !visual_ccc_core::panics::panic_is_contained() {
            eprintln!("visual-ccc: native panic (reported to Java as VisualCccException): {info}");
        }
    }));
    log_bridge::install();
    jni::sys::JNI_VERSION_1_8
}
