//! Rows resampled on the fly to the tiling scale.

use super::*;

/// A [`RowSource`] resampled on the fly to `width`×`height`: area averaging when
/// shrinking, bilinear when enlarging. A band of output rows reads only the source rows
/// it is made of, one at a time, so memory is one source row, one resampled row and the
/// weights, never the image.
pub struct Resampled<'a> {
    source: &'a mut dyn RowSource,
    width: usize,
    height: usize,
    columns: Vec<Taps>,
    rows: Vec<Taps>,
    line: Vec<f32>,
    resampled: Vec<f32>,
    /// Fed every source row read, so overlays sample the original image.
    pub(super) thumbnail: Option<&'a mut Thumbnail>,
}

impl<'a> Resampled<'a> {
    pub fn new(source: &'a mut dyn RowSource, width: usize, height: usize) -> Self {
        let identity = width == source.width() && height == source.height();
        let (columns, rows, line) = if identity {
            (Vec::new(), Vec::new(), Vec::new())
        } else {
            (
                area_taps(source.width(), width),
                area_taps(source.height(), height),
                vec![0.0; source.width()],
            )
        };
        Self {
            source,
            width,
            height,
            columns,
            rows,
            line,
            resampled: if identity {
                Vec::new()
            } else {
                vec![0.0; width]
            },
            thumbnail: None,
        }
    }

    /// The source pixels a region of the resampled image covers (rounded, clamped).
    pub fn region_in_source(&self, region: Region) -> Region {
        let map = |start: usize, extent: usize, source: usize, target: usize| {
            let ratio = source as f64 / target as f64;
            let from = ((start as f64 * ratio).round() as usize).min(source);
            let to = (((start + extent) as f64 * ratio).round() as usize).clamp(from, source);
            (from, to - from)
        };
        let (x, width) = map(region.x, region.width, self.source.width(), self.width);
        let (y, height) = map(region.y, region.height, self.source.height(), self.height);
        Region {
            x,
            y,
            width,
            height,
        }
    }
}

impl RowSource for Resampled<'_> {
    fn width(&self) -> usize {
        self.width
    }

    fn height(&self) -> usize {
        self.height
    }

    fn read_rows(&mut self, y: usize, out: &mut [f32]) -> Result<()> {
        let count = out.len() / self.width.max(1);
        if y + count > self.height || out.len() != count * self.width {
            return Err(Error::invalid("rows requested beyond the resampled image"));
        }
        if self.rows.is_empty() {
            self.source.read_rows(y, out)?;
            if let Some(thumbnail) = self.thumbnail.as_mut() {
                thumbnail.take_rows(y, count, out);
            }
            return Ok(());
        }
        let band = &self.rows[y..y + count];
        let (Some(first), Some(last)) = (band.first(), band.last()) else {
            return Ok(());
        };
        out.fill(0.0);
        for source_row in first.start..last.start + last.weights.len() {
            self.source.read_rows(source_row, &mut self.line)?;
            if let Some(thumbnail) = self.thumbnail.as_mut() {
                thumbnail.take_rows(source_row, 1, &self.line);
            }
            for (value, taps) in self.resampled.iter_mut().zip(&self.columns) {
                *value = taps.apply(&self.line);
            }
            for (taps, row) in band.iter().zip(out.chunks_exact_mut(self.width)) {
                if let Some(weight) = taps.weight(source_row) {
                    for (o, v) in row.iter_mut().zip(&self.resampled) {
                        *o += weight * v;
                    }
                }
            }
        }
        Ok(())
    }
}
