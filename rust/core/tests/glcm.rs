//! GLCM texture against scikit-image golden data made by
//! `tests/fixtures/glcm/make_fixtures.py` (a literal per-window graycomatrix/graycoprops
//! loop): 1e-12 for the reference mode, 1e-9 for every other feature.

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use common::shared_data;
use serde_json::Value;
use visual_ccc_core::analysis::glcm::{
    glcm_features, glcm_matrix, quantize, reference_contrast, reference_contrast_of_mask,
    texture_maps, texture_maps_f64, Feature, GlcmParams, Quantization, TextureParams,
};
use visual_ccc_core::analysis::threshold::otsu;
use visual_ccc_core::{ErrorKind, ImageView, Pixels};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/glcm")
}

fn load_json(name: &str) -> Value {
    let path = fixtures().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn read(rel: &Value) -> Vec<u8> {
    let path = fixtures().join(rel.as_str().unwrap());
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_f64(rel: &Value) -> Vec<f64> {
    read(rel)
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

fn read_f32(rel: &Value) -> Vec<f32> {
    read(rel)
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

fn size(case: &Value) -> (usize, usize) {
    (
        case["width"].as_u64().unwrap() as usize,
        case["height"].as_u64().unwrap() as usize,
    )
}

/// Decimal strings keep golden doubles exact (serde_json's default parser may not).
fn exact(v: &Value) -> f64 {
    v.as_str().unwrap().parse().unwrap()
}

fn cases(kind: &str) -> Vec<Value> {
    load_json("cases.json")["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == kind)
        .cloned()
        .collect()
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn reference_mode_equals_scikit_image() {
    for case in cases("reference") {
        let (w, h) = size(&case);
        let mask = read(&case["input"]);
        let view = ImageView::new(w, h, Pixels::Gray8(&mask)).unwrap();
        let map = reference_contrast_of_mask(&view).unwrap();
        let diff = max_abs_diff(&map.data, &read_f64(&case["expected"]));
        println!("{}: max |Δ| = {diff:e}", case["name"]);
        assert!(diff <= 1e-12, "{}: {diff}", case["name"]);
    }
}

#[test]
fn reference_pipeline_equals_scikit_image() {
    for case in cases("pipeline") {
        let (w, h) = size(&case);
        let grey = read(&case["input"]);
        let view = ImageView::new(w, h, Pixels::Gray8(&grey)).unwrap();
        assert_eq!(otsu(&view).unwrap(), exact(&case["otsu"]));
        let map = reference_contrast(&view).unwrap();
        let diff = max_abs_diff(&map.data, &read_f64(&case["expected"]));
        println!("pipeline: max |Δ| = {diff:e}");
        assert!(diff <= 1e-12, "{diff}");
    }
}

fn params_of(case: &Value, average: bool, threads: usize) -> TextureParams {
    let p = &case["params"];
    TextureParams {
        window: p["window"].as_u64().unwrap() as usize,
        glcm: GlcmParams {
            levels: p["levels"].as_u64().unwrap() as usize,
            distances: p["distances"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect(),
            angles_deg: p["angles_deg"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_f64().unwrap())
                .collect(),
            average_angles: average,
            symmetric: p["symmetric"].as_bool().unwrap(),
            normed: true,
            quantization: match p["quantization"].as_str().unwrap() {
                "direct" => Quantization::Direct,
                "auto" => Quantization::Auto,
                other => panic!("unknown quantization {other}"),
            },
            features: Feature::ALL.to_vec(),
        },
        threads,
    }
}

#[test]
fn all_features_equal_scikit_image() {
    let mut compared = 0usize;
    for case in cases("maps") {
        let name = case["name"].as_str().unwrap();
        let (w, h) = size(&case);
        let pixels = read(&case["input"]);
        let view = ImageView::new(w, h, Pixels::Gray8(&pixels)).unwrap();
        let params = params_of(&case, false, 2);
        let (nd, na) = (params.glcm.distances.len(), params.glcm.angles_deg.len());
        let expected = read_f64(&case["expected"]);
        let degenerate = read(&case["degenerate"]);
        let maps = texture_maps_f64(&view, &params).unwrap();
        assert_eq!(maps.len(), 9 * nd * na);
        let n = w * h;
        let mut worst = 0f64;
        for (m, map) in maps.iter().enumerate() {
            let want = &expected[m * n..(m + 1) * n];
            let offset = m % (nd * na);
            for i in 0..n {
                if map.key.feature == Feature::Correlation && degenerate[offset * n + i] == 1 {
                    // Exactly zero spread: the core returns scikit-image's intended 1.
                    assert_eq!(map.data[i], 1.0, "{name} {}", map.key);
                    continue;
                }
                let d = (map.data[i] - want[i]).abs();
                worst = worst.max(d);
                assert!(
                    d <= 1e-9,
                    "{name} {} pixel {i}: {} vs {}",
                    map.key,
                    map.data[i],
                    want[i]
                );
                compared += 1;
            }
        }
        println!("{name}: {} maps, max |Δ| = {worst:e}", maps.len());

        // Averaging over angles is the mean of the per-angle values.
        let averaged = texture_maps_f64(&view, &params_of(&case, true, 1)).unwrap();
        assert_eq!(averaged.len(), 9 * nd);
        for (k, map) in averaged.iter().enumerate() {
            let (fi, di) = (k / nd, k % nd);
            for i in 0..n {
                let mean = (0..na)
                    .map(|ai| maps[(fi * nd + di) * na + ai].data[i])
                    .sum::<f64>()
                    / na as f64;
                assert!((map.data[i] - mean).abs() <= 1e-12, "{name} {}", map.key);
            }
        }

        // Whole-image features equal graycoprops on the whole image's matrix.
        let whole = glcm_features(&view, &params.glcm).unwrap();
        let want = read_f64(&case["whole_image"]);
        for (v, want) in whole.iter().zip(&want) {
            assert!(
                (v.value - want).abs() <= 1e-9,
                "{name} whole {}: {} vs {want}",
                v.key,
                v.value
            );
        }
        compared += whole.len();
    }
    println!("{compared} values within 1e-9 of scikit-image");
}

#[test]
fn results_do_not_depend_on_thread_count() {
    for case in cases("maps") {
        let (w, h) = size(&case);
        let pixels = read(&case["input"]);
        let view = ImageView::new(w, h, Pixels::Gray8(&pixels)).unwrap();
        let one = texture_maps_f64(&view, &params_of(&case, true, 1)).unwrap();
        for threads in [2, 3, 5, 64] {
            let many = texture_maps_f64(&view, &params_of(&case, true, threads)).unwrap();
            assert_eq!(one, many, "threads {threads}");
        }
        // The single-precision maps are the double ones rounded.
        let singles = texture_maps(&view, &params_of(&case, true, 0)).unwrap();
        for (s, d) in singles.iter().zip(&one) {
            assert_eq!(s.key, d.key);
            assert_eq!((s.image.width, s.image.height), (w, h));
            assert!(s
                .image
                .data
                .iter()
                .zip(&d.data)
                .all(|(&a, &b)| a == b as f32));
        }
    }
}

#[test]
fn whole_image_matrix_equals_graycomatrix() {
    for case in cases("matrix") {
        let (w, h) = size(&case);
        let pixels = read(&case["input"]);
        let view = ImageView::new(w, h, Pixels::Gray8(&pixels)).unwrap();
        let q = quantize(&view, 8, Quantization::Direct).unwrap();
        let p = glcm_matrix(
            &q,
            case["distance"].as_u64().unwrap() as usize,
            case["angle_deg"].as_f64().unwrap(),
            case["symmetric"].as_bool().unwrap(),
            case["normed"].as_bool().unwrap(),
        )
        .unwrap();
        let diff = max_abs_diff(&p, &read_f64(&case["expected"]));
        assert!(diff <= 1e-15, "{}: {diff}", case["name"]);
    }
}

#[test]
fn quantisation_rules() {
    for case in cases("quantize") {
        let (w, h) = size(&case);
        let data = read_f32(&case["input"]);
        let view = ImageView::new(w, h, Pixels::Gray32(&data)).unwrap();
        let levels = case["levels"].as_u64().unwrap() as usize;
        for mode in [Quantization::MinMax, Quantization::Auto] {
            let q = quantize(&view, levels, mode).unwrap();
            assert_eq!(q.data, read(&case["expected"]), "{mode:?}");
        }
    }
    // 8-bit, automatic: fixed 0–255 range, identity at 256 levels.
    let data: Vec<u8> = (0..=255).collect();
    let view = ImageView::new(16, 16, Pixels::Gray8(&data)).unwrap();
    assert_eq!(quantize(&view, 256, Quantization::Auto).unwrap().data, data);
    let q = quantize(&view, 32, Quantization::Auto).unwrap();
    assert!(q.data.iter().zip(&data).all(|(&l, &v)| l == v / 8));
    // 8-bit min–max stretches the image's own range.
    let narrow = [100u8, 110, 120, 130];
    let view = ImageView::new(2, 2, Pixels::Gray8(&narrow)).unwrap();
    assert_eq!(
        quantize(&view, 4, Quantization::MinMax).unwrap().data,
        vec![0, 1, 2, 3]
    );
    // A constant image quantises to level 0.
    let flat = [7.5f32; 6];
    let view = ImageView::new(3, 2, Pixels::Gray32(&flat)).unwrap();
    assert_eq!(
        quantize(&view, 8, Quantization::Auto).unwrap().data,
        vec![0; 6]
    );
}

fn expect_invalid(result: Result<impl std::fmt::Debug, visual_ccc_core::Error>, needle: &str) {
    let err = result.expect_err(needle);
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    assert!(err.to_string().contains(needle), "'{err}' lacks '{needle}'");
}

#[test]
fn parameter_errors_are_clear() {
    let data = [0u8, 1, 2, 3, 4, 5, 6, 7, 40];
    let view = ImageView::new(3, 3, Pixels::Gray8(&data)).unwrap();
    let with = |f: &dyn Fn(&mut TextureParams)| {
        let mut p = TextureParams::default();
        f(&mut p);
        texture_maps_f64(&view, &p)
    };
    expect_invalid(
        with(&|p| p.window = 4),
        "odd number of pixels from 3 to 255 (got 4)",
    );
    expect_invalid(with(&|p| p.window = 1), "(got 1)");
    expect_invalid(with(&|p| p.window = 257), "(got 257)");
    expect_invalid(with(&|p| p.glcm.levels = 1), "between 2 and 256 (got 1)");
    expect_invalid(
        with(&|p| p.glcm.levels = 257),
        "between 2 and 256 (got 257)",
    );
    expect_invalid(
        with(&|p| p.glcm.distances.clear()),
        "at least one pixel-pair distance",
    );
    expect_invalid(with(&|p| p.glcm.distances = vec![1, 0]), "at least 1");
    expect_invalid(
        with(&|p| p.glcm.distances = vec![7]),
        "distance 7 leaves no pairs",
    );
    expect_invalid(
        with(&|p| p.glcm.angles_deg.clear()),
        "at least one pixel-pair angle",
    );
    expect_invalid(
        with(&|p| p.glcm.angles_deg = vec![0.0, 30.0]),
        "angle 30° is not supported",
    );
    expect_invalid(
        with(&|p| p.glcm.angles_deg = vec![f64::NAN]),
        "is not supported",
    );
    expect_invalid(
        with(&|p| p.glcm.features.clear()),
        "at least one texture feature",
    );
    expect_invalid(
        with(&|p| p.glcm.quantization = Quantization::Direct),
        "pixel (2, 2) has value 40, not a grey level 0–31",
    );
    expect_invalid(
        glcm_features(
            &view,
            &GlcmParams {
                angles_deg: vec![180.0],
                ..GlcmParams::default()
            },
        ),
        "angle 180°",
    );
    expect_invalid(Feature::from_name("smoothness"), "unknown texture feature");
    assert_eq!(Feature::from_name("asm").unwrap(), Feature::Asm);
    let q = quantize(&view, 16, Quantization::Auto).unwrap();
    expect_invalid(glcm_matrix(&q, 0, 0.0, true, true), "at least 1");
    expect_invalid(glcm_matrix(&q, 1, 60.0, true, true), "angle 60°");

    let floats = [0.0f32, 1.0, f32::NAN, 2.0];
    let fview = ImageView::new(2, 2, Pixels::Gray32(&floats)).unwrap();
    expect_invalid(texture_maps_f64(&fview, &TextureParams::default()), "NaN");
    expect_invalid(glcm_features(&fview, &GlcmParams::default()), "NaN");
    expect_invalid(reference_contrast(&fview), "NaN");
}

#[test]
fn real_images_reference_pipeline() {
    let Some(shared) = shared_data() else { return };
    let meta = load_json("real_images.json");
    for (entry, rel, path) in common::present_images(&shared, &meta) {
        let img = image::open(&path).unwrap().to_rgb8();
        let (w, h) = (img.width() as usize, img.height() as usize);
        let grey: Vec<u8> = img.pixels().map(|p| p[0]).collect();
        let view = ImageView::new(w, h, Pixels::Gray8(&grey)).unwrap();
        assert_eq!(otsu(&view).unwrap(), exact(&entry["otsu"]), "{rel}");
        let start = Instant::now();
        let map = reference_contrast(&view).unwrap();
        let elapsed = start.elapsed();
        let mut hist = vec![0u64; 21];
        for &v in &map.data {
            let k = (v * 20.0).round();
            assert!((k / 20.0 - v).abs() < 1e-12);
            hist[k as usize] += 1;
        }
        let want: Vec<u64> = entry["histogram_of_20x"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(hist, want, "{rel}");
        for s in entry["samples"].as_array().unwrap() {
            let (y, x) = (
                s[0].as_u64().unwrap() as usize,
                s[1].as_u64().unwrap() as usize,
            );
            let d = (map.data[y * w + x] - exact(&s[2])).abs();
            assert!(d <= 1e-12, "{rel} ({x}, {y})");
        }
        println!("{rel}: reference contrast equal ({w}×{h}, {elapsed:?})");
    }
}

/// Release timings on a 2048×1536 image: `cargo test --release -p visual-ccc-core
/// --test glcm -- --ignored --nocapture`.
#[test]
#[ignore = "timing; run in release"]
fn timing_2048_by_1536() {
    let (w, h) = (2048usize, 1536usize);
    let mut rng = common::Lcg(99);
    let grey: Vec<u8> = (0..w * h)
        .map(|i| {
            let noise = rng.next_u64() >> 58;
            let (x, y) = (i % w, i / w);
            let pattern = ((x / 9 + y / 13) % 2) as u64 * 90 + ((x * y) % 97) as u64;
            ((pattern + noise) % 256) as u8
        })
        .collect();
    let view = ImageView::new(w, h, Pixels::Gray8(&grey)).unwrap();
    let time = |label: &str, f: &dyn Fn()| {
        f();
        let runs = 3;
        let start = Instant::now();
        for _ in 0..runs {
            f();
        }
        println!("{label}: {:?} per run", start.elapsed() / runs);
    };
    time("reference contrast (Otsu + 5×5 levels 2)", &|| {
        reference_contrast(&view).unwrap();
    });
    for (label, angles, threads) in [
        ("9 features, window 7, levels 32, d=1, 0°", vec![0.0], 0),
        (
            "9 features, window 7, levels 32, d=1, 0°, 1 thread",
            vec![0.0],
            1,
        ),
        (
            "9 features, window 7, levels 32, d=1, mean of 4 angles",
            vec![0.0, 45.0, 90.0, 135.0],
            0,
        ),
    ] {
        let params = TextureParams {
            window: 7,
            glcm: GlcmParams {
                levels: 32,
                angles_deg: angles,
                ..GlcmParams::default()
            },
            threads,
        };
        time(label, &|| {
            texture_maps(&view, &params).unwrap();
        });
    }
}
