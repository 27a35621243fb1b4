//! Images read row by row: the source that whole-image classification and data-bar
//! detection stream from, whether the pixels are in memory or in a file.

use crate::error::{Error, Result};
use crate::image::pixels::ImageView;

/// Rows of an image as grey values in [0, 1], read top to bottom (bands may overlap).
pub trait RowSource {
    fn width(&self) -> usize;
    fn height(&self) -> usize;
    /// Fills `out` with rows `y..y + out.len() / width`.
    fn read_rows(&mut self, y: usize, out: &mut [f32]) -> Result<()>;
}

/// Rows of an in-memory image, mapped to [0, 1] as the model contract prescribes
/// (8-bit and RGB ÷ 255, 16- and 32-bit stretched between their minimum and maximum).
pub struct ViewRows<'a> {
    view: ImageView<'a>,
    low: f32,
    gain: f32,
}

impl<'a> ViewRows<'a> {
    pub fn new(view: ImageView<'a>) -> Result<Self> {
        let (low, high) = view.finite_range()?;
        let gain = if high > low { 1.0 / (high - low) } else { 0.0 };
        Ok(Self { view, low, gain })
    }
}

impl RowSource for ViewRows<'_> {
    fn width(&self) -> usize {
        self.view.width()
    }

    fn height(&self) -> usize {
        self.view.height()
    }

    fn read_rows(&mut self, y: usize, out: &mut [f32]) -> Result<()> {
        let start = y * self.view.width();
        if start + out.len() > self.view.width() * self.view.height() {
            return Err(Error::invalid("rows requested beyond the image"));
        }
        for (i, v) in out.iter_mut().enumerate() {
            *v = ((self.view.gray_at(start + i) - self.low) * self.gain).clamp(0.0, 1.0);
        }
        Ok(())
    }
}
