//! Hostile inputs through every command (docs/reliability.md): a clear error with exit
//! 1 (input) or 2 (model, ONNX Runtime), no panic text, and nothing left behind in the
//! output folder.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{repo, write_float_tiff, Scratch};

fn hostile(name: &str) -> String {
    repo()
        .join("tests/fixtures/hostile")
        .join(name)
        .display()
        .to_string()
}

fn model() -> String {
    repo()
        .join("tests/fixtures/models/fixture-tiny.onnx")
        .display()
        .to_string()
}

/// Runs `visual-ccc ARGS`: exit code, stdout, stderr.
fn run(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_visual-ccc"))
        .args(args)
        .output()
        .unwrap();
    (
        output
            .status
            .code()
            .expect("exited, not killed by a signal"),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Every file and folder below `dir`.
fn contents(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(contents(&path));
        }
        found.push(path);
    }
    found
}

/// The six image commands on `image`, writing below `out`.
fn every_command<'a>(image: &'a str, out: &'a Scratch, model: &'a str) -> Vec<Vec<String>> {
    let owned = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    vec![
        owned(&[
            "classify",
            "--model",
            model,
            "--heatmap-dir",
            &out.path("heat"),
            image,
        ]),
        owned(&[
            "preprocess",
            image,
            "--op",
            "median",
            "--out",
            &out.path("pre/x.png"),
        ]),
        owned(&["threshold", image, "--out", &out.path("thr/labels.png")]),
        owned(&["texture", image, "--out-dir", &out.path("tex")]),
        owned(&[
            "cluster",
            image,
            "--k",
            "2",
            "--labels-out",
            &out.path("clu/labels.png"),
        ]),
        owned(&[
            "analyze",
            image,
            "--model",
            model,
            "--out-dir",
            &out.path("ana"),
        ]),
    ]
}

fn assert_clean_failure(args: &[String], out: &Scratch, expected: &str) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stdout, stderr) = run(&args);
    assert!(code == 1 || code == 2, "{args:?}: exit {code}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert!(
        stdout.contains(expected) || stderr.contains(expected),
        "{args:?}: no '{expected}' in\n{stdout}\n{stderr}"
    );
    let left = contents(&out.0);
    assert!(
        left.is_empty() || left == [out.0.join("heat")],
        "{args:?} left {left:?}"
    );
}

#[test]
fn huge_declared_images_fail_cleanly_in_every_command() {
    for name in ["huge-declared.png", "huge-declared.tif"] {
        let out = Scratch::new(&format!("hostile-huge-{}", &name[14..]));
        for args in every_command(&hostile(name), &out, &model()) {
            assert_clean_failure(&args, &out, "max_pixels");
        }
    }
}

#[test]
fn max_pixels_option_lowers_and_raises_the_limit() {
    let out = Scratch::new("hostile-max-pixels");
    let png = out.path("small.png");
    image::GrayImage::new(100, 100).save(&png).unwrap();
    let (code, _, stderr) = run(&["threshold", &png, "--max-pixels", "9999"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("max_pixels = 9999"), "{stderr}");
    let (code, _, stderr) = run(&["threshold", &png, "--max-pixels", "10000"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_truncated_jpeg_fails_in_every_command() {
    let out = Scratch::new("hostile-jpeg");
    let image = image::GrayImage::from_fn(200, 150, |x, y| image::Luma([(x ^ y) as u8]));
    let mut bytes = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    let half = std::env::temp_dir().join(format!("vccc-half-{}.jpg", std::process::id()));
    std::fs::write(&half, &bytes[..bytes.len() / 2]).unwrap();
    for args in every_command(&half.display().to_string(), &out, &model()) {
        assert_clean_failure(&args, &out, "truncated");
    }
    std::fs::remove_file(half).ok();
}

#[test]
fn overflowing_float_range_is_an_error_not_null_probabilities() {
    let out = Scratch::new("hostile-range");
    let tif = out.0.join("range.tif");
    let values: Vec<f32> = (0..96 * 96)
        .map(|i| if i % 3 == 0 { 3e38 } else { -3e38 })
        .collect();
    write_float_tiff(&tif, 96, 96, &values);
    let tif = tif.display().to_string();
    for mode in ["center-crop", "whole"] {
        let (code, stdout, stderr) = run(&["classify", "--model", &model(), "--mode", mode, &tif]);
        assert_eq!(code, 1, "{mode}: {stdout}{stderr}");
        assert!(!stdout.contains("null"), "{mode}: {stdout}");
        assert!(
            stdout.contains("overflow") || stdout.contains("not finite"),
            "{mode}: {stdout}"
        );
    }
    // analyze fails at classification, after creating its folder: nothing remains.
    let ana = out.path("ana");
    let (code, _, stderr) = run(&["analyze", &tif, "--model", &model(), "--out-dir", &ana]);
    assert_eq!(code, 1, "{stderr}");
    assert!(!Path::new(&ana).exists(), "analyze left {ana}");
}

#[test]
fn analyze_that_fails_after_writing_leaves_nothing_behind() {
    let out = Scratch::new("hostile-analyze");
    let png = out.path("input.png");
    image::GrayImage::from_fn(120, 90, |x, y| image::Luma([((x * 7 + y * 3) % 256) as u8]))
        .save(&png)
        .unwrap();
    // summary.json is written last; a folder in its place makes the run fail at the end.
    let dir = out.0.join("ana");
    let dir_text = dir.display().to_string();
    let analyze = || run(&["analyze", &png, "--no-model", "--out-dir", &dir_text]);
    std::fs::create_dir_all(dir.join("summary.json/blocked")).unwrap();
    let (code, _, stderr) = analyze();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("summary.json"), "{stderr}");
    let left: Vec<PathBuf> = contents(&dir)
        .into_iter()
        .filter(|p| !p.starts_with(dir.join("summary.json")))
        .collect();
    assert!(left.is_empty(), "left {left:?}");
    // The same run without the obstacle writes its files under their real names only.
    std::fs::remove_dir_all(dir.join("summary.json")).unwrap();
    let (code, _, stderr) = analyze();
    assert_eq!(code, 0, "{stderr}");
    let names: Vec<String> = contents(&dir)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.contains(&"summary.json".to_string()), "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with('.')), "{names:?}");
}

#[test]
fn absurd_models_and_a_wrong_runtime_fail_cleanly() {
    let out = Scratch::new("hostile-model");
    let png = out.path("input.png");
    image::GrayImage::new(64, 64).save(&png).unwrap();
    for name in ["input-size-huge.onnx", "input-size-symbolic.onnx"] {
        let (code, _, stderr) = run(&["classify", "--model", &hostile(name), &png]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("over the limit of 4096"), "{stderr}");
    }
    let libz = [
        "/usr/lib/x86_64-linux-gnu/libz.so.1",
        "/lib/x86_64-linux-gnu/libz.so.1",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists());
    if let Some(libz) = libz {
        let (code, _, stderr) =
            run(&["classify", "--onnxruntime", libz, "--model", &model(), &png]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("not ONNX Runtime"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    } else {
        eprintln!("skipped the wrong-runtime case: no libz.so.1 on this machine");
    }
}

#[test]
fn streamed_tiffs_are_not_bound_by_max_pixels() {
    let out = Scratch::new("hostile-stream");
    let tif = out.0.join("large.tif");
    let pixels: Vec<u8> = (0..300 * 200).map(|i| (i * 7 % 251) as u8).collect();
    let file = std::fs::File::create(&tif).unwrap();
    tiff::encoder::TiffEncoder::new(file)
        .unwrap()
        .write_image::<tiff::encoder::colortype::Gray8>(300, 200, &pixels)
        .unwrap();
    let tif = tif.display().to_string();
    let limited = |mode: &str| {
        run(&[
            "classify",
            "--model",
            &model(),
            "--mode",
            mode,
            "--max-pixels",
            "1000",
            &tif,
        ])
    };
    // Whole mode streams the rows of an uncompressed 8-bit TIFF: no limit applies.
    let (code, stdout, stderr) = limited("whole");
    assert_eq!(code, 0, "{stdout}{stderr}");
    // Centre crop decodes the file, so the limit does.
    let (code, stdout, _) = limited("center-crop");
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("max_pixels = 1000"), "{stdout}");
}

/// The fuzzer's TIFF that made the tiff crate panic: every command fails cleanly with no
/// panic text.
#[test]
fn a_tiff_that_crashes_the_decoder_fails_cleanly_in_every_command() {
    let out = Scratch::new("hostile-sample-format");
    for args in every_command(&hostile("empty-sample-format.tif"), &out, &model()) {
        assert_clean_failure(&args, &out, "corrupt");
    }
}
