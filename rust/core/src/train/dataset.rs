//! Labelled training images: from a folder with one subfolder per class, or given one
//! by one (file or pixels) by a caller such as the Fiji plugin.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::image::decode::has_image_extension;
use crate::image::pixels::OwnedImage;

/// Where a training image's pixels are.
#[derive(Debug, Clone)]
pub enum ImageData {
    File(PathBuf),
    Pixels(OwnedImage),
}

/// One labelled image. `name` is what the report and the model's metadata record
/// (a path relative to the data folder, or an image title).
#[derive(Debug, Clone)]
pub struct TrainingImage {
    pub name: String,
    pub class: usize,
    pub data: ImageData,
}

/// An input left out of training, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Skipped {
    pub file: String,
    pub reason: String,
}

/// Class names and their images.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub classes: Vec<String>,
    pub images: Vec<TrainingImage>,
    /// Inputs already left out while gathering (not image files, outside any class).
    pub skipped: Vec<Skipped>,
}

impl Dataset {
    /// At least two classes, each with at least one image, and labels in range.
    pub fn validate(&self) -> Result<()> {
        if self.classes.len() < 2 {
            return Err(Error::invalid(format!(
                "training needs at least two classes, found {}{}",
                self.classes.len(),
                match self.classes.as_slice() {
                    [one] => format!(" ('{one}')"),
                    _ => String::new(),
                }
            )));
        }
        let mut counts = vec![0usize; self.classes.len()];
        for image in &self.images {
            *counts.get_mut(image.class).ok_or_else(|| {
                Error::invalid(format!(
                    "image '{}' has class index {}, but there are {} classes",
                    image.name,
                    image.class,
                    self.classes.len()
                ))
            })? += 1;
        }
        if let Some(empty) = counts.iter().position(|&n| n == 0) {
            return Err(Error::invalid(format!(
                "class '{}' has no images",
                self.classes[empty]
            )));
        }
        Ok(())
    }
}

/// A dataset from `dir`: every subfolder is a class named after it (sorted by name),
/// and every image file below it, nested folders included, is one of its images.
/// Other files, and images directly in `dir`, are listed as skipped.
pub fn folder_dataset(dir: &Path) -> Result<Dataset> {
    let mut dataset = Dataset::default();
    let mut loose = Vec::new();
    let mut class_dirs = Vec::new();
    for entry in sorted_entries(dir)? {
        if entry.is_dir() {
            class_dirs.push(entry);
        } else {
            loose.push(entry);
        }
    }
    for path in loose {
        dataset.skip(dir, &path, "not inside a class folder");
    }
    for class_dir in class_dirs {
        let class = dataset.classes.len();
        let name = class_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        dataset.classes.push(name);
        dataset.collect(dir, &class_dir, class)?;
    }
    dataset.validate()?;
    Ok(dataset)
}

impl Dataset {
    fn collect(&mut self, root: &Path, folder: &Path, class: usize) -> Result<()> {
        for path in sorted_entries(folder)? {
            if path.is_dir() {
                self.collect(root, &path, class)?;
            } else if has_image_extension(&path) {
                self.images.push(TrainingImage {
                    name: relative(root, &path),
                    class,
                    data: ImageData::File(path),
                });
            } else {
                self.skip(root, &path, "not an image file (TIFF, PNG, JPEG or BMP)");
            }
        }
        Ok(())
    }

    fn skip(&mut self, root: &Path, path: &Path, reason: &str) {
        self.skipped.push(Skipped {
            file: relative(root, path),
            reason: reason.into(),
        });
    }
}

/// The entries of `folder` sorted by name, hidden ones (`.name`) left out.
fn sorted_entries(folder: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(folder).map_err(|err| Error::io(folder, err))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry.map_err(|err| Error::io(folder, err))?.path();
        if !path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

/// `path` relative to `root`, with `/` separators, as recorded in the model.
fn relative(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}
