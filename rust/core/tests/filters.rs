//! Filters against golden outputs of scipy / OpenCV / brute force
//! (`tests/fixtures/filters/make_golden.py`), plus invariants and parameter checks.
//!
//! Tolerances (stored per case in the golden file):
//! - median: exact (0);
//! - Gaussian, background, contrast: 1e-5 × the image's grey range (f32 arithmetic);
//! - bilateral 8-bit: 0.52 grey levels, since OpenCV rounds its output to integers;
//!   float: 2e-3, since OpenCV's float path interpolates exp() from a table;
//! - CLAHE: exact after rounding half to even, as OpenCV rounds.

mod common;

use std::path::PathBuf;

use common::floats;
use serde_json::Value;
use visual_ccc_core::analysis::filters::{
    self, BackgroundParams, BilateralParams, ClaheParams, ContrastParams, GaussianParams,
    MedianParams,
};
use visual_ccc_core::image::pixels::OwnedPixels;
use visual_ccc_core::{ErrorKind, GrayImage, ImageView, Pixels};

fn golden() -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/filters/golden.json");
    let text = std::fs::read_to_string(&path).expect("golden file exists");
    serde_json::from_str(&text).expect("golden file is JSON")
}

fn run_case(case: &Value, view: &ImageView) -> Vec<f64> {
    let p = &case["params"];
    let f = |k: &str| p[k].as_f64().unwrap();
    let u = |k: &str| p[k].as_u64().unwrap() as usize;
    let out = match case["op"].as_str().unwrap() {
        "median" => filters::median(
            view,
            &MedianParams {
                radius: u("radius"),
            },
        ),
        "gaussian" => filters::gaussian(view, &GaussianParams { sigma: f("sigma") }),
        "bilateral" => filters::bilateral(
            view,
            &BilateralParams {
                spatial_sigma: f("spatial_sigma"),
                range_sigma: f("range_sigma"),
            },
        ),
        "clahe" => {
            let params = ClaheParams {
                tiles_x: u("tiles_x"),
                tiles_y: u("tiles_y"),
                clip_limit: f("clip_limit"),
            };
            let out = filters::clahe(view, &params).unwrap();
            // OpenCV rounds its integer output half to even.
            return out
                .data
                .iter()
                .map(|&v| v.round_ties_even() as f64)
                .collect();
        }
        "background" => filters::background(
            view,
            &BackgroundParams {
                radius: f("radius"),
                light_background: p["light_background"].as_bool().unwrap(),
            },
        ),
        "contrast" => filters::stretch_contrast(
            view,
            &ContrastParams {
                saturated_percent: f("saturated_percent"),
            },
        ),
        other => panic!("unknown op {other}"),
    };
    out.unwrap().data.iter().map(|&v| v as f64).collect()
}

#[test]
fn filters_match_golden_outputs() {
    let doc = golden();
    let mut failures = Vec::new();
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let image = common::golden_image(&doc["images"][case["image"].as_str().unwrap()]);
        let got = run_case(case, &image.view());
        let tolerance = case["tolerance"].as_f64().unwrap();
        let mut expected = floats(&case["expected"]);
        if tolerance == 0.0 {
            // Exact cases: the golden file stores f32 values with 9 digits.
            expected.iter_mut().for_each(|e| *e = *e as f32 as f64);
        }
        assert_eq!(got.len(), expected.len(), "{name}");
        let (mut max_err, mut mean_err) = (0f64, 0f64);
        for (g, e) in got.iter().zip(&expected) {
            let err = (g - e).abs();
            max_err = max_err.max(err);
            mean_err += err / expected.len() as f64;
        }
        println!(
            "{name:40} max |err| {max_err:.3e}  mean {mean_err:.3e}  (tolerance {tolerance:.1e})"
        );
        if max_err > tolerance {
            failures.push(format!("{name}: max error {max_err} > {tolerance}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

fn constant_u8(w: usize, h: usize, v: u8) -> Vec<u8> {
    vec![v; w * h]
}

fn assert_constant(img: &GrayImage, value: Option<f32>, what: &str) {
    let first = img.data[0];
    assert!(
        img.data
            .iter()
            .all(|&v| (v - first).abs() <= 1e-4 * first.abs().max(1.0)),
        "{what}: output not constant"
    );
    if let Some(value) = value {
        assert!(
            (first - value).abs() <= 1e-4 * value.abs().max(1.0),
            "{what}: {first} ≠ {value}"
        );
    }
}

#[test]
fn constant_images_stay_constant() {
    let data = constant_u8(37, 23, 117);
    let view = ImageView::new(37, 23, Pixels::Gray8(&data)).unwrap();
    let median = filters::median(&view, &MedianParams { radius: 3 }).unwrap();
    assert_constant(&median, Some(117.0), "median");
    let gauss = filters::gaussian(&view, &GaussianParams { sigma: 3.0 }).unwrap();
    assert_constant(&gauss, Some(117.0), "gaussian");
    let bilateral = filters::bilateral(
        &view,
        &BilateralParams {
            spatial_sigma: 2.0,
            range_sigma: 10.0,
        },
    )
    .unwrap();
    assert_constant(&bilateral, Some(117.0), "bilateral");
    let clahe = filters::clahe(&view, &ClaheParams::default()).unwrap();
    assert_constant(&clahe, None, "clahe");
    let bg = filters::subtract_background(&view, &BackgroundParams::default()).unwrap();
    assert_constant(&bg, Some(0.0), "background (dark)");
    let light = BackgroundParams {
        radius: 10.0,
        light_background: true,
    };
    let bg = filters::subtract_background(&view, &light).unwrap();
    assert_constant(&bg, Some(255.0), "background (light)");
    let stretched = filters::stretch_contrast(&view, &ContrastParams::default()).unwrap();
    assert_constant(&stretched, Some(117.0), "contrast");

    let data = vec![-2.5f32; 12 * 9];
    let view = ImageView::new(12, 9, Pixels::Gray32(&data)).unwrap();
    assert_constant(
        &filters::clahe(&view, &ClaheParams::default()).unwrap(),
        Some(-2.5),
        "clahe f32",
    );
    assert_constant(
        &filters::median(&view, &MedianParams { radius: 20 }).unwrap(),
        Some(-2.5),
        "median, radius beyond the image",
    );
}

/// Pseudo-random test pattern without a rand dependency.
fn noise(n: usize, seed: u64) -> Vec<u64> {
    let mut rng = common::Lcg(seed);
    (0..n).map(|_| rng.next_u64() >> 33).collect()
}

#[test]
fn median_paths_agree_with_brute_force() {
    let (w, h) = (23, 17);
    let raw = noise(w * h, 7);
    let u8s: Vec<u8> = raw.iter().map(|&v| (v % 256) as u8).collect();
    let u16s: Vec<u16> = raw.iter().map(|&v| (v % 65536) as u16).collect();
    let f32s: Vec<f32> = u16s.iter().map(|&v| v as f32 * 0.37 - 100.0).collect();
    for r in [1usize, 2, 5, 12] {
        for (name, view) in [
            ("u8", ImageView::new(w, h, Pixels::Gray8(&u8s)).unwrap()),
            ("u16", ImageView::new(w, h, Pixels::Gray16(&u16s)).unwrap()),
            ("f32", ImageView::new(w, h, Pixels::Gray32(&f32s)).unwrap()),
        ] {
            let got = filters::median(&view, &MedianParams { radius: r }).unwrap();
            let values: Vec<f32> = (0..w * h).map(|i| view.gray_at(i)).collect();
            for y in 0..h {
                for x in 0..w {
                    let mut win = Vec::new();
                    for dy in -(r as isize)..=r as isize {
                        for dx in -(r as isize)..=r as isize {
                            let sy = reflect(y as isize + dy, h);
                            let sx = reflect(x as isize + dx, w);
                            win.push(values[sy * w + sx]);
                        }
                    }
                    win.sort_by(f32::total_cmp);
                    assert_eq!(got.get(x, y), win[win.len() / 2], "{name} r={r} ({x},{y})");
                }
            }
        }
    }
}

/// 32-bit CLAHE is defined as the 16-bit CLAHE of the values mapped linearly from their
/// min–max onto 0..=65535 (rounded to nearest), mapped back; the float path's own
/// kernels must give exactly that, with many levels and with few (the byte-table path).
#[test]
fn float_clahe_is_the_sixteen_bit_clahe_of_the_quantised_values() {
    let (w, h) = (77, 45);
    let raw = noise(w * h, 11);
    let many: Vec<f32> = raw
        .iter()
        .map(|&v| (v % 100_003) as f32 * 0.013 - 40.0)
        .collect();
    let few: Vec<f32> = raw.iter().map(|&v| (v % 200) as f32 / 255.0).collect();
    for (name, values) in [("many levels", &many), ("few levels", &few)] {
        let (lo, hi) = values
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let scale = 65535.0 / (f64::from(hi) - f64::from(lo));
        let levels: Vec<u16> = values
            .iter()
            .map(|&v| ((f64::from(v) - f64::from(lo)) * scale).round() as u16)
            .collect();
        for params in [
            ClaheParams::default(),
            ClaheParams {
                tiles_x: 3,
                tiles_y: 5,
                clip_limit: 1.5,
            },
        ] {
            let float_view = ImageView::new(w, h, Pixels::Gray32(values)).unwrap();
            let got = filters::clahe(&float_view, &params).unwrap();
            let level_view = ImageView::new(w, h, Pixels::Gray16(&levels)).unwrap();
            let expected = filters::clahe(&level_view, &params).unwrap();
            for (i, (&g, &e)) in got.data.iter().zip(&expected.data).enumerate() {
                let e = (f64::from(e) * (1.0 / scale) + f64::from(lo)) as f32;
                assert_eq!(g, e, "{name} {params:?} pixel {i}");
            }
        }
    }
}

fn reflect(i: isize, n: usize) -> usize {
    let n = n as isize;
    let m = i.rem_euclid(2 * n);
    (if m >= n { 2 * n - 1 - m } else { m }) as usize
}

#[test]
fn rgb_uses_luminance() {
    let rgb: Vec<u32> = (0..20 * 10)
        .map(|i| ((i % 7) * 30) as u32 * 0x010101)
        .collect();
    let grey: Vec<u8> = (0..20 * 10).map(|i| ((i % 7) * 30) as u8).collect();
    let rv = ImageView::new(20, 10, Pixels::PackedRgb(&rgb)).unwrap();
    let gv = ImageView::new(20, 10, Pixels::Gray8(&grey)).unwrap();
    let params = GaussianParams { sigma: 1.2 };
    let a = filters::gaussian(&rv, &params).unwrap();
    let b = filters::gaussian(&gv, &params).unwrap();
    for (x, y) in a.data.iter().zip(&b.data) {
        assert!((x - y).abs() < 1e-3);
    }
    let out = filters::to_input_depth(&a, &rv);
    assert!(matches!(out.pixels, OwnedPixels::Gray8(_)));
    let m = filters::median(&rv, &MedianParams { radius: 1 }).unwrap();
    let n = filters::median(&gv, &MedianParams { radius: 1 }).unwrap();
    for (x, y) in m.data.iter().zip(&n.data) {
        assert!((x - y).abs() < 1e-3);
    }
}

#[test]
fn bit_depth_conversion_rounds_and_clamps() {
    let img = GrayImage::new(5, 1, vec![-3.0, 0.49, 0.5, 254.6, 300.0]).unwrap();
    match filters::to_bit_depth(&img, 8).unwrap().pixels {
        OwnedPixels::Gray8(p) => assert_eq!(p, [0, 0, 1, 255, 255]),
        _ => panic!("expected 8-bit"),
    }
    let img = GrayImage::new(3, 1, vec![-1.0, 1234.5, 70000.0]).unwrap();
    match filters::to_bit_depth(&img, 16).unwrap().pixels {
        OwnedPixels::Gray16(p) => assert_eq!(p, [0, 1235, 65535]),
        _ => panic!("expected 16-bit"),
    }
    match filters::to_bit_depth(&img, 32).unwrap().pixels {
        OwnedPixels::Gray32(p) => assert_eq!(p, img.data),
        _ => panic!("expected 32-bit"),
    }
    let err = filters::to_bit_depth(&img, 12).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

fn message(result: visual_ccc_core::Result<GrayImage>) -> String {
    common::invalid_argument_message(result)
}

#[test]
fn bad_parameters_give_clear_errors() {
    let data = constant_u8(16, 16, 5);
    let v = ImageView::new(16, 16, Pixels::Gray8(&data)).unwrap();
    let m = message(filters::median(&v, &MedianParams { radius: 0 }));
    assert!(m.contains("median radius must be between 1"), "{m}");
    let m = message(filters::median(&v, &MedianParams { radius: 100_000 }));
    assert!(m.contains("100000"), "{m}");
    let m = message(filters::gaussian(&v, &GaussianParams { sigma: f64::NAN }));
    assert!(m.contains("finite"), "{m}");
    let m = message(filters::gaussian(&v, &GaussianParams { sigma: -1.0 }));
    assert!(m.contains("greater than 0"), "{m}");
    let m = message(filters::bilateral(
        &v,
        &BilateralParams {
            spatial_sigma: 2.0,
            range_sigma: 0.0,
        },
    ));
    assert!(m.contains("range sigma"), "{m}");
    // A range σ so small that the scaled grey values overflow f32 (the image would come
    // out NaN, or black at 8 bits) is refused, with the smallest usable one.
    let m = message(filters::bilateral(
        &v,
        &BilateralParams {
            spatial_sigma: 2.0,
            range_sigma: 1e-40,
        },
    ));
    assert!(m.contains("too small") && m.contains("use at least"), "{m}");
    let m = message(filters::clahe(
        &v,
        &ClaheParams {
            clip_limit: 0.0,
            ..ClaheParams::default()
        },
    ));
    assert!(m.contains("clip limit"), "{m}");
    let m = message(filters::clahe(
        &v,
        &ClaheParams {
            tiles_x: 0,
            ..ClaheParams::default()
        },
    ));
    assert!(m.contains("tiles across"), "{m}");
    let m = message(filters::clahe(
        &v,
        &ClaheParams {
            tiles_y: 17,
            ..ClaheParams::default()
        },
    ));
    assert!(m.contains("finer than"), "{m}");
    let m = message(filters::subtract_background(
        &v,
        &BackgroundParams {
            radius: f64::INFINITY,
            light_background: false,
        },
    ));
    assert!(m.contains("background radius"), "{m}");
    let m = message(filters::stretch_contrast(
        &v,
        &ContrastParams {
            saturated_percent: 50.0,
        },
    ));
    assert!(m.contains("below 50"), "{m}");

    let mut nan = vec![1.0f32; 16 * 16];
    nan[17] = f32::NAN;
    let v = ImageView::new(16, 16, Pixels::Gray32(&nan)).unwrap();
    for result in [
        filters::median(&v, &MedianParams::default()),
        filters::gaussian(&v, &GaussianParams::default()),
        filters::bilateral(
            &v,
            &BilateralParams {
                spatial_sigma: 1.0,
                range_sigma: 1.0,
            },
        ),
        filters::clahe(&v, &ClaheParams::default()),
        filters::subtract_background(&v, &BackgroundParams::default()),
        filters::stretch_contrast(&v, &ContrastParams::default()),
    ] {
        let m = message(result);
        assert!(m.contains("NaN"), "{m}");
    }
}

#[test]
fn gaussian_preserves_the_mean_and_smooths() {
    let (w, h) = (64, 48);
    let raw: Vec<u8> = noise(w * h, 3).iter().map(|&v| (v % 256) as u8).collect();
    let v = ImageView::new(w, h, Pixels::Gray8(&raw)).unwrap();
    let g = filters::gaussian(&v, &GaussianParams { sigma: 2.0 }).unwrap();
    let mean_in = raw.iter().map(|&x| x as f64).sum::<f64>() / (w * h) as f64;
    let mean_out = g.data.iter().map(|&x| x as f64).sum::<f64>() / (w * h) as f64;
    // Reflected borders keep the mean only approximately.
    assert!((mean_in - mean_out).abs() < 1.0, "{mean_in} vs {mean_out}");
    let var = |d: &mut dyn Iterator<Item = f64>| {
        let v: Vec<f64> = d.collect();
        let m = v.iter().sum::<f64>() / v.len() as f64;
        v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64
    };
    let vin = var(&mut raw.iter().map(|&x| x as f64));
    let vout = var(&mut g.data.iter().map(|&x| x as f64));
    assert!(vout < vin / 10.0, "{vout} vs {vin}");
}

#[test]
fn background_removes_a_ramp_and_keeps_small_objects() {
    // A bright 5×5 square on a linear ramp: the paraboloid of radius 50 follows the ramp
    // (curvature ≪ 1/50) but cannot climb into the square.
    let (w, h) = (60, 40);
    let mut data = vec![0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            data[y * w + x] = 10.0 + 0.5 * x as f32;
            if (20..25).contains(&x) && (10..15).contains(&y) {
                data[y * w + x] += 40.0;
            }
        }
    }
    let v = ImageView::new(w, h, Pixels::Gray32(&data)).unwrap();
    let out = filters::subtract_background(&v, &BackgroundParams::default()).unwrap();
    // The paraboloid touching the ramp at x has its apex R·slope = 25 px uphill and
    // cannot leave the image, so the ramp is followed exactly up to x = 59 − 25.
    for (x, y) in [(0, 0), (5, 30), (30, 5), (34, 39)] {
        assert!(out.get(x, y).abs() < 1e-3, "({x}, {y}): {}", out.get(x, y));
    }
    assert!(out.get(59, 0) > 0.0);
    assert!(out.get(22, 12) > 39.0, "{}", out.get(22, 12));
}

/// A textured 8-bit image with ties, wider than a 64-lane pass and taller than a band.
fn textured_u8(w: usize, h: usize) -> Vec<u8> {
    let mut s = 7u64;
    (0..w * h)
        .map(|i| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (((i % w) * 3 + (i / w) * 5) % 200) as u8 / 2 + (s >> 60) as u8 * 9
        })
        .collect()
}

/// The same-depth median and CLAHE (no float image in between) write what converting
/// the float result would: median exactly, CLAHE rounded half to even (OpenCV's rule).
#[test]
fn same_depth_results_equal_the_converted_float_ones() {
    let (w, h) = (157, 71);
    let p8 = textured_u8(w, h);
    let p16: Vec<u16> = p8
        .iter()
        .map(|&v| v as u16 * 257 + (v as u16 % 3))
        .collect();
    let rgb: Vec<u32> = p8
        .iter()
        .map(|&v| (v as u32) << 16 | 0x40 << 8 | 3)
        .collect();
    let views = [
        ImageView::new(w, h, Pixels::Gray8(&p8)).unwrap(),
        ImageView::new(w, h, Pixels::Gray16(&p16)).unwrap(),
        ImageView::new(w, h, Pixels::PackedRgb(&rgb)).unwrap(),
    ];
    for view in &views {
        let depth = view.pixels().bit_depth();
        for radius in [1, 2, 3] {
            let params = MedianParams { radius };
            let same = filters::median_same_depth(view, &params).unwrap();
            let float = filters::median(view, &params).unwrap();
            let converted = filters::to_input_depth(&float, view);
            assert_eq!(
                format!("{:?}", same.pixels),
                format!("{:?}", converted.pixels),
                "median r {radius}, {depth}-bit"
            );
        }
        let params = ClaheParams::default();
        let same = filters::clahe_same_depth(view, &params).unwrap();
        let float = filters::clahe(view, &params).unwrap();
        let rounded: Vec<f32> = float.data.iter().map(|v| v.round_ties_even()).collect();
        let got: Vec<f32> = (0..w * h).map(|i| same.view().gray_at(i)).collect();
        assert_eq!(got, rounded, "CLAHE, {depth}-bit");
    }
}
