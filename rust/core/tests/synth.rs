//! Synthetic micrograph generator: determinism, value ranges, plausible statistics per
//! class, parameter validation and file output.

use std::time::Instant;

use visual_ccc_core::synth::{
    generate, generate_labeled, save_gray16, save_gray8, save_mask, to_gray16, to_gray8,
    SynthClass, SynthParams,
};
use visual_ccc_core::{ErrorKind, GrayImage};

fn params(class: SynthClass, width: usize, height: usize, seed: u64) -> SynthParams {
    SynthParams::new(class, width, height, seed)
}

fn mean(values: &[f32]) -> f32 {
    values.iter().map(|&v| v as f64).sum::<f64>() as f32 / values.len() as f32
}

fn std_dev(values: &[f32]) -> f32 {
    let m = mean(values);
    (values
        .iter()
        .map(|&v| ((v - m) as f64).powi(2))
        .sum::<f64>()
        / values.len() as f64)
        .sqrt() as f32
}

fn fraction(mask: &[bool]) -> f32 {
    mask.iter().filter(|&&m| m).count() as f32 / mask.len() as f32
}

#[test]
fn same_params_give_identical_pixels() {
    for class in SynthClass::ALL {
        let p = params(class, 96, 80, 42);
        let a = generate(&p).unwrap();
        let b = generate(&p).unwrap();
        assert_eq!(a, b, "{class}");
    }
}

#[test]
fn identical_pixels_on_other_threads() {
    let reference: Vec<GrayImage> = SynthClass::ALL
        .iter()
        .map(|&c| generate(&params(c, 80, 64, 9)).unwrap())
        .collect();
    let handles: Vec<_> = SynthClass::ALL
        .iter()
        .map(|&c| std::thread::spawn(move || generate(&params(c, 80, 64, 9)).unwrap()))
        .collect();
    for (handle, expected) in handles.into_iter().zip(&reference) {
        assert_eq!(&handle.join().unwrap(), expected);
    }
}

#[test]
fn different_seeds_give_different_images() {
    for class in SynthClass::ALL {
        let a = generate(&params(class, 96, 80, 1)).unwrap();
        let b = generate(&params(class, 96, 80, 2)).unwrap();
        let differing = a
            .data
            .iter()
            .zip(&b.data)
            .filter(|(x, y)| (*x - *y).abs() > 1e-3)
            .count();
        assert!(
            differing > a.data.len() / 2,
            "{class}: only {differing} pixels differ"
        );
    }
}

#[test]
fn every_class_is_non_constant_and_in_unit_range() {
    for class in SynthClass::ALL {
        for seed in 0..4 {
            let image = generate(&params(class, 128, 112, seed)).unwrap();
            assert!(
                image
                    .data
                    .iter()
                    .all(|v| v.is_finite() && (0.0..=1.0).contains(v)),
                "{class} seed {seed}: values outside [0, 1]"
            );
            let sd = std_dev(&image.data);
            assert!(sd > 0.03, "{class} seed {seed}: nearly constant (sd {sd})");
            let m = mean(&image.data);
            assert!((0.1..0.9).contains(&m), "{class} seed {seed}: mean {m}");
        }
    }
}

#[test]
fn sizes_are_honoured() {
    for class in SynthClass::ALL {
        for (w, h) in [(16, 16), (17, 300), (300, 16), (97, 61)] {
            let s = generate_labeled(&params(class, w, h, 5)).unwrap();
            assert_eq!((s.image.width, s.image.height), (w, h), "{class}");
            assert_eq!(s.image.data.len(), w * h, "{class}");
            assert_eq!(s.mask.len(), w * h, "{class}");
            assert!(s.image.data.iter().all(|v| (0.0..=1.0).contains(v)));
        }
    }
}

#[test]
fn dendrites_cover_a_plausible_fraction_and_are_bright() {
    for seed in 0..12 {
        let s = generate_labeled(&params(SynthClass::Dendrite, 256, 192, seed)).unwrap();
        let f = fraction(&s.mask);
        assert!(
            (0.05..=0.6).contains(&f),
            "seed {seed}: dendrite fraction {f}"
        );
        let (mut fg, mut bg) = (Vec::new(), Vec::new());
        for (&v, &m) in s.image.data.iter().zip(&s.mask) {
            if m {
                fg.push(v)
            } else {
                bg.push(v)
            }
        }
        assert!(
            mean(&fg) > mean(&bg) + 0.05,
            "seed {seed}: dendrites not brighter ({} vs {})",
            mean(&fg),
            mean(&bg)
        );
    }
}

#[test]
fn other_classes_have_plausible_mask_fractions() {
    let cases = [
        // spheroid fields range from a few particles on an empty film to packed layers
        (SynthClass::Spheroid, 0.02, 0.97),
        // the etched-network look has boundaries several pixels wide
        (SynthClass::Grains, 0.01, 0.5),
        (SynthClass::Lamellar, 0.05, 0.6),
        (SynthClass::Whisker, 0.03, 0.7),
        (SynthClass::Mossy, 0.1, 0.95),
        (SynthClass::Granular, 0.3, 1.0),
    ];
    for (class, lo, hi) in cases {
        for seed in 0..8 {
            let s = generate_labeled(&params(class, 192, 160, seed)).unwrap();
            let f = fraction(&s.mask);
            assert!(
                (lo..=hi).contains(&f),
                "{class} seed {seed}: mask fraction {f}"
            );
        }
    }
}

#[test]
fn mean_grey_is_no_class_cue() {
    // The per-class ranges of mean grey overlap, so brightness alone cannot separate them.
    let ranges: Vec<(f32, f32)> = SynthClass::ALL
        .iter()
        .map(|&class| {
            (0..10)
                .map(|seed| mean(&generate(&params(class, 96, 96, 100 + seed)).unwrap().data))
                .fold((f32::MAX, f32::MIN), |(lo, hi), m| (lo.min(m), hi.max(m)))
        })
        .collect();
    let lowest_max = ranges.iter().map(|r| r.1).fold(f32::MAX, f32::min);
    let highest_min = ranges.iter().map(|r| r.0).fold(f32::MIN, f32::max);
    assert!(
        highest_min < lowest_max,
        "mean grey ranges do not overlap: {ranges:?}"
    );
}

#[test]
fn clean_scenes_are_stretched_to_unit_range() {
    for class in SynthClass::ALL {
        let mut p = params(class, 64, 64, 3);
        p.imaging = false;
        let image = generate(&p).unwrap();
        let lo = image.data.iter().copied().fold(f32::MAX, f32::min);
        let hi = image.data.iter().copied().fold(f32::MIN, f32::max);
        assert_eq!((lo, hi), (0.0, 1.0), "{class}");
    }
}

#[test]
fn feature_scale_changes_the_structure() {
    let mut p = params(SynthClass::Grains, 128, 128, 4);
    let a = generate_labeled(&p).unwrap();
    p.feature_scale = 3.0;
    let b = generate_labeled(&p).unwrap();
    // Larger grains: fewer boundary pixels.
    assert!(fraction(&b.mask) < fraction(&a.mask));
}

#[test]
fn invalid_params_are_rejected_with_messages() {
    let cases: [(SynthParams, &str); 6] = [
        (params(SynthClass::Grains, 15, 64, 0), "width 15"),
        (params(SynthClass::Grains, 8193, 64, 0), "width 8193"),
        (params(SynthClass::Grains, 64, 0, 0), "height 0"),
        (params(SynthClass::Grains, 64, 9000, 0), "16..=8192"),
        (
            SynthParams {
                feature_scale: f32::NAN,
                ..params(SynthClass::Dendrite, 64, 64, 0)
            },
            "feature scale",
        ),
        (
            SynthParams {
                feature_scale: 10.0,
                ..params(SynthClass::Dendrite, 64, 64, 0)
            },
            "feature scale 10",
        ),
    ];
    for (p, expected) in cases {
        let err = p.validate().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(err.to_string().contains(expected), "{err}");
        let err = generate(&p).unwrap_err();
        assert!(err.to_string().contains(expected), "{err}");
    }
    assert!(params(SynthClass::Lamellar, 16, 8192, 0).validate().is_ok());
}

#[test]
fn class_names_parse() {
    for class in SynthClass::ALL {
        assert_eq!(class.name().parse::<SynthClass>().unwrap(), class);
        assert_eq!(class.to_string(), class.name());
    }
    let err = "pearlite".parse::<SynthClass>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("pearlite"), "{err}");
    assert!(err
        .to_string()
        .contains("dendrite, spheroid, grains, lamellar"));
}

#[test]
fn gray8_conversion_clamps_and_rounds() {
    let image = GrayImage {
        width: 6,
        height: 1,
        data: vec![0.0, 0.5, 1.0, -0.2, 1.7, f32::NAN],
    };
    assert_eq!(to_gray8(&image), vec![0, 128, 255, 0, 255, 0]);
}

#[test]
fn saves_png_and_tiff() {
    let dir = std::env::temp_dir().join(format!("visual-ccc-synth-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let s = generate_labeled(&params(SynthClass::Spheroid, 40, 24, 1)).unwrap();
    let bytes = to_gray8(&s.image);
    for name in ["a.png", "b.tif", "c.TIFF"] {
        let path = dir.join(name);
        save_gray8(&s.image, &path).unwrap();
        let back = image::open(&path).unwrap().into_luma8();
        assert_eq!((back.width(), back.height()), (40, 24), "{name}");
        assert_eq!(back.as_raw(), &bytes, "{name}");
    }
    let mask_path = dir.join("m.png");
    save_mask(&s.mask, 40, 24, &mask_path).unwrap();
    let back = image::open(&mask_path).unwrap().into_luma8();
    assert!(back.as_raw().iter().all(|&v| v == 0 || v == 255));
    assert!(save_mask(&s.mask, 41, 24, &mask_path).is_err());
    let missing = dir.join("no/such/dir/x.png");
    let err = save_gray8(&s.image, &missing).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Release timings: `cargo test --release -p visual-ccc-core --test synth -- --ignored --nocapture`.
#[test]
#[ignore]
fn timings() {
    for (w, h) in [(512, 512), (2048, 1536)] {
        for class in SynthClass::ALL {
            let runs = 6;
            let mut times = Vec::new();
            for seed in 0..runs {
                let start = Instant::now();
                let image = generate(&params(class, w, h, seed)).unwrap();
                times.push(start.elapsed().as_secs_f64() * 1e3);
                assert_eq!(image.data.len(), w * h);
            }
            times.sort_by(f64::total_cmp);
            println!(
                "{w}x{h} {class:9} median {:7.1} ms  max {:7.1} ms",
                times[runs as usize / 2],
                times[runs as usize - 1]
            );
        }
    }
}

#[test]
fn annotations_only_touch_their_own_pixels() {
    // Annotation is drawn last: with it on, the image is the same micrograph, changed
    // only where a bar, label or letter was burnt in, and the mask is cleared there.
    for class in SynthClass::ALL {
        for seed in 0..3 {
            let plain = generate_labeled(&params(class, 160, 128, seed)).unwrap();
            let mut p = params(class, 160, 128, seed);
            p.annotate = true;
            let annotated = generate_labeled(&p).unwrap();
            let changed: Vec<usize> = (0..160 * 128)
                .filter(|&i| plain.image.data[i] != annotated.image.data[i])
                .collect();
            assert!(
                !changed.is_empty(),
                "{class} seed {seed}: nothing annotated"
            );
            assert!(
                changed.len() < 160 * 128 / 3,
                "{class} seed {seed}: {} pixels changed",
                changed.len()
            );
            assert!(
                changed.iter().all(|&i| !annotated.mask[i]),
                "{class} seed {seed}"
            );
            assert!(annotated.image.data.iter().all(|v| (0.0..=1.0).contains(v)));
        }
    }
}

#[test]
fn data_bars_are_uniform_strips_along_an_edge() {
    // Some seeds draw an instrument data bar: a full-width strip at the bottom or top
    // whose background is one grey level.
    let mut bars = 0;
    for seed in 0..12 {
        let mut p = params(SynthClass::Whisker, 200, 150, seed);
        p.annotate = true;
        let image = generate(&p).unwrap();
        for row in [0, 149] {
            let line = &image.data[row * 200..(row + 1) * 200];
            let most = line
                .iter()
                .filter(|&&v| (v - line[100]).abs() < 1e-6 || (v - line[0]).abs() < 1e-6)
                .count();
            if most > 150 && std_dev(line) < 0.45 {
                bars += 1;
            }
        }
    }
    assert!(bars >= 3, "only {bars} data bars in 12 annotated images");
}

#[test]
fn sixteen_bit_counts_have_a_seeded_offset_and_gain() {
    let image = generate(&params(SynthClass::Granular, 64, 48, 5)).unwrap();
    let counts = to_gray16(&image, 5);
    assert_eq!(counts, to_gray16(&image, 5));
    assert_ne!(counts, to_gray16(&image, 6));
    // Monotone in the grey value: the same order of pixels.
    let mut order: Vec<usize> = (0..image.data.len()).collect();
    order.sort_by(|&a, &b| image.data[a].total_cmp(&image.data[b]));
    assert!(order.windows(2).all(|p| counts[p[0]] <= counts[p[1]]));
    let path = std::env::temp_dir().join(format!("vccc-synth16-{}.png", std::process::id()));
    save_gray16(&image, 5, &path).unwrap();
    let back = image::open(&path).unwrap().into_luma16();
    assert_eq!(back.as_raw(), &counts);
    std::fs::remove_file(path).unwrap();
}
