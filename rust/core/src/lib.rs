//! Visual-CCC core: image decoding, preprocessing, classification through ONNX Runtime
//! and class activation maps. Pure Rust with no JNI or ImageJ types, so that the JNI
//! bridge, the C ABI and the command-line tool all share one implementation.

pub mod bioimageio;
pub mod cam;
pub mod cluster;
pub mod decode;
pub mod error;
pub mod filters;
pub mod foreground;
pub mod glcm;
pub mod model;
mod onnx_edit;
mod onnx_head;
pub mod pixels;
pub mod preprocess;
pub mod runtime;
pub mod synth;
pub mod threshold;
pub mod tiling;

pub use error::{Error, ErrorKind, Result};
pub use pixels::{GrayImage, ImageView, Pixels};
