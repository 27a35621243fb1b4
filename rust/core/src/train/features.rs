//! Pooled `features` of a base model over the tiles whole-image mode classifies, with
//! the eight flips and quarter turns of each tile as augmentation.

use crate::error::{Error, Result};
use crate::model::tiling::{for_each_tile, RowSource};
use crate::model::Model;

/// Augmented copies per tile when augmentation is on: the dihedral group of the square.
pub const AUGMENTATIONS: usize = 8;

/// One image's pooled feature vectors: `tiles × augmentations` rows of `channels`
/// values, tile-major; augmentation 0 is the tile as classification sees it.
#[derive(Debug, Clone)]
pub(crate) struct ImageFeatures {
    pub tiles: usize,
    pub augmentations: usize,
    pub values: Vec<f32>,
    /// The base model's logits of every row (`rows × base classes`), as it computes
    /// them; they become the offsets of a residual head.
    pub logits: Vec<f32>,
    /// Per row and new class, the fixed offset a residual head adds to its scores (the
    /// base's calibrated logit of the same class); empty without a residual head.
    pub offsets: Vec<f32>,
}

/// Runs `model` over the tiles of `source` (`tile_source_size` source pixels each,
/// neighbours sharing `overlap` input pixels) and average-pools its `features`.
pub(crate) fn extract(
    model: &Model,
    source: &mut dyn RowSource,
    tile_source_size: usize,
    overlap: usize,
    augmentations: usize,
    batch: usize,
) -> Result<ImageFeatures> {
    let size = model.info().input_size;
    let batch = model.batch_size(batch.max(1));
    let mut pending: Vec<f32> = Vec::with_capacity(batch * size * size);
    let mut values = Vec::new();
    let mut logits = Vec::new();
    let mut tiles = 0;
    let flush =
        |pending: &mut Vec<f32>, values: &mut Vec<f32>, logits: &mut Vec<f32>| -> Result<()> {
            let count = pending.len() / (size * size);
            if count == 0 {
                return Ok(());
            }
            let output = model.forward(std::mem::take(pending), count, true)?;
            let (shape, features) = output.features.ok_or_else(|| {
                Error::Model(
                    "the base model has no 'features' output, so it cannot be trained on".into(),
                )
            })?;
            logits.extend_from_slice(&output.logits);
            let plane = shape[2] * shape[3];
            values.extend(
                features
                    .chunks_exact(plane)
                    .map(|p| p.iter().sum::<f32>() / plane as f32),
            );
            Ok(())
        };
    let mut turned = vec![0.0f32; size * size];
    for_each_tile(
        source,
        size,
        tile_source_size,
        overlap,
        &mut |tile, _region| {
            tiles += 1;
            for augmentation in 0..augmentations {
                dihedral(tile, size, augmentation, &mut turned);
                pending.extend_from_slice(&turned);
                if pending.len() == batch * size * size {
                    flush(&mut pending, &mut values, &mut logits)?;
                }
            }
            Ok(())
        },
    )?;
    flush(&mut pending, &mut values, &mut logits)?;
    Ok(ImageFeatures {
        tiles,
        augmentations,
        values,
        logits,
        offsets: Vec::new(),
    })
}

/// The square `tile` turned by `index % 4` quarter turns, then mirrored when
/// `index >= 4`.
fn dihedral(tile: &[f32], size: usize, index: usize, out: &mut [f32]) {
    let last = size - 1;
    for y in 0..size {
        for x in 0..size {
            let mirrored = if index >= 4 { last - x } else { x };
            let (sx, sy) = match index % 4 {
                0 => (mirrored, y),
                1 => (y, last - mirrored),
                2 => (last - mirrored, last - y),
                _ => (last - y, mirrored),
            };
            out[y * size + x] = tile[sy * size + sx];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eight_transforms_are_distinct_permutations() {
        let size = 3;
        let tile: Vec<f32> = (0..9).map(|v| v as f32).collect();
        let mut seen = Vec::new();
        for index in 0..AUGMENTATIONS {
            let mut out = vec![0.0; 9];
            dihedral(&tile, size, index, &mut out);
            let mut sorted = out.clone();
            sorted.sort_by(f32::total_cmp);
            assert_eq!(sorted, tile);
            assert!(!seen.contains(&out), "transform {index} repeats");
            seen.push(out);
        }
        assert_eq!(seen[0], tile);
    }
}
