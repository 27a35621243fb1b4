//! Importing the tiny BioImage Model Zoo package in tests/fixtures/bioimageio (written by
//! its make_package.py): contract model out, test tensors reproduced, refusals explained.

mod common;

use std::path::{Path, PathBuf};

use visual_ccc_core::cam::CamTarget;
use visual_ccc_core::model::bioimageio::{import, read_npy};
use visual_ccc_core::model::{Model, ModelOptions};
use visual_ccc_core::{ImageView, Pixels};

fn package() -> PathBuf {
    common::repo_root().join("tests/fixtures/bioimageio/tiny-classifier")
}

fn options() -> ModelOptions {
    ModelOptions {
        threads: 1,
        runtime: common::runtime_config(),
    }
}

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("vccc-bmz-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// A copy of the package with `edit` applied to its rdf.yaml text.
    fn package(&self, edit: impl Fn(String) -> String) -> PathBuf {
        let dir = self.0.join("package");
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(package()).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
        let rdf = dir.join("rdf.yaml");
        std::fs::write(&rdf, edit(std::fs::read_to_string(&rdf).unwrap())).unwrap();
        rdf
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

#[test]
fn package_becomes_a_contract_model_that_reproduces_its_test_output() {
    let scratch = Scratch::new("ok");
    let imported = import(&package().join("rdf.yaml"), &scratch.0, &options()).unwrap();
    assert_eq!(imported.classes, ["ferrite", "pearlite", "martensite"]);
    assert_eq!(imported.input_size, 48);
    assert!(
        imported.max_difference < 1e-4,
        "{}",
        imported.max_difference
    );
    assert_eq!(imported.path, scratch.0.join("tiny-classifier.onnx"));

    let model = Model::open(&imported.path, &options()).unwrap();
    assert_eq!(model.info().classes, imported.classes);
    assert!(!model.info().has_cam());
    assert!(model
        .info()
        .cam_unavailable
        .as_deref()
        .unwrap()
        .contains("features"));
    let pixels: Vec<u8> = (0..100 * 80).map(|i| (i % 253) as u8).collect();
    let view = ImageView::new(100, 80, Pixels::Gray8(&pixels)).unwrap();
    let result = model.classify(&view, CamTarget::None).unwrap();
    assert!((result.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-5);

    // The folder and a zip of its contents work as well as its rdf.yaml.
    assert!(import(&package(), &scratch.0, &options()).is_ok());
    let zip_path = scratch.0.join("package.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    for entry in std::fs::read_dir(package()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zip, &std::fs::read(&path).unwrap()).unwrap();
    }
    zip.finish().unwrap();
    let from_zip = import(&zip_path, &scratch.0.join("zip"), &options()).unwrap();
    assert_eq!(from_zip.classes, imported.classes);
}

fn write_npy(path: &Path, shape: &[usize], values: &[f32]) {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let mut header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({},), }}",
        dims.join(", ")
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn per_sample_normalisations_match_a_direct_computation() {
    let scratch = Scratch::new("per-sample");
    let rdf = scratch.package(|text| {
        let start = text.find("    preprocessing:").unwrap();
        let end = text.find("outputs:").unwrap();
        format!(
            "{}    preprocessing:\n      - id: zero_mean_unit_variance\n      - id: scale_range\n        \
             kwargs: {{min_percentile: 1, max_percentile: 99}}\n      - id: clip\n        \
             kwargs: {{min: 0, max: 1}}\n{}",
            &text[..start],
            &text[end..]
        )
    });
    // Expected: the same steps in f64 here, then the original network.
    let (shape, raw) = read_npy(&package().join("test_input.npy")).unwrap();
    let n = raw.len() as f64;
    let mean = raw.iter().map(|&v| v as f64).sum::<f64>() / n;
    let std = (raw.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
    let x: Vec<f64> = raw
        .iter()
        .map(|&v| (v as f64 - mean) / (std + 1e-6))
        .collect();
    let mut sorted = x.clone();
    sorted.sort_by(f64::total_cmp);
    let rank = |q: f64| sorted[raw.len() - ((1.0 - q / 100.0) * n).ceil().max(1.0) as usize];
    let (low, high) = (rank(1.0), rank(99.0));
    let x: Vec<f32> = x
        .iter()
        .map(|v| ((v - low) / (high - low + 1e-6)).clamp(0.0, 1.0) as f32)
        .collect();
    visual_ccc_core::model::runtime::ensure_initialised(&common::runtime_config()).unwrap();
    let mut session = ort::session::Session::builder()
        .unwrap()
        .commit_from_file(package().join("model.onnx"))
        .unwrap();
    let tensor = ort::value::Tensor::from_array((shape.clone(), x)).unwrap();
    let outputs = session.run(ort::inputs!["raw" => tensor]).unwrap();
    let (_, expected) = outputs["scores"].try_extract_tensor::<f32>().unwrap();
    let dir = rdf.parent().unwrap();
    write_npy(&dir.join("test_output.npy"), &[1, 3], expected);

    let imported = import(&rdf, &scratch.0.join("out"), &options()).unwrap();
    assert!(
        imported.max_difference < 1e-4,
        "{}",
        imported.max_difference
    );
}

#[test]
fn a_wrong_test_output_writes_nothing() {
    let scratch = Scratch::new("wrong");
    let rdf = scratch.package(|text| text);
    write_npy(
        &rdf.parent().unwrap().join("test_output.npy"),
        &[1, 3],
        &[0.0; 3],
    );
    let out = scratch.0.join("out");
    let err = import(&rdf, &out, &options()).unwrap_err().to_string();
    assert!(err.contains("not reproduced"), "{err}");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
}

#[test]
fn non_classifiers_and_unsupported_packages_are_refused_with_reasons() {
    let cases: [(&dyn Fn(String) -> String, &str); 5] = [
        (
            &|t| t.replace("channel_names: [grey]", "channel_names: [r, g, b]"),
            "3 channels",
        ),
        (
            &|t| {
                t.replace("channel_names: [ferrite, pearlite, martensite]", "channel_names: [a, b, c]\n      - type: space\n        id: y\n        size: 48")
            },
            "not an image classifier",
        ),
        (
            &|t| t.replace("  onnx:", "  torchscript:"),
            "no ONNX weights",
        ),
        (
            &|t| t.replace("id: scale_linear", "id: binarize"),
            "'binarize' is not supported",
        ),
        (
            &|t| t.replace("format_version: 0.5.4", "format_version: 0.4.10"),
            "only RDF 0.5",
        ),
    ];
    for (edit, expected) in cases {
        let scratch = Scratch::new("refused");
        let err = import(&scratch.package(edit), &scratch.0.join("out"), &options())
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{expected}: {err}");
    }
    let scratch = Scratch::new("badzip");
    let zip = scratch.0.join("model.zip");
    std::fs::write(&zip, b"PK\x03\x04 not really a zip").unwrap();
    let err = import(&zip, &scratch.0.join("out"), &options()).unwrap_err();
    assert!(err.to_string().contains("cannot unpack"), "{err}");
}
