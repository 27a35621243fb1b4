//! Reading image files into [`OwnedImage`]s at their native bit depth.
//!
//! The format is recognised from the file's first bytes, never from its name, so a
//! text file called `image.tif` gets a clear message instead of a confusing decoder
//! error. TIFF goes through the `tiff` crate directly because ImageJ writes 32-bit
//! float grey TIFFs, which `image` has no pixel type for.
//!
//! A small compressed file can declare an enormous image, so the declared size is
//! checked against [`DecodeLimits`] before any pixel buffer is allocated. Whole-image
//! classification of huge uncompressed TIFFs streams rows through [`TiffRows`] instead
//! and is not bound by these limits.

use std::io::Cursor;
use std::path::Path;

use crate::error::{Error, Result};
use crate::image::pixels::{OwnedImage, OwnedPixels, MAX_SIDE};

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

/// File extensions of the formats [`decode_file`] reads (lower case).
pub const IMAGE_EXTENSIONS: [&str; 6] = ["tif", "tiff", "png", "jpg", "jpeg", "bmp"];

/// Whether `path` ends in one of [`IMAGE_EXTENSIONS`] (any case).
pub fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Default [`DecodeLimits::max_pixels`]: 8192 × 8192 pixels (64 Mi).
pub const DEFAULT_MAX_PIXELS: u64 = 1 << 26;
/// Default [`DecodeLimits::max_bytes`]: 1 GiB.
pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;

/// Bounds on what decoding one image into memory may allocate, checked against the
/// sizes the file declares before any pixel buffer exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Most pixels (width × height) an image may have (CLI `--max-pixels`).
    pub max_pixels: u64,
    /// Most bytes the file, or the decoder's pixel buffer, may take.
    pub max_bytes: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_pixels: DEFAULT_MAX_PIXELS,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

impl DecodeLimits {
    /// Checks a declared `width`×`height` image of `bytes_per_pixel` before decoding it.
    fn check(&self, width: u32, height: u32, bytes_per_pixel: u64) -> Result<()> {
        let pixels = u64::from(width) * u64::from(height);
        if pixels > self.max_pixels {
            return Err(Error::Decode(format!(
                "image {width}×{height} has {pixels} pixels, over the limit max_pixels = {} \
                 (raise it with --max-pixels, or classify huge images in whole-image mode \
                 from an uncompressed 8-bit TIFF)",
                self.max_pixels
            )));
        }
        let bytes = pixels.saturating_mul(bytes_per_pixel);
        if bytes > self.max_bytes {
            return Err(Error::Decode(format!(
                "image {width}×{height} needs {bytes} bytes to decode, over the limit \
                 max_bytes = {}",
                self.max_bytes
            )));
        }
        Ok(())
    }
}

/// Reads and decodes an image file (first page of a multi-page TIFF) within the
/// default [`DecodeLimits`].
pub fn decode_file(path: &Path) -> Result<OwnedImage> {
    decode_file_with(path, &DecodeLimits::default())
}

/// Reads and decodes an image file (first page of a multi-page TIFF) within `limits`.
pub fn decode_file_with(path: &Path, limits: &DecodeLimits) -> Result<OwnedImage> {
    let size = std::fs::metadata(path)
        .map_err(|err| Error::io(path, err))?
        .len();
    if size > limits.max_bytes {
        return Err(Error::Decode(format!(
            "the file has {size} bytes, over the limit max_bytes = {}",
            limits.max_bytes
        ))
        .in_file(path));
    }
    let bytes = std::fs::read(path).map_err(|err| Error::io(path, err))?;
    decode_bytes_with(&bytes, limits).map_err(|err| err.in_file(path))
}

/// Decodes an in-memory PNG, JPEG, BMP or TIFF file within the default [`DecodeLimits`].
pub fn decode_bytes(bytes: &[u8]) -> Result<OwnedImage> {
    decode_bytes_with(bytes, &DecodeLimits::default())
}

/// Decodes an in-memory PNG, JPEG, BMP or TIFF file within `limits`.
pub fn decode_bytes_with(bytes: &[u8], limits: &DecodeLimits) -> Result<OwnedImage> {
    if bytes.is_empty() {
        return Err(Error::Decode("the file is empty (0 bytes)".into()));
    }
    let format = sniff(bytes).ok_or_else(|| {
        Error::Decode("not a recognised image format (supported: TIFF, PNG, JPEG, BMP)".into())
    })?;
    let image = crate::panics::contain(
        || match format {
            Format::Tiff => decode_tiff(bytes, limits),
            Format::Png => decode_with_image(bytes, image::ImageFormat::Png, limits),
            Format::Jpeg => {
                // The JPEG decoder fills a cut-off scan with grey instead of failing.
                if !jpeg_has_end(bytes) {
                    return Err(Error::Decode(
                        "JPEG data is truncated: the file ends before its end-of-image marker"
                            .into(),
                    ));
                }
                decode_with_image(bytes, image::ImageFormat::Jpeg, limits)
            }
            Format::Bmp => decode_with_image(bytes, image::ImageFormat::Bmp, limits),
        },
        |message| {
            Error::Decode(format!(
                "{format:?} data is corrupt: the decoder failed on it ({message})"
            ))
        },
    )?;
    if image.width == 0 || image.height == 0 {
        return Err(Error::Decode("the image has no pixels".into()));
    }
    Ok(image)
}

/// Whether a JPEG's marker structure reaches its end-of-image marker (EOI), walking the
/// segments so that an EOI inside an embedded thumbnail does not count.
fn jpeg_has_end(bytes: &[u8]) -> bool {
    let mut at = 2; // after SOI
    while at + 1 < bytes.len() {
        if bytes[at] != 0xff {
            return false;
        }
        let marker = bytes[at + 1];
        match marker {
            0xd9 => return true,
            // Fill bytes, or markers without a length (TEM, RSTn).
            0xff => at += 1,
            0x01 | 0xd0..=0xd7 => at += 2,
            _ => {
                let Some(length) = bytes.get(at + 2..at + 4) else {
                    return false;
                };
                at += 2 + usize::from(u16::from_be_bytes([length[0], length[1]]));
                if marker == 0xda {
                    // Entropy-coded data runs to the next marker that is neither a
                    // stuffed 0xff00 nor a restart marker.
                    loop {
                        match bytes.get(at..at + 2) {
                            None => return false,
                            Some([0xff, next]) if *next != 0 && !(0xd0..=0xd7).contains(next) => {
                                break
                            }
                            _ => at += 1,
                        }
                    }
                }
            }
        }
    }
    false
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

fn decode_with_image(
    bytes: &[u8],
    format: image::ImageFormat,
    limits: &DecodeLimits,
) -> Result<OwnedImage> {
    use image::{DynamicImage as D, ImageDecoder};
    let corrupt = |source: image::ImageError| Error::DecodeImage {
        context: format!("{format:?} data is corrupt or truncated"),
        source,
    };
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_image_width = Some(MAX_SIDE as u32);
    decoder_limits.max_image_height = Some(MAX_SIDE as u32);
    decoder_limits.max_alloc = Some(limits.max_bytes);
    reader.limits(decoder_limits);
    let decoder = reader.into_decoder().map_err(corrupt)?;
    let (width, height) = decoder.dimensions();
    limits.check(
        width,
        height,
        u64::from(decoder.color_type().bytes_per_pixel()),
    )?;
    let decoded = D::from_decoder(decoder).map_err(corrupt)?;
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

fn decode_tiff(bytes: &[u8], limits: &DecodeLimits) -> Result<OwnedImage> {
    use tiff::decoder::{Decoder, DecodingResult as R};
    use tiff::ColorType as C;
    let corrupt = |source: tiff::TiffError| Error::DecodeTiff {
        context: "TIFF data is corrupt or unsupported".into(),
        source,
    };
    let buffer_limit = usize::try_from(limits.max_bytes).unwrap_or(usize::MAX);
    let mut decoder_limits = tiff::decoder::Limits::default();
    decoder_limits.decoding_buffer_size = buffer_limit;
    decoder_limits.intermediate_buffer_size = buffer_limit;
    let mut decoder = Decoder::new(Cursor::new(bytes))
        .map_err(corrupt)?
        .with_limits(decoder_limits);
    let (width, height) = decoder.dimensions().map_err(corrupt)?;
    let color = decoder.colortype().map_err(corrupt)?;
    let bits_per_pixel = match color {
        C::Gray(bits) => u64::from(bits),
        C::RGB(bits) => 3 * u64::from(bits),
        C::RGBA(bits) => 4 * u64::from(bits),
        _ => 32,
    };
    limits.check(width, height, bits_per_pixel.div_ceil(8).max(1))?;
    let (width, height) = check_dimensions(width, height)?;
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

/// Rows of an uncompressed 8-bit grey strip TIFF (what ImageJ writes), read straight
/// from the file so that whole-image classification of a huge image holds one band of
/// rows rather than the image.
pub struct TiffRows {
    file: std::io::BufReader<std::fs::File>,
    path: std::path::PathBuf,
    width: usize,
    height: usize,
    rows_per_strip: usize,
    strip_offsets: Vec<u64>,
    line: Vec<u8>,
}

impl TiffRows {
    /// Opens `path` for streaming, or `Ok(None)` when it is not an uncompressed 8-bit
    /// grey strip TIFF (then decode it whole with [`decode_file`]).
    pub fn open(path: &Path) -> Result<Option<Self>> {
        crate::panics::contain(
            || Self::open_unguarded(path),
            |message| {
                Error::Decode(format!(
                    "{}: TIFF data is corrupt: the decoder failed on it ({message})",
                    path.display()
                ))
            },
        )
    }

    fn open_unguarded(path: &Path) -> Result<Option<Self>> {
        use tiff::decoder::{ChunkType, Decoder};
        use tiff::tags::Tag;
        let file = std::fs::File::open(path).map_err(|err| Error::io(path, err))?;
        let mut head = [0u8; 4];
        {
            use std::io::{Read, Seek};
            let mut probe = &file;
            if probe.read_exact(&mut head).is_err() || sniff(&head) != Some(Format::Tiff) {
                return Ok(None);
            }
            probe.rewind().map_err(|err| Error::io(path, err))?;
        }
        let reader = std::io::BufReader::new(file.try_clone().map_err(|err| Error::io(path, err))?);
        let Ok(mut decoder) = Decoder::new(reader) else {
            return Ok(None);
        };
        let streamable = decoder.colortype().ok() == Some(tiff::ColorType::Gray(8))
            && decoder.get_chunk_type() == ChunkType::Strip
            && decoder
                .find_tag_unsigned::<u16>(Tag::Compression)
                .ok()
                .flatten()
                .unwrap_or(1)
                == 1;
        if !streamable {
            return Ok(None);
        }
        let corrupt = |source: tiff::TiffError| Error::DecodeTiff {
            context: format!("{}: TIFF data is corrupt", path.display()),
            source,
        };
        let (width, height) = decoder.dimensions().map_err(corrupt)?;
        let (width, height) = check_dimensions(width, height)?;
        let rows_per_strip = decoder
            .find_tag_unsigned::<u32>(Tag::RowsPerStrip)
            .map_err(corrupt)?
            .map_or(height, |r| (r as usize).clamp(1, height));
        let strip_offsets = decoder
            .get_tag_u64_vec(Tag::StripOffsets)
            .map_err(corrupt)?;
        if strip_offsets.len() < height.div_ceil(rows_per_strip) {
            return Err(Error::Decode(format!(
                "{}: TIFF lists {} strips for {height} rows of {rows_per_strip}",
                path.display(),
                strip_offsets.len()
            )));
        }
        Ok(Some(Self {
            file: std::io::BufReader::new(file),
            path: path.to_path_buf(),
            width,
            height,
            rows_per_strip,
            strip_offsets,
            line: vec![0; width],
        }))
    }
}

impl crate::image::rows::RowSource for TiffRows {
    fn width(&self) -> usize {
        self.width
    }

    fn height(&self) -> usize {
        self.height
    }

    fn read_rows(&mut self, y: usize, out: &mut [f32]) -> Result<()> {
        use std::io::{Read, Seek, SeekFrom};
        for (row, values) in (y..).zip(out.chunks_exact_mut(self.width)) {
            if row >= self.height {
                return Err(Error::invalid("rows requested beyond the image"));
            }
            let strip = self.strip_offsets[row / self.rows_per_strip];
            let offset = strip + ((row % self.rows_per_strip) * self.width) as u64;
            self.file
                .seek(SeekFrom::Start(offset))
                .and_then(|_| self.file.read_exact(&mut self.line))
                .map_err(|err| {
                    Error::Decode(format!("{}: TIFF is truncated: {err}", self.path.display()))
                })?;
            for (v, &p) in values.iter_mut().zip(&self.line) {
                // As `ViewRows` maps 8-bit values, to the bit.
                *v = f32::from(p) * (1.0 / 255.0);
            }
        }
        Ok(())
    }
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

    #[test]
    fn uncompressed_8_bit_tiff_streams_the_same_rows_as_decoding() {
        use crate::image::rows::{RowSource, ViewRows};
        let (width, height) = (37u32, 53u32);
        let pixels: Vec<u8> = (0..width * height).map(|i| (i * 13 % 256) as u8).collect();
        let path = std::env::temp_dir().join(format!("visual-ccc-rows-{}.tif", std::process::id()));
        {
            let file = std::fs::File::create(&path).unwrap();
            let mut encoder = tiff::encoder::TiffEncoder::new(file).unwrap();
            let mut image = encoder
                .new_image::<tiff::encoder::colortype::Gray8>(width, height)
                .unwrap();
            image.rows_per_strip(4).unwrap();
            image.write_data(&pixels).unwrap();
        }
        let mut streamed = TiffRows::open(&path).unwrap().expect("streamable");
        let decoded = decode_file(&path).unwrap();
        let mut whole = ViewRows::new(decoded.view()).unwrap();
        let (mut a, mut b) = (vec![0.0; 37 * 10], vec![0.0; 37 * 10]);
        streamed.read_rows(41, &mut a).unwrap();
        whole.read_rows(41, &mut b).unwrap();
        assert_eq!(a, b);
        assert!(streamed.read_rows(50, &mut a).is_err());
        std::fs::remove_file(&path).ok();
        let png = std::env::temp_dir().join(format!("visual-ccc-rows-{}.png", std::process::id()));
        image::GrayImage::new(4, 4).save(&png).unwrap();
        assert!(TiffRows::open(&png).unwrap().is_none());
        std::fs::remove_file(&png).ok();
    }
}
