//! `visual-ccc cam-eval` end to end on a few generated images and the fixture models.

mod common;

use std::process::Command;

use common::{repo, Scratch};

fn cam_eval(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_visual-ccc"))
        .arg("cam-eval")
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn synth(dir: &Scratch) {
    for class in ["dendrite", "spheroid"] {
        let status = Command::new(env!("CARGO_BIN_EXE_visual-ccc"))
            .args(["synth", "--class", class, "--width", "80", "--out"])
            .arg(dir.path(&format!("{class}.png")))
            .status()
            .unwrap();
        assert!(status.success());
    }
}

/// A scratch folder `name` holding the synthetic images, and the path of the fixture
/// model `model`.
fn images_and_model(name: &str, model: &str) -> (Scratch, String) {
    let dir = Scratch::new(name);
    synth(&dir);
    let model = repo().join("tests/fixtures/models").join(model);
    (dir, model.display().to_string())
}

#[test]
fn every_method_and_the_random_baseline_get_areas_and_times() {
    let (dir, model) = images_and_model("cam-eval", "fixture-tiny.onnx");
    let (model, folder) = (model.as_str(), dir.0.to_str().unwrap());
    let (code, stdout, stderr) =
        cam_eval(&["--model", model, "--steps", "8", "--format", "json", folder]);
    assert_eq!(code, 0, "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["images"], 2);
    let rows = summary["methods"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["method"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["cam", "score-cam", "eigen-cam", "occlusion", "random"]
    );
    for row in rows {
        for key in ["deletion_auc", "insertion_auc"] {
            let auc = row[key].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&auc), "{row}");
        }
    }
    let methods = "cam,occlusion";
    let (code, stdout, _) = cam_eval(&[
        "--model",
        model,
        "--methods",
        methods,
        "--steps",
        "4",
        folder,
    ]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("| occlusion |") && stdout.contains("| random |"),
        "{stdout}"
    );
    assert!(!stdout.contains("eigen-cam"), "{stdout}");
}

#[test]
fn features_methods_are_refused_for_a_model_without_features() {
    let (dir, model) = images_and_model("cam-eval-nofeatures", "fixture-no-features.onnx");
    let (model, folder) = (model.as_str(), dir.0.to_str().unwrap());
    let (code, _, stderr) = cam_eval(&["--model", model, "--methods", "score-cam", folder]);
    assert_eq!(code, 2);
    assert!(stderr.contains("occlusion"), "{stderr}");
    // By default it evaluates what the model supports.
    let (code, stdout, stderr) = cam_eval(&["--model", model, "--steps", "4", folder]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("| occlusion |") && !stdout.contains("| cam |"));
}
