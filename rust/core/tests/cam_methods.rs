//! Score-CAM, Eigen-CAM and occlusion through a real model: shapes, invariants, batching
//! and the typed error for models without `features`.

mod common;

use visual_ccc_core::cam::faithfulness;
use visual_ccc_core::cam::{CamMethod, CamTarget, OcclusionParams, ScoreCamParams};
use visual_ccc_core::image::pixels::{OwnedImage, OwnedPixels};
use visual_ccc_core::{Error, ErrorKind};

/// A bright disc on a dark ground with faint stripes: structure the fixture responds to.
fn blob_image(width: usize, height: usize) -> OwnedImage {
    let data = (0..width * height)
        .map(|i| {
            let (x, y) = ((i % width) as f32, (i / width) as f32);
            let (dx, dy) = (x - width as f32 * 0.35, y - height as f32 * 0.6);
            let disc = if dx * dx + dy * dy < 150.0 {
                180.0
            } else {
                0.0
            };
            (30.0 + disc + 20.0 * ((x / 3.0).sin() > 0.0) as u8 as f32) as u8
        })
        .collect();
    OwnedImage {
        width,
        height,
        pixels: OwnedPixels::Gray8(data),
    }
}

fn methods() -> Vec<CamMethod> {
    vec![
        CamMethod::Cam,
        CamMethod::ScoreCam(ScoreCamParams::default()),
        CamMethod::EigenCam,
        CamMethod::Occlusion(OcclusionParams::default()),
    ]
}

#[test]
fn every_method_gives_a_finite_unit_map_over_the_region() {
    let model = common::open("fixture-tiny.onnx");
    let image = blob_image(90, 70);
    let view = image.view();
    let plain = model.classify(&view, CamTarget::Predicted).unwrap();
    for method in methods() {
        for target in [CamTarget::Predicted, CamTarget::Class(2)] {
            let result = model.classify_with(&view, target, &method).unwrap();
            assert_eq!(result.probabilities, plain.probabilities);
            let cam = result.cam.unwrap();
            let expected_class = match target {
                CamTarget::Class(c) => c,
                _ => plain.class_index,
            };
            assert_eq!(cam.class_index, expected_class, "{}", method.name());
            let region = result.region;
            assert_eq!((cam.width, cam.height), (region.width, region.height));
            assert_eq!(cam.data.len(), region.width * region.height);
            assert!(
                cam.data.iter().all(|v| (0.0..=1.0).contains(v)),
                "{}: values outside [0, 1]",
                method.name()
            );
        }
    }
    // The exact CAM through the method API is the CAM of `classify`.
    let cam = model
        .classify_with(&view, CamTarget::Predicted, &CamMethod::Cam)
        .unwrap();
    assert_eq!(cam.cam, plain.cam);
}

#[test]
fn score_cam_does_not_depend_on_the_batch_size_and_eigen_cam_is_deterministic() {
    let model = common::open("fixture-tiny.onnx");
    let image = blob_image(64, 64);
    let view = image.view();
    let map = |method: CamMethod| {
        model
            .classify_with(&view, CamTarget::Class(1), &method)
            .unwrap()
            .cam
            .unwrap()
            .data
    };
    let one_by_one = map(CamMethod::ScoreCam(ScoreCamParams {
        batch_size: 1,
        top_channels: 0,
    }));
    let batched = map(CamMethod::ScoreCam(ScoreCamParams {
        batch_size: 7,
        top_channels: 0,
    }));
    for (a, b) in one_by_one.iter().zip(&batched) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
    let max = one_by_one.iter().cloned().fold(0.0f32, f32::max);
    assert!(max > 0.5, "map is not normalised: max {max}");
    assert_eq!(map(CamMethod::EigenCam), map(CamMethod::EigenCam));

    let occlusion = |batch_size| {
        map(CamMethod::Occlusion(OcclusionParams {
            patch: 16,
            stride: 8,
            baseline: 0.0,
            batch_size,
        }))
    };
    let (a, b) = (occlusion(1), occlusion(16));
    assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-5));
}

#[test]
fn model_without_features_offers_occlusion_only_and_says_so() {
    let model = common::open("fixture-no-features.onnx");
    let image = blob_image(64, 64);
    let view = image.view();
    for method in methods() {
        let result = model.classify_with(&view, CamTarget::Predicted, &method);
        if method.needs_features() {
            let err = result.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Model);
            assert!(
                matches!(err, Error::CamUnavailable { method: name, .. } if name == method.name()),
                "{err:?}"
            );
            let message = err.to_string();
            assert!(
                message.contains("features") && message.contains("occlusion"),
                "{message}"
            );
        } else {
            let result = result.unwrap();
            let cam = result.cam.unwrap();
            assert_eq!(cam.data.len(), result.region.width * result.region.height);
            assert!(cam.data.iter().all(|v| (0.0..=1.0).contains(v)));
        }
    }
}

#[test]
fn bad_method_parameters_are_invalid_arguments() {
    let model = common::open("fixture-tiny.onnx");
    let image = blob_image(64, 64);
    let view = image.view();
    for method in [
        CamMethod::Occlusion(OcclusionParams {
            patch: 65,
            ..Default::default()
        }),
        CamMethod::ScoreCam(ScoreCamParams {
            batch_size: 0,
            top_channels: 4,
        }),
    ] {
        let err = model
            .classify_with(&view, CamTarget::Predicted, &method)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    }
    assert!(CamMethod::parse("lime").is_err());
    for name in CamMethod::NAMES {
        assert_eq!(CamMethod::parse(name).unwrap().name(), name);
    }
}

#[test]
fn faithfulness_curves_through_the_model() {
    let model = common::open("fixture-tiny.onnx");
    let image = blob_image(64, 64);
    let view = image.view();
    let prepared = model.prepare(&view).unwrap();
    let output = model.forward(prepared.data.clone(), 1, true).unwrap();
    let class = 2;
    let map = model
        .raw_map(&prepared.data, &output, class, &CamMethod::Cam)
        .unwrap();
    let saliency =
        visual_ccc_core::image::resample::upsample(&map.data, map.width, map.height, 64, 64);
    let curves = faithfulness::curves(
        &prepared.data,
        64,
        &saliency,
        8,
        0,
        32,
        &mut model.class_scorer(class),
    )
    .unwrap();
    assert_eq!((curves.deletion.len(), curves.insertion.len()), (9, 9));
    let p = visual_ccc_core::model::softmax(&output.logits)[class];
    assert!((curves.deletion[0] - p).abs() < 1e-5);
    assert!((curves.insertion[8] - p).abs() < 1e-5);
    for auc in [curves.deletion_auc(), curves.insertion_auc()] {
        assert!((0.0..=1.0).contains(&auc));
    }
}

#[test]
fn a_model_with_a_fixed_batch_of_one_gives_the_same_maps() {
    let dynamic = common::open("fixture-tiny.onnx");
    let fixed = common::open("fixture-fixed-batch.onnx");
    let image = blob_image(64, 64);
    let view = image.view();
    for method in methods() {
        let map = |model: &visual_ccc_core::model::Model| {
            model
                .classify_with(&view, CamTarget::Predicted, &method)
                .unwrap()
                .cam
                .unwrap()
                .data
        };
        let (a, b) = (map(&dynamic), map(&fixed));
        assert!(
            a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-5),
            "{}",
            method.name()
        );
    }
}
