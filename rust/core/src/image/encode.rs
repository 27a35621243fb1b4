//! Writing grey images as TIFF (labels, masks, 32-bit maps), for the batch engine and the
//! command line.

use std::io::BufWriter;
use std::path::Path;

use tiff::encoder::{colortype::ColorType, TiffEncoder, TiffValue};

use crate::error::{Error, Result};

/// Writes one grey image of colour type `C` (e.g. `Gray8`, `Gray32Float`) to `path`.
pub fn write_tiff<C>(path: &Path, width: usize, height: usize, data: &[C::Inner]) -> Result<()>
where
    C: ColorType,
    [C::Inner]: TiffValue,
{
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut encoder = TiffEncoder::new(BufWriter::new(file))
        .map_err(|e| Error::io(path, std::io::Error::other(e)))?;
    encoder
        .write_image::<C>(width as u32, height as u32, data)
        .map_err(|e| Error::io(path, std::io::Error::other(e)))
}
