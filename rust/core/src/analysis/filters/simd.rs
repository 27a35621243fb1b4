//! Runs a kernel compiled for the CPU's vector units.
//!
//! The filters' inner loops are written as plain loops over fixed-size lanes that the
//! compiler vectorises; the default x86-64 target only allows SSE2, so [`dispatch`] runs
//! them through a function compiled with AVX2 and FMA when the CPU has them (every
//! x86-64 CPU since 2013–2015). Kernels passed in must be `#[inline(always)]` so that
//! they are compiled inside that function.

/// Whether this CPU has AVX2 and FMA.
pub(crate) fn has_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// A kernel to run through [`dispatch`]: its arguments as fields, its body in `run`,
/// which must be `#[inline(always)]` (as must what it calls) so that it is compiled
/// inside the AVX2 function; a closure would not be inlined there.
pub(crate) trait Kernel {
    type Output;
    /// `fma` says whether the kernel is compiled with AVX2 and FMA (so `f32::mul_add`
    /// is a single instruction, a slow library call otherwise).
    fn run(self, fma: bool) -> Self::Output;

    /// The kernel where AVX-512 is available, for kernels whose hand-written AVX-512
    /// version does better than the compiler's vectorisation of `run`.
    ///
    /// # Safety
    /// Only called where [`has_avx512`] holds.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn run_avx512(self) -> Self::Output
    where
        Self: Sized,
    {
        self.run(true)
    }
}

/// Whether this CPU has AVX-512 with byte, word and doubleword/quadword instructions
/// (then [`dispatch`] uses it, so kernels may choose 512-bit lane counts).
pub(crate) fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        has_fma()
            && std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Runs `kernel`, compiled with AVX-512 or AVX2 + FMA where the CPU supports them.
#[inline(always)]
pub(crate) fn dispatch<K: Kernel>(kernel: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: each branch runs only where its features were detected.
        if has_avx512() {
            return unsafe { with_avx512(kernel) };
        }
        if has_fma() {
            return unsafe { with_avx2_fma(kernel) };
        }
    }
    kernel.run(false)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
fn with_avx512<K: Kernel>(kernel: K) -> K::Output {
    // SAFETY: this function runs only where AVX-512 was detected.
    unsafe { kernel.run_avx512() }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn with_avx2_fma<K: Kernel>(kernel: K) -> K::Output {
    kernel.run(true)
}
