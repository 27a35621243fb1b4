//! Whole-image classification: the image is cut into model-sized tiles, tiles go
//! through ONNX Runtime in batches, the image's class is the argmax of the **mean of the
//! tile probabilities**, and each tile's class activation maps are blended into one map
//! over the whole image.
//!
//! Scale: one tile covers `T` source pixels (the model's `visualccc.tile_source_size`,
//! or [`TilingOptions::tile_source_size`]; `T = S`, the input size, means native
//! resolution). For `T ≠ S` the image is resampled by `S / T` on the fly by [`Resampled`]
//! (area averaging when shrinking, bilinear when enlarging) and tiled at that scale, so
//! each tile sees what the model saw in training. Every result stays in the coordinates
//! of the original image: tile regions are mapped back (rounded, clamped to the image),
//! and the stitched map and its thumbnail are laid over the original image.
//!
//! Tiles lie on a grid with a configurable overlap, counted in model-input pixels (at
//! the resampled scale, so `overlap · T / S` source pixels); the last tile of a row or
//! column is shifted inward to end at the image border, so no tile is padded. An image
//! whose shorter side is below `T` gets one tile: the model's documented preprocessing
//! (centre crop, resized to the input size).
//!
//! Streaming: pixels come from a [`RowSource`] one band of tile rows at a time, so the
//! full-resolution float image never exists; the resampler reads only the source rows a
//! band needs, one at a time. Memory beyond the source itself is `w' × S` floats for the
//! band (`w'` the resampled width), one source row and one resampled row plus the
//! resampling weights when `T ≠ S`, `B × S²` floats of batched input plus ONNX Runtime's
//! outputs for one batch, `(C + 2)` maps of at most [`MAX_MAP_SIDE`]² floats (the stitched
//! CAM of every class, the blending weights and a grey thumbnail, only when a CAM is
//! asked for) and `C` probabilities per tile; see [`memory_bound`].

use crate::cam::{self, CamMap, CamMethod, CamTarget};
use crate::error::{Error, Result};
use crate::image::pixels::{ImageView, Pixels};
use crate::image::resample::{area_taps, Taps};
use crate::model::preprocess::{self, Region, MIN_SIDE};
use crate::model::{argmax, ForwardOutput, Model, MIN_TILE_SOURCE_SIZE};

/// Longest side of the stitched maps; larger images get one map cell per several pixels.
pub const MAX_MAP_SIDE: usize = 2048;

/// Most tiles one whole-image run may have (1 Mi); more means an absurd tile size for
/// the image, and the per-tile results alone would not fit in memory.
pub const MAX_TILES: usize = 1 << 20;
/// Most values (floats) one band of rows may hold: 128 Mi, 512 MiB.
pub const MAX_BAND_VALUES: usize = 1 << 27;

/// Refuses a band of `width` × `rows` values over [`MAX_BAND_VALUES`] before it is
/// allocated.
fn check_band(width: usize, rows: usize) -> Result<()> {
    match width.checked_mul(rows) {
        Some(values) if values <= MAX_BAND_VALUES => Ok(()),
        _ => Err(Error::invalid(format!(
            "whole-image mode would hold {width}×{rows} values per band of rows, over the \
             limit of {MAX_BAND_VALUES}: use a larger tile source size for this image"
        ))),
    }
}

/// Tiles per ONNX Runtime run when the model does not fix its batch size.
pub const DEFAULT_BATCH: usize = 8;

/// Smallest blending weight, so pixels covered only by a tile's border still count.
const MIN_BLEND_WEIGHT: f32 = 1e-3;

mod grid;
mod rows;
mod run;
mod stitch;

pub use self::grid::*;
pub use self::rows::*;
use self::run::*;
pub use self::stitch::*;
pub use crate::image::rows::{RowSource, ViewRows};

/// How to classify a whole image.
#[derive(Debug, Clone, Copy)]
pub struct TilingOptions {
    /// Pixels shared by neighbouring tiles, in model-input pixels (at the resampled
    /// scale); must be below the model's input size.
    pub overlap: usize,
    /// Source pixels one tile covers, overriding the model's `visualccc.tile_source_size`.
    pub tile_source_size: Option<usize>,
    /// Tiles per run when the model's batch size is symbolic.
    pub batch: usize,
    /// Which class the stitched CAM explains, if any.
    pub cam: CamTarget,
    /// How each tile's map is made. The exact CAM gives every class's map in the one
    /// pass; the other methods explain one class, so for the predicted class they need a
    /// second pass over the image once the class is known.
    pub method: CamMethod,
}

impl TilingOptions {
    /// Default overlap of neighbouring tiles as a fraction of the tile: a quarter, so
    /// every pixel is seen away from a tile border at least once.
    pub const DEFAULT_OVERLAP_FRACTION: f64 = 0.25;

    /// The defaults for a model of `input_size`, with
    /// [`DEFAULT_OVERLAP_FRACTION`](Self::DEFAULT_OVERLAP_FRACTION) of overlap.
    pub fn for_input_size(input_size: usize) -> Self {
        Self {
            overlap: (input_size as f64 * Self::DEFAULT_OVERLAP_FRACTION) as usize,
            ..Self::default()
        }
    }

    /// The defaults a front end uses (overlap as a fraction of the tile, tiles per ONNX
    /// run, the stitched maps' longest side), as JSON.
    pub fn defaults_json() -> String {
        serde_json::json!({
            "overlap_fraction": Self::DEFAULT_OVERLAP_FRACTION,
            "batch": Self::default().batch,
            "max_map_side": MAX_MAP_SIDE,
        })
        .to_string()
    }
}

impl Default for TilingOptions {
    fn default() -> Self {
        Self {
            overlap: 0,
            tile_source_size: None,
            batch: DEFAULT_BATCH,
            cam: CamTarget::None,
            method: CamMethod::Cam,
        }
    }
}

/// One tile's outcome.
#[derive(Debug, Clone)]
pub struct TileResult {
    /// The source pixels the tile covers, in original image coordinates.
    pub region: Region,
    pub class_index: usize,
    pub probabilities: Vec<f32>,
    /// Energy score of the tile ([`crate::model::calibration::Calibration::energy`]).
    pub unfamiliarity: f32,
}

/// A map over the whole image at `scale` image pixels per cell.
#[derive(Debug, Clone)]
pub struct StitchedMap {
    pub scale: usize,
    /// The CAM, values in [0, 1] (normalised by its maximum over the image).
    pub cam: CamMap,
    /// The image's grey values in [0, 1] sampled at the cell centres, for overlays.
    pub thumbnail: Vec<f32>,
}

/// The outcome of classifying a whole image.
#[derive(Debug, Clone)]
pub struct WholeImageClassification {
    pub class_index: usize,
    /// Mean of the tile probabilities.
    pub probabilities: Vec<f32>,
    /// Mean of the tile energy scores; higher is less like the training data.
    pub unfamiliarity: f32,
    /// Whether the image is unlike the training data; `None` when the model has no
    /// threshold.
    pub unfamiliar: Option<bool>,
    pub width: usize,
    pub height: usize,
    /// Source pixels one tile covered (the model's or the caller's tile source size).
    pub tile_source_size: usize,
    /// Tiles per row and per column.
    pub columns: usize,
    pub rows: usize,
    /// Row-major over the grid.
    pub tiles: Vec<TileResult>,
    pub map: Option<StitchedMap>,
}

/// Scale (image pixels per map cell) and size of the stitched maps of an image.
pub fn map_geometry(width: usize, height: usize) -> (usize, usize, usize) {
    let scale = width.max(height).div_ceil(MAX_MAP_SIDE).max(1);
    (scale, width.div_ceil(scale), height.div_ceil(scale))
}

/// The size an image of `width`×`height` is tiled at when one `input_size` tile covers
/// `tile_source_size` source pixels.
pub fn scaled_size(
    width: usize,
    height: usize,
    input_size: usize,
    tile_source_size: usize,
) -> (usize, usize) {
    let scale = |extent: usize| {
        ((extent as f64 * input_size as f64 / tile_source_size as f64).round() as usize).max(1)
    };
    (scale(width), scale(height))
}

/// Upper bound, in bytes, of the memory [`classify_whole`] allocates for an image of
/// `width`×`height` (excluding the row source and ONNX Runtime's own working memory):
/// band at the resampled scale + resampler rows and weights + batch input + batch
/// features + maps + per-tile probabilities.
#[allow(clippy::too_many_arguments)]
pub fn memory_bound(
    width: usize,
    height: usize,
    input_size: usize,
    tile_source_size: usize,
    overlap: usize,
    batch: usize,
    classes: usize,
    feature_values_per_tile: usize,
    with_cam: bool,
) -> usize {
    let f = std::mem::size_of::<f32>();
    let (scaled_w, scaled_h) = scaled_size(width, height, input_size, tile_source_size);
    let band = scaled_w * input_size;
    let resampler = if tile_source_size == input_size {
        0
    } else {
        let taps_per_pixel = tile_source_size.div_ceil(input_size) + 2;
        (width + scaled_w + (scaled_w + scaled_h) * taps_per_pixel) * f
            + (scaled_w + scaled_h) * std::mem::size_of::<Taps>()
    };
    let inputs = batch * input_size * input_size;
    let features = if with_cam {
        batch * feature_values_per_tile + classes * feature_values_per_tile
    } else {
        0
    };
    let (_, map_w, map_h) = map_geometry(width, height);
    let maps = if with_cam {
        (classes + 2) * map_w * map_h
    } else {
        0
    };
    let tiles = match TileGrid::new(scaled_w, scaled_h, input_size, overlap) {
        Ok(grid) => grid.xs.len() * grid.ys.len(),
        Err(_) => 1,
    };
    (band + inputs + features + maps) * f
        + resampler
        + tiles * (classes * f + std::mem::size_of::<TileResult>())
}

/// Classifies the whole image `source` tile by tile; see the module documentation.
pub fn classify_whole(
    model: &Model,
    source: &mut dyn RowSource,
    options: &TilingOptions,
) -> Result<WholeImageClassification> {
    let (width, height) = (source.width(), source.height());
    if width.min(height) < MIN_SIDE {
        return Err(Error::invalid(format!(
            "image {width}×{height} is too small: classification needs at least {MIN_SIDE} \
             pixels on the shorter side"
        )));
    }
    model.check_cam(options.cam, &options.method)?;
    if options.cam == CamTarget::Predicted && options.method != CamMethod::Cam {
        let classified = classify_whole(
            model,
            source,
            &TilingOptions {
                cam: CamTarget::None,
                ..*options
            },
        )?;
        let explained = classify_whole(
            model,
            source,
            &TilingOptions {
                cam: CamTarget::Class(classified.class_index),
                ..*options
            },
        )?;
        return Ok(WholeImageClassification {
            map: explained.map,
            ..classified
        });
    }
    let size = model.info().input_size;
    if options.overlap >= size {
        return Err(Error::invalid(format!(
            "tile overlap {} must be smaller than the tile size {size}",
            options.overlap
        )));
    }
    let tile_source_size = options
        .tile_source_size
        .unwrap_or(model.info().tile_source_size);
    if tile_source_size < MIN_TILE_SOURCE_SIZE {
        return Err(Error::invalid(format!(
            "tile source size {tile_source_size} is too small: a tile must cover at least \
             {MIN_TILE_SOURCE_SIZE} source pixels"
        )));
    }
    let classes = model.info().classes.len();
    let with_cam = options.cam != CamTarget::None;
    let (scale, map_w, map_h) = map_geometry(width, height);
    let mut run = TileRun {
        model,
        batch: model.batch_size(options.batch),
        inputs: Vec::new(),
        regions: Vec::new(),
        tiles: Vec::new(),
        method: options.method,
        explained: match options.cam {
            CamTarget::Class(c) if options.method != CamMethod::Cam => Some(c),
            _ => None,
        },
        stitcher: None,
    };
    run.stitcher = with_cam.then(|| Stitcher::new(scale, map_w, map_h, run.planes()));
    let mut thumbnail = Thumbnail::new(scale, map_w, map_h, (width, height), with_cam);
    let (columns, rows) = cut_tiles(
        source,
        size,
        tile_source_size,
        options.overlap,
        &mut thumbnail,
        &mut |tile, region| run.push(tile, region),
    )?;
    run.flush()?;

    let tiles = run.tiles;
    let mut probabilities = vec![0.0f32; classes];
    for tile in &tiles {
        for (sum, p) in probabilities.iter_mut().zip(&tile.probabilities) {
            *sum += p / tiles.len() as f32;
        }
    }
    let class_index = argmax(&probabilities);
    let unfamiliarity = tiles.iter().map(|t| t.unfamiliarity).sum::<f32>() / tiles.len() as f32;
    let unfamiliar = model.info().calibration.is_unfamiliar(unfamiliarity);
    let map = run.stitcher.map(|stitcher| {
        let class = match options.cam {
            CamTarget::Class(c) => c,
            _ => class_index,
        };
        StitchedMap {
            scale,
            cam: CamMap {
                class_index: class,
                width: map_w,
                height: map_h,
                data: stitcher.finish(if run.explained.is_some() { 0 } else { class }),
            },
            thumbnail: thumbnail.values,
        }
    });
    log::debug!(
        "whole-image classification of {width}×{height}: {} tiles ({columns}×{rows}) of \
         {tile_source_size} source px, class {class_index}",
        tiles.len()
    );
    Ok(WholeImageClassification {
        class_index,
        probabilities,
        unfamiliarity,
        unfamiliar,
        width,
        height,
        tile_source_size,
        columns,
        rows,
        tiles,
        map,
    })
}

/// Cuts `source` into the tiles whole-image mode runs (see the module documentation):
/// calls `visit` with each tile's `size`² model-input values and its region in source
/// pixels, in grid order. Returns the tiles per row and per column.
pub fn for_each_tile(
    source: &mut dyn RowSource,
    size: usize,
    tile_source_size: usize,
    overlap: usize,
    visit: &mut dyn FnMut(&[f32], Region) -> Result<()>,
) -> Result<(usize, usize)> {
    let (width, height) = (source.width(), source.height());
    if width.min(height) < MIN_SIDE {
        return Err(Error::invalid(format!(
            "image {width}×{height} is too small: classification needs at least {MIN_SIDE} \
             pixels on the shorter side"
        )));
    }
    if overlap >= size || tile_source_size < MIN_TILE_SOURCE_SIZE {
        return Err(Error::invalid(format!(
            "tile overlap {overlap} must be below the tile size {size} and the tile source \
             size {tile_source_size} at least {MIN_TILE_SOURCE_SIZE}"
        )));
    }
    let mut thumbnail = Thumbnail::new(1, 0, 0, (width, height), false);
    cut_tiles(
        source,
        size,
        tile_source_size,
        overlap,
        &mut thumbnail,
        visit,
    )
}

/// [`for_each_tile`] that also fills `thumbnail` from the rows it reads.
fn cut_tiles(
    source: &mut dyn RowSource,
    size: usize,
    tile_source_size: usize,
    overlap: usize,
    thumbnail: &mut Thumbnail,
    visit: &mut dyn FnMut(&[f32], Region) -> Result<()>,
) -> Result<(usize, usize)> {
    let (width, height) = (source.width(), source.height());
    Ok(if width < tile_source_size || height < tile_source_size {
        // Smaller than a tile: the model's own preprocessing (centre crop). Only the
        // centred rows it can touch are read: the centred `width`-row window (one more
        // row if needed to keep the same centre) has the same centre crop, so a tall thin
        // image costs `width²` values, not its height.
        let rows = if height > width {
            width + (height - width) % 2
        } else {
            height
        };
        let first_row = (height - rows) / 2;
        check_band(width, rows)?;
        let mut pixels = vec![0.0f32; width * rows];
        source.read_rows(first_row, &mut pixels)?;
        if rows == height {
            thumbnail.take_rows(0, height, &pixels);
        } else {
            let mut line = vec![0.0f32; width];
            for y in thumbnail.rows_wanted() {
                source.read_rows(y, &mut line)?;
                thumbnail.take_rows(y, 1, &line);
            }
        }
        let view = ImageView::new(width, rows, Pixels::Gray32(&pixels))?;
        let prepared = preprocess::center_crop(&view, size, (0.0, 1.0));
        let region = Region {
            y: prepared.region.y + first_row,
            ..prepared.region
        };
        visit(&prepared.data, region)?;
        (1, 1)
    } else {
        let (scaled_w, scaled_h) = scaled_size(width, height, size, tile_source_size);
        let tiles = scaled_w
            .div_ceil(size)
            .saturating_mul(scaled_h.div_ceil(size));
        if tiles > MAX_TILES {
            return Err(Error::invalid(format!(
                "whole-image mode would need at least {tiles} tiles, over the limit of \
                 {MAX_TILES}: use a larger tile source size for this image"
            )));
        }
        check_band(scaled_w, size)?;
        let mut scaled = Resampled::new(source, scaled_w, scaled_h);
        scaled.thumbnail = Some(thumbnail);
        let grid = TileGrid::new(scaled_w, scaled_h, size, overlap)?;
        let mut band = vec![0.0f32; scaled_w * size];
        let mut tile = vec![0.0f32; size * size];
        for &y in &grid.ys {
            scaled.read_rows(y, &mut band)?;
            for &x in &grid.xs {
                for (row, out) in tile.chunks_exact_mut(size).enumerate() {
                    out.copy_from_slice(&band[row * scaled_w + x..][..size]);
                }
                let region = scaled.region_in_source(Region {
                    x,
                    y,
                    width: size,
                    height: size,
                });
                visit(&tile, region)?;
            }
        }
        (grid.xs.len(), grid.ys.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_covers_the_image_and_shifts_the_last_tile_inward() {
        let grid = TileGrid::new(300, 256, 128, 32).unwrap();
        assert_eq!(grid.xs, [0, 96, 172]);
        assert_eq!(grid.ys, [0, 96, 128]);
        let exact = TileGrid::new(256, 128, 128, 0).unwrap();
        assert_eq!(exact.xs, [0, 128]);
        assert_eq!(exact.ys, [0]);
        assert!(TileGrid::new(300, 300, 64, 64).is_err());
        assert!(TileGrid::new(60, 300, 64, 0).is_err());
    }

    #[test]
    fn constant_tile_maps_stitch_into_a_constant_map() {
        let (width, height, tile) = (300, 200, 64);
        let (scale, map_w, map_h) = map_geometry(width, height);
        let mut stitcher = Stitcher::new(scale, map_w, map_h, 2);
        let grid = TileGrid::new(width, height, tile, 24).unwrap();
        let maps: Vec<f32> = [vec![0.5f32; 16], vec![0.25; 16]].concat();
        for &y in &grid.ys {
            for &x in &grid.xs {
                let region = Region {
                    x,
                    y,
                    width: tile,
                    height: tile,
                };
                stitcher.add(region, &maps, 4, 4);
            }
        }
        for class in 0..2 {
            let map = stitcher.finish(class);
            assert_eq!(map.len(), width * height);
            assert!(map.iter().all(|&v| (v - 1.0).abs() < 1e-5), "class {class}");
        }
        // Before normalisation the two classes keep their levels.
        let cells = map_w * map_h;
        let ratio = stitcher.sums[cells] / stitcher.sums[0];
        assert!((ratio - 0.5).abs() < 1e-5, "{ratio}");
    }

    #[test]
    fn blending_a_smooth_field_leaves_no_seam() {
        // Each tile reports the same global ramp f(x) = x / width at its own feature
        // cells; the stitched map must be continuous across tile borders.
        let (width, height, tile, cells) = (512, 64, 64, 16);
        let mut stitcher = Stitcher::new(1, width, height, 1);
        let grid = TileGrid::new(width, height, tile, 32).unwrap();
        for &x in &grid.xs {
            let map: Vec<f32> = (0..cells * cells)
                .map(|i| {
                    let cx = (i % cells) as f32 + 0.5;
                    (x as f32 + cx * (tile / cells) as f32) / width as f32
                })
                .collect();
            let region = Region {
                x,
                y: 0,
                width: tile,
                height: tile,
            };
            stitcher.add(region, &map, cells, cells);
        }
        let map = stitcher.finish(0);
        let row = &map[32 * width..][..width];
        let largest_step = row
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0f32, f32::max);
        // A ramp rises by 1/512 per pixel; a seam would be a jump of several steps.
        assert!(largest_step < 2.5 / width as f32, "{largest_step}");
    }

    #[test]
    fn maps_of_huge_images_stay_small() {
        let (scale, w, h) = map_geometry(20000, 20000);
        assert_eq!(scale, 10);
        assert_eq!((w, h), (2000, 2000));
        assert_eq!(map_geometry(100, 50), (1, 100, 50));
    }

    #[test]
    fn memory_bound_grows_with_width_not_area() {
        // Without maps, doubling the height adds only per-tile results, not pixels.
        let small = memory_bound(20000, 1000, 256, 256, 64, 8, 3, 256 * 16 * 16, false);
        let tall = memory_bound(20000, 20000, 256, 256, 64, 8, 3, 256 * 16 * 16, false);
        assert!(small > 20000 * 256 * 4);
        assert!(tall < 64 << 20, "{tall}");
        let with_cam = memory_bound(20000, 20000, 256, 256, 64, 8, 3, 256 * 16 * 16, true);
        assert!(with_cam < 160 << 20, "{with_cam}");
        // Tiling at a coarser scale shrinks the band: tiles of 640 source pixels.
        let coarse = memory_bound(20000, 20000, 256, 640, 64, 8, 3, 256 * 16 * 16, false);
        assert!(coarse < tall, "{coarse} vs {tall}");
    }

    #[test]
    fn resampling_averages_areas_and_interpolates_bilinearly() {
        // 4×2 ramp rows [0, 1, 2, 3] and [4, 5, 6, 7] (scaled by 1/8 to stay in [0, 1]).
        let values: Vec<f32> = (0..8).map(|v| v as f32 / 8.0).collect();
        let view = ImageView::new(4, 2, Pixels::Gray32(&values)).unwrap();
        let mut rows = ViewRows::new(view).unwrap();
        let mut half = Resampled::new(&mut rows, 2, 1);
        let mut out = [0.0f32; 2];
        half.read_rows(0, &mut out).unwrap();
        // Means of the 2×2 blocks of the stretched values v / 7.
        assert!((out[0] - 2.5 / 7.0).abs() < 1e-6, "{out:?}");
        assert!((out[1] - 4.5 / 7.0).abs() < 1e-6, "{out:?}");
        let region = half.region_in_source(Region {
            x: 1,
            y: 0,
            width: 1,
            height: 1,
        });
        assert_eq!(
            (region.x, region.y, region.width, region.height),
            (2, 0, 2, 2)
        );
        assert!(half.read_rows(1, &mut out).is_err());
        let mut double = Resampled::new(&mut rows, 8, 4);
        let mut line = [0.0f32; 8];
        double.read_rows(0, &mut line).unwrap();
        // Edges clamp; inside, the centres of output pixels 1 and 2 lie a quarter and
        // three quarters between source pixels 0 and 1.
        let expected = [0.0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.0];
        for (got, want) in line.iter().zip(expected) {
            assert!((got - want / 7.0).abs() < 1e-6, "{line:?}");
        }
    }

    #[test]
    fn view_rows_are_scaled_to_unit_range() {
        let pixels = [0u8, 51, 255, 102];
        let view = ImageView::new(2, 2, Pixels::Gray8(&pixels)).unwrap();
        let mut rows = ViewRows::new(view).unwrap();
        let mut out = [0.0f32; 2];
        rows.read_rows(1, &mut out).unwrap();
        assert!(
            (out[0] - 1.0).abs() < 1e-6 && (out[1] - 0.4).abs() < 1e-6,
            "{out:?}"
        );
        assert!(rows.read_rows(2, &mut out).is_err());
    }
}
