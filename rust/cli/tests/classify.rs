//! `visual-ccc classify` end to end: JSON Lines out, bad files reported, others go on.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{repo, write_float_tiff};

fn fixture() -> PathBuf {
    repo().join("tests/fixtures/models/fixture-tiny.onnx")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vccc-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_png(path: &Path, width: u32, height: u32) {
    image::GrayImage::from_fn(width, height, |x, y| {
        image::Luma([((x * 3 + y * 5) % 256) as u8])
    })
    .save(path)
    .unwrap();
}

fn classify(args: &[&str]) -> (i32, Vec<serde_json::Value>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_visual-ccc"))
        .arg("classify")
        .args(args)
        .output()
        .unwrap();
    let lines = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    (
        output.status.code().unwrap(),
        lines,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn good_and_bad_files_each_get_a_line() {
    let dir = scratch("mixed");
    let good = dir.join("good.png");
    write_png(&good, 120, 90);
    let bytes = std::fs::read(&good).unwrap();
    let files = [
        ("empty.png", Vec::new()),
        ("truncated.png", bytes[..bytes.len() / 2].to_vec()),
        ("text.tif", b"this is text".to_vec()),
    ];
    for (name, content) in &files {
        std::fs::write(dir.join(name), content).unwrap();
    }
    let tiny = dir.join("tiny.png");
    write_png(&tiny, 1, 1);
    let heatmaps = dir.join("heatmaps");
    let paths: Vec<String> = std::iter::once(good.clone())
        .chain(files.iter().map(|(name, _)| dir.join(name)))
        .chain([tiny])
        .map(|p| p.display().to_string())
        .collect();
    let model = fixture();
    let mut args = vec!["--model", model.to_str().unwrap()];
    args.extend(["--heatmap-dir", heatmaps.to_str().unwrap()]);
    args.extend(paths.iter().map(String::as_str));
    let (code, lines, stderr) = classify(&args);

    assert_eq!(code, 1, "some inputs failed");
    assert!(stderr.contains("untrained test fixture"), "{stderr}");
    assert_eq!(lines.len(), 5);
    let first = &lines[0];
    assert_eq!(first["file"], paths[0]);
    let total: f64 = first["probabilities"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_f64().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-5);
    assert!(first["class"].is_string());
    assert!(heatmaps.join("good-cam.tif").is_file());
    assert!(heatmaps.join("good-cam.png").is_file());
    for (line, expected) in lines[1..].iter().zip([
        "empty",
        "corrupt or truncated",
        "not a recognised image format",
        "too small",
    ]) {
        let error = line["error"].as_str().expect("error line");
        assert!(error.contains(expected), "{error}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn all_good_files_exit_zero() {
    let dir = scratch("good");
    let good = dir.join("a.png");
    write_png(&good, 64, 64);
    let model = fixture();
    let (code, lines, _) = classify(&["--model", model.to_str().unwrap(), good.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(lines.len(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn setup_errors_are_reported_without_output() {
    let (code, lines, stderr) = classify(&["--model", "no-such-model", "x.png"]);
    assert_eq!(code, 2);
    assert!(lines.is_empty());
    assert!(stderr.contains("no-such-model"), "{stderr}");

    let model = fixture();
    let (code, _, stderr) = classify(&[
        "--model",
        model.to_str().unwrap(),
        "--onnxruntime",
        "/nonexistent/libonnxruntime.so",
        "x.png",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("/nonexistent/libonnxruntime.so"),
        "{stderr}"
    );

    let not_a_model = repo().join("Cargo.toml");
    let (code, _, stderr) = classify(&["--model", not_a_model.to_str().unwrap(), "x.png"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("model error"), "{stderr}");

    let (code, _, stderr) = classify(&["--bogus", "1", "x.png"]);
    assert_eq!(code, 3);
    assert!(stderr.contains("--bogus"), "{stderr}");
}

#[test]
fn bit_depths_and_non_finite_pixels() {
    let dir = scratch("depths");
    let (w, h) = (80u32, 60u32);
    let gray16 = image::ImageBuffer::<image::Luma<u16>, _>::from_fn(w, h, |x, y| {
        image::Luma([(x * 700 + y * 90) as u16])
    });
    gray16.save(dir.join("gray16.png")).unwrap();
    let rgb = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 90]));
    rgb.save(dir.join("rgb.png")).unwrap();
    let mut values: Vec<f32> = (0..w * h).map(|i| i as f32 * 0.25).collect();
    write_float_tiff(&dir.join("float.tif"), w, h, &values);
    values[5] = f32::NAN;
    values[17] = f32::INFINITY;
    values[99] = f32::NEG_INFINITY;
    write_float_tiff(&dir.join("nan.tif"), w, h, &values);

    let model = fixture();
    let names = ["gray16.png", "rgb.png", "float.tif", "nan.tif"];
    let paths: Vec<String> = names
        .iter()
        .map(|n| dir.join(n).display().to_string())
        .collect();
    let mut args = vec!["--model", model.to_str().unwrap()];
    args.extend(paths.iter().map(String::as_str));
    let (code, lines, _) = classify(&args);
    assert_eq!(code, 1);
    for line in &lines[..3] {
        assert!(line["class"].is_string(), "{line}");
    }
    let error = lines[3]["error"].as_str().unwrap();
    assert!(error.contains("1 NaN and 2 infinite"), "{error}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn model_without_features_classifies_but_refuses_heatmaps_up_front() {
    let dir = scratch("nofeatures");
    let image = dir.join("a.png");
    write_png(&image, 64, 64);
    let model = repo().join("tests/fixtures/models/fixture-no-features.onnx");
    let (model, image) = (model.to_str().unwrap(), image.to_str().unwrap());
    let (code, lines, _) = classify(&["--model", model, image]);
    assert_eq!(code, 0);
    assert!(lines[0]["class"].is_string());
    let heatmaps = dir.join("heatmaps");
    let (code, lines, stderr) = classify(&[
        "--model",
        model,
        "--heatmap-dir",
        heatmaps.to_str().unwrap(),
        image,
    ]);
    assert_eq!(code, 2);
    assert!(lines.is_empty());
    assert!(stderr.contains("features"), "{stderr}");
    assert!(stderr.contains("occlusion"), "{stderr}");
    // Occlusion needs only the logits.
    let (code, lines, stderr) = classify(&[
        "--model",
        model,
        "--heatmap-dir",
        heatmaps.to_str().unwrap(),
        "--cam-method",
        "occlusion",
        image,
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(lines[0]["cam_method"], "occlusion");
    assert!(heatmaps.join("a-cam.tif").is_file());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn cam_methods_are_chosen_by_name() {
    let dir = scratch("methods");
    let image = dir.join("a.png");
    write_png(&image, 64, 64);
    let heatmaps = dir.join("heatmaps");
    let (fixture, image, heatmaps) = (
        fixture(),
        image.to_str().unwrap().to_string(),
        heatmaps.to_str().unwrap().to_string(),
    );
    let fixture = fixture.to_str().unwrap();
    for method in ["score-cam", "eigen-cam"] {
        let (code, lines, stderr) = classify(&[
            "--model",
            fixture,
            "--heatmap-dir",
            &heatmaps,
            "--cam-method",
            method,
            "--cam-class",
            "dendrite",
            &image,
        ]);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(lines[0]["cam_method"], method);
        assert_eq!(lines[0]["cam_class"], "dendrite");
    }
    let (code, _, stderr) = classify(&["--model", fixture, "--cam-method", "lime", &image]);
    assert_eq!(code, 3);
    assert!(stderr.contains("score-cam"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn whole_mode_is_the_default_and_writes_tile_maps() {
    let dir = scratch("whole");
    let image = dir.join("wide.png");
    write_png(&image, 200, 100);
    let model = fixture();
    let (model, image_arg) = (model.to_str().unwrap(), image.to_str().unwrap());
    let heatmaps = dir.join("maps");
    let (code, lines, _) = classify(&[
        "--model",
        model,
        "--overlap",
        "0",
        "--heatmap-dir",
        heatmaps.to_str().unwrap(),
        image_arg,
    ]);
    assert_eq!(code, 0);
    let line = &lines[0];
    assert_eq!(line["mode"], "whole");
    assert_eq!(line["tiles"]["count"], 8);
    assert_eq!(line["tiles"]["columns"], 4);
    for name in ["wide-cam.tif", "wide-cam.png", "wide-tiles.tif"] {
        assert!(heatmaps.join(name).is_file(), "{name}");
    }
    let csv = std::fs::read_to_string(heatmaps.join("wide-tiles.csv")).unwrap();
    assert_eq!(csv.lines().count(), 9);
    assert!(csv.starts_with("x,y,width,height,class,alloy,dendrite,spheroid"));

    let (code, lines, _) = classify(&["--model", model, "--mode", "center-crop", image_arg]);
    assert_eq!(code, 0);
    assert_eq!(lines[0]["mode"], "center-crop");
    assert!(lines[0]["region"]["width"].is_number());

    for (args, expected) in [
        (vec!["--overlap", "64"], "--overlap"),
        (vec!["--mode", "sideways"], "unknown mode"),
        (vec!["--mode", "center-crop", "--overlap", "3"], "--overlap"),
        (vec!["--batch", "0"], "--batch"),
    ] {
        let mut all = vec!["--model", model];
        all.extend(args);
        all.push(image_arg);
        let (code, _, stderr) = classify(&all);
        assert_eq!(code, 3, "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn streamed_tiff_and_decoded_png_agree() {
    let dir = scratch("stream");
    let pixels = image::GrayImage::from_fn(150, 110, |x, y| {
        image::Luma([((x * 7 + y * 3) % 256) as u8])
    });
    let (png, tif) = (dir.join("a.png"), dir.join("a.tif"));
    pixels.save(&png).unwrap();
    pixels.save(&tif).unwrap();
    let model = fixture();
    let (code, lines, _) = classify(&[
        "--model",
        model.to_str().unwrap(),
        png.to_str().unwrap(),
        tif.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert_eq!(lines[0]["probabilities"], lines[1]["probabilities"]);
    assert_eq!(lines[0]["tiles"], lines[1]["tiles"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn imported_bioimageio_classifier_classifies_without_a_cam() {
    let dir = scratch("import");
    let models = dir.join("models");
    let package = repo().join("tests/fixtures/bioimageio/tiny-classifier");
    let output = Command::new(env!("CARGO_BIN_EXE_visual-ccc"))
        .args([
            "import-model",
            package.to_str().unwrap(),
            "--out",
            models.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["input_size"], 48);
    let model = models.join("tiny-classifier.onnx");
    assert_eq!(summary["model"], model.to_str().unwrap());
    let image = dir.join("a.png");
    write_png(&image, 120, 100);
    let (code, lines, _) = classify(&["--model", model.to_str().unwrap(), image.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(["ferrite", "pearlite", "martensite"].contains(&lines[0]["class"].as_str().unwrap()));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn tile_size_resamples_tiles_and_keeps_regions_in_image_pixels() {
    let dir = scratch("tile-size");
    // Every 2×2 block is one grey value, so shrinking 2× by area averaging is exact.
    let value = |x: u32, y: u32| image::Luma([((x * 37 + y * 11 + (x * y) % 7 * 20) % 256) as u8]);
    let (full, half) = (dir.join("full.png"), dir.join("half.png"));
    image::GrayImage::from_fn(256, 192, |x, y| value(x / 2, y / 2))
        .save(&full)
        .unwrap();
    image::GrayImage::from_fn(128, 96, value)
        .save(&half)
        .unwrap();
    let tiny = fixture();
    let tile2x = repo().join("tests/fixtures/models/fixture-tile2x.onnx");
    let heatmaps = dir.join("maps");
    let (tiny, tile2x) = (tiny.to_str().unwrap(), tile2x.to_str().unwrap());
    let (full_arg, half_arg) = (full.to_str().unwrap(), half.to_str().unwrap());

    let (code, native, _) = classify(&["--model", tiny, half_arg]);
    assert_eq!(code, 0);
    let (code, by_model, _) = classify(&[
        "--model",
        tile2x,
        "--heatmap-dir",
        heatmaps.to_str().unwrap(),
        full_arg,
    ]);
    assert_eq!(code, 0);
    let (code, by_option, _) = classify(&["--model", tiny, "--tile-size", "128", full_arg]);
    assert_eq!(code, 0);
    for line in [&by_model[0], &by_option[0]] {
        assert_eq!(line["tiles"]["source_size"], 128);
        assert_eq!(line["tiles"]["size"], 64);
        assert_eq!(line["tiles"]["count"], native[0]["tiles"]["count"]);
        assert_eq!(line["class"], native[0]["class"]);
        for (class, p) in line["probabilities"].as_object().unwrap() {
            let q = native[0]["probabilities"][class].as_f64().unwrap();
            assert!((p.as_f64().unwrap() - q).abs() < 1e-4, "{line}");
        }
    }
    assert_eq!(native[0]["tiles"]["source_size"], 64);

    // Tile regions are in the original image's pixels and reach its far corner.
    let csv = std::fs::read_to_string(heatmaps.join("full-tiles.csv")).unwrap();
    let regions: Vec<Vec<usize>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').take(4).map(|v| v.parse().unwrap()).collect())
        .collect();
    assert!(regions.iter().all(|r| r[2] == 128 && r[3] == 128), "{csv}");
    assert_eq!(regions.iter().map(|r| r[0] + r[2]).max(), Some(256));
    assert_eq!(regions.iter().map(|r| r[1] + r[3]).max(), Some(192));
    let cam = image::open(heatmaps.join("full-cam.png")).unwrap();
    assert_eq!((cam.width(), cam.height()), (256, 192));

    for (args, expected) in [
        (vec!["--tile-size", "8"], "at least 16"),
        (vec!["--tile-size", "big"], "--tile-size"),
        (
            vec!["--mode", "center-crop", "--tile-size", "128"],
            "--tile-size",
        ),
    ] {
        let mut all = vec!["--model", tiny];
        all.extend(args);
        all.push(full_arg);
        let (code, _, stderr) = classify(&all);
        assert_eq!(code, 3, "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// `-v` shows the core's log lines on stderr; without it only warnings and errors appear.
#[test]
fn verbose_flag_shows_the_core_log() {
    let model = fixture();
    let model = model.to_str().unwrap();
    let run = |verbosity: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_visual-ccc"))
            .args(verbosity)
            .args(["classify", "--model", model, "/nonexistent.png"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let verbose = run(&["-v"]);
    assert!(verbose.contains("info: opened model"), "{verbose}");
    let quiet = run(&[]);
    assert!(!quiet.contains("opened model"), "{quiet}");
}

#[test]
fn unfamiliar_signal_is_reported_in_both_modes() {
    // The fixture has no visualccc.unfamiliar threshold: the score is given, the flag is
    // null. The shipped morphology model has one: the flag is true or false.
    let dir = scratch("unfamiliar");
    let image = dir.join("a.png");
    write_png(&image, 96, 80);
    let fixture = fixture();
    let shipped = repo().join("models/morphology.onnx");
    for mode in ["whole", "center-crop"] {
        let (code, lines, _) = classify(&[
            "--model",
            fixture.to_str().unwrap(),
            "--mode",
            mode,
            image.to_str().unwrap(),
        ]);
        assert_eq!(code, 0);
        assert!(lines[0]["unfamiliar"].is_null(), "{}", lines[0]);
        assert!(lines[0]["unfamiliarity"].is_f64(), "{}", lines[0]);
        let (code, lines, _) = classify(&[
            "--model",
            shipped.to_str().unwrap(),
            "--mode",
            mode,
            image.to_str().unwrap(),
        ]);
        assert_eq!(code, 0);
        assert!(lines[0]["unfamiliar"].is_boolean(), "{}", lines[0]);
        assert!(lines[0]["unfamiliarity"].is_f64(), "{}", lines[0]);
    }
    std::fs::remove_dir_all(dir).unwrap();
}
