//! Visual-CCC core: image decoding, preprocessing, classification through ONNX Runtime,
//! class activation maps, texture and clustering. Pure Rust with no JNI or ImageJ types,
//! so that the JNI bridge, the C ABI and the command-line tool all share one
//! implementation.
//!
//! Subsystems:
//! - [`image`]: decoding files into pixels, the pixel containers, resampling;
//! - [`model`]: ONNX Runtime, the model contract, input preparation, whole-image tiling,
//!   ONNX editing and BioImage Model Zoo import;
//! - [`cam`]: class activation maps and their faithfulness checks;
//! - [`analysis`]: filters, thresholds, GLCM texture and k-means clustering;
//! - [`synth`]: synthetic micrographs for training and tests.

pub mod analysis;
pub mod cam;
pub mod error;
pub mod image;
pub mod model;
mod parallel;
pub mod synth;

pub use error::{Error, ErrorKind, Result};
pub use image::pixels::{GrayImage, ImageView, Pixels};
