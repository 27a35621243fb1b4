//! Helpers shared by the command-line integration tests.
#![allow(dead_code)] // each test crate uses a different subset

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("vccc-cli-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// `name` inside the directory, as a string for command lines.
    pub fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes a 32-bit float grey TIFF (NaN and infinities allowed).
pub fn write_float_tiff(path: &Path, width: u32, height: u32, values: &[f32]) {
    use tiff::encoder::{colortype::Gray32Float, TiffEncoder};
    let file = std::fs::File::create(path).unwrap();
    TiffEncoder::new(file)
        .unwrap()
        .write_image::<Gray32Float>(width, height, values)
        .unwrap();
}
