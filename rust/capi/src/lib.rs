//! The C ABI of the Visual-CCC core (`libvisual_ccc_c.so`, `libvisual_ccc_c.a`), for hosts
//! other than the JVM: napari through ctypes, C/C++ acquisition software, scripts.
//!
//! Every export is a thin wrapper: it checks its pointers, calls an `intern_*` function
//! returning the core's `Result`, and hands the outcome to [`status::report`] (int
//! results) or [`status::report_ptr`] (pointer results), the one place where errors become
//! C error codes and the thread's last error message. Panics are caught there too, so
//! none unwinds into C. `include/visual_ccc.h` is generated from this crate by cbindgen.

mod cluster;
mod model;
mod pixels;
mod status;

use std::ffi::{c_char, CStr};

pub use cluster::*;
pub use model::*;
pub use status::{vccc_last_error, VcccStatus};

/// The library version, e.g. "0.1.0" (static storage).
#[unsafe(no_mangle)]
pub extern "C" fn vccc_version() -> *const c_char {
    static VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(version) => version,
            Err(_) => panic!("the version has no NUL byte"),
        };
    VERSION.as_ptr()
}
