//! The learned foreground feature and the default clustering that uses it, on synthetic
//! particles (discs on a shaded, noisy background) in both polarities.

mod common;

use visual_ccc_core::analysis::cluster::foreground::ForegroundModel;
use visual_ccc_core::analysis::cluster::{
    self, ClusterParams, Clustering, Feature, DEFAULT_FEATURES,
};
use visual_ccc_core::{ImageView, Pixels};

const W: usize = 320;
const H: usize = 240;

/// Discs (the truth mask) on a background with a left-to-right shading and noise;
/// `dark` particles as in TEM, bright ones as in SEM.
fn particles(dark: bool, seed: u64) -> (Vec<u8>, Vec<bool>) {
    let discs = [
        (60.0, 50.0, 18.0),
        (150.0, 70.0, 12.0),
        (250.0, 60.0, 22.0),
        (90.0, 170.0, 25.0),
        (200.0, 180.0, 15.0),
        (280.0, 200.0, 9.0),
    ];
    let mut rng = common::Lcg(seed);
    let mut noise = move || ((rng.next_u64() >> 40) as f64 / (1u64 << 24) as f64 - 0.5) * 40.0;
    let mut pixels = Vec::with_capacity(W * H);
    let mut truth = Vec::with_capacity(W * H);
    for y in 0..H {
        for x in 0..W {
            let inside = discs
                .iter()
                .any(|&(cx, cy, r)| (x as f64 - cx).powi(2) + (y as f64 - cy).powi(2) < r * r);
            let background = 150.0 + 40.0 * x as f64 / W as f64;
            let particle = if dark { 40.0 } else { 240.0 };
            let v = if inside { particle } else { background } + noise();
            pixels.push(v.clamp(0.0, 255.0) as u8);
            truth.push(inside);
        }
    }
    (pixels, truth)
}

fn params() -> ClusterParams {
    ClusterParams {
        runtime: common::runtime_config(),
        ..ClusterParams::default()
    }
}

/// IoU of the better polarity of a two-cluster labelling against the truth.
fn iou(clustering: &Clustering, truth: &[bool]) -> f64 {
    let score = |label: u8| {
        let (mut inter, mut union) = (0, 0);
        for (&l, &t) in clustering.labels.iter().zip(truth) {
            inter += usize::from(l == label && t);
            union += usize::from(l == label || t);
        }
        inter as f64 / union as f64
    };
    score(0).max(score(1))
}

#[test]
fn default_features_are_smoothed_grey_and_the_learned_foreground() {
    assert_eq!(
        DEFAULT_FEATURES,
        [Feature::Smoothed { sigma: 2.0 }, Feature::Foreground]
    );
    assert_eq!(Feature::Foreground.name(), "foreground (learned)");
}

#[test]
fn probability_is_high_on_particles_of_either_polarity() {
    let model = ForegroundModel::bundled(&common::runtime_config()).expect("bundled model loads");
    for dark in [true, false] {
        let (pixels, truth) = particles(dark, 3);
        let view = ImageView::new(W, H, Pixels::Gray8(&pixels)).unwrap();
        let map = model.probability(&view).unwrap();
        assert_eq!((map.width, map.height), (W, H));
        assert!(map.data.iter().all(|v| (0.0..=1.0).contains(v)));
        let mean = |inside: bool| {
            let values: Vec<f32> = map
                .data
                .iter()
                .zip(&truth)
                .filter(|(_, &t)| t == inside)
                .map(|(&v, _)| v)
                .collect();
            values.iter().sum::<f32>() / values.len() as f32
        };
        assert!(mean(true) > 0.8, "dark {dark}: inside {}", mean(true));
        assert!(mean(false) < 0.2, "dark {dark}: outside {}", mean(false));
    }
}

#[test]
fn probability_of_a_mirrored_image_is_the_mirrored_probability() {
    // The map averages the network over the image's four mirrorings, turned back: so
    // mirroring the image mirrors the map (to rounding), whichever way the scene lies.
    let model = ForegroundModel::bundled(&common::runtime_config()).expect("bundled model loads");
    let (pixels, _) = particles(true, 11);
    let map_of = |pixels: &[u8]| {
        let view = ImageView::new(W, H, Pixels::Gray8(pixels)).unwrap();
        model.working_probability(&view).unwrap()
    };
    let map = map_of(&pixels);
    let (w, h) = (map.width, map.height);
    let mirrored_x: Vec<u8> = pixels
        .chunks_exact(W)
        .flat_map(|row| row.iter().rev().copied())
        .collect();
    let mirrored_y: Vec<u8> = pixels.chunks_exact(W).rev().flatten().copied().collect();
    for (mirrored, mirror_x) in [(mirrored_x, true), (mirrored_y, false)] {
        let other = map_of(&mirrored);
        let mut largest = 0f32;
        for y in 0..h {
            for x in 0..w {
                let (sx, sy) = if mirror_x {
                    (w - 1 - x, y)
                } else {
                    (x, h - 1 - y)
                };
                largest = largest.max((other.data[y * w + x] - map.data[sy * w + sx]).abs());
            }
        }
        assert!(
            largest < 1e-4,
            "mirror_x {mirror_x}: largest difference {largest}"
        );
    }
    // The scene itself is not symmetric, so this would fail if the maps were not turned
    // back before averaging.
    let asymmetry = (0..h * w)
        .map(|i| (map.data[i] - map.data[(i / w) * w + w - 1 - i % w]).abs())
        .fold(0f32, f32::max);
    assert!(asymmetry > 0.5, "{asymmetry}");
}

#[test]
fn default_clustering_finds_the_particles() {
    for dark in [true, false] {
        let (pixels, truth) = particles(dark, 5);
        let view = ImageView::new(W, H, Pixels::Gray8(&pixels)).unwrap();
        let clustering = cluster::cluster(&view, &params(), &[]).unwrap();
        assert_eq!(
            clustering.feature_names,
            ["smoothed grey (sigma 2)", "foreground (learned)"]
        );
        let score = iou(&clustering, &truth);
        assert!(score > 0.9, "dark {dark}: IoU {score}");
    }
}

/// Dark and bright halves (grey 60 and 190) with uniform noise of ±`noise`.
fn halves(w: usize, h: usize, noise: f64, seed: u64) -> (Vec<u8>, Vec<bool>) {
    let mut rng = common::Lcg(seed);
    let mut pixels = Vec::with_capacity(w * h);
    let mut truth = Vec::with_capacity(w * h);
    for _ in 0..h {
        for x in 0..w {
            let jitter = ((rng.next_u64() >> 40) as f64 / (1u64 << 24) as f64 - 0.5) * 2.0 * noise;
            let bright = x >= w / 2;
            pixels.push((if bright { 190.0 } else { 60.0 } + jitter).round() as u8);
            truth.push(bright);
        }
    }
    (pixels, truth)
}

/// The map weighs more only where it has found particles: on plain two-region images it
/// weighs as much as grey, and the default clustering splits them into their halves.
#[test]
fn the_map_weighs_more_on_particles_only() {
    let model = ForegroundModel::bundled(&common::runtime_config()).unwrap();
    let weight = |view: &ImageView| {
        let map = model.working_probability(view).unwrap();
        cluster::foreground::clustering_weight(&map)
    };
    for dark in [true, false] {
        let (pixels, _) = particles(dark, 5);
        let view = ImageView::new(W, H, Pixels::Gray8(&pixels)).unwrap();
        assert!(weight(&view) > 1.0, "particles, dark {dark}");
    }
    for (w, h, noise) in [
        (60, 40, 10.0),
        (40, 30, 8.0),
        (400, 300, 10.0),
        (400, 300, 0.0),
    ] {
        let (pixels, truth) = halves(w, h, noise, 3);
        let view = ImageView::new(w, h, Pixels::Gray8(&pixels)).unwrap();
        assert_eq!(weight(&view), 1.0, "halves {w}×{h} ±{noise}");
        let clustering = cluster::cluster(&view, &params(), &[]).unwrap();
        let score = iou(&clustering, &truth);
        // A column at the boundary may go either way on the smallest image (smoothing).
        assert!(score > 0.9, "halves {w}×{h} ±{noise}: IoU {score}");
    }
}

fn reproducibility_hash() -> u64 {
    let threads = std::env::var("VISUALCCC_TEST_THREADS").map_or(0, |t| t.parse().unwrap());
    let (pixels, _) = particles(true, 7);
    let view = ImageView::new(W, H, Pixels::Gray8(&pixels)).unwrap();
    let params = ClusterParams {
        k: 3,
        threads,
        ..params()
    };
    let clustering = cluster::cluster(&view, &params, &[]).unwrap();
    clustering
        .labels
        .iter()
        .fold(0xcbf29ce484222325u64, |h, &l| {
            (h ^ l as u64).wrapping_mul(0x100000001b3)
        })
}

/// Helper run in a child process by `default_clustering_is_identical_across_thread_counts`.
#[test]
fn print_default_clustering_hash() {
    println!("HASH {:016x}", reproducibility_hash());
}

#[test]
fn default_clustering_is_identical_across_thread_counts() {
    // The network's session is created once per process, so each thread count runs in a
    // child process of this test binary.
    let here = reproducibility_hash();
    for threads in ["1", "3"] {
        let hash = common::hash_printed_by(
            "print_default_clustering_hash",
            &[
                ("VISUALCCC_TEST_THREADS", threads),
                ("RAYON_NUM_THREADS", threads),
            ],
        );
        assert_eq!(hash, format!("{here:016x}"), "threads {threads}");
    }
}
