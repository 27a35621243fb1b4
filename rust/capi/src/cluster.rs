//! k-means segmentation with the core's default features.

use std::ffi::c_int;

use visual_ccc_core::analysis::cluster::{cluster, ClusterParams};

use crate::model::runtime_config;
use crate::pixels;
use crate::status::report;
use visual_ccc_core::Pixels;

/// k-means of 8-bit grey pixels (row-major, stride = width) with the default features
/// (smoothed grey and the learned foreground map, which needs ONNX Runtime) and the
/// default settings; writes width × height labels 0..k-1 ordered by mean grey (darkest
/// first). The same `seed` gives the same labels. Returns 0 or a VcccStatus code.
///
/// # Safety
/// `pixels` holds width × height bytes; `labels` has room for width × height bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vccc_cluster_u8(
    pixels: *const u8,
    width: usize,
    height: usize,
    k: u32,
    seed: u64,
    labels: *mut u8,
) -> c_int {
    report(|| {
        let view = pixels::gray(pixels, width, height, Pixels::Gray8)?;
        let out = pixels::slice_mut(labels, width * height, "labels")?;
        let params = ClusterParams {
            k: k as usize,
            seed,
            runtime: runtime_config(),
            ..ClusterParams::default()
        };
        params.validate()?;
        let clustering = cluster(&view, &params, &[])?;
        out.copy_from_slice(&clustering.labels);
        Ok(())
    })
}
