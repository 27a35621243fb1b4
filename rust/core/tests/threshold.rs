//! Otsu and multi-level Otsu against scikit-image golden values made by
//! `tests/fixtures/threshold/make_fixtures.py`.

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use common::shared_data;
use serde_json::Value;
use visual_ccc_core::analysis::threshold::{apply_thresholds, multi_otsu, otsu, otsu_mask};
use visual_ccc_core::{ErrorKind, ImageView, Pixels};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/threshold")
}

fn load_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

enum Owned {
    U8(Vec<u8>),
    U16(Vec<u16>),
    F32(Vec<f32>),
    Rgb(Vec<u32>),
}

impl Owned {
    fn view(&self, width: usize, height: usize) -> ImageView<'_> {
        let pixels = match self {
            Owned::U8(p) => Pixels::Gray8(p),
            Owned::U16(p) => Pixels::Gray16(p),
            Owned::F32(p) => Pixels::Gray32(p),
            Owned::Rgb(p) => Pixels::PackedRgb(p),
        };
        ImageView::new(width, height, pixels).unwrap()
    }
}

fn load_raw(path: &Path, dtype: &str) -> Owned {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match dtype {
        "u8" => Owned::U8(bytes),
        "u16" => Owned::U16(
            bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect(),
        ),
        "f32" => Owned::F32(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ),
        other => panic!("unknown dtype {other}"),
    }
}

/// Golden thresholds are stored as decimal strings: `str::parse` rounds correctly, which
/// serde_json's default number parser does not guarantee.
fn exact(v: &Value) -> f64 {
    v.as_str().unwrap().parse().unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(exact).collect()
}

/// Compares every threshold exactly (bit for bit) with the golden values of one image.
fn check_expected(label: &str, view: &ImageView, expected: &Value) -> usize {
    let t = otsu(view).unwrap();
    assert_eq!(t, exact(&expected["otsu"]), "{label}: otsu");
    let mut checked = 1;
    for classes in 2..=5 {
        let want = &expected["multiotsu"][classes.to_string()];
        let got = multi_otsu(view, classes);
        if want.is_null() {
            let err = got.expect_err(label);
            assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{label}: {err}");
        } else {
            assert_eq!(
                got.unwrap(),
                floats(want),
                "{label}: multi_otsu classes {classes}"
            );
        }
        checked += 1;
    }
    checked
}

#[test]
fn synthetic_images_match_scikit_image() {
    let meta = load_json(&fixtures().join("cases.json"));
    let mut checked = 0;
    for case in meta["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (w, h) = (
            case["width"].as_u64().unwrap() as usize,
            case["height"].as_u64().unwrap() as usize,
        );
        let pixels = load_raw(
            &fixtures().join(case["file"].as_str().unwrap()),
            case["dtype"].as_str().unwrap(),
        );
        checked += check_expected(name, &pixels.view(w, h), case);
    }
    println!("{checked} thresholds equal scikit-image's");
    assert!(checked >= 70);
}

#[test]
fn real_images_match_scikit_image() {
    let Some(shared) = shared_data() else { return };
    let meta = load_json(&fixtures().join("real_images.json"));
    for (entry, rel, path) in common::present_images(&shared, &meta) {
        let img = image::open(&path).unwrap();
        let (w, h) = (img.width() as usize, img.height() as usize);
        let pixels = match entry["kind"].as_str().unwrap() {
            "gray8_channel0" => Owned::U8(img.to_rgb8().pixels().map(|p| p[0]).collect()),
            "rgb_luminance" => Owned::Rgb(
                img.to_rgb8()
                    .pixels()
                    .map(|p| (p[0] as u32) << 16 | (p[1] as u32) << 8 | p[2] as u32)
                    .collect(),
            ),
            "gray8" => {
                let g = img.to_luma8().into_raw();
                let sum: u64 = g.iter().map(|&v| v as u64).sum();
                let sum_sq: u64 = g.iter().map(|&v| (v as u64).pow(2)).sum();
                if sum != entry["pixel_sum"].as_u64().unwrap()
                    || sum_sq != entry["pixel_sum_sq"].as_u64().unwrap()
                {
                    // Another JPEG decoder (PIL's libjpeg vs. the `image` crate) rounds
                    // some pixels differently: only a loose check is possible.
                    let view = ImageView::new(w, h, Pixels::Gray8(&g)).unwrap();
                    let (got, want) = (otsu(&view).unwrap(), exact(&entry["otsu"]));
                    println!(
                        "{rel}: decoded pixels differ from PIL's; otsu {got} vs {want}, \
                         5 classes {:?} vs {:?}",
                        multi_otsu(&view, 5).unwrap(),
                        floats(&entry["multiotsu"]["5"])
                    );
                    assert!((got - want).abs() <= 3.0, "{rel}: otsu {got} vs {want}");
                    continue;
                }
                Owned::U8(g)
            }
            other => panic!("unknown kind {other}"),
        };
        let view = pixels.view(w, h);
        check_expected(rel, &view, entry);
        println!("{rel} ({}): equal", entry["kind"].as_str().unwrap());
    }
}

#[test]
fn class_count_is_validated() {
    let data: Vec<u8> = (0..=255).collect();
    let view = ImageView::new(16, 16, Pixels::Gray8(&data)).unwrap();
    for classes in [0, 1, 6, 10] {
        let err = multi_otsu(&view, classes).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(err.to_string().contains("between 2 and 5 classes"), "{err}");
    }
}

#[test]
fn non_finite_pixels_are_rejected() {
    let data = [0.5f32, f32::NAN, 1.0, 2.0];
    let view = ImageView::new(2, 2, Pixels::Gray32(&data)).unwrap();
    for err in [
        otsu(&view).unwrap_err(),
        multi_otsu(&view, 3).unwrap_err(),
        apply_thresholds(&view, &[1.0]).unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(err.to_string().contains("NaN"), "{err}");
    }
}

#[test]
fn too_few_values_for_the_classes() {
    let data = [10u8, 10, 200, 200, 90, 90];
    let view = ImageView::new(3, 2, Pixels::Gray8(&data)).unwrap();
    // Exactly as many values as classes: thresholds sit on all but the last value.
    assert_eq!(multi_otsu(&view, 3).unwrap(), vec![10.0, 90.0]);
    let err = multi_otsu(&view, 4).unwrap_err();
    assert!(err.to_string().contains("only 3 distinct value"), "{err}");
}

#[test]
fn threshold_application_checks_its_arguments() {
    let data = [1u8, 2, 3, 4];
    let view = ImageView::new(2, 2, Pixels::Gray8(&data)).unwrap();
    for (bad, needle) in [
        (vec![], "between 1 and 255"),
        (vec![3.0, 1.0], "ascending"),
        (vec![f64::NAN], "finite"),
    ] {
        let err = apply_thresholds(&view, &bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(err.to_string().contains(needle), "{err}");
    }
    // value > t is foreground: a pixel equal to the threshold stays background.
    assert_eq!(
        apply_thresholds(&view, &[2.0]).unwrap().data,
        vec![0, 0, 1, 1]
    );
}

#[test]
fn otsu_mask_is_image_above_threshold() {
    let meta = load_json(&fixtures().join("cases.json"));
    let case = &meta["cases"][0];
    let (w, h) = (
        case["width"].as_u64().unwrap() as usize,
        case["height"].as_u64().unwrap() as usize,
    );
    let Owned::U8(data) = load_raw(&fixtures().join(case["file"].as_str().unwrap()), "u8") else {
        unreachable!()
    };
    let view = ImageView::new(w, h, Pixels::Gray8(&data)).unwrap();
    let t = exact(&case["otsu"]);
    let mask = otsu_mask(&view).unwrap();
    let expected: Vec<u8> = data.iter().map(|&v| u8::from(v as f64 > t)).collect();
    assert_eq!(mask.data, expected);
}

/// A 2048×1536 image whose smooth histogram makes every bin occupied and near-ties
/// common: the worst case for the pruned five-class search.
#[test]
fn five_class_search_is_fast() {
    let (w, h) = (2048usize, 1536usize);
    let mut rng = common::Lcg(12345);
    let data: Vec<u8> = (0..w * h)
        .map(|i| {
            let noise = (rng.next_u64() >> 58) as usize; // 0..63
            (((i % w) * 192 / w + noise) % 256) as u8
        })
        .collect();
    let view = ImageView::new(w, h, Pixels::Gray8(&data)).unwrap();
    let floats: Vec<f32> = data.iter().map(|&v| v as f32 * 0.37 - 5.0).collect();
    let fview = ImageView::new(w, h, Pixels::Gray32(&floats)).unwrap();
    for (label, view) in [("8-bit", view), ("32-bit", fview)] {
        let start = Instant::now();
        let t = multi_otsu(&view, 5).unwrap();
        let elapsed = start.elapsed();
        println!("multi_otsu 5 classes, {label} {w}×{h}: {elapsed:?} → {t:?}");
        assert_eq!(t.len(), 4);
        assert!(t.windows(2).all(|p| p[0] < p[1]));
    }
}

#[test]
fn extreme_float_ranges_are_rejected_clearly() {
    // Values whose range overflows f32 are refused with the image check's message.
    let wide = [-3.0e38f32, 3.0e38, 0.0, 1.0];
    let view = ImageView::new(2, 2, Pixels::Gray32(&wide)).unwrap();
    let err = otsu(&view).unwrap_err();
    assert!(
        err.to_string().contains("overflow 32-bit arithmetic"),
        "{err}"
    );
    let narrow = [1000.0f32, 1000.0001, 1000.0, 1000.0001];
    let view = ImageView::new(2, 2, Pixels::Gray32(&narrow)).unwrap();
    let err = multi_otsu(&view, 2).unwrap_err();
    assert!(err.to_string().contains("too narrow"), "{err}");
}
