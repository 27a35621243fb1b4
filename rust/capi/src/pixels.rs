//! Borrowing a C caller's pixel buffers as core images, checked first.

use visual_ccc_core::{Error, ImageView, Pixels, Result};

/// `width × height`, refusing zero sizes and overflow.
pub(crate) fn pixel_count(width: usize, height: usize) -> Result<usize> {
    if width == 0 || height == 0 {
        return Err(Error::InvalidArgument(format!(
            "the image is {width}×{height}: both sides must be at least 1"
        )));
    }
    width
        .checked_mul(height)
        .ok_or_else(|| Error::InvalidArgument(format!("{width}×{height} pixels overflow")))
}

/// `len` values at `ptr`, or an error naming `what` when it is NULL.
///
/// # Safety
/// A non-NULL `ptr` must point to `len` readable values that stay valid and unchanged
/// for the returned lifetime.
pub(crate) unsafe fn slice<'a, T>(ptr: *const T, len: usize, what: &str) -> Result<&'a [T]> {
    if ptr.is_null() {
        return Err(Error::InvalidArgument(format!("{what} is NULL")));
    }
    Ok(std::slice::from_raw_parts(ptr, len))
}

/// Like [`slice`], writable.
///
/// # Safety
/// A non-NULL `ptr` must point to `len` writable values not aliased during the call.
pub(crate) unsafe fn slice_mut<'a, T>(ptr: *mut T, len: usize, what: &str) -> Result<&'a mut [T]> {
    if ptr.is_null() {
        return Err(Error::InvalidArgument(format!("{what} is NULL")));
    }
    Ok(std::slice::from_raw_parts_mut(ptr, len))
}

/// A grey image over the caller's row-major buffer (stride = width) of 8- or 16-bit
/// values (`wrap` is `Pixels::Gray8` or `Pixels::Gray16`).
///
/// # Safety
/// As for [`slice`], with `width × height` values.
pub(crate) unsafe fn gray<'a, T>(
    pixels: *const T,
    width: usize,
    height: usize,
    wrap: fn(&'a [T]) -> Pixels<'a>,
) -> Result<ImageView<'a>> {
    let count = pixel_count(width, height)?;
    ImageView::new(width, height, wrap(slice(pixels, count, "pixels")?))
}
