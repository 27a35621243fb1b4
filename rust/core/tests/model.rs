//! The model contract, classification and exact CAM against independent golden numbers.

mod common;

use visual_ccc_core::cam::{self, CamTarget};
use visual_ccc_core::model::{Model, ModelKind, ModelOptions};
use visual_ccc_core::{ErrorKind, ImageView, Pixels};

fn golden() -> serde_json::Value {
    let text = std::fs::read_to_string(common::fixture_model("cam_golden.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn floats(value: &serde_json::Value) -> Vec<f32> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

fn assert_close(actual: &[f32], expected: &[f32], tolerance: f32, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= tolerance * (1.0 + e.abs()),
            "{what}[{i}]: {a} vs {e}"
        );
    }
}

#[test]
fn fixture_metadata_follows_the_contract() {
    let model = common::open("fixture-tiny.onnx");
    let info = model.info();
    assert_eq!(info.classes, ["alloy", "dendrite", "spheroid"]);
    assert_eq!(info.input_size, 64);
    assert_eq!(info.kind, ModelKind::Fixture);
    assert!(info.has_cam(), "{:?}", info.cam_unavailable);
}

#[test]
fn cam_matches_independent_numpy_forward_pass() {
    let golden = golden();
    let model = common::open("fixture-tiny.onnx");
    let output = model.forward(floats(&golden["input"]), 1, true).unwrap();
    assert_close(&output.logits, &floats(&golden["logits"]), 1e-4, "logits");
    let (shape, features) = output.features.unwrap();
    assert_eq!(shape, [1, 16, 16, 16]);
    let head = visual_ccc_core::model::softmax(&output.logits);
    assert_close(
        &head,
        &floats(&golden["probabilities"]),
        1e-5,
        "probabilities",
    );

    let raw_maps = golden["cam_raw"].as_array().unwrap();
    for (class, expected) in raw_maps.iter().enumerate() {
        let weights = model.linear_head_row(class).unwrap();
        let raw = cam::class_activation(&features, shape[1], weights).unwrap();
        assert_close(&raw, &floats(expected), 1e-4, &format!("cam_raw[{class}]"));
        let mut normalised = raw.clone();
        cam::normalise(&mut normalised);
        let expected = &golden["cam_normalised"][class];
        assert_close(
            &normalised,
            &floats(expected),
            1e-4,
            &format!("cam_normalised[{class}]"),
        );
    }
}

#[test]
fn cam_equals_finite_difference_grad_cam() {
    let golden = golden();
    let model = common::open("fixture-tiny.onnx");
    let output = model.forward(floats(&golden["input"]), 1, true).unwrap();
    let (shape, features) = output.features.unwrap();
    let class = golden["gradcam_fd_class"].as_u64().unwrap() as usize;
    let raw =
        cam::class_activation(&features, shape[1], model.linear_head_row(class).unwrap()).unwrap();
    // Grad-CAM weights are w_ck / (h·w): the same map up to a positive factor.
    let plane = (shape[2] * shape[3]) as f32;
    let grad_cam: Vec<f32> = floats(&golden["gradcam_fd_raw"])
        .iter()
        .map(|v| v * plane)
        .collect();
    assert_close(&raw, &grad_cam, 1e-3, "grad-cam");
    let (mut a, mut b) = (raw, grad_cam);
    cam::normalise(&mut a);
    cam::normalise(&mut b);
    assert_close(&a, &b, 1e-3, "normalised grad-cam");
}

fn gradient_image(width: usize, height: usize) -> Vec<u8> {
    (0..width * height)
        .map(|i| {
            let (x, y) = (i % width, i / width);
            ((x * 255 / width + (y / 8 % 2) * 60) % 256) as u8
        })
        .collect()
}

#[test]
fn classify_gives_probabilities_and_a_cam_over_the_region() {
    let model = common::open("fixture-tiny.onnx");
    let pixels = gradient_image(300, 200);
    let view = ImageView::new(300, 200, Pixels::Gray8(&pixels)).unwrap();
    let result = model.classify(&view, CamTarget::Predicted).unwrap();
    let total: f32 = result.probabilities.iter().sum();
    assert!((total - 1.0).abs() < 1e-5);
    let cam = result.cam.unwrap();
    assert_eq!(cam.class_index, result.class_index);
    assert_eq!(
        (cam.width, cam.height),
        (result.region.width, result.region.height)
    );
    assert_eq!(cam.data.len(), cam.width * cam.height);
    assert!(cam.data.iter().all(|v| (0.0..=1.0).contains(v)));

    let other = model.classify(&view, CamTarget::Class(0)).unwrap();
    assert_eq!(other.cam.unwrap().class_index, 0);
    assert_eq!(other.probabilities, result.probabilities);
    assert!(model
        .classify(&view, CamTarget::None)
        .unwrap()
        .cam
        .is_none());
    let err = model.classify(&view, CamTarget::Class(3)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn every_bit_depth_classifies() {
    let model = common::open("fixture-tiny.onnx");
    let (w, h) = (96, 80);
    let gray8 = gradient_image(w, h);
    let gray16: Vec<u16> = gray8.iter().map(|&v| v as u16 * 16 + 100).collect();
    let gray32: Vec<f32> = gray8.iter().map(|&v| v as f32 / 3.0 - 7.0).collect();
    let rgb: Vec<u32> = gray8.iter().map(|&v| u32::from(v) * 0x010101).collect();
    let reference = model
        .classify(
            &ImageView::new(w, h, Pixels::Gray8(&gray8)).unwrap(),
            CamTarget::Predicted,
        )
        .unwrap();
    for pixels in [
        Pixels::Gray16(&gray16),
        Pixels::Gray32(&gray32),
        Pixels::PackedRgb(&rgb),
    ] {
        let view = ImageView::new(w, h, pixels).unwrap();
        let result = model.classify(&view, CamTarget::Predicted).unwrap();
        assert_eq!(
            result.class_index,
            reference.class_index,
            "{}-bit",
            pixels.bit_depth()
        );
        let total: f32 = result.probabilities.iter().sum();
        assert!((total - 1.0).abs() < 1e-5);
    }
}

#[test]
fn model_without_features_classifies_but_explains_why_there_is_no_cam() {
    let model = common::open("fixture-no-features.onnx");
    let reason = model.info().cam_unavailable.clone().unwrap();
    assert!(reason.contains("features"), "{reason}");
    let pixels = gradient_image(64, 64);
    let view = ImageView::new(64, 64, Pixels::Gray8(&pixels)).unwrap();
    assert!(model.classify(&view, CamTarget::None).is_ok());
    let err = model.classify(&view, CamTarget::Predicted).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Model);
    assert!(err.to_string().contains("features"), "{err}");
}

#[test]
fn non_onnx_files_are_model_errors() {
    let dir = std::env::temp_dir().join(format!("vccc-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let options = ModelOptions {
        threads: 1,
        runtime: common::runtime_config(),
    };
    for (name, bytes) in [
        ("text.onnx", b"not a model".as_slice()),
        ("empty.onnx", b""),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = Model::open(&path, &options).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Model, "{name}: {err}");
        assert!(err.to_string().contains(name), "{err}");
    }
    let err = Model::open(&dir.join("missing.onnx"), &options).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    std::fs::remove_dir_all(dir).unwrap();
}
