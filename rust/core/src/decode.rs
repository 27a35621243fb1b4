//! Reading image files into [`OwnedImage`]s at their native bit depth.
//!
//! The format is recognised from the file's first bytes, never from its name, so a
//! text file called `image.tif` gets a clear message instead of a confusing decoder
//! error. TIFF goes through the `tiff` crate directly because ImageJ writes 32-bit
//! float grey TIFFs, which `image` has no pixel type for.

use std::io::Cursor;
use std::path::Path;

use crate::error::{Error, Result};
use crate::pixels::{OwnedImage, OwnedPixels, MAX_SIDE};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Png,
    Jpeg,
    Bmp,
    Tiff,
}

fn sniff(bytes: &[u8]) -> Option<Format> {
    match bytes {
        [0x89, b'P', b'N', b'G', ..] => Some(Format::Png),
        [0xff, 0xd8, 0xff, ..] => Some(Format::Jpeg),
        [b'B', b'M', ..] => Some(Format::Bmp),
        [b'I', b'I', 42, 0, ..] | [b'M', b'M', 0, 42, ..] => Some(Format::Tiff),
        [b'I', b'I', 43, 0, ..] | [b'M', b'M', 0, 43, ..] => Some(Format::Tiff),
        _ => None,
    }
}

/// Reads and decodes an image file (first page of a multi-page TIFF).
pub fn decode_file(path: &Path) -> Result<OwnedImage> {
    let bytes = std::fs::read(path).map_err(|err| Error::io(path, err))?;
    decode_bytes(&bytes).map_err(|err| match err {
        Error::Decode(message) => Error::Decode(format!("{}: {message}", path.display())),
        other => other,
    })
}

/// Decodes an in-memory PNG, JPEG, BMP or TIFF file.
pub fn decode_bytes(bytes: &[u8]) -> Result<OwnedImage> {
    if bytes.is_empty() {
        return Err(Error::Decode("the file is empty (0 bytes)".into()));
    }
    let format = sniff(bytes).ok_or_else(|| {
        Error::Decode("not a recognised image format (supported: TIFF, PNG, JPEG, BMP)".into())
    })?;
    let image = match format {
        Format::Tiff => decode_tiff(bytes)?,
        Format::Png => decode_with_image(bytes, image::ImageFormat::Png)?,
        Format::Jpeg => decode_with_image(bytes, image::ImageFormat::Jpeg)?,
        Format::Bmp => decode_with_image(bytes, image::ImageFormat::Bmp)?,
    };
    if image.width == 0 || image.height == 0 {
        return Err(Error::Decode("the image has no pixels".into()));
    }
    Ok(image)
}

fn check_dimensions(width: u32, height: u32) -> Result<(usize, usize)> {
    let (width, height) = (width as usize, height as usize);
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(Error::Decode(format!(
            "image {width}×{height} exceeds the largest supported side of {MAX_SIDE} pixels"
        )));
    }
    Ok((width, height))
}

fn pack_rgb(rgb: impl Iterator<Item = (u8, u8, u8)>) -> Vec<u32> {
    rgb.map(|(r, g, b)| (u32::from(r) << 16) | (u32::from(g) << 8) | u32::from(b))
        .collect()
}

fn decode_with_image(bytes: &[u8], format: image::ImageFormat) -> Result<OwnedImage> {
    use image::DynamicImage as D;
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE as u32);
    limits.max_image_height = Some(MAX_SIDE as u32);
    limits.max_alloc = Some(8 << 30);
    reader.limits(limits);
    let decoded = reader
        .decode()
        .map_err(|err| Error::Decode(format!("{format:?} data is corrupt or truncated: {err}")))?;
    let (width, height) = check_dimensions(decoded.width(), decoded.height())?;
    let pixels = match decoded {
        D::ImageLuma8(img) => OwnedPixels::Gray8(img.into_raw()),
        D::ImageLumaA8(img) => OwnedPixels::Gray8(img.pixels().map(|p| p.0[0]).collect()),
        D::ImageLuma16(img) => OwnedPixels::Gray16(img.into_raw()),
        D::ImageLumaA16(img) => OwnedPixels::Gray16(img.pixels().map(|p| p.0[0]).collect()),
        D::ImageRgb8(img) => {
            OwnedPixels::PackedRgb(pack_rgb(img.pixels().map(|p| (p[0], p[1], p[2]))))
        }
        D::ImageRgba8(img) => {
            OwnedPixels::PackedRgb(pack_rgb(img.pixels().map(|p| (p[0], p[1], p[2]))))
        }
        other => OwnedPixels::Gray32(other.to_luma32f().into_raw()),
    };
    Ok(OwnedImage {
        width,
        height,
        pixels,
    })
}

fn decode_tiff(bytes: &[u8]) -> Result<OwnedImage> {
    use tiff::decoder::{Decoder, DecodingResult as R, Limits};
    use tiff::ColorType as C;
    let corrupt =
        |err: tiff::TiffError| Error::Decode(format!("TIFF data is corrupt or unsupported: {err}"));
    let mut decoder = Decoder::new(Cursor::new(bytes))
        .map_err(corrupt)?
        .with_limits(Limits::unlimited());
    let (width, height) = decoder.dimensions().map_err(corrupt)?;
    let (width, height) = check_dimensions(width, height)?;
    let color = decoder.colortype().map_err(corrupt)?;
    let data = decoder.read_image().map_err(corrupt)?;
    let pixels = match (color, data) {
        (C::Gray(8), R::U8(p)) => OwnedPixels::Gray8(p),
        (C::Gray(16), R::U16(p)) => OwnedPixels::Gray16(p),
        (C::Gray(32), R::F32(p)) => OwnedPixels::Gray32(p),
        (C::Gray(64), R::F64(p)) => OwnedPixels::Gray32(p.into_iter().map(|v| v as f32).collect()),
        (C::RGB(8), R::U8(p)) => {
            OwnedPixels::PackedRgb(pack_rgb(p.chunks_exact(3).map(|c| (c[0], c[1], c[2]))))
        }
        (C::RGBA(8), R::U8(p)) => {
            OwnedPixels::PackedRgb(pack_rgb(p.chunks_exact(4).map(|c| (c[0], c[1], c[2]))))
        }
        (color, _) => {
            return Err(Error::Decode(format!(
                "unsupported TIFF pixel type {color:?} (supported: 8-, 16- and 32-bit float \
                 grey, 8-bit RGB)"
            )))
        }
    };
    let image = OwnedImage {
        width,
        height,
        pixels,
    };
    let expected = width * height;
    if image.view_len() != expected {
        return Err(Error::Decode(format!(
            "TIFF holds {} pixels, expected {expected}",
            image.view_len()
        )));
    }
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_unknown_data_are_explained() {
        assert!(decode_bytes(b"").unwrap_err().to_string().contains("empty"));
        let err = decode_bytes(b"hello, I am text").unwrap_err().to_string();
        assert!(err.contains("not a recognised image format"), "{err}");
    }

    #[test]
    fn truncated_png_is_a_decode_error() {
        let mut png = Vec::new();
        let img = image::GrayImage::from_fn(40, 30, |x, y| image::Luma([(x * y) as u8]));
        img.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let whole = decode_bytes(&png).unwrap();
        assert_eq!((whole.width, whole.height), (40, 30));
        let err = decode_bytes(&png[..png.len() / 2]).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Decode, "{err}");
    }
}
