//! Shared by the targets that need ONNX Runtime: the library fetched into build/ (or
//! ORT_DYLIB_PATH), one inference thread.

use std::path::PathBuf;

use visual_ccc_core::model::runtime::RuntimeConfig;
use visual_ccc_core::model::ModelOptions;

pub fn options() -> ModelOptions {
    ModelOptions {
        threads: 1,
        runtime: RuntimeConfig {
            library_path: None,
            search_dirs: vec![PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../build/onnxruntime/linux-x86_64"
            ))],
        },
    }
}
