//! Writing result images and naming output files: 8- and 16-bit grey as PNG or TIFF,
//! 32-bit float grey as TIFF (what ImageJ opens as a 32-bit image).

use std::path::{Path, PathBuf};

use visual_ccc_core::image::pixels::{OwnedImage, OwnedPixels};

use crate::failure::Failure;

/// File formats an output path may ask for, chosen by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Tiff,
}

/// The format `path` asks for; `float` says whether 32-bit data will be written, which
/// only TIFF can hold. Called before any work so that a bad name fails at once.
pub fn format_for(path: &Path, float: bool) -> Result<Format, String> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match (ext.as_str(), float) {
        ("tif" | "tiff", _) => Ok(Format::Tiff),
        ("png", false) => Ok(Format::Png),
        ("png", true) => Err(format!(
            "{}: 32-bit float images can only be written as TIFF; use a .tif name",
            path.display()
        )),
        _ => Err(format!(
            "{}: the file name must end in {}",
            path.display(),
            if float {
                ".tif or .tiff"
            } else {
                ".png, .tif or .tiff"
            }
        )),
    }
}

/// The file name of `source` without directory and extension, for naming outputs.
pub fn stem(source: &Path) -> String {
    source
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "image".into())
}

/// Creates `dir` (and its parents) if it does not exist.
pub fn ensure_dir(dir: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|err| Failure::Input(format!("cannot create {}: {err}", dir.display())))
}

/// `dir/<stem>-<suffix>`.
pub fn named(dir: &Path, stem: &str, suffix: &str) -> PathBuf {
    dir.join(format!("{stem}-{suffix}"))
}

/// Writes a grey image at its bit depth: 8/16-bit as PNG or TIFF, 32-bit as TIFF.
pub fn write_image(path: &Path, image: &OwnedImage) -> Result<(), Failure> {
    let float = matches!(image.pixels, OwnedPixels::Gray32(_));
    let format = format_for(path, float)?;
    let (w, h) = (image.width as u32, image.height as u32);
    let result = match (&image.pixels, format) {
        (OwnedPixels::Gray8(p), Format::Png) => image::save_buffer_with_format(
            path,
            p,
            w,
            h,
            image::ExtendedColorType::L8,
            image::ImageFormat::Png,
        )
        .map_err(|e| e.to_string()),
        (OwnedPixels::Gray16(p), Format::Png) => {
            image::ImageBuffer::<image::Luma<u16>, &[u16]>::from_raw(w, h, p.as_slice())
                .ok_or_else(|| "pixel buffer does not match the image size".to_string())
                .and_then(|buffer| {
                    buffer
                        .save_with_format(path, image::ImageFormat::Png)
                        .map_err(|e| e.to_string())
                })
        }
        (OwnedPixels::Gray8(p), Format::Tiff) => {
            write_tiff::<tiff::encoder::colortype::Gray8>(path, w, h, p)
        }
        (OwnedPixels::Gray16(p), Format::Tiff) => {
            write_tiff::<tiff::encoder::colortype::Gray16>(path, w, h, p)
        }
        (OwnedPixels::Gray32(p), _) => {
            write_tiff::<tiff::encoder::colortype::Gray32Float>(path, w, h, p)
        }
        (OwnedPixels::PackedRgb(_), _) => Err("RGB images are not written by this tool".into()),
    };
    result.map_err(|err| Failure::Input(format!("cannot write {}: {err}", path.display())))
}

/// Writes 8-bit grey values (labels, masks) as PNG or TIFF.
pub fn write_gray8(path: &Path, width: usize, height: usize, data: Vec<u8>) -> Result<(), Failure> {
    write_image(
        path,
        &OwnedImage {
            width,
            height,
            pixels: OwnedPixels::Gray8(data),
        },
    )
}

/// Writes a 32-bit float grey TIFF.
pub fn write_float_tiff(
    path: &Path,
    width: usize,
    height: usize,
    data: &[f32],
) -> Result<(), Failure> {
    format_for(path, true)?;
    write_tiff::<tiff::encoder::colortype::Gray32Float>(path, width as u32, height as u32, data)
        .map_err(|err| Failure::Input(format!("cannot write {}: {err}", path.display())))
}

fn write_tiff<C>(path: &Path, width: u32, height: u32, data: &[C::Inner]) -> Result<(), String>
where
    C: tiff::encoder::colortype::ColorType,
    [C::Inner]: tiff::encoder::TiffValue,
{
    use tiff::encoder::TiffEncoder;
    let file = std::fs::File::create(path).map_err(|err| err.to_string())?;
    let mut encoder =
        TiffEncoder::new(std::io::BufWriter::new(file)).map_err(|err| err.to_string())?;
    encoder
        .write_image::<C>(width, height, data)
        .map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_follow_the_extension() {
        assert_eq!(format_for(Path::new("a.PNG"), false), Ok(Format::Png));
        assert_eq!(format_for(Path::new("a.tiff"), true), Ok(Format::Tiff));
        assert!(format_for(Path::new("a.png"), true)
            .unwrap_err()
            .contains("TIFF"));
        assert!(format_for(Path::new("a.jpg"), false).is_err());
        assert!(format_for(Path::new("a"), false).is_err());
    }

    #[test]
    fn stem_drops_directory_and_extension() {
        assert_eq!(stem(Path::new("/x/y/cell_07.tif")), "cell_07");
        assert_eq!(
            named(Path::new("out"), "a", "cam.tif"),
            Path::new("out/a-cam.tif")
        );
    }
}
