//! Instrument data bars: the strip of text, scale bar and numbers that SEM software burns
//! along the bottom (sometimes the top) of a micrograph. It is not specimen, so
//! classification, CAM, thresholds, texture and clustering leave it out.
//!
//! A data bar is rendered graphics: flat background with sharp text, so almost every pair
//! of horizontally adjacent pixels has the same grey value. A micrograph row has detector
//! noise and texture, so few pairs do. [`detect`] looks for a band of such "flat" rows
//! touching the bottom or top edge, no taller than [`DataBarParams::max_fraction`] of the
//! image, whose neighbouring micrograph rows are clearly not flat: a sharp boundary, which
//! a micrograph that only fades into a dark (even clipped) bottom does not have. Images
//! without a bar, or too smooth to tell, keep every row.

use std::ops::Range;

use crate::error::{Error, Result};
use crate::image::pixels::ImageView;
use crate::image::rows::RowSource;
use crate::model::preprocess::Region;

/// Label given to excluded (data-bar) pixels in label images (thresholds, clusters): it
/// never collides with a class, and area fractions leave these pixels out.
pub const EXCLUDED_LABEL: u8 = 255;

/// How [`detect`] tells a data bar from the micrograph. The defaults are the project's one
/// recipe; bridges pass only what a user changed.
#[derive(Debug, Clone, PartialEq)]
pub struct DataBarParams {
    /// Two neighbouring pixels are "flat" when they differ by at most this fraction of
    /// the image's grey range (8-bit: 0.01 × 255 ≈ 2 levels, room for JPEG noise).
    pub flat_tolerance: f32,
    /// A row can belong to a bar when at least this share of its neighbour pairs is flat
    /// (rows through a line of text still reach it).
    pub row_flatness: f32,
    /// The bar as a whole: mean share of flat pairs over its rows.
    pub bar_flatness: f32,
    /// The micrograph next to the bar: mean share of flat pairs over
    /// [`DataBarParams::context_rows`] rows beyond the boundary must stay below this.
    pub micrograph_flatness: f32,
    /// Rows the boundary may take (a separator line, JPEG blur) before the micrograph
    /// rows checked by `micrograph_flatness` begin.
    pub boundary_rows: usize,
    /// Micrograph rows checked beyond the boundary.
    pub context_rows: usize,
    /// Fewest rows a bar has; thinner flat strips are left alone.
    pub min_rows: usize,
    /// Largest share of the image height one bar may take.
    pub max_fraction: f32,
}

impl Default for DataBarParams {
    fn default() -> Self {
        Self {
            flat_tolerance: 0.01,
            row_flatness: 0.5,
            bar_flatness: 0.8,
            micrograph_flatness: 0.35,
            boundary_rows: 2,
            context_rows: 16,
            min_rows: 6,
            max_fraction: 0.35,
        }
    }
}

impl DataBarParams {
    /// Checks every field, naming the one that is out of range.
    pub fn validate(&self) -> Result<()> {
        let unit = [
            ("flat_tolerance", self.flat_tolerance),
            ("row_flatness", self.row_flatness),
            ("bar_flatness", self.bar_flatness),
            ("micrograph_flatness", self.micrograph_flatness),
            ("max_fraction", self.max_fraction),
        ];
        for (name, value) in unit {
            if !(value.is_finite() && (0.0..=1.0).contains(&value)) {
                return Err(Error::invalid(format!(
                    "data bar: {name} must be between 0 and 1, got {value}"
                )));
            }
        }
        if self.micrograph_flatness >= self.bar_flatness {
            return Err(Error::invalid(format!(
                "data bar: micrograph_flatness ({}) must be below bar_flatness ({})",
                self.micrograph_flatness, self.bar_flatness
            )));
        }
        if self.min_rows == 0 || self.context_rows == 0 {
            return Err(Error::invalid(
                "data bar: min_rows and context_rows must be at least 1",
            ));
        }
        Ok(())
    }
}

/// Where an image's data bars are: rows excluded at the top and at the bottom. Both are
/// zero when the image has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct DataBar {
    pub width: usize,
    pub height: usize,
    pub top_rows: usize,
    pub bottom_rows: usize,
}

impl DataBar {
    /// Nothing excluded (exclusion turned off, or no bar found).
    pub fn none(view: &ImageView) -> Self {
        Self::empty(view.width(), view.height())
    }

    /// Nothing excluded from a `width`×`height` image.
    pub fn empty(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            top_rows: 0,
            bottom_rows: 0,
        }
    }

    /// How many rows are left out.
    pub fn excluded_rows(&self) -> usize {
        self.top_rows + self.bottom_rows
    }

    /// The micrograph rows that are kept.
    pub fn kept_rows(&self) -> Range<usize> {
        self.top_rows..self.height - self.bottom_rows
    }

    /// The kept rows as a rectangle of the image.
    pub fn kept_region(&self) -> Region {
        Region {
            x: 0,
            y: self.top_rows,
            width: self.width,
            height: self.height - self.excluded_rows(),
        }
    }

    /// The kept rows of `view` (which must be the image this bar was found in).
    pub fn kept<'a>(&self, view: &ImageView<'a>) -> Result<ImageView<'a>> {
        self.check_size(view.width(), view.height())?;
        view.rows(self.kept_rows())
    }

    fn check_size(&self, width: usize, height: usize) -> Result<()> {
        if (width, height) != (self.width, self.height) {
            return Err(Error::invalid(format!(
                "data bar found in a {}×{} image applied to a {width}×{height} one",
                self.width, self.height
            )));
        }
        Ok(())
    }

    /// The kept rows of `source` (which must be the image this bar was found in).
    pub fn kept_rows_of<'a>(&self, source: &'a mut dyn RowSource) -> Result<KeptRows<'a>> {
        self.check_size(source.width(), source.height())?;
        Ok(KeptRows {
            source,
            first: self.top_rows,
            height: self.kept_rows().len(),
        })
    }

    /// Full-size values from values of the kept rows, with `fill` in excluded rows: labels
    /// get [`EXCLUDED_LABEL`], maps NaN or zero.
    pub fn expand<T: Copy>(&self, kept: &[T], fill: T) -> Vec<T> {
        debug_assert_eq!(kept.len(), self.width * self.kept_rows().len());
        let mut full = Vec::with_capacity(self.width * self.height);
        full.resize(self.width * self.top_rows, fill);
        full.extend_from_slice(kept);
        full.resize(self.width * self.height, fill);
        full
    }
}

/// Finds the data bars along the bottom and top edges of `view`; see the module notes.
pub fn detect(view: &ImageView, params: &DataBarParams) -> Result<DataBar> {
    params.validate()?;
    let range = view.finite_range()?;
    let width = view.width();
    let rows = |y: usize, out: &mut [f32]| {
        for (x, value) in out.iter_mut().enumerate() {
            *value = view.gray_at(y * width + x);
        }
        Ok(())
    };
    detect_with(width, view.height(), range, rows, params)
}

/// [`detect`] on rows read one at a time (e.g. an uncompressed TIFF streamed from disk),
/// so that finding the bar needs no more memory than a row.
pub fn detect_rows(source: &mut dyn RowSource, params: &DataBarParams) -> Result<DataBar> {
    params.validate()?;
    let (width, height) = (source.width(), source.height());
    // Row sources deliver grey values mapped to [0, 1].
    detect_with(
        width,
        height,
        (0.0, 1.0),
        |y, out| source.read_rows(y, out),
        params,
    )
}

fn detect_with(
    width: usize,
    height: usize,
    range: (f32, f32),
    read_row: impl FnMut(usize, &mut [f32]) -> Result<()>,
    params: &DataBarParams,
) -> Result<DataBar> {
    let mut rows = RowStats::new(width, height, range, params.flat_tolerance, read_row)?;
    let mut bar = DataBar::empty(width, height);
    bar.bottom_rows = rows.band_at_edge(params, true)?;
    let top = rows.band_at_edge(params, false)?;
    // Two bars leave at least the part of the image neither may take.
    if top + bar.bottom_rows < height {
        bar.top_rows = top;
    }
    Ok(bar)
}

/// Per-row measures of how much a row looks like rendered graphics.
struct RowStats<R> {
    read_row: R,
    row: Vec<f32>,
    /// Grey values closer than this are "flat".
    limit: f32,
    /// The larger of the share of horizontally adjacent pixel pairs that are flat
    /// (several flat cells) and the share of pixels at the row's commonest grey level
    /// (a background behind dense text).
    score: Vec<f32>,
    /// The row's commonest grey level.
    commonest: Vec<f32>,
}

impl<R: FnMut(usize, &mut [f32]) -> Result<()>> RowStats<R> {
    fn new(
        width: usize,
        height: usize,
        (lo, hi): (f32, f32),
        tolerance: f32,
        read_row: R,
    ) -> Result<Self> {
        let limit = tolerance * (hi - lo).max(f32::MIN_POSITIVE);
        let mut stats = Self {
            read_row,
            row: vec![0.0; width],
            limit,
            score: vec![0.0; height],
            commonest: vec![lo; height],
        };
        if width < 2 {
            return Ok(stats);
        }
        let bins = (1.0 / tolerance.max(1e-3)).ceil() as usize + 1;
        let mut counts = vec![0usize; bins + 1];
        for y in 0..height {
            (stats.read_row)(y, &mut stats.row)?;
            let row = &stats.row;
            let flat = row
                .windows(2)
                .filter(|w| (w[1] - w[0]).abs() <= limit)
                .count();
            counts.fill(0);
            for &value in row {
                counts[(((value - lo) / limit) as usize).min(bins)] += 1;
            }
            // Two neighbouring bins, so a level on a bin edge is not split.
            let (bin, commonest) = counts
                .windows(2)
                .map(|w| w[0] + w[1])
                .enumerate()
                .max_by_key(|&(_, n)| n)
                .unwrap_or((0, 0));
            stats.score[y] =
                (flat as f32 / (width - 1) as f32).max(commonest as f32 / width as f32);
            stats.commonest[y] = lo + (bin as f32 + 1.0) * limit;
        }
        Ok(stats)
    }

    /// Share of row `y`'s pixels within two tolerances of `level`.
    fn share_near(&mut self, y: usize, level: f32) -> Result<f32> {
        (self.read_row)(y, &mut self.row)?;
        let near = self
            .row
            .iter()
            .filter(|&&v| (v - level).abs() <= 2.0 * self.limit)
            .count();
        Ok(near as f32 / self.row.len().max(1) as f32)
    }

    /// Height of the bar touching the bottom (or top) edge, or 0.
    fn band_at_edge(&mut self, params: &DataBarParams, bottom: bool) -> Result<usize> {
        let height = self.score.len();
        // Row index `i` rows in from the edge.
        let at = |i: usize| if bottom { height - 1 - i } else { i };
        let max_rows = (params.max_fraction * height as f32).floor() as usize;
        let rows = (0..height)
            .take_while(|&i| self.score[at(i)] >= params.row_flatness)
            .count();
        if rows < params.min_rows || rows > max_rows {
            return Ok(0);
        }
        let bar_mean = (0..rows).map(|i| self.score[at(i)]).sum::<f32>() / rows as f32;
        // The boundary rows may be part of the bar (a separator line) or of the micrograph.
        let context_start = rows + params.boundary_rows;
        let context_end = (context_start + params.context_rows).min(height);
        if bar_mean < params.bar_flatness || context_end <= context_start {
            return Ok(0);
        }
        let context_mean = (context_start..context_end)
            .map(|i| self.score[at(i)])
            .sum::<f32>()
            / (context_end - context_start) as f32;
        if context_mean > params.micrograph_flatness {
            return Ok(0);
        }
        // A sharp edge: right past the boundary the micrograph is not at the bar's
        // background level yet, unlike a micrograph fading into clipped black.
        let background = self.commonest[at(rows / 2)];
        if self.share_near(at(context_start), background)? > params.micrograph_flatness {
            return Ok(0);
        }
        Ok(rows)
    }
}

/// The rows of a [`RowSource`] that a [`DataBar`] keeps, as a row source of their own.
pub struct KeptRows<'a> {
    source: &'a mut dyn RowSource,
    first: usize,
    height: usize,
}

impl RowSource for KeptRows<'_> {
    fn width(&self) -> usize {
        self.source.width()
    }

    fn height(&self) -> usize {
        self.height
    }

    fn read_rows(&mut self, y: usize, out: &mut [f32]) -> Result<()> {
        let rows = out.len() / self.width().max(1);
        if y + rows > self.height {
            return Err(Error::invalid(
                "rows requested beyond the kept part of the image",
            ));
        }
        self.source.read_rows(self.first + y, out)
    }
}
