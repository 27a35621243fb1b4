//! Training a classifier on synthetic images of three classes: cross-validation is
//! reported, held-out images are classified correctly, the trained model's CAM equals a
//! finite-difference Grad-CAM, and the same inputs give byte-identical models.

mod common;

use std::path::{Path, PathBuf};

use visual_ccc_core::cam::{self, CamTarget};
use visual_ccc_core::model::tiling::{classify_whole, TilingOptions, ViewRows};
use visual_ccc_core::model::{features_to_logits, Model, ModelOptions};
use visual_ccc_core::synth::{self, SynthClass, SynthParams};
use visual_ccc_core::train::{self, folder_dataset, TrainParams};
use visual_ccc_core::ErrorKind;

const CLASSES: [SynthClass; 3] = [
    SynthClass::Dendrite,
    SynthClass::Spheroid,
    SynthClass::Lamellar,
];
const SIDE: usize = 400;

fn options() -> ModelOptions {
    ModelOptions {
        threads: 1,
        runtime: common::runtime_config(),
    }
}

fn base() -> PathBuf {
    common::repo_root().join("models/morphology.onnx")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vccc-train-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `count` images per class with seeds from `first_seed`, one folder per class.
fn synthetic_folders(dir: &Path, count: u64, first_seed: u64) {
    for class in CLASSES {
        let folder = dir.join(class.name());
        std::fs::create_dir_all(&folder).unwrap();
        for seed in first_seed..first_seed + count {
            let image = synth::generate(&SynthParams::new(class, SIDE, SIDE, seed)).unwrap();
            synth::save_gray8(&image, &folder.join(format!("{seed}.png"))).unwrap();
        }
    }
}

fn params() -> TrainParams {
    TrainParams {
        date: Some("2026-01-01".into()),
        augment: true,
        ..TrainParams::default()
    }
}

#[test]
fn trains_a_contract_model_that_classifies_explains_and_reproduces() {
    let dir = scratch("synthetic");
    // Six images per class: the generators now draw several looks per class (TEM and SEM
    // spheroids, carbide networks around pearlite), which four seeds did not all cover.
    synthetic_folders(&dir.join("train"), 6, 0);
    let dataset = folder_dataset(&dir.join("train")).unwrap();
    assert_eq!(dataset.classes, ["dendrite", "lamellar", "spheroid"]);
    let trained = train::train(&base(), &dataset, &params(), &options(), &mut |_, _| true).unwrap();
    let report = &trained.report;
    assert_eq!(report.image_counts, [6, 6, 6]);
    let cv = report.cross_validation.as_ref().expect("cross-validation");
    assert_eq!(cv.folds, 5);
    assert_eq!(cv.confusion.iter().flatten().sum::<usize>(), 18);
    assert!(
        cv.accuracy >= 0.75,
        "cross-validated accuracy {}",
        cv.accuracy
    );

    // Byte-identical when trained again, on any number of threads.
    let two_threads = ModelOptions {
        threads: 2,
        ..options()
    };
    let again = train::train(&base(), &dataset, &params(), &two_threads, &mut |_, _| true).unwrap();
    assert!(trained.bytes == again.bytes, "two trainings differ");

    let path = dir.join("synthetic.onnx");
    train::save_model(&trained.bytes, &path).unwrap();
    let model = Model::open(&path, &options()).unwrap();
    assert_eq!(model.info().classes, dataset.classes);
    assert!(model.info().has_cam());

    // Held-out images (other seeds) are classified correctly, with a stitched CAM.
    for (class_index, class) in dataset.classes.iter().enumerate() {
        let synth_class: SynthClass = class.parse().unwrap();
        for seed in 100..103 {
            let image = synth::generate(&SynthParams::new(synth_class, SIDE, SIDE, seed)).unwrap();
            let mut rows = ViewRows::new(image.view()).unwrap();
            let result = classify_whole(
                &model,
                &mut rows,
                &TilingOptions {
                    cam: CamTarget::Predicted,
                    ..TilingOptions::default()
                },
            )
            .unwrap();
            assert_eq!(
                result.class_index, class_index,
                "{class} seed {seed}: {result:?}"
            );
            assert!(result.map.is_some());
        }
    }
    cam_equals_finite_difference_grad_cam(&model, &trained.bytes);
}

/// With the base's own class names the head is a correction of the base, fitted with
/// the base's replay prototypes: it is reported as such, reproduces byte for byte,
/// classifies held-out images and keeps an exact CAM.
#[test]
fn a_residual_head_over_the_base_classes_classifies_explains_and_reproduces() {
    let dir = scratch("residual");
    let named = [
        ("alloy", SynthClass::Lamellar),
        ("dendrite", SynthClass::Dendrite),
        ("spheroid", SynthClass::Spheroid),
    ];
    for (name, class) in named {
        let folder = dir.join("train").join(name);
        std::fs::create_dir_all(&folder).unwrap();
        for seed in 0..3 {
            let image = synth::generate(&SynthParams::new(class, SIDE, SIDE, seed)).unwrap();
            synth::save_gray8(&image, &folder.join(format!("{seed}.png"))).unwrap();
        }
    }
    let dataset = folder_dataset(&dir.join("train")).unwrap();
    let params = TrainParams {
        date: Some("2026-01-01".into()),
        ..TrainParams::default()
    };
    let trained = train::train(&base(), &dataset, &params, &options(), &mut |_, _| true).unwrap();
    let report = &trained.report;
    assert!(report.residual);
    assert!(
        report.replay_prototypes > 0,
        "the shipped base has a replay set"
    );
    assert!(report.cross_validation.is_some());
    let again = train::train(&base(), &dataset, &params, &options(), &mut |_, _| true).unwrap();
    assert!(trained.bytes == again.bytes, "two trainings differ");

    let path = dir.join("residual.onnx");
    train::save_model(&trained.bytes, &path).unwrap();
    let model = Model::open(&path, &options()).unwrap();
    for (class_index, (name, class)) in named.iter().enumerate() {
        let image = synth::generate(&SynthParams::new(*class, SIDE, SIDE, 100)).unwrap();
        let mut rows = ViewRows::new(image.view()).unwrap();
        let result = classify_whole(&model, &mut rows, &TilingOptions::default()).unwrap();
        assert_eq!(result.class_index, class_index, "{name}: {result:?}");
    }
    cam_equals_finite_difference_grad_cam(&model, &trained.bytes);

    // Without the residual form the head is fitted from scratch, as for new classes.
    let scratch_params = TrainParams {
        residual: false,
        ..params
    };
    let plain = train::train(
        &base(),
        &dataset,
        &scratch_params,
        &options(),
        &mut |_, _| true,
    )
    .unwrap();
    assert!(!plain.report.residual);
    assert_eq!(plain.report.replay_prototypes, 0);
}

/// Grad-CAM from central differences of `logits` with respect to each feature value,
/// through the trained model's own pooling and head, equals the exact CAM.
fn cam_equals_finite_difference_grad_cam(model: &Model, bytes: &[u8]) {
    let size = model.info().input_size;
    let image = synth::generate(&SynthParams::new(SynthClass::Dendrite, size, size, 7)).unwrap();
    let output = model.forward(image.data.clone(), 1, true).unwrap();
    let (shape, features) = output.features.unwrap();
    let (channels, plane) = (shape[1], shape[2] * shape[3]);

    let head = features_to_logits(bytes).unwrap();
    visual_ccc_core::model::runtime::ensure_initialised(&options().runtime).unwrap();
    let mut session = ort::session::Session::builder()
        .unwrap()
        .commit_from_memory(&head)
        .unwrap();
    let step = 1e-2f32;
    let count = features.len();
    let classes = model.info().classes.len();
    // logits[2i] and logits[2i + 1]: feature value i raised and lowered by `step`.
    let mut logits = Vec::with_capacity(2 * count * classes);
    for first in (0..count).step_by(128) {
        let indices = first..(first + 128).min(count);
        let mut batch = Vec::with_capacity(2 * indices.len() * count);
        for i in indices.clone() {
            for sign in [1.0, -1.0] {
                let mut perturbed = features.clone();
                perturbed[i] += sign * step;
                batch.extend(perturbed);
            }
        }
        let shape = [2 * indices.len(), channels, shape[2], shape[3]];
        let input = ort::value::Tensor::from_array((shape, batch)).unwrap();
        let outputs = session.run(ort::inputs!["features" => input]).unwrap();
        let (_, values) = outputs["logits"].try_extract_tensor::<f32>().unwrap();
        logits.extend_from_slice(values);
    }
    for class in 0..classes {
        // Grad-CAM: channel weights are the mean gradient over the map.
        let gradient: Vec<f32> = (0..count)
            .map(|i| {
                (logits[2 * i * classes + class] - logits[(2 * i + 1) * classes + class])
                    / (2.0 * step)
            })
            .collect();
        let alphas: Vec<f32> = gradient
            .chunks_exact(plane)
            .map(|g| g.iter().sum::<f32>() / plane as f32)
            .collect();
        let mut grad_cam: Vec<f32> = (0..plane)
            .map(|p| {
                (0..channels)
                    .map(|k| alphas[k] * features[k * plane + p])
                    .sum::<f32>()
                    .max(0.0)
            })
            .collect();
        let mut exact =
            cam::class_activation(&features, channels, model.linear_head_row(class).unwrap())
                .unwrap();
        cam::normalise(&mut grad_cam);
        cam::normalise(&mut exact);
        for (a, b) in exact.iter().zip(&grad_cam) {
            assert!(
                (a - b).abs() < 2e-2,
                "class {class}: CAM {a} vs Grad-CAM {b}"
            );
        }
    }
}

#[test]
fn bad_datasets_are_refused_with_the_reason() {
    let dir = scratch("bad");
    // One class only.
    synthetic_folders(&dir.join("one"), 2, 0);
    for class in ["lamellar", "spheroid"] {
        std::fs::remove_dir_all(dir.join("one").join(class)).unwrap();
    }
    let err = folder_dataset(&dir.join("one")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("at least two classes"), "{err}");

    // An empty class.
    synthetic_folders(&dir.join("empty"), 2, 0);
    for file in std::fs::read_dir(dir.join("empty/spheroid")).unwrap() {
        std::fs::remove_file(file.unwrap().path()).unwrap();
    }
    let err = folder_dataset(&dir.join("empty")).unwrap_err();
    assert!(
        err.to_string().contains("class 'spheroid' has no images"),
        "{err}"
    );

    // A class whose only image is unreadable.
    let broken = dir.join("broken");
    synthetic_folders(&broken, 2, 0);
    for file in std::fs::read_dir(broken.join("spheroid")).unwrap() {
        std::fs::write(file.unwrap().path(), b"not a png").unwrap();
    }
    let dataset = folder_dataset(&broken).unwrap();
    let err = train::train(&base(), &dataset, &params(), &options(), &mut |_, _| true).unwrap_err();
    assert!(
        err.to_string()
            .contains("class 'spheroid' has no readable image"),
        "{err}"
    );

    // Not writable: a folder, or a folder that does not exist.
    assert!(train::check_writable(&dir).is_err());
    assert!(train::check_writable(&dir.join("missing/model.onnx")).is_err());
    assert!(train::check_writable(&dir.join("model.onnx")).is_ok());
    assert!(!dir.join(".model.onnx.partial").exists());

    // One image per class: trained, but cross-validation is impossible and says why.
    synthetic_folders(&dir.join("single"), 1, 0);
    let dataset = folder_dataset(&dir.join("single")).unwrap();
    let trained = train::train(&base(), &dataset, &params(), &options(), &mut |_, _| true).unwrap();
    assert!(trained.report.cross_validation.is_none());
    let reason = trained.report.cross_validation_unavailable.unwrap();
    assert!(reason.contains("only one image"), "{reason}");

    // Cancelled from the progress callback.
    let err = train::train(&base(), &dataset, &params(), &options(), &mut |done, _| {
        done < 2
    })
    .unwrap_err();
    assert!(err.to_string().contains("cancelled"), "{err}");
}
