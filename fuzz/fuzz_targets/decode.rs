//! Image decoding through the project's own entry point, every format it sniffs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use visual_ccc_core::image::decode::{decode_bytes_with, DecodeLimits};

fuzz_target!(
    // Panics the core contains (a decoder's, on a corrupt file) are errors, not crashes;
    // every other panic still aborts through libFuzzer's hook.
    init: visual_ccc_core::panics::install_panic_hook(),
    |data: &[u8]| {
    // Tighter than the defaults so that one input stays well inside libFuzzer's
    // 2 GiB RSS limit; the checks are the same code.
    let limits = DecodeLimits {
        max_pixels: 1 << 22,
        max_bytes: 64 << 20,
    };
    if let Ok(image) = decode_bytes_with(data, &limits) {
        assert_eq!(image.view_len(), image.width * image.height);
        assert!(image.width as u64 * image.height as u64 <= limits.max_pixels);
    }
});
