//! Images: decoding files into pixels and the pixel containers the algorithms share.

pub mod databar;
pub mod decode;
pub mod pixels;
pub mod resample;
