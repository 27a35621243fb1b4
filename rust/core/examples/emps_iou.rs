//! Foreground IoU on the EMPS nanoparticle set for Otsu, the published tool's k-means
//! (reference mode), k-means on smoothed grey alone (the default before the learned
//! foreground feature) and this crate's default clustering, all with two classes.
//!
//! The default's learned feature was trained on these images (all of them, for the
//! shipped network), so its figure here is a training-set figure; the figure on images
//! the network never saw comes from `training/train_foreground.py --train-on even|odd`
//! (docs/models/foreground.md).
//!
//!     cargo run --release -p visual-ccc-core --example emps_iou
//!     cargo run --release -p visual-ccc-core --example emps_iou -- --bench
//!
//! Ground truth is `segmap > 0`; a prediction's IoU is the better of its two polarities
//! (which class is "particle" is not known to an unsupervised method). The images are
//! read from `../shared/data/emps` next to the repository and never copied into it; the
//! example skips with a message when that folder is absent. `--bench` instead times
//! k-means and each filter on a synthetic 2048×1536 8-bit image.

use std::path::{Path, PathBuf};
use std::time::Instant;

use visual_ccc_core::analysis::cluster::{self, ClusterParams, ReferenceParams};
use visual_ccc_core::analysis::filters::{self, *};
use visual_ccc_core::analysis::threshold;
use visual_ccc_core::image::decode::decode_file;
use visual_ccc_core::image::pixels::OwnedPixels;
use visual_ccc_core::model::runtime::RuntimeConfig;
use visual_ccc_core::{ImageView, Pixels};

/// The default clustering, with ONNX Runtime from `scripts/fetch-onnxruntime.sh` (or
/// `ORT_DYLIB_PATH`) for its learned feature.
fn defaults() -> ClusterParams {
    ClusterParams {
        runtime: RuntimeConfig {
            library_path: None,
            search_dirs: vec![PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../build/onnxruntime/linux-x86_64")],
        },
        ..ClusterParams::default()
    }
}

fn main() {
    if std::env::args().any(|a| a == "--bench") {
        bench();
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/emps");
    if !root.join("images").is_dir() {
        println!(
            "skipped: {} not found (the EMPS data live outside the repository)",
            root.display()
        );
        return;
    }
    let mut names: Vec<PathBuf> = std::fs::read_dir(root.join("images"))
        .expect("images folder readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    names.sort();
    // Per image, in name order: [Otsu, reference mode, smoothed grey, default clustering].
    let mut scores: Vec<[f64; 4]> = Vec::new();
    let start = Instant::now();
    for path in &names {
        match evaluate(path, &root) {
            Ok(s) => scores.push(s),
            Err(err) => eprintln!("{}: {err}", path.display()),
        }
    }
    // Means over all images and over the two halves (even / odd positions in name order),
    // to see whether a difference holds on both.
    let mean = |method: usize, parity: Option<usize>| {
        let picked: Vec<f64> = scores
            .iter()
            .enumerate()
            .filter(|(i, _)| parity.is_none_or(|p| i % 2 == p))
            .map(|(_, s)| s[method])
            .collect();
        picked.iter().sum::<f64>() / picked.len() as f64
    };
    let d = defaults();
    let features: Vec<String> = d.features.iter().map(|f| f.name()).collect();
    println!(
        "EMPS foreground IoU, k = 2, mean over {} images (all | even | odd half):",
        scores.len()
    );
    for (method, label) in [
        "Otsu on grey".to_string(),
        "reference mode (512 px, grey)".to_string(),
        "smoothed grey (sigma 2) alone".to_string(),
        format!("default clustering ({})", features.join(" + ")),
    ]
    .iter()
    .enumerate()
    {
        println!(
            "  {label:45} {:.4} | {:.4} | {:.4}",
            mean(method, None),
            mean(method, Some(0)),
            mean(method, Some(1))
        );
    }
    println!("({:.1} s)", start.elapsed().as_secs_f64());
}

fn evaluate(path: &Path, root: &Path) -> visual_ccc_core::Result<[f64; 4]> {
    let image = decode_file(path)?;
    let mask = decode_file(&root.join("segmaps").join(path.file_name().unwrap()))?;
    let truth: Vec<bool> = match &mask.pixels {
        OwnedPixels::Gray16(p) => p.iter().map(|&v| v > 0).collect(),
        OwnedPixels::Gray8(p) => p.iter().map(|&v| v > 0).collect(),
        _ => panic!("unexpected mask type"),
    };
    let view = image.view();
    let n = view.width() * view.height();
    assert_eq!(truth.len(), n, "mask size");

    let t = threshold::otsu(&view)?;
    let otsu: Vec<bool> = (0..n).map(|i| view.gray_at(i) as f64 > t).collect();

    let reference = cluster::cluster_reference(&view, &ReferenceParams::default())?;
    let reference: Vec<bool> = reference
        .labels_resized(view.width(), view.height())
        .iter()
        .map(|&l| l == 1)
        .collect();

    let two_class = |params: &ClusterParams| -> visual_ccc_core::Result<Vec<bool>> {
        let clustering = cluster::cluster(&view, params, &[])?;
        Ok(clustering.labels.iter().map(|&l| l == 1).collect())
    };
    let smoothed = two_class(&ClusterParams {
        features: vec![cluster::Feature::Smoothed { sigma: 2.0 }],
        ..defaults()
    })?;
    let ours = two_class(&defaults())?;

    Ok([
        iou(&otsu, &truth),
        iou(&reference, &truth),
        iou(&smoothed, &truth),
        iou(&ours, &truth),
    ])
}

/// IoU of the better polarity of `pred` against `truth`.
fn iou(pred: &[bool], truth: &[bool]) -> f64 {
    let (mut inter, mut union, mut inter_inv, mut union_inv) = (0u64, 0u64, 0u64, 0u64);
    for (&p, &t) in pred.iter().zip(truth) {
        inter += (p && t) as u64;
        union += (p || t) as u64;
        inter_inv += (!p && t) as u64;
        union_inv += (!p || t) as u64;
    }
    let a = inter as f64 / union.max(1) as f64;
    let b = inter_inv as f64 / union_inv.max(1) as f64;
    a.max(b)
}

fn time<T>(label: &str, mut f: impl FnMut() -> T) -> T {
    let mut out = f(); // warm-up
    let runs = 3;
    let start = Instant::now();
    for _ in 0..runs {
        out = f();
    }
    let ms = start.elapsed().as_secs_f64() * 1000.0 / runs as f64;
    println!("  {label:44} {ms:9.1} ms");
    out
}

fn bench() {
    let (w, h) = (2048, 1536);
    let mut s: u64 = 1;
    let data: Vec<u8> = (0..w * h)
        .map(|i| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = ((s >> 40) as f64 / (1u64 << 24) as f64 - 0.5) * 60.0;
            let (x, y) = ((i % w) as f64, (i / w) as f64);
            let base = if ((x / 61.0).sin() + (y / 43.0).cos()) > 0.9 {
                190.0
            } else if (x - 0.7 * y).rem_euclid(150.0) < 50.0 {
                120.0
            } else {
                50.0
            };
            (base + noise + 20.0 * x / w as f64).clamp(0.0, 255.0) as u8
        })
        .collect();
    let wide: Vec<u16> = data.iter().map(|&v| v as u16 * 257).collect();
    let view = ImageView::new(w, h, Pixels::Gray8(&data)).unwrap();
    let view16 = ImageView::new(w, h, Pixels::Gray16(&wide)).unwrap();
    println!("{w}×{h}, release build, mean of 3 runs after a warm-up:");
    for (label, features) in [
        (
            "k-means k=3, default (smoothed σ=2 + foreground)",
            defaults().features,
        ),
        (
            "k-means k=3, smoothed σ=2",
            vec![cluster::Feature::Smoothed { sigma: 2.0 }],
        ),
        ("k-means k=3, grey", vec![cluster::Feature::Grey]),
        (
            "k-means k=3, smoothed σ=2 + local var r=3",
            vec![
                cluster::Feature::Smoothed { sigma: 2.0 },
                cluster::Feature::LocalVariance { radius: 3 },
            ],
        ),
    ] {
        let params = ClusterParams {
            k: 3,
            features,
            ..defaults()
        };
        let r = time(label, || cluster::cluster(&view, &params, &[]).unwrap());
        assert_eq!(r.labels.len(), w * h);
    }
    time("reference mode k=2 (resize to 512)", || {
        cluster::cluster_reference(&view, &ReferenceParams::default()).unwrap()
    });
    time("median r=2 (8-bit)", || {
        filters::median(&view, &MedianParams { radius: 2 }).unwrap()
    });
    time("median r=10 (8-bit)", || {
        filters::median(&view, &MedianParams { radius: 10 }).unwrap()
    });
    time("median r=2 (16-bit)", || {
        filters::median(&view16, &MedianParams { radius: 2 }).unwrap()
    });
    time("gaussian σ=2", || {
        filters::gaussian(&view, &GaussianParams { sigma: 2.0 }).unwrap()
    });
    time("gaussian σ=10", || {
        filters::gaussian(&view, &GaussianParams { sigma: 10.0 }).unwrap()
    });
    time("bilateral σs=2, σr=30", || {
        let p = BilateralParams {
            spatial_sigma: 2.0,
            range_sigma: 30.0,
        };
        filters::bilateral(&view, &p).unwrap()
    });
    time("CLAHE 8×8 tiles, clip 2 (8-bit)", || {
        filters::clahe(&view, &ClaheParams::default()).unwrap()
    });
    time("CLAHE 8×8 tiles, clip 2 (16-bit)", || {
        filters::clahe(&view16, &ClaheParams::default()).unwrap()
    });
    time("background, rolling paraboloid R=50", || {
        filters::subtract_background(&view, &BackgroundParams::default()).unwrap()
    });
    time("contrast stretch 0.35 %", || {
        filters::stretch_contrast(&view, &ContrastParams::default()).unwrap()
    });
}
