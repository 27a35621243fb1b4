//! Panics in third-party decoders on crafted files: a corrupt input, not a defect here.
//! (tiff 0.10.3, for one, indexes an empty SampleFormat tag; found by `fuzz/decode`.)
//! [`contain`] turns such a panic into an error; [`install_panic_hook`] keeps its message
//! off stderr, so the user sees only the error.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, Result};
use crate::model::runtime::panic_message;

thread_local! {
    static CONTAINED: Cell<u32> = const { Cell::new(0) };
}

/// Runs `work`; a panic inside it becomes the error `on_panic(message)`.
pub(crate) fn contain<T>(
    work: impl FnOnce() -> Result<T>,
    on_panic: impl FnOnce(String) -> Error,
) -> Result<T> {
    CONTAINED.with(|c| c.set(c.get() + 1));
    let outcome = catch_unwind(AssertUnwindSafe(work));
    CONTAINED.with(|c| c.set(c.get() - 1));
    outcome.unwrap_or_else(|payload| Err(on_panic(panic_message(payload.as_ref()))))
}

/// Whether this thread is inside [`contain`], whose panics become errors.
pub fn panic_is_contained() -> bool {
    CONTAINED.with(|c| c.get() > 0)
}

/// Wraps the process's panic hook so that contained panics print nothing; every other
/// panic is reported as before. For binaries (the CLI); the JNI bridge asks
/// [`panic_is_contained`] in its own hook.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !panic_is_contained() {
            previous(info);
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contained_panic_is_an_error() {
        let result: Result<()> = contain(|| panic!("bad tag"), Error::Decode);
        let err = result.unwrap_err();
        assert!(err.to_string().contains("bad tag"), "{err}");
        assert!(!panic_is_contained());
    }
}
