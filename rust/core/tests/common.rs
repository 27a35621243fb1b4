//! Shared test support: locating fixtures and the ONNX Runtime library.
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;
use visual_ccc_core::image::pixels::{OwnedImage, OwnedPixels};
use visual_ccc_core::model::runtime::RuntimeConfig;
use visual_ccc_core::model::{Model, ModelOptions};

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

/// Runs the test `test` of this test binary alone in a child process with the
/// environment `env`, and returns what it printed after `HASH ` (for results that must
/// not depend on per-process settings such as thread pools).
pub fn hash_printed_by(test: &str, env: &[(&str, &str)]) -> String {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(&exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .envs(env.iter().copied())
        .output()
        .expect("test binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find_map(|l| l.split_once("HASH ").map(|(_, h)| h.trim().to_string()))
        .unwrap_or_else(|| panic!("no hash printed by {test}: {stdout}"))
}

/// A JSON array of numbers.
pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// An image of a golden fixture: `width`, `height`, `type` (u8, u16 or f32) and `data`.
pub fn golden_image(v: &Value) -> OwnedImage {
    let data = floats(&v["data"]);
    let pixels = match v["type"].as_str().unwrap() {
        "u8" => OwnedPixels::Gray8(data.iter().map(|&x| x as u8).collect()),
        "u16" => OwnedPixels::Gray16(data.iter().map(|&x| x as u16).collect()),
        "f32" => OwnedPixels::Gray32(data.iter().map(|&x| x as f32).collect()),
        other => panic!("unknown pixel type {other}"),
    };
    OwnedImage {
        width: v["width"].as_u64().unwrap() as usize,
        height: v["height"].as_u64().unwrap() as usize,
        pixels,
    }
}

/// The entries of a fixture's `images` list (each with a `path` under `shared`) whose
/// file is there, with its relative and full path; the others are skipped with a message.
pub fn present_images<'a>(
    shared: &'a std::path::Path,
    meta: &'a Value,
) -> impl Iterator<Item = (&'a Value, &'a str, PathBuf)> + 'a {
    meta["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(move |entry| {
            let rel = entry["path"].as_str().unwrap();
            let path = shared.join(rel);
            if path.is_file() {
                Some((entry, rel, path))
            } else {
                println!("skipping {rel}: not found");
                None
            }
        })
}

/// The real micrographs in `../shared/data` next to the repository; `None` (with a
/// message) when they are absent, as in a fresh clone.
pub fn shared_data() -> Option<PathBuf> {
    let dir = repo_root().join("../shared/data");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipping: {} is absent", dir.display());
        None
    }
}

/// The test images' pseudo-random numbers: Knuth's MMIX linear congruential generator.
pub struct Lcg(pub u64);

impl Lcg {
    /// Steps the generator and returns the new state (its high bits are the random ones).
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0
    }

    /// A value in [0, 1) from the state's top 24 bits.
    pub fn unit_f32(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32) / (1u64 << 24) as f32
    }
}

/// The message of an error that must be an invalid argument.
pub fn invalid_argument_message<T: std::fmt::Debug>(result: visual_ccc_core::Result<T>) -> String {
    let err = result.unwrap_err();
    assert_eq!(err.kind(), visual_ccc_core::ErrorKind::InvalidArgument);
    err.to_string()
}
