//! Shared test support: locating fixtures and the ONNX Runtime library.
#![allow(dead_code)]

use std::path::PathBuf;

use visual_ccc_core::model::{Model, ModelOptions};
use visual_ccc_core::runtime::RuntimeConfig;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fixture_model(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures/models").join(name)
}

/// The library fetched by `scripts/fetch-onnxruntime.sh`, unless `ORT_DYLIB_PATH` says otherwise.
pub fn runtime_config() -> RuntimeConfig {
    let dir = repo_root().join("build/onnxruntime/linux-x86_64");
    assert!(
        std::env::var_os("ORT_DYLIB_PATH").is_some() || dir.exists(),
        "ONNX Runtime is missing: run scripts/fetch-onnxruntime.sh (or set ORT_DYLIB_PATH)"
    );
    RuntimeConfig {
        library_path: None,
        search_dirs: vec![dir],
    }
}

pub fn open(name: &str) -> Model {
    let options = ModelOptions {
        threads: 1,
        runtime: runtime_config(),
    };
    Model::open(&fixture_model(name), &options).expect("fixture model opens")
}
