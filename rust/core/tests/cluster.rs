//! k-means clustering: inertia against scikit-learn golden numbers
//! (`tests/fixtures/cluster/make_golden.py`), reproducibility across runs and thread
//! counts, label order, statistics, parameter checks.

mod common;

use std::path::PathBuf;

use common::floats;
use serde_json::Value;
use visual_ccc_core::analysis::cluster::{
    self, Calibration, ClusterParams, Clustering, Feature, ReferenceParams, SuggestParams,
};
use visual_ccc_core::image::pixels::OwnedImage;
use visual_ccc_core::{ErrorKind, GrayImage, ImageView, Pixels};

/// A golden case's image and scipy's smoothed grey of it.
struct Image {
    owned: OwnedImage,
    smooth: GrayImage,
}

impl Image {
    fn view(&self) -> ImageView<'_> {
        self.owned.view()
    }
}

fn golden() -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/cluster/golden.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("golden file")).unwrap()
}

fn load(v: &Value) -> Image {
    let owned = common::golden_image(v);
    let smooth = floats(&v["smooth_map"]).iter().map(|&x| x as f32).collect();
    let smooth = GrayImage::new(owned.width, owned.height, smooth).unwrap();
    Image { owned, smooth }
}

fn exact_params(k: usize) -> ClusterParams {
    ClusterParams {
        k,
        features: vec![Feature::Grey],
        n_init: 10,
        ..ClusterParams::default()
    }
}

#[test]
fn inertia_is_at_most_scikit_learns() {
    let doc = golden();
    let sigma = doc["smooth_sigma"].as_f64().unwrap();
    let mut failures = Vec::new();
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let image = load(&doc["images"][case["image"].as_str().unwrap()]);
        let k = case["k"].as_u64().unwrap() as usize;
        let sk = case["sklearn_inertia"].as_f64().unwrap();
        let with_smooth = case["features"].as_str().unwrap() == "grey+smooth";
        let extras: Vec<(&str, &GrayImage)> = if with_smooth {
            vec![("smoothed (scipy)", &image.smooth)]
        } else {
            vec![]
        };
        let params = exact_params(k);
        let result = cluster::cluster(&image.view(), &params, &extras).unwrap();
        assert_eq!(
            result.sample_size,
            image.owned.width * image.owned.height,
            "{name}"
        );
        let sk_labels: Vec<u8> = case["sklearn_labels"]
            .as_str()
            .unwrap()
            .bytes()
            .map(|b| b - b'0')
            .collect();
        let agree = result
            .labels
            .iter()
            .zip(&sk_labels)
            .filter(|(a, b)| a == b)
            .count() as f64
            / sk_labels.len() as f64;
        let ratio = result.inertia / sk;
        print!(
            "{name:28} ours {:12.6} sklearn {sk:12.6} ratio {ratio:.9} labels agree {:.4}",
            result.inertia, agree
        );
        if ratio > 1.0 + 1e-6 {
            failures.push(format!("{name}: inertia {} > sklearn {sk}", result.inertia));
        }
        // Our own Gaussian feature instead of scipy's map: same clustering up to f32
        // rounding of the feature.
        if with_smooth && k == 3 {
            let own = ClusterParams {
                features: vec![Feature::Grey, Feature::Smoothed { sigma }],
                ..params.clone()
            };
            let r = cluster::cluster(&image.view(), &own, &[]).unwrap();
            print!("  own-gaussian ratio {:.9}", r.inertia / sk);
            if r.inertia > sk * (1.0 + 1e-4) {
                failures.push(format!("{name} (own Gaussian): {} vs {sk}", r.inertia));
            }
        }
        println!();
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Three grey phases with noise, larger than the default sample so sampling and
/// streaming are exercised.
fn three_phase(w: usize, h: usize, seed: u64) -> Vec<u8> {
    let mut rng = common::Lcg(seed);
    let mut rnd = move || ((rng.next_u64() >> 33) as f64) / (1u64 << 31) as f64;
    (0..w * h)
        .map(|i| {
            let (x, y) = ((i % w) as f64, (i / w) as f64);
            let base = if ((x / 37.0).sin() + (y / 23.0).cos()) > 0.8 {
                200.0
            } else if (x - 0.5 * y).rem_euclid(90.0) < 30.0 {
                120.0
            } else {
                40.0
            };
            let noise = (rnd() + rnd() + rnd() - 1.5) * 40.0;
            (base + noise).clamp(0.0, 255.0) as u8
        })
        .collect()
}

fn label_hash(c: &Clustering) -> u64 {
    // FNV-1a over labels and inertia bits.
    let mut h: u64 = 0xcbf29ce484222325;
    for &b in c
        .labels
        .iter()
        .chain(c.inertia.to_bits().to_le_bytes().iter())
    {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

fn reproducibility_params() -> ClusterParams {
    ClusterParams {
        k: 3,
        features: vec![
            Feature::Smoothed { sigma: 1.5 },
            Feature::LocalVariance { radius: 2 },
        ],
        position_weight: 0.3,
        max_samples: 4_000,
        ..ClusterParams::default()
    }
}

fn reproducibility_run() -> Clustering {
    let (w, h) = (320, 240);
    let data = three_phase(w, h, 11);
    let view = ImageView::new(w, h, Pixels::Gray8(&data)).unwrap();
    cluster::cluster(&view, &reproducibility_params(), &[]).unwrap()
}

/// Helper run in a child process by `identical_across_thread_counts`.
#[test]
fn print_reproducibility_hash() {
    println!("HASH {:016x}", label_hash(&reproducibility_run()));
}

#[test]
fn identical_run_to_run() {
    let a = reproducibility_run();
    let b = reproducibility_run();
    assert_eq!(a, b);
    assert_eq!(a.sample_size, 4_000);
}

#[test]
fn identical_across_thread_counts() {
    // linfa parallelises through rayon's global pool, whose size is fixed per process,
    // so run this test binary again with different RAYON_NUM_THREADS.
    let here = label_hash(&reproducibility_run());
    for threads in ["1", "2", "5"] {
        let hash = common::hash_printed_by(
            "print_reproducibility_hash",
            &[("RAYON_NUM_THREADS", threads)],
        );
        assert_eq!(hash, format!("{here:016x}"), "RAYON_NUM_THREADS={threads}");
    }
}

#[test]
fn statistics_and_label_order() {
    let (w, h) = (400, 250);
    let data = three_phase(w, h, 5);
    let view = ImageView::new(w, h, Pixels::Gray8(&data)).unwrap();
    let params = ClusterParams {
        k: 3,
        max_samples: 5_000,
        calibration: Calibration {
            pixel_width: 0.5,
            pixel_height: 0.25,
            unit: "µm".into(),
        },
        features: vec![Feature::Grey, Feature::Smoothed { sigma: 2.0 }],
        ..ClusterParams::default()
    };
    let r = cluster::cluster(&view, &params, &[]).unwrap();
    assert_eq!(r.sample_size, 5_000);
    assert_eq!(r.labels.len(), w * h);
    assert_eq!(r.feature_names.len(), 2);
    assert_eq!(r.unit, "µm");
    let total: u64 = r.clusters.iter().map(|c| c.pixel_count).sum();
    assert_eq!(total as usize, w * h);
    let frac: f64 = r.clusters.iter().map(|c| c.area_fraction).sum();
    assert!((frac - 1.0).abs() < 1e-12);
    for (i, c) in r.clusters.iter().enumerate() {
        assert_eq!(c.label as usize, i);
        assert!((c.area - c.pixel_count as f64 * 0.125).abs() < 1e-9);
        // Recompute from the label image.
        let (mut n, mut sum) = (0u64, 0f64);
        for (l, &g) in r.labels.iter().zip(&data) {
            if *l == c.label {
                n += 1;
                sum += g as f64;
            }
        }
        assert_eq!(n, c.pixel_count);
        assert!((sum / n as f64 - c.mean_grey).abs() < 1e-6);
        assert!((c.feature_means[0] - c.mean_grey).abs() < 1e-6);
    }
    assert!(r
        .clusters
        .windows(2)
        .all(|p| p[0].mean_grey < p[1].mean_grey));
    // The three phases are found: cluster means near 40, 120, 200.
    for (c, target) in r.clusters.iter().zip([40.0, 120.0, 200.0]) {
        assert!(
            (c.mean_grey - target).abs() < 15.0,
            "{} vs {target}",
            c.mean_grey
        );
    }
    let mask = r.mask(2).unwrap();
    assert_eq!(
        mask.iter().filter(|&&m| m == 255).count() as u64,
        r.clusters[2].pixel_count
    );
    assert_eq!(r.mask(3).unwrap_err().kind(), ErrorKind::InvalidArgument);
}

#[test]
fn constant_feature_and_position() {
    let (w, h) = (60, 40);
    // Two flat halves of equal grey: only position can split them.
    let data = vec![100u16; w * h];
    let view = ImageView::new(w, h, Pixels::Gray16(&data)).unwrap();
    let constant = GrayImage::filled(w, h, 7.0);
    let params = ClusterParams {
        features: vec![Feature::Grey],
        position_weight: 1.0,
        ..ClusterParams::default()
    };
    let r = cluster::cluster(&view, &params, &[("flat", &constant)]).unwrap();
    assert!(r.inertia.is_finite());
    assert_eq!(r.feature_names, ["grey", "flat", "x", "y"]);
    for c in &r.clusters {
        assert_eq!(c.feature_means[1], 7.0);
        assert!(c.pixel_count > 0);
    }
    // A constant image with no position: one populated cluster, no NaN anywhere but the
    // empty cluster's means.
    let params = ClusterParams {
        features: vec![Feature::Grey],
        ..ClusterParams::default()
    };
    let r = cluster::cluster(&view, &params, &[]).unwrap();
    assert_eq!(r.inertia, 0.0);
    assert_eq!(r.clusters[0].pixel_count as usize, w * h);
}

#[test]
fn suggests_three_for_three_phases() {
    let (w, h) = (200, 150);
    let data = three_phase(w, h, 9);
    let view = ImageView::new(w, h, Pixels::Gray8(&data)).unwrap();
    let params = ClusterParams {
        features: vec![Feature::Smoothed { sigma: 2.0 }],
        max_samples: 3000,
        n_init: 2,
        ..ClusterParams::default()
    };
    let suggest = SuggestParams {
        silhouette_samples: 600,
        ..SuggestParams::default()
    };
    let s = cluster::suggest_k(&view, &params, &[], &suggest).unwrap();
    println!("{:?}", s.scores);
    assert_eq!(s.scores.len(), 7);
    assert_eq!(s.best_k, 3);
}

#[test]
fn reference_mode_resizes_to_512() {
    let (w, h) = (1024, 100);
    let data = three_phase(w, h, 3);
    let view = ImageView::new(w, h, Pixels::Gray8(&data)).unwrap();
    let params = ReferenceParams {
        calibration: Calibration {
            pixel_width: 1.0,
            pixel_height: 1.0,
            unit: "nm".into(),
        },
        ..ReferenceParams::default()
    };
    let r = cluster::cluster_reference(&view, &params).unwrap();
    assert_eq!((r.width, r.height), (512, 50));
    assert_eq!(r.sample_size, 512 * 50);
    let area: f64 = r.clusters.iter().map(|c| c.area).sum();
    assert!((area - (w * h) as f64).abs() < 1e-6 * area);
    let full = r.labels_resized(w, h);
    assert_eq!(full.len(), w * h);
    assert_eq!(full[0], r.labels[0]);
    assert_eq!(full[w * h - 1], r.labels[512 * 50 - 1]);
}

fn message(result: visual_ccc_core::Result<Clustering>) -> String {
    common::invalid_argument_message(result)
}

#[test]
fn bad_parameters_give_clear_errors() {
    let data = vec![1u8; 20 * 10];
    let view = ImageView::new(20, 10, Pixels::Gray8(&data)).unwrap();
    let run = |p: ClusterParams| message(cluster::cluster(&view, &p, &[]));
    let d = ClusterParams::default;
    assert!(run(ClusterParams { k: 1, ..d() }).contains("between 2 and 255"));
    assert!(run(ClusterParams { k: 256, ..d() }).contains("got 256"));
    assert!(run(ClusterParams { n_init: 0, ..d() }).contains("n_init"));
    assert!(run(ClusterParams {
        max_iterations: 0,
        ..d()
    })
    .contains("iteration"));
    assert!(run(ClusterParams {
        tolerance: f64::NAN,
        ..d()
    })
    .contains("tolerance"));
    assert!(run(ClusterParams {
        max_samples: 5,
        ..d()
    })
    .contains("sample"));
    assert!(run(ClusterParams {
        position_weight: -1.0,
        ..d()
    })
    .contains("position weight"));
    assert!(run(ClusterParams {
        features: vec![Feature::Smoothed { sigma: 0.0 }],
        ..d()
    })
    .contains("sigma"));
    assert!(run(ClusterParams {
        features: vec![Feature::LocalVariance { radius: 0 }],
        ..d()
    })
    .contains("window radius"));
    assert!(run(ClusterParams {
        features: vec![],
        ..d()
    })
    .contains("no features"));
    let mut cal = d();
    cal.calibration.pixel_width = 0.0;
    assert!(run(cal).contains("pixel width"));

    let wrong = GrayImage::filled(10, 10, 0.0);
    let m = message(cluster::cluster(&view, &d(), &[("glcm", &wrong)]));
    assert!(m.contains("'glcm' is 10×10 but the image is 20×10"), "{m}");
    let mut nan = GrayImage::filled(20, 10, 0.0);
    nan.data[25] = f32::NAN;
    let m = message(cluster::cluster(&view, &d(), &[("cam", &nan)]));
    assert!(m.contains("(5, 1)"), "{m}");

    let mut bad = vec![0.5f32; 200];
    bad[3] = f32::NAN;
    let v = ImageView::new(20, 10, Pixels::Gray32(&bad)).unwrap();
    assert!(message(cluster::cluster(&v, &d(), &[])).contains("NaN"));
    assert!(message(cluster::cluster_reference(&v, &ReferenceParams::default())).contains("NaN"));

    let tiny = [1u8, 2];
    let v = ImageView::new(2, 1, Pixels::Gray8(&tiny)).unwrap();
    assert!(message(cluster::cluster(&v, &ClusterParams { k: 3, ..d() }, &[])).contains("fewer"));
}
