//! Data-bar exclusion end to end: threshold, cluster, texture and classify report the rows
//! they left out under "data_bar", mark them in their outputs and keep them out of area
//! fractions; `--keep-data-bar` and images without a bar exclude nothing.

mod common;

use std::process::Command;

use common::{repo, Scratch};
use serde_json::Value;

const WIDTH: u32 = 160;
const HEIGHT: u32 = 128;
const BAR_ROWS: u32 = 24;

/// A noisy two-phase field; with `bar`, a black instrument strip with white glyphs and
/// a scale bar along the bottom.
fn write_micrograph(path: &str, bar: bool) {
    let mut state = 12345u32;
    image::GrayImage::from_fn(WIDTH, HEIGHT, |x, y| {
        state = state.wrapping_mul(1103515245).wrapping_add(12345);
        let noise = (state >> 16) % 31;
        if bar && y >= HEIGHT - BAR_ROWS {
            let row = y - (HEIGHT - BAR_ROWS);
            let glyph = (6..14).contains(&row) && x < 90 && x % 7 < 2;
            let scale_bar = (row == 16 || row == 17) && x > 110;
            return image::Luma([if glyph || scale_bar { 255 } else { 0 }]);
        }
        let phase = if (x / 20 + y / 20) % 2 == 0 { 70 } else { 170 };
        image::Luma([(phase + noise) as u8])
    })
    .save(path)
    .unwrap();
}

fn visual_ccc(args: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_visual-ccc"))
        .args(args)
        .env("VISUAL_CCC_MODELS", "/nonexistent")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    serde_json::from_str(stdout.lines().next().unwrap()).unwrap()
}

/// The sum of a JSON array of numbers.
fn sum(values: &Value) -> f64 {
    values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .sum()
}

/// Rows of an 8-bit label image that are entirely 255.
fn excluded_label_rows(path: &str) -> u32 {
    let labels = image::open(path).unwrap().into_luma8();
    (0..labels.height())
        .filter(|&y| (0..labels.width()).all(|x| labels.get_pixel(x, y)[0] == 255))
        .count() as u32
}

#[test]
fn threshold_leaves_the_bar_out_of_area_fractions() {
    let scratch = Scratch::new("databar-threshold");
    let (image, labels) = (scratch.path("bar.png"), scratch.path("labels.png"));
    write_micrograph(&image, true);
    let json = visual_ccc(&["threshold", &image, "--out", &labels]);
    let bar = &json["data_bar"];
    assert_eq!(bar["excluded"], true);
    assert_eq!(bar["bottom_rows"], BAR_ROWS);
    assert_eq!(bar["excluded_rows"], BAR_ROWS);
    assert_eq!(bar["kept_region"]["height"], HEIGHT - BAR_ROWS);
    let kept_pixels = (WIDTH * (HEIGHT - BAR_ROWS)) as u64;
    assert_eq!(sum(&json["pixel_counts"]) as u64, kept_pixels);
    assert!((sum(&json["area_fractions"]) - 1.0).abs() < 1e-9);
    assert_eq!(excluded_label_rows(&labels), BAR_ROWS);

    let json = visual_ccc(&["threshold", &image, "--keep-data-bar", "--out", &labels]);
    assert_eq!(json["data_bar"]["excluded"], false);
    assert_eq!(json["data_bar"]["excluded_rows"], 0);
    assert_eq!(sum(&json["pixel_counts"]) as u64, (WIDTH * HEIGHT) as u64);
    assert_eq!(excluded_label_rows(&labels), 0);
}

#[test]
fn images_without_a_bar_keep_every_row() {
    let scratch = Scratch::new("databar-none");
    let image = scratch.path("plain.png");
    write_micrograph(&image, false);
    let json = visual_ccc(&["threshold", &image]);
    assert_eq!(json["data_bar"]["excluded_rows"], 0);
    assert_eq!(sum(&json["pixel_counts"]) as u64, (WIDTH * HEIGHT) as u64);
}

#[test]
fn cluster_and_texture_leave_the_bar_out() {
    let scratch = Scratch::new("databar-cluster");
    let (image, labels) = (scratch.path("bar.png"), scratch.path("clusters.tif"));
    write_micrograph(&image, true);
    let json = visual_ccc(&[
        "cluster",
        &image,
        "--k",
        "2",
        "--features",
        "grey",
        "--labels-out",
        &labels,
    ]);
    assert_eq!(json["data_bar"]["bottom_rows"], BAR_ROWS);
    let clusters = json["clusters"].as_array().unwrap();
    let pixels: u64 = clusters
        .iter()
        .map(|c| c["pixel_count"].as_u64().unwrap())
        .sum();
    assert_eq!(pixels, (WIDTH * (HEIGHT - BAR_ROWS)) as u64);
    assert_eq!(excluded_label_rows(&labels), BAR_ROWS);

    let out_dir = scratch.path("maps");
    let json = visual_ccc(&[
        "texture",
        &image,
        "--features",
        "contrast",
        "--angles",
        "0",
        "--out-dir",
        &out_dir,
    ]);
    assert_eq!(json["data_bar"]["bottom_rows"], BAR_ROWS);
    let map = &json["maps"][0];
    assert!(map["mean"].as_f64().unwrap().is_finite());
    let file = map["file"].as_str().unwrap();
    let mut decoder = tiff::decoder::Decoder::new(std::fs::File::open(file).unwrap()).unwrap();
    assert_eq!(decoder.dimensions().unwrap(), (WIDTH, HEIGHT));
    let tiff::decoder::DecodingResult::F32(values) = decoder.read_image().unwrap() else {
        panic!("texture maps are 32-bit float");
    };
    let nan_rows = values
        .chunks(WIDTH as usize)
        .filter(|row| row.iter().all(|v| v.is_nan()))
        .count() as u32;
    assert_eq!(nan_rows, BAR_ROWS);
}

#[test]
fn classify_reports_the_bar_and_crops_above_it() {
    let scratch = Scratch::new("databar-classify");
    let image = scratch.path("bar.png");
    write_micrograph(&image, true);
    let model = repo().join("tests/fixtures/models/fixture-tiny.onnx");
    let model = model.to_str().unwrap();
    // An uncompressed 8-bit TIFF streams from disk in whole mode; the bar is found on the
    // way.
    let tiff = scratch.path("bar.tif");
    image::open(&image)
        .unwrap()
        .into_luma8()
        .save(&tiff)
        .unwrap();
    let json = visual_ccc(&["classify", "--model", model, &tiff]);
    assert_eq!(json["data_bar"]["bottom_rows"], BAR_ROWS, "{json}");
    for mode in ["center-crop", "whole"] {
        let json = visual_ccc(&["classify", "--model", model, "--mode", mode, &image]);
        assert_eq!(json["data_bar"]["bottom_rows"], BAR_ROWS, "{mode}: {json}");
        if mode == "center-crop" {
            let region = &json["region"];
            let bottom = region["y"].as_u64().unwrap() + region["height"].as_u64().unwrap();
            assert!(bottom <= (HEIGHT - BAR_ROWS) as u64, "{json}");
        }
    }
}

/// `analyze` runs the whole recipe on the micrograph rows: the bar is reported, marked
/// in the label images and left out of the cluster and Otsu fractions.
#[test]
fn analyze_leaves_the_bar_out_of_every_step() {
    let scratch = Scratch::new("databar-analyze");
    let (image, out) = (scratch.path("bar.png"), scratch.path("out"));
    write_micrograph(&image, true);
    let json = visual_ccc(&["analyze", &image, "--no-model", "--out-dir", &out]);
    assert_eq!(json["data_bar"]["bottom_rows"], BAR_ROWS);
    let clusters = json["clustering"]["clusters"].as_array().unwrap();
    let pixels: u64 = clusters
        .iter()
        .map(|c| c["pixel_count"].as_u64().unwrap())
        .sum();
    assert_eq!(pixels, (WIDTH * (HEIGHT - BAR_ROWS)) as u64);
    let labels = json["clustering"]["labels"].as_str().unwrap();
    assert_eq!(excluded_label_rows(labels), BAR_ROWS);
    assert!((sum(&json["otsu"]["area_fractions"]) - 1.0).abs() < 1e-9);

    let json = visual_ccc(&[
        "analyze",
        &image,
        "--no-model",
        "--keep-data-bar",
        "--out-dir",
        &out,
    ]);
    assert_eq!(json["data_bar"]["excluded_rows"], 0);
}
