//! Data-bar detection: synthetic micrographs with bars of known height in varied layouts
//! (found, exactly), without a bar (nothing excluded), and the real UHCS fields (their bars
//! were cropped: nothing may be excluded) and EMPS figure panels.

mod common;

use visual_ccc_core::image::databar::{
    detect, detect_rows, DataBar, DataBarParams, EXCLUDED_LABEL,
};
use visual_ccc_core::image::decode::decode_file;
use visual_ccc_core::image::rows::{RowSource, ViewRows};
use visual_ccc_core::{ImageView, Pixels};

/// An SEM-like field: smooth blobs plus detector noise, values in [0, 1]; `dark_bottom`
/// dims the lower part to noise around black (partly clipped), as some real micrographs do.
fn micrograph(width: usize, height: usize, seed: u64, dark_bottom: bool) -> Vec<f32> {
    let mut rng = common::Lcg(seed);
    let blobs: Vec<(f32, f32, f32)> = (0..40)
        .map(|_| {
            (
                rng.unit_f32() * width as f32,
                rng.unit_f32() * height as f32,
                4.0 + rng.unit_f32() * 20.0,
            )
        })
        .collect();
    let mut data = Vec::with_capacity(width * height);
    for y in 0..height {
        for x in 0..width {
            let mut v = 0.35f32;
            for &(bx, by, r) in &blobs {
                let d2 = (x as f32 - bx).powi(2) + (y as f32 - by).powi(2);
                v += 0.4 * (-d2 / (r * r)).exp();
            }
            if dark_bottom {
                let fade = (y as f32 - 0.6 * height as f32) / (0.3 * height as f32);
                v *= 1.0 - 0.9 * fade.clamp(0.0, 1.0);
            }
            v += (rng.unit_f32() - 0.5) * 0.12;
            data.push(v.clamp(0.0, 1.0));
        }
    }
    data
}

/// How a synthetic bar looks.
#[derive(Clone, Copy, Debug)]
struct Layout {
    rows: usize,
    top: bool,
    background: f32,
    ink: f32,
    separator: bool,
    text_lines: usize,
}

/// Burns a bar into `data`: flat background, a separator line, lines of glyph-like
/// strokes and a solid scale bar.
fn burn_bar(data: &mut [f32], width: usize, height: usize, layout: Layout, seed: u64) {
    let mut rng = common::Lcg(seed);
    let first = if layout.top { 0 } else { height - layout.rows };
    let rows = first..first + layout.rows;
    for y in rows.clone() {
        data[y * width..(y + 1) * width].fill(layout.background);
    }
    if layout.separator {
        let line = if layout.top { rows.end - 1 } else { first };
        data[line * width..(line + 1) * width].fill(layout.ink);
    }
    let line_height = (layout.rows - 2) / layout.text_lines.max(1);
    for line in 0..layout.text_lines {
        let y0 = first + 2 + line * line_height;
        let glyph_h = (line_height * 2 / 3).max(3);
        let mut x = 4;
        while x + 6 < width * 3 / 5 {
            // A glyph: two or three one-pixel strokes.
            for stroke in 0..(2 + (rng.unit_f32() * 2.0) as usize) {
                let sx = x + stroke * 2;
                for y in y0..(y0 + glyph_h).min(rows.end) {
                    data[y * width + sx] = layout.ink;
                }
            }
            x += 7 + (rng.unit_f32() * 3.0) as usize;
        }
    }
    // Scale bar on the right.
    let y = first + layout.rows / 2;
    for x in width * 3 / 4..width - 8 {
        data[y * width + x] = layout.ink;
        data[(y + 1) * width + x] = layout.ink;
    }
}

fn to_u8(data: &[f32]) -> Vec<u8> {
    data.iter().map(|v| (v * 255.0).round() as u8).collect()
}

fn detect_u8(width: usize, height: usize, data: &[u8]) -> DataBar {
    let view = ImageView::new(width, height, Pixels::Gray8(data)).unwrap();
    detect(&view, &DataBarParams::default()).unwrap()
}

const LAYOUTS: [Layout; 6] = [
    // Black strip with white text (FEI / JEOL style).
    Layout {
        rows: 40,
        top: false,
        background: 0.0,
        ink: 1.0,
        separator: false,
        text_lines: 2,
    },
    // White strip with black text and a separator line.
    Layout {
        rows: 28,
        top: false,
        background: 1.0,
        ink: 0.0,
        separator: true,
        text_lines: 1,
    },
    // Grey strip, several text lines.
    Layout {
        rows: 64,
        top: false,
        background: 0.5,
        ink: 1.0,
        separator: true,
        text_lines: 3,
    },
    // A thin bar.
    Layout {
        rows: 12,
        top: false,
        background: 0.1,
        ink: 0.95,
        separator: false,
        text_lines: 1,
    },
    // Bar along the top.
    Layout {
        rows: 36,
        top: true,
        background: 0.0,
        ink: 1.0,
        separator: true,
        text_lines: 2,
    },
    // Tall bar (a quarter of the image).
    Layout {
        rows: 96,
        top: false,
        background: 0.0,
        ink: 0.8,
        separator: false,
        text_lines: 4,
    },
];

#[test]
fn finds_bars_of_every_layout_exactly() {
    let (width, height) = (320, 384);
    for (i, layout) in LAYOUTS.iter().enumerate() {
        for dark_bottom in [false, true] {
            let mut data = micrograph(width, height, 7 + i as u64, dark_bottom);
            burn_bar(&mut data, width, height, *layout, 99 + i as u64);
            let bar = detect_u8(width, height, &to_u8(&data));
            let (top, bottom) = if layout.top {
                (layout.rows, 0)
            } else {
                (0, layout.rows)
            };
            assert_eq!(
                (bar.top_rows, bar.bottom_rows),
                (top, bottom),
                "layout {i} {layout:?}, dark bottom {dark_bottom}"
            );
        }
    }
}

#[test]
fn finds_bar_in_16_bit_and_float_images() {
    let (width, height) = (256, 256);
    let mut data = micrograph(width, height, 3, false);
    burn_bar(&mut data, width, height, LAYOUTS[0], 5);
    let wide: Vec<u16> = data.iter().map(|v| 1000 + (v * 40000.0) as u16).collect();
    let view = ImageView::new(width, height, Pixels::Gray16(&wide)).unwrap();
    let bar = detect(&view, &DataBarParams::default()).unwrap();
    assert_eq!(bar.bottom_rows, LAYOUTS[0].rows);
    let view = ImageView::new(width, height, Pixels::Gray32(&data)).unwrap();
    let bar = detect(&view, &DataBarParams::default()).unwrap();
    assert_eq!(bar.bottom_rows, LAYOUTS[0].rows);
    assert_eq!(bar.kept(&view).unwrap().height(), height - LAYOUTS[0].rows);
}

#[test]
fn streamed_rows_give_the_same_bar_and_read_only_kept_rows() {
    let (width, height) = (200, 160);
    let mut data = micrograph(width, height, 11, false);
    burn_bar(&mut data, width, height, LAYOUTS[4], 3);
    burn_bar(&mut data, width, height, LAYOUTS[0], 4);
    let pixels = to_u8(&data);
    let view = ImageView::new(width, height, Pixels::Gray8(&pixels)).unwrap();
    let from_view = detect(&view, &DataBarParams::default()).unwrap();
    assert_eq!((from_view.top_rows, from_view.bottom_rows), (36, 40));
    let mut rows = ViewRows::new(view).unwrap();
    let streamed = detect_rows(&mut rows, &DataBarParams::default()).unwrap();
    assert_eq!(streamed, from_view);
    let mut kept = streamed.kept_rows_of(&mut rows).unwrap();
    assert_eq!(kept.height(), height - 76);
    let mut first = vec![0.0; width];
    kept.read_rows(0, &mut first).unwrap();
    assert_eq!(first[0], pixels[36 * width] as f32 / 255.0);
    let mut past = vec![0.0; width];
    assert!(kept.read_rows(height - 76, &mut past).is_err());
}

#[test]
fn excludes_nothing_without_a_bar() {
    let (width, height) = (320, 256);
    for seed in 0..6 {
        for dark_bottom in [false, true] {
            let data = to_u8(&micrograph(width, height, seed, dark_bottom));
            let bar = detect_u8(width, height, &data);
            assert_eq!(
                bar.excluded_rows(),
                0,
                "seed {seed}, dark {dark_bottom}: {bar:?}"
            );
        }
    }
    // Flat and two-level images are graphics from edge to edge: no bar to tell apart.
    let flat = vec![17u8; width * height];
    assert_eq!(detect_u8(width, height, &flat).excluded_rows(), 0);
    let halves: Vec<u8> = (0..width * height)
        .map(|i| if i < width * height / 2 { 0 } else { 255 })
        .collect();
    assert_eq!(detect_u8(width, height, &halves).excluded_rows(), 0);
}

#[test]
fn tiny_images_and_bad_params_are_handled() {
    for (w, h) in [(1, 1), (1, 40), (40, 1), (3, 3)] {
        let data = vec![0u8; w * h];
        assert_eq!(detect_u8(w, h, &data).excluded_rows(), 0, "{w}×{h}");
    }
    let data = [0u8; 4];
    let view = ImageView::new(2, 2, Pixels::Gray8(&data)).unwrap();
    let params = DataBarParams {
        max_fraction: 1.5,
        ..DataBarParams::default()
    };
    let err = detect(&view, &params).unwrap_err().to_string();
    assert!(err.contains("max_fraction"), "{err}");
    let params = DataBarParams {
        min_rows: 0,
        ..DataBarParams::default()
    };
    assert!(detect(&view, &params).is_err());
}

#[test]
fn expand_puts_fill_in_excluded_rows() {
    let bar = DataBar {
        width: 2,
        height: 4,
        top_rows: 1,
        bottom_rows: 1,
    };
    assert_eq!(bar.kept_rows(), 1..3);
    assert_eq!(
        bar.expand(&[1u8, 2, 3, 4], EXCLUDED_LABEL),
        vec![255, 255, 1, 2, 3, 4, 255, 255]
    );
    assert_eq!(bar.kept_region().height, 2);
}

/// False positives on real micrographs: the UHCS fields had their bars cropped, so every
/// exclusion there is wrong. EMPS panels are figure crops, a few with their instrument bar:
/// whatever is excluded there must hold no particle of the data set's masks.
#[test]
fn real_micrographs_false_positive_rate() {
    let Some(data) = common::shared_data() else {
        return;
    };
    // (images read, bars found with their paths)
    let bars_in = |paths: Vec<std::path::PathBuf>| {
        let read = paths.len();
        let found: Vec<_> = paths
            .into_iter()
            .filter_map(|path| {
                let image = decode_file(&path).unwrap();
                let bar = detect(&image.view(), &DataBarParams::default()).unwrap();
                (bar.excluded_rows() > 0).then_some((path, bar))
            })
            .collect();
        (read, found)
    };
    let files = |dir: std::path::PathBuf| {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect::<Vec<_>>()
    };
    let uhcs_files = ["carbide_network", "pearlite", "spheroidite"]
        .iter()
        .flat_map(|class| files(data.join("uhcs").join(class)))
        .collect();
    let uhcs = bars_in(uhcs_files);
    for (path, bar) in &uhcs.1 {
        println!("UHCS exclusion: {} {bar:?}", path.display());
    }
    let emps = bars_in(files(data.join("emps/images")));
    for (path, bar) in &emps.1 {
        println!("EMPS exclusion: {} {bar:?}", path.display());
        // The excluded rows hold no particle of the data set's own masks, except on the
        // row next to the micrograph: JPEG blurs the bar's edge and masks drawn by hand
        // may run onto it (2e4a3ab627: 25 pixels on a row of grey ~20 against ~138).
        let mask = decode_file(&data.join("emps/segmaps").join(path.file_name().unwrap())).unwrap();
        let mask = mask.view();
        let kept = bar.kept_rows();
        let edge_rows = [kept.start.wrapping_sub(1), kept.end];
        let excluded = (0..bar.height)
            .filter(|y| !kept.contains(y) && !edge_rows.contains(y))
            .flat_map(|y| (0..bar.width).map(move |x| y * bar.width + x));
        let particle_pixels = excluded.filter(|&i| mask.gray_at(i) > 0.0).count();
        assert_eq!(
            particle_pixels,
            0,
            "{}: bar rows cover particles",
            path.display()
        );
    }
    println!(
        "UHCS: {} of {} images had rows excluded; EMPS: {} of {}",
        uhcs.1.len(),
        uhcs.0,
        emps.1.len(),
        emps.0
    );
    assert!(uhcs.1.is_empty(), "UHCS fields have no bar");
}
