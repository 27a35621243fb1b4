//! Model loading and contract validation (ONNX bytes and `visualccc.*` metadata)
//! through `Model::open`, with ONNX Runtime from ORT_DYLIB_PATH or build/onnxruntime.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

#[path = "runtime.rs"]
mod runtime;

use libfuzzer_sys::fuzz_target;
use visual_ccc_core::model::{Model, MAX_INPUT_SIZE};

fn scratch() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        std::env::temp_dir().join(format!("vccc-fuzz-model-{}.onnx", std::process::id()))
    })
}

fuzz_target!(
    // Panics the core contains (a decoder's, on a corrupt file) are errors, not crashes;
    // every other panic still aborts through libFuzzer's hook.
    init: visual_ccc_core::panics::install_panic_hook(),
    |data: &[u8]| {
    let options = runtime::options();
    std::fs::write(scratch(), data).unwrap();
    if let Ok(model) = Model::open(scratch(), &options) {
        let info = model.info();
        assert!(info.input_size > 0 && info.input_size <= MAX_INPUT_SIZE);
        assert!(!info.classes.is_empty());
    }
});
