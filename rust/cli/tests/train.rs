//! `visual-ccc train`: folders of synthetic images → a model `classify --model` uses;
//! every bad input gets a clear message and a non-zero exit, with nothing written.

mod common;

use std::process::{Command, Output};

use common::Scratch;

fn visual_ccc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_visual-ccc"))
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1796515200")
        .output()
        .expect("visual-ccc runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `count` 400×400 images of each class into `dir/<class>/`.
fn synth(dir: &str, classes: &[&str], count: &str, seed: &str) {
    for class in classes {
        let out = format!("{dir}/{class}/");
        let done = visual_ccc(&[
            "synth", "--class", class, "--count", count, "--seed", seed, "--width", "400", "--out",
            &out,
        ]);
        assert!(done.status.success(), "{}", text(&done.stderr));
    }
}

#[test]
fn trains_from_folders_then_classifies_with_the_new_model() {
    let scratch = Scratch::new("train");
    let data = scratch.path("data");
    synth(&data, &["dendrite", "lamellar", "spheroid"], "3", "0");
    std::fs::create_dir_all(format!("{data}/spheroid/nested")).unwrap();
    let made = visual_ccc(&[
        "synth",
        "--class",
        "spheroid",
        "--seed",
        "9",
        "--width",
        "400",
        "--format",
        "tiff",
        "--out",
        &format!("{data}/spheroid/nested/"),
    ]);
    assert!(made.status.success());
    std::fs::write(format!("{data}/lamellar/broken.png"), b"not a png").unwrap();
    let model = scratch.path("mine.onnx");
    let run = visual_ccc(&["train", &data, "--out", &model, "--seed", "3"]);
    // A skipped file is reported and gives exit code 1, but the model is written.
    assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(
        report["classes"],
        serde_json::json!(["dendrite", "lamellar", "spheroid"])
    );
    assert_eq!(report["image_counts"], serde_json::json!([3, 3, 4]));
    assert_eq!(report["skipped"][0]["file"], "lamellar/broken.png");
    assert!(report["cross_validation"]["accuracy"].as_f64().unwrap() >= 0.6);
    assert_eq!(
        report["cross_validation"]["confusion"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    for stage in ["features", "cross_validation", "fit", "write"] {
        assert!(report["seconds"][stage].is_number(), "{stage}");
    }
    assert!(text(&run.stderr).contains("skipped lamellar/broken.png"));
    assert!(std::path::Path::new(&scratch.path("mine.md")).is_file());

    // Same inputs (the model's name included), same bytes.
    std::fs::create_dir_all(scratch.path("again")).unwrap();
    let again = scratch.path("again/mine.onnx");
    visual_ccc(&["train", &data, "--out", &again, "--seed", "3"]);
    assert!(std::fs::read(&model).unwrap() == std::fs::read(&again).unwrap());

    synth(
        &scratch.path("held-out"),
        &["dendrite", "lamellar", "spheroid"],
        "1",
        "77",
    );
    for class in ["dendrite", "lamellar", "spheroid"] {
        let image = format!("{}/{class}/{class}_77.png", scratch.path("held-out"));
        let classified = visual_ccc(&["classify", "--model", &model, &image]);
        assert!(classified.status.success(), "{}", text(&classified.stderr));
        let line: serde_json::Value = serde_json::from_slice(&classified.stdout).unwrap();
        assert_eq!(line["class"], class, "{line}");
        assert_eq!(line["model_kind"], "trained");
    }
}

#[test]
fn bad_input_is_refused_with_a_clear_message_and_nothing_written() {
    let scratch = Scratch::new("train-bad");
    let model = scratch.path("out.onnx");
    // Exit codes: 1 bad input, 2 unusable model, 3 bad command line.
    let refused = |args: &[&str], code: i32, expect: &str| {
        let run = visual_ccc(args);
        assert_eq!(
            run.status.code(),
            Some(code),
            "{args:?}: {}",
            text(&run.stderr)
        );
        assert!(
            text(&run.stderr).contains(expect),
            "{args:?}: {}",
            text(&run.stderr)
        );
        assert!(!std::path::Path::new(&model).exists());
    };
    let one = scratch.path("one");
    synth(&one, &["dendrite"], "2", "0");
    refused(
        &["train", &one, "--out", &model],
        1,
        "at least two classes, found 1 ('dendrite')",
    );

    let empty = scratch.path("empty");
    synth(&empty, &["dendrite"], "2", "0");
    std::fs::create_dir_all(format!("{empty}/spheroid")).unwrap();
    refused(
        &["train", &empty, "--out", &model],
        1,
        "class 'spheroid' has no images",
    );

    refused(
        &["train", &scratch.path("missing"), "--out", &model],
        1,
        "missing",
    );
    refused(&["train", &empty], 3, "--out is required");
    synth(&empty, &["spheroid"], "1", "0");
    let unwritable = scratch.path("no/such/folder/out.onnx");
    refused(
        &["train", &empty, "--out", &unwritable],
        1,
        "cannot write the model",
    );
    refused(
        &[
            "train",
            &empty,
            "--out",
            &model,
            "--base",
            &scratch.path("nothing.onnx"),
        ],
        2,
        "neither a file nor an installed model",
    );

    // One image in a class: trained, but no cross-validation, said on stderr, exit 1.
    let single = visual_ccc(&["train", &empty, "--out", &model]);
    assert_eq!(single.status.code(), Some(1));
    assert!(
        text(&single.stderr).contains("only one image"),
        "{}",
        text(&single.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&single.stdout).unwrap();
    assert!(report["cross_validation"].is_null());
    assert!(std::path::Path::new(&model).is_file());
}
