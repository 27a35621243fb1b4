//! Whole-image classification through a real (fixture) model: batching, aggregation,
//! seamless maps and bounded reads.

mod common;

use visual_ccc_core::cam::{CamMethod, CamTarget, OcclusionParams};
use visual_ccc_core::model::tiling::{classify_whole, RowSource, TilingOptions, ViewRows};
use visual_ccc_core::model::{Model, ModelOptions};
use visual_ccc_core::{ErrorKind, ImageView, Pixels, Result};

/// A procedurally generated 8-bit image that never exists in memory; records the
/// largest read so tests can check the tiler only ever holds one band of rows.
struct SyntheticRows {
    width: usize,
    height: usize,
    largest_read: usize,
}

impl RowSource for SyntheticRows {
    fn width(&self) -> usize {
        self.width
    }
    fn height(&self) -> usize {
        self.height
    }
    fn read_rows(&mut self, y: usize, out: &mut [f32]) -> Result<()> {
        self.largest_read = self.largest_read.max(out.len());
        for (i, v) in out.iter_mut().enumerate() {
            let (x, y) = (i % self.width, y + i / self.width);
            *v = ((x * 7 + y * 13) % 256) as f32 / 255.0;
        }
        Ok(())
    }
}

fn whole(
    model_name: &str,
    view: ImageView,
    options: &TilingOptions,
) -> Result<visual_ccc_core::model::tiling::WholeImageClassification> {
    let model = common::open(model_name);
    classify_whole(&model, &mut ViewRows::new(view)?, options)
}

#[test]
fn constant_image_gives_a_constant_tile_map_and_cam_at_any_tile_scale() {
    // fixture-tile2x resamples 333×250 to 167×125 (odd sizes, rounded regions).
    for (model, width, height, grid, tile) in [
        ("fixture-tiny.onnx", 300, 200, (6, 4), 64),
        ("fixture-tile2x.onnx", 333, 250, (4, 3), 128),
    ] {
        let pixels = vec![90u8; width * height];
        let view = ImageView::new(width, height, Pixels::Gray8(&pixels)).unwrap();
        let options = TilingOptions {
            overlap: 16,
            cam: CamTarget::Predicted,
            ..TilingOptions::default()
        };
        let result = whole(model, view, &options).unwrap();
        assert_eq!((result.columns, result.rows), grid, "{model}");
        assert_eq!(result.tiles.len(), grid.0 * grid.1);
        let first = &result.tiles[0];
        // Regions are in the original image's pixels, about one tile source size, and
        // cover the image.
        let mut covered = vec![false; width * height];
        for tile_result in &result.tiles {
            let r = tile_result.region;
            assert!(r.x + r.width <= width && r.y + r.height <= height, "{r:?}");
            assert!(
                r.width.abs_diff(tile) <= 1 && r.height.abs_diff(tile) <= 1,
                "{r:?}"
            );
            for y in r.y..r.y + r.height {
                covered[y * width + r.x..][..r.width].fill(true);
            }
            assert_eq!(tile_result.class_index, first.class_index);
            for (p, q) in tile_result.probabilities.iter().zip(&first.probabilities) {
                assert!(
                    (p - q).abs() < 1e-5,
                    "{:?} vs {:?}",
                    tile_result.probabilities,
                    first.probabilities
                );
            }
        }
        assert!(covered.iter().all(|&c| c), "{model}: pixels left uncovered");
        for (p, q) in result.probabilities.iter().zip(&first.probabilities) {
            assert!((p - q).abs() < 1e-5);
        }
        let map = result.map.expect("a CAM was asked for");
        assert_eq!(
            (map.cam.width, map.cam.height, map.scale),
            (width, height, 1)
        );
        assert!(map.cam.data.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(map
            .thumbnail
            .iter()
            .all(|&v| (v - 90.0 / 255.0).abs() < 1e-6));
    }
}

#[test]
fn batching_does_not_change_tile_results() {
    let pixels: Vec<u8> = (0..200 * 150).map(|i| ((i * 31) % 253) as u8).collect();
    let view = ImageView::new(200, 150, Pixels::Gray8(&pixels)).unwrap();
    let run = |batch| {
        let options = TilingOptions {
            overlap: 8,
            batch,
            ..TilingOptions::default()
        };
        whole("fixture-tiny.onnx", view, &options).unwrap()
    };
    let (one, many) = (run(1), run(5));
    assert_eq!(one.tiles.len(), many.tiles.len());
    for (a, b) in one.tiles.iter().zip(&many.tiles) {
        assert_eq!(a.region, b.region);
        for (p, q) in a.probabilities.iter().zip(&b.probabilities) {
            assert!((p - q).abs() < 1e-5);
        }
    }
}

#[test]
fn image_smaller_than_a_tile_uses_the_model_preprocessing() {
    // Shorter side below the tile source size: 64 for fixture-tiny, 128 for fixture-tile2x
    // (the same weights, so the same centre crop).
    let tiny = common::open("fixture-tiny.onnx");
    for (model, width, height) in [
        ("fixture-tiny.onnx", 40, 100),
        ("fixture-tile2x.onnx", 200, 100),
    ] {
        let pixels: Vec<u8> = (0..width * height).map(|i| (i % 251) as u8).collect();
        let view = ImageView::new(width, height, Pixels::Gray8(&pixels)).unwrap();
        let centre = tiny.classify(&view, CamTarget::None).unwrap();
        let result = whole(model, view, &TilingOptions::default()).unwrap();
        assert_eq!(result.tiles.len(), 1, "{model}");
        assert_eq!(result.tiles[0].region, centre.region);
        for (p, q) in result.probabilities.iter().zip(&centre.probabilities) {
            assert!((p - q).abs() < 1e-5);
        }
    }
}

#[test]
fn model_without_features_classifies_but_refuses_a_cam() {
    let pixels = vec![10u8; 128 * 128];
    let view = ImageView::new(128, 128, Pixels::Gray8(&pixels)).unwrap();
    let plain = whole("fixture-no-features.onnx", view, &TilingOptions::default()).unwrap();
    assert_eq!(plain.tiles.len(), 4);
    let options = TilingOptions {
        cam: CamTarget::Predicted,
        ..TilingOptions::default()
    };
    let err = whole("fixture-no-features.onnx", view, &options).unwrap_err();
    assert!(err.to_string().contains("features"), "{err}");
    let too_much = TilingOptions {
        overlap: 64,
        ..TilingOptions::default()
    };
    let err = whole("fixture-tiny.onnx", view, &too_much).unwrap_err();
    assert!(err.to_string().contains("overlap"), "{err}");
}

#[test]
fn reads_stay_within_one_band_of_rows() {
    let model = common::open("fixture-tiny.onnx");
    let mut source = SyntheticRows {
        width: 1500,
        height: 400,
        largest_read: 0,
    };
    let result = classify_whole(&model, &mut source, &TilingOptions::default()).unwrap();
    assert_eq!(result.tiles.len(), 24 * 7);
    assert_eq!(source.largest_read, 1500 * 64);
    let total: f32 = result.probabilities.iter().sum();
    assert!((total - 1.0).abs() < 1e-4);
    // Resampled tiles read the source one row at a time.
    source.largest_read = 0;
    let coarse = TilingOptions {
        tile_source_size: Some(160),
        ..TilingOptions::default()
    };
    let result = classify_whole(&model, &mut source, &coarse).unwrap();
    assert_eq!(result.tile_source_size, 160);
    assert_eq!(source.largest_read, 1500);
}

/// The acceptance case: a 20000 × 20000 8-bit image through the published
/// architecture. Slow (minutes on 2 cores); its peak memory is measured on a real file
/// by `scripts/measure-whole-image-memory.sh` and recorded in docs/benchmarks.md.
#[test]
#[ignore]
fn twenty_thousand_squared_classifies() {
    let model = common::open("bench-cnn.onnx");
    let mut source = SyntheticRows {
        width: 20000,
        height: 20000,
        largest_read: 0,
    };
    let options = TilingOptions {
        cam: CamTarget::Predicted,
        ..TilingOptions::default()
    };
    let result = classify_whole(&model, &mut source, &options).unwrap();
    assert_eq!(result.tiles.len(), 79 * 79);
    assert_eq!(source.largest_read, 20000 * 256);
    assert_eq!(result.map.unwrap().cam.width, 2000);
}

#[test]
fn thumbnail_samples_the_image_at_cell_centres() {
    // The same at native scale and with resampled tiles: overlays show the original image.
    for (width, height, scale, tile_source_size) in [
        (300usize, 200usize, 1usize, None),
        (2100, 70, 2, None),
        (300, 200, 1, Some(100)),
        (2100, 70, 2, Some(40)),
    ] {
        let pixels: Vec<u8> = (0..width * height)
            .map(|i| ((i * 37) % 251) as u8)
            .collect();
        let view = ImageView::new(width, height, Pixels::Gray8(&pixels)).unwrap();
        let options = TilingOptions {
            overlap: 16,
            cam: CamTarget::Predicted,
            tile_source_size,
            ..TilingOptions::default()
        };
        let map = whole("fixture-tiny.onnx", view, &options)
            .unwrap()
            .map
            .unwrap();
        assert_eq!(map.scale, scale);
        let map_width = width.div_ceil(scale);
        for (i, &v) in map.thumbnail.iter().enumerate() {
            let (mx, my) = (i % map_width, i / map_width);
            let (x, y) = (
                (mx * scale + scale / 2).min(width - 1),
                (my * scale + scale / 2).min(height - 1),
            );
            let expected = pixels[y * width + x] as f32 / 255.0;
            assert!(
                (v - expected).abs() < 1e-6,
                "{width}x{height} cell ({mx},{my})"
            );
        }
    }
}

#[test]
fn tall_thin_image_reads_only_its_centre_crop_rows() {
    let (width, height) = (40, 3001);
    let model = common::open("fixture-tiny.onnx");
    let mut source = SyntheticRows {
        width,
        height,
        largest_read: 0,
    };
    let options = TilingOptions {
        cam: CamTarget::Predicted,
        ..TilingOptions::default()
    };
    let result = classify_whole(&model, &mut source, &options).unwrap();
    assert!(
        source.largest_read <= width * (width + 1),
        "{}",
        source.largest_read
    );

    let mut pixels = vec![0.0f32; width * height];
    SyntheticRows {
        width,
        height,
        largest_read: 0,
    }
    .read_rows(0, &mut pixels)
    .unwrap();
    let bytes: Vec<u8> = pixels.iter().map(|v| (v * 255.0).round() as u8).collect();
    let view = ImageView::new(width, height, Pixels::Gray8(&bytes)).unwrap();
    let centre = model.classify(&view, CamTarget::None).unwrap();
    assert_eq!(result.tiles[0].region, centre.region);
    for (p, q) in result.probabilities.iter().zip(&centre.probabilities) {
        assert!(
            (p - q).abs() < 1e-5,
            "{:?} vs {:?}",
            result.probabilities,
            centre.probabilities
        );
    }
}

#[test]
fn model_with_a_fixed_batch_of_two_gets_padded_batches() {
    // 5 × 3 = 15 tiles: seven full batches of two and one padded with a blank tile.
    let pixels: Vec<u8> = (0..320 * 192).map(|i| ((i * 13) % 241) as u8).collect();
    let view = ImageView::new(320, 192, Pixels::Gray8(&pixels)).unwrap();
    let options = TilingOptions {
        overlap: 0,
        cam: CamTarget::Predicted,
        ..TilingOptions::default()
    };
    let fixed = whole("fixture-batch2.onnx", view, &options).unwrap();
    let dynamic = whole("fixture-tiny.onnx", view, &options).unwrap();
    assert_eq!(fixed.tiles.len(), 15);
    assert_eq!(fixed.tiles.len(), dynamic.tiles.len());
    for (a, b) in fixed.tiles.iter().zip(&dynamic.tiles) {
        for (p, q) in a.probabilities.iter().zip(&b.probabilities) {
            assert!((p - q).abs() < 1e-5);
        }
    }
    let (a, b) = (fixed.map.unwrap().cam.data, dynamic.map.unwrap().cam.data);
    assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() < 1e-4));
}

#[test]
fn centre_crop_runs_on_a_model_with_a_fixed_batch_of_two() {
    let pixels: Vec<u8> = (0..90 * 70).map(|i| (i % 199) as u8).collect();
    let view = ImageView::new(90, 70, Pixels::Gray8(&pixels)).unwrap();
    let fixed = common::open("fixture-batch2.onnx")
        .classify(&view, CamTarget::Predicted)
        .unwrap();
    let dynamic = common::open("fixture-tiny.onnx")
        .classify(&view, CamTarget::Predicted)
        .unwrap();
    for (p, q) in fixed.probabilities.iter().zip(&dynamic.probabilities) {
        assert!((p - q).abs() < 1e-5);
    }
    assert_eq!(
        fixed.cam.unwrap().data.len(),
        dynamic.cam.unwrap().data.len()
    );
}

#[test]
fn every_cam_method_stitches_a_map_of_the_predicted_class() {
    let (width, height) = (150, 100);
    let pixels: Vec<u8> = (0..width * height)
        .map(|i| ((i % width) * 3 + (i / width) * 5) as u8)
        .collect();
    let view = ImageView::new(width, height, Pixels::Gray8(&pixels)).unwrap();
    let plain = whole("fixture-tiny.onnx", view, &TilingOptions::default()).unwrap();
    let occlusion = CamMethod::Occlusion(OcclusionParams::default());
    for (model, method) in [
        ("fixture-tiny.onnx", CamMethod::Cam),
        ("fixture-tiny.onnx", CamMethod::EigenCam),
        ("fixture-tiny.onnx", occlusion),
        // Occlusion needs only the logits, so it explains models without features too.
        ("fixture-no-features.onnx", occlusion),
    ] {
        let options = TilingOptions {
            overlap: 16,
            cam: CamTarget::Predicted,
            method,
            ..TilingOptions::default()
        };
        let result = whole(model, view, &options).unwrap();
        let map = result.map.expect("a stitched map");
        assert_eq!(map.cam.class_index, result.class_index, "{method:?}");
        assert_eq!((map.cam.width, map.cam.height), (width, height));
        assert!(
            map.cam.data.iter().all(|v| (0.0..=1.0).contains(v)),
            "{method:?}: values outside [0, 1]"
        );
        if model == "fixture-tiny.onnx" {
            assert_eq!(result.class_index, plain.class_index, "{method:?}");
        }
    }
}

/// Grey values already in [0, 1], served as they are (no stretching).
struct UnitRows {
    width: usize,
    values: Vec<f32>,
}

impl RowSource for UnitRows {
    fn width(&self) -> usize {
        self.width
    }
    fn height(&self) -> usize {
        self.values.len() / self.width
    }
    fn read_rows(&mut self, y: usize, out: &mut [f32]) -> Result<()> {
        out.copy_from_slice(&self.values[y * self.width..][..out.len()]);
        Ok(())
    }
}

/// A textured test image in [0, 1]: stripes, a bright disc and a dark corner, so the
/// fixture's classes differ from tile to tile.
fn textured(width: usize, height: usize) -> Vec<f32> {
    (0..width * height)
        .map(|i| {
            let (x, y) = ((i % width) as f32, (i / width) as f32);
            let stripes = if ((x / 6.0) as usize).is_multiple_of(2) {
                0.8
            } else {
                0.2
            };
            let disc = ((x - 80.0).powi(2) + (y - 90.0).powi(2) < 40.0f32.powi(2)) as u8 as f32;
            let corner = (x > width as f32 * 0.6 && y > height as f32 * 0.5) as u8 as f32;
            (stripes * (1.0 - corner) + disc * 0.9).min(1.0) * (1.0 - 0.8 * corner)
        })
        .collect()
}

#[test]
fn coarser_tiles_match_the_native_model_on_a_pre_shrunk_image() {
    let (width, height) = (328, 264);
    let values = textured(width, height);
    let shrunk: Vec<f32> = (0..width / 2 * (height / 2))
        .map(|i| {
            let (x, y) = (2 * (i % (width / 2)), 2 * (i / (width / 2)));
            let at = |dx: usize, dy: usize| values[(y + dy) * width + x + dx];
            (at(0, 0) + at(1, 0) + at(0, 1) + at(1, 1)) / 4.0
        })
        .collect();
    let options = TilingOptions {
        overlap: 16,
        ..TilingOptions::default()
    };
    let scaled_model = common::open("fixture-tile2x.onnx");
    assert_eq!(scaled_model.info().tile_source_size, 128);
    let scaled = classify_whole(
        &scaled_model,
        &mut UnitRows {
            width,
            values: values.clone(),
        },
        &options,
    )
    .unwrap();
    let native = classify_whole(
        &common::open("fixture-tiny.onnx"),
        &mut UnitRows {
            width: width / 2,
            values: shrunk,
        },
        &options,
    )
    .unwrap();
    assert_eq!(scaled.tile_source_size, 128);
    assert_eq!((scaled.width, scaled.height), (width, height));
    assert_eq!((scaled.columns, scaled.rows), (native.columns, native.rows));
    assert_eq!(scaled.class_index, native.class_index);
    for (p, q) in scaled.probabilities.iter().zip(&native.probabilities) {
        assert!(
            (p - q).abs() < 1e-4,
            "{:?} vs {:?}",
            scaled.probabilities,
            native.probabilities
        );
    }
    let classes: std::collections::HashSet<usize> =
        native.tiles.iter().map(|t| t.class_index).collect();
    assert!(classes.len() > 1, "the test image should not be uniform");
    for (s, n) in scaled.tiles.iter().zip(&native.tiles) {
        let r = n.region;
        assert_eq!(
            (s.region.x, s.region.y, s.region.width, s.region.height),
            (2 * r.x, 2 * r.y, 2 * r.width, 2 * r.height)
        );
        assert_eq!(s.class_index, n.class_index);
    }
}

#[test]
fn bad_tile_source_sizes_are_rejected() {
    let pixels = vec![90u8; 200 * 200];
    let view = ImageView::new(200, 200, Pixels::Gray8(&pixels)).unwrap();
    let options = TilingOptions {
        tile_source_size: Some(8),
        ..TilingOptions::default()
    };
    let err = whole("fixture-tiny.onnx", view, &options).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("at least 16"), "{err}");

    let bytes = std::fs::read(common::fixture_model("fixture-tile2x.onnx")).unwrap();
    let entry = b"visualccc.tile_source_size\x12\x03128";
    let at = bytes
        .windows(entry.len())
        .position(|w| w == entry)
        .expect("fixture-tile2x.onnx carries the key");
    let dir = std::env::temp_dir().join(format!("vccc-tile-source-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let options = ModelOptions {
        threads: 1,
        runtime: common::runtime_config(),
    };
    for bad in [b"008", b"abc", b"-64"] {
        let mut edited = bytes.clone();
        edited[at + entry.len() - 3..][..3].copy_from_slice(bad);
        let path = dir.join("bad-tile-source.onnx");
        std::fs::write(&path, edited).unwrap();
        let err = Model::open(&path, &options).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Model);
        assert!(err.to_string().contains("tile_source_size"), "{err}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}
