//! Where the tiles go: overlapping tiles covering the image.

use super::*;

/// Where the tiles lie: top-left corners along each axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileGrid {
    pub tile: usize,
    pub xs: Vec<usize>,
    pub ys: Vec<usize>,
}

impl TileGrid {
    /// Tiles of side `tile` overlapping by `overlap` pixels over a `width`×`height` image
    /// at least `tile` pixels on each side.
    pub fn new(width: usize, height: usize, tile: usize, overlap: usize) -> Result<Self> {
        if tile == 0 || overlap >= tile {
            return Err(Error::invalid(format!(
                "tile overlap {overlap} must be smaller than the tile size {tile}"
            )));
        }
        if width < tile || height < tile {
            return Err(Error::invalid(format!(
                "image {width}×{height} is smaller than one {tile}×{tile} tile"
            )));
        }
        let step = tile - overlap;
        Ok(Self {
            tile,
            xs: axis_starts(width, tile, step),
            ys: axis_starts(height, tile, step),
        })
    }
}

pub(super) fn axis_starts(extent: usize, tile: usize, step: usize) -> Vec<usize> {
    let count = (extent - tile).div_ceil(step) + 1;
    (0..count).map(|i| (i * step).min(extent - tile)).collect()
}
