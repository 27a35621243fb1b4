//! Images: decoding files into pixels, the pixel containers the algorithms share,
//! row-by-row sources and the one resampler.

pub mod decode;
pub mod pixels;
pub mod resample;
pub mod rows;
