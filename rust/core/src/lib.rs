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
//! - [`synth`]: synthetic micrographs for training and tests;
//! - [`pipeline`]: the published workflow on one image, with the one set of defaults;
//! - [`batch`]: that workflow over folders: resumable, sharded, several workers.
//! - [`train`]: training a new classifier head on a base model from labelled images.

pub mod analysis;
pub mod batch;
pub mod cam;
pub mod error;
pub mod image;
pub mod model;
pub mod panics;
mod parallel;
pub mod pipeline;
pub mod synth;
pub mod train;

pub use error::{Error, ErrorKind, Result};
pub use image::pixels::{GrayImage, ImageView, Pixels};
