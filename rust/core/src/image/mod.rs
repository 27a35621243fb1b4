//! Images: decoding files into pixels, the pixel containers the algorithms share,
//! row-by-row sources, the one resampler and the physical pixel size (calibration).

pub mod calibration;
pub mod databar;
pub mod decode;
pub mod encode;
pub mod pixels;
pub mod resample;
pub mod rows;
