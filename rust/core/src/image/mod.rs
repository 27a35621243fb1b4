//! Images: decoding files into pixels and the pixel containers the algorithms share.

pub mod decode;
pub mod pixels;
pub mod resample;
