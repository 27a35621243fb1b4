//! Image analysis: filters, global thresholds, GLCM texture and k-means clustering.

pub mod cluster;
pub mod filters;
pub mod glcm;
pub mod threshold;
