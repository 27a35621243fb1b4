//! Writing result images and naming output files: 8- and 16-bit grey as PNG or TIFF,
//! 32-bit float grey as TIFF (what ImageJ opens as a 32-bit image).
//!
//! Every output is written under a temporary name (see [`staged`]) and renamed to its
//! real name by [`commit`] once the command has succeeded; a failing command calls
//! [`discard`], which removes what it wrote and the folders it created, so that it
//! leaves nothing behind.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use visual_ccc_core::image::encode;
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

/// Outputs written so far under temporary names, and the folders this process created.
#[derive(Default)]
struct Staging {
    /// (temporary name, real name)
    files: Vec<(PathBuf, PathBuf)>,
    /// Created folders, deepest first.
    dirs: Vec<PathBuf>,
}

static STAGING: Mutex<Staging> = Mutex::new(Staging {
    files: Vec::new(),
    dirs: Vec::new(),
});

fn staging() -> std::sync::MutexGuard<'static, Staging> {
    STAGING.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// The temporary name to write `path` under: a hidden file beside it that keeps its
/// extension (the writers choose the format by it). [`commit`] renames it to `path`.
pub fn staged(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".partial-{}-{name}", std::process::id()));
    staging().files.push((temp.clone(), path.to_path_buf()));
    temp
}

/// Renames every staged output to its real name (after the command succeeded, or after
/// one finished item of a batch): all of them, or, on a failure, none (those already
/// renamed are removed again, the rest discarded).
pub fn commit() -> Result<(), Failure> {
    let files = std::mem::take(&mut staging().files);
    let cannot = |path: &Path, why: &dyn std::fmt::Display| {
        Failure::Input(format!("cannot write {}: {why}", path.display()))
    };
    let mut failure = files
        .iter()
        .find(|(_, path)| path.is_dir())
        .map(|(_, path)| cannot(path, &"a folder has that name"));
    let mut renamed = Vec::new();
    for (temp, path) in &files {
        if failure.is_none() {
            match std::fs::rename(temp, path) {
                Ok(()) => renamed.push(path),
                Err(err) => failure = Some(cannot(path, &err)),
            }
        }
    }
    let Some(failure) = failure else {
        staging().dirs.clear();
        return Ok(());
    };
    for path in renamed {
        std::fs::remove_file(path).ok();
    }
    for (temp, _) in &files {
        std::fs::remove_file(temp).ok();
    }
    Err(failure)
}

/// Removes every staged output and the folders created for them (those left empty).
pub fn discard() {
    let mut staging = staging();
    for (temp, _) in staging.files.drain(..) {
        std::fs::remove_file(temp).ok();
    }
    for dir in staging.dirs.drain(..) {
        std::fs::remove_dir(dir).ok();
    }
}

/// Creates `dir` (and its parents) if it does not exist, remembering the folders it
/// created so that [`discard`] can remove them.
pub fn ensure_dir(dir: &Path) -> Result<(), Failure> {
    let missing: Vec<PathBuf> = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
        .map(Path::to_path_buf)
        .collect();
    std::fs::create_dir_all(dir)
        .map_err(|err| Failure::Input(format!("cannot create {}: {err}", dir.display())))?;
    staging().dirs.extend(missing);
    Ok(())
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
    let shown = path;
    let path = &staged(path);
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
    result.map_err(|err| Failure::Input(format!("cannot write {}: {err}", shown.display())))
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
    write_tiff::<tiff::encoder::colortype::Gray32Float>(
        &staged(path),
        width as u32,
        height as u32,
        data,
    )
    .map_err(|err| Failure::Input(format!("cannot write {}: {err}", path.display())))
}

fn write_tiff<C>(path: &Path, width: u32, height: u32, data: &[C::Inner]) -> Result<(), String>
where
    C: tiff::encoder::colortype::ColorType,
    [C::Inner]: tiff::encoder::TiffValue,
{
    encode::write_tiff::<C>(path, width as usize, height as usize, data).map_err(|err| match err {
        // The caller names the path.
        visual_ccc_core::Error::Io { source, .. } => source.to_string(),
        other => other.to_string(),
    })
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
