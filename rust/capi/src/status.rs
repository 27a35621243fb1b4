//! Error codes and the per-thread last error: the one place where core errors and panics
//! become what a C caller sees.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use visual_ccc_core::{Error, ErrorKind};

/// Result codes of the functions returning `int`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VcccStatus {
    /// Success.
    Ok = 0,
    /// A bad argument: NULL pointer, zero or overflowing size, k out of range, bad pixels.
    InvalidArgument = 1,
    /// The model is missing, malformed or does not meet the model contract.
    Model = 2,
    /// ONNX Runtime could not be loaded or failed while running.
    Runtime = 3,
    /// Reading or decoding a file failed.
    Io = 4,
    /// A defect in the library (a caught panic); the message says where.
    Internal = 5,
}

impl From<ErrorKind> for VcccStatus {
    fn from(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::InvalidArgument => VcccStatus::InvalidArgument,
            ErrorKind::Model => VcccStatus::Model,
            ErrorKind::Runtime => VcccStatus::Runtime,
            ErrorKind::Decode | ErrorKind::Io => VcccStatus::Io,
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

fn set_last_error(message: String) {
    // Interior NUL bytes cannot appear in a C string: show them as spaces.
    let message = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|last| *last.borrow_mut() = Some(message));
}

/// Runs `call`, catching panics; an error or panic is recorded as this thread's last
/// error and turned into its status.
fn run<T>(call: impl FnOnce() -> Result<T, Error>) -> Result<T, VcccStatus> {
    match catch_unwind(AssertUnwindSafe(call)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => {
            set_last_error(err.to_string());
            Err(err.kind().into())
        }
        Err(panic) => {
            set_last_error(format!(
                "internal error (please report): {}",
                visual_ccc_core::model::runtime::panic_message(panic.as_ref())
            ));
            Err(VcccStatus::Internal)
        }
    }
}

/// The outcome of an `int`-returning export.
pub(crate) fn report(call: impl FnOnce() -> Result<(), Error>) -> c_int {
    match run(call) {
        Ok(()) => VcccStatus::Ok as c_int,
        Err(status) => status as c_int,
    }
}

/// The outcome of a pointer-returning export: NULL on error.
pub(crate) fn report_ptr<T>(call: impl FnOnce() -> Result<*mut T, Error>) -> *mut T {
    run(call).unwrap_or(std::ptr::null_mut())
}

/// Message of this thread's last error, or NULL if no call on this thread has failed;
/// valid until the next failing call on this thread.
#[unsafe(no_mangle)]
pub extern "C" fn vccc_last_error() -> *const c_char {
    LAST_ERROR.with(|last| {
        last.borrow()
            .as_ref()
            .map_or(std::ptr::null(), |message| message.as_ptr())
    })
}
