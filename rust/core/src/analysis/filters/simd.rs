//! Runs a kernel compiled for the CPU's vector units.
//!
//! The filters' inner loops are written as plain loops over fixed-size lanes that the
//! compiler vectorises; the default x86-64 target only allows SSE2, so [`dispatch`] runs
//! them through a function compiled with AVX2 and FMA when the CPU has them (every
//! x86-64 CPU since 2013–2015). Kernels passed in must be `#[inline(always)]` so that
//! they are compiled inside that function.

/// Calls `kernel`, compiled with AVX2 + FMA where the CPU supports them.
#[inline(always)]
pub(crate) fn dispatch<R>(kernel: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the features were detected on this CPU just above.
            return unsafe { with_avx2_fma(kernel) };
        }
    }
    kernel()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn with_avx2_fma<R>(kernel: impl FnOnce() -> R) -> R {
    kernel()
}
